// The peer certificate as a plain value: Node.js's
// `tlsSocket.getPeerCertificate(detailed)` built from certificate DER.
//
// Field formats follow Node (src/crypto/crypto_common.cc, X509ToObject) on
// OpenSSL 3; deviations are listed on the fields. Pure functions, no state;
// safe from any thread. Arbitrary input bytes never crash (fuzzed).
#ifndef SANSIO_TLS_CORE_X509_PEER_CERTIFICATE_H_
#define SANSIO_TLS_CORE_X509_PEER_CERTIFICATE_H_

#include <openssl/base.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sansio_tls {

struct PeerCertificate {
  // Distinguished name attributes in certificate order, repeats kept. Keys are
  // BoringSSL's short names (C ST L O OU CN emailAddress DC serialNumber ...;
  // a few OpenSSL 3 names BoringSSL lacks, e.g. jurisdictionC,
  // organizationIdentifier, are filled in), else the dotted OID. Values are
  // UTF-8, unescaped. If any value cannot be converted to UTF-8 the whole
  // name is left empty (Node leaves it undefined).
  std::vector<std::pair<std::string, std::string>> subject, issuer;

  // Node's subjectaltname: "DNS:a.com, IP Address:1.2.3.4, IP Address:FE80:0:0:0:0:0:0:1,
  // URI:..., email:..., DirName:..., Registered ID:1.2.3, othername:XmppAddr:..."
  // joined by ", "; names with unsafe characters (, " \ ' controls, non-ASCII)
  // are JSON-quoted exactly as Node does. Empty when the certificate has no
  // (parsable) subjectAltName extension.
  std::string subjectaltname;

  // authorityInfoAccess entries in order, as Node's infoAccess object after
  // translation: key "<method> - <name type>", value the decoded name, e.g.
  // {"OCSP - URI", "http://ocsp.example"}, {"CA Issuers - URI", "http://..."}.
  std::vector<std::pair<std::string, std::string>> info_access;

  // X509_check_ca(cert) == 1, as Node's `ca`.
  bool ca = false;

  // RSA: modulus as upper-case hex without leading zeros (BN_print),
  // exponent as "0x" + lower-case hex ("0x10001"), bits = modulus bits.
  // EC: bits = order bits (256 for P-256), asn1_curve ("prime256v1"),
  // nist_curve ("P-256"). Other key types (Ed25519 ...): none of these, bits 0
  // (Node reports nothing for them either).
  std::string modulus, exponent;
  int bits = 0;
  std::string asn1_curve, nist_curve;

  // The certificate's SubjectPublicKeyInfo, DER, for every key type.
  // Deviation: Node gives SPKI DER only for RSA; for EC it gives the raw
  // (uncompressed) public point, and nothing for other key types.
  std::vector<uint8_t> pubkey;

  // ASN1_TIME_print form: "Nov 11 09:52:22 2009 GMT" (day space-padded);
  // "Bad time value" if the time does not parse.
  std::string valid_from, valid_to;

  // Upper-case hex bytes joined by ':' of the SHA-1 / SHA-256 / SHA-512 of raw.
  std::string fingerprint, fingerprint256, fingerprint512;

  // extendedKeyUsage OIDs, dotted, in certificate order; empty when absent.
  std::vector<std::string> ext_key_usage;

  // Serial number as upper-case hex, two digits per byte, no leading zero
  // bytes ("0" for zero, "-" prefix if negative): OpenSSL's BN_bn2hex.
  std::string serial_number;

  // The certificate DER.
  std::vector<uint8_t> raw;

  // Detailed mode only: the issuer found in the given chain, recursively.
  // A self-issued last certificate (a root) refers to itself: then
  // issuer_is_self is true and issuer_certificate is null (no shared_ptr
  // cycle). Use issuer_cert() to follow the chain uniformly.
  std::shared_ptr<const PeerCertificate> issuer_certificate;
  bool issuer_is_self = false;

  // The issuer certificate (this for a self-issued root), or nullptr.
  const PeerCertificate* issuer_cert() const {
    return issuer_is_self ? this : issuer_certificate.get();
  }
};

// Most certificate objects in a detailed chain, leaf included (ours; Node has
// no limit). A longer issuer path is cut there: its last object then has no
// issuer (bounds recursion in ToJson and in destruction).
inline constexpr std::size_t kMaxIssuerChainLength = 100;

// Builds the peer certificate from a chain of DER certificates, leaf first.
// Not detailed: only the leaf is read. Detailed: issuer_certificate links are
// built like Node's getPeerCertificate(true): starting from the leaf, the
// issuer of the current certificate is the first not-yet-used certificate of
// the chain that issued it (X509_check_issued: issuer name equals subject
// name, key identifiers and key usage agree); a last certificate that issued
// itself refers to itself. Certificates that issued nothing in the path are
// ignored. (Node also looks in the trust store; this pure function cannot.)
//
// Returns std::nullopt if the chain is empty or any certificate it must read
// is not exactly one DER certificate (trailing bytes are rejected).
std::optional<PeerCertificate> ParsePeerCertificate(
    std::span<const std::vector<uint8_t>> chain_der_leaf_first, bool detailed);

// One certificate, not detailed.
std::optional<PeerCertificate> ParsePeerCertificate(std::span<const uint8_t> der);

// Renders |cert| as a JSON object with Node's field names, in Node's order:
// subject, issuer (objects; a repeated key becomes an array of its values),
// subjectaltname, infoAccess (object: key -> array of values), ca,
// RSA: modulus, bits, exponent, pubkey; EC: bits, pubkey, asn1Curve,
// nistCurve; others: pubkey; then valid_from, valid_to, fingerprint,
// fingerprint256, fingerprint512, ext_key_usage (array), serialNumber,
// raw, issuerCertificate.
// Binary fields (pubkey, raw) are standard base64 strings (Node gives Buffers).
// Empty strings/lists and bits 0 are omitted, as Node omits absent fields.
// issuerCertificate is the nested object; a self-reference is rendered as the
// string "[Circular]". Strings are escaped so the output is always valid
// UTF-8 JSON (invalid UTF-8 bytes are rendered as \u00XX, i.e. as Latin-1).
std::string ToJson(const PeerCertificate& cert);

namespace x509_internal {

// Helpers shared by the //core/x509 sources; not part of the API.

// The subjectaltname string of |cert| (Node's format); std::nullopt if the
// certificate has no subjectAltName extension or it does not parse.
std::optional<std::string> SubjectAltNameString(const X509* cert);

// The name's attributes as PeerCertificate::subject describes; std::nullopt if
// a value cannot be converted to UTF-8.
std::optional<std::vector<std::pair<std::string, std::string>>> NameEntries(const X509_NAME* name);

// Parses exactly one DER certificate (no trailing bytes); nullptr otherwise.
bssl::UniquePtr<X509> ParseDer(std::span<const uint8_t> der);

}  // namespace x509_internal

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_X509_PEER_CERTIFICATE_H_
