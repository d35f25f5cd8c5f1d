// Per-Context negotiation data built by Context::SetUpNegotiation. Internal.
#ifndef SANSIO_TLS_CORE_INTERNAL_NEGOTIATION_H_
#define SANSIO_TLS_CORE_INTERNAL_NEGOTIATION_H_

#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/negotiation/sni_matcher.h"

namespace sansio_tls {
class Context;
}  // namespace sansio_tls

namespace sansio_tls::internal {

// Immutable once the owning Context is built; read concurrently by its sessions.
struct Negotiation {
  // Server: pattern -> SNI context (each a complete server Context built from the owner's
  // options with the entry's credentials and CAs). Entries with identical credentials and
  // CAs share one Context.
  SniTable<std::shared_ptr<const Context>> sni;
  // Server: the NPN list advertised, wire format (empty: NPN off).
  std::vector<uint8_t> npn_wire;
  // Server: session id context a session takes when SNI selects this Context, so sessions
  // resume only under the same certificate chain and client-certificate CAs.
  std::array<uint8_t, SHA256_DIGEST_LENGTH> sni_session_id_context{};
  // Server with alternative_credentials: the chains in preference order with their key
  // types (EVP_PKEY_EC, EVP_PKEY_RSA, ...); the first is the owner's own (no Context).
  struct Chain {
    int key_type = 0;
    std::shared_ptr<const Context> context;  // null: the owner's credentials
  };
  std::vector<Chain> chains;
};

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_NEGOTIATION_H_
