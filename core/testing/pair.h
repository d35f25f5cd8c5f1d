// An in-memory client/server pair: two Sessions joined by a loop that carries each side's
// ciphertext to the other, with no sockets. For this library's tests and for users' own
// protocol tests.
//
//   auto pair = testing::Pair::Create(client_ctx, server_ctx, {.servername = "localhost"});
//   ASSERT_TRUE(pair->Handshake());
//   pair->Write(Side::kClient, "ping");
//   pair->Pump();
//   EXPECT_EQ(pair->received(Side::kServer), "ping");
#ifndef SANSIO_TLS_CORE_TESTING_PAIR_H_
#define SANSIO_TLS_CORE_TESTING_PAIR_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/session.h"

namespace sansio_tls::testing {

enum class Side { kClient, kServer };
inline Side Other(Side s) { return s == Side::kClient ? Side::kServer : Side::kClient; }
const char* SideName(Side s);

// How ciphertext is cut on its way to the other side.
struct Fragmentation {
  enum class Mode { kWhole, kOneByte, kRandom };
  Mode mode = Mode::kWhole;
  uint64_t seed = 1;           // kRandom: fragment sizes come from this seed
  size_t max_fragment = 1500;  // kRandom: fragments are 1..max_fragment bytes
};

class Pair {
 public:
  // Like the socket transports, the pair is where time comes from: both sessions start at
  // the wall clock (read here, never in the core); AdvanceTime() moves it without sleeping.
  Pair(Session client, Session server);
  // Makes both sessions. Fails only if a session cannot be created.
  static Result<std::unique_ptr<Pair>> Create(std::shared_ptr<const Context> client_context,
                                              std::shared_ptr<const Context> server_context,
                                              SessionOptions client_options = {},
                                              SessionOptions server_options = {});

  Session& client() { return client_; }
  Session& server() { return server_; }
  Session& session(Side s) { return s == Side::kClient ? client_ : server_; }

  void set_fragmentation(Fragmentation f);
  // With auto-read on (the default), Pump() reads each side's plaintext into received().
  // Off, plaintext stays in the sessions (to test backpressure) until read by the test.
  void set_auto_read(bool on) { auto_read_ = on; }

  // ---- Faults, on the bytes leaving |from| (offsets count from that stream's start) ----
  // XORs the byte at |offset| with |mask| in flight.
  void TamperAt(Side from, uint64_t offset, uint8_t mask = 0x01);
  // Bytes at |offset| and after are consumed from |from| but never delivered.
  void DropFrom(Side from, uint64_t offset);
  // Tells |to| its transport ended (FeedEof) now; with no close_notify, a truncation.
  void InjectEof(Side to);

  // Moves ciphertext both ways until nothing moves, draining events into the logs.
  // Returns the number of bytes delivered. |max_steps| bounds the work (no hang).
  size_t Pump(size_t max_steps = 10'000'000);
  // Pumps, then returns true when both sides reported kHandshakeDone and neither failed.
  bool Handshake();

  // Writes all of |data| from |from|, pumping whenever the write buffer is full. Returns the
  // bytes accepted (less than data.size() only if the session failed or stopped accepting).
  size_t Write(Side from, std::string_view data);
  // Plaintext |side| has received and auto-read (see set_auto_read); TakeReceived clears it.
  const std::string& received(Side side) const { return received_[Index(side)]; }
  std::string TakeReceived(Side side);

  // Events each side produced, in order.
  const std::vector<Event>& events(Side side) const { return events_[Index(side)]; }
  std::vector<EventKind> event_kinds(Side side) const;
  // "HandshakeDone,Readable,PeerClosed": for assertion messages.
  std::string EventSummary(Side side) const;
  // The first event of |kind| on |side|, or nullptr.
  const Event* Find(Side side, EventKind kind) const;

  // ---- Time ----
  Timestamp now() const { return now_; }
  // Moves the pair's clock forward by |d| and gives it to both sessions (Session::OnTimer:
  // deadlines that passed fire), then drains their events into the logs. Does not pump.
  void AdvanceTime(std::chrono::milliseconds d);

  // Ciphertext bytes |from| has put on the wire so far (delivered or not).
  uint64_t bytes_sent(Side from) const { return sent_[Index(from)]; }

 private:
  static size_t Index(Side s) { return s == Side::kClient ? 0 : 1; }
  size_t MoveOnce(Side from);
  size_t NextFragment(size_t available);
  void Drain(Side side);

  Session client_, server_;
  Fragmentation fragmentation_;
  std::mt19937_64 rng_{1};
  bool auto_read_ = true;
  std::optional<std::pair<uint64_t, uint8_t>> tamper_[2];
  std::optional<uint64_t> drop_from_[2];
  uint64_t sent_[2] = {0, 0};
  std::string received_[2];
  std::vector<Event> events_[2];
  std::vector<uint8_t> scratch_;
  Timestamp now_{0};
};

}  // namespace sansio_tls::testing

#endif  // SANSIO_TLS_CORE_TESTING_PAIR_H_
