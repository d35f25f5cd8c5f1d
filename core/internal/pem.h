// PEM loading shared by Context. Internal.
#ifndef SANSIO_TLS_CORE_INTERNAL_PEM_H_
#define SANSIO_TLS_CORE_INTERNAL_PEM_H_

#include <openssl/base.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace sansio_tls::internal {

// The process-wide pool that deduplicates certificate buffers. Never freed.
CRYPTO_BUFFER_POOL* SharedBufferPool();

// Parses every CERTIFICATE block of |pem|. Error (ERR_TLS_INVALID_PEM) when there is none or
// one is malformed.
Result<std::vector<bssl::UniquePtr<X509>>> ParseCertificates(const std::string& pem);

struct KeyAndChain {
  bssl::UniquePtr<EVP_PKEY> key;
  std::vector<bssl::UniquePtr<CRYPTO_BUFFER>> chain;  // leaf first, DER
};
// Loads a private key (decrypting with |passphrase| if it is encrypted) and the certificate
// chain, and checks that the key belongs to the leaf. Errors: ERR_TLS_INVALID_KEY,
// ERR_TLS_BAD_PASSPHRASE, ERR_TLS_INVALID_PEM, ERR_TLS_KEY_MISMATCH.
Result<KeyAndChain> LoadKeyAndChain(const std::string& key_pem, const std::string& passphrase,
                                    const std::string& chain_pem);

// Loads the certificate chain of an external key (Credentials::external_key): |key| stays
// null. Error ERR_TLS_INVALID_PEM.
Result<KeyAndChain> LoadChain(const std::string& chain_pem);

// Loads a PKCS#12 (DER) bundle, opening it with |passphrase| (empty for none): its private
// key, the certificate matching the key as the leaf, then its other certificates in file
// order. The other certificates only complete our chain; they are not trusted. Errors:
// ERR_TLS_INVALID_PFX (not PKCS#12, no key or no certificate), ERR_TLS_BAD_PASSPHRASE,
// ERR_TLS_KEY_MISMATCH (no certificate matches the key).
Result<KeyAndChain> LoadPkcs12(const std::vector<uint8_t>& pfx, const std::string& passphrase);

// |chain| (DER buffers) as concatenated CERTIFICATE PEM blocks; empty on failure.
std::string ChainToPem(const std::vector<bssl::UniquePtr<CRYPTO_BUFFER>>& chain);

// Parses every X509 CRL block of |pem|. Error (ERR_TLS_INVALID_CRL) when there is none or
// one is malformed.
Result<std::vector<bssl::UniquePtr<X509_CRL>>> ParseCrls(const std::string& pem);

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_PEM_H_
