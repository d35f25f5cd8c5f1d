// Context: configuration shared by many sessions (Node's SecureContext + server/client options).
#ifndef SANSIO_TLS_CORE_CONTEXT_H_
#define SANSIO_TLS_CORE_CONTEXT_H_

#include <openssl/base.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace sansio_tls {

enum class Role { kClient, kServer };

// Protocol versions. TLS 1.2 is the floor; nothing older can be configured.
enum class TlsVersion : uint16_t { kTls12 = 0x0303, kTls13 = 0x0304 };

// Credentials: a private key with its certificate chain (PEM).
struct Credentials {
  std::string key_pem;         // PKCS#8 or traditional PEM, possibly encrypted
  std::string passphrase;      // for an encrypted key_pem; ignored otherwise
  std::string cert_chain_pem;  // leaf first, then intermediates
};

// ContextOptions configures a Context. Defaults are the secure ones.
struct ContextOptions {
  Role role = Role::kClient;

  // Our own certificate: required for a server, optional for a client
  // (presented when the server asks for one).
  Credentials credentials;

  // Trusted CA certificates (PEM, each string may hold several). Used to verify the peer.
  std::vector<std::string> ca_pems;

  // TLS 1.2 cipher suites, OpenSSL syntax ("ECDHE-ECDSA-AES128-GCM-SHA256:..."). Empty keeps
  // BoringSSL's defaults. TLS 1.3 suites are not configurable in this BoringSSL.
  std::string ciphers;

  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;

  // Server: ask the client for a certificate. Client: unused.
  bool request_cert = false;
  // Client: a server certificate that fails verification ends the handshake.
  // Server (with request_cert): an unauthorized client is refused before the application
  // sees the connection. Node's default is true on both sides, and so is ours.
  bool reject_unauthorized = true;
};

// Context is immutable once built and shared by reference count across sessions and
// threads. It owns the SSL_CTX and the trust store.
class Context {
 public:
  // Create validates |options| and builds the context. On failure the Error names what was
  // wrong (code ERR_TLS_INVALID_CONFIG or a more specific ERR_* code) and nothing is built.
  static Result<std::shared_ptr<const Context>> Create(const ContextOptions& options);

  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const ContextOptions& options() const { return options_; }
  Role role() const { return options_.role; }

  // Borrowed; lives as long as this Context.
  SSL_CTX* ssl_ctx() const { return ssl_ctx_; }
  X509_STORE* trust_store() const { return store_; }

 private:
  Context() = default;

  ContextOptions options_;
  SSL_CTX* ssl_ctx_ = nullptr;
  X509_STORE* store_ = nullptr;
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_CONTEXT_H_
