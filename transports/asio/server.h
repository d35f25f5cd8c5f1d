// Server: a TLS server on Asio io_contexts (Node's tls.createServer over the Asio transport).
//
//   asio::io_context ioc;
//   auto server = asio_tls::Server::Listen(ioc, context, {.port = 8443}, {
//       .secure_connection = [](asio_tls::TlsStream stream) {
//         asio::co_spawn(stream.get_executor(), Serve(std::move(stream)), asio::detached);
//       }});
//   ioc.run();
//
// Same options and events as the POSIX server (transports/posix/server.h), in Node's terms:
// `secureConnection` (the handshake completed and, when required, the client was
// authorized: the application gets the Stream and owns it from then on), `clientError` (at
// most once per connection, only before secureConnection: handshake failure, handshake
// timeout, rejected client certificate, a peer that left), `drop` (max_connections reached:
// the socket is closed before any TLS byte).
//
// Threads, two ways to use every core:
//  - Listen(io_contexts): one io_context per thread, each with its own listening socket on
//    the same port (SO_REUSEPORT; the kernel spreads connections). A connection lives on the
//    io_context that accepted it: no locking, no strands.
//  - Listen(io_context) with that io_context run by several threads: one shared listening
//    socket; each connection gets a strand of its own (Stream::get_executor()).
// Callbacks run on the accepted connection's executor. Close(), connections() and
// SetContext() may be called from any thread.
#ifndef SANSIO_TLS_TRANSPORTS_ASIO_SERVER_H_
#define SANSIO_TLS_TRANSPORTS_ASIO_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"
#include "transports/asio/stream.h"

namespace sansio_tls::asio_tls {

// The stream type the server and AsyncConnect hand out.
using TlsStream = Stream<asio::ip::tcp::socket>;

// A server's options: the shared ones (transports/common/transport_types.h). On Asio the
// close grace (end_timeout) is how long a stream's shutdown() without a timeout of its own
// waits for the peer, allow_half_open = false makes a read that reports the peer's
// close_notify end this side too (Stream::set_allow_half_open), and Listen() with several
// io_contexts sets reuse_port anyway.
using ServerOptions = transport::ServerOptions;

// A connection refused because of max_connections (Node's `drop` event data).
struct DropInfo {
  asio::ip::tcp::endpoint local, remote;
};

// A connection that failed before the application got it (Node's `clientError`).
struct ClientErrorInfo {
  std::error_code code;  // the error as an error_code (see transports/asio/error.h)
  Error error;           // code string, message and alert
  asio::ip::tcp::endpoint local, remote;
};

struct ServerCallbacks {
  // secureConnection: the handshake completed (stream.handshake_info(), authorized(), ...).
  // The application owns the stream from now on; it counts in connections() until it is
  // destroyed. Required.
  std::function<void(TlsStream stream)> secure_connection;
  // clientError: the connection failed before secureConnection; it is then closed.
  std::function<void(const ClientErrorInfo& info)> client_error;
  // drop: an accepted socket was closed at once because max_connections was reached.
  std::function<void(const DropInfo& info)> drop;
  // Session events that are not data: kSniRequest, kAlpnRequest, kSessionLookup,
  // kVerifyRequested, kSignRequest and kDecryptRequest pause the handshake until answered on
  // the stream (answer_sni, answer_alpn, answer_session_lookup, complete_verification,
  // complete_key_operation, fail_key_operation), here or later on the stream's executor;
  // kNewSession (external session cache) asks to store a session. When unset, pauses get
  // default answers: SNI the default credentials, ALPN a refusal, a lookup a miss, a
  // verification a rejection, a key operation a failure. A pause never
  // answered ends at the handshake timeout. Also called after secureConnection, with the
  // stream the application then owns, unless it sets its own handler on it.
  std::function<void(TlsStream& stream, const Event& event)> session_event;
  // keylog (Node's event): one NSS key-log line, without newline (*ContextOptions::key_log).
  std::function<void(TlsStream& stream, std::string_view line)> key_log;
};

class Server : public std::enable_shared_from_this<Server> {
 public:
  // Listen binds and listens on |io_context| (one listening socket; run the io_context on
  // as many threads as wanted). Errors: the bind/listen error (e.g. "EADDRINUSE"),
  // ERR_DNS_LOOKUP, ERR_INVALID_ARG_VALUE (no context, a client context, no
  // secure_connection callback).
  static Result<std::shared_ptr<Server>> Listen(asio::io_context& io_context,
                                                std::shared_ptr<const Context> context,
                                                ServerOptions options, ServerCallbacks callbacks);
  // Listen with one listening socket per io_context (SO_REUSEPORT on one port), meant for
  // one io_context per thread. Same errors.
  static Result<std::shared_ptr<Server>> Listen(std::span<asio::io_context* const> io_contexts,
                                                std::shared_ptr<const Context> context,
                                                ServerOptions options, ServerCallbacks callbacks);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const { return port_; }
  const asio::ip::tcp::endpoint& local_endpoint() const { return local_; }
  // Live sockets: accepted and not yet closed (handshaking ones included; established ones
  // until the application destroys their stream). Any thread.
  size_t connections() const { return counter_->load(std::memory_order_relaxed); }

  // Close stops accepting: the listening sockets close on their io_contexts. Handshakes in
  // progress finish (or time out); streams the application holds are its own. The
  // io_contexts run out of work once those are done. Any thread; idempotent.
  void Close();

  // SetContext replaces the context for connections accepted from now on (Node's
  // setSecureContext); established ones keep theirs. Any thread. Returns false, changing
  // nothing, for a null or client context.
  bool SetContext(std::shared_ptr<const Context> context);

 private:
  struct Listener;
  Server() = default;
  static Result<std::shared_ptr<Server>> Start(std::vector<asio::io_context*> io_contexts,
                                               bool reuse_port,
                                               std::shared_ptr<const Context> context,
                                               ServerOptions options, ServerCallbacks callbacks);
  void Accept(Listener& l);
  void OnAccepted(Listener& l, asio::ip::tcp::socket socket);
  void ClientError(const asio::ip::tcp::endpoint& local, const asio::ip::tcp::endpoint& remote,
                   std::error_code code, Error error);
  std::shared_ptr<const Context> context() const;

  ServerOptions options_;
  std::shared_ptr<const ServerCallbacks> callbacks_;  // shared with the streams' handlers
  mutable std::mutex context_mu_;
  std::shared_ptr<const Context> context_;  // guarded by context_mu_
  std::vector<std::unique_ptr<Listener>> listeners_;
  asio::ip::tcp::endpoint local_;
  uint16_t port_ = 0;
  bool strand_per_connection_ = false;
  // Shared with the streams handed out (they decrement it when destroyed), so it outlives
  // the server if they do.
  std::shared_ptr<std::atomic<size_t>> counter_ = std::make_shared<std::atomic<size_t>>(0);
  std::atomic<bool> closed_{false};
};

}  // namespace sansio_tls::asio_tls

#endif  // SANSIO_TLS_TRANSPORTS_ASIO_SERVER_H_
