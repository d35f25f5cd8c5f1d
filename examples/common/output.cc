#include "examples/common/output.h"

#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "core/x509/peer_certificate.h"

namespace sansio_tls::examples {
namespace {

// Length of the valid UTF-8 sequence at |s[i]|, 0 if invalid.
size_t Utf8Length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xC2) return 0;                       // overlong
  if (n == 3 && c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
  if (n == 3 && c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
  if (n == 4 && (c > 0xF4 || (c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) >= 0x90))) {
    return 0;
  }
  return n;
}

void AddAddress(Json& j, const transport::SocketAddress& a, const std::string& prefix) {
  j[prefix + "Address"] = JsonText(a.address);
  j[prefix + "Port"] = a.port;
  j[prefix + "Family"] = JsonText(a.family);
}

int g_worker = -1;  // SetWorker()

void AddWorker(Json& j) {
  if (g_worker < 0) return;
  j["worker"] = g_worker;
  j["pid"] = static_cast<int64_t>(::getpid());
}

HandshakeExtras& Extras() {
  static HandshakeExtras extras;
  return extras;
}

std::vector<uint8_t>& ListeningEchConfigList() {
  static std::vector<uint8_t> list;
  return list;
}

std::string Hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Json HexOrNull(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return nullptr;
  return Hex(bytes);
}

Json HexOrNull(const Result<std::vector<uint8_t>>& bytes) {
  if (!bytes.ok()) return nullptr;
  return HexOrNull(std::span<const uint8_t>(*bytes));
}

// The requested extras, as JSON members appended to |j|.
void AddExtras(Json& j, const Session& session) {
  const HandshakeExtras& x = Extras();
  if (!x.keymat_label.empty()) {
    j["keyingMaterial"] = HexOrNull(session.ExportKeyingMaterial(x.keymat_length, x.keymat_label));
  }
  if (x.negotiation) {
    const HandshakeInfo& h = session.handshake_info();
    j["group"] = h.group.empty() ? Json(nullptr) : Json(std::string(h.group));
    const char* sigalg = h.peer_signature_algorithm
                             ? SSL_get_signature_algorithm_name(h.peer_signature_algorithm, 1)
                             : nullptr;
    j["peerSignatureAlgorithm"] = sigalg ? Json(sigalg) : Json(nullptr);
  }
  if (x.channel_binding) {
    j["finished"] = HexOrNull(std::span<const uint8_t>(session.finished_message()));
    j["peerFinished"] = HexOrNull(std::span<const uint8_t>(session.peer_finished_message()));
    j["tlsUnique"] = HexOrNull(session.ChannelBinding("tls-unique"));
    j["tlsExporter"] = HexOrNull(session.ChannelBinding("tls-exporter"));
  }
  if (x.ech) j["ech"] = std::string(EchStatusName(session.handshake_info().ech));
}

// HandshakeJson(|event|), or "WHO connected authorized|unauthorized", through |print|.
void PrintHandshake(const Session& session, bool json, const char* event, const char* who,
                    void (*print)(const std::string&)) {
  if (json) {
    Json j = HandshakeJson(event, session);
    if (print == PrintLine) AddWorker(j);  // the server's report
    print(JsonLine(j));
  } else {
    print(std::string(who) + " connected " +
          (session.handshake_info().authorized ? "authorized" : "unauthorized"));
    // The requested extras, one "NAME: HEX" line each ("none" when not defined).
    Json extras = Json::object();
    AddExtras(extras, session);
    for (const auto& [name, value] : extras.items()) {
      print(name + ": " + (value.is_null() ? std::string("none") : value.get<std::string>()));
    }
  }
}

}  // namespace

Json JsonText(std::string_view s) {
  std::string utf8;
  utf8.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (size_t n = Utf8Length(s, i)) {
      utf8.append(s.substr(i, n));
      i += n;
    } else {  // not UTF-8: the byte as a Latin-1 code point
      auto c = static_cast<uint8_t>(s[i++]);
      utf8 += static_cast<char>(0xC0 | (c >> 6));
      utf8 += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return utf8;
}

Json JsonTextOrNull(std::string_view s, std::string_view none) {
  if (s.empty() || (!none.empty() && s == none)) return nullptr;
  return JsonText(s);
}

std::string JsonLine(const Json& j) { return j.dump(); }

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
    } else {
      return false;
    }
  }
  return true;
}

void PrintLine(const std::string& line) {
  // One write(2) per line: lines of worker processes sharing stdout do not interleave.
  std::fflush(stdout);
  WriteAll(STDOUT_FILENO, line + "\n");
}

void PrintEvent(const std::string& line) { WriteAll(STDERR_FILENO, line + "\n"); }

std::string Sha256Fingerprint(std::span<const uint8_t> der) {
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(der.data(), der.size(), md);
  std::string out;
  char hex[4];
  for (size_t i = 0; i < sizeof md; ++i) {
    std::snprintf(hex, sizeof hex, "%02X", md[i]);
    if (i) out += ':';
    out += hex;
  }
  return out;
}

void SetHandshakeExtras(HandshakeExtras extras) { Extras() = std::move(extras); }

void SetListeningEchConfigList(std::vector<uint8_t> list) {
  ListeningEchConfigList() = std::move(list);
}

Json HandshakeJson(std::string_view event, const Session& session) {
  const HandshakeInfo& h = session.handshake_info();
  // The core's getPeerCertificate() JSON (always valid JSON and UTF-8), kept in its order.
  std::optional<PeerCertificate> cert = session.peer_certificate(/*detailed=*/false);
  Json j{{"event", JsonText(event)},
         {"authorized", h.authorized},
         {"authorizationError", JsonTextOrNull(h.authorization_error)},
         {"servername", JsonTextOrNull(h.servername)},
         {"alpnProtocol", h.alpn_protocol ? JsonTextOrNull(*h.alpn_protocol) : Json(nullptr)},
         {"npnProtocol", h.npn_protocol ? JsonTextOrNull(*h.npn_protocol) : Json(nullptr)},
         {"protocol", JsonTextOrNull(h.protocol())},
         {"cipher", JsonTextOrNull(h.cipher)},
         {"sessionReused", h.session_reused},
         {"peerCertificate", cert ? Json::parse(ToJson(*cert)) : Json(nullptr)}};
  AddExtras(j, session);
  return j;
}

void PrintListening(std::string_view transport, const transport::SocketAddress& local,
                    const std::string& fingerprint, bool json) {
  if (json) {
    Json j{{"event", "listening"},
           {"transport", JsonText(transport)},
           {"host", JsonText(local.address)},
           {"port", local.port}};
    if (!fingerprint.empty()) j["fingerprint256"] = fingerprint;
    if (!ListeningEchConfigList().empty()) j["echConfigList"] = Hex(ListeningEchConfigList());
    AddWorker(j);
    PrintLine(JsonLine(j));
  } else {
    PrintLine((g_worker < 0 ? std::string()
                            : "worker " + std::to_string(g_worker) + " (pid " +
                                  std::to_string(::getpid()) + "): ") +
              "listening on " + local.address + ":" + std::to_string(local.port) + " (" +
              std::string(transport) + ")");
    if (!fingerprint.empty()) PrintLine("ephemeral certificate SHA-256 " + fingerprint);
    if (!ListeningEchConfigList().empty()) {
      PrintLine("ECH config list " + Hex(ListeningEchConfigList()));
    }
  }
}

Json TraceJson(const TraceMessage& message) {
  const char* type = message.content_type == 22   ? "handshake"
                     : message.content_type == 21 ? "alert"
                                                  : "changeCipherSpec";
  return Json{{"event", "trace"},
              {"direction", message.sent ? "sent" : "received"},
              {"type", type},
              {"name", JsonText(message.name)},
              {"length", message.length}};
}

void PrintTrace(const TraceMessage& message, Role who, bool json) {
  Json j = TraceJson(message);
  std::string line;
  if (json) {
    if (who == Role::kServer) AddWorker(j);
    line = JsonLine(j);
  } else {
    line = "trace: " + j["direction"].get<std::string>() + " " + std::string(message.name) + " (" +
           j["type"].get<std::string>() + ", " + std::to_string(message.length) + " bytes)";
  }
  if (who == Role::kServer) {
    PrintLine(line);
  } else {
    PrintEvent(line);
  }
}

void SetWorker(int index) { g_worker = index; }

void PrintEarlyDataCheck(bool fresh, bool json) {
  if (json) {
    Json j{{"event", "earlyDataCheck"}, {"fresh", fresh}};
    AddWorker(j);
    PrintLine(JsonLine(j));
  } else {
    std::fprintf(stderr, "early data: %s\n",
                 fresh ? "fresh (0-RTT accepted)" : "replay or unknown (0-RTT rejected)");
  }
}

void PrintSecureConnection(const Session& session, bool json) {
  PrintHandshake(session, json, "secureConnection", "server", PrintLine);
}

void PrintClientError(const transport::ClientErrorInfo& info, bool json) {
  if (json) {
    Json j{{"event", "clientError"},
           {"code", JsonText(info.error.code)},
           {"message", JsonText(info.error.message)}};
    AddAddress(j, info.remote, "remote");
    PrintLine(JsonLine(j));
  } else {
    std::fprintf(stderr, "clientError from %s:%u: %s: %s\n", info.remote.address.c_str(),
                 info.remote.port, info.error.code.c_str(), info.error.message.c_str());
  }
}

void PrintDrop(const transport::DropInfo& info, bool json) {
  if (json) {
    Json j{{"event", "drop"}};
    AddAddress(j, info.local, "local");
    AddAddress(j, info.remote, "remote");
    PrintLine(JsonLine(j));
  } else {
    std::fprintf(stderr, "drop: %s:%u (max connections reached)\n", info.remote.address.c_str(),
                 info.remote.port);
  }
}

void PrintSecureConnect(const Session& session, bool json) {
  PrintHandshake(session, json, "secureConnect", "client", PrintEvent);
}

void PrintClientFailure(const Error& e, bool json) {
  if (json) {
    PrintEvent(JsonLine(
        {{"event", "error"}, {"code", JsonText(e.code)}, {"message", JsonText(e.message)}}));
  } else {
    PrintEvent("echo_client: " + e.code + ": " + e.message);
  }
}

void PrintEnd(bool clean, bool json) {
  if (json) PrintEvent(JsonLine({{"event", "end"}, {"clean", clean}}));
}

bool KeyLogFile::Open(const std::string& path) {
  file_ = std::fopen(path.c_str(), "a");
  return file_ != nullptr;
}

void KeyLogFile::Write(std::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!file_) return;
  std::fprintf(file_, "%.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(file_);
}

KeyLogFile::~KeyLogFile() {
  if (file_) std::fclose(file_);
}

}  // namespace sansio_tls::examples
