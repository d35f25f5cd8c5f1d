// Ticket-key files (TicketKeys::ParseKeyFile, LoadFiles, FromFiles; format in resumption.h
// and docs/fleet.md). Reads regular files only; no sockets, threads or clocks.
#include <openssl/base64.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/hkdf.h>
#include <openssl/mem.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/resumption.h"

namespace sansio_tls {
namespace {

constexpr size_t kNginxShortKey = 48;  // name || HMAC-SHA256 key (16) || AES-128 key (16)
constexpr size_t kNginxLongKey = 80;   // name || HMAC-SHA256 key (32) || AES-256 key (32)
constexpr size_t kMaxFileSize = 64 * 1024;
constexpr char kHkdfInfo[] = "sansio-tls ticket key";

Error Invalid(std::string message) {
  return MakeError("ERR_TLS_INVALID_TICKET_KEYS", std::move(message));
}

// One 48- or 80-byte key as TicketKeys keeps it (see resumption.h).
bool ToKey(std::span<const uint8_t> raw, TicketKeys::Key* out) {
  if (raw.size() == kNginxShortKey) {
    std::memcpy(out->data(), raw.data(), kNginxShortKey);
    return true;
  }
  if (raw.size() != kNginxLongKey) return false;
  std::memcpy(out->data(), raw.data(), 16);
  if (!HKDF(out->data() + 16, 32, EVP_sha256(), raw.data() + 16, raw.size() - 16, nullptr, 0,
            reinterpret_cast<const uint8_t*>(kHkdfInfo), sizeof kHkdfInfo - 1)) {
    ERR_clear_error();
    return false;
  }
  return true;
}

bool IsText(std::span<const uint8_t> content) {
  for (uint8_t c : content)
    if (!(c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7f))) return false;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// The keys of a text file; an error message naming the line on failure.
Result<std::vector<TicketKeys::Key>> ParseText(std::string_view text, std::string_view name) {
  std::vector<TicketKeys::Key> keys;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    std::string where = std::string(name) + ", line " + std::to_string(line_no);
    std::string padded(line);
    while (padded.size() % 4 != 0) padded.push_back('=');
    size_t max_len = 0;
    if (!EVP_DecodedLength(&max_len, padded.size()) || max_len > 2 * kNginxLongKey) {
      return Invalid(where + ": not a base64 key of 48 or 80 bytes");
    }
    std::vector<uint8_t> raw(max_len);
    size_t len = 0;
    if (!EVP_DecodeBase64(raw.data(), &len, raw.size(),
                          reinterpret_cast<const uint8_t*>(padded.data()), padded.size())) {
      ERR_clear_error();
      return Invalid(where + ": not valid base64");
    }
    TicketKeys::Key key;
    bool ok = ToKey({raw.data(), len}, &key);
    OPENSSL_cleanse(raw.data(), raw.size());
    OPENSSL_cleanse(padded.data(), padded.size());
    if (!ok) {
      return Invalid(where + ": a key is 48 or 80 bytes, this one is " + std::to_string(len));
    }
    keys.push_back(key);
    OPENSSL_cleanse(key.data(), key.size());
  }
  if (keys.empty()) return Invalid(std::string(name) + ": holds no key");
  return keys;
}

}  // namespace

Result<std::vector<TicketKeys::Key>> TicketKeys::ParseKeyFile(std::span<const uint8_t> content,
                                                              std::string_view name) {
  if (content.empty()) return Invalid(std::string(name) + ": is empty");
  if (IsText(content)) {
    std::string_view text(reinterpret_cast<const char*>(content.data()), content.size());
    return ParseText(text, name);
  }
  Key key;
  if (!ToKey(content, &key)) {
    return Invalid(std::string(name) + ": neither a text key file nor a 48- or 80-byte raw key (" +
                   std::to_string(content.size()) + " bytes)");
  }
  std::vector<Key> keys{key};
  OPENSSL_cleanse(key.data(), key.size());
  return keys;
}

std::optional<Error> TicketKeys::LoadFiles(std::span<const std::string> paths) {
  if (paths.empty()) return Invalid("no ticket key file given");
  std::vector<Key> all;
  auto wipe = [&all] {
    for (Key& k : all) OPENSSL_cleanse(k.data(), k.size());
  };
  for (const std::string& path : paths) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
      wipe();
      return Invalid(path + ": cannot open: " + std::strerror(errno));
    }
    std::vector<uint8_t> content(kMaxFileSize + 1);
    size_t n = std::fread(content.data(), 1, content.size(), f);
    bool read_error = std::ferror(f) != 0;
    std::fclose(f);
    if (read_error || n > kMaxFileSize) {
      OPENSSL_cleanse(content.data(), content.size());
      wipe();
      return Invalid(path + (read_error ? ": cannot be read" : ": larger than 64 KiB"));
    }
    auto keys = ParseKeyFile({content.data(), n}, path);
    OPENSSL_cleanse(content.data(), content.size());
    if (!keys.ok()) {
      wipe();
      return keys.error();
    }
    all.insert(all.end(), keys->begin(), keys->end());
    for (Key& k : *keys) OPENSSL_cleanse(k.data(), k.size());
  }
  std::optional<Error> error = Set(all);
  wipe();
  return error;
}

Result<std::shared_ptr<TicketKeys>> TicketKeys::FromFiles(std::span<const std::string> paths) {
  std::shared_ptr<TicketKeys> keys = Create();
  if (auto error = keys->LoadFiles(paths)) return *error;
  return keys;
}

}  // namespace sansio_tls
