// The policy every socket transport (POSIX, libuv, Asio) follows, in one place and with no
// socket or event-loop code: how much to read, which time to give the session, what answers
// a pause nobody handles, which error each way of ending gets, and how much to drain before
// closing. A transport executes these decisions in its own idiom.
//
// The values, unified across the transports (they had drifted):
//  - one socket read takes at most min(kReadChunk, Session::input_capacity()) bytes, so the
//    session takes everything read and no transport keeps leftover ciphertext;
//  - closing drains at most kMaxDrainOnClose unread bytes (1 MiB; Asio drained 64 KiB), so
//    the kernel does not answer them with a reset that destroys our last records;
//  - a pause (kSniRequest, kAlpnRequest, kSessionLookup, kVerifyRequested, kSignRequest,
//    kDecryptRequest) nobody answers: an event handler that does not answer leaves the handshake
//    waiting until its deadline, then ERR_TLS_PAUSE_UNANSWERED (core/session.h); a blocking
//    call that meets a pause with no handler fails at once with the same code (POSIX said
//    ERR_TLS_PAUSED);
//  - the handshake bound ends with ERR_TLS_HANDSHAKE_TIMEOUT; the close grace (the peer did
//    not end its side after our close_notify) with ERR_TLS_SHUTDOWN_TIMEOUT, as an Asio
//    shutdown that times out; an EOF without close_notify after
//    the handshake with ERR_TLS_TRUNCATED; a reset with the socket's errno name (ECONNRESET).
#ifndef SANSIO_TLS_TRANSPORTS_COMMON_DRIVER_H_
#define SANSIO_TLS_TRANSPORTS_COMMON_DRIVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/session.h"
#include "transports/common/transport_types.h"

namespace sansio_tls::transport {

inline constexpr size_t kReadChunk = 32 * 1024;
inline constexpr size_t kMaxDrainOnClose = 1 << 20;

// The wall clock as the session takes it. The transports are where time is read; the core
// reads none.
Timestamp WallNow();
// Gives |session| the wall clock (Session::set_now).
void Tick(Session& session);
// |options| with |now| set to the wall clock unless the caller set it.
SessionOptions WithNow(SessionOptions options);
// |options| with the transport's bounds as the session's deadlines (Driver::next_deadline):
// |handshake_timeout| as SessionOptions::handshake_timeout and |end_timeout| (how long the
// peer has to end its side after our close_notify) as close_timeout, where positive and the
// session's own is unset (zero).
SessionOptions WithTimeouts(SessionOptions options, std::chrono::milliseconds handshake_timeout,
                            std::chrono::milliseconds end_timeout);
// A server's options for an accepted connection: WithNow(WithTimeouts(options.session,
// options.handshake_timeout, options.end_timeout)).
SessionOptions AcceptedOptions(const ServerOptions& options);
// A client's options for a connection to |host|: servername and host default to it (the
// session sends no SNI for an IP literal), and the wall clock as WithNow().
SessionOptions ClientOptions(SessionOptions options, const std::string& host);

// DrainUnread reads and discards what socket |fd| holds now, without waiting and at most
// kMaxDrainOnClose bytes: unread bytes at close() make the kernel answer with a reset, which
// can destroy what the peer has not read yet of ours (a final alert or close_notify). Every
// transport calls it right before closing a socket whose input did not end.
void DrainUnread(int fd);

// This thread's receive buffer of kReadChunk bytes, shared by every connection on the
// thread: valid only between a read and the Feed() of what it read, never across a wait.
std::span<uint8_t> ReadBuffer();

// Gives a new |session| the bytes a STARTTLS caller read from the socket past its last
// plaintext message (the first TLS bytes), before the transport takes over, so that no
// transport keeps them aside. A session takes all a peer can send before our first answer
// (a ClientHello and its 0-RTT data); more than it takes is ERR_INVALID_ARG_VALUE, and
// nothing is lost: the caller still owns the socket and the bytes.
std::optional<Error> FeedReceived(Session& session, std::span<const uint8_t> received);

// True while the handshake waits for the application's answer to a pause.
bool Paused(const Session& session);
// The answer to a pause nobody handles: SNI the default credentials, a session lookup a
// miss, a verification request a rejection, an ALPN request a refusal
// (no_application_protocol), a private-key operation (kSignRequest, kDecryptRequest) a
// failure (ERR_TLS_KEY_OPERATION_FAILED), an early-data check (kEarlyDataCheck) a refusal.
// Other events are left alone.
void DefaultAnswer(Session& session, const Event& event);

// A blocking call's handshake bound |timeout| passed (ERR_TLS_HANDSHAKE_TIMEOUT).
Error HandshakeTimeoutError(std::chrono::milliseconds timeout);
// A blocking call met a pause that nothing answers (ERR_TLS_PAUSE_UNANSWERED).
Error PauseUnansweredError();

// Driver: one TLS connection over a byte stream, without the socket: the session and the
// state every socket transport keeps about the stream under it (what was sent and received,
// whether the input ended or sending broke, whether the sending side was shut, whether the
// close grace ran out), and the decisions that follow from it. A transport runs it in a short
// loop of its own idiom:
//
//   for (;;) {                                   // POSIX: Connection::Advance
//     while (!(out = d.ToSend()).empty()) send(out) -> d.Sent(n) | d.SendFailed(e) | wait
//     if (d.ShouldShutdownSend()) { shutdown(SHUT_WR); d.ShutdownSent(); }
//     if (size_t n = d.ReadLimit()) recv(n) -> d.Received(bytes) | d.ReceivedEnd() | ...
//   }
//   arm one timer at d.next_deadline(); when it fires: d.OnTimer(now)
//
// so that the same condition gives the same state, error and timing on every transport.
// Not thread-safe; the transport uses it from one thread at a time.
class Driver {
 public:
  explicit Driver(Session session) : session_(std::move(session)) {}
  Driver(Driver&&) = default;
  Driver& operator=(Driver&&) = default;

  Session& session() { return session_; }
  const Session& session() const { return session_; }

  // ---- Output ----------------------------------------------------------------------------
  // The ciphertext to send now, borrowed from the session until Sent() (or the next call
  // that changes the session); empty when there is none. Once sending failed the output is
  // undeliverable: it is discarded here and nothing is returned.
  std::span<const uint8_t> ToSend();
  // |n| bytes of ToSend() were handed to the kernel.
  void Sent(size_t n);
  // Sending failed (EPIPE, ECONNRESET...): nothing more can be delivered, and the input's
  // end will be reported as |error| rather than as a truncation.
  void SendFailed(Error error);
  // The socket reported |error| (SO_ERROR, EPOLLERR) without a read or a send: as
  // SendFailed.
  void SocketFailed(Error error) { SendFailed(std::move(error)); }
  // True when the sending side should be shut now (shutdown SHUT_WR, as Node's end()
  // does): our close_notify or fatal alert is out. The transport then calls ShutdownSent().
  bool ShouldShutdownSend() const;
  void ShutdownSent() { shut_send_ = true; }

  // ---- Input -----------------------------------------------------------------------------
  // How many bytes the next socket read may take, all of which the session takes
  // (min(kReadChunk, Session::input_capacity())); 0: do not read now (the input ended, or
  // the session holds plaintext the application has not read).
  size_t ReadLimit() const;
  // |bytes| were read from the socket (at most ReadLimit()). Gives them to the session; a
  // session that takes fewer would be a bug, reported as the error ERR_TLS_INTERNAL (never
  // dropped silently).
  void Received(std::span<const uint8_t> bytes);
  // The socket's input ended: EOF (ReceivedEnd) or a failed read (ReceiveFailed: a reset,
  // reported as |error| wherever the end is).
  void ReceivedEnd();
  void ReceiveFailed(Error error);

  // ---- Time ------------------------------------------------------------------------------
  // When OnTimer() is next needed: the session's deadline (handshake bound, close grace),
  // or nullopt. Re-read after every call that moves the connection.
  std::optional<Timestamp> next_deadline() const { return session_.next_deadline(); }
  // Gives the session |now| (Session::OnTimer). A handshake past its bound fails the
  // session (ERR_TLS_HANDSHAKE_TIMEOUT, ERR_TLS_PAUSE_UNANSWERED); a close grace that ran
  // out ends the connection: end_timed_out() becomes true and CloseError() is
  // ERR_TLS_SHUTDOWN_TIMEOUT.
  void OnTimer(Timestamp now);

  // ---- State -----------------------------------------------------------------------------
  bool input_ended() const { return input_ended_; }
  bool send_broken() const { return send_broken_; }
  bool send_shut() const { return shut_send_; }
  bool end_timed_out() const { return end_timed_out_; }
  // How the peer's stream ended (as soon as the session saw it; plaintext before the end
  // may still be waiting to be read).
  PeerEnd peer_end() const;
  // The first failure: the session's sticky error, else the transport's.
  std::optional<Error> error() const;
  std::optional<Error> transport_error() const {
    return transport_error_ ? std::optional<Error>(*transport_error_) : std::nullopt;
  }
  // The error a read meets at a truncated end: the reset that ended the stream
  // (ECONNRESET), else ERR_TLS_TRUNCATED.
  Error TruncationError() const;
  // True when nothing more will happen: both directions ended (or the session failed) and
  // the output is flushed; or nothing can be sent any more and the input is at its end or
  // held unread by a full session (waiting for the application to read would wait for an
  // answer that cannot be delivered); or the close grace ran out.
  bool done() const;
  // The error a connection closes with: the session's error, else ERR_TLS_SHUTDOWN_TIMEOUT
  // when the close grace ran out, else the transport's (a reset), else ERR_TLS_TRUNCATED when the
  // peer ended without close_notify, else none (a clean close).
  std::optional<Error> CloseError() const;
  // Ciphertext bytes sent to / received from the socket so far.
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t bytes_received() const { return bytes_received_; }

 private:
  Session session_;
  // The first socket error. Rare: on the heap, so that an idle connection does not carry an
  // empty Error.
  std::unique_ptr<Error> transport_error_;
  uint64_t bytes_sent_ = 0, bytes_received_ = 0;
  bool input_ended_ = false;    // EOF or a failed read was given to the session
  bool reset_ = false;          // ... or sending failed: the end is transport_error_
  bool send_broken_ = false;    // sending failed; output is discarded from now on
  bool shut_send_ = false;      // the sending side was shut
  bool end_timed_out_ = false;  // the close grace ran out
};

// Why a server cannot start with |context| (it must be a server context) and a
// secure_connection callback that is set or not: ERR_INVALID_ARG_VALUE; nullopt when it can.
std::optional<Error> ServerArgsError(const Context* context, bool has_secure_connection);

}  // namespace sansio_tls::transport

#endif  // SANSIO_TLS_TRANSPORTS_COMMON_DRIVER_H_
