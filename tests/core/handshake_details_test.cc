// What BoGo (tests/bogo) found or needed, checked without the runner: RSA keyUsage
// enforcement on clients, and the HandshakeInfo details, options and exporter the shim uses.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <string>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls {
namespace {

using testing::KeyType;
using testing::Pair;

struct Contexts {
  std::shared_ptr<const Context> client, server;
};

// A server for "localhost" with a leaf made from |spec|, issued by a root the client
// trusts; |tweak| adjusts the options of both sides.
Contexts Make(const testing::CertSpec& spec,
              void (*tweak)(ContextOptions& client, ContextOptions& server) = nullptr) {
  testing::CertSpec root_spec;
  root_spec.subject = {{"CN", "root"}};
  root_spec.is_ca = true;
  root_spec.key = testing::CachedKey(KeyType::kEcdsaP256, 6);
  testing::Cert root = testing::MakeSelfSigned(root_spec);
  testing::Cert cert = testing::MakeSigned(spec, root);
  ContextOptions server{.role = Role::kServer,
                        .credentials = {.key_pem = cert.key_pem, .cert_chain_pem = cert.cert_pem}};
  ContextOptions client{.role = Role::kClient, .ca_pems = {root.cert_pem}};
  if (tweak) tweak(client, server);
  auto s = Context::Create(server);
  auto c = Context::Create(client);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return {c.value(), s.value()};
}

testing::CertSpec LocalhostSpec(KeyType type = KeyType::kEcdsaP256) {
  testing::CertSpec spec;
  spec.dns_names = {"localhost"};
  spec.key = testing::CachedKey(type, 7);
  return spec;
}

std::unique_ptr<Pair> MakePair(const Contexts& ctx) {
  auto pair = Pair::Create(ctx.client, ctx.server, {.servername = "localhost"});
  EXPECT_TRUE(pair.ok());
  return std::move(pair).value();
}

// Found by BoGo (RSAKeyUsage-Client-WantSignature-GotEncipherment-TLS12): this BoringSSL
// let a client accept an ECDHE_RSA handshake signed by a key whose certificate allows
// key encipherment only.
TEST(RsaKeyUsage, ClientRefusesSignatureFromEnciphermentOnlyCertificate) {
  testing::CertSpec spec = LocalhostSpec(KeyType::kRsa2048);
  spec.key_usage_bits = {2};  // keyEncipherment
  auto ctx = Make(spec, [](ContextOptions& c, ContextOptions& s) {
    c.max_version = s.max_version = TlsVersion::kTls12;
    s.ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
  });
  auto pair = MakePair(ctx);
  EXPECT_FALSE(pair->Handshake());
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, "ERR_SSL_KEY_USAGE_BIT_INCORRECT");
}

TEST(RsaKeyUsage, ClientAcceptsDigitalSignatureCertificate) {
  testing::CertSpec spec = LocalhostSpec(KeyType::kRsa2048);
  spec.key_usage_bits = {0};  // digitalSignature
  auto ctx = Make(spec, [](ContextOptions& c, ContextOptions& s) {
    c.max_version = s.max_version = TlsVersion::kTls12;
    s.ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
  });
  auto pair = MakePair(ctx);
  EXPECT_TRUE(pair->Handshake()) << pair->EventSummary(testing::Side::kClient);
}

TEST(HandshakeInfo, ReportsGroupSignatureAlgorithmAndNoHelloRetry) {
  auto ctx = Make(LocalhostSpec(), [](ContextOptions& c, ContextOptions& s) {
    c.ecdh_curve = "P-384";
    s.ecdh_curve = "P-256:P-384";
  });
  auto pair = MakePair(ctx);
  ASSERT_TRUE(pair->Handshake());
  const HandshakeInfo& h = pair->client().handshake_info();
  EXPECT_EQ(h.group, "P-384");
  EXPECT_EQ(h.group_id, SSL_CURVE_SECP384R1);
  EXPECT_EQ(h.peer_signature_algorithm, SSL_SIGN_ECDSA_SECP256R1_SHA256);
  EXPECT_FALSE(h.hello_retry_request);
  EXPECT_EQ(pair->server().handshake_info().peer_signature_algorithm, 0);  // no client cert
}

TEST(HandshakeInfo, ReportsHelloRetryRequest) {
  // The client's first key share (X25519) is not acceptable to the server.
  auto ctx = Make(LocalhostSpec(), [](ContextOptions& c, ContextOptions& s) {
    c.ecdh_curve = "X25519:P-256";
    s.ecdh_curve = "P-256";
  });
  auto pair = MakePair(ctx);
  ASSERT_TRUE(pair->Handshake());
  EXPECT_TRUE(pair->client().handshake_info().hello_retry_request);
  EXPECT_TRUE(pair->server().handshake_info().hello_retry_request);
  EXPECT_EQ(pair->client().handshake_info().group, "P-256");
}

TEST(ContextOptions, UnknownGroupIsAConfigError) {
  auto c = Context::Create({.role = Role::kClient, .ecdh_curve = "X25519:NoSuchCurve"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "ERR_TLS_INVALID_ECDH_CURVE");
}

TEST(ContextOptions, SigningAlgorithmsChooseTheServerSignature) {
  auto ctx = Make(LocalhostSpec(KeyType::kRsa2048), [](ContextOptions&, ContextOptions& s) {
    s.signing_algorithms = {SSL_SIGN_RSA_PSS_RSAE_SHA384};
  });
  auto pair = MakePair(ctx);
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(pair->client().handshake_info().peer_signature_algorithm, SSL_SIGN_RSA_PSS_RSAE_SHA384);
}

TEST(ContextOptions, VerifyAlgorithmsWithNoOverlapFailTheHandshake) {
  auto ctx = Make(LocalhostSpec(KeyType::kRsa2048), [](ContextOptions& c, ContextOptions&) {
    c.verify_algorithms = {SSL_SIGN_ECDSA_SECP256R1_SHA256};  // the server only has RSA
  });
  auto pair = MakePair(ctx);
  EXPECT_FALSE(pair->Handshake());
  EXPECT_TRUE(pair->server().failed());
}

TEST(ContextOptions, UnknownSignatureAlgorithmIsAConfigError) {
  auto c = Context::Create({.role = Role::kClient, .verify_algorithms = {0x1234}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "ERR_TLS_INVALID_SIGALGS");
}

TEST(ContextOptions, HonorCipherOrderPicksTheServersFirstChoice) {
  for (bool honor : {false, true}) {
    static constexpr auto orders = [](ContextOptions& c, ContextOptions& s) {
      c.max_version = s.max_version = TlsVersion::kTls12;
      c.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384";
      s.ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256";
    };
    auto client_order = [](ContextOptions& c, ContextOptions& s) {
      orders(c, s);
      s.honor_cipher_order = false;  // on by default (docs/security.md)
    };
    auto server_order = [](ContextOptions& c, ContextOptions& s) {
      orders(c, s);
      s.honor_cipher_order = true;
    };
    auto ctx = Make(LocalhostSpec(), honor ? +server_order : +client_order);
    auto pair = MakePair(ctx);
    ASSERT_TRUE(pair->Handshake());
    EXPECT_EQ(pair->client().handshake_info().cipher,
              honor ? "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
                    : "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  }
}

TEST(ExportKeyingMaterial, BothSidesDeriveTheSameBytes) {
  for (TlsVersion v : {TlsVersion::kTls12, TlsVersion::kTls13}) {
    auto ctx = Make(LocalhostSpec());
    ContextOptions co = ctx.client->options(), so = ctx.server->options();
    co.max_version = v;
    ctx.client = Context::Create(co).value();
    auto pair = MakePair(ctx);
    ASSERT_TRUE(pair->Handshake());
    const uint8_t context_bytes[] = {1, 2, 3};
    auto a = pair->client().ExportKeyingMaterial(32, "EXPORTER-test", context_bytes);
    auto b = pair->server().ExportKeyingMaterial(32, "EXPORTER-test", context_bytes);
    auto no_context = pair->client().ExportKeyingMaterial(32, "EXPORTER-test");
    ASSERT_TRUE(a.ok() && b.ok() && no_context.ok());
    EXPECT_EQ(a->size(), 32u);
    EXPECT_EQ(*a, *b);
    EXPECT_NE(*a, *no_context);
  }
}

TEST(ExportKeyingMaterial, RefusedBeforeTheHandshake) {
  auto ctx = Make(LocalhostSpec());
  auto pair = MakePair(ctx);
  auto km = pair->client().ExportKeyingMaterial(16, "EXPORTER-test");
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.error().code, "ERR_TLS_EXPORT_KEYING_MATERIAL");
}

// An application judging the stapled OCSP response at kVerifyRequested (BoGo's
// ClientOCSPCallback-Fail-*): the response is readable there, and errc::kOcspRejected
// fails the handshake with bad_certificate_status_response, stapled or not.
class OcspVerdict : public ::testing::TestWithParam<bool> {};

TEST_P(OcspVerdict, ApplicationRejectsTheStapledResponse) {
  static bool staple;
  staple = GetParam();
  auto ctx = Make(LocalhostSpec(), [](ContextOptions& c, ContextOptions& s) {
    c.request_ocsp = true;
    c.verify_callback = true;
    if (staple) s.credentials.ocsp_response = "fake OCSP response";
  });
  auto pair = MakePair(ctx);
  pair->Pump();
  ASSERT_TRUE(pair->client().verify_pending()) << pair->EventSummary(testing::Side::kClient);
  auto got = pair->client().ocsp_response();
  EXPECT_EQ(std::string(got.begin(), got.end()), staple ? "fake OCSP response" : "");
  EXPECT_FALSE(pair->client().CompleteVerification(false, std::string(errc::kOcspRejected)));
  pair->Pump();
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, errc::kOcspRejected);
  EXPECT_EQ(pair->client().error()->kind(), ErrorKind::kCertificate);
  EXPECT_EQ(pair->client().error()->alert, SSL_AD_BAD_CERTIFICATE_STATUS_RESPONSE);
  ASSERT_TRUE(pair->server().failed());
  EXPECT_TRUE(pair->server().error()->alert_from_peer);
  EXPECT_EQ(pair->server().error()->alert, SSL_AD_BAD_CERTIFICATE_STATUS_RESPONSE);
}

INSTANTIATE_TEST_SUITE_P(Stapled, OcspVerdict, ::testing::Bool());

TEST(TlsUnique, BothSidesSeeTheClientFinishedOfAFullTls12Handshake) {
  auto ctx = Make(LocalhostSpec(), [](ContextOptions& c, ContextOptions& s) {
    c.max_version = s.max_version = TlsVersion::kTls12;
  });
  auto pair = MakePair(ctx);
  EXPECT_FALSE(pair->client().TlsUnique());  // before the handshake
  ASSERT_TRUE(pair->Handshake());
  auto client = pair->client().TlsUnique();
  auto server = pair->server().TlsUnique();
  ASSERT_TRUE(client && server);
  EXPECT_EQ(client->size(), 12u);
  EXPECT_EQ(*client, *server);
  EXPECT_TRUE(pair->client().handshake_info().extended_master_secret);
  EXPECT_TRUE(pair->server().handshake_info().extended_master_secret);
  // Another connection has another value.
  auto other = MakePair(ctx);
  ASSERT_TRUE(other->Handshake());
  EXPECT_NE(*other->client().TlsUnique(), *client);
}

TEST(TlsUnique, NoneOnTls13) {
  auto pair = MakePair(Make(LocalhostSpec()));
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(pair->client().handshake_info().protocol, "TLSv1.3");
  EXPECT_FALSE(pair->client().TlsUnique());
  EXPECT_FALSE(pair->server().TlsUnique());
  EXPECT_TRUE(pair->client().handshake_info().extended_master_secret);
}

}  // namespace
}  // namespace sansio_tls
