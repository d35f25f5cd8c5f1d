// Encrypted Client Hello (experimental; core/ech.h) in the pair: accepted with the inner
// name reaching SNI selection and never the wire; rejected for wrong or retired keys, with
// retry configs authenticated for the public name and a second connection accepted with
// them; fallback when the server has no ECH; GREASE; key rotation; misconfiguration.
#include "core/ech.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls {
namespace {

using testing::Pair;
using testing::Side;

constexpr char kPublic[] = "public.example";
constexpr char kSecret[] = "secret.example";

// One PKI: a certificate for the public name (the server's default) and one for the secret
// name (an SNI entry, or what an SNI callback answers with).
struct Pki {
  testing::TestPki base = testing::MakeTestPki();
  testing::Cert public_cert, secret_cert;
  Pki() {
    testing::CertSpec p;
    p.subject = {{"CN", kPublic}};
    p.dns_names = {kPublic};
    public_cert = testing::MakeSigned(p, base.intermediate);
    testing::CertSpec s;
    s.subject = {{"CN", kSecret}};
    s.dns_names = {kSecret};
    secret_cert = testing::MakeSigned(s, base.intermediate);
  }
  Credentials For(const testing::Cert& c) const {
    return {.key_pem = c.key_pem, .cert_chain_pem = c.cert_pem + base.intermediate.cert_pem};
  }
};

const Pki& TestPki() {
  static const Pki* pki = new Pki();
  return *pki;
}

EchKey Key(uint8_t id, std::string_view public_name = kPublic) {
  auto k = MakeEchKey(id, public_name);
  EXPECT_TRUE(k.ok()) << (k.ok() ? "" : k.error().message);
  return k.ok() ? k.value() : EchKey{};
}

template <class Options>
std::shared_ptr<const Context> MustCreate(const Options& o) {
  auto c = Context::Create(o);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().code + ": " + c.error().message);
  return c.ok() ? c.value() : nullptr;
}

// A server with |keys| (none: no ECH), its default chain for the public name and an SNI
// entry for the secret name (or, with |sni_callback|, that entry only by the callback).
std::shared_ptr<const Context> Server(std::vector<EchKey> keys, bool sni_callback = false) {
  const Pki& pki = TestPki();
  ServerContextOptions o{.credentials = pki.For(pki.public_cert)};
  if (sni_callback) {
    o.sni_callback = true;
  } else {
    o.sni_contexts = {{.pattern = kSecret, .credentials = pki.For(pki.secret_cert)}};
  }
  o.ech_keys = std::move(keys);
  return MustCreate(o);
}

std::shared_ptr<const Context> Client(bool grease = false) {
  ClientContextOptions o{.ca_pems = {TestPki().base.root.cert_pem}};
  o.ech_grease = grease;
  return MustCreate(o);
}

std::unique_ptr<Pair> Connect(std::shared_ptr<const Context> client,
                              std::shared_ptr<const Context> server,
                              std::vector<uint8_t> ech_config_list) {
  SessionOptions co{.servername = kSecret};
  co.ech_config_list = std::move(ech_config_list);
  auto pair = Pair::Create(client, server, co);
  EXPECT_TRUE(pair.ok()) << (pair.ok() ? "" : pair.error().message);
  return pair.ok() ? std::move(pair).value() : nullptr;
}

bool Contains(std::span<const uint8_t> bytes, std::string_view text) {
  return std::search(bytes.begin(), bytes.end(), text.begin(), text.end()) != bytes.end();
}

std::string Summary(Pair& p) {
  return "client: " + p.EventSummary(Side::kClient) +
         (p.client().error() ? " (" + p.client().error()->code + ")" : "") +
         " server: " + p.EventSummary(Side::kServer) +
         (p.server().error() ? " (" + p.server().error()->code + ")" : "");
}

// Nothing the server reported names the inner (secret) name.
void ExpectServerNeverSawTheSecretName(Pair& p) {
  EXPECT_NE(p.server().handshake_info().servername, kSecret);
  for (const Event& e : p.events(Side::kServer)) {
    std::string named;
    if (const auto* sni = e.get_if<event::SniRequest>()) named = sni->servername;
    if (const auto* alpn = e.get_if<event::AlpnRequest>()) named = alpn->servername;
    if (const auto* done = e.get_if<HandshakeInfo>()) named = done->servername;
    EXPECT_NE(named, kSecret) << EventKindName(e.kind());
  }
}

TEST(Ech, AcceptedServesTheInnerNameWhichNeverCrossesTheWire) {
  EchKey key = Key(1);
  std::vector<EchKey> keys = {key};
  auto pair = Connect(Client(), Server(keys), EchConfigList(keys));
  ASSERT_TRUE(pair);
  // The ClientHello, as sent: the public name in the clear, the secret one encrypted.
  std::span<const uint8_t> hello = pair->client().PendingOutput();
  EXPECT_TRUE(Contains(hello, kPublic));
  EXPECT_FALSE(Contains(hello, kSecret));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  for (Side side : {Side::kClient, Side::kServer}) {
    EXPECT_EQ(pair->session(side).handshake_info().ech, EchStatus::kAccepted)
        << testing::SideName(side);
    EXPECT_EQ(pair->session(side).handshake_info().servername, kSecret) << testing::SideName(side);
  }
  EXPECT_TRUE(pair->client().authorized());
  // The SNI entry for the inner name served: its certificate.
  auto peer = pair->client().peer_certificate();
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(peer->subjectaltname, std::string("DNS:") + kSecret);
  EXPECT_TRUE(pair->client().ech_retry_configs().empty());
}

TEST(Ech, TheSniCallbackSeesTheInnerNameWhenAcceptedAndThePublicNameWhenRejected) {
  EchKey key = Key(1);
  std::vector<EchKey> keys = {key};
  auto secret_ctx =
      MustCreate(ServerContextOptions{.credentials = TestPki().For(TestPki().secret_cert)});
  auto public_ctx =
      MustCreate(ServerContextOptions{.credentials = TestPki().For(TestPki().public_cert)});
  for (bool accept : {true, false}) {
    std::vector<uint8_t> list =
        accept ? EchConfigList(keys) : EchConfigList(std::vector<EchKey>{Key(1)});
    auto pair = Connect(Client(), Server(keys, /*sni_callback=*/true), list);
    ASSERT_TRUE(pair);
    pair->Pump();
    const Event* request = pair->Find(Side::kServer, EventKind::kSniRequest);
    ASSERT_NE(request, nullptr) << Summary(*pair);
    EXPECT_EQ(request->get<event::SniRequest>().servername, accept ? kSecret : kPublic);
    pair->server().AnswerSni(SniAnswer::Use(accept ? secret_ctx : public_ctx));
    pair->Pump();
    if (accept) {
      EXPECT_TRUE(pair->client().handshake_done()) << Summary(*pair);
    } else {
      ASSERT_TRUE(pair->client().failed());
      EXPECT_EQ(pair->client().error()->code, errc::kEchRejected);
      ExpectServerNeverSawTheSecretName(*pair);
    }
  }
}

// The client holds a config whose key the server does not have (a wrong key under the same
// config id): the server serves the public name and sends its retry configs; the client,
// having authenticated them with the public name's certificate, fails with
// ERR_TLS_ECH_REJECTED, and its second connection with them is accepted.
TEST(Ech, AWrongKeyIsRejectedWithRetryConfigsThatWorkTheSecondTime) {
  std::vector<EchKey> server_keys = {Key(7)};
  std::vector<EchKey> stale = {Key(7)};  // same id, another key
  auto server = Server(server_keys);
  auto client = Client();
  auto pair = Connect(client, server, EchConfigList(stale));
  ASSERT_TRUE(pair);
  EXPECT_FALSE(pair->Handshake());
  ASSERT_TRUE(pair->client().failed()) << Summary(*pair);
  const Error& e = *pair->client().error();
  EXPECT_EQ(e.code, errc::kEchRejected);
  EXPECT_EQ(e.kind(), ErrorKind::kProtocol);
  EXPECT_EQ(e.alert, SSL_AD_ECH_REQUIRED);
  EXPECT_EQ(pair->client().handshake_info().ech, EchStatus::kRejected);
  EXPECT_EQ(pair->Find(Side::kClient, EventKind::kHandshakeDone), nullptr);
  std::vector<uint8_t> retry = pair->client().ech_retry_configs();
  EXPECT_EQ(retry, EchConfigList(server_keys));
  // The server: it served the outer ClientHello and never saw the inner name.
  EXPECT_EQ(pair->server().handshake_info().ech, EchStatus::kRejected);
  ExpectServerNeverSawTheSecretName(*pair);
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->alert, SSL_AD_ECH_REQUIRED);
  EXPECT_TRUE(pair->server().error()->alert_from_peer);

  auto again = Connect(client, server, retry);
  ASSERT_TRUE(again);
  ASSERT_TRUE(again->Handshake()) << Summary(*again);
  EXPECT_EQ(again->client().handshake_info().ech, EchStatus::kAccepted);
  EXPECT_EQ(again->server().handshake_info().servername, kSecret);
}

// Retry configs are only believed from a server that proved the public name.
TEST(Ech, RetryConfigsFromAServerNotAuthenticatedForThePublicNameAreNotUsed) {
  std::vector<EchKey> server_keys = {Key(7, "other.example")};
  std::vector<EchKey> stale = {Key(7, "other.example")};
  // The default certificate is for public.example, not other.example; a client that does
  // not reject unauthorized servers still must not take their retry configs.
  for (bool reject_unauthorized : {true, false}) {
    ClientContextOptions co{.ca_pems = {TestPki().base.root.cert_pem}};
    co.reject_unauthorized = reject_unauthorized;
    auto pair = Connect(MustCreate(co), Server(server_keys), EchConfigList(stale));
    ASSERT_TRUE(pair);
    EXPECT_FALSE(pair->Handshake());
    ASSERT_TRUE(pair->client().failed());
    EXPECT_EQ(pair->client().error()->code, errc::kHostnameMismatch);
    EXPECT_TRUE(pair->client().ech_retry_configs().empty());
  }
}

TEST(Ech, RotationAcceptsTheOldKeyWhileOnlyTheNewOneIsRetried) {
  EchKey old_key = Key(1), new_key = Key(2);
  old_key.retry_config = false;  // kept until clients' caches expire, no longer advertised
  std::vector<EchKey> keys = {new_key, old_key};
  auto server = Server(keys);
  auto client = Client();
  for (const EchKey& k : {old_key, new_key}) {
    std::vector<EchKey> one = {k};
    auto pair = Connect(client, server, EchConfigList(one));
    ASSERT_TRUE(pair);
    ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
    EXPECT_EQ(pair->server().handshake_info().ech, EchStatus::kAccepted);
  }
  // A retired key (dropped from the server): rejected, and only the new config comes back.
  std::vector<EchKey> retired = {Key(3)};
  auto pair = Connect(client, server, EchConfigList(retired));
  ASSERT_TRUE(pair);
  EXPECT_FALSE(pair->Handshake());
  std::vector<EchKey> expected = {new_key};
  EXPECT_EQ(pair->client().ech_retry_configs(), EchConfigList(expected));
}

// A server that turned ECH off: the client's ECH is rejected with no retry configs, which
// means "connect again without ECH".
TEST(Ech, AServerWithoutEchMeansFallingBackWithoutIt) {
  std::vector<EchKey> keys = {Key(1)};
  auto server = Server({});
  auto client = Client();
  auto pair = Connect(client, server, EchConfigList(keys));
  ASSERT_TRUE(pair);
  EXPECT_FALSE(pair->Handshake());
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, errc::kEchRejected);
  EXPECT_TRUE(pair->client().ech_retry_configs().empty());
  EXPECT_EQ(pair->server().handshake_info().ech, EchStatus::kNotOffered);
  ExpectServerNeverSawTheSecretName(*pair);

  auto plain = Connect(client, server, {});
  ASSERT_TRUE(plain);
  ASSERT_TRUE(plain->Handshake()) << Summary(*plain);
  EXPECT_EQ(plain->client().handshake_info().ech, EchStatus::kNotOffered);
  EXPECT_EQ(plain->server().handshake_info().servername, kSecret);  // in the clear now
}

TEST(Ech, GreaseCompletesNormallyAndIsReportedAsSuch) {
  for (bool server_has_ech : {false, true}) {
    std::vector<EchKey> keys;
    if (server_has_ech) keys = {Key(1)};
    auto pair = Connect(Client(/*grease=*/true), Server(keys), {});
    ASSERT_TRUE(pair);
    ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
    EXPECT_EQ(pair->client().handshake_info().ech, EchStatus::kGrease);
    EXPECT_EQ(pair->server().handshake_info().ech,
              server_has_ech ? EchStatus::kRejected : EchStatus::kNotOffered);
    EXPECT_EQ(pair->server().handshake_info().servername, kSecret);
  }
}

TEST(Ech, SurvivesAHelloRetryRequest) {
  std::vector<EchKey> keys = {Key(1)};
  const Pki& pki = TestPki();
  ServerContextOptions so{.credentials = pki.For(pki.public_cert)};
  so.sni_contexts = {{.pattern = kSecret, .credentials = pki.For(pki.secret_cert)}};
  so.ech_keys = keys;
  so.ecdh_curve = "P-256";  // the client's first key share is X25519: a HelloRetryRequest
  ClientContextOptions co{.ca_pems = {pki.base.root.cert_pem}};
  co.ecdh_curve = "X25519:P-256";
  auto pair = Connect(MustCreate(co), MustCreate(so), EchConfigList(keys));
  ASSERT_TRUE(pair);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_TRUE(pair->client().handshake_info().hello_retry_request);
  EXPECT_EQ(pair->client().handshake_info().ech, EchStatus::kAccepted);
  EXPECT_EQ(pair->server().handshake_info().servername, kSecret);
}

TEST(Ech, ConfigurationErrors) {
  const Pki& pki = TestPki();
  EchKey key = Key(1);
  EchKey other = Key(2);
  auto server_with = [&](std::vector<EchKey> keys) {
    ServerContextOptions o{.credentials = pki.For(pki.public_cert)};
    o.ech_keys = std::move(keys);
    return Context::Create(o);
  };
  EchKey mismatched = key;
  mismatched.private_key = other.private_key;
  EchKey no_retry = key;
  no_retry.retry_config = false;
  EchKey garbage = key;
  garbage.config = {1, 2, 3};
  for (const EchKey& bad : {mismatched, no_retry, garbage}) {
    auto c = server_with({bad});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, errc::kInvalidEchConfig) << c.error().message;
    EXPECT_EQ(c.error().kind(), ErrorKind::kConfiguration);
  }
  EXPECT_EQ(MakeEchKey(1, "").error().code, errc::kInvalidEchConfig);

  // Keys on a client and GREASE on a server cannot be set: tests/core/role_options_test.cc.
  ServerContextOptions tls12{.credentials = pki.For(pki.public_cert)};
  tls12.max_version = TlsVersion::kTls12;
  tls12.ech_keys = {key};
  EXPECT_EQ(Context::Create(tls12).error().code, errc::kInvalidConfig);

  // A client's config list: malformed, or on a context that cannot speak TLS 1.3.
  auto client = Client();
  SessionOptions bad_list{.servername = kSecret};
  bad_list.ech_config_list = {0, 5, 1, 2};
  auto s = Session::Create(client, bad_list);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, errc::kInvalidEchConfig);
  auto client12 = MustCreate(ClientContextOptions{.max_version = TlsVersion::kTls12});
  SessionOptions good_list{.servername = kSecret};
  std::vector<EchKey> one = {key};
  good_list.ech_config_list = EchConfigList(one);
  auto s12 = Session::Create(client12, good_list);
  ASSERT_FALSE(s12.ok());
  EXPECT_EQ(s12.error().code, errc::kInvalidConfig);
}

}  // namespace
}  // namespace sansio_tls
