// The decisions of one operation on a connection (handshake, read, write, shutdown), in one
// place for every transport that offers such operations: POSIX's blocking calls
// (posix::Connection::Handshake/Read/Write/End) and Asio's operations, blocking and composed
// (asio_tls::Stream). Each step looks at the Driver and says what the operation needs next:
// to complete (and how), to send, to read, or to wait for the application. The transport
// does that in its own idiom and asks again; no socket code is here.
//
// A step is called with a connection |c| that provides
//   transport::Driver io;       // the session and the stream's state
//   void DrainEvents();         // hands the session's queued events to their handlers
#ifndef SANSIO_TLS_TRANSPORTS_COMMON_STEPS_H_
#define SANSIO_TLS_TRANSPORTS_COMMON_STEPS_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/session.h"
#include "transports/common/driver.h"

namespace sansio_tls::transport {

// How an operation ended; each transport spells it in its own error type.
enum class Outcome : uint8_t {
  kOk,                // done (Action::n: bytes read or written, where there is a count)
  kSessionError,      // the session failed: Session::error()
  kTransportError,    // sending failed (EPIPE, ECONNRESET...): Driver::transport_error()
  kPeerClosed,        // a read met the peer's close_notify (POSIX: 0; Asio: eof)
  kTruncated,         // a read met an end without close_notify: Driver::TruncationError()
  kWriteAfterEnd,     // a write after our close_notify: ERR_STREAM_WRITE_AFTER_END
  kHandshakeNotDone,  // a shutdown before the handshake completed: ERR_TLS_HANDSHAKE_NOT_DONE
  kStalled,           // nothing a read could fix (never expected): ERR_TLS_INTERNAL
};

// |outcome| (not kOk or kPeerClosed) as an Error: the session's error, the transport's, the
// truncation's (Driver::TruncationError), ERR_STREAM_WRITE_AFTER_END,
// ERR_TLS_HANDSHAKE_NOT_DONE, or ERR_TLS_INTERNAL.
Error OutcomeError(const Driver& d, Outcome outcome);

// What a step decided.
struct Action {
  enum Kind : uint8_t {
    kComplete,      // finish with |outcome| (and |n|)
    kWrite,         // send the session's pending ciphertext (Driver::ToSend)
    kShutdownSend,  // shut the socket's sending side, then Driver::ShutdownSent()
    kRead,          // take the input if another operation holds it, else read the socket
    kYieldInput,    // let the operation waiting for the input have it, and queue behind it
    kWaitApp,       // the handshake waits for the application's answer to a pause
  };
  Kind kind;
  Outcome outcome = Outcome::kOk;
  size_t n = 0;

  static Action Complete(Outcome outcome, size_t n = 0) { return {kComplete, outcome, n}; }
  static Action Write() { return {kWrite}; }
  static Action ShutdownSend() { return {kShutdownSend}; }
  static Action Read() { return {kRead}; }
  static Action YieldInput() { return {kYieldInput}; }
  static Action WaitApp() { return {kWaitApp}; }
};

// What the operation may assume about concurrent ones (Asio allows one reading and one
// writing operation at a time; a blocking call has the connection to itself).
struct Roles {
  bool holds_input = true;    // this operation may read from the socket
  bool can_write = true;      // no other operation is writing to the socket
  bool input_wanted = false;  // another operation waits to read
};

namespace step_internal {

// Ciphertext waiting that can still be delivered.
inline bool OutputPending(const Driver& d) {
  return d.session().pending_output_bytes() > 0 && !d.send_broken();
}

// The operation cannot go on without more ciphertext. A session that takes none, or input
// after the end, is nothing a read could fix: reported rather than spinning.
inline Action NeedInput(const Driver& d) {
  if (d.peer_end() != PeerEnd::kOpen || d.ReadLimit() == 0) {
    return Action::Complete(Outcome::kStalled);
  }
  return Action::Read();
}

// How the operation ends once the peer's side ended: |clean| after its close_notify,
// kTruncated after an end without one; nullopt while it is open.
inline std::optional<Action> AtPeerEnd(const Driver& d, Outcome clean) {
  if (d.peer_end() == PeerEnd::kOpen) return std::nullopt;
  return Action::Complete(d.peer_end() == PeerEnd::kClean ? clean : Outcome::kTruncated);
}

// The handshake must complete before the operation can: drive it.
inline Action DriveHandshake(const Driver& d, const Roles& r) {
  if (d.session().failed()) return Action::Complete(Outcome::kSessionError);
  if (!r.holds_input) return Action::Read();
  return d.session().pause_pending() ? Action::WaitApp() : NeedInput(d);
}

}  // namespace step_internal

// Handshake: complete once the handshake did (at once when it already had), its final
// flight handed to the socket.
template <typename C>
Action HandshakeStep(C& c, const Roles& r) {
  using namespace step_internal;
  const Driver& d = c.io;
  if (!r.holds_input) return Action::Read();
  if (OutputPending(d)) return Action::Write();
  if (d.session().failed()) return Action::Complete(Outcome::kSessionError);
  if (d.send_broken()) return Action::Complete(Outcome::kTransportError);
  if (d.session().handshake_done()) return Action::Complete(Outcome::kOk);
  if (d.session().pause_pending()) return Action::WaitApp();
  return NeedInput(d);
}

// Read: complete with the plaintext there is (read_plaintext() copies it out and returns
// the count), handshaking first when needed; else with the end: the peer's close_notify
// (kPeerClosed), a truncation, the session's error. Plaintext that came before an end or a
// failure is delivered first.
template <typename C, typename ReadPlaintext>
Action ReadStep(C& c, const Roles& r, ReadPlaintext&& read_plaintext) {
  using namespace step_internal;
  const Driver& d = c.io;
  const Session& s = d.session();
  if (!r.holds_input) return Action::Read();
  if (r.can_write) {  // e.g. our close_notify answering the peer's (Node's allowHalfOpen)
    if (OutputPending(d)) return Action::Write();
    if (d.ShouldShutdownSend()) return Action::ShutdownSend();
  }
  if (s.readable_bytes() > 0) {
    size_t n = read_plaintext();
    c.DrainEvents();  // reading made room: held input may have been processed
    return Action::Complete(Outcome::kOk, n);
  }
  if (s.failed()) return Action::Complete(Outcome::kSessionError);
  if (auto end = AtPeerEnd(d, Outcome::kPeerClosed)) return *end;
  if (!s.handshake_done()) {
    if (d.send_broken()) return Action::Complete(Outcome::kTransportError);
    if (s.pause_pending()) return Action::WaitApp();
  }
  return NeedInput(d);
}

// Write: the session takes a prefix of the caller's plaintext (write_plaintext() gives it and
// returns how much was taken; |accepted| records it), and the operation completes once its
// ciphertext was handed to the socket, handshaking first when needed. Before anything was
// taken: the session's or the transport's error, else kWriteAfterEnd after our close_notify.
template <typename C, typename WritePlaintext>
Action WriteStep(C& c, const Roles& r, WritePlaintext&& write_plaintext,
                 std::optional<size_t>& accepted) {
  using namespace step_internal;
  Driver& d = c.io;
  const Session& s = d.session();
  if (!accepted) {
    if (s.failed()) return Action::Complete(Outcome::kSessionError);
    if (d.send_broken()) return Action::Complete(Outcome::kTransportError);
    if (s.close_sent()) return Action::Complete(Outcome::kWriteAfterEnd);
    if (size_t n = write_plaintext(); n > 0) {
      accepted = n;
    } else if (OutputPending(d)) {
      return Action::Write();  // the session's write buffer is full: flush, then retry
    } else if (!s.handshake_done()) {
      return DriveHandshake(d, r);
    } else {
      return Action::Complete(Outcome::kStalled);
    }
  }
  if (OutputPending(d)) return Action::Write();
  if (d.send_broken()) return Action::Complete(Outcome::kTransportError);
  // Plaintext written before the handshake completes waits for it: drive it.
  if (!s.handshake_done()) return DriveHandshake(d, r);
  return Action::Complete(Outcome::kOk, *accepted);
}

// Shutdown: close_notify after everything written, handed to the socket, whose sending side
// is then shut; then (unless |send_only|) the peer's end: kOk for its close_notify,
// kTruncated for an end without one. |started| is the operation's own flag (false at first).
// Plaintext arriving meanwhile stays readable; when the session holds more unread than it
// takes, the wait needs reads to go on: |discard_unread| (a blocking call, which nothing else
// can read for) discards it, otherwise the operation yields the input to the next read.
template <typename C>
Action ShutdownStep(C& c, const Roles& r, bool send_only, bool discard_unread, bool& started) {
  using namespace step_internal;
  Driver& d = c.io;
  Session& s = d.session();
  if (!started) {
    started = true;
    if (!s.handshake_done() && !s.failed()) return Action::Complete(Outcome::kHandshakeNotDone);
    s.Close();
    c.DrainEvents();
  }
  if (OutputPending(d)) return Action::Write();
  if (s.failed()) return Action::Complete(Outcome::kSessionError);
  if (d.send_broken()) return Action::Complete(Outcome::kTransportError);
  if (d.ShouldShutdownSend()) return Action::ShutdownSend();
  if (send_only) return Action::Complete(Outcome::kOk);
  if (auto end = AtPeerEnd(d, Outcome::kOk)) return *end;
  if (!r.holds_input) return Action::Read();
  if (r.input_wanted) return Action::YieldInput();  // a read wants the plaintext first
  if (!s.wants_input()) {
    if (!discard_unread) return Action::YieldInput();  // resumes after the next read
    uint8_t sink[4096];
    while (s.Read(sink) > 0) {
    }
    c.DrainEvents();
    return ShutdownStep(c, r, send_only, discard_unread, started);  // held input went on
  }
  return NeedInput(d);
}

}  // namespace sansio_tls::transport

#endif  // SANSIO_TLS_TRANSPORTS_COMMON_STEPS_H_
