#include <cstdio>

#include "examples/common/cli.h"
#include "examples/common/output.h"
#include "examples/starttls/starttls.h"

namespace sansio_tls::examples::starttls {
namespace {

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

void Say(const char* who, const std::string& line) { PrintLine(std::string(who) + ": " + line); }

int Fail(const std::string& what) {
  std::fprintf(stderr, "starttls: %s\n", what.c_str());
  return kExitFailure;
}

int ClosedCleanly() {
  PrintLine("-- closed cleanly both ways");
  return kExitOk;
}

void PrintListening(const StartTlsConfig& config, uint16_t port) {
  PrintLine("listening on " + config.host + ":" + std::to_string(port) +
            " (plaintext until STARTTLS)");
  if (config.mode == "server") {
    PrintLine("root CA SHA-256 " + config.root_fingerprint +
              " (clients: --reject-unauthorized=false)");
  }
}

Answer ServerAnswer(const std::string& line) {
  if (line == "HELLO") {
    Say("S", "250 hello, secure world (TLS)");
    return {"250 hello, secure world"};
  }
  if (line == "QUIT") {
    Say("S", "221 bye (TLS)");
    return {"221 bye", true};
  }
  return {"500 unknown command"};
}

std::string ClientFirst(const HandshakeInfo& info) {
  PrintLine("-- TLS established: " + std::string(info.protocol()) + " " + std::string(info.cipher) +
            ", " + (info.authorized ? "authorized" : "unauthorized " + info.authorization_error));
  Say("C", "HELLO (TLS)");
  return "HELLO";
}

std::optional<std::string> ClientNext(const std::string& reply, std::string* error) {
  if (StartsWith(reply, "250")) {
    Say("C", "QUIT (TLS)");
    return "QUIT";
  }
  if (!StartsWith(reply, "221")) *error = "client: unexpected reply " + reply;
  return std::nullopt;
}

int Serve(LineChannel& channel) {
  Say("S", kGreeting);
  if (!channel.WriteLine(kGreeting)) return Fail("server: send failed");
  auto command = channel.ReadLine();
  if (!command || *command != kStartTls) return Fail("server: expected STARTTLS");
  Say("S", kGoAhead);
  if (!channel.WriteLine(kGoAhead)) return Fail("server: send failed");
  auto info = channel.Upgrade();
  if (!info.ok()) return Fail("server handshake: " + info.error().code);
  while (auto line = channel.ReadLine()) {
    Answer answer = ServerAnswer(*line);
    channel.WriteLine(answer.reply);
    if (answer.last) break;
  }
  if (auto e = channel.End()) return Fail("server end: " + e->code);
  return kExitOk;
}

int Converse(LineChannel& channel) {
  auto greeting = channel.ReadLine();
  if (!greeting || !StartsWith(*greeting, "220")) return Fail("client: no greeting");
  Say("C", kStartTls);
  if (!channel.WriteLine(kStartTls)) return Fail("client: send failed");
  auto go = channel.ReadLine();
  if (!go || !StartsWith(*go, "220")) return Fail("client: STARTTLS refused");
  auto info = channel.Upgrade();
  if (!info.ok()) {
    return Fail("client handshake: " + info.error().code + ": " + info.error().message);
  }
  std::optional<std::string> next = ClientFirst(*info);
  std::string error;
  while (next) {
    channel.WriteLine(*next);
    auto reply = channel.ReadLine();
    if (!reply) return Fail("client: no reply to " + *next);
    next = ClientNext(*reply, &error);
  }
  if (!error.empty()) return Fail(error);
  if (auto e = channel.End()) return Fail("client: the server did not close cleanly: " + e->code);
  return ClosedCleanly();
}

}  // namespace sansio_tls::examples::starttls
