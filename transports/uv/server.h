// Server: a TLS server on a libuv loop (Node's tls.createServer over libuv).
//
//   uv_tls::ServerCallbacks cb;
//   cb.secure_connection = [&](std::unique_ptr<uv_tls::Stream> s) {
//     uv_tls::Stream* raw = s.get();
//     raw->set_callbacks({.data = ..., .close = [&](uv_tls::Stream& s, auto&) { forget(s); }});
//     keep(std::move(s));
//   };
//   auto server = uv_tls::Server::Listen(loop, context, {.port = 8443}, cb);
//   uv_run(loop, UV_RUN_DEFAULT);
//
// Same options and events as the POSIX server (transports/posix/server.h), in Node's terms:
// `secure_connection` (the handshake completed and, when required, the client was
// authorized: the application gets the Stream and owns it from then on), `client_error` (at
// most once per connection, only before secure_connection: handshake failure, handshake
// timeout, rejected client certificate, a peer that left, the close deadline), `drop`
// (max_connections reached: the socket is closed before any TLS byte), `close` (after
// Close(), once every connection is gone).
//
// Ownership: the server owns connections until their handshake completes, the application
// from secure_connection on (see transports/uv/stream.h). The Server object may be
// destroyed at any time, also inside its callbacks: listening stops, handshaking connections
// close without callbacks, established streams carry on (the application's), no server
// callback runs afterwards. Its libuv handles close with uv_close; keep the loop running
// until they did.
//
// Threads: everything runs on the loop's thread.
#ifndef SANSIO_TLS_TRANSPORTS_UV_SERVER_H_
#define SANSIO_TLS_TRANSPORTS_UV_SERVER_H_

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"
#include "transports/uv/stream.h"

namespace sansio_tls::uv_tls {

// Shared with the other socket transports (transports/common/transport_types.h).
using transport::ClientErrorInfo;
using transport::DropInfo;
using transport::kErrServerClosed;
using transport::ServerOptions;

struct ServerCallbacks {
  // secureConnection: the handshake completed (stream->handshake_info()). The application
  // owns the stream from now on: set its callbacks here (data that came with the handshake
  // is delivered right after this returns). It counts in connections() until its socket
  // closes. Required.
  std::function<void(std::unique_ptr<Stream> stream)> secure_connection;
  // clientError: the connection failed before secureConnection; it is then closed.
  std::function<void(const ClientErrorInfo& info)> client_error;
  // drop: an accepted socket was closed at once because max_connections was reached.
  std::function<void(const DropInfo& info)> drop;
  // Session events that are not data (see StreamCallbacks::session_event), for every
  // connection whose stream has no session_event callback of its own: kSniRequest,
  // kAlpnRequest, kSessionLookup, kVerifyRequested, kSignRequest and kDecryptRequest pause
  // the handshake until answered on stream.session(), here or later on the loop thread
  // followed by stream.Advance() (a signer on another thread answers through
  // KeyOperationAnswerer); kNewSession (external session cache) asks to store a session. When
  // unset, pauses get default answers: SNI the default credentials, ALPN a refusal, a lookup
  // a miss, a verification a rejection, a key operation a failure. A pause never answered
  // ends at the handshake timeout.
  std::function<void(Stream& stream, const Event& event)> session_event;
  // keylog (Node's event): one NSS key-log line, without newline (*ContextOptions::key_log),
  // for connections whose stream has no key_log callback of its own.
  std::function<void(Stream& stream, std::string_view line)> key_log;
  // close: after Close(), the listener closed and every connection is gone.
  std::function<void()> close;
};

class Server {
 public:
  // Listen binds and listens on |loop|. Errors: EADDRINUSE and other bind/listen error
  // names, ERR_DNS_LOOKUP, ERR_INVALID_ARG_VALUE (no loop, no context, a client context, no
  // secure_connection callback).
  static Result<std::unique_ptr<Server>> Listen(uv_loop_t* loop,
                                                std::shared_ptr<const Context> context,
                                                ServerOptions options, ServerCallbacks callbacks);
  // See the ownership note above.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  SocketAddress address() const;
  // Live sockets: accepted and not yet closed (handshaking ones included; established ones
  // until their socket closes, whoever holds the Stream).
  size_t connections() const;

  // Close stops accepting (the listening handle closes now) and lets handshaking and
  // established connections finish. When |grace| (> 0) passes, those still open are closed:
  // handshaking ones with client_error ERR_TLS_SERVER_CLOSED, established ones with
  // close_notify (best effort) and their stream's close(ERR_TLS_SERVER_CLOSED). <= 0: no
  // deadline. `close` follows once every connection is gone. Later calls do nothing.
  void Close(std::chrono::milliseconds grace = std::chrono::seconds(30));

  // SetContext replaces the context for connections accepted from now on (Node's
  // setSecureContext); established ones keep theirs. Returns false, changing nothing, for a
  // null or client context.
  bool SetContext(std::shared_ptr<const Context> context);

  // KeyOperationAnswerer: for |stream|'s pending kSignRequest or kDecryptRequest (call it on
  // the loop thread, e.g. in session_event), a function any thread must call exactly once
  // to answer later (a signer thread): it wakes the loop (a uv_async_t of its own, which
  // does not keep the loop alive while waiting) and there answers, the result bytes as
  // Session::CompleteKeyOperation, nullopt as FailKeyOperation, and advances the stream.
  // An answer for a connection gone meanwhile (its handshake timed out) is dropped. Until it
  // is called its handle stays open: uv_loop_close() reports UV_EBUSY.
  std::function<void(std::optional<std::vector<uint8_t>>)> KeyOperationAnswerer(Stream& stream);

 private:
  class State;
  static internal::StreamImpl* ImplOf(Stream& stream) { return stream.impl_; }
  explicit Server(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace sansio_tls::uv_tls

#endif  // SANSIO_TLS_TRANSPORTS_UV_SERVER_H_
