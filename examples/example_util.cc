#include "examples/example_util.h"

#include <openssl/sha.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/x509/peer_certificate.h"

namespace sansio_tls::examples {

std::optional<std::string> Flags::Parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) return "unexpected argument: " + arg;
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (valued_.count(name)) {
      if (!has_value) {
        if (i + 1 >= argc) return "--" + name + " needs a value";
        value = argv[++i];
      }
    } else if (boolean_.count(name)) {
      if (!has_value) value = "true";
      if (value != "true" && value != "false") return "--" + name + " takes true or false";
    } else {
      return "unknown flag --" + name;
    }
    values_[name].push_back(value);
  }
  return std::nullopt;
}

std::optional<std::string> Flags::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::string Flags::GetOr(const std::string& name, std::string fallback) const {
  auto v = Get(name);
  return v ? *v : fallback;
}

std::vector<std::string> Flags::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

bool Flags::GetBool(const std::string& name, bool fallback) const {
  auto v = Get(name);
  return v ? *v == "true" : fallback;
}

std::optional<std::string> ReadFile(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path;
    return std::nullopt;
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::optional<TlsVersion> ParseVersion(std::string_view text) {
  if (text == "1.2" || text == "TLSv1.2") return TlsVersion::kTls12;
  if (text == "1.3" || text == "TLSv1.3") return TlsVersion::kTls13;
  return std::nullopt;
}

std::optional<uint64_t> ParseUint(std::string_view text, uint64_t max) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || v > max) {
    return std::nullopt;
  }
  return v;
}

std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    out.emplace_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

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
  if (n == 2 && c < 0xC2) return 0;                          // overlong
  if (n == 3 && c == 0xE0 && b(i + 1) < 0xA0) return 0;      // overlong
  if (n == 3 && c == 0xED && b(i + 1) >= 0xA0) return 0;     // surrogate
  if (n == 4 && (c > 0xF4 || (c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) >= 0x90))) {
    return 0;
  }
  return n;
}

}  // namespace

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  char hex[8];
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      std::snprintf(hex, sizeof hex, "\\u%04x", c);
      out += hex;
      ++i;
      continue;
    }
    size_t n = Utf8Length(s, i);
    if (n == 0) {  // not UTF-8: the byte as a Latin-1 code point
      std::snprintf(hex, sizeof hex, "\\u%04x", c);
      out += hex;
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out + "\"";
}

std::string JsonStringOrNull(std::string_view s, std::string_view none) {
  if (s.empty() || (!none.empty() && s == none)) return "null";
  return JsonString(s);
}

std::string PeerCertificateJson(const Session& session) {
  std::optional<PeerCertificate> cert = session.peer_certificate(/*detailed=*/false);
  return cert ? ToJson(*cert) : "null";
}

std::string HandshakeJson(std::string_view event, const Session& session) {
  const HandshakeInfo& h = session.handshake_info();
  std::string out = "{\"event\":" + JsonString(event);
  out += ",\"authorized\":" + std::string(h.authorized ? "true" : "false");
  out += ",\"authorizationError\":" + JsonStringOrNull(h.authorization_error);
  out += ",\"servername\":" + JsonStringOrNull(h.servername);
  out += ",\"alpnProtocol\":" + JsonStringOrNull(h.alpn_protocol, "none");
  out += ",\"npnProtocol\":" + JsonStringOrNull(h.npn_protocol, "none");
  out += ",\"protocol\":" + JsonStringOrNull(h.protocol);
  out += ",\"cipher\":" + JsonStringOrNull(h.cipher);
  out += ",\"sessionReused\":" + std::string(h.session_reused ? "true" : "false");
  out += ",\"peerCertificate\":" + PeerCertificateJson(session);
  return out + "}";
}

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
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void PrintEvent(const std::string& line) { WriteAll(STDERR_FILENO, line + "\n"); }

Error MakeError(std::string code, std::string message) {
  return Error{std::move(code), std::move(message), std::nullopt, false};
}

void ReportClientError(const Error& e, bool json) {
  if (json) {
    PrintEvent("{\"event\":\"error\",\"code\":" + JsonString(e.code) +
               ",\"message\":" + JsonString(e.message) + "}");
  } else {
    PrintEvent("echo_client: " + e.code + ": " + e.message);
  }
}

std::string AddressJson(std::string_view address, uint16_t port, std::string_view family,
                        const char* prefix) {
  std::string p = prefix;
  return "\"" + p + "Address\":" + JsonString(address) + ",\"" + p +
         "Port\":" + std::to_string(port) + ",\"" + p + "Family\":" + JsonString(family);
}

std::string AddressJson(const transport::SocketAddress& a, const char* prefix) {
  return AddressJson(a.address, a.port, a.family, prefix);
}

void PrintClientError(const transport::ClientErrorInfo& info, bool json) {
  if (json) {
    PrintLine("{\"event\":\"clientError\",\"code\":" + JsonString(info.error.code) +
              ",\"message\":" + JsonString(info.error.message) + "," +
              AddressJson(info.remote, "remote") + "}");
  } else {
    std::fprintf(stderr, "clientError from %s:%u: %s: %s\n", info.remote.address.c_str(),
                 info.remote.port, info.error.code.c_str(), info.error.message.c_str());
  }
}

void PrintDrop(const transport::DropInfo& info, bool json) {
  if (json) {
    PrintLine("{\"event\":\"drop\"," + AddressJson(info.local, "local") + "," +
              AddressJson(info.remote, "remote") + "}");
  } else {
    std::fprintf(stderr, "drop: %s:%u (max connections reached)\n", info.remote.address.c_str(),
                 info.remote.port);
  }
}

void Say(const char* who, const std::string& line) { PrintLine(std::string(who) + ": " + line); }

int StartTlsFail(const std::string& what) {
  std::fprintf(stderr, "starttls: %s\n", what.c_str());
  return 1;
}

}  // namespace sansio_tls::examples
