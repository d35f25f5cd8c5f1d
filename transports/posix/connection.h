// Connection: one TLS session over one connected POSIX socket.
//
// The socket is always non-blocking underneath; Advance() is the transport's single driver
// loop (core-shape.md, "Driving it"): write the session's pending ciphertext, read and feed
// what the socket has, repeat until neither moves, and answer which readiness it waits for.
// Two ways to use it, on the same object:
//  - blocking, like a stream: Handshake(), Read(), Write(), End() wait with poll() (bounded
//    by set_timeout()), retrying on EINTR;
//  - non-blocking, for an application's own poll/epoll loop: wait for what Advance()
//    returned (Interest), call Advance(), then drain NextEvent(); TryRead()/TryWrite()/
//    TryEnd() never wait.
// The blocking calls consume the session's events they pass (NextEvent() does not return
// them). A Connection is not thread-safe; use it from one thread at a time.
//
// Sends use MSG_NOSIGNAL: a peer that went away is an EPIPE/ECONNRESET error, never a
// SIGPIPE. Every socket gets TCP_NODELAY.
#ifndef SANSIO_TLS_TRANSPORTS_POSIX_CONNECTION_H_
#define SANSIO_TLS_TRANSPORTS_POSIX_CONNECTION_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"
#include "transports/common/driver.h"
#include "transports/common/steps.h"
#include "transports/posix/socket.h"

namespace sansio_tls::posix {

// Shared with the other socket transports (transports/common/transport_types.h).
using transport::kErrHandshakeTimeout;
using transport::kErrTruncated;
using transport::PeerEnd;
using transport::PeerEndName;

// A blocking call met a handshake pause (an EventKind the application must answer) that
// no event hook answered: ERR_TLS_PAUSE_UNANSWERED, as on every transport
// (transports/common/driver.h).
inline constexpr std::string_view kErrPaused = transport::kErrPauseUnanswered;

// Interest: what a non-blocking connection waits for before Advance() can make progress.
// Neither: nothing will happen until the application acts (reads plaintext to make room,
// writes, ends) or, when done(), ever.
struct Interest {
  bool want_read = false;   // wait until the socket is readable
  bool want_write = false;  // wait until the socket is writable
  friend bool operator==(const Interest&, const Interest&) = default;
};

class Connection {
 public:
  // Adopt makes a connection of |fd| (a connected stream socket; owned from now on) and
  // |session| (fresh or mid-handshake). Sets O_NONBLOCK and TCP_NODELAY on |fd|.
  // Bytes already read from |fd| that belong to the TLS stream (STARTTLS over a buffered
  // line reader) go to StartTls(), which feeds them to the session first.
  static std::unique_ptr<Connection> Adopt(UniqueFd fd, Session session);
  // Closes the socket (see Close()).
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_.get(); }
  Session& session() { return io_.session(); }
  const Session& session() const { return io_.session(); }
  // Valid once the handshake completed.
  const HandshakeInfo& handshake_info() const { return io_.session().handshake_info(); }
  // How the peer's stream ended (known as soon as the session saw it; plaintext that came
  // before the end may still be waiting to be read).
  PeerEnd peer_end() const { return io_.peer_end(); }
  SocketAddress local_address() const { return LocalAddress(fd_.get()); }
  SocketAddress peer_address() const { return PeerAddress(fd_.get()); }
  // The first failure: the session's sticky error, else a transport error (EPIPE,
  // ECONNRESET, ...). Timeouts of blocking calls are not recorded here.
  std::optional<Error> error() const { return io_.error(); }
  // The error this connection closes with (transport::Driver::CloseError): the session's,
  // ERR_TLS_SHUTDOWN_TIMEOUT when the close grace ran out, a transport error,
  // ERR_TLS_TRUNCATED, or none.
  std::optional<Error> close_error() const { return io_.CloseError(); }
  // Ciphertext bytes written to / read from the socket so far.
  uint64_t bytes_sent() const { return io_.bytes_sent(); }
  uint64_t bytes_received() const { return io_.bytes_received(); }
  // Bytes this connection holds in user space (session buffers, plus STARTTLS bytes given
  // to StartTls not yet taken). Bounded by the SessionOptions limits: a socket read takes
  // no more than the session can take (transports/common/driver.h).
  size_t buffered_bytes() const;

  // ---- Blocking use --------------------------------------------------------------------
  // Events the blocking calls consume are shown to |hook| first: key-log lines, new
  // sessions, pauses to answer on session() (kVerifyRequested, kSignRequest ...). Without a hook
  // they are dropped, and a pause makes the blocking call fail with ERR_TLS_PAUSE_UNANSWERED.
  void set_event_hook(std::function<void(Connection&, const Event&)> hook) {
    event_hook_ = std::move(hook);
  }
  // Bounds the following blocking calls; <= 0 (the default) waits as long as it takes.
  // Handshake(), Read() and End() fail when they have not completed within |timeout|;
  // Write() fails when no byte moved for that long (a long transfer may take longer).
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

  // Handshake runs the handshake to completion. Returns what it settled, the session's
  // error (the pending alert is flushed first), ECONNRESET for a transport that ended, or
  // ERR_TLS_HANDSHAKE_TIMEOUT. Returns at once when it already completed.
  Result<HandshakeInfo> Handshake();
  // Read waits until plaintext is available and copies up to |out.size()| bytes of it.
  // Returns the count; 0 once the peer ended cleanly (close_notify). A truncated end is the
  // error ERR_TLS_TRUNCATED (or ECONNRESET after a reset); a timeout is ETIMEDOUT. Runs the
  // handshake first when needed.
  Result<size_t> Read(std::span<uint8_t> out);
  // Write sends all of |data| (handshaking first when needed) and returns once the
  // ciphertext is in the kernel's send buffer. Returns data.size(), or the error; on error
  // (ETIMEDOUT included) how much reached the peer is unknown.
  Result<size_t> Write(std::span<const uint8_t> data);
  // End sends close_notify after everything written (completing the handshake first when
  // needed, within the same timeout), flushes it and half-closes the socket
  // (shutdown SHUT_WR). The peer's data can still be Read() until it ends. Returns nullopt
  // on success, else the error. BoringSSL ignores TLS 1.3 session tickets arriving after
  // this: a client that wants to resume later reads until session().saved_session() is set.
  std::optional<Error> End();

  // ---- Non-blocking use ----------------------------------------------------------------
  // Advance moves bytes between the socket and the session until neither can progress
  // without waiting, and returns what it now waits for (also kept in interest()). Drain
  // NextEvent() afterwards. Never blocks.
  Interest Advance();
  Interest interest() const { return interest_; }
  // NextEvent pops the session's next event (see core/session.h), or nullopt.
  std::optional<Event> NextEvent();
  // TryRead copies available plaintext (0 when none), then advances (room was made).
  size_t TryRead(std::span<uint8_t> out);
  // TryWrite queues as much of |data| as the session's write buffer takes and advances.
  // Returns the count; less than data.size() means "full": wait for writable() (and keep
  // advancing). 0 after a failure or End.
  size_t TryWrite(std::span<const uint8_t> data);
  // True when the last TryWrite was cut short and the session's output has since drained:
  // the moment to write again (Node's 'drain'). Clears the flag when it returns true.
  bool TakeWritable();
  // When OnTimer() is next needed: the session's handshake bound or close grace
  // (SessionOptions::handshake_timeout, close_timeout), or nullopt. An event loop arms one
  // timer for it and re-reads it after every Advance().
  std::optional<Timestamp> next_deadline() const { return io_.next_deadline(); }
  // Gives the session the time |now| (the wall clock, transport::WallNow()), then advances.
  // A handshake past its bound fails (ERR_TLS_HANDSHAKE_TIMEOUT, ERR_TLS_PAUSE_UNANSWERED);
  // a close grace that ran out makes done() true, closing with ERR_TLS_SHUTDOWN_TIMEOUT.
  void OnTimer(Timestamp now);
  // True from a TryWrite that accepted less than offered until TakeWritable() returns true.
  bool write_blocked() const { return write_blocked_; }
  // TryEnd queues close_notify after everything written and advances; the socket is
  // half-closed once it is flushed.
  void TryEnd();
  // True when nothing more will happen on this connection: both directions ended (or it
  // failed) and the output is flushed; or nothing can be sent any more (a send failed, or
  // CheckSocket found an error such as ECONNRESET) and the input is at its end or held
  // unread by a full session. Close it then.
  bool done() const;
  // CheckSocket reads the socket's pending error (SO_ERROR) without reading data. For an
  // event loop told that the socket failed (EPOLLERR) while the connection waits for
  // nothing (interest() empty, e.g. the application holds its plaintext unread): a reset
  // breaks the connection (error() is the socket's error, done() becomes true). Returns
  // true when it found an error.
  bool CheckSocket();
  // For an event loop that owns the connection: |hook| runs at the end of every Advance()
  // (also those inside TryRead/TryWrite/TryEnd), so the loop learns that the interest may
  // have changed when someone else used the connection.
  void set_advance_hook(std::function<void()> hook) { advance_hook_ = std::move(hook); }

  // Close releases the socket now. Unsent ciphertext is dropped (End() first for a clean
  // close). Unread bytes in the socket are drained first (bounded), so the kernel does not
  // answer them with a reset that could destroy what the peer has not yet read of ours.
  // Idempotent.
  void Close();

 private:
  struct StepView;
  Connection(UniqueFd fd, Session session);
  // Shows the session's queued events to the event hook; true when there were any.
  bool DrainEvents();
  Error TimeoutError(bool handshake) const;
  // Waits for interest_ (or, when empty, reports a stall); returns an error to give up.
  std::optional<Error> Wait(const Deadline& deadline, bool handshake);
  // The blocking calls: |step| (one of transports/common/steps.h) run to completion, the
  // socket advanced whenever it asks for input or output and waited on when that moved
  // nothing, until |deadline| (renewed whenever bytes were sent, with |progress_renews|).
  // Returns the step's count (0 for the peer's close_notify), or its outcome as an error
  // (transport::OutcomeError), or what ended the wait (a timeout, a pause nothing answers).
  template <typename Step>
  Result<size_t> Run(Step&& step, Deadline deadline, bool progress_renews = false);

  UniqueFd fd_;
  transport::Driver io_;  // the session and the state of the socket under it
  std::chrono::milliseconds timeout_{0};
  Interest interest_;
  bool write_blocked_ = false;
  std::function<void()> advance_hook_;
  std::function<void(Connection&, const Event&)> event_hook_;
};

// What Connect() does beyond the Context's options (shared with Asio's AsyncConnect).
using transport::ConnectOptions;

// Connect opens a TCP connection to |host|:|port| (IPv4 or IPv6, every resolved address in
// turn) and starts a client session of |context| over it; by default it also completes the
// handshake. Errors: resolution (ERR_DNS_LOOKUP), connect (ECONNREFUSED, ETIMEDOUT...),
// session creation, or the handshake's error (a certificate code such as
// DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_HANDSHAKE_TIMEOUT, ...).
Result<std::unique_ptr<Connection>> Connect(const std::string& host, uint16_t port,
                                            std::shared_ptr<const Context> context,
                                            ConnectOptions options = {});

// StartTls starts a session of |context| (client or server, as its role says) on |fd|, an
// already-connected socket over which a plaintext exchange may have happened (STARTTLS).
// |received| are bytes the application read from |fd| past its last plaintext message;
// they are the first TLS bytes, fed to the session at once (transport::FeedReceived: more than
// a peer sends before our first answer is ERR_INVALID_ARG_VALUE). On success the connection
// owns |fd|; on failure (session options invalid, too many bytes received) |fd| is left open
// and still the caller's. Does not run the handshake:
// call Handshake() or drive Advance().
Result<std::unique_ptr<Connection>> StartTls(int fd, std::shared_ptr<const Context> context,
                                             SessionOptions options = {},
                                             std::span<const uint8_t> received = {});

}  // namespace sansio_tls::posix

#endif  // SANSIO_TLS_TRANSPORTS_POSIX_CONNECTION_H_
