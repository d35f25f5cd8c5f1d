#include "core/internal/pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pool.h>
#include <openssl/x509.h>

#include <cstring>

namespace sansio_tls::internal {
namespace {

Error PemError(std::string code, std::string message) {
  return Error{std::move(code), std::move(message), std::nullopt, false};
}

bssl::UniquePtr<BIO> MemBio(const std::string& s) {
  return bssl::UniquePtr<BIO>(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

struct PassphraseState {
  const std::string* passphrase;
  bool asked = false;
};

int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* userdata) {
  auto* state = static_cast<PassphraseState*>(userdata);
  state->asked = true;
  const std::string& p = *state->passphrase;
  if (p.empty() || static_cast<int>(p.size()) > size) return -1;
  std::memcpy(buf, p.data(), p.size());
  return static_cast<int>(p.size());
}

}  // namespace

Result<std::vector<bssl::UniquePtr<X509>>> ParseCertificates(const std::string& pem) {
  std::vector<bssl::UniquePtr<X509>> out;
  auto bio = MemBio(pem);
  for (;;) {
    bssl::UniquePtr<X509> x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!x509) break;
    out.push_back(std::move(x509));
  }
  uint32_t err = ERR_peek_last_error();
  ERR_clear_error();
  // Reaching the end of the input is the normal way out of the loop.
  bool clean_end = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  if (err != 0 && !clean_end) {
    return PemError("ERR_TLS_INVALID_PEM",
                    "malformed certificate PEM after " + std::to_string(out.size()) +
                        " certificate(s)");
  }
  if (out.empty()) return PemError("ERR_TLS_INVALID_PEM", "no certificate found in PEM");
  return out;
}

Result<KeyAndChain> LoadKeyAndChain(const std::string& key_pem, const std::string& passphrase,
                                    const std::string& chain_pem) {
  KeyAndChain out;
  PassphraseState state{&passphrase};
  auto bio = MemBio(key_pem);
  out.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, PassphraseCallback, &state));
  if (!out.key) {
    uint32_t err = ERR_peek_last_error();
    ERR_clear_error();
    if (state.asked) {
      return PemError("ERR_TLS_BAD_PASSPHRASE",
                      passphrase.empty() ? "the private key is encrypted and no passphrase was given"
                                         : "the passphrase does not decrypt the private key");
    }
    (void)err;
    return PemError("ERR_TLS_INVALID_KEY", "no valid private key found in PEM");
  }

  auto certs = ParseCertificates(chain_pem);
  if (!certs.ok()) {
    return PemError(certs.error().code, "certificate chain: " + certs.error().message);
  }
  if (!X509_check_private_key(certs.value().front().get(), out.key.get())) {
    ERR_clear_error();
    return PemError("ERR_TLS_KEY_MISMATCH",
                    "the private key does not match the first certificate of the chain");
  }
  for (auto& x509 : certs.value()) {
    uint8_t* der = nullptr;
    int len = i2d_X509(x509.get(), &der);
    if (len <= 0) {
      ERR_clear_error();
      return PemError("ERR_TLS_INVALID_PEM", "certificate could not be re-encoded");
    }
    out.chain.emplace_back(CRYPTO_BUFFER_new(der, len, SharedBufferPool()));
    OPENSSL_free(der);
  }
  return out;
}

}  // namespace sansio_tls::internal
