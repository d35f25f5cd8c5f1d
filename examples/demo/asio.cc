// demo over Asio: the server and a client coroutine on one io_context.
#include <memory>
#include <string>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/write.hpp>

#include "examples/common/asio_util.h"
#include "examples/common/cli.h"
#include "examples/demo/demo.h"
#include "transports/asio/connect.h"
#include "transports/asio/server.h"

namespace sansio_tls::examples::demo {

using namespace std::chrono_literals;
using asio_tls::TlsStream;

int RunAsio(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx) {
  PrintTitle("Asio transport, server and client on one io_context");
  asio::io_context ioc;
  asio_tls::ServerCallbacks callbacks;
  callbacks.secure_connection = [](TlsStream tls) {
    PrintServerSecure(tls.handshake_info());
    auto ex = tls.get_executor();
    asio::co_spawn(ex, AsioEcho(std::move(tls), kWelcome, 30s), asio::detached);
  };
  callbacks.client_error = [](const asio_tls::ClientErrorInfo& info) {
    PrintServerClientError(info.error);
  };
  auto server =
      asio_tls::Server::Listen(ioc, server_ctx, {.host = "127.0.0.1", .port = 0}, callbacks);
  if (!server.ok()) return Fail("demo: listen", server.error());
  std::shared_ptr<asio_tls::Server> s = server.value();
  PrintListening(s->port());

  int rc = 1;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        asio_tls::ConnectOptions options;  // named: see AsyncConnect about GCC 12
        options.session.servername = "localhost";
        auto ex = co_await asio::this_coro::executor;
        auto [ec, tls] = co_await asio_tls::AsyncConnect(ex, "127.0.0.1", s->port(), client_ctx,
                                                         options, kAsTuple);
        if (ec) {
          rc = Fail("demo: connect", ErrorOf(&tls, ec));
          s->Close();
          co_return;
        }
        PrintClientSecure(tls.handshake_info());
        std::string got;
        co_await asio::async_write(tls, asio::buffer(kLine, sizeof kLine - 1), kAsTuple);
        while (got.size() < kExpectedBytes) {
          char buf[256];
          auto [rec, n] = co_await tls.async_read_some(asio::buffer(buf), kAsTuple);
          if (rec) break;
          got.append(buf, n);
        }
        // Our close_notify, then the server's answer to it.
        auto [sec] = co_await tls.async_shutdown(10s, kAsTuple);
        rc = ClientResult(got, !sec);
        s->Close();
      },
      asio::detached);
  ioc.run();
  return rc;
}

}  // namespace sansio_tls::examples::demo
