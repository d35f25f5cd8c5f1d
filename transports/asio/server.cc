#include "transports/asio/server.h"

#include <sys/socket.h>

#include <cstring>
#include <utility>

#include <asio/detail/socket_option.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

namespace sansio_tls::asio_tls {

using asio::ip::tcp;

namespace {

// How long accepting pauses when the process is out of descriptors or memory.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// GracefulClose closes |socket| without a reset: half-close, drain, close.
void GracefulClose(tcp::socket& socket) {
  std::error_code ignored;
  if (!socket.is_open()) return;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  transport::DrainUnread(socket.native_handle());  // no reset that destroys our alert
  socket.close(ignored);
}

}  // namespace

struct Server::Listener {
  explicit Listener(asio::io_context& ioc) : io_context(&ioc), acceptor(ioc), pause(ioc) {}
  asio::io_context* io_context;
  tcp::acceptor acceptor;
  asio::steady_timer pause;
};

Result<std::shared_ptr<Server>> Server::Listen(asio::io_context& io_context,
                                               std::shared_ptr<const Context> context,
                                               ServerOptions options, ServerCallbacks callbacks) {
  return Start({&io_context}, /*reuse_port=*/false, std::move(context), std::move(options),
               std::move(callbacks));
}

Result<std::shared_ptr<Server>> Server::Listen(std::span<asio::io_context* const> io_contexts,
                                               std::shared_ptr<const Context> context,
                                               ServerOptions options, ServerCallbacks callbacks) {
  for (asio::io_context* ioc : io_contexts) {
    if (!ioc) return MakeError("ERR_INVALID_ARG_VALUE", "Server::Listen: a null io_context");
  }
  if (io_contexts.empty()) {
    return MakeError("ERR_INVALID_ARG_VALUE", "Server::Listen needs at least one io_context");
  }
  return Start({io_contexts.begin(), io_contexts.end()}, /*reuse_port=*/io_contexts.size() > 1,
               std::move(context), std::move(options), std::move(callbacks));
}

Result<std::shared_ptr<Server>> Server::Start(std::vector<asio::io_context*> io_contexts,
                                              bool reuse_port,
                                              std::shared_ptr<const Context> context,
                                              ServerOptions options, ServerCallbacks callbacks) {
  if (auto error = transport::ServerArgsError(context.get(), bool(callbacks.secure_connection))) {
    return *std::move(error);
  }
  std::shared_ptr<Server> s(new Server());
  s->options_ = std::move(options);
  s->callbacks_ = std::make_shared<const ServerCallbacks>(std::move(callbacks));
  s->context_ = std::move(context);
  // A single io_context may be run by several threads: give each connection a strand.
  s->strand_per_connection_ = !reuse_port;

  // Where to listen.
  tcp::endpoint endpoint;
  std::error_code ec;
  if (s->options_.host.empty()) {
    endpoint = tcp::endpoint(asio::ip::address_v6::any(), s->options_.port);
  } else if (asio::ip::address a = asio::ip::make_address(s->options_.host, ec); !ec) {
    endpoint = tcp::endpoint(a, s->options_.port);
  } else {
    tcp::resolver resolver(*io_contexts.front());
    auto results = resolver.resolve(s->options_.host, std::to_string(s->options_.port), ec);
    if (ec || results.empty()) {
      return MakeError("ERR_DNS_LOOKUP", "cannot resolve " + s->options_.host + ": " +
                                             (ec ? ec.message() : "no address"));
    }
    endpoint = results.begin()->endpoint();
  }

  for (asio::io_context* ioc : io_contexts) {
    auto l = std::make_unique<Listener>(*ioc);
    tcp::acceptor& a = l->acceptor;
    auto fail = [&](const char* what) {
      Error e = ErrorFromCode(ec);
      e.message = std::string(what) + " " + endpoint.address().to_string() + ":" +
                  std::to_string(endpoint.port()) + ": " + e.message;
      return e;
    };
    a.open(endpoint.protocol(), ec);
    if (ec) return fail("open");
    a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (reuse_port || s->options_.reuse_port) {
      a.set_option(ReusePort(true), ec);
      if (ec) return fail("SO_REUSEPORT");
    }
    if (s->options_.host.empty()) a.set_option(asio::ip::v6_only(false), ec);
    a.bind(endpoint, ec);
    if (ec) return fail("bind");
    a.listen(s->options_.backlog, ec);
    if (ec) return fail("listen");
    if (endpoint.port() == 0) endpoint.port(a.local_endpoint(ec).port());  // the others share it
    s->listeners_.push_back(std::move(l));
  }
  s->local_ = s->listeners_.front()->acceptor.local_endpoint(ec);
  s->port_ = s->local_.port();
  for (auto& l : s->listeners_) {
    Listener* lp = l.get();
    asio::post(*lp->io_context, [s, lp] { s->Accept(*lp); });
  }
  return s;
}

Server::~Server() = default;

void Server::Accept(Listener& l) {
  if (closed_.load()) return;
  auto on_accept = [self = shared_from_this(), &l](std::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || self->closed_.load()) return;
    if (ec) {
      // Out of descriptors or memory, or a connection that died in the queue: retry soon.
      l.pause.expires_after(kAcceptPause);
      l.pause.async_wait([self, &l](std::error_code e) {
        if (!e) self->Accept(l);
      });
      return;
    }
    self->OnAccepted(l, std::move(socket));
    self->Accept(l);
  };
  if (strand_per_connection_) {
    l.acceptor.async_accept(asio::make_strand(*l.io_context), std::move(on_accept));
  } else {
    l.acceptor.async_accept(*l.io_context, std::move(on_accept));
  }
}

void Server::OnAccepted(Listener& l, tcp::socket socket) {
  (void)l;
  std::error_code ec;
  tcp::endpoint local = socket.local_endpoint(ec), remote = socket.remote_endpoint(ec);
  size_t before = counter_->fetch_add(1, std::memory_order_relaxed);
  std::shared_ptr<void> token(
      nullptr, [counter = counter_](void*) { counter->fetch_sub(1, std::memory_order_relaxed); });
  if (options_.max_connections > 0 && before >= options_.max_connections) {
    socket.close(ec);
    token.reset();
    if (callbacks_->drop) callbacks_->drop(DropInfo{local, remote});
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);

  // The handshake bound and close grace are the session's deadlines (async_handshake and
  // async_shutdown keep them).
  auto session = Session::Create(
      context(), transport::WithNow(transport::WithTimeouts(
                     options_.session, options_.handshake_timeout, options_.end_timeout)));
  if (!session.ok()) {
    GracefulClose(socket);
    token.reset();
    ClientError(local, remote, ToErrorCode(session.error()), session.error());
    return;
  }
  auto tls = std::make_unique<TlsStream>(std::move(socket), std::move(session).value());
  tls->set_owner_token(std::move(token));
  tls->set_allow_half_open(options_.allow_half_open);
  if (callbacks_->session_event || callbacks_->key_log) {
    tls->set_event_handler([cb = callbacks_](TlsStream& stream, const Event& e) {
      if (e.kind() == EventKind::kKeyLog) {
        if (cb->key_log) cb->key_log(stream, e.get<event::KeyLog>().line);
      } else if (cb->session_event) {
        cb->session_event(stream, e);
      } else {
        stream.answer_by_default(e);
      }
    });
  }
  TlsStream& stream = *tls;
  auto done = [self = shared_from_this(), tls = std::move(tls), local,
               remote](std::error_code ec) mutable {
    if (!ec) {
      self->callbacks_->secure_connection(std::move(*tls));
      return;
    }
    Error error = tls->error() ? *tls->error() : ErrorFromCode(ec);
    GracefulClose(tls->next_layer());
    tls.reset();  // the connection no longer counts
    self->ClientError(local, remote, ec, std::move(error));
  };
  stream.async_handshake(std::move(done));
}

void Server::ClientError(const tcp::endpoint& local, const tcp::endpoint& remote,
                         std::error_code code, Error error) {
  if (callbacks_->client_error) {
    callbacks_->client_error(ClientErrorInfo{code, std::move(error), local, remote});
  }
}

void Server::Close() {
  if (closed_.exchange(true)) return;
  for (auto& l : listeners_) {
    Listener* lp = l.get();
    asio::post(*lp->io_context, [self = shared_from_this(), lp] {
      std::error_code ignored;
      lp->acceptor.close(ignored);
      lp->pause.cancel();
    });
  }
}

bool Server::SetContext(std::shared_ptr<const Context> context) {
  if (!context || context->role() != Role::kServer) return false;
  std::lock_guard<std::mutex> lock(context_mu_);
  context_ = std::move(context);
  return true;
}

std::shared_ptr<const Context> Server::context() const {
  std::lock_guard<std::mutex> lock(context_mu_);
  return context_;
}

}  // namespace sansio_tls::asio_tls
