// remote_signer: see remote_signer.h. The signer and the client are threads of this
// process; the server runs on the chosen transport.
#include <cstdio>
#include <string>

#include "core/testing/cert_factory.h"
#include "core/testing/key_signer.h"
#include "examples/common/cli.h"
#include "examples/remote_signer/remote_signer.h"
#include "transports/posix/connection.h"

using namespace sansio_tls;
using namespace sansio_tls::examples;
using namespace sansio_tls::examples::remote_signer;

namespace sansio_tls::examples::remote_signer {

int RunClient(uint16_t port, std::shared_ptr<const Context> client_ctx) {
  posix::ConnectOptions o;
  o.session.servername = "localhost";
  o.handshake_timeout = std::chrono::seconds(10);
  auto conn = posix::Connect("127.0.0.1", port, client_ctx, o);
  if (!conn) return Fail("remote_signer: client", conn.error());
  posix::Connection& c = **conn;
  c.set_timeout(std::chrono::seconds(10));
  const HandshakeInfo& h = c.handshake_info();
  std::printf("client: %s %s, %s, server signed with 0x%04x\n", std::string(h.protocol()).c_str(),
              std::string(h.cipher).c_str(), h.authorized ? "authorized" : "unauthorized",
              h.peer_signature_algorithm);
  std::string got;
  auto w = c.Write({reinterpret_cast<const uint8_t*>(kLine), sizeof kLine - 1});
  uint8_t buf[256];
  while (w.ok() && got.size() < sizeof kLine - 1) {
    auto r = c.Read(buf);
    if (!r.ok() || *r == 0) break;
    got.append(reinterpret_cast<char*>(buf), *r);
  }
  c.End();
  std::printf("client received: %s", got.c_str());
  return got == kLine ? kExitOk : kExitFailure;
}

}  // namespace sansio_tls::examples::remote_signer

int main(int argc, char** argv) {
  Cli cli("remote_signer",
          "A TLS server whose private key stays with a signer thread (an HSM stand-in): each "
          "handshake pauses for a signature, answered from that thread. One client connects "
          "over loopback and has a line echoed.");
  std::string transport = "asio";
  cli.AddTransport(&transport);
  if (auto exit_status = cli.Parse(argc, argv)) return *exit_status;

  testing::TestPki pki = testing::MakeTestPki();
  // The server's context: the chain only. The key is handed to the signer alone.
  ServerContextOptions server{.credentials = {.cert_chain_pem = pki.server_chain_pem()}};
  server.credentials.external_key = "signer:localhost";
  auto server_ctx = Context::Create(server);
  if (!server_ctx) return Fail("remote_signer: server context", server_ctx.error());
  auto client_ctx = Context::Create(ClientContextOptions{.ca_pems = {pki.root.cert_pem}});
  if (!client_ctx) return Fail("remote_signer: client context", client_ctx.error());

  Signer signer(pki.server.key, [](const Event& request, const std::vector<uint8_t>& result) {
    const auto* sign = request.get_if<event::SignRequest>();
    const std::string& label =
        sign ? sign->key_label : request.get<event::DecryptRequest>().key_label;
    std::printf("signer thread: %s with algorithm 0x%04x for key \"%s\": %zu bytes\n",
                EventKindName(request.kind()), sign ? sign->signature_algorithm : 0, label.c_str(),
                result.size());
    std::fflush(stdout);
  });
  std::printf("remote_signer over %s: the server holds no private key\n", transport.c_str());
  int rc = transport == "posix" ? RunPosix(*server_ctx, *client_ctx, signer)
           : transport == "uv"  ? RunUv(*server_ctx, *client_ctx, signer)
                                : RunAsio(*server_ctx, *client_ctx, signer);
  std::printf("signatures made by the signer thread: %d\n", signer.answered());
  return rc == kExitOk && signer.answered() == 1 ? kExitOk : kExitFailure;
}
