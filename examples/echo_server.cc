// echo_server: the seed's echo server. On each secure connection it prints
// "server connected authorized|unauthorized", writes "welcome!\n" and echoes everything
// back. With --json, stdout carries one JSON object per line instead (listening,
// secureConnection, clientError, drop). SIGINT/SIGTERM close it gracefully.
//
//   echo_server [--transport=asio|posix|uv] [--host=127.0.0.1] [--port=8000] [--key=F --cert=F]
//               [--passphrase=P] [--ca=F]... [--request-cert] [--reject-unauthorized=B]
//               [--sni=PATTERN,KEYFILE,CERTFILE]... [--alpn=a,b] [--npn=a,b]
//               [--max-connections=N] [--handshake-timeout-ms=N] [--min-version=1.2|1.3]
//               [--max-version=1.2|1.3] [--pfx=F] [--keylog=FILE] [--json] [--threads=N]
// --transport=asio (the default) runs examples/asio_backend.cc, --transport=uv
// examples/uv_backend.cc; --threads (asio) serves on N io_contexts, one per thread.
// Without --key/--cert it makes an ephemeral self-signed certificate for localhost
// (and 127.0.0.1, ::1) and prints its SHA-256 fingerprint.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "examples/asio_backend.h"
#include "examples/example_util.h"
#include "examples/uv_backend.h"
#include "transports/posix/server.h"

using namespace sansio_tls;
using namespace sansio_tls::examples;

namespace {

posix::Server* g_server = nullptr;

void OnSignal(int) {
  if (g_server) g_server->Close(std::chrono::seconds(5));
}

int Usage(const std::string& error) {
  std::fprintf(stderr, "echo_server: %s\n", error.c_str());
  return 2;
}

// Echoes everything back, holding at most one read's worth when the peer reads slowly.
class Echo : public posix::ConnectionHandler {
 public:
  void OnData(posix::Connection& conn) override { Pump(conn); }
  void OnWritable(posix::Connection& conn) override { Pump(conn); }

 private:
  void Pump(posix::Connection& conn) {
    for (;;) {
      if (pos_ < pending_.size()) {
        pos_ += conn.TryWrite({pending_.data() + pos_, pending_.size() - pos_});
        if (pos_ < pending_.size()) return;  // OnWritable resumes
        pending_.clear();
        pos_ = 0;
      }
      uint8_t buf[16384];
      size_t n = conn.TryRead(buf);
      if (n == 0) return;
      pending_.assign(buf, buf + n);
    }
  }
  std::vector<uint8_t> pending_;
  size_t pos_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Flags flags({"transport", "host", "port", "key", "cert", "passphrase", "pfx", "ca", "sni",
               "alpn", "npn", "max-connections", "handshake-timeout-ms", "min-version",
               "max-version", "keylog", "threads"},
              {"request-cert", "reject-unauthorized", "json"});
  if (auto err = flags.Parse(argc, argv)) return Usage(*err);
  std::string transport = flags.GetOr("transport", "asio");
  if (transport != "posix" && transport != "asio" && transport != "uv") {
    return Usage("--transport=" + transport + " is not available (asio, posix, uv)");
  }
  const bool json = flags.GetBool("json", false);

  ContextOptions options{.role = Role::kServer};
  std::string error, fingerprint;
  if (flags.Has("key") != flags.Has("cert")) return Usage("--key and --cert go together");
  if (flags.Has("pfx") && flags.Has("key")) return Usage("--pfx replaces --key/--cert");
  if (flags.Has("pfx")) {
    auto pfx = ReadFile(*flags.Get("pfx"), &error);
    if (!pfx) return Usage(error);
    options.credentials.pfx.assign(pfx->begin(), pfx->end());
    options.credentials.passphrase = flags.GetOr("passphrase", "");
  } else if (flags.Has("key")) {
    auto key = ReadFile(*flags.Get("key"), &error);
    auto cert = ReadFile(*flags.Get("cert"), &error);
    if (!key || !cert) return Usage(error);
    options.credentials = {.key_pem = *key,
                           .passphrase = flags.GetOr("passphrase", ""),
                           .cert_chain_pem = *cert};
  } else {
    testing::Cert self = testing::MakeSelfSigned(
        {.subject = {{"CN", "localhost"}},
         .dns_names = {"localhost"},
         .ip_addresses = {"127.0.0.1", "::1"}});
    options.credentials = {.key_pem = self.key_pem, .cert_chain_pem = self.cert_pem};
    fingerprint = Sha256Fingerprint(self.der);
  }
  for (const std::string& path : flags.GetAll("ca")) {
    auto pem = ReadFile(path, &error);
    if (!pem) return Usage(error);
    options.ca_pems.push_back(*pem);
  }
  for (const std::string& spec : flags.GetAll("sni")) {
    std::vector<std::string> parts = SplitCommas(spec);
    if (parts.size() != 3) return Usage("--sni takes PATTERN,KEYFILE,CERTFILE");
    auto key = ReadFile(parts[1], &error);
    auto cert = ReadFile(parts[2], &error);
    if (!key || !cert) return Usage(error);
    options.sni_contexts.push_back(
        {.pattern = parts[0],
         .credentials = {.key_pem = *key,
                         .passphrase = flags.GetOr("passphrase", ""),
                         .cert_chain_pem = *cert},
         .ca_pems = options.ca_pems});
  }
  options.alpn_protocols = SplitCommas(flags.GetOr("alpn", ""));
  options.npn_protocols = SplitCommas(flags.GetOr("npn", ""));
  options.request_cert = flags.GetBool("request-cert", false);
  options.reject_unauthorized = flags.GetBool("reject-unauthorized", true);
  for (auto [flag, field] : {std::pair{"min-version", &options.min_version},
                             std::pair{"max-version", &options.max_version}}) {
    if (auto v = flags.Get(flag)) {
      auto parsed = ParseVersion(*v);
      if (!parsed) return Usage(std::string("--") + flag + " takes 1.2 or 1.3");
      *field = *parsed;
    }
  }
  std::FILE* keylog = nullptr;
  if (auto path = flags.Get("keylog")) {
    keylog = std::fopen(path->c_str(), "a");
    if (!keylog) return Usage("cannot open --keylog file " + *path);
    options.key_log = true;
  }
  auto context = Context::Create(options);
  if (!context.ok()) return Usage(context.error().code + ": " + context.error().message);

  posix::ServerOptions server_options;
  server_options.host = flags.GetOr("host", "127.0.0.1");
  auto port = ParseUint(flags.GetOr("port", "8000"), 65535);
  if (!port) return Usage("--port takes 0..65535");
  server_options.port = static_cast<uint16_t>(*port);
  if (auto v = flags.Get("max-connections")) {
    auto n = ParseUint(*v, 1u << 30);
    if (!n) return Usage("--max-connections takes a number");
    server_options.max_connections = *n;
  }
  if (auto v = flags.Get("handshake-timeout-ms")) {
    auto n = ParseUint(*v, 1u << 30);
    if (!n) return Usage("--handshake-timeout-ms takes a number");
    server_options.handshake_timeout = std::chrono::milliseconds(*n);
  }

  if (transport == "asio") {
    auto threads = ParseUint(flags.GetOr("threads", "1"), 256);
    if (!threads || *threads == 0) return Usage("--threads takes 1..256");
    return asio_backend::EchoServer(*context, {.host = server_options.host,
                                               .port = server_options.port,
                                               .max_connections = server_options.max_connections,
                                               .handshake_timeout = server_options.handshake_timeout,
                                               .threads = static_cast<int>(*threads),
                                               .json = json,
                                               .fingerprint = fingerprint,
                                               .keylog = keylog});
  }

  if (transport == "uv") {
    return uv_backend::EchoServer(*context, {.host = server_options.host,
                                             .port = server_options.port,
                                             .max_connections = server_options.max_connections,
                                             .handshake_timeout = server_options.handshake_timeout,
                                             .json = json,
                                             .fingerprint = fingerprint,
                                             .keylog = keylog});
  }

  posix::ServerCallbacks callbacks;
  callbacks.secure_connection = [json](posix::Connection& conn) {
    if (json) {
      PrintLine(HandshakeJson("secureConnection", conn.session()));
    } else {
      PrintLine(std::string("server connected ") +
                (conn.handshake_info().authorized ? "authorized" : "unauthorized"));
    }
    static const std::string welcome = "welcome!\n";
    conn.TryWrite({reinterpret_cast<const uint8_t*>(welcome.data()), welcome.size()});
    return std::make_unique<Echo>();
  };
  callbacks.client_error = [json](const posix::ClientErrorInfo& info) {
    PrintClientError(info, json);
  };
  callbacks.drop = [json](const posix::DropInfo& info) { PrintDrop(info, json); };

  callbacks.key_log = [keylog](posix::Connection&, std::string_view line) {
    if (!keylog) return;
    std::fprintf(keylog, "%.*s\n", static_cast<int>(line.size()), line.data());
    std::fflush(keylog);
  };

  auto server = posix::Server::Listen(*context, server_options, callbacks);
  if (!server.ok()) return Usage(server.error().code + ": " + server.error().message);
  g_server = server->get();
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const posix::SocketAddress& local = (*server)->address();
  if (json) {
    std::string line = "{\"event\":\"listening\",\"transport\":" + JsonString(transport) +
                       ",\"host\":" + JsonString(local.address) +
                       ",\"port\":" + std::to_string(local.port);
    if (!fingerprint.empty()) line += ",\"fingerprint256\":" + JsonString(fingerprint);
    PrintLine(line + "}");
  } else {
    PrintLine("listening on " + local.address + ":" + std::to_string(local.port) + " (" +
              transport + ")");
    if (!fingerprint.empty()) PrintLine("ephemeral certificate SHA-256 " + fingerprint);
  }
  auto run_error = (*server)->Run();
  g_server = nullptr;
  if (run_error) {
    std::fprintf(stderr, "echo_server: %s: %s\n", run_error->code.c_str(),
                 run_error->message.c_str());
    return 1;
  }
  return 0;
}
