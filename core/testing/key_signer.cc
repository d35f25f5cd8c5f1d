#include "core/testing/key_signer.h"

#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>

namespace sansio_tls::testing {

std::vector<uint8_t> SignMessage(EVP_PKEY* key, uint16_t algorithm,
                                 std::span<const uint8_t> input) {
  bssl::ScopedEVP_MD_CTX ctx;
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = SSL_get_signature_algorithm_digest(algorithm);  // null for Ed25519
  std::vector<uint8_t> out;
  if (SSL_get_signature_algorithm_key_type(algorithm) != EVP_PKEY_id(key) ||
      !EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key)) {
    ERR_clear_error();
    return out;
  }
  if (SSL_is_signature_algorithm_rsa_pss(algorithm) &&
      (!EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) ||
       !EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, -1))) {
    ERR_clear_error();
    return out;
  }
  size_t len = 0;
  if (!EVP_DigestSign(ctx.get(), nullptr, &len, input.data(), input.size())) {
    ERR_clear_error();
    return out;
  }
  out.resize(len);
  if (!EVP_DigestSign(ctx.get(), out.data(), &len, input.data(), input.size())) {
    ERR_clear_error();
    return {};
  }
  out.resize(len);
  return out;
}

std::vector<uint8_t> RawRsaDecrypt(EVP_PKEY* key, std::span<const uint8_t> input) {
  RSA* rsa = EVP_PKEY_get0_RSA(key);
  if (!rsa) return {};
  std::vector<uint8_t> out(RSA_size(rsa));
  size_t len = 0;
  if (!RSA_decrypt(rsa, &len, out.data(), out.size(), input.data(), input.size(), RSA_NO_PADDING)) {
    ERR_clear_error();
    return {};
  }
  out.resize(len);
  return out;
}

std::vector<uint8_t> KeyOperationResult(EVP_PKEY* key, const Event& request) {
  if (const auto* sign = request.get_if<event::SignRequest>()) {
    return SignMessage(key, sign->signature_algorithm, sign->input);
  }
  if (const auto* decrypt = request.get_if<event::DecryptRequest>()) {
    return RawRsaDecrypt(key, decrypt->input);
  }
  return {};
}

std::optional<Error> AnswerKeyOperation(Session& session, const Event& request, EVP_PKEY* key) {
  std::vector<uint8_t> result = KeyOperationResult(key, request);
  if (result.empty()) return session.FailKeyOperation("the key cannot perform this operation");
  return session.CompleteKeyOperation(result);
}

}  // namespace sansio_tls::testing
