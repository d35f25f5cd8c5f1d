#include "core/context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/pool.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <string_view>

#include "core/internal/cert_compression.h"
#include "core/internal/context_config.h"
#include "core/internal/ech.h"
#include "core/internal/key_operation.h"
#include "core/internal/pem.h"
#include "core/internal/trust.h"

namespace sansio_tls {

std::string_view TlsVersionName(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10:
      return "TLSv1";
    case TlsVersion::kTls11:
      return "TLSv1.1";
    case TlsVersion::kTls12:
      return "TLSv1.2";
    case TlsVersion::kTls13:
      return "TLSv1.3";
  }
  return "";
}

CRYPTO_BUFFER_POOL* internal::SharedBufferPool() {
  // Identical certificates (our own and those peers send) share one copy process-wide.
  static CRYPTO_BUFFER_POOL* pool = CRYPTO_BUFFER_POOL_new();
  return pool;
}

void internal::WipeSecrets(Credentials& c) {
  OPENSSL_cleanse(c.key_pem.data(), c.key_pem.size());
  OPENSSL_cleanse(c.passphrase.data(), c.passphrase.size());
  OPENSSL_cleanse(c.pfx.data(), c.pfx.size());
  c.key_pem.clear();
  c.passphrase.clear();
  c.pfx.clear();
}

void internal::WipeSecrets(ContextConfig& config) {
  WipeSecrets(config.credentials);
  for (Credentials& c : config.alternative_credentials) WipeSecrets(c);
  for (SniContext& sni : config.sni_contexts) WipeSecrets(sni.credentials);
  for (EchKey& k : config.ech_keys) WipeSecrets(k);
}

void internal::WipeSecrets(EchKey& key) {
  OPENSSL_cleanse(key.private_key.data(), key.private_key.size());
  key.private_key.clear();
}

Context::Context() : config_(std::make_unique<internal::ContextConfig>()) {}

template <class Options>
Result<std::shared_ptr<const Context>> Context::CreateFor(const Options& options, Role role) {
  internal::ContextConfig config;
  config.role = role;
  internal::CopySharedFields(options, config);
  auto built = CreateFromConfig(config);
  internal::WipeSecrets(config);
  return built;
}

Result<std::shared_ptr<const Context>> Context::Create(const ServerContextOptions& options) {
  return CreateFor(options, Role::kServer);
}

Result<std::shared_ptr<const Context>> Context::Create(const ClientContextOptions& options) {
  return CreateFor(options, Role::kClient);
}

template <class Options>
static std::optional<Options> OptionsOf(const internal::ContextConfig& config, Role role) {
  if (config.role != role) return std::nullopt;
  Options options;
  internal::CopySharedFields(config, options);
  return options;
}

std::optional<ServerContextOptions> Context::server_options() const {
  return OptionsOf<ServerContextOptions>(*config_, Role::kServer);
}

std::optional<ClientContextOptions> Context::client_options() const {
  return OptionsOf<ClientContextOptions>(*config_, Role::kClient);
}

Result<std::shared_ptr<const Context>> Context::CreateFromConfig(
    const internal::ContextConfig& options) {
  ERR_clear_error();
  std::shared_ptr<Context> ctx(new Context());
  ctx->role_ = options.role;
  *ctx->config_ = options;
  // Secrets are not kept once loaded.
  internal::WipeSecrets(ctx->config_->credentials);

  for (TlsVersion v : {options.min_version, options.max_version}) {
    if (TlsVersionName(v).empty()) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "%04x", static_cast<unsigned>(v));
      return MakeError("ERR_TLS_INVALID_PROTOCOL_VERSION",
                       std::string("unknown TLS version 0x") + hex);
    }
  }
  if (options.min_version > options.max_version) {
    return MakeError(
        "ERR_TLS_INVALID_PROTOCOL_VERSION",
        std::string("min_version ") + std::string(TlsVersionName(options.min_version)) +
            " is above max_version " + std::string(TlsVersionName(options.max_version)));
  }

  bool server = options.role == Role::kServer;
  if (!options.psk_identity_hint.empty() &&
      (!options.psk_server_callback || options.psk_identity_hint.size() > PSK_MAX_IDENTITY_LEN ||
       options.psk_identity_hint.find('\0') != std::string::npos)) {
    return MakeError("ERR_TLS_INVALID_CONFIG",
                     "psk_identity_hint needs psk_server_callback and at most " +
                         std::to_string(PSK_MAX_IDENTITY_LEN) + " bytes without NUL");
  }
  bool psk = options.psk_client_callback || options.psk_server_callback;

  ctx->ssl_ctx_ = SSL_CTX_new(TLS_with_buffers_method());
  if (!ctx->ssl_ctx_) return MakeError("ERR_TLS_INVALID_CONFIG", "SSL_CTX_new failed");
  SSL_CTX* ssl_ctx = ctx->ssl_ctx_;
  SSL_CTX_set0_buffer_pool(ssl_ctx, internal::SharedBufferPool());
  SSL_CTX_set_min_proto_version(ssl_ctx, static_cast<uint16_t>(options.min_version));
  SSL_CTX_set_max_proto_version(ssl_ctx, static_cast<uint16_t>(options.max_version));

  // PSK: the default list gains the one PSK suite with forward secrecy and AEAD.
  std::string default_ciphers =
      std::string(kDefaultCiphers) + (psk ? ":ECDHE-PSK-CHACHA20-POLY1305" : "");
  const char* ciphers = options.ciphers.empty() ? default_ciphers.c_str() : options.ciphers.c_str();
  if (!SSL_CTX_set_strict_cipher_list(ssl_ctx, ciphers)) {
    ERR_clear_error();
    return MakeError("ERR_TLS_INVALID_CIPHERS", "cipher list \"" + options.ciphers +
                                                    "\" is invalid or names an unknown cipher");
  }
  if (options.min_version < TlsVersion::kTls12) {
    // A floor below TLS 1.2 set on purpose is useless without a suite those versions have.
    bool usable = false;
    const STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ssl_ctx);
    for (size_t i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
      if (SSL_CIPHER_get_min_version(sk_SSL_CIPHER_value(list, i)) < TLS1_2_VERSION) usable = true;
    }
    if (!usable) {
      return MakeError(
          "ERR_TLS_INVALID_CIPHERS",
          std::string("min_version ") + std::string(TlsVersionName(options.min_version)) +
              " needs a cipher suite TLS 1.0/1.1 can use (e.g. ECDHE-RSA-AES128-SHA); " +
              (options.ciphers.empty() ? "the default list has TLS 1.2+ suites only"
                                       : "\"" + options.ciphers + "\" has none"));
    }
  }
  if (options.role == Role::kServer && options.honor_cipher_order) {
    SSL_CTX_set_options(ssl_ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  if (options.certificate_compression && !internal::AddCertificateCompression(ssl_ctx)) {
    ERR_clear_error();
    return MakeError("ERR_TLS_INVALID_CONFIG", "could not register certificate compression");
  }

  if (!options.ecdh_curve.empty() &&
      !SSL_CTX_set1_curves_list(ssl_ctx, options.ecdh_curve.c_str())) {
    ERR_clear_error();
    return MakeError("ERR_TLS_INVALID_ECDH_CURVE", "ecdh_curve \"" + options.ecdh_curve +
                                                       "\" is invalid or names an unknown group");
  }

  // Our certificate and key.
  const Credentials& cred = options.credentials;
  bool has_key = !cred.key_pem.empty(), has_cert = !cred.cert_chain_pem.empty();
  bool external = cred.external_key.has_value();
  if (external && (has_key || !cred.pfx.empty() || !cred.passphrase.empty() || !has_cert)) {
    return MakeError("ERR_TLS_INVALID_CREDENTIALS",
                     "external_key takes the certificate chain in cert_chain_pem and no "
                     "key_pem, passphrase or pfx (the application holds the key)");
  }
  if (external) has_key = true;  // held by the application
  if (has_key != has_cert) {
    return MakeError("ERR_TLS_INVALID_CREDENTIALS",
                     has_key ? "a private key was given without a certificate"
                             : "a certificate was given without its private key");
  }
  bool has_pfx = !cred.pfx.empty();
  if (has_pfx && has_cert) {
    return MakeError("ERR_TLS_INVALID_CREDENTIALS",
                     "give either pfx or key_pem + cert_chain_pem, not both");
  }
  if (!has_cert && !has_pfx && server && !options.psk_server_callback) {
    return MakeError("ERR_TLS_MISSING_CERTIFICATE", "a server needs a certificate and private key");
  }
  if (!options.psk_identity_hint.empty() &&
      !SSL_CTX_use_psk_identity_hint(ssl_ctx, options.psk_identity_hint.c_str())) {
    ERR_clear_error();
    return MakeError("ERR_TLS_INVALID_CONFIG", "BoringSSL refused psk_identity_hint");
  }
  if (has_cert || has_pfx) {
    auto loaded =
        has_pfx    ? internal::LoadPkcs12(cred.pfx, cred.passphrase)
        : external ? internal::LoadChain(cred.cert_chain_pem)
                   : internal::LoadKeyAndChain(cred.key_pem, cred.passphrase, cred.cert_chain_pem);
    if (!loaded.ok()) return loaded.error();
    if (has_pfx) ctx->config_->credentials.cert_chain_pem = internal::ChainToPem(loaded->chain);
    std::vector<CRYPTO_BUFFER*> raw;
    for (auto& b : loaded->chain) raw.push_back(b.get());
    // An external key: BoringSSL asks internal::ExternalKeyMethod() (core/key_operation.cc),
    // which pauses the session; the label is found through the serving SSL_CTX.
    if (external) internal::SetExternalKeyLabel(ssl_ctx, &*ctx->config_->credentials.external_key);
    if (!SSL_CTX_set_chain_and_key(ssl_ctx, raw.data(), raw.size(), loaded->key.get(),
                                   external ? internal::ExternalKeyMethod() : nullptr)) {
      ERR_clear_error();
      return MakeError("ERR_TLS_INVALID_CREDENTIALS",
                       "BoringSSL refused the certificate chain and key");
    }
  }

  // Trust store.
  ctx->store_ = X509_STORE_new();
  bssl::UniquePtr<STACK_OF(CRYPTO_BUFFER)> ca_names(sk_CRYPTO_BUFFER_new_null());
  for (size_t i = 0; i < options.ca_pems.size(); ++i) {
    auto certs = internal::ParseCertificates(options.ca_pems[i]);
    if (!certs.ok()) {
      return MakeError("ERR_TLS_INVALID_CA",
                       "ca[" + std::to_string(i) + "]: " + certs.error().message);
    }
    for (auto& x509 : certs.value()) {
      X509_STORE_add_cert(ctx->store_, x509.get());
      ERR_clear_error();  // a duplicate certificate is not an error
      uint8_t* der = nullptr;
      int len = i2d_X509_NAME(X509_get_subject_name(x509.get()), &der);
      if (len > 0) {
        sk_CRYPTO_BUFFER_push(ca_names.get(),
                              CRYPTO_BUFFER_new(der, len, internal::SharedBufferPool()));
      }
      OPENSSL_free(der);
    }
  }

  // CRLs, the system bundle, accepted signature algorithms (core/internal/trust.cc).
  if (auto error = internal::ConfigureVerification(ssl_ctx, ctx->store_, options))
    return *std::move(error);

  for (const auto* list : {&options.verify_algorithms, &options.signing_algorithms}) {
    for (uint16_t alg : *list) {
      if (SSL_get_signature_algorithm_name(alg, 0) == nullptr) {
        return MakeError("ERR_TLS_INVALID_SIGALGS",
                         "unknown signature algorithm " + std::to_string(alg));
      }
    }
  }
  if ((!options.verify_algorithms.empty() &&
       !SSL_CTX_set_verify_algorithm_prefs(ssl_ctx, options.verify_algorithms.data(),
                                           options.verify_algorithms.size())) ||
      (!options.signing_algorithms.empty() &&
       !SSL_CTX_set_signing_algorithm_prefs(ssl_ctx, options.signing_algorithms.data(),
                                            options.signing_algorithms.size()))) {
    ERR_clear_error();
    return MakeError("ERR_TLS_INVALID_SIGALGS",
                     "a signature algorithm list names an unknown algorithm");
  }

  if (options.role == Role::kServer) {
    if (options.request_cert) SSL_CTX_set0_client_CAs(ssl_ctx, ca_names.release());
    SSL_CTX_set_session_id_context(ssl_ctx, reinterpret_cast<const uint8_t*>("sansio_tls"), 10);
  } else {
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
  }
  // Encrypted Client Hello (experimental, core/ech.h).
  if (!options.ech_keys.empty() || options.ech_grease) {
    if (options.max_version < TlsVersion::kTls13) {
      return MakeError(errc::kInvalidConfig, "ECH needs TLS 1.3 (max_version)");
    }
    if (server) {
      if (auto error = internal::InstallEchKeys(ssl_ctx, options.ech_keys))
        return *std::move(error);
      for (EchKey& k : ctx->config_->ech_keys) internal::WipeSecrets(k);  // kept: none
    }
  }
  if (auto error = ctx->SetUpLifecycle()) return *std::move(error);
  if (auto error = ctx->SetUpNegotiation()) return *std::move(error);
  return std::shared_ptr<const Context>(std::move(ctx));
}

Context::~Context() {
  internal::WipeSecrets(*config_);  // what a failed Create had not yet forgotten
  SSL_CTX_free(ssl_ctx_);
  X509_STORE_free(store_);
}

}  // namespace sansio_tls
