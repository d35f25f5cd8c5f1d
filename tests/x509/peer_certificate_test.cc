// getPeerCertificate as a value: every field against independently computed
// values (digests and encodings straight from BoringSSL, dates and names as
// set in the spec). Formats were checked against Node 20's
// X509Certificate.toLegacyObject() on the same certificates.

#include "core/x509/peer_certificate.h"

#include <gtest/gtest.h>
#include <openssl/base64.h>
#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "core/testing/cert_factory.h"
#include "core/x509/hostname.h"
#include "tests/x509/test_certs.h"

namespace sansio_tls {
namespace {

using testing::Cert;
using testing::CertSpec;
using testing::KeyType;
using Pairs = std::vector<std::pair<std::string, std::string>>;

// --- Independent expectations ----------------------------------------------

std::string ColonHex(const uint8_t* md, size_t len) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof(buf), i == 0 ? "%02X" : ":%02X", md[i]);
    out += buf;
  }
  return out;
}

std::string Sha1Fp(const std::vector<uint8_t>& d) {
  uint8_t md[SHA_DIGEST_LENGTH];
  SHA1(d.data(), d.size(), md);
  return ColonHex(md, sizeof(md));
}
std::string Sha256Fp(const std::vector<uint8_t>& d) {
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(d.data(), d.size(), md);
  return ColonHex(md, sizeof(md));
}
std::string Sha512Fp(const std::vector<uint8_t>& d) {
  uint8_t md[SHA512_DIGEST_LENGTH];
  SHA512(d.data(), d.size(), md);
  return ColonHex(md, sizeof(md));
}

std::vector<uint8_t> Spki(const std::shared_ptr<EVP_PKEY>& key) {
  uint8_t* der = nullptr;
  const int len = i2d_PUBKEY(key.get(), &der);
  EXPECT_GT(len, 0);
  std::vector<uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::string B64(const std::vector<uint8_t>& d) {
  size_t len = 0;
  EVP_EncodedLength(&len, d.size());
  std::string out(len, '\0');
  out.resize(EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()), d.data(), d.size()));
  return out;
}

// The RSA modulus as BN_print writes it: upper-case hex, no leading zeros.
std::string ModulusHex(const std::shared_ptr<EVP_PKEY>& key) {
  const RSA* rsa = EVP_PKEY_get0_RSA(key.get());
  char* hex = BN_bn2hex(RSA_get0_n(rsa));
  std::string s(hex);
  OPENSSL_free(hex);
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s.substr(s.find_first_not_of('0'));
}

std::optional<PeerCertificate> Parse(const std::vector<uint8_t>& der) {
  return ParsePeerCertificate(std::span<const uint8_t>(der));
}

// --- Fields ---------------------------------------------------------------------

constexpr int64_t kNov11_2009 = 1257933142;  // Nov 11 09:52:22 2009 UTC
constexpr int64_t kMar5_2051 = 2561612889;   // Mar  5 07:08:09 2051 UTC (GeneralizedTime)

TEST(PeerCertificate, RsaLeafAllFields) {
  CertSpec spec;
  spec.subject = {{"C", "US"},
                  {"ST", "California"},
                  {"L", "San Francisco"},
                  {"O", "Example Org"},
                  {"OU", "Unit A"},
                  {"OU", "Unit B"},
                  {"CN", "a.example.com"},
                  {"emailAddress", "admin@example.com"},
                  {"1.2.3.4.5.6", "custom"}};
  spec.dns_names = {"a.example.com", "*.b.example.com"};
  spec.ip_addresses = {"10.1.2.3", "fe80::1"};
  spec.emails = {"me@example.com"};
  spec.uris = {"https://example.com/x?y=1"};
  spec.key = testing::CachedKey(KeyType::kRsa2048, 0);
  spec.not_before = kNov11_2009;
  spec.not_after = kMar5_2051;
  spec.ext_key_usage = {testing::kServerAuth, testing::kClientAuth, "1.2.3.4.5"};
  spec.serial = {0x0F, 0xA0, 0x01};
  spec.ocsp_url = "http://ocsp.example.com/";
  spec.ca_issuers_url = "http://ca.example.com/ca.der";
  const Cert cert = testing::MakeSelfSigned(spec);

  const std::optional<PeerCertificate> pc = Parse(cert.der);
  ASSERT_TRUE(pc.has_value());
  EXPECT_EQ(pc->subject, spec.subject);
  EXPECT_EQ(pc->issuer, spec.subject);  // self-signed
  EXPECT_EQ(pc->subjectaltname,
            "DNS:a.example.com, DNS:*.b.example.com, IP Address:10.1.2.3, "
            "IP Address:FE80:0:0:0:0:0:0:1, email:me@example.com, "
            "URI:https://example.com/x?y=1");
  EXPECT_EQ(pc->info_access, (Pairs{{"OCSP - URI", "http://ocsp.example.com/"},
                                    {"CA Issuers - URI", "http://ca.example.com/ca.der"}}));
  EXPECT_FALSE(pc->ca);
  EXPECT_EQ(pc->modulus, ModulusHex(spec.key));
  EXPECT_EQ(pc->modulus.size(), 512u);
  EXPECT_EQ(pc->bits, 2048);
  EXPECT_EQ(pc->exponent, "0x10001");
  EXPECT_EQ(pc->asn1_curve, "");
  EXPECT_EQ(pc->nist_curve, "");
  EXPECT_EQ(pc->pubkey, Spki(spec.key));
  EXPECT_EQ(pc->valid_from, "Nov 11 09:52:22 2009 GMT");
  EXPECT_EQ(pc->valid_to, "Mar  5 07:08:09 2051 GMT");
  EXPECT_EQ(pc->fingerprint, Sha1Fp(cert.der));
  EXPECT_EQ(pc->fingerprint256, Sha256Fp(cert.der));
  EXPECT_EQ(pc->fingerprint512, Sha512Fp(cert.der));
  EXPECT_EQ(pc->fingerprint.size(), 20u * 3 - 1);
  EXPECT_EQ(pc->fingerprint256.size(), 32u * 3 - 1);
  EXPECT_EQ(pc->fingerprint512.size(), 64u * 3 - 1);
  EXPECT_EQ(pc->ext_key_usage,
            (std::vector<std::string>{"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2", "1.2.3.4.5"}));
  EXPECT_EQ(pc->serial_number, "0FA001");
  EXPECT_EQ(pc->raw, cert.der);
  EXPECT_EQ(pc->issuer_certificate, nullptr);
  EXPECT_FALSE(pc->issuer_is_self);
  EXPECT_EQ(pc->issuer_cert(), nullptr);
}

struct EcCase {
  KeyType type;
  int bits;
  const char* asn1;
  const char* nist;
};

TEST(PeerCertificate, EcdsaCurves) {
  for (const EcCase& c : {EcCase{KeyType::kEcdsaP256, 256, "prime256v1", "P-256"},
                          EcCase{KeyType::kEcdsaP384, 384, "secp384r1", "P-384"}}) {
    CertSpec spec;
    spec.key = testing::CachedKey(c.type, 0);
    const Cert cert = testing::MakeSelfSigned(spec);
    const auto pc = Parse(cert.der);
    ASSERT_TRUE(pc.has_value());
    EXPECT_EQ(pc->bits, c.bits);
    EXPECT_EQ(pc->asn1_curve, c.asn1);
    EXPECT_EQ(pc->nist_curve, c.nist);
    EXPECT_EQ(pc->modulus, "");
    EXPECT_EQ(pc->exponent, "");
    EXPECT_EQ(pc->pubkey, Spki(spec.key));
    EXPECT_EQ(pc->subject, (Pairs{{"CN", "localhost"}}));
    EXPECT_EQ(pc->fingerprint256, Sha256Fp(cert.der));
    EXPECT_TRUE(pc->subjectaltname.empty());  // no SAN extension
    EXPECT_TRUE(pc->info_access.empty());
    EXPECT_TRUE(pc->ext_key_usage.empty());
  }
}

TEST(PeerCertificate, Ed25519HasNoKeyDetailsButHasSpki) {
  CertSpec spec;
  spec.key_type = KeyType::kEd25519;
  const Cert cert = testing::MakeSelfSigned(spec);
  const auto pc = Parse(cert.der);
  ASSERT_TRUE(pc.has_value());
  EXPECT_EQ(pc->bits, 0);  // Node reports no bits for Ed25519
  EXPECT_EQ(pc->modulus, "");
  EXPECT_EQ(pc->asn1_curve, "");
  EXPECT_EQ(pc->pubkey, Spki(cert.key));
  EXPECT_EQ(pc->pubkey.size(), 44u);
  EXPECT_EQ(ToJson(*pc).find("\"bits\""), std::string::npos);
}

TEST(PeerCertificate, SerialNumbers) {
  const std::pair<std::vector<uint8_t>, std::string> cases[] = {
      {{0x01}, "01"},
      {{0x7F}, "7F"},
      {{0x80}, "80"},  // encoded with a leading 0x00, which is not shown
      {{0xFF, 0x00, 0x01}, "FF0001"},
      {{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
        0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14},
       "0102030405060708090A0B0C0D0E0F1011121314"},
  };
  for (const auto& [serial, hex] : cases) {
    CertSpec spec;
    spec.serial = serial;
    spec.key = testing::CachedKey(KeyType::kEcdsaP256, 0);
    const auto pc = Parse(testing::MakeSelfSigned(spec).der);
    ASSERT_TRUE(pc.has_value());
    EXPECT_EQ(pc->serial_number, hex);
  }
}

TEST(PeerCertificate, ValidityDates) {
  const std::pair<int64_t, const char*> cases[] = {
      {kNov11_2009, "Nov 11 09:52:22 2009 GMT"}, {0 + 86400 * 4, "Jan  5 00:00:00 1970 GMT"},
      {2524607999, "Dec 31 23:59:59 2049 GMT"},  // last UTCTime second
      {2524608000, "Jan  1 00:00:00 2050 GMT"},  // first GeneralizedTime second
      {kMar5_2051, "Mar  5 07:08:09 2051 GMT"},
  };
  for (const auto& [t, text] : cases) {
    CertSpec spec;
    spec.key = testing::CachedKey(KeyType::kEcdsaP256, 0);
    spec.not_before = t;
    spec.not_after = t + 1;
    const auto pc = Parse(testing::MakeSelfSigned(spec).der);
    ASSERT_TRUE(pc.has_value());
    EXPECT_EQ(pc->valid_from, text);
  }
}

TEST(PeerCertificate, CaFlagAndIssuerNames) {
  const testing::TestPki pki = testing::MakeTestPki();
  const auto root = Parse(pki.root.der);
  const auto inter = Parse(pki.intermediate.der);
  const auto server = Parse(pki.server.der);
  ASSERT_TRUE(root && inter && server);
  EXPECT_TRUE(root->ca);
  EXPECT_TRUE(inter->ca);
  EXPECT_FALSE(server->ca);
  EXPECT_EQ(server->issuer, inter->subject);
  EXPECT_EQ(inter->issuer, root->subject);
  EXPECT_EQ(root->issuer, root->subject);
  EXPECT_EQ(server->subjectaltname,
            "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
  EXPECT_EQ(server->ext_key_usage, (std::vector<std::string>{"1.3.6.1.5.5.7.3.1"}));
}

TEST(PeerCertificate, SubjectRepeatsUnknownOidsAndUtf8) {
  CertSpec spec;
  spec.key = testing::CachedKey(KeyType::kEcdsaP256, 0);
  spec.subject = {{"CN", "one"},     {"O", "Ünïcödé \"quoted\", with comma"},
                  {"CN", "two"},     {"1.3.6.1.4.1.99999.1", "private"},
                  {"DC", "example"}, {"serialNumber", "123"},
                  {"CN", "three"}};
  const auto pc = Parse(testing::MakeSelfSigned(spec).der);
  ASSERT_TRUE(pc.has_value());
  EXPECT_EQ(pc->subject, spec.subject);
  const std::string json = ToJson(*pc);
  EXPECT_NE(json.find("\"subject\":{\"CN\":[\"one\",\"two\",\"three\"],"
                      "\"O\":\"Ünïcödé \\\"quoted\\\", with comma\","
                      "\"1.3.6.1.4.1.99999.1\":\"private\",\"DC\":\"example\","
                      "\"serialNumber\":\"123\"}"),
            std::string::npos)
      << json;
}

TEST(PeerCertificate, UnusualSubjectAltNamesFormattedLikeNode) {
  namespace tc = test_certs;
  std::vector<tc::Name> names;
  names.push_back(tc::Ia5Name(GEN_DNS, "a,b.example.com"));
  names.push_back(tc::Ia5Name(GEN_DNS, "q\"uote\\d"));
  names.push_back(tc::Ia5Name(GEN_URI, "http://ex.com/\xe9\x01'"));
  names.push_back(tc::Ia5Name(GEN_EMAIL, "user@example.com"));
  names.push_back(tc::IpName({1, 2, 3, 4, 5}));
  names.push_back(tc::IpName({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd}));
  names.push_back(tc::RidName("1.2.3.4"));
  names.push_back(tc::OtherName("1.3.6.1.5.5.7.8.5", "me@xmpp.example"));
  names.push_back(tc::OtherName("1.3.6.1.5.5.7.8.5", "ia5", /*utf8=*/false));
  names.push_back(tc::OtherName("1.3.6.1.5.5.7.8.7", "_http.example.com", /*utf8=*/false));
  names.push_back(tc::OtherName("1.3.6.1.4.1.311.20.2.3", "a,b@example.com"));
  names.push_back(tc::OtherName("1.2.3.4.5", "x"));
  names.push_back(tc::DirName({{"C", "US"}, {"O", "Example, Inc."}, {"CN", "Dir Name"}}));
  names.push_back(tc::DirName({{"CN", "plain"}}));
  const std::vector<uint8_t> der = tc::CertWithNames({{"CN", "x"}}, std::move(names));
  const auto pc = Parse(der);
  ASSERT_TRUE(pc.has_value());
  EXPECT_EQ(pc->subjectaltname,
            "DNS:\"a\\u002cb.example.com\", "
            "DNS:\"q\\\"uote\\\\d\", "
            "URI:\"http://ex.com/\\u00e9\\u0001'\", "
            "email:user@example.com, "
            "IP Address:<invalid length=5>, "
            "IP Address:2001:DB8:0:0:0:0:0:ABCD, "
            "Registered ID:1.2.3.4, "
            "othername:XmppAddr:me@xmpp.example, "
            "othername:<unsupported>, "
            "othername:SRVName:_http.example.com, "
            "othername:\"UPN:a\\u002cb@example.com\", "
            "othername:<unsupported>, "
            "DirName:\"CN=Dir Name\\u002cO=Example\\\\\\u002c Inc.\\u002cC=US\", "
            "DirName:CN=plain");
}

TEST(PeerCertificate, UnconvertibleNameValue) {
  // A subject value that cannot be converted to UTF-8 (a BMPString holding an
  // unpaired surrogate), patched into an otherwise valid certificate. Node
  // would leave the subject undefined; BoringSSL refuses to parse such a name
  // at all, so the certificate is unparsable here. Either way: no crash, no
  // name.
  CertSpec spec;
  spec.key = testing::CachedKey(KeyType::kEcdsaP256, 0);
  spec.subject = {{"CN", "raw"}, {"O", "XYZW"}};
  std::vector<uint8_t> der = testing::MakeSelfSigned(spec).der;
  const uint8_t utf8[] = {0x0C, 0x04, 'X', 'Y', 'Z', 'W'};
  const uint8_t printable[] = {0x13, 0x04, 'X', 'Y', 'Z', 'W'};
  const uint8_t bmp[] = {0x1E, 0x04, 0xD8, 0x00, 0x00, 0x41};
  auto it = std::search(der.begin(), der.end(), std::begin(utf8), std::end(utf8));
  if (it == der.end()) {
    it = std::search(der.begin(), der.end(), std::begin(printable), std::end(printable));
  }
  ASSERT_NE(it, der.end());
  std::copy(std::begin(bmp), std::end(bmp), it);
  const auto pc = Parse(der);
  if (pc.has_value()) {
    EXPECT_TRUE(pc->subject.empty());
  }
  EXPECT_FALSE(CheckServerIdentity("raw", der).ok);
}

// --- Detailed chains -------------------------------------------------------------

std::vector<std::vector<uint8_t>> Ders(std::initializer_list<const Cert*> certs) {
  std::vector<std::vector<uint8_t>> out;
  for (const Cert* c : certs) out.push_back(c->der);
  return out;
}

TEST(PeerCertificate, DetailedChainLinksIssuers) {
  const testing::TestPki pki = testing::MakeTestPki();
  for (const auto& chain : {Ders({&pki.server, &pki.intermediate, &pki.root}),
                            Ders({&pki.server, &pki.root, &pki.intermediate}),
                            Ders({&pki.server, &pki.client, &pki.root, &pki.intermediate})}) {
    const auto pc = ParsePeerCertificate(chain, /*detailed=*/true);
    ASSERT_TRUE(pc.has_value());
    EXPECT_EQ(pc->raw, pki.server.der);
    ASSERT_NE(pc->issuer_certificate, nullptr);
    const PeerCertificate& inter = *pc->issuer_certificate;
    EXPECT_EQ(inter.raw, pki.intermediate.der);
    EXPECT_EQ(pc->issuer_cert(), &inter);
    ASSERT_NE(inter.issuer_certificate, nullptr);
    const PeerCertificate& root = *inter.issuer_certificate;
    EXPECT_EQ(root.raw, pki.root.der);
    EXPECT_TRUE(root.issuer_is_self);
    EXPECT_EQ(root.issuer_certificate, nullptr);
    EXPECT_EQ(root.issuer_cert(), &root);
    EXPECT_FALSE(pc->issuer_is_self);
    EXPECT_FALSE(inter.issuer_is_self);

    const std::string json = ToJson(*pc);
    EXPECT_NE(json.find("\"issuerCertificate\":\"[Circular]\""), std::string::npos);
    EXPECT_NE(json.find("\"issuerCertificate\":{\"subject\""), std::string::npos);
    EXPECT_NE(json.find("\"raw\":\"" + B64(pki.root.der) + "\""), std::string::npos);
  }
}

TEST(PeerCertificate, DetailedChainWithoutRootEndsAtIntermediate) {
  const testing::TestPki pki = testing::MakeTestPki();
  const auto pc = ParsePeerCertificate(Ders({&pki.server, &pki.intermediate}), /*detailed=*/true);
  ASSERT_TRUE(pc.has_value());
  ASSERT_NE(pc->issuer_certificate, nullptr);
  EXPECT_EQ(pc->issuer_certificate->raw, pki.intermediate.der);
  EXPECT_EQ(pc->issuer_certificate->issuer_cert(), nullptr);
  EXPECT_EQ(ToJson(*pc).find("[Circular]"), std::string::npos);

  // A certificate that issued nothing in the path is ignored.
  const auto only_leaf = ParsePeerCertificate(Ders({&pki.server, &pki.root}), /*detailed=*/true);
  ASSERT_TRUE(only_leaf.has_value());
  EXPECT_EQ(only_leaf->issuer_cert(), nullptr);
}

TEST(PeerCertificate, NotDetailedReadsOnlyTheLeaf) {
  const testing::TestPki pki = testing::MakeTestPki();
  std::vector<std::vector<uint8_t>> chain = Ders({&pki.server, &pki.intermediate});
  chain.push_back({0xde, 0xad});  // not read when not detailed
  const auto pc = ParsePeerCertificate(chain, /*detailed=*/false);
  ASSERT_TRUE(pc.has_value());
  EXPECT_EQ(pc->raw, pki.server.der);
  EXPECT_EQ(pc->issuer_cert(), nullptr);
  EXPECT_FALSE(ParsePeerCertificate(chain, /*detailed=*/true).has_value());
}

TEST(PeerCertificate, SelfSignedLeafDetailedRefersToItselfAcrossCopies) {
  CertSpec spec;
  spec.key = testing::CachedKey(KeyType::kEcdsaP256, 0);
  const Cert cert = testing::MakeSelfSigned(spec);
  const std::vector<std::vector<uint8_t>> chain = {cert.der};
  auto pc = ParsePeerCertificate(chain, /*detailed=*/true);
  ASSERT_TRUE(pc.has_value());
  EXPECT_TRUE(pc->issuer_is_self);
  EXPECT_EQ(pc->issuer_cert(), &*pc);
  const PeerCertificate copy = *pc;
  pc.reset();
  EXPECT_EQ(copy.issuer_cert(), &copy);
  EXPECT_EQ(copy.raw, cert.der);
}

TEST(PeerCertificate, IssuerChainIsCappedAtMaxLength) {
  CertSpec root_spec;
  root_spec.is_ca = true;
  root_spec.subject = {{"CN", "ca 0"}};
  root_spec.key = testing::CachedKey(KeyType::kEcdsaP256, 0);
  std::vector<Cert> cas = {testing::MakeSelfSigned(root_spec)};
  const size_t total = kMaxIssuerChainLength + 5;
  while (cas.size() < total) {
    CertSpec spec;
    spec.is_ca = true;
    spec.subject = {{"CN", "ca " + std::to_string(cas.size())}};
    spec.key = testing::CachedKey(KeyType::kEcdsaP256, 0);
    cas.push_back(testing::MakeSigned(spec, cas.back()));
  }
  std::vector<std::vector<uint8_t>> chain;
  for (size_t i = cas.size(); i-- > 0;) chain.push_back(cas[i].der);  // leaf first

  const auto pc = ParsePeerCertificate(chain, /*detailed=*/true);
  ASSERT_TRUE(pc.has_value());
  size_t depth = 1;
  const PeerCertificate* p = &*pc;
  while (p->issuer_certificate) {
    p = p->issuer_certificate.get();
    ++depth;
  }
  EXPECT_EQ(depth, kMaxIssuerChainLength);
  EXPECT_FALSE(p->issuer_is_self);
  EXPECT_FALSE(ToJson(*pc).empty());

  // Within the cap the root is reached and refers to itself.
  chain.erase(chain.begin(), chain.begin() + 10);
  const auto shorter = ParsePeerCertificate(chain, /*detailed=*/true);
  ASSERT_TRUE(shorter.has_value());
  p = &*shorter;
  while (p->issuer_certificate) p = p->issuer_certificate.get();
  EXPECT_TRUE(p->issuer_is_self);
  EXPECT_EQ(p->raw, cas[0].der);
}

// --- Bad input ---------------------------------------------------------------------

TEST(PeerCertificate, UnparsableInputs) {
  EXPECT_FALSE(ParsePeerCertificate(std::span<const std::vector<uint8_t>>(), false));
  EXPECT_FALSE(ParsePeerCertificate(std::span<const std::vector<uint8_t>>(), true));
  EXPECT_FALSE(Parse({}));
  EXPECT_FALSE(Parse({0x30}));
  EXPECT_FALSE(Parse({0x30, 0x00}));
  EXPECT_FALSE(Parse({0x04, 0x02, 0x01, 0x02}));
  const std::string pem = testing::MakeSelfSigned(CertSpec{}).cert_pem;
  EXPECT_FALSE(Parse(std::vector<uint8_t>(pem.begin(), pem.end())));
  std::vector<uint8_t> der = testing::MakeSelfSigned(CertSpec{}).der;
  std::vector<uint8_t> trailing = der;
  trailing.push_back(0);
  EXPECT_FALSE(Parse(trailing));
  std::vector<uint8_t> truncated(der.begin(), der.end() - 1);
  EXPECT_FALSE(Parse(truncated));
  EXPECT_TRUE(Parse(der));
}

// Every truncation and many single-byte corruptions of a real certificate:
// never a crash (run under ASan/UBSan), and anything accepted renders.
TEST(PeerCertificate, CorruptedInputsNeverCrash) {
  const testing::TestPki pki = testing::MakeTestPki(KeyType::kRsa2048);
  const std::vector<uint8_t>& der = pki.server.der;
  size_t accepted = 0;
  auto exercise = [&](const std::vector<uint8_t>& bytes) {
    const std::vector<std::vector<uint8_t>> chain = {bytes, pki.intermediate.der};
    if (auto pc = ParsePeerCertificate(chain, true)) {
      ++accepted;
      EXPECT_FALSE(ToJson(*pc).empty());
    }
    (void)CheckServerIdentity("localhost", bytes);
    (void)CheckServerIdentity("127.0.0.1", bytes);
  };
  for (size_t len = 0; len < der.size(); ++len) {
    exercise(std::vector<uint8_t>(der.begin(), der.begin() + len));
  }
  for (size_t i = 0; i < der.size(); ++i) {
    for (uint8_t x : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> bytes = der;
      bytes[i] ^= x;
      exercise(bytes);
    }
  }
  EXPECT_GT(accepted, 0u);  // many flips land in signatures, key bits, names
}

// --- JSON ----------------------------------------------------------------------------

TEST(PeerCertificate, JsonExactForEcCertificate) {
  CertSpec spec;
  spec.key = testing::CachedKey(KeyType::kEcdsaP256, 1);
  spec.subject = {{"O", "Org"}, {"CN", "a.com"}};
  spec.dns_names = {"a.com"};
  spec.ip_addresses = {"::1"};
  spec.not_before = kNov11_2009;
  spec.not_after = kMar5_2051;
  spec.serial = {0x2A};
  spec.ext_key_usage = {testing::kServerAuth};
  spec.ocsp_url = "http://o/";
  const Cert cert = testing::MakeSelfSigned(spec);
  const auto pc = Parse(cert.der);
  ASSERT_TRUE(pc.has_value());
  const std::string expected =
      "{\"subject\":{\"O\":\"Org\",\"CN\":\"a.com\"},"
      "\"issuer\":{\"O\":\"Org\",\"CN\":\"a.com\"},"
      "\"subjectaltname\":\"DNS:a.com, IP Address:0:0:0:0:0:0:0:1\","
      "\"infoAccess\":{\"OCSP - URI\":[\"http://o/\"]},"
      "\"ca\":false,"
      "\"bits\":256,"
      "\"pubkey\":\"" +
      B64(Spki(spec.key)) +
      "\","
      "\"asn1Curve\":\"prime256v1\",\"nistCurve\":\"P-256\","
      "\"valid_from\":\"Nov 11 09:52:22 2009 GMT\","
      "\"valid_to\":\"Mar  5 07:08:09 2051 GMT\","
      "\"fingerprint\":\"" +
      Sha1Fp(cert.der) +
      "\","
      "\"fingerprint256\":\"" +
      Sha256Fp(cert.der) +
      "\","
      "\"fingerprint512\":\"" +
      Sha512Fp(cert.der) +
      "\","
      "\"ext_key_usage\":[\"1.3.6.1.5.5.7.3.1\"],"
      "\"serialNumber\":\"2A\","
      "\"raw\":\"" +
      B64(cert.der) + "\"}";
  EXPECT_EQ(ToJson(*pc), expected);
}

TEST(PeerCertificate, JsonRsaFieldOrder) {
  CertSpec spec;
  spec.key = testing::CachedKey(KeyType::kRsa2048, 0);
  const auto pc = Parse(testing::MakeSelfSigned(spec).der);
  ASSERT_TRUE(pc.has_value());
  const std::string json = ToJson(*pc);
  const size_t modulus = json.find("\"modulus\":\"" + ModulusHex(spec.key) + "\"");
  const size_t bits = json.find("\"bits\":2048");
  const size_t exponent = json.find("\"exponent\":\"0x10001\"");
  const size_t pubkey = json.find("\"pubkey\":\"" + B64(Spki(spec.key)) + "\"");
  const size_t valid_from = json.find("\"valid_from\"");
  ASSERT_NE(modulus, std::string::npos);
  EXPECT_LT(json.find("\"ca\":false"), modulus);
  EXPECT_LT(modulus, bits);
  EXPECT_LT(bits, exponent);
  EXPECT_LT(exponent, pubkey);
  EXPECT_LT(pubkey, valid_from);
  EXPECT_EQ(json.find("asn1Curve"), std::string::npos);
  EXPECT_EQ(json.find("subjectaltname"), std::string::npos);  // absent, omitted
  EXPECT_EQ(json.find("infoAccess"), std::string::npos);
  EXPECT_EQ(json.find("ext_key_usage"), std::string::npos);
}

TEST(PeerCertificate, JsonEscapingAlwaysValid) {
  PeerCertificate pc;
  pc.subject = {{"CN", std::string("a\"b\\c\n\t\x01\x7f", 9)},
                {"O", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92"},  // valid UTF-8 kept
                {"OU", "bad \xff \xc3 \xe0\x80\x80 \xed\xa0\x80"}};  // invalid -> \u00XX
  pc.info_access = {{"OCSP - URI", "a"}, {"OCSP - URI", "b"}, {"CA Issuers - URI", "c"}};
  const std::string json = ToJson(pc);
  EXPECT_EQ(json,
            "{\"subject\":{\"CN\":\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\","
            "\"O\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\","
            "\"OU\":\"bad \\u00ff \\u00c3 \\u00e0\\u0080\\u0080 \\u00ed\\u00a0\\u0080\"},"
            "\"issuer\":{},"
            "\"infoAccess\":{\"OCSP - URI\":[\"a\",\"b\"],\"CA Issuers - URI\":[\"c\"]},"
            "\"ca\":false}");
}

}  // namespace
}  // namespace sansio_tls
