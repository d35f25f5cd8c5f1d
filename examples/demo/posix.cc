// demo over the POSIX transport: an epoll server on a thread, a blocking client.
#include <memory>
#include <string>
#include <thread>

#include "examples/common/cli.h"
#include "examples/common/posix_echo.h"
#include "examples/demo/demo.h"
#include "transports/posix/connection.h"
#include "transports/posix/server.h"

namespace sansio_tls::examples::demo {

int RunPosix(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx) {
  PrintTitle("POSIX transport, epoll server on a thread");
  posix::ServerCallbacks callbacks;
  callbacks.secure_connection = [](posix::Connection& conn) {
    PrintServerSecure(conn.handshake_info());
    conn.TryWrite({reinterpret_cast<const uint8_t*>(kWelcome), sizeof kWelcome - 1});
    return std::make_unique<PosixEcho>();
  };
  callbacks.client_error = [](const posix::ClientErrorInfo& info) {
    PrintServerClientError(info.error);
  };
  auto server = posix::Server::Listen(server_ctx, {.host = "127.0.0.1", .port = 0}, callbacks);
  if (!server) return Fail("demo: listen", server.error());
  PrintListening((*server)->port());
  std::thread loop([&] { (*server)->Run(); });

  int rc = 1;
  auto conn = posix::Connect("127.0.0.1", (*server)->port(), client_ctx,
                             {.session = {.servername = "localhost"}});
  if (!conn) {
    rc = Fail("demo: connect", conn.error());
  } else {
    posix::Connection& c = **conn;
    c.set_timeout(std::chrono::seconds(10));
    PrintClientSecure(c.handshake_info());
    std::string got;
    auto w = c.Write({reinterpret_cast<const uint8_t*>(kLine), sizeof kLine - 1});
    uint8_t buf[256];
    while (w.ok() && got.size() < kExpectedBytes) {
      auto r = c.Read(buf);
      if (!r.ok() || *r == 0) break;
      got.append(reinterpret_cast<char*>(buf), *r);
    }
    auto end = c.End();
    auto last = c.Read(buf);  // 0: the server's close_notify
    rc = ClientResult(got, !end && last.ok() && *last == 0);
  }
  (*server)->Close(std::chrono::seconds(5));
  loop.join();
  return rc;
}

}  // namespace sansio_tls::examples::demo
