// PEM loading shared by Context. Internal.
#ifndef SANSIO_TLS_CORE_INTERNAL_PEM_H_
#define SANSIO_TLS_CORE_INTERNAL_PEM_H_

#include <openssl/base.h>

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

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_PEM_H_
