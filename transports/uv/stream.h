// Stream: one TLS session over one libuv TCP handle (Node's TLSSocket over libuv).
//
//   uv_tls::StreamCallbacks cb;
//   cb.secure = [](uv_tls::Stream& s, const HandshakeInfo& h) { s.Write(request); };
//   cb.data = [](uv_tls::Stream& s, std::span<const uint8_t> bytes) { ... };
//   cb.close = [&](uv_tls::Stream& s, const std::optional<Error>& e) { stream.reset(); };
//   auto connecting = uv_tls::Connect(loop, "example.com", 443, client_context, {}, cb);
//   if (!connecting.ok()) return connecting.error();  // bad arguments; the rest: `close`
//   stream = std::move(connecting).value();           // std::unique_ptr<uv_tls::Stream>
//   uv_run(loop, UV_RUN_DEFAULT);
//
// Events, in Node's terms (StreamCallbacks): `secure` (secureConnect: the handshake
// completed and, when required, the peer was authorized), `data` (plaintext, a view valid
// during the call), `end` (the peer ended its side, clean or truncated, after its last
// data), `drain` (a Write() that returned false has been flushed), `session_event` (the
// core's pauses and notices), `key_log`, `close` (the socket closed; the error says why, when
// it was not a clean end both ways). Errors use the POSIX transport's codes: the session's
// (a certificate code such as DEPTH_ZERO_SELF_SIGNED_CERT, ERR_SSL_..., ECONNRESET before the
// handshake), libuv's error names (ECONNREFUSED, EPIPE, ECONNRESET, ETIMEDOUT),
// ERR_DNS_LOOKUP, ERR_TLS_HANDSHAKE_TIMEOUT, ERR_TLS_TRUNCATED.
//
// Memory: reads go into one 64 KiB buffer per thread shared by every stream (libuv's
// alloc_cb), so an idle stream holds no receive buffer; only bytes the session cannot take
// yet are kept. Writes hand the session's pending ciphertext (PendingOutput) to the socket
// without a copy; it is released when libuv has written it. Timers exist only while a
// deadline runs.
//
// Ownership and lifetime: the application owns each Stream through the std::unique_ptr it
// is handed (by Connect, StartTls or Server). Destroying it closes the socket at once (no
// close_notify) and no callback runs afterwards; this is allowed at any time, also from
// inside the stream's own callbacks. The libuv handles are closed with uv_close and freed in
// their close callbacks, so the loop must keep running (uv_run) until they are done; memory
// the stream used is freed then. A stream that closes by itself (clean end both ways, an
// error, a timeout, Destroy()) reports `close` once from the loop and stays a valid object
// (its state can still be read) until the application destroys it.
//
// SIGPIPE: libuv writes with write(2), so a peer that reset would raise SIGPIPE, whose
// default action kills the process. The first stream or server sets SIGPIPE to ignored if it
// still has its default action (Node does the same at startup); a handler the application
// installed is left alone.
//
// Threads: a Stream belongs to its loop. Every call and every callback happens on the thread
// running that loop.
#ifndef SANSIO_TLS_TRANSPORTS_UV_STREAM_H_
#define SANSIO_TLS_TRANSPORTS_UV_STREAM_H_

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"
#include "transports/common/transport_types.h"

namespace sansio_tls::uv_tls {

// Shared with the other socket transports (transports/common/transport_types.h).
using transport::kErrDnsLookup;
using transport::kErrHandshakeTimeout;
using transport::kErrTruncated;
using transport::PeerEnd;
using transport::PeerEndName;
using transport::SocketAddress;

class Stream;

// What a stream reports. Every member is optional. Each callback runs on the loop thread and
// may call anything on the stream, destroy it, or replace the callbacks (set_callbacks takes
// effect when the running callback returns).
struct StreamCallbacks {
  // secureConnect / secureConnection: the handshake completed. Data written before it has
  // been sent in order.
  std::function<void(Stream& stream, const HandshakeInfo& info)> secure;
  // Plaintext received. |bytes| is borrowed from the session and valid until the callback
  // returns (also across Write() and End() on this stream). Without a data callback the
  // stream behaves as paused: data stays buffered and the peer is held back.
  std::function<void(Stream& stream, std::span<const uint8_t> bytes)> data;
  // The peer ended its side (kClean: close_notify; kTruncated: the transport ended without
  // it) and every byte before the end was delivered. Unless allow_half_open, this side then
  // ends too (End()).
  std::function<void(Stream& stream, PeerEnd end)> end;
  // A Write() returned false, and everything written has since been handed to the socket.
  std::function<void(Stream& stream)> drain;
  // The session's events other than data and ends: kSniRequest, kAlpnRequest, kSessionLookup,
  // kVerifyRequested, kSignRequest and kDecryptRequest pause the handshake until answered on
  // stream.session() (AnswerSni, AnswerAlpn, AnswerSessionLookup, CompleteVerification,
  // CompleteKeyOperation, FailKeyOperation), here or later on the loop thread followed by
  // stream.Advance(); kNewSession (a resumable session, see Session), kEarlyData. Without
  // this callback pauses get default answers: SNI the default credentials, ALPN a refusal, a
  // lookup a miss, a verification a rejection, a key operation a failure. A pause never
  // answered ends at the handshake timeout.
  std::function<void(Stream& stream, const Event& event)> session_event;
  // keylog (Node's event): one NSS key-log line, without newline (*ContextOptions::key_log).
  std::function<void(Stream& stream, std::string_view line)> key_log;
  // The socket closed; the last callback. |error| is nullopt after a clean end both ways or
  // a Destroy() without error; otherwise why: the session's error, a transport error
  // (ECONNRESET, EPIPE, ...), ERR_TLS_TRUNCATED (the peer ended without close_notify; `end`
  // reported it first), ETIMEDOUT (connect timeout), ERR_TLS_SHUTDOWN_TIMEOUT (end timeout),
  // ERR_TLS_HANDSHAKE_TIMEOUT,
  // Connect's errors (ERR_DNS_LOOKUP, ECONNREFUSED, ...), or what Destroy() was given.
  std::function<void(Stream& stream, const std::optional<Error>& error)> close;
};

// Per-stream timing and half-close behaviour. The two bounds become the session's deadlines
// (SessionOptions::handshake_timeout and close_timeout, where those are unset).
struct StreamOptions {
  // From the session's creation (accept, StartTls(), Connect() with its resolution and TCP
  // connect) until secure; expiry closes the stream with ERR_TLS_HANDSHAKE_TIMEOUT
  // (ERR_TLS_PAUSE_UNANSWERED while a pause waits for an answer). <= 0: no limit. Node's
  // default, 120 s.
  std::chrono::milliseconds handshake_timeout{120'000};
  // After our close_notify (End()), how long the peer has to end its side before the socket
  // is closed anyway (close with ERR_TLS_SHUTDOWN_TIMEOUT). <= 0: no limit.
  std::chrono::milliseconds end_timeout{30'000};
  // Node's allowHalfOpen: false (the default) ends our side as soon as the peer ended its
  // own (after `end`), so the stream closes.
  bool allow_half_open = false;
};

namespace internal {
class StreamImpl;
}

class Stream {
 public:
  // Closes the socket now (no close_notify; End() first for a clean close); no callback runs
  // after this. Safe inside the stream's own callbacks. See the ownership note above.
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Replaces the callbacks (all of them). Inside a callback of this stream, takes effect
  // when that callback returns.
  void set_callbacks(StreamCallbacks callbacks);

  // Write queues |data| to be encrypted and sent (before the handshake: held, sent once it
  // completes). Every byte is kept (never dropped) while the stream is open. Returns false
  // when the stream holds more than SessionOptions::max_write_buffer unsent: stop writing
  // until `drain` (Node's write() return). After End(), Destroy(), a failure or the close,
  // the bytes are discarded and false is returned.
  bool Write(std::span<const uint8_t> data);
  bool Write(std::string_view data) {
    return Write({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  }
  // End sends close_notify after everything written, flushes it, then half-closes the socket
  // (uv_shutdown). The peer's data keeps arriving until it ends too; then the stream closes
  // (bounded by StreamOptions::end_timeout). Idempotent.
  void End();
  // Destroy closes the socket now, dropping unsent data; `close` follows from the loop with
  // |error|. Idempotent (the first error stays).
  void Destroy(std::optional<Error> error = std::nullopt);

  // Pause stops delivering data; what arrives stays buffered up to
  // SessionOptions::max_read_buffer, then the socket is no longer read (the peer is held
  // back). Resume delivers what is buffered and reads again.
  void Pause();
  void Resume();
  bool paused() const;

  // Advance carries on after the application acted on the session directly (answered a
  // pause on session(), started a KeyUpdate): events are dispatched and output sent.
  void Advance();

  // lifetime: expires when this Stream object is destroyed. For code answering a pause
  // later (on the loop thread): while the token lives, the stream may be used.
  std::weak_ptr<void> lifetime() {
    if (!lifetime_) lifetime_ = std::make_shared<char>(0);
    return lifetime_;
  }

  // The core session (read its state; answer pauses, then Advance()).
  Session& session();
  const Session& session() const;
  uv_loop_t* loop() const;
  // Valid once the handshake completed.
  const HandshakeInfo& handshake_info() const { return session().handshake_info(); }
  bool handshake_done() const { return session().handshake_done(); }
  // How the peer's stream ended so far.
  PeerEnd peer_end() const;
  // The first failure so far: the session's error, else a transport error.
  std::optional<Error> error() const;
  // True from the start of the close until the end; no I/O happens any more.
  bool closed() const;
  // Addresses of the socket (empty before it is connected, or when unknown).
  SocketAddress local_address() const;
  SocketAddress peer_address() const;
  // Ciphertext bytes handed to / read from the socket so far.
  uint64_t bytes_sent() const;
  uint64_t bytes_received() const;
  // Bytes this stream holds in user space: the session's ciphertext out, plaintext in and
  // plaintext held until the handshake completes, plaintext written but not yet accepted by
  // the session, and input read but not yet taken. Bounded by the SessionOptions limits plus
  // one socket read, except for what the application Write()s past a false return.
  size_t buffered_bytes() const;

 private:
  friend class internal::StreamImpl;
  friend class Server;
  explicit Stream(internal::StreamImpl* impl) : impl_(impl) {}
  internal::StreamImpl* impl_;      // freed by itself once its handles closed and it is detached
  std::shared_ptr<char> lifetime_;  // lifetime(), allocated on first use
};

// What Connect() does beyond the Context's options.
struct ConnectOptions {
  // Per-connection session options. servername defaults to the host connected to (the
  // session sends no SNI for an IP literal); host is set to it.
  SessionOptions session;
  // Bound on name resolution plus TCP connect over every resolved address. Expiry: close with
  // ETIMEDOUT. <= 0: no limit.
  std::chrono::milliseconds connect_timeout{30'000};
  // Handshake timeout, end timeout, half-open (the handshake timeout starts once TCP is
  // connected).
  StreamOptions stream;
};

// Connect resolves |host| (uv_getaddrinfo; names, IPv4 and IPv6 literals), connects to each
// address in turn until one accepts, and runs a client session of |context| over it. Returns
// the stream at once; `secure` or `close` follows from the loop. Errors returned here: a null
// or server context, invalid session options (ERR_INVALID_ARG_VALUE and the like). Errors
// reported by `close`: ERR_DNS_LOOKUP, the last connect error (ECONNREFUSED, ...), ETIMEDOUT
// (connect_timeout), the handshake's (a certificate code, ERR_TLS_HANDSHAKE_TIMEOUT, ...).
Result<std::unique_ptr<Stream>> Connect(uv_loop_t* loop, const std::string& host, uint16_t port,
                                        std::shared_ptr<const Context> context,
                                        ConnectOptions options, StreamCallbacks callbacks);

// StartTls starts a session of |context| (client or server, as its role says) on |tcp|, a
// connected TCP handle over which a plaintext exchange may have happened (STARTTLS).
// |received| are bytes the application read from |tcp| past its last plaintext message; they
// are the first TLS bytes, fed to the session at once (transport::FeedReceived: more than a
// peer sends before our first answer is ERR_INVALID_ARG_VALUE). |tcp| must have been allocated with
// `new uv_tcp_t` and be open: on success the stream owns it (stops the application's reads,
// replaces its data pointer, closes and deletes it); on failure (invalid session options, too many
// bytes received, a handle that is closing) it is left untouched and still the caller's. Callbacks
// start from the loop, never inside this call.
Result<std::unique_ptr<Stream>> StartTls(uv_tcp_t* tcp, std::shared_ptr<const Context> context,
                                         SessionOptions session, std::span<const uint8_t> received,
                                         StreamCallbacks callbacks, StreamOptions options = {});

}  // namespace sansio_tls::uv_tls

#endif  // SANSIO_TLS_TRANSPORTS_UV_STREAM_H_
