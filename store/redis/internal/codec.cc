#include "store/redis/internal/codec.h"

#include <openssl/sha.h>

#include <algorithm>

namespace sansio_tls::redis::internal {
namespace {

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

}  // namespace

std::string SessionKey(const std::string& prefix, std::span<const uint8_t> id) {
  return prefix + "s:" + Hex(id);
}

std::string EarlyKey(const std::string& prefix, std::span<const uint8_t> identity) {
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(identity.data(), identity.size(), md);
  return prefix + "e:" + Hex(md);
}

Verdict Judge(std::span<const uint8_t> value, std::span<const uint8_t> id, int64_t now,
              size_t max_size, std::optional<SavedSession>* out) {
  if (value.empty()) return Verdict::kMiss;
  if (value.size() > max_size) return Verdict::kInvalid;
  auto session = SavedSession::FromBytes(value);
  if (!session.ok()) return Verdict::kInvalid;
  std::vector<uint8_t> saved_id = session->id();
  if (!std::equal(saved_id.begin(), saved_id.end(), id.begin(), id.end())) {
    return Verdict::kInvalid;
  }
  if (session->ExpiredAt(now)) return Verdict::kInvalid;
  *out = std::move(session).value();
  return Verdict::kHit;
}

int64_t TtlMillis(const SavedSession& session, int64_t now) {
  return (session.time() + static_cast<int64_t>(session.timeout()) - now) * 1000;
}

}  // namespace sansio_tls::redis::internal
