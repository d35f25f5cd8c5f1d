// The harness of the transport fuzz target (fuzz/transports.cc): a transport's server
// connection, driven by the fuzzer's input, against a real client Session moved by hand
// over a fake network (Wire) whose I/O calls fail, stall and cut short as a fault script
// says. Each transport plugs in as a Target with a fake socket of its own idiom (POSIX: a
// fake kernel behind transports/posix/internal/sys.h; Asio: a fake next layer; libuv: a
// socket pair in the loop); the script, the peer and the invariants are shared.
//
// Invariants checked for every transport:
//  - the server application receives exactly a prefix of what the client wrote, in order,
//    and the client exactly a prefix of the echo (no lost, duplicated or reordered byte);
//  - with only benign faults (EINTR, spurious EAGAIN, short reads and writes, stalls) and
//    compatible configurations, the handshake completes, every byte written comes back and
//    both ends close cleanly: benign faults change nothing;
//  - once the client is gone (closed, half-closed, reset), the connection ends within a
//    bounded number of loop turns: no hang, nothing held that can make no progress;
//  - the end is reported once (one terminal outcome; SessionChecker's event rules), the
//    socket is closed exactly once and never used after, and user-space buffering stays
//    within the session's limits plus the application's echo backlog.
#ifndef SANSIO_TLS_FUZZ_TRANSPORT_HARNESS_H_
#define SANSIO_TLS_FUZZ_TRANSPORT_HARNESS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/session.h"
#include "fuzz/fuzz_support.h"

namespace sansio_tls::fuzz {

// The position-dependent bytes the client writes (and expects echoed).
uint8_t ClientPatternByte(uint64_t i);

// What one read or write call of the fake socket does, from the fault script.
enum class FaultKind { kNone, kInterrupt, kWouldBlock, kShort };
struct Fault {
  FaultKind kind = FaultKind::kNone;
  size_t cap = 0;  // kShort: at most this many bytes (>= 1)
};
class Faults {
 public:
  explicit Faults(Input in) : in_(in) {}
  // The next call's fault; none once the script is used up.
  Fault Next();
  // True once the transport met a fault of its own (not the peer's doing).
  bool any() const { return any_; }
  // How many decisions were taken: a stall that used one is progress (the script is finite).
  uint64_t used() const { return used_; }

 private:
  Input in_;
  bool any_ = false;
  uint64_t used_ = 0;
};

// The network between the client and the server's socket.
struct Wire {
  std::deque<uint8_t> to_server;   // client ciphertext the server has not read
  bool client_fin = false;         // the client half-closed: EOF after to_server
  bool reset = false;              // the client reset: ECONNRESET for reads (after to_server),
                                   // and for sends
  bool client_gone = false;        // the client closed its socket: sends fail with EPIPE
                                   // (client_fin is set too)
  std::vector<uint8_t> to_client;  // server ciphertext the client has not taken
  // The server's send buffer: its sends put at most window - to_client.size() bytes on the
  // wire; the client taking bytes makes room.
  size_t window = 64 * 1024;
  size_t send_room() const { return to_client.size() < window ? window - to_client.size() : 0; }
  bool server_fin = false;     // the server half-closed (or closed) its sending side
  bool server_closed = false;  // the server closed its socket
  int so_error = 0;            // pending socket error (SO_ERROR), e.g. ECONNRESET
  bool readable() const { return !to_server.empty() || client_fin || reset || so_error; }
  bool writable() const { return send_room() > 0 || reset || client_gone || so_error; }
};

// The application-level echo the server runs, shared by the targets: what it has read and
// not yet written back, and the checks on what it reads.
struct Echo {
  std::string pending;    // read, not yet accepted by the transport's write
  uint64_t received = 0;  // plaintext read so far (checked against the pattern)
  bool hold = false;      // the application stops reading (script)
  static constexpr size_t kMaxPending = 64 * 1024;
  // Records plaintext the server read; checks it continues the client's pattern.
  void Received(std::span<const uint8_t> data);
  bool wants_read() const { return !hold && pending.size() < kMaxPending; }
};

// A transport's server connection under test.
class Target {
 public:
  virtual ~Target() = default;
  // One turn of the event loop: the transport does what its socket is ready for (as Wire
  // says), the application drains events, reads, echoes and ends after the peer did.
  // Returns true if anything moved.
  virtual bool Turn() = 0;
  // True once the connection reported its end and released its socket.
  virtual bool ended() const = 0;
  // True when it ended cleanly (both close_notify, every echo delivered), false on error.
  virtual bool ended_clean() const = 0;
  // The event loop learns of a socket error (EPOLLERR and the like).
  virtual void SocketErrorNotified() = 0;
  // The application ends its side (Node's end()).
  virtual void AppEnd() = 0;
  // User-space bytes the connection holds (bounded by the session's limits).
  virtual size_t buffered_bytes() const = 0;
  virtual bool handshake_done() const = 0;
  // The connection's state in a line, for failure messages.
  virtual std::string State() const = 0;
  Echo echo;
};

// The client: a real Session moved by hand.
class Peer {
 public:
  Peer(Session session, Wire& wire);
  Session& session() { return session_; }
  SessionChecker& checker() { return checker_; }
  void Write(size_t n);
  // Moves up to |limit| bytes of the client's ciphertext onto the wire (0: all).
  bool Flush(size_t limit);
  // Takes up to |limit| bytes of the server's ciphertext (0: all), reads the plaintext and
  // checks it is the echo; sees the server's end when the wire is drained. Returns progress.
  bool Take(size_t limit);
  uint64_t written() const { return written_; }
  uint64_t echoed() const { return echoed_; }
  bool eof_seen() const { return eof_seen_; }

 private:
  Session session_;
  Wire& wire_;
  SessionChecker checker_;
  uint64_t written_ = 0, echoed_ = 0;
  bool eof_seen_ = false;
};

// Runs the operation script of |in| on |target|, then ends the exchange and checks the
// invariants. |compatible|: the configurations must complete a handshake.
// Opcodes (low 4 bits of a byte) and their arguments:
//   0 client writes U16 % 16384 bytes     1 client flushes up to U16 bytes (0: all)
//   2 client takes up to U16 bytes        3 the server's send buffer becomes U16 bytes
//   4 one event-loop turn                 5 client Close() (close_notify)
//   6 client half-closes (FIN)            7 client resets
//   8 client closes its socket (sends fail with EPIPE)
//   9 socket error ECONNRESET, told to the event loop
//   10 the server application ends        11 the application stops / resumes reading
//   12 settle: turns and moves until nothing moves
void RunScript(Input& in, Faults& faults, Target& target, Peer& peer, Wire& wire, bool compatible);

}  // namespace sansio_tls::fuzz

#endif  // SANSIO_TLS_FUZZ_TRANSPORT_HARNESS_H_
