// In-memory test certificate factory.
//
// Builds keys, certificates, CRLs, encrypted keys and PKCS#12 bundles with
// BoringSSL so that tests never need checked-in private keys.
//
// These are test helpers: every function either returns a complete, valid
// object or, if BoringSSL reports a failure (or the input is unusable, e.g. a
// malformed IP address), prints the reason to stderr and calls std::abort().
// Nothing here returns a half-built certificate.
//
// Thread safety: all functions may be called concurrently. Keys are shared
// (std::shared_ptr); treat them as read-only.
#ifndef SANSIO_TLS_CORE_TESTING_CERT_FACTORY_H_
#define SANSIO_TLS_CORE_TESTING_CERT_FACTORY_H_

#include <openssl/base.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sansio_tls::testing {

// The wall clock as a Session takes it (Session::set_now, SessionOptions::now): milliseconds
// since the unix epoch. Test support: the core itself reads no clock.
std::chrono::milliseconds WallNow();

enum class KeyType { kEcdsaP256, kEcdsaP384, kRsa2048, kEd25519 };

// Returns a freshly generated key of |type|.
std::shared_ptr<EVP_PKEY> GenerateKey(KeyType type);

// Returns the same key for each (type, slot) pair for the lifetime of the
// process; the first call generates it. Thread-safe. Use it to keep suites fast
// (RSA key generation is slow); use distinct slots for distinct identities.
std::shared_ptr<EVP_PKEY> CachedKey(KeyType type, int slot = 0);

// What to put in a certificate. Defaults give a leaf for "localhost" with a
// fresh ECDSA P-256 key, valid from an hour ago for 30 days.
struct CertSpec {
  // Subject RDNs in order, one attribute per RDN. Attribute names are short
  // names (C ST L O OU CN emailAddress, ...) or dotted OIDs; values are UTF-8.
  // Repeats are allowed. May be empty (the SAN extension is then critical).
  std::vector<std::pair<std::string, std::string>> subject = {{"CN", "localhost"}};
  // subjectAltName entries; the extension is omitted when all are empty.
  std::vector<std::string> dns_names;     // wildcards allowed, e.g. "*.example.com"
  std::vector<std::string> ip_addresses;  // text form, IPv4 or IPv6
  std::vector<std::string> emails;
  std::vector<std::string> uris;
  KeyType key_type = KeyType::kEcdsaP256;
  std::shared_ptr<EVP_PKEY> key;  // if set, used instead of a new key of key_type
  // Validity in unix seconds. Each bound defaults independently:
  // 0 = now - 1 hour (not_before), now + 30 days (not_after).
  int64_t not_before = 0;
  int64_t not_after = 0;
  // CA: basicConstraints CA:TRUE (critical) and keyUsage keyCertSign, cRLSign
  // (critical). Non-CA certificates carry neither extension.
  bool is_ca = false;
  int path_length = -1;  // pathLenConstraint when >= 0 (CA certificates only)
  // extendedKeyUsage OIDs (dotted, e.g. "1.3.6.1.5.5.7.3.1", or short names
  // such as "serverAuth"); empty = no EKU extension.
  std::vector<std::string> ext_key_usage;
  // Non-CA certificates: keyUsage bits (RFC 5280 numbering: 0 digitalSignature,
  // 2 keyEncipherment, ...) in a critical extension; empty = no keyUsage extension.
  std::vector<int> key_usage_bits;
  // Serial number, big-endian unsigned magnitude. Empty = 16 random bytes with
  // the top bit clear and a non-zero first byte.
  std::vector<uint8_t> serial;
  // authorityInfoAccess OCSP / caIssuers URIs, each added when non-empty.
  std::string ocsp_url, ca_issuers_url;
};

// A generated certificate with its private key. Plain value type; copies share
// the key.
struct Cert {
  std::shared_ptr<EVP_PKEY> key;
  std::vector<uint8_t> der;     // certificate DER
  std::string cert_pem;         // "-----BEGIN CERTIFICATE-----..."
  std::string key_pem;          // unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY")
  std::vector<uint8_t> serial;  // big-endian serial as encoded (no leading zeros)
};

// Common extendedKeyUsage OIDs.
inline constexpr char kServerAuth[] = "1.3.6.1.5.5.7.3.1";
inline constexpr char kClientAuth[] = "1.3.6.1.5.5.7.3.2";

// Issuer = subject, signed with the certificate's own key. For a CA spec this
// is a root. Carries subjectKeyIdentifier and an authorityKeyIdentifier equal
// to it.
Cert MakeSelfSigned(const CertSpec& spec);

// Signed by |issuer| (which must hold a certificate and its matching key).
// The issuer name is |issuer|'s subject; authorityKeyIdentifier is |issuer|'s
// subjectKeyIdentifier, and a subjectKeyIdentifier is set.
Cert MakeSigned(const CertSpec& spec, const Cert& issuer);

// |cert|'s key as encrypted PKCS#8 PEM ("BEGIN ENCRYPTED PRIVATE KEY", PBES2
// with AES-256-CBC), readable with PEM_read_bio_PrivateKey and a passphrase
// callback.
std::string EncryptedKeyPem(const Cert& cert, const std::string& passphrase);

// PKCS#12 (DER) holding |leaf|'s key and certificate plus |chain|'s
// certificates, via PKCS12_create (key and certificates encrypted with
// pbeWithSHAAnd3-KeyTripleDES-CBC so OpenSSL 3 reads it without its legacy
// provider; SHA-1 MAC).
std::vector<uint8_t> MakePkcs12(const Cert& leaf, const std::vector<Cert>& chain,
                                const std::string& passphrase);

// A v2 CRL in PEM issued and signed by |issuer|, listing |revoked_serials|
// (big-endian, as in Cert::serial) revoked at this_update. Carries
// authorityKeyIdentifier and cRLNumber 1. Times in unix seconds:
// 0 = now - 1 hour (this_update), now + 7 days (next_update).
std::string MakeCrlPem(const Cert& issuer, const std::vector<std::vector<uint8_t>>& revoked_serials,
                       int64_t this_update = 0, int64_t next_update = 0);

// A ready-made PKI: root CA -> intermediate CA (pathlen 0) -> server leaf
// "localhost" (SANs DNS:localhost, IP:127.0.0.1, IP:::1; EKU serverAuth), and a
// client leaf (CN "client", EKU clientAuth) signed by the same intermediate.
struct TestPki {
  Cert root, intermediate, server, client;
  std::string server_chain_pem() const;  // server + intermediate PEMs
  std::string client_chain_pem() const;  // client + intermediate PEMs
};

// Keys come from CachedKey(type, 0..3) (root, intermediate, server, client),
// so repeated calls are fast; certificates (and serials) are new each call.
TestPki MakeTestPki(KeyType type = KeyType::kEcdsaP256);

// Helpers for tests inspecting results.

// Parses |cert|.der into a new X509 (owned by the caller).
bssl::UniquePtr<X509> ToX509(const Cert& cert);

// Converts an ASN1_TIME to unix seconds.
int64_t ToUnixTime(const ASN1_TIME* time);

}  // namespace sansio_tls::testing

#endif  // SANSIO_TLS_CORE_TESTING_CERT_FACTORY_H_
