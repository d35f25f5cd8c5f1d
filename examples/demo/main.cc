// demo: the seed's createSecurePair story with no sockets. A client and a server session
// talk through the in-memory pair with an ephemeral certificate; the events of both sides
// are printed, then a line goes to the server and is echoed back. Then the same echo over
// loopback TCP with the chosen transport (asio.cc, posix.cc or uv.cc beside this file).
#include <cstdio>
#include <string>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"
#include "examples/common/cli.h"
#include "examples/demo/demo.h"

using namespace sansio_tls;
using namespace sansio_tls::examples;
using namespace sansio_tls::examples::demo;
using testing::Side;

namespace {

void PrintEvents(testing::Pair& pair, size_t (&seen)[2]) {
  for (Side side : {Side::kClient, Side::kServer}) {
    const auto& events = pair.events(side);
    size_t& i = seen[side == Side::kClient ? 0 : 1];
    for (; i < events.size(); ++i) {
      const Event& e = events[i];
      std::printf("  [%s] %s", testing::SideName(side), EventKindName(e.kind()));
      if (e.kind() == EventKind::kHandshakeDone) {
        const HandshakeInfo& h = e.get<HandshakeInfo>();
        std::printf(": %s %s, %s%s%s, servername=%s, alpn=%s", std::string(h.protocol()).c_str(),
                    std::string(h.cipher).c_str(), h.authorized ? "authorized" : "unauthorized",
                    h.authorization_error.empty() ? "" : " ", h.authorization_error.c_str(),
                    h.servername.empty() ? "(none)" : h.servername.c_str(),
                    h.alpn_protocol.value_or("none").c_str());
      } else if (e.kind() == EventKind::kError) {
        std::printf(": %s (%s)", e.get<Error>().code.c_str(), e.get<Error>().message.c_str());
      }
      std::printf("\n");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("demo",
          "A client and a server session talking in memory, event by event, then the same "
          "echo over loopback TCP.");
  std::string transport = "asio";
  cli.AddTransport(&transport);
  if (auto exit_status = cli.Parse(argc, argv)) return *exit_status;

  std::printf("sansio-tls demo: a secure pair in memory (no sockets)\n");
  // An ephemeral CA and a server certificate for "localhost".
  testing::TestPki pki = testing::MakeTestPki();

  auto server_ctx = Context::Create(ServerContextOptions{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()}});
  if (!server_ctx) return Fail("demo: server context", server_ctx.error());
  auto client_ctx = Context::Create(ClientContextOptions{.ca_pems = {pki.root.cert_pem}});
  if (!client_ctx) return Fail("demo: client context", client_ctx.error());

  auto pair =
      testing::Pair::Create(client_ctx.value(), server_ctx.value(), {.servername = "localhost"});
  if (!pair) return Fail("demo: pair", pair.error());
  size_t seen[2] = {0, 0};

  std::printf("handshake:\n");
  bool ok = (*pair)->Handshake();
  PrintEvents(**pair, seen);
  if (!ok) return kExitFailure;
  std::printf("client connected %s\n",
              (*pair)->client().authorized() ? "authorized" : "unauthorized");

  std::printf("server writes \"welcome!\\n\", client sends a line, server echoes it:\n");
  (*pair)->Write(Side::kServer, kWelcome);
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
  if (!clean) return kExitFailure;
  std::fflush(stdout);

  if (transport == "posix") return RunPosix(*server_ctx, *client_ctx);
  if (transport == "uv") return RunUv(*server_ctx, *client_ctx);
  return RunAsio(*server_ctx, *client_ctx);
}
