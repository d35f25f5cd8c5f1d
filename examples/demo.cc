// demo: the seed's createSecurePair story with no sockets. A client and a server session
// talk through the in-memory pair with an ephemeral certificate; the events of both sides
// are printed, then a line goes to the server and is echoed back. Then the same echo over
// loopback TCP with the Asio transport (server and client coroutines on one io_context), or
// with --transport=posix the POSIX one: an epoll server on a thread, a blocking client, or
// with --transport=uv the libuv one (server and client on one loop).
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "examples/asio_backend.h"
#include "examples/uv_backend.h"
#include "core/testing/pair.h"
#include "transports/posix/connection.h"
#include "transports/posix/server.h"

using namespace sansio_tls;
using testing::Side;

namespace {

void PrintEvents(testing::Pair& pair, size_t (&seen)[2]) {
  for (Side side : {Side::kClient, Side::kServer}) {
    const auto& events = pair.events(side);
    size_t& i = seen[side == Side::kClient ? 0 : 1];
    for (; i < events.size(); ++i) {
      const Event& e = events[i];
      std::printf("  [%s] %s", testing::SideName(side), EventKindName(e.kind));
      if (e.kind == EventKind::kHandshakeDone) {
        const HandshakeInfo& h = e.handshake;
        std::printf(": %s %s, %s%s%s, servername=%s, alpn=%s", h.protocol.c_str(),
                    h.cipher.c_str(), h.authorized ? "authorized" : "unauthorized",
                    h.authorization_error.empty() ? "" : " ",
                    h.authorization_error.c_str(),
                    h.servername.empty() ? "(none)" : h.servername.c_str(),
                    h.alpn_protocol.c_str());
      } else if (e.kind == EventKind::kError) {
        std::printf(": %s (%s)", e.error.code.c_str(), e.error.message.c_str());
      }
      std::printf("\n");
    }
  }
}

int Fail(const std::string& what, const Error& e) {
  std::fprintf(stderr, "demo: %s: %s: %s\n", what.c_str(), e.code.c_str(), e.message.c_str());
  return 1;
}

// Echoes whatever arrives, after a welcome line.
class Echo : public posix::ConnectionHandler {
 public:
  void OnData(posix::Connection& conn) override {
    uint8_t buf[4096];
    while (size_t n = conn.TryRead(buf)) conn.TryWrite({buf, n});  // small lines: never full
  }
};

int LoopbackEcho(std::shared_ptr<const Context> server_ctx,
                 std::shared_ptr<const Context> client_ctx) {
  std::printf("\nthe same over loopback TCP (POSIX transport, epoll server on a thread):\n");
  posix::ServerCallbacks callbacks;
  callbacks.secure_connection = [](posix::Connection& conn) {
    const HandshakeInfo& h = conn.handshake_info();
    std::printf("  [server] secureConnection: %s %s, servername=%s\n", h.protocol.c_str(),
                h.cipher.c_str(), h.servername.c_str());
    std::string welcome = "welcome!\n";
    conn.TryWrite({reinterpret_cast<const uint8_t*>(welcome.data()), welcome.size()});
    return std::make_unique<Echo>();
  };
  callbacks.client_error = [](const posix::ClientErrorInfo& info) {
    std::printf("  [server] clientError: %s\n", info.error.code.c_str());
  };
  auto server = posix::Server::Listen(server_ctx, {.host = "127.0.0.1", .port = 0}, callbacks);
  if (!server) return Fail("listen", server.error());
  std::printf("  [server] listening on 127.0.0.1:%u\n", (*server)->port());
  std::thread loop([&] { (*server)->Run(); });

  int rc = 1;
  auto conn = posix::Connect("127.0.0.1", (*server)->port(), client_ctx,
                             {.session = {.servername = "localhost"}});
  if (!conn) {
    Fail("connect", conn.error());
  } else {
    posix::Connection& c = **conn;
    c.set_timeout(std::chrono::seconds(10));
    std::printf("  [client] secureConnect: %s, %s\n", c.handshake_info().protocol.c_str(),
                c.handshake_info().authorized ? "authorized" : "unauthorized");
    std::string line = "hello over TCP\n", got;
    auto w = c.Write({reinterpret_cast<const uint8_t*>(line.data()), line.size()});
    uint8_t buf[256];
    while (w.ok() && got.size() < 9 + line.size()) {  // "welcome!\n" + the echo
      auto r = c.Read(buf);
      if (!r.ok() || *r == 0) break;
      got.append(reinterpret_cast<char*>(buf), *r);
    }
    std::printf("  [client] received: %s", got.c_str());
    auto end = c.End();
    auto last = c.Read(buf);  // 0: the server's close_notify
    bool closed = !end && last.ok() && *last == 0;
    std::printf("  [client] %s\n", closed ? "closed cleanly both ways" : "did not close cleanly");
    rc = got == "welcome!\n" + line && closed ? 0 : 1;
  }
  (*server)->Close(std::chrono::seconds(5));
  loop.join();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  std::string transport = "asio";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--transport=asio" || arg == "--transport=posix" || arg == "--transport=uv") {
      transport = arg.substr(12);
    } else {
      std::fprintf(stderr, "demo: usage: demo [--transport=asio|posix|uv]\n");
      return 2;
    }
  }
  std::printf("sansio-tls demo: a secure pair in memory (no sockets)\n");
  // An ephemeral CA and a server certificate for "localhost".
  testing::TestPki pki = testing::MakeTestPki();

  auto server_ctx = Context::Create({.role = Role::kServer,
                                     .credentials = {.key_pem = pki.server.key_pem,
                                                     .cert_chain_pem = pki.server_chain_pem()}});
  if (!server_ctx) return Fail("server context", server_ctx.error());
  auto client_ctx = Context::Create({.role = Role::kClient, .ca_pems = {pki.root.cert_pem}});
  if (!client_ctx) return Fail("client context", client_ctx.error());

  auto pair = testing::Pair::Create(client_ctx.value(), server_ctx.value(),
                                    {.servername = "localhost"});
  if (!pair) return Fail("pair", pair.error());
  size_t seen[2] = {0, 0};

  std::printf("handshake:\n");
  bool ok = (*pair)->Handshake();
  PrintEvents(**pair, seen);
  if (!ok) return 1;
  std::printf("client connected %s\n",
              (*pair)->client().authorized() ? "authorized" : "unauthorized");

  std::printf("server writes \"welcome!\\n\", client sends a line, server echoes it:\n");
  (*pair)->Write(Side::kServer, "welcome!\n");
  (*pair)->Write(Side::kClient, "hello, secure pair\n");
  (*pair)->Pump();
  std::string line = (*pair)->TakeReceived(Side::kServer);
  (*pair)->Write(Side::kServer, line);  // the echo
  (*pair)->Pump();
  PrintEvents(**pair, seen);
  std::printf("  client received: %s", (*pair)->received(Side::kClient).c_str());

  std::printf("client closes:\n");
  (*pair)->client().Close();
  (*pair)->Pump();
  (*pair)->server().Close();
  (*pair)->Pump();
  PrintEvents(**pair, seen);
  bool clean = (*pair)->client().finished() && (*pair)->server().finished();
  std::printf("%s\n", clean ? "closed cleanly both ways" : "did not close cleanly");
  if (!clean) return 1;
  if (transport == "asio") {
    return examples::asio_backend::DemoLoopback(server_ctx.value(), client_ctx.value());
  }
  if (transport == "uv") {
    return examples::uv_backend::DemoLoopback(server_ctx.value(), client_ctx.value());
  }
  return LoopbackEcho(server_ctx.value(), client_ctx.value());
}
