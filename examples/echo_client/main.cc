// echo_client: the seed's client. Connects, prints "client connected authorized|
// unauthorized" (stderr), copies stdin to the connection and received data to stdout until
// stdin ends, then closes cleanly and waits (bounded) for the server's close. With --json,
// events go to stderr as JSON lines (secureConnect, error, end); data stays on stdout.
// `--help` lists the flags; the transport's code is in asio.cc, posix.cc or uv.cc.
#include <string>

#include "core/context.h"
#include "core/resumption.h"
#include "examples/common/cli.h"
#include "examples/echo_client/echo_client.h"

using namespace sansio_tls;
using namespace sansio_tls::examples;
using namespace sansio_tls::examples::echo_client;

int main(int argc, char** argv) {
  Cli cli("echo_client",
          "A TLS client: stdin to the server, the server's data to stdout, events on stderr.",
          "Exit status: 0 a clean end; 1 a connect, handshake or authorization failure; 2 a "
          "bad flag or value;\n3 the connection did not end cleanly (truncated, reset, "
          "timeout).");
  EchoClientConfig config;
  std::string transport = "asio", session_in, session_out;
  TlsFlags tls;
  cli.AddTransport(&transport);
  CLI::App& app = cli.app();
  cli.AddHostPort(&config.host, "server address or name", &config.port, "server port");
  app.add_option("--servername", config.session.servername,
                 "SNI name, also the name checked in the certificate (none: --host)")
      ->type_name("NAME");
  tls.Add(cli, Role::kClient);
  app.add_option("--session-out", session_out,
                 "write the server's newest resumable session to this file at the end")
      ->type_name("FILE");
  cli.AddFile("--session-in", &session_in, "resume the session saved in this file");
  cli.AddMilliseconds("--end-timeout-ms", &config.end_timeout,
                      "how long our close waits for the server's");
  cli.AddBool("--json", &config.json, "events as JSON lines on stderr");
  if (auto exit_status = cli.Parse(argc, argv)) return *exit_status;
  if (!session_out.empty()) config.session_out = session_out;

  ClientContextOptions options{};
  if (auto error = tls.Apply(&options)) return cli.Usage(*error);
  config.session.ech_config_list = tls.ech_config_list;
  tls.ApplySession(&config.session);
  auto context = Context::Create(options);
  if (!context.ok()) return cli.Usage(context.error().code + ": " + context.error().message);
  config.context = *context;
  if (!session_in.empty()) {
    std::string error;
    auto bytes = ReadFile(session_in, &error);
    if (!bytes) return cli.Usage(error);
    auto saved =
        SavedSession::FromBytes({reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()});
    if (!saved.ok()) return cli.Usage("--session-in: " + saved.error().message);
    config.session.session = saved.value();
  }

  if (transport == "posix") return RunPosix(config);
  if (transport == "uv") return RunUv(config);
  return RunAsio(config);
}
