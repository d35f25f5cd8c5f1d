// The POSIX transport on 127.0.0.1: an epoll server echoing on its own thread, a blocking
// client that sends a message, reads it back and ends cleanly.
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "check.h"
#include "sansio_tls/transports/posix/connection.h"
#include "sansio_tls/transports/posix/server.h"

namespace {

using namespace sansio_tls;

class Echo : public posix::ConnectionHandler {
 public:
  void OnData(posix::Connection& conn) override {
    uint8_t buf[4096];
    while (size_t n = conn.TryRead(buf)) conn.TryWrite({buf, n});
  }
};

}  // namespace

int main() {
  Contexts ctx = MakeContexts();
  auto server = posix::Server::Listen(
      ctx.server, {.host = "127.0.0.1", .port = 0},
      {.secure_connection = [](posix::Connection&) { return std::make_unique<Echo>(); }});
  CHECK(server.ok(), server.error().message);
  std::thread loop([&] { server.value()->Run(); });

  auto conn = posix::Connect("127.0.0.1", server.value()->port(), ctx.client,
                             {.session = {.servername = "localhost"}});
  CHECK(conn.ok(), conn.error().message);
  posix::Connection& c = *conn.value();
  const std::string message = "hello over posix";
  auto written = c.Write({reinterpret_cast<const uint8_t*>(message.data()), message.size()});
  CHECK(written.ok() && written.value() == message.size(), "write");
  std::string echoed;
  while (echoed.size() < message.size()) {
    uint8_t buf[256];
    auto n = c.Read(buf);
    CHECK(n.ok() && n.value() > 0, n.ok() ? "eof" : n.error().message);
    echoed.append(reinterpret_cast<const char*>(buf), n.value());
  }
  CHECK(echoed == message, echoed);
  auto end = c.End();
  CHECK(!end, end ? end->message : "");
  uint8_t rest[16];
  auto last = c.Read(rest);  // 0: the server's close_notify, a clean end both ways
  CHECK(last.ok() && last.value() == 0, last.ok() ? "unexpected data" : last.error().message);
  conn.value().reset();

  server.value()->Close(std::chrono::seconds(5));
  loop.join();
  std::printf("posix: handshake and echo over 127.0.0.1 ok\n");
  return 0;
}
