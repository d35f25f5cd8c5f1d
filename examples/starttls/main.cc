// starttls: a small plaintext line protocol that upgrades to TLS on STARTTLS (the
// conversation is in starttls.h), both ends in one process over 127.0.0.1 by default;
// --mode=server serves with an ephemeral certificate, --mode=client talks to one. Bytes a
// line reader read past "STARTTLS"/"220 go ahead" are handed to the TLS session: they are
// its first TLS bytes. `--help` lists the flags; the transports' code is beside this file.
#include <string>
#include <vector>

#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "examples/common/cli.h"
#include "examples/common/output.h"
#include "examples/starttls/starttls.h"

using namespace sansio_tls;
using namespace sansio_tls::examples;
using namespace sansio_tls::examples::starttls;

int main(int argc, char** argv) {
  Cli cli("starttls", "A plaintext line protocol upgraded to TLS on STARTTLS, both ends.");
  StartTlsConfig config{.mode = "both", .host = "127.0.0.1"};
  std::string transport = "asio";
  std::vector<std::string> ca;
  bool reject_unauthorized = true;
  int port = -1;  // unset
  cli.AddTransport(&transport);
  CLI::App& app = cli.app();
  app.add_option("--mode", config.mode,
                 "both: the two ends in one process; server; client (to --host:--port)")
      ->type_name("MODE")
      ->check(CLI::IsMember({"both", "server", "client"}).description(""));
  app.add_option("--host", config.host, "address to listen on or connect to")->type_name("ADDRESS");
  app.add_option("--port", port, "port (0: any free port)")
      ->type_name("PORT")
      ->default_str("8025 with --mode=server, else 0")
      ->check(CLI::Range(0, 65535).description(""));
  cli.AddFiles("--ca", &ca, "client: CA certificates (PEM) the server is checked against");
  cli.AddBool("--reject-unauthorized", &reject_unauthorized,
              "client: refuse a server whose certificate does not verify");
  if (auto exit_status = cli.Parse(argc, argv)) return *exit_status;
  config.port = static_cast<uint16_t>(port >= 0 ? port : config.mode == "server" ? 8025 : 0);

  if (config.mode == "client") {
    ClientContextOptions options{.reject_unauthorized = reject_unauthorized};
    std::string error;
    for (const std::string& path : ca) {
      auto pem = ReadFile(path, &error);
      if (!pem) return cli.Usage(error);
      options.ca_pems.push_back(*pem);
    }
    auto context = Context::Create(options);
    if (!context.ok()) return cli.Usage(context.error().message);
    config.client_context = *context;
  } else {
    // An ephemeral PKI; in both mode the client trusts its root.
    testing::TestPki pki = testing::MakeTestPki();
    auto server = Context::Create(ServerContextOptions{
        .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()}});
    if (!server.ok()) return Fail(server.error().message);
    config.server_context = *server;
    config.root_fingerprint = Sha256Fingerprint(pki.root.der);
    auto client = Context::Create(ClientContextOptions{.ca_pems = {pki.root.cert_pem}});
    if (!client.ok()) return Fail(client.error().message);
    config.client_context = *client;
  }

  if (transport == "posix") return RunPosix(config);
  if (transport == "uv") return RunUv(config);
  return RunAsio(config);
}
