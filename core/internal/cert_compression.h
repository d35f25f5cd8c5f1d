// Certificate compression (RFC 8879) with brotli (algorithm 2) and zlib (1). Internal.
#ifndef SANSIO_TLS_CORE_INTERNAL_CERT_COMPRESSION_H_
#define SANSIO_TLS_CORE_INTERNAL_CERT_COMPRESSION_H_

#include <openssl/ssl.h>

namespace sansio_tls::internal {

// Registers brotli then zlib on |ctx| (a server prefers them in that order; a client offers
// both). A peer's compressed certificate larger than kMaxDecompressedCertificate once
// decompressed, or whose size differs from what it announced, fails the handshake. Returns
// false if BoringSSL refused.
bool AddCertificateCompression(SSL_CTX* ctx);

inline constexpr size_t kMaxDecompressedCertificate = 1 << 20;

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_CERT_COMPRESSION_H_
