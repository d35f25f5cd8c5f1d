#include "core/ech.h"

#include <openssl/err.h>
#include <openssl/hpke.h>
#include <openssl/mem.h>
#include <openssl/ssl.h>

#include <optional>
#include <string>

#include "core/internal/ech.h"

namespace sansio_tls {

Result<EchKey> MakeEchKey(uint8_t config_id, std::string_view public_name, size_t max_name_length) {
  bssl::ScopedEVP_HPKE_KEY key;
  if (!EVP_HPKE_KEY_generate(key.get(), EVP_hpke_x25519_hkdf_sha256())) {
    ERR_clear_error();
    return MakeError(errc::kInvalidEchConfig, "could not generate an X25519 key");
  }
  EchKey out;
  out.private_key.resize(EVP_HPKE_MAX_PRIVATE_KEY_LENGTH);
  size_t len = 0;
  if (!EVP_HPKE_KEY_private_key(key.get(), out.private_key.data(), &len, out.private_key.size())) {
    ERR_clear_error();
    return MakeError(errc::kInvalidEchConfig, "could not export the X25519 key");
  }
  out.private_key.resize(len);
  std::string name(public_name);
  uint8_t* config = nullptr;
  size_t config_len = 0;
  if (name.find('\0') != std::string::npos ||
      !SSL_marshal_ech_config(&config, &config_len, config_id, key.get(), name.c_str(),
                              max_name_length)) {
    ERR_clear_error();
    return MakeError(errc::kInvalidEchConfig,
                     "public_name \"" + name + "\" is not a valid DNS name for ECH");
  }
  out.config.assign(config, config + config_len);
  OPENSSL_free(config);
  return out;
}

std::vector<uint8_t> EchConfigList(std::span<const EchKey> keys) {
  size_t total = 0;
  for (const EchKey& k : keys) total += k.config.size();
  std::vector<uint8_t> out;
  out.reserve(2 + total);
  out.push_back(static_cast<uint8_t>(total >> 8));
  out.push_back(static_cast<uint8_t>(total));
  for (const EchKey& k : keys) out.insert(out.end(), k.config.begin(), k.config.end());
  return out;
}

std::string_view EchStatusName(EchStatus status) {
  switch (status) {
    case EchStatus::kNotOffered:
      return "not_offered";
    case EchStatus::kGrease:
      return "grease";
    case EchStatus::kAccepted:
      return "accepted";
    case EchStatus::kRejected:
      return "rejected";
  }
  return "?";
}

std::optional<Error> internal::InstallEchKeys(SSL_CTX* ctx, std::span<const EchKey> keys) {
  bssl::UniquePtr<SSL_ECH_KEYS> set(SSL_ECH_KEYS_new());
  if (!set) return MakeError(errc::kInvalidEchConfig, "out of memory");
  bool any_retry = false;
  for (size_t i = 0; i < keys.size(); ++i) {
    const EchKey& k = keys[i];
    bssl::ScopedEVP_HPKE_KEY key;
    if (!EVP_HPKE_KEY_init(key.get(), EVP_hpke_x25519_hkdf_sha256(), k.private_key.data(),
                           k.private_key.size()) ||
        !SSL_ECH_KEYS_add(set.get(), k.retry_config ? 1 : 0, k.config.data(), k.config.size(),
                          key.get())) {
      uint32_t packed = ERR_peek_last_error();
      ERR_clear_error();
      const char* reason = ERR_reason_error_string(packed);
      return MakeError(errc::kInvalidEchConfig,
                       "ech_keys[" + std::to_string(i) +
                           "]: the private key or config is invalid, or they do not match (" +
                           (reason ? reason : "unknown") + ")");
    }
    any_retry = any_retry || k.retry_config;
  }
  if (!any_retry) {
    return MakeError(errc::kInvalidEchConfig,
                     "ech_keys: at least one key must be a retry config (sent to clients "
                     "whose ECH could not be decrypted)");
  }
  if (!SSL_CTX_set1_ech_keys(ctx, set.get())) {
    ERR_clear_error();
    return MakeError(errc::kInvalidEchConfig, "BoringSSL refused the ECH keys");
  }
  return std::nullopt;
}

}  // namespace sansio_tls
