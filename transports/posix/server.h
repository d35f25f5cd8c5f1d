// Server: a TLS server on an epoll loop (Node's tls.createServer over the POSIX transport).
//
//   auto server = posix::Server::Listen(context, {.port = 0}, {
//       .secure_connection = [](posix::Connection& c) { return std::make_unique<Echo>(); }});
//   (*server)->Run();   // until Close() and every connection has finished
//
// Each accepted socket becomes a Connection driven without blocking by one thread, the one
// calling Run(). The application sees, in Node's terms: `secureConnection` (the handshake
// completed and, when required, the client was authorized), `clientError` (at most once
// per connection, only before secureConnection: handshake failure, handshake timeout,
// rejected client certificate, a peer that left), `drop` (max_connections reached: the
// socket is closed before any TLS byte). After secureConnection a ConnectionHandler gets
// the connection's data, end and close.
//
// Threads: every callback runs on the Run() thread, and Connection objects must only be
// used there. Close(), connections(), SetContext() and Post() may be called from any thread;
// Close() also from a signal handler.
#ifndef SANSIO_TLS_TRANSPORTS_POSIX_SERVER_H_
#define SANSIO_TLS_TRANSPORTS_POSIX_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"
#include "transports/posix/connection.h"
#include "transports/posix/socket.h"

namespace sansio_tls::posix {

// Shared with the other socket transports (transports/common/transport_types.h).
using transport::ClientErrorInfo;
using transport::DropInfo;
using transport::kErrServerClosed;
using transport::ServerOptions;

// What the application does with one established connection. Every method runs on the
// Run() thread; |conn| stays valid until OnClose returns, then the connection is destroyed
// together with its handler. Use conn's non-blocking calls (TryRead, TryWrite, TryEnd).
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // Plaintext arrived (and, the first time, possibly arrived with the handshake). Read it
  // with TryRead until it returns 0, or leave it: the peer is held back until it is read.
  // Data left unread is not announced again: read it from OnWritable or later calls.
  virtual void OnData(Connection& conn) = 0;
  // TryWrite accepted less than offered earlier, and the output has now drained.
  virtual void OnWritable(Connection& conn) { (void)conn; }
  // The peer ended its side, kClean (close_notify) or kTruncated, and all its data was
  // read. Unless allow_half_open, the server then ends this side as soon as the handler's
  // last TryWrite was accepted in full (nothing of the handler's is cut off).
  virtual void OnEnd(Connection& conn, PeerEnd end) { (void)conn, (void)end; }
  // The last call: the socket is about to close. |error| is set when the connection failed
  // (TLS error, reset, end timeout, server close deadline).
  virtual void OnClose(Connection& conn, const std::optional<Error>& error) {
    (void)conn, (void)error;
  }
};

struct ServerCallbacks {
  // secureConnection: the handshake completed (see HandshakeInfo through
  // conn.handshake_info()). Return the handler for this connection; nullptr ends it.
  // Required.
  std::function<std::unique_ptr<ConnectionHandler>(Connection& conn)> secure_connection;
  // clientError: the connection failed before secureConnection; it is then closed.
  std::function<void(const ClientErrorInfo& info)> client_error;
  // drop: an accepted socket was closed at once because max_connections was reached.
  std::function<void(const DropInfo& info)> drop;
  // Session events that are not data: kSniRequest, kAlpnRequest, kSessionLookup,
  // kVerifyRequested, kSignRequest and kDecryptRequest pause the handshake until answered on
  // conn.session() (AnswerSni, AnswerAlpn, AnswerSessionLookup, CompleteVerification,
  // CompleteKeyOperation, FailKeyOperation), here or later from a callback on the Run()
  // thread (then call conn.Advance(); a signer on another thread answers through
  // KeyOperationAnswerer); kNewSession (external session cache) asks to store a session. When
  // unset, pauses get default answers: SNI the default credentials, ALPN a refusal, a lookup a
  // miss, a verification a rejection, a key operation a failure. A pause never answered ends at the
  // handshake timeout.
  std::function<void(Connection& conn, const Event& event)> session_event;
  // keylog (Node's event): one NSS key-log line, without newline (*ContextOptions::key_log).
  std::function<void(Connection& conn, std::string_view line)> key_log;
};

class Server {
 public:
  // Listen binds and listens. Errors: EADDRINUSE and other bind/listen errno names,
  // ERR_DNS_LOOKUP, ERR_INVALID_ARG_VALUE (no context, a client context, no
  // secure_connection callback).
  static Result<std::unique_ptr<Server>> Listen(std::shared_ptr<const Context> context,
                                                ServerOptions options, ServerCallbacks callbacks);
  // Closes every socket at once, without callbacks. Must not run concurrently with Run().
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const { return local_.port; }
  const SocketAddress& address() const { return local_; }
  // Live sockets: accepted and not yet closed (handshaking ones included). Any thread.
  size_t connections() const { return connections_.load(std::memory_order_relaxed); }

  // Run serves on the calling thread until the server is closed (Close()) and every
  // connection has ended, or the close grace period ran out. Returns nullopt then, or the
  // error that stopped the loop (epoll failure). Call it once.
  std::optional<Error> Run();

  // Close stops accepting (the listening socket is closed on the loop thread right away)
  // and lets established and handshaking connections finish. When |grace| (> 0) passes,
  // those still open are closed: handshaking ones with clientError ERR_TLS_SERVER_CLOSED,
  // established ones with close_notify (best effort) and OnClose(ERR_TLS_SERVER_CLOSED).
  // <= 0: no deadline. Any thread, async-signal-safe; later calls do not extend the grace.
  void Close(std::chrono::milliseconds grace = std::chrono::seconds(30));

  // SetContext replaces the context for connections accepted from now on (Node's
  // setSecureContext); established ones keep theirs. Any thread. Returns false, changing
  // nothing, for a null or client context.
  bool SetContext(std::shared_ptr<const Context> context);

  // Post runs |task| on the Run() thread soon, after the events being handled. Any thread;
  // tasks still queued when Run() returns never run.
  void Post(std::function<void()> task);
  // KeyOperationAnswerer: for |conn|'s pending kSignRequest or kDecryptRequest (call it on
  // the Run() thread, e.g. in session_event), a function any thread may call once to answer
  // later (a signer thread): it posts the answer to the Run() thread, the result bytes as
  // Session::CompleteKeyOperation, nullopt as FailKeyOperation, and advances the connection.
  // An answer for a connection gone meanwhile (its handshake timed out) is dropped. The
  // server must outlive the calls.
  std::function<void(std::optional<std::vector<uint8_t>>)> KeyOperationAnswerer(Connection& conn);

 private:
  struct Entry;
  Server() = default;

  void Accept();
  void Service(Entry& e);
  bool Dispatch(Entry& e);
  void UpdateInterest(Entry& e);
  void Destroy(uint64_t id, const std::optional<Error>& error);
  void ClientError(Entry& e, const Error& error);
  void ExpireTimers();
  void Rearm(Entry& e);
  int NextTimeoutMs() const;
  void BeginClose();
  void ForceCloseAll();

  std::shared_ptr<const Context> context() const;

  ServerOptions options_;
  ServerCallbacks callbacks_;
  mutable std::mutex context_mu_;
  std::shared_ptr<const Context> context_;  // guarded by context_mu_
  SocketAddress local_;
  UniqueFd listen_fd_, epoll_fd_, wake_fd_;

  std::unordered_map<uint64_t, std::unique_ptr<Entry>> entries_;
  std::vector<uint64_t> dirty_;     // entries a callback touched outside their own servicing
  std::vector<uint64_t> deferred_;  // entries whose turn ended with work left
  uint64_t next_id_ = 2;            // 0: the listening socket, 1: the wake-up eventfd
  std::atomic<size_t> connections_{0};
  // Each connection's next deadline (Connection::next_deadline(): handshake bound, close
  // grace), earliest first; an entry is here at most once, as Entry::armed says.
  std::set<std::pair<Timestamp, uint64_t>> deadlines_;
  Clock::time_point accept_paused_until_{};
  bool accept_paused_ = false;

  // Post(): tasks from any thread, run by the loop.
  std::mutex tasks_mu_;
  std::vector<std::function<void()>> tasks_;  // guarded by tasks_mu_
  void RunTasks();

  // Close(): set from any thread, acted on by the loop.
  std::atomic<bool> close_called_{false};
  std::atomic<bool> close_requested_{false};
  std::atomic<int64_t> close_grace_ms_{0};
  bool closing_ = false;
  std::optional<Clock::time_point> close_deadline_;
  bool running_ = false;
};

}  // namespace sansio_tls::posix

#endif  // SANSIO_TLS_TRANSPORTS_POSIX_SERVER_H_
