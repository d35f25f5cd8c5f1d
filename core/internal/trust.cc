#include "core/internal/trust.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

#include "core/internal/pem.h"

namespace sansio_tls::internal {
namespace {

constexpr uintmax_t kMaxBundleBytes = 16 * 1024 * 1024;

// BoringSSL's default verification preferences (this version) with Ed25519 added, so
// Ed25519 certificates work as in Node/OpenSSL.
constexpr uint16_t kVerifyAlgorithms[] = {
    SSL_SIGN_ECDSA_SECP256R1_SHA256, SSL_SIGN_RSA_PSS_RSAE_SHA256, SSL_SIGN_RSA_PKCS1_SHA256,
    SSL_SIGN_ECDSA_SECP384R1_SHA384, SSL_SIGN_RSA_PSS_RSAE_SHA384, SSL_SIGN_RSA_PKCS1_SHA384,
    SSL_SIGN_RSA_PSS_RSAE_SHA512,    SSL_SIGN_RSA_PKCS1_SHA512,    SSL_SIGN_ED25519,
    SSL_SIGN_RSA_PKCS1_SHA1,
};

struct CachedBundle {
  std::filesystem::file_time_type mtime;
  uintmax_t size = 0;
  std::shared_ptr<const CertificateList> certs;
};

}  // namespace

Result<std::shared_ptr<const CertificateList>> SystemCaCertificates(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, CachedBundle>* cache = new std::map<std::string, CachedBundle>;

  const std::string where = "system CA bundle " + path + ": ";
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(path, ec);
  uintmax_t size = ec ? 0 : std::filesystem::file_size(path, ec);
  if (ec) return MakeError("ERR_TLS_INVALID_CA", where + "cannot be read (" + ec.message() + ")");
  if (size > kMaxBundleBytes) return MakeError("ERR_TLS_INVALID_CA", where + "larger than 16 MiB");
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache->find(path);
    if (it != cache->end() && it->second.mtime == mtime && it->second.size == size) {
      return it->second.certs;
    }
  }
  std::ifstream in(path, std::ios::binary);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return MakeError("ERR_TLS_INVALID_CA", where + "cannot be read");
  if (pem.size() > kMaxBundleBytes)
    return MakeError("ERR_TLS_INVALID_CA", where + "larger than 16 MiB");
  auto parsed = ParseCertificates(pem);
  if (!parsed.ok()) return MakeError("ERR_TLS_INVALID_CA", where + parsed.error().message);
  auto certs = std::make_shared<const CertificateList>(std::move(parsed).value());
  std::lock_guard<std::mutex> lock(mu);
  (*cache)[path] = CachedBundle{mtime, size, certs};
  return certs;
}

std::optional<Error> ConfigureVerification(SSL_CTX* ssl_ctx, X509_STORE* store,
                                           const ContextConfig& options) {
  for (size_t i = 0; i < options.crl_pems.size(); ++i) {
    auto crls = ParseCrls(options.crl_pems[i]);
    if (!crls.ok()) {
      return MakeError("ERR_TLS_INVALID_CRL",
                       "crl[" + std::to_string(i) + "]: " + crls.error().message);
    }
    for (auto& crl : crls.value()) {
      X509_STORE_add_crl(store, crl.get());
      ERR_clear_error();  // a duplicate CRL is not an error
    }
  }
  if (!options.crl_pems.empty()) {
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  }

  if (options.use_system_ca) {
    auto certs = SystemCaCertificates(options.system_ca_file);
    if (!certs.ok()) return certs.error();
    for (const auto& x509 : *certs.value()) {
      X509_STORE_add_cert(store, x509.get());
      ERR_clear_error();  // already trusted through ca_pems
    }
  }

  if (!SSL_CTX_set_verify_algorithm_prefs(ssl_ctx, kVerifyAlgorithms,
                                          std::size(kVerifyAlgorithms))) {
    ERR_clear_error();
    return MakeError("ERR_TLS_INVALID_CONFIG", "BoringSSL refused the signature algorithms");
  }
  return std::nullopt;
}

}  // namespace sansio_tls::internal
