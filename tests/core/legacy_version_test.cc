// TLS 1.0/1.1: refused by default, negotiated and reported (Node's names) when both sides
// lower min_version explicitly, and refused by Create when no cipher suite could serve them.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls {
namespace {

using testing::Pair;
using testing::Side;

// The CBC suites TLS 1.0/1.1 can use, after the default AEAD ones (docs/security.md).
const std::string kLegacyCiphers =
    std::string(kDefaultCiphers) + ":ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA";
constexpr uint8_t kProtocolVersionAlert = 70;

struct Endpoints {
  std::shared_ptr<const Context> client, server;
};

// A server for "localhost" and a client trusting its root; |edit_*| run on the options.
Endpoints Make(void (*edit_client)(ClientContextOptions&),
               void (*edit_server)(ServerContextOptions&)) {
  testing::TestPki pki = testing::MakeTestPki();
  ServerContextOptions server{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()}};
  ClientContextOptions client{.ca_pems = {pki.root.cert_pem}};
  if (edit_client) edit_client(client);
  if (edit_server) edit_server(server);
  auto s = Context::Create(server);
  auto c = Context::Create(client);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return {c.ok() ? c.value() : nullptr, s.ok() ? s.value() : nullptr};
}

std::unique_ptr<Pair> Connect(const Endpoints& e) {
  auto pair = Pair::Create(e.client, e.server, {.servername = "localhost"});
  EXPECT_TRUE(pair.ok());
  return pair.ok() ? std::move(pair).value() : nullptr;
}

void Tls11Only(auto& o) {
  o.min_version = o.max_version = TlsVersion::kTls11;
  o.ciphers = kLegacyCiphers;
}

TEST(LegacyVersions, DefaultServerRefusesTls11OnlyClientWithProtocolVersion) {
  auto pair = Connect(Make(Tls11Only, nullptr));
  ASSERT_TRUE(pair);
  EXPECT_FALSE(pair->Handshake());
  ASSERT_TRUE(pair->server().error());
  EXPECT_EQ(pair->server().error()->code, "ERR_SSL_UNSUPPORTED_PROTOCOL");
  EXPECT_EQ(pair->server().error()->alert, kProtocolVersionAlert);
  EXPECT_FALSE(pair->server().error()->alert_from_peer);
  ASSERT_TRUE(pair->client().error());
  EXPECT_TRUE(pair->client().error()->alert_from_peer);
  EXPECT_EQ(pair->client().error()->alert, kProtocolVersionAlert);
}

// A default client offers TLS 1.2-1.3 (supported_versions), so a server capped at TLS 1.1
// finds no common version and refuses (BoGo checks the client refusing a TLS 1.1
// ServerHello: its runner can send one anyway).
TEST(LegacyVersions, DefaultClientAndTls11CappedServerFailWithProtocolVersion) {
  auto pair = Connect(Make(nullptr, [](auto& o) {
    o.min_version = TlsVersion::kTls10;
    o.max_version = TlsVersion::kTls11;
    o.ciphers = kLegacyCiphers;
  }));
  ASSERT_TRUE(pair);
  EXPECT_FALSE(pair->Handshake());
  ASSERT_TRUE(pair->server().error());
  EXPECT_EQ(pair->server().error()->code, "ERR_SSL_UNSUPPORTED_PROTOCOL");
  EXPECT_EQ(pair->server().error()->alert, kProtocolVersionAlert);
  ASSERT_TRUE(pair->client().error());
  EXPECT_TRUE(pair->client().error()->alert_from_peer);
  EXPECT_EQ(pair->client().error()->alert, kProtocolVersionAlert);
  EXPECT_FALSE(pair->client().handshake_done());
}

struct LegacyCase {
  TlsVersion client_max;
  const char* protocol;
};

class ExplicitFloor : public ::testing::TestWithParam<LegacyCase> {};

// Both sides lower the floor to TLS 1.0; the client's maximum picks the version.
TEST_P(ExplicitFloor, NegotiatesAndReportsTheVersion) {
  static TlsVersion client_max;
  client_max = GetParam().client_max;
  auto pair = Connect(Make(
      [](auto& o) {
        o.min_version = TlsVersion::kTls10;
        o.max_version = client_max;
        o.ciphers = kLegacyCiphers;
      },
      [](auto& o) {
        o.min_version = TlsVersion::kTls10;
        o.ciphers = kLegacyCiphers;
      }));
  ASSERT_TRUE(pair);
  ASSERT_TRUE(pair->Handshake()) << (pair->client().error() ? pair->client().error()->code : "")
                                 << (pair->server().error() ? pair->server().error()->code : "");
  EXPECT_EQ(TlsVersionName(pair->client().handshake_info().version.value()), GetParam().protocol);
  EXPECT_EQ(TlsVersionName(pair->server().handshake_info().version.value()), GetParam().protocol);
  EXPECT_TRUE(pair->client().handshake_info().authorized);
  pair->Write(Side::kClient, "ping");
  pair->Write(Side::kServer, "pong");
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "ping");
  EXPECT_EQ(pair->received(Side::kClient), "pong");
}

INSTANTIATE_TEST_SUITE_P(Versions, ExplicitFloor,
                         ::testing::Values(LegacyCase{TlsVersion::kTls10, "TLSv1"},
                                           LegacyCase{TlsVersion::kTls11, "TLSv1.1"},
                                           LegacyCase{TlsVersion::kTls13, "TLSv1.3"}),
                         [](const auto& info) {
                           return std::string(info.param.protocol) == "TLSv1"     ? "Tls10"
                                  : std::string(info.param.protocol) == "TLSv1.1" ? "Tls11"
                                                                                  : "Tls13";
                         });

TEST(LegacyVersions, Tls10SessionResumesAndNamesItsVersion) {
  auto ctx = Make(
      [](auto& o) {
        o.min_version = o.max_version = TlsVersion::kTls10;
        o.ciphers = kLegacyCiphers;
      },
      [](auto& o) {
        o.min_version = TlsVersion::kTls10;
        o.ciphers = kLegacyCiphers;
      });
  auto first = Connect(ctx);
  ASSERT_TRUE(first && first->Handshake());
  std::optional<SavedSession> saved;
  for (const Event& e : first->events(Side::kClient))
    if (e.kind() == EventKind::kNewSession) saved = e.get<SavedSession>();
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->protocol(), "TLSv1");
  auto second = Pair::Create(ctx.client, ctx.server, {.servername = "localhost", .session = saved});
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE((*second)->Handshake());
  EXPECT_TRUE((*second)->client().handshake_info().session_reused);
  EXPECT_EQ((*second)->client().handshake_info().version, TlsVersion::kTls10);
}

TEST(LegacyVersions, CreateRefusesALowerFloorWithoutALegacySuite) {
  auto c = Context::Create(ClientContextOptions{.min_version = TlsVersion::kTls10});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, errc::kInvalidCiphers);
  EXPECT_NE(c.error().message.find("TLSv1"), std::string::npos) << c.error().message;
  auto gcm_only = Context::Create(ClientContextOptions{.ciphers = "ECDHE-RSA-AES128-GCM-SHA256",
                                                       .min_version = TlsVersion::kTls11});
  ASSERT_FALSE(gcm_only.ok());
  EXPECT_EQ(gcm_only.error().code, errc::kInvalidCiphers);
  // The default floor needs none.
  EXPECT_TRUE(Context::Create(ClientContextOptions{}).ok());
}

TEST(LegacyVersions, CreateRefusesUnknownAndInvertedVersions) {
  auto ssl3 = Context::Create(ClientContextOptions{.ciphers = kLegacyCiphers,
                                                   .min_version = static_cast<TlsVersion>(0x0300)});
  ASSERT_FALSE(ssl3.ok());
  EXPECT_EQ(ssl3.error().code, errc::kInvalidProtocolVersion);
  EXPECT_NE(ssl3.error().message.find("0x0300"), std::string::npos) << ssl3.error().message;
  auto inverted = Context::Create(ClientContextOptions{.ciphers = kLegacyCiphers,
                                                       .min_version = TlsVersion::kTls12,
                                                       .max_version = TlsVersion::kTls11});
  ASSERT_FALSE(inverted.ok());
  EXPECT_EQ(inverted.error().code, errc::kInvalidProtocolVersion);
  EXPECT_NE(inverted.error().message.find("TLSv1.1"), std::string::npos);
}

TEST(LegacyVersions, VersionNamesAreNodes) {
  EXPECT_EQ(TlsVersionName(TlsVersion::kTls10), "TLSv1");
  EXPECT_EQ(TlsVersionName(TlsVersion::kTls11), "TLSv1.1");
  EXPECT_EQ(TlsVersionName(TlsVersion::kTls12), "TLSv1.2");
  EXPECT_EQ(TlsVersionName(TlsVersion::kTls13), "TLSv1.3");
  EXPECT_EQ(TlsVersionName(static_cast<TlsVersion>(0x0300)), "");
}

}  // namespace
}  // namespace sansio_tls
