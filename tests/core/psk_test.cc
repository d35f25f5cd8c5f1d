// TLS 1.2 pre-shared keys (ContextOptions::psk_*_callback, Node's pskCallback): both sides
// authenticated by the key with no certificate, the identity and hint carried, unknown
// identities and wrong keys refused, resumption keeping the verdict, and misconfiguration
// refused by Create.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls {
namespace {

using testing::Pair;
using testing::Side;

constexpr uint8_t kUnknownPskIdentityAlert = 115;

std::vector<uint8_t> Key(std::string_view s) { return {s.begin(), s.end()}; }

// What the server's callback saw, and the client's.
struct Seen {
  std::vector<std::string> identities;  // server: identities asked about
  std::vector<std::string> hints;       // client: hints received
};

// A PSK-only server (no certificate) knowing "alice" and a client answering as
// |identity| with |key|; both capped at TLS 1.2. |ciphers| applies to both when set.
struct PskEndpoints {
  std::shared_ptr<const Context> client, server;
  std::shared_ptr<Seen> seen = std::make_shared<Seen>();
};

PskEndpoints MakePsk(std::string identity, std::string key, std::string ciphers = "",
                     std::string hint = "our hint") {
  PskEndpoints e;
  auto seen = e.seen;
  ServerContextOptions server{.ciphers = ciphers};
  server.max_version = TlsVersion::kTls12;
  server.psk_identity_hint = hint;
  server.psk_server_callback = [seen](std::string_view id) -> std::optional<std::vector<uint8_t>> {
    seen->identities.emplace_back(id);
    if (id == "alice") return Key("alice's secret");
    return std::nullopt;
  };
  ClientContextOptions client{.ciphers = ciphers};
  client.max_version = TlsVersion::kTls12;
  client.psk_client_callback = [seen, identity, key](std::string_view h) {
    seen->hints.emplace_back(h);
    return std::optional<PskIdentity>(PskIdentity{identity, Key(key)});
  };
  auto s = Context::Create(server);
  auto c = Context::Create(client);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  e.server = s.ok() ? s.value() : nullptr;
  e.client = c.ok() ? c.value() : nullptr;
  return e;
}

std::unique_ptr<Pair> Connect(const PskEndpoints& e, SessionOptions client_options = {}) {
  if (!e.client || !e.server) return nullptr;
  client_options.servername = "localhost";
  auto pair = Pair::Create(e.client, e.server, std::move(client_options));
  EXPECT_TRUE(pair.ok());
  return pair.ok() ? std::move(pair).value() : nullptr;
}

TEST(Psk, DefaultSuiteAuthenticatesBothSidesWithoutCertificates) {
  PskEndpoints e = MakePsk("alice", "alice's secret");
  auto pair = Connect(e);
  ASSERT_TRUE(pair);
  ASSERT_TRUE(pair->Handshake()) << pair->EventSummary(Side::kClient) << " / "
                                 << pair->EventSummary(Side::kServer);
  for (Side side : {Side::kClient, Side::kServer}) {
    const HandshakeInfo& info = pair->session(side).handshake_info();
    EXPECT_EQ(info.version, TlsVersion::kTls12);
    EXPECT_EQ(info.cipher, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256");
    EXPECT_TRUE(info.authorized);
    EXPECT_EQ(info.authorization_error, "");
    EXPECT_EQ(info.psk_identity, "alice");
    EXPECT_FALSE(pair->session(side).peer_certificate().has_value());
  }
  EXPECT_EQ(e.seen->hints, std::vector<std::string>{"our hint"});
  EXPECT_EQ(e.seen->identities, std::vector<std::string>{"alice"});
  pair->Write(Side::kClient, "over a shared key");
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "over a shared key");
}

TEST(Psk, PlainPskSuiteAndNoHint) {
  PskEndpoints e = MakePsk("alice", "alice's secret", "PSK-AES128-CBC-SHA", "");
  auto pair = Connect(e);
  ASSERT_TRUE(pair);
  ASSERT_TRUE(pair->Handshake()) << pair->EventSummary(Side::kClient);
  EXPECT_EQ(pair->client().handshake_info().cipher, "TLS_PSK_WITH_AES_128_CBC_SHA");
  EXPECT_EQ(e.seen->hints, std::vector<std::string>{""});
  EXPECT_EQ(pair->server().handshake_info().psk_identity, "alice");
}

TEST(Psk, UnknownIdentityIsRefusedWithUnknownPskIdentity) {
  PskEndpoints e = MakePsk("mallory", "a guess");
  auto pair = Connect(e);
  ASSERT_TRUE(pair);
  EXPECT_FALSE(pair->Handshake());
  EXPECT_EQ(e.seen->identities, std::vector<std::string>{"mallory"});
  ASSERT_TRUE(pair->server().error());
  EXPECT_EQ(pair->server().error()->code, "ERR_SSL_PSK_IDENTITY_NOT_FOUND");
  EXPECT_EQ(pair->server().error()->alert, kUnknownPskIdentityAlert);
  ASSERT_TRUE(pair->client().error());
  EXPECT_TRUE(pair->client().error()->alert_from_peer);
  EXPECT_EQ(pair->client().error()->alert, kUnknownPskIdentityAlert);
  EXPECT_EQ(pair->Find(Side::kClient, EventKind::kHandshakeDone), nullptr);
  EXPECT_EQ(pair->Find(Side::kServer, EventKind::kHandshakeDone), nullptr);
}

TEST(Psk, WrongKeyFailsTheHandshake) {
  PskEndpoints e = MakePsk("alice", "not alice's secret");
  auto pair = Connect(e);
  ASSERT_TRUE(pair);
  EXPECT_FALSE(pair->Handshake());
  ASSERT_TRUE(pair->server().error());
  EXPECT_EQ(pair->server().error()->kind(), ErrorKind::kProtocol) << pair->server().error()->code;
  ASSERT_TRUE(pair->client().error());
  EXPECT_EQ(pair->Find(Side::kClient, EventKind::kHandshakeDone), nullptr);
  EXPECT_EQ(pair->Find(Side::kServer, EventKind::kHandshakeDone), nullptr);
}

TEST(Psk, ClientDecliningOrAnsweringOutOfBoundsEndsTheHandshake) {
  for (auto answer :
       {std::optional<PskIdentity>(),
        std::optional<PskIdentity>(PskIdentity{std::string(129, 'a'), Key("k")}),
        std::optional<PskIdentity>(PskIdentity{"alice", {}}),
        std::optional<PskIdentity>(PskIdentity{std::string("al\0ce", 5), Key("k")})}) {
    PskEndpoints e = MakePsk("alice", "alice's secret");
    ClientContextOptions client{};
    client.max_version = TlsVersion::kTls12;
    client.psk_client_callback = [answer](std::string_view) { return answer; };
    auto c = Context::Create(client);
    ASSERT_TRUE(c.ok());
    e.client = c.value();
    auto pair = Connect(e);
    ASSERT_TRUE(pair);
    EXPECT_FALSE(pair->Handshake());
    ASSERT_TRUE(pair->client().error());
    EXPECT_EQ(pair->client().error()->code, "ERR_SSL_PSK_IDENTITY_NOT_FOUND");
    EXPECT_TRUE(e.seen->identities.empty());  // nothing reached the server's callback
  }
}

TEST(Psk, ResumptionKeepsTheVerdictAndIdentity) {
  PskEndpoints e = MakePsk("alice", "alice's secret");
  auto first = Connect(e);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->Handshake());
  first->Pump();
  std::optional<SavedSession> saved = first->client().saved_session();
  ASSERT_TRUE(saved);
  auto second = Connect(e, {.session = saved});
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->Handshake());
  for (Side side : {Side::kClient, Side::kServer}) {
    const HandshakeInfo& info = second->session(side).handshake_info();
    EXPECT_TRUE(info.session_reused);
    EXPECT_TRUE(info.authorized);
    EXPECT_EQ(info.psk_identity, "alice");
  }
  EXPECT_EQ(e.seen->identities.size(), 1u);  // the resumption asked no callback
}

// A server with both certificates and PSK serves certificate clients as before (TLS 1.3
// here, which never uses these keys); a PSK client of a certificate-only server verifies
// the certificate as usual.
TEST(Psk, CertificateHandshakesAreUnchanged) {
  testing::TestPki pki = testing::MakeTestPki();
  ServerContextOptions server{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()}};
  server.psk_server_callback = [](std::string_view) { return std::optional(Key("k")); };
  ClientContextOptions client{.ca_pems = {pki.root.cert_pem}};
  auto s = Context::Create(server);
  auto c = Context::Create(client);
  ASSERT_TRUE(s.ok() && c.ok());
  auto pair = Pair::Create(c.value(), s.value(), {.servername = "localhost"});
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE((*pair)->Handshake());
  EXPECT_EQ((*pair)->client().handshake_info().version, TlsVersion::kTls13);
  EXPECT_TRUE((*pair)->client().handshake_info().authorized);
  EXPECT_EQ((*pair)->client().handshake_info().psk_identity, "");

  ServerContextOptions plain_server{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()}};
  plain_server.max_version = TlsVersion::kTls12;
  ClientContextOptions psk_client{};  // trusts nothing
  psk_client.psk_client_callback = [](std::string_view) {
    return std::optional(PskIdentity{"alice", Key("k")});
  };
  auto s2 = Context::Create(plain_server);
  auto c2 = Context::Create(psk_client);
  ASSERT_TRUE(s2.ok() && c2.ok());
  auto pair2 = Pair::Create(c2.value(), s2.value(), {.servername = "localhost"});
  ASSERT_TRUE(pair2.ok());
  EXPECT_FALSE((*pair2)->Handshake());  // a certificate suite, and an untrusted certificate
  ASSERT_TRUE((*pair2)->client().error());
  EXPECT_EQ((*pair2)->client().error()->kind(), ErrorKind::kCertificate)
      << (*pair2)->client().error()->code;
}

// Each role has only its own callback: a client cannot set the server's callback or hint, nor
// a server the client's (they do not compile).
template <class O>
concept HasServerPsk = requires(O o) {
  o.psk_server_callback;
}
|| requires(O o) { o.psk_identity_hint; };
template <class O>
concept HasClientPsk = requires(O o) {
  o.psk_client_callback;
};
static_assert(HasServerPsk<ServerContextOptions> && !HasServerPsk<ClientContextOptions>);
static_assert(HasClientPsk<ClientContextOptions> && !HasClientPsk<ServerContextOptions>);

TEST(Psk, CreateRefusesMisconfiguration) {
  auto key = [](std::string_view) { return std::optional(Key("k")); };
  ServerContextOptions hint_without_callback{};
  hint_without_callback.psk_identity_hint = "h";
  ServerContextOptions long_hint{};
  long_hint.psk_server_callback = key;
  long_hint.psk_identity_hint = std::string(129, 'h');
  ServerContextOptions hint_with_nul{};
  hint_with_nul.psk_server_callback = key;
  hint_with_nul.psk_identity_hint = std::string("a\0b", 3);
  for (const ServerContextOptions* o : {&hint_without_callback, &long_hint, &hint_with_nul}) {
    auto c = Context::Create(*o);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, "ERR_TLS_INVALID_CONFIG") << c.error().message;
  }
  // A server with neither a certificate nor PSK still needs a certificate.
  auto bare = Context::Create(ServerContextOptions{});
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.error().code, "ERR_TLS_MISSING_CERTIFICATE");
}

}  // namespace
}  // namespace sansio_tls
