// Verification setup shared by Context: CRLs, the system CA bundle, accepted signature
// algorithms. Internal.
#ifndef SANSIO_TLS_CORE_INTERNAL_TRUST_H_
#define SANSIO_TLS_CORE_INTERNAL_TRUST_H_

#include <openssl/base.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "core/internal/context_config.h"

namespace sansio_tls::internal {

// ConfigureVerification completes |ssl_ctx|'s verification setup once |options.ca_pems| are
// in |store|: adds |options.crl_pems| (and turns on CRL checks for the whole chain), the
// system bundle when |options.use_system_ca|, and the peer signature algorithms we accept
// (BoringSSL's defaults plus Ed25519). Returns the Error on failure (ERR_TLS_INVALID_CRL
// naming the entry; ERR_TLS_INVALID_CA naming the unreadable or malformed bundle).
std::optional<Error> ConfigureVerification(SSL_CTX* ssl_ctx, X509_STORE* store,
                                           const ContextConfig& options);

// The certificates of the PEM bundle at |path|: read and parsed once per file version
// (path, size, modification time), then shared process-wide. Thread-safe. Errors:
// ERR_TLS_INVALID_CA when the file cannot be read, exceeds 16 MiB, is malformed or holds
// no certificate.
using CertificateList = std::vector<bssl::UniquePtr<X509>>;
Result<std::shared_ptr<const CertificateList>> SystemCaCertificates(const std::string& path);

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_TRUST_H_
