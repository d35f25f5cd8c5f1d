// Fuzz target: a real client/server pair driven by a script of operations.
//
// Input: two ClientConfig bytes, two ServerConfig bytes, read-buffer byte, write-buffer
// byte, then
// operations of one opcode byte (low 3 bits: op, bit 3: side) and their arguments:
//   0 Write  side writes U16 bytes (a position-dependent pattern, so order is checkable)
//   1 Move   up to U16 bytes (0: all) of side's output go to the peer in one Feed
//   2 Read   side reads up to U16 bytes
//   3 Close  side calls Close()
//   4 Flip   the byte U16 bytes ahead in side's outgoing stream is XORed with Byte|1
//   5 Eof    side is told its transport ended (FeedEof)
//   6 Drop   U16 bytes of side's output are consumed and never delivered
//   7 Pump   everything moves both ways until nothing moves (bounded)
//   8 KeyUpdate  side calls KeyUpdate(Byte & 1); success only on an established TLS 1.3
//                connection that is not failed
//   9 PeerCert   side's peer_certificate(Byte & 1) is built (it must not crash)
// Then everything is pumped to the end.
//
// Invariants, checked after every operation: each side's SessionChecker rules (event
// order, sticky errors, Feed's contract); the plaintext a side has received is exactly a
// prefix of what the other side's Write() accepted, in order (whatever was flipped, dropped
// or cut); at the end, when no byte was flipped, dropped or cut and the configurations are
// compatible, both handshakes completed, nothing failed, and every accepted byte arrived
// (no hang, nothing lost).
#include <algorithm>
#include <string>
#include <vector>

#include "core/session.h"
#include "fuzz/fuzz_support.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;

namespace {

uint8_t PatternByte(int side, uint64_t i) {
  return static_cast<uint8_t>((i * 131 + (i >> 8) * 7 + side * 89) & 0xff);
}

struct End {
  int index;
  Session* session;
  SessionChecker* checker;
  uint64_t written = 0;   // plaintext accepted by Write()
  uint64_t received = 0;  // plaintext Read() by this side (all checked against the pattern)
  uint64_t out_offset = 0;  // ciphertext bytes this side has put on the wire
  std::vector<std::pair<uint64_t, uint8_t>> flips;  // absolute offsets in the outgoing stream
  bool eof = false;
};

class Driver {
 public:
  Driver(Session& client, Session& server)
      : client_checker_(client), server_checker_(server),
        ends_{End{0, &client, &client_checker_}, End{1, &server, &server_checker_}} {}

  End& end(int i) { return ends_[i]; }
  bool faulted() const { return faulted_; }

  void Write(End& e, size_t n) {
    std::vector<uint8_t> data(n);
    for (size_t i = 0; i < n; ++i) data[i] = PatternByte(e.index, e.written + i);
    size_t accepted = e.session->Write(data);
    FUZZ_CHECK(accepted <= n, "Write accepted %zu of %zu", accepted, n);
    e.written += accepted;
    Check(e);
  }

  // Moves up to |limit| bytes (0: the whole pending run) from |from| to the other side.
  size_t Move(End& from, size_t limit) {
    End& to = ends_[1 - from.index];
    std::span<const uint8_t> out = from.session->PendingOutput();
    if (out.empty()) return 0;
    size_t n = limit == 0 ? out.size() : std::min(limit, out.size());
    std::span<const uint8_t> fragment = out.first(n);
    for (auto& [offset, mask] : from.flips) {
      if (offset >= from.out_offset && offset < from.out_offset + n) {
        if (fragment.data() != scratch_.data()) scratch_.assign(fragment.begin(), fragment.end());
        scratch_[offset - from.out_offset] ^= mask;
        fragment = scratch_;
      }
    }
    size_t taken = to.session->Feed(fragment);
    FUZZ_CHECK(taken <= n, "Feed took %zu of %zu", taken, n);
    if (taken < n) FUZZ_CHECK(!to.session->wants_input(), "Feed took %zu of %zu but wants_input()", taken, n);
    for (auto& [offset, mask] : from.flips) {
      if (offset >= from.out_offset && offset < from.out_offset + taken) faulted_ = true;
    }
    from.session->ConsumeOutput(taken);
    from.out_offset += taken;
    Check(from);
    Check(to);
    return taken;
  }

  void Read(End& e, size_t limit) {
    std::vector<uint8_t> buf(limit);
    size_t n = e.session->Read(buf);
    FUZZ_CHECK(n <= limit, "Read returned %zu for a %zu-byte buffer", n, limit);
    Received(e, {buf.data(), n});
    Check(e);
  }

  void Drop(End& from, size_t limit) {
    std::span<const uint8_t> out = from.session->PendingOutput();
    size_t n = std::min(limit, out.size());
    if (n == 0) return;
    from.session->ConsumeOutput(n);
    from.out_offset += n;
    faulted_ = true;
    Check(from);
  }

  void Eof(End& e) {
    e.session->FeedEof();
    e.eof = true;
    faulted_ = true;
    Check(e);
    FUZZ_CHECK(e.session->failed() || e.session->peer_closed() || !e.checker->handshake_done() ||
                   e.session->readable_bytes() > 0,
               "after FeedEof an established session neither failed nor reports the end");
  }

  // Moves and reads until nothing moves. Bounded: every round moves at least one byte and
  // the bytes in flight are finite, but cap it anyway so a bug shows as a failure.
  void Pump() {
    for (int round = 0; round < 100000; ++round) {
      size_t moved = 0;
      for (End& e : ends_) {
        while (size_t n = Move(e, 0)) moved += n;
      }
      // Reading makes room for input held back, and can make a session write (a KeyUpdate
      // reply held behind unread data): both need another round.
      size_t pending = PendingOutput(), read = 0;
      for (End& e : ends_) read += ReadEverything(e);
      if (moved == 0 && read == 0 && PendingOutput() <= pending) return;
    }
    FUZZ_CHECK(false, "pump did not settle");
  }

  size_t PendingOutput() const {
    return ends_[0].session->pending_output_bytes() + ends_[1].session->pending_output_bytes();
  }

  size_t ReadEverything(End& e) {
    uint8_t buf[8192];
    size_t total = 0;
    while (size_t n = e.session->Read(buf)) {
      Received(e, {buf, n});
      total += n;
    }
    Check(e);
    return total;
  }

  void Check(End& e) {
    e.checker->Drain();
    e.checker->CheckSticky();
  }

 private:
  void Received(End& e, std::span<const uint8_t> data) {
    const End& peer = ends_[1 - e.index];
    for (size_t i = 0; i < data.size(); ++i) {
      FUZZ_CHECK(e.received + i < peer.written,
                 "%s received byte %llu but the peer only wrote %llu", e.index ? "server" : "client",
                 static_cast<unsigned long long>(e.received + i),
                 static_cast<unsigned long long>(peer.written));
      FUZZ_CHECK(data[i] == PatternByte(peer.index, e.received + i),
                 "%s received a wrong byte at %llu", e.index ? "server" : "client",
                 static_cast<unsigned long long>(e.received + i));
    }
    e.received += data.size();
  }

  SessionChecker client_checker_, server_checker_;
  End ends_[2];
  bool faulted_ = false;
  std::vector<uint8_t> scratch_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ResetRandom();
  Input in(data, size);
  uint8_t c0 = in.Byte(), c1 = in.Byte(), s0 = in.Byte(), s1 = in.Byte();
  ClientConfig cc = ClientConfig::From(c0, c1);
  ServerConfig sc = ServerConfig::From(s0, s1);
  size_t read_buffer = (static_cast<size_t>(in.Byte()) + 1) * 256;
  size_t write_buffer = (static_cast<size_t>(in.Byte()) + 1) * 256;

  SessionOptions co = ClientSessionOptions(cc), so = ServerSessionOptions();
  co.max_read_buffer = so.max_read_buffer = read_buffer;
  co.max_write_buffer = so.max_write_buffer = write_buffer;
  auto client = Session::Create(ClientContext(cc), co);
  auto server = Session::Create(ServerContext(sc), so);
  FUZZ_CHECK(client.ok() && server.ok(), "Session::Create failed");
  Driver d(*client.value(), *server.value());
  d.end(1).checker->set_sni_answer(SniAnswerFor(sc));

  for (int ops = 0; !in.empty() && ops < 4096; ++ops) {
    uint8_t op = in.Byte();
    End& e = d.end((op >> 4) & 1);
    switch (op & 15) {
      case 0: d.Write(e, in.U16() % 20000 + 1); break;
      case 1: d.Move(e, in.U16()); break;
      case 2: d.Read(e, in.U16() % 20000 + 1); break;
      case 3: e.session->Close(); d.Check(e); break;
      case 4: {
        uint64_t ahead = in.U16();
        e.flips.emplace_back(e.out_offset + ahead, static_cast<uint8_t>(in.Byte() | 1));
        break;
      }
      case 5: d.Eof(e); break;
      case 6: d.Drop(e, in.U16()); break;
      case 7: d.Pump(); break;
      case 8: {
        bool was_failed = e.session->failed();
        std::optional<Error> refused = e.session->KeyUpdate(in.Byte() & 1);
        if (!refused) {
          FUZZ_CHECK(!was_failed && e.checker->handshake_done() &&
                         e.session->handshake_info().protocol == "TLSv1.3",
                     "KeyUpdate accepted on a connection that is not established TLS 1.3");
        } else {
          FUZZ_CHECK(!refused->code.empty(), "KeyUpdate refused without a code");
        }
        d.Check(e);
        break;
      }
      case 9: {
        auto cert = e.session->peer_certificate(in.Byte() & 1);
        if (cert) FUZZ_CHECK(!cert->raw.empty(), "peer certificate without DER");
        break;
      }
      default: break;
    }
  }
  d.Pump();

  if (!d.faulted() && Compatible(cc, sc)) {
    for (int i = 0; i < 2; ++i) {
      End& e = d.end(i);
      const char* name = i ? "server" : "client";
      FUZZ_CHECK(!e.session->failed(), "%s failed without a fault: %s %s", name,
                 e.session->error()->code.c_str(), e.session->error()->message.c_str());
      FUZZ_CHECK(e.checker->handshake_done(), "%s: no handshake without a fault", name);
      const End& peer = d.end(1 - i);
      FUZZ_CHECK(e.received == peer.written, "%s received %llu of %llu bytes without a fault",
                 name, static_cast<unsigned long long>(e.received),
                 static_cast<unsigned long long>(peer.written));
      Session& other = *peer.session;
      FUZZ_CHECK(e.session->pending_output_bytes() == 0,
                 "%s has %zu bytes of output left after pumping; the peer: wants_input=%d "
                 "failed=%d peer_closed=%d close_sent=%d readable=%zu",
                 name, e.session->pending_output_bytes(), other.wants_input(), other.failed(),
                 other.peer_closed(), other.close_sent(), other.readable_bytes());
    }
  }
  return 0;
}
