// ECH keys as BoringSSL takes them. Internal: used by Context (core/ech.cc).
#ifndef SANSIO_TLS_CORE_INTERNAL_ECH_H_
#define SANSIO_TLS_CORE_INTERNAL_ECH_H_

#include <openssl/base.h>

#include <optional>
#include <span>

#include "core/ech.h"
#include "core/error.h"

namespace sansio_tls::internal {

// Installs |keys| (non-empty) on the server context |ctx|: Error ERR_TLS_INVALID_ECH_CONFIG
// naming the entry when a key or config is invalid or they do not match, or when no key is
// a retry config.
std::optional<Error> InstallEchKeys(SSL_CTX* ctx, std::span<const EchKey> keys);

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_ECH_H_
