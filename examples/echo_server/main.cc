// echo_server: the seed's echo server. On each secure connection it prints
// "server connected authorized|unauthorized", writes "welcome!\n" and echoes everything
// back. With --json, stdout carries one JSON object per line instead (listening,
// secureConnection, clientError, drop, ticketKeys). SIGINT/SIGTERM close it gracefully;
// SIGHUP reloads --ticket-keys files. --workers=N forks N processes sharing the port
// (SO_REUSEPORT). `--help` lists the flags; the transport's code is in asio.cc, posix.cc or
// uv.cc beside this file, the fleet helpers in examples/common/fleet.h.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "examples/common/cli.h"
#include "examples/common/fleet.h"
#include "examples/common/output.h"
#include "examples/echo_server/echo_server.h"

using namespace sansio_tls;
using namespace sansio_tls::examples;
using namespace sansio_tls::examples::echo_server;

int main(int argc, char** argv) {
  Cli cli("echo_server",
          "A TLS echo server: writes \"welcome!\\n\" on each secure connection, then echoes "
          "what it receives.");
  EchoServerConfig config;
  std::string transport = "asio", pfx, keylog_path;
  TlsFlags tls;
  std::vector<std::string> sni;
  bool request_cert = false, external_key = false;
  cli.AddTransport(&transport);
  CLI::App& app = cli.app();
  cli.AddHostPort(&config.host, "address to listen on", &config.port,
                  "port to listen on (0: any free port)");
  tls.Add(cli, Role::kServer);
  cli.AddFile("--pfx", &pfx, "PKCS#12 identity (key and chain) instead of --key/--cert");
  app.add_option("--sni", sni, "another identity for client names matching PATTERN (*.example.com)")
      ->type_name("PATTERN,KEYFILE,CERTFILE")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cli.AddBool("--request-cert", &request_cert, "ask clients for a certificate");
  cli.AddBool("--external-key", &external_key,
              "keep the private key out of the TLS code: a signer thread (an HSM stand-in) "
              "answers each signing request (Credentials::external_key)");
  app.add_option("--max-connections", config.max_connections,
                 "most connections at once; more are dropped (0: no limit)")
      ->type_name("N")
      ->check(CLI::Range(size_t{0}, size_t{1} << 30).description(""));
  cli.AddMilliseconds("--handshake-timeout-ms", &config.handshake_timeout,
                      "a handshake not done in this time is a clientError (0: no limit)");
  app.add_option("--keylog", keylog_path, "append NSS key-log lines (secrets!) to this file")
      ->type_name("FILE");
  cli.AddBool("--json", &config.json, "one JSON object per line on stdout instead of text");
  app.add_option("--threads", config.threads, "asio: io_contexts, one per thread")
      ->type_name("N")
      ->check(CLI::Range(1, 256).description(""));
  int workers = 1;
  app.add_option("--workers", workers,
                 "processes sharing the port (SO_REUSEPORT); the first process only supervises")
      ->type_name("N")
      ->check(CLI::Range(1, 64).description(""));
  std::string redis_address;
  app.add_option("--redis", redis_address,
                 "keep TLS 1.2 sessions in this Redis, shared by a fleet (docs/fleet.md)")
      ->type_name("unix:PATH|HOST:PORT");
  int redis_timeout_ms = 100;
  app.add_option("--redis-timeout-ms", redis_timeout_ms,
                 "bound on each Redis call; slower is a miss (full handshake)")
      ->type_name("MS")
      ->check(CLI::Range(1, 60'000).description(""));
  int redis_retry_ms = 1000;
  app.add_option("--redis-retry-ms", redis_retry_ms,
                 "after a Redis failure, how long until it is tried again (meanwhile: misses)")
      ->type_name("MS")
      ->check(CLI::Range(1, 600'000).description(""));
  bool early_data = false;
  cli.AddBool("--early-data", &early_data,
              "accept TLS 1.3 0-RTT (with --redis: only tickets no server of the fleet saw)");
  bool session_tickets = true;
  cli.AddBool("--session-tickets", &session_tickets,
              "issue session tickets (false: TLS 1.2 resumes by session ID only)");
  std::vector<std::string> ticket_key_files;
  cli.AddFiles("--ticket-keys", &ticket_key_files,
               "ticket keys shared by a fleet (docs/fleet.md; nginx 48/80-byte files too); "
               "repeatable, the first key seals; reloaded on SIGHUP");
  if (auto exit_status = cli.Parse(argc, argv)) return *exit_status;

  ServerContextOptions options{.request_cert = request_cert};
  if (auto error = tls.Apply(&options)) return cli.Usage(*error);
  tls.ApplySession(&config.session);
  std::string error;
  if (!pfx.empty()) {
    if (!tls.key.empty()) return cli.Usage("--pfx replaces --key/--cert");
    auto bytes = ReadFile(pfx, &error);
    if (!bytes) return cli.Usage(error);
    options.credentials.pfx.assign(bytes->begin(), bytes->end());
    options.credentials.passphrase = tls.passphrase;
  } else if (tls.key.empty()) {
    testing::Cert self = testing::MakeSelfSigned({.subject = {{"CN", "localhost"}},
                                                  .dns_names = {"localhost"},
                                                  .ip_addresses = {"127.0.0.1", "::1"}});
    options.credentials = {.key_pem = self.key_pem, .cert_chain_pem = self.cert_pem};
    config.fingerprint = Sha256Fingerprint(self.der);
  }
  for (const std::string& spec : sni) {
    std::vector<std::string> parts = SplitCommas(spec);
    if (parts.size() != 3) return cli.Usage("--sni takes PATTERN,KEYFILE,CERTFILE");
    auto key = ReadFile(parts[1], &error);
    auto cert = ReadFile(parts[2], &error);
    if (!key || !cert) return cli.Usage(error);
    options.sni_contexts.push_back(
        {.pattern = parts[0],
         .credentials = {.key_pem = *key, .passphrase = tls.passphrase, .cert_chain_pem = *cert},
         .ca_pems = options.ca_pems});
  }
  // --external-key: the context gets the chain only; the key goes to the signer thread.
  std::unique_ptr<Signer> signer;
  if (external_key) {
    if (!pfx.empty()) return cli.Usage("--external-key takes --key/--cert, not --pfx");
    const Credentials& c = options.credentials;
    bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(c.key_pem.data(), static_cast<int>(c.key_pem.size())));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr,
                                            const_cast<char*>(c.passphrase.c_str()));
    if (!key) return cli.Usage("--external-key: cannot read the private key");
    signer = std::make_unique<Signer>(std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free));
    options.credentials.key_pem.clear();
    options.credentials.passphrase.clear();
    options.credentials.external_key = "echo_server";
    config.signer = signer.get();
  }
  KeyLogFile keylog;
  if (!keylog_path.empty()) {
    if (!keylog.Open(keylog_path)) return cli.Usage("cannot open --keylog file " + keylog_path);
    options.key_log = true;
    config.keylog = &keylog;
  }
  options.session_tickets = session_tickets;
  options.early_data = early_data;
  if (!redis_address.empty()) {
    redis::Options r;
    if (!ParseRedisAddress(redis_address, &r.host, &r.port, &r.unix_socket)) {
      return cli.Usage("--redis takes unix:PATH or HOST:PORT, not " + redis_address);
    }
    r.timeout = std::chrono::milliseconds(redis_timeout_ms);
    r.retry_interval = std::chrono::milliseconds(redis_retry_ms);
    r.on_status = [json = config.json](const std::optional<Error>& e) {
      PrintSessionStore(e, json);
    };
    config.redis = std::move(r);
    options.session_cache = SessionCacheMode::kExternal;
    options.early_data_check = early_data;  // anti-replay across the fleet
  }
  std::shared_ptr<TicketKeys> ticket_keys;
  if (!ticket_key_files.empty()) {
    auto keys = TicketKeys::FromFiles(ticket_key_files);
    if (!keys.ok()) return cli.Usage(keys.error().code + ": " + keys.error().message);
    ticket_keys = *keys;
    options.ticket_keys = ticket_keys;
  }
  auto context = Context::Create(options);
  if (!context.ok()) return cli.Usage(context.error().code + ": " + context.error().message);
  config.context = *context;

  auto serve = [&](int /*worker*/) {
    std::optional<TicketKeyReloader> reloader;  // before any thread: they inherit its mask
    if (ticket_keys) reloader.emplace(ticket_keys, ticket_key_files, config.json);
    if (transport == "posix") return RunPosix(config);
    if (transport == "uv") return RunUv(config);
    return RunAsio(config);
  };
  if (workers == 1) return serve(0);
  config.reuse_port = true;
  return RunWorkers(workers, config.host, &config.port, serve);
}
