// The Asio transport on 127.0.0.1, in coroutines on one io_context: the server echoes until
// the client's close_notify, the client connects, sends, reads the echo and shuts down.
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <system_error>

#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "check.h"
#include "sansio_tls/transports/asio/connect.h"
#include "sansio_tls/transports/asio/server.h"
#include "sansio_tls/transports/asio/stream.h"

namespace {

using namespace sansio_tls;

asio::awaitable<void> Echo(asio_tls::TlsStream stream) {
  char buf[4096];
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(
        asio::buffer(buf), asio::experimental::as_tuple(asio::use_awaitable));
    if (ec == asio::error::eof) break;  // the client's close_notify
    CHECK(!ec, ec.message());
    co_await asio::async_write(stream, asio::buffer(buf, n), asio::use_awaitable);
  }
  co_await stream.async_shutdown(std::chrono::seconds(5), asio::use_awaitable);
}

asio::awaitable<void> Client(std::shared_ptr<asio_tls::Server> server,
                             std::shared_ptr<const Context> context, bool* done) {
  asio_tls::ConnectOptions options;  // named, not braced (see connect.h)
  options.session.servername = "localhost";
  auto tls = co_await asio_tls::AsyncConnect(co_await asio::this_coro::executor, "127.0.0.1",
                                             server->port(), context, options, asio::use_awaitable);
  const std::string message = "hello over asio";
  co_await asio::async_write(tls, asio::buffer(message), asio::use_awaitable);
  std::string echoed(message.size(), '\0');
  co_await asio::async_read(tls, asio::buffer(echoed), asio::use_awaitable);
  CHECK(echoed == message, echoed);
  co_await tls.async_shutdown(std::chrono::seconds(5), asio::use_awaitable);
  server->Close();
  *done = true;
}

}  // namespace

int main() {
  Contexts ctx = MakeContexts();
  asio::io_context ioc;
  auto server =
      asio_tls::Server::Listen(ioc, ctx.server, {.host = "127.0.0.1", .port = 0},
                               {.secure_connection = [](asio_tls::TlsStream stream) {
                                 auto executor = stream.get_executor();
                                 asio::co_spawn(executor, Echo(std::move(stream)), asio::detached);
                               }});
  CHECK(server.ok(), server.error().message);
  bool done = false;
  asio::co_spawn(ioc, Client(server.value(), ctx.client, &done), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  ioc.run_for(std::chrono::seconds(20));
  CHECK(done, "the client did not finish within 20 s");
  std::printf("asio: handshake and echo over 127.0.0.1 ok\n");
  return 0;
}
