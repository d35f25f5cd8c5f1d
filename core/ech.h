// Encrypted Client Hello (draft-ietf-tls-esni-13, BoringSSL's implementation): EXPERIMENTAL.
// The draft may change before it becomes an RFC, and peers built on another draft version
// will not interoperate; no other TLS library on this machine (OpenSSL 3.0, GnuTLS 3.7,
// Node 20) speaks it. docs/ech.md.
//
// A client that has a server's ECHConfigList (published in DNS HTTPS records) encrypts its
// real ClientHello (the "inner" one: true server name, ...) under the server's public key
// and sends it inside an "outer" ClientHello naming only the config's public name. A server
// holding the matching private key (ServerContextOptions::ech_keys) decrypts it and serves the
// inner one; one that cannot serves the outer one, authenticated for the public name, and
// sends its current configs (retry configs), with which the client connects again.
#ifndef SANSIO_TLS_CORE_ECH_H_
#define SANSIO_TLS_CORE_ECH_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sansio_tls {

// EchKey: one of a server's ECH keys with its ECHConfig.
struct EchKey {
  // The HPKE private key: X25519 (DHKEM(X25519, HKDF-SHA256)), 32 bytes. Secret.
  std::vector<uint8_t> private_key;
  // The serialized ECHConfig it serves (as MakeEchKey builds it): its config_id, public key,
  // cipher suites and public name. Public.
  std::vector<uint8_t> config;
  // Sent to clients whose ECH this server could not decrypt (an old or unknown config), so
  // they can connect again with it. A server needs at least one. Keys kept only so that
  // clients still holding their config get through (rotation) set it to false.
  bool retry_config = true;
};

// MakeEchKey generates a new X25519 key and its ECHConfig: |config_id| (the byte clients
// send to say which config they used; distinct per live key), |public_name| (the name the
// outer ClientHello carries, for which the server must hold a certificate), |max_name_length|
// (the longest inner name this config covers, so clients pad their inner ClientHello to
// hide its length; 0: BoringSSL's default padding). Error ERR_TLS_INVALID_ECH_CONFIG for an
// invalid public name.
Result<EchKey> MakeEchKey(uint8_t config_id, std::string_view public_name,
                          size_t max_name_length = 0);

// EchConfigList serializes the configs of |keys|, in order, as an ECHConfigList: what a
// server publishes (DNS HTTPS record "ech=") and what a client takes
// (SessionOptions::ech_config_list).
std::vector<uint8_t> EchConfigList(std::span<const EchKey> keys);

// What became of ECH on a connection (HandshakeInfo::ech).
enum class EchStatus : uint8_t {
  kNotOffered,  // client: no ECHConfigList given and no GREASE; server: the ClientHello had no
                // ECH extension
  kGrease,      // client: sent a GREASE ECH extension (ClientContextOptions::ech_grease, no config)
  kAccepted,    // the server decrypted the inner ClientHello; the connection is the inner one
  // Client: the server could not decrypt it and authenticated the outer handshake for the
  // public name; the connection fails with ERR_TLS_ECH_REJECTED and Session::
  // ech_retry_configs() holds what to connect again with (empty: connect without ECH).
  // Server: the ClientHello offered ECH (or GREASE) this server could not decrypt; it served
  // the outer ClientHello (its public name) and sent its retry configs.
  kRejected,
};

// "not_offered", "grease", "accepted", "rejected".
std::string_view EchStatusName(EchStatus status);

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_ECH_H_
