#include "core/internal/pem.h"

#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/pkcs8.h>
#include <openssl/pool.h>
#include <openssl/x509.h>

#include <cstring>

namespace sansio_tls::internal {
namespace {

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
  // A NUL byte cannot be part of a passphrase (BoringSSL would accept "pass\0" for "pass").
  if (p.empty() || p.find('\0') != std::string::npos || static_cast<int>(p.size()) > size) {
    return -1;
  }
  std::memcpy(buf, p.data(), p.size());
  return static_cast<int>(p.size());
}

// Appends |x509|'s DER to |chain| as a pooled buffer; false if it cannot be encoded.
bool AppendDer(X509* x509, std::vector<bssl::UniquePtr<CRYPTO_BUFFER>>* chain) {
  uint8_t* der = nullptr;
  int len = i2d_X509(x509, &der);
  if (len <= 0) {
    ERR_clear_error();
    return false;
  }
  chain->emplace_back(CRYPTO_BUFFER_new(der, len, SharedBufferPool()));
  OPENSSL_free(der);
  return chain->back() != nullptr;
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
    return MakeError("ERR_TLS_INVALID_PEM", "malformed certificate PEM after " +
                                                std::to_string(out.size()) + " certificate(s)");
  }
  if (out.empty()) return MakeError("ERR_TLS_INVALID_PEM", "no certificate found in PEM");
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
      return MakeError("ERR_TLS_BAD_PASSPHRASE",
                       passphrase.empty()
                           ? "the private key is encrypted and no passphrase was given"
                       : passphrase.find('\0') != std::string::npos
                           ? "the passphrase contains a NUL byte"
                           : "the passphrase does not decrypt the private key");
    }
    (void)err;
    return MakeError("ERR_TLS_INVALID_KEY", "no valid private key found in PEM");
  }

  auto certs = ParseCertificates(chain_pem);
  if (!certs.ok()) {
    return MakeError(certs.error().code, "certificate chain: " + certs.error().message);
  }
  if (!X509_check_private_key(certs.value().front().get(), out.key.get())) {
    ERR_clear_error();
    return MakeError("ERR_TLS_KEY_MISMATCH",
                     "the private key does not match the first certificate of the chain");
  }
  for (auto& x509 : certs.value()) {
    if (!AppendDer(x509.get(), &out.chain)) {
      return MakeError("ERR_TLS_INVALID_PEM", "certificate could not be re-encoded");
    }
  }
  return out;
}

Result<KeyAndChain> LoadChain(const std::string& chain_pem) {
  KeyAndChain out;
  auto certs = ParseCertificates(chain_pem);
  if (!certs.ok()) {
    return MakeError(certs.error().code, "certificate chain: " + certs.error().message);
  }
  for (auto& x509 : certs.value()) {
    if (!AppendDer(x509.get(), &out.chain)) {
      return MakeError("ERR_TLS_INVALID_PEM", "certificate could not be re-encoded");
    }
  }
  return out;
}

Result<KeyAndChain> LoadPkcs12(const std::vector<uint8_t>& pfx, const std::string& passphrase) {
  if (passphrase.find('\0') != std::string::npos) {
    return MakeError("ERR_TLS_BAD_PASSPHRASE", "the pfx passphrase contains a NUL byte");
  }
  ERR_clear_error();
  CBS cbs;
  CBS_init(&cbs, pfx.data(), pfx.size());
  EVP_PKEY* raw_key = nullptr;
  bssl::UniquePtr<STACK_OF(X509)> certs(sk_X509_new_null());
  if (!certs) return MakeError("ERR_TLS_INVALID_PFX", "out of memory reading the pfx");
  int ok = PKCS12_get_key_and_certs(&raw_key, certs.get(), &cbs, passphrase.c_str());
  KeyAndChain out;
  out.key.reset(raw_key);
  if (!ok) {
    uint32_t err = ERR_peek_last_error();
    ERR_clear_error();
    if (ERR_GET_LIB(err) == ERR_LIB_PKCS8 && ERR_GET_REASON(err) == PKCS8_R_INCORRECT_PASSWORD) {
      return MakeError("ERR_TLS_BAD_PASSPHRASE",
                       passphrase.empty()
                           ? "the pfx is protected by a passphrase and none was given"
                           : "the passphrase does not open the pfx (PKCS#12)");
    }
    if (ERR_GET_LIB(err) == ERR_LIB_PKCS8 && ERR_GET_REASON(err) == PKCS8_R_INVALID_CHARACTERS) {
      // PKCS#12 passwords are converted from UTF-8; the bundle itself may be fine.
      return MakeError("ERR_TLS_BAD_PASSPHRASE", "the pfx passphrase is not valid UTF-8");
    }
    return MakeError("ERR_TLS_INVALID_PFX", "pfx is not a readable PKCS#12 bundle");
  }
  if (!out.key) return MakeError("ERR_TLS_INVALID_PFX", "the pfx holds no private key");
  size_t n = sk_X509_num(certs.get());
  if (n == 0) return MakeError("ERR_TLS_INVALID_PFX", "the pfx holds no certificate");
  size_t leaf = n;
  for (size_t i = 0; i < n && leaf == n; ++i) {
    if (X509_check_private_key(sk_X509_value(certs.get(), i), out.key.get())) leaf = i;
  }
  ERR_clear_error();
  if (leaf == n) {
    return MakeError("ERR_TLS_KEY_MISMATCH", "no certificate in the pfx matches its private key");
  }
  bool encoded = AppendDer(sk_X509_value(certs.get(), leaf), &out.chain);
  for (size_t i = 0; i < n && encoded; ++i) {
    if (i != leaf) encoded = AppendDer(sk_X509_value(certs.get(), i), &out.chain);
  }
  if (!encoded)
    return MakeError("ERR_TLS_INVALID_PFX", "a pfx certificate could not be re-encoded");
  return out;
}

std::string ChainToPem(const std::vector<bssl::UniquePtr<CRYPTO_BUFFER>>& chain) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  for (const auto& buffer : chain) {
    bssl::UniquePtr<X509> x509(X509_parse_from_buffer(buffer.get()));
    if (!bio || !x509 || !PEM_write_bio_X509(bio.get(), x509.get())) {
      ERR_clear_error();
      return {};
    }
  }
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!BIO_mem_contents(bio.get(), &data, &len)) return {};
  return std::string(reinterpret_cast<const char*>(data), len);
}

Result<std::vector<bssl::UniquePtr<X509_CRL>>> ParseCrls(const std::string& pem) {
  std::vector<bssl::UniquePtr<X509_CRL>> out;
  auto bio = MemBio(pem);
  ERR_clear_error();
  for (;;) {
    bssl::UniquePtr<X509_CRL> crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    if (!crl) break;
    out.push_back(std::move(crl));
  }
  uint32_t err = ERR_peek_last_error();
  ERR_clear_error();
  bool clean_end = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  if (err != 0 && !clean_end) {
    return MakeError("ERR_TLS_INVALID_CRL",
                     "malformed CRL PEM after " + std::to_string(out.size()) + " CRL(s)");
  }
  if (out.empty()) return MakeError("ERR_TLS_INVALID_CRL", "no X509 CRL found in PEM");
  return out;
}

}  // namespace sansio_tls::internal
