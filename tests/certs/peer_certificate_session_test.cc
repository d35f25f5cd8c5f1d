// Session::peer_certificate end to end: every field of Node's getPeerCertificate object,
// seen by the client (server certificate) and by the server (client certificate), checked
// against values computed here from what the factory returned and the values we set; the
// issuer chain completed from the trust store; availability after failed verification and
// on resumption; the JSON rendering.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <cctype>
#include <string>
#include <vector>

#include "core/x509/peer_certificate.h"
#include "tests/certs/certs_test_util.h"

namespace sansio_tls::certs_test {
namespace {

std::string HexColons(const uint8_t* data, size_t n) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ':';
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

std::string Sha1(const std::vector<uint8_t>& d) {
  uint8_t md[SHA_DIGEST_LENGTH];
  SHA1(d.data(), d.size(), md);
  return HexColons(md, sizeof md);
}
std::string Sha256(const std::vector<uint8_t>& d) {
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(d.data(), d.size(), md);
  return HexColons(md, sizeof md);
}
std::string Sha512(const std::vector<uint8_t>& d) {
  uint8_t md[SHA512_DIGEST_LENGTH];
  SHA512(d.data(), d.size(), md);
  return HexColons(md, sizeof md);
}

std::vector<uint8_t> Spki(EVP_PKEY* key) {
  uint8_t* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  EXPECT_GT(len, 0);
  std::vector<uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

using Entries = std::vector<std::pair<std::string, std::string>>;

constexpr int64_t kNotBefore = 1700000000;  // Tue Nov 14 22:13:20 2023 UTC
constexpr int64_t kNotAfter = 4102444800;   // Fri Jan  1 00:00:00 2100 UTC

// A leaf exercising every field, with |type|'s key.
CertSpec RichSpec(KeyType type) {
  CertSpec spec;
  spec.subject = {
      {"C", "NZ"},   {"ST", "Auckland"}, {"L", "Auckland"},   {"O", "sansio"},
      {"OU", "tls"}, {"OU", "certs"},    {"CN", "localhost"}, {"emailAddress", "peer@example.com"}};
  spec.dns_names = {"localhost", "*.peer.example"};
  spec.ip_addresses = {"192.0.2.1", "2001:db8::1"};
  spec.emails = {"peer@example.com"};
  spec.uris = {"https://peer.example/"};
  spec.not_before = kNotBefore;
  spec.not_after = kNotAfter;
  spec.ext_key_usage = {testing::kServerAuth, testing::kClientAuth};
  spec.serial = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF};
  spec.ocsp_url = "http://ocsp.peer.example/";
  spec.ca_issuers_url = "http://ca.peer.example/intermediate.der";
  spec.key = testing::CachedKey(type, 72);
  return spec;
}

// The checks every key type shares; |leaf| is what the factory returned.
void ExpectCommonFields(const PeerCertificate& got, const Cert& leaf, const Pki& pki) {
  EXPECT_EQ(got.subject, (Entries{{"C", "NZ"},
                                  {"ST", "Auckland"},
                                  {"L", "Auckland"},
                                  {"O", "sansio"},
                                  {"OU", "tls"},
                                  {"OU", "certs"},
                                  {"CN", "localhost"},
                                  {"emailAddress", "peer@example.com"}}));
  EXPECT_EQ(got.issuer, (Entries{{"O", "certs test"}, {"CN", "peer fields Intermediate CA"}}));
  EXPECT_EQ(got.subjectaltname,
            "DNS:localhost, DNS:*.peer.example, IP Address:192.0.2.1, "
            "IP Address:2001:DB8:0:0:0:0:0:1, email:peer@example.com, URI:https://peer.example/");
  EXPECT_EQ(got.info_access,
            (Entries{{"OCSP - URI", "http://ocsp.peer.example/"},
                     {"CA Issuers - URI", "http://ca.peer.example/intermediate.der"}}));
  EXPECT_FALSE(got.ca);
  EXPECT_EQ(got.pubkey, Spki(leaf.key.get()));
  EXPECT_EQ(got.valid_from, "Nov 14 22:13:20 2023 GMT");
  EXPECT_EQ(got.valid_to, "Jan  1 00:00:00 2100 GMT");  // day space-padded
  EXPECT_EQ(got.fingerprint, Sha1(leaf.der));
  EXPECT_EQ(got.fingerprint256, Sha256(leaf.der));
  EXPECT_EQ(got.fingerprint512, Sha512(leaf.der));
  EXPECT_EQ(got.ext_key_usage,
            (std::vector<std::string>{"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"}));
  EXPECT_EQ(got.serial_number, "0123456789ABCDEF");
  EXPECT_EQ(got.raw, leaf.der);
  (void)pki;
}

struct KeyCase {
  const char* name;
  KeyType type;
  int bits;
  const char* asn1_curve;
  const char* nist_curve;
};

const KeyCase kKeyCases[] = {
    {"EcdsaP256", KeyType::kEcdsaP256, 256, "prime256v1", "P-256"},
    {"EcdsaP384", KeyType::kEcdsaP384, 384, "secp384r1", "P-384"},
    {"Rsa2048", KeyType::kRsa2048, 2048, "", ""},
    {"Ed25519", KeyType::kEd25519, 0, "", ""},
};

class PeerCertificateFields : public ::testing::TestWithParam<std::tuple<KeyCase, Side>> {};

// |viewer| sees |leaf|, presented by the other side, after a completed handshake.
TEST_P(PeerCertificateFields, MatchWhatTheFactoryMade) {
  auto [kc, viewer] = GetParam();
  static const Pki pki("peer fields");
  const Cert leaf = pki.Leaf(RichSpec(kc.type));
  Pki other("peer fields other side");

  ServerContextOptions server{.ca_pems = {pki.root.cert_pem}, .request_cert = true};
  ClientContextOptions client{.ca_pems = {pki.root.cert_pem}};
  if (viewer == Side::kClient) {
    server.credentials = pki.CredentialsFor(leaf);
    client.credentials = pki.CredentialsFor(pki.Client());
  } else {
    server.credentials = pki.CredentialsFor(pki.Server());
    client.credentials = pki.CredentialsFor(leaf);
  }
  auto pair = MustPair(MustCreate(client), MustCreate(server));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  Session& s = pair->session(viewer);
  EXPECT_TRUE(s.authorized()) << s.authorization_error();

  std::optional<PeerCertificate> got = s.peer_certificate();
  ASSERT_TRUE(got.has_value());
  ExpectCommonFields(*got, leaf, pki);
  EXPECT_EQ(got->bits, kc.bits);
  EXPECT_EQ(got->asn1_curve, kc.asn1_curve);
  EXPECT_EQ(got->nist_curve, kc.nist_curve);
  if (kc.type == KeyType::kRsa2048) {
    const RSA* rsa = EVP_PKEY_get0_RSA(leaf.key.get());
    char* n = BN_bn2hex(RSA_get0_n(rsa));  // lower case in BoringSSL; Node prints upper
    std::string modulus(n);
    OPENSSL_free(n);
    for (char& ch : modulus) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
    EXPECT_EQ(got->modulus, modulus);
    EXPECT_EQ(got->modulus.size(), 512u);  // 2048 bits, no leading zero
    EXPECT_EQ(got->exponent, "0x10001");
  } else {
    EXPECT_EQ(got->modulus, "");
    EXPECT_EQ(got->exponent, "");
  }
  EXPECT_EQ(got->issuer_certificate, nullptr);  // not detailed
  EXPECT_FALSE(got->issuer_is_self);
}

std::string FieldsName(const ::testing::TestParamInfo<std::tuple<KeyCase, Side>>& info) {
  return std::string(std::get<0>(info.param).name) +
         (std::get<1>(info.param) == Side::kClient ? "_SeenByClient" : "_SeenByServer");
}

INSTANTIATE_TEST_SUITE_P(All, PeerCertificateFields,
                         ::testing::Combine(::testing::ValuesIn(kKeyCases),
                                            ::testing::Values(Side::kClient, Side::kServer)),
                         FieldsName);

// ---- The issuer chain -------------------------------------------------------------------

struct ChainSetup {
  Pki pki{"chain"};
  Cert leaf = pki.Server();
};

void ExpectFullChain(const PeerCertificate& got, const ChainSetup& c) {
  EXPECT_EQ(got.raw, c.leaf.der);
  const PeerCertificate* intermediate = got.issuer_cert();
  ASSERT_NE(intermediate, nullptr);
  EXPECT_EQ(intermediate->raw, c.pki.intermediate.der);
  EXPECT_TRUE(intermediate->ca);
  EXPECT_EQ(intermediate->fingerprint256, Sha256(c.pki.intermediate.der));
  const PeerCertificate* root = intermediate->issuer_cert();
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->raw, c.pki.root.der);
  EXPECT_TRUE(root->issuer_is_self);
  EXPECT_EQ(root->issuer_cert(), root);  // the self-signed root refers to itself
  EXPECT_EQ(root->subject, root->issuer);
}

TEST(PeerCertificateChain, IsCompletedFromTheTrustStoreUpToTheSelfSignedRoot) {
  ChainSetup c;
  auto pair =
      MustPair(MustCreate(ClientContextOptions{.ca_pems = {c.pki.root.cert_pem}}),
               MustCreate(ServerContextOptions{.credentials = c.pki.CredentialsFor(c.leaf)}));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  auto got = pair->client().peer_certificate(/*detailed=*/true);
  ASSERT_TRUE(got.has_value());
  ExpectFullChain(*got, c);  // the server sent leaf + intermediate; the root is the client's
}

TEST(PeerCertificateChain, UsesTheRootTheServerSentToo) {
  ChainSetup c;
  Credentials creds = c.pki.CredentialsFor(c.leaf);
  creds.cert_chain_pem += c.pki.root.cert_pem;
  auto pair = MustPair(MustCreate(ClientContextOptions{.ca_pems = {c.pki.root.cert_pem}}),
                       MustCreate(ServerContextOptions{.credentials = creds}));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  auto got = pair->client().peer_certificate(true);
  ASSERT_TRUE(got.has_value());
  ExpectFullChain(*got, c);
}

TEST(PeerCertificateChain, OfAClientCertificateSeenByTheServer) {
  ChainSetup c;
  Cert client_leaf = c.pki.Client();
  auto pair =
      MustPair(MustCreate(ClientContextOptions{.credentials = c.pki.CredentialsFor(client_leaf),
                                               .ca_pems = {c.pki.root.cert_pem}}),
               MustCreate(ServerContextOptions{.credentials = c.pki.CredentialsFor(c.leaf),
                                               .ca_pems = {c.pki.root.cert_pem},
                                               .request_cert = true}));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  auto got = pair->server().peer_certificate(true);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->raw, client_leaf.der);
  ASSERT_NE(got->issuer_cert(), nullptr);
  ASSERT_NE(got->issuer_cert()->issuer_cert(), nullptr);
  EXPECT_EQ(got->issuer_cert()->issuer_cert()->raw, c.pki.root.der);
  EXPECT_TRUE(got->issuer_cert()->issuer_cert()->issuer_is_self);
}

// ---- Availability -----------------------------------------------------------------------

TEST(PeerCertificateAvailability, StaysAfterAFailedVerification) {
  ChainSetup c;
  Pki stranger("availability stranger", KeyType::kEcdsaP256, 50);
  auto pair =
      MustPair(MustCreate(ClientContextOptions{.ca_pems = {stranger.root.cert_pem}}),
               MustCreate(ServerContextOptions{.credentials = c.pki.CredentialsFor(c.leaf)}));
  pair->Pump();
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
  auto got = pair->client().peer_certificate(true);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->fingerprint256, Sha256(c.leaf.der));
  ASSERT_NE(got->issuer_cert(), nullptr);  // as sent; the unknown root is nowhere to be found
  EXPECT_EQ(got->issuer_cert()->raw, c.pki.intermediate.der);
  EXPECT_EQ(got->issuer_cert()->issuer_cert(), nullptr);
}

TEST(PeerCertificateAvailability, StaysAfterTheServerRefusedAClient) {
  ChainSetup c;
  Pki stranger("refused client", KeyType::kEcdsaP256, 50);
  Cert client_leaf = stranger.Client();
  auto pair =
      MustPair(MustCreate(ClientContextOptions{.credentials = stranger.CredentialsFor(client_leaf),
                                               .ca_pems = {c.pki.root.cert_pem}}),
               MustCreate(ServerContextOptions{.credentials = c.pki.CredentialsFor(c.leaf),
                                               .ca_pems = {c.pki.root.cert_pem},
                                               .request_cert = true}));
  pair->Pump();
  ASSERT_TRUE(pair->server().failed());
  auto got = pair->server().peer_certificate();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->raw, client_leaf.der);
}

TEST(PeerCertificateAvailability, IsEmptyWithoutAPeerCertificate) {
  ChainSetup c;
  auto pair =
      MustPair(MustCreate(ClientContextOptions{.ca_pems = {c.pki.root.cert_pem}}),
               MustCreate(ServerContextOptions{.credentials = c.pki.CredentialsFor(c.leaf)}));
  EXPECT_FALSE(pair->client().peer_certificate().has_value());  // nothing received yet
  EXPECT_FALSE(pair->client().peer_certificate(true).has_value());
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_FALSE(pair->server().peer_certificate().has_value());  // none was requested
  EXPECT_FALSE(pair->server().peer_certificate(true).has_value());
  EXPECT_TRUE(pair->client().peer_certificate().has_value());
}

TEST(PeerCertificateAvailability, SurvivesResumption) {
  for (TlsVersion v : {TlsVersion::kTls13, TlsVersion::kTls12}) {
    SCOPED_TRACE(VersionName(v));
    ChainSetup c;
    auto client = MustCreate(
        ClientContextOptions{.ca_pems = {c.pki.root.cert_pem}, .min_version = v, .max_version = v});
    auto server = MustCreate(ServerContextOptions{
        .credentials = c.pki.CredentialsFor(c.leaf), .min_version = v, .max_version = v});
    auto first = MustPair(client, server);
    ASSERT_TRUE(first->Handshake()) << Summary(*first);
    first->Write(Side::kServer, "x");  // a TLS 1.3 server sends tickets with its next write
    first->Pump();
    ASSERT_TRUE(first->client().saved_session().has_value());
    auto again = MustPair(client, server,
                          {.servername = "localhost", .session = first->client().saved_session()});
    ASSERT_TRUE(again->Handshake()) << Summary(*again);
    ASSERT_TRUE(again->client().handshake_info().session_reused);
    auto got = again->client().peer_certificate(true);
    ASSERT_TRUE(got.has_value());
    ExpectFullChain(*got, c);
  }
}

// ---- JSON ---------------------------------------------------------------------------------

TEST(PeerCertificateJson, UsesNodesFieldNamesAndValues) {
  static const Pki pki("peer fields");
  const Cert leaf = pki.Leaf(RichSpec(KeyType::kRsa2048));
  auto pair = MustPair(MustCreate(ClientContextOptions{.ca_pems = {pki.root.cert_pem}}),
                       MustCreate(ServerContextOptions{.credentials = pki.CredentialsFor(leaf)}));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  auto got = pair->client().peer_certificate(true);
  ASSERT_TRUE(got.has_value());
  std::string json = ToJson(*got);
  for (const std::string& want : {
           std::string("{\"subject\":{\"C\":\"NZ\",\"ST\":\"Auckland\",\"L\":\"Auckland\","
                       "\"O\":\"sansio\",\"OU\":[\"tls\",\"certs\"],\"CN\":\"localhost\","
                       "\"emailAddress\":\"peer@example.com\"}"),
           std::string("\"issuer\":{\"O\":\"certs test\",\"CN\":\"peer fields Intermediate CA\"}"),
           std::string("\"subjectaltname\":\"DNS:localhost, DNS:*.peer.example, "
                       "IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:1, "
                       "email:peer@example.com, URI:https://peer.example/\""),
           std::string("\"infoAccess\":{\"OCSP - URI\":[\"http://ocsp.peer.example/\"],"
                       "\"CA Issuers - URI\":[\"http://ca.peer.example/intermediate.der\"]}"),
           std::string("\"bits\":2048"),
           std::string("\"exponent\":\"0x10001\""),
           std::string("\"valid_from\":\"Nov 14 22:13:20 2023 GMT\""),
           std::string("\"valid_to\":\"Jan  1 00:00:00 2100 GMT\""),
           std::string("\"fingerprint\":\"") + Sha1(leaf.der) + "\"",
           std::string("\"fingerprint256\":\"") + Sha256(leaf.der) + "\"",
           std::string("\"fingerprint512\":\"") + Sha512(leaf.der) + "\"",
           std::string("\"ext_key_usage\":[\"1.3.6.1.5.5.7.3.1\",\"1.3.6.1.5.5.7.3.2\"]"),
           std::string("\"serialNumber\":\"0123456789ABCDEF\""),
           std::string("\"issuerCertificate\":{\"subject\":{\"O\":\"certs test\","
                       "\"CN\":\"peer fields Intermediate CA\"}"),
           std::string("\"issuerCertificate\":\"[Circular]\""),
       }) {
    EXPECT_NE(json.find(want), std::string::npos) << "missing " << want << " in " << json;
  }
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');
}

}  // namespace
}  // namespace sansio_tls::certs_test
