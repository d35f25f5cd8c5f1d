// The BIO that connects BoringSSL to a Session's own buffers (no BIO pair, no extra copy
// on output). Internal.
#ifndef SANSIO_TLS_CORE_INTERNAL_BIO_H_
#define SANSIO_TLS_CORE_INTERNAL_BIO_H_

#include <openssl/base.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace sansio_tls::internal {

// The side of a session the BIO reads from and writes to. Reads come first from
// |leftover| (older bytes), then from |feed| (bytes of the Feed() call in progress, read
// in place); writes append to the session's output queue.
class BioEndpoint {
 public:
  virtual ~BioEndpoint() = default;
  // Copies up to |out.size()| bytes of received ciphertext; returns the count, 0 if none.
  virtual size_t ReadCiphertext(std::span<uint8_t> out) = 0;
  // True once the transport has ended and every received byte has been read.
  virtual bool AtEof() const = 0;
  virtual void WriteCiphertext(std::span<const uint8_t> data) = 0;
};

// Returns a new BIO over |endpoint| (borrowed; must outlive the BIO). The caller owns the
// BIO (normally handing it to SSL_set_bio).
BIO* NewEndpointBio(BioEndpoint* endpoint);

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_BIO_H_
