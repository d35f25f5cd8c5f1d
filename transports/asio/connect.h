// AsyncConnect: Node's tls.connect over Asio — resolve, connect with a timeout, handshake.
//
//   auto tls = co_await asio_tls::AsyncConnect(executor, "example.com", 443, client_context,
//                                              {}, asio::use_awaitable);
#ifndef SANSIO_TLS_TRANSPORTS_ASIO_CONNECT_H_
#define SANSIO_TLS_TRANSPORTS_ASIO_CONNECT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/compose.hpp>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>

#include "core/context.h"
#include "core/session.h"
#include "transports/asio/error.h"
#include "transports/asio/server.h"
#include "transports/asio/stream.h"

namespace sansio_tls::asio_tls {

// What AsyncConnect does beyond the Context's options (the POSIX Connect's, shared).
using transport::ConnectOptions;

namespace detail {

class ConnectOp {
 public:
  using tcp = asio::ip::tcp;

  ConnectOp(asio::any_io_executor ex, std::string host, uint16_t port,
            std::shared_ptr<const Context> context, ConnectOptions options)
      : state_(std::make_unique<State>(ex)),
        host_(std::move(host)),
        port_(port),
        context_(std::move(context)),
        options_(std::move(options)) {}

  // Start: resolve.
  template <typename Self>
  void operator()(Self& self) {
    self.reset_cancellation_state(asio::enable_terminal_cancellation());
    if (!context_ || context_->role() != Role::kClient) {
      return Fail(self, ErrorCodeFor("ERR_INVALID_ARG_VALUE"), /*posted=*/false);
    }
    State& st = *state_;
    st.resolver.async_resolve(host_, std::to_string(port_), std::move(self));
  }

  // Resolved: connect under connect_timeout.
  template <typename Self>
  void operator()(Self& self, std::error_code ec, tcp::resolver::results_type results) {
    if (!ec && Cancelled(self)) ec = asio::error::operation_aborted;
    if (ec) return Fail(self, ec);
    tcp::socket* socket = &state_->socket;
    AsyncWithTimeout<void(std::error_code, tcp::endpoint)>(
        state_->socket.get_executor(), options_.connect_timeout, asio::error::timed_out,
        [socket, results](auto handler) {
          asio::async_connect(*socket, results, std::move(handler));
        },
        std::move(self));
  }

  // Connected: make the stream, then handshake under handshake_timeout.
  template <typename Self>
  void operator()(Self& self, std::error_code ec, tcp::endpoint) {
    if (!ec && Cancelled(self)) ec = asio::error::operation_aborted;
    if (ec) return Fail(self, ec);
    State& st = *state_;
    std::error_code ignored;
    st.socket.set_option(tcp::no_delay(true), ignored);
    auto session = Session::Create(context_, transport::ClientOptions(options_.session, host_));
    if (!session.ok()) return Fail(self, ToErrorCode(session.error()));
    st.stream = std::make_unique<TlsStream>(std::move(st.socket), std::move(session).value());
    if (!options_.complete_handshake) return Done(self, {});
    if (options_.handshake_timeout.count() > 0) {
      st.stream->async_handshake(options_.handshake_timeout, std::move(self));
    } else {
      st.stream->async_handshake(std::move(self));
    }
  }

  // Handshake done (or a posted early failure).
  template <typename Self>
  void operator()(Self& self, std::error_code ec) {
    Done(self, ec);
  }

 private:
  struct State {
    explicit State(const asio::any_io_executor& ex) : resolver(ex), socket(ex) {}
    tcp::resolver resolver;
    tcp::socket socket;
    std::unique_ptr<TlsStream> stream;
  };

  // A cancellation that arrived between two stages (no inner operation saw it).
  template <typename Self>
  static bool Cancelled(Self& self) {
    return self.get_cancellation_state().cancelled() != asio::cancellation_type::none;
  }

  template <typename Self>
  void Fail(Self& self, std::error_code ec, bool posted = true) {
    if (!posted) {
      // Still inside the initiating call: complete through the executor.
      auto ex = asio::get_associated_executor(self, state_->socket.get_executor());
      return asio::post(ex, [self = std::move(self), ec]() mutable { self(ec); });
    }
    Done(self, ec);
  }

  template <typename Self>
  void Done(Self& self, std::error_code ec) {
    std::unique_ptr<State> st = std::move(state_);
    if (!st->stream) {
      self.complete(ec ? ec : make_error_code(errc::internal), TlsStream());
      return;
    }
    self.complete(ec, std::move(*st->stream));
  }

  std::unique_ptr<State> state_;
  std::string host_;
  uint16_t port_;
  std::shared_ptr<const Context> context_;
  ConnectOptions options_;
};

}  // namespace detail

// AsyncConnect connects to |host|:|port| (names, IPv4 and IPv6 literals; every resolved
// address in turn) on |executor| and, by default, completes the handshake. Signature
// void(std::error_code, TlsStream). A failed handshake still hands over its stream (for
// error(): message and alert; close it); earlier failures an empty one. Errors: resolution
// (asio's netdb errors, e.g. host_not_found), connect (connection_refused, timed_out), an
// invalid session option or a non-client context (ERR_INVALID_ARG_VALUE), the handshake's
// (a certificate code such as DEPTH_ZERO_SELF_SIGNED_CERT, errc::handshake_timeout, ...).
// Terminal cancellation is supported.
// |host| and |options| are copied before AsyncConnect returns.
//
// GCC 12 miscompiles a braced temporary of a class with std::string members inside a
// co_await expression (it is copied bitwise, then freed twice): in coroutines, pass a named
// ConnectOptions, not `{}` or `{.session = ...}`.
template <typename Token>
auto AsyncConnect(const asio::any_io_executor& executor, std::string_view host, uint16_t port,
                  const std::shared_ptr<const Context>& context, const ConnectOptions& options,
                  Token&& token) {
  return asio::async_compose<Token, void(std::error_code, TlsStream)>(
      detail::ConnectOp(executor, std::string(host), port, context, options), token, executor);
}

}  // namespace sansio_tls::asio_tls

#endif  // SANSIO_TLS_TRANSPORTS_ASIO_CONNECT_H_
