// What BoGo (tests/bogo) found or needed, checked without the runner: RSA keyUsage
// enforcement on clients, and the HandshakeInfo details, options and exporter the shim uses.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <vector>

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
              void (*tweak)(ClientContextOptions& client, ServerContextOptions& server) = nullptr) {
  testing::CertSpec root_spec;
  root_spec.subject = {{"CN", "root"}};
  root_spec.is_ca = true;
  root_spec.key = testing::CachedKey(KeyType::kEcdsaP256, 6);
  testing::Cert root = testing::MakeSelfSigned(root_spec);
  testing::Cert cert = testing::MakeSigned(spec, root);
  ServerContextOptions server{
      .credentials = {.key_pem = cert.key_pem, .cert_chain_pem = cert.cert_pem}};
  ClientContextOptions client{.ca_pems = {root.cert_pem}};
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
  auto ctx = Make(spec, [](auto& c, auto& s) {
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
  auto ctx = Make(spec, [](auto& c, auto& s) {
    c.max_version = s.max_version = TlsVersion::kTls12;
    s.ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
  });
  auto pair = MakePair(ctx);
  EXPECT_TRUE(pair->Handshake()) << pair->EventSummary(testing::Side::kClient);
}

TEST(HandshakeInfo, ReportsGroupSignatureAlgorithmAndNoHelloRetry) {
  auto ctx = Make(LocalhostSpec(), [](auto& c, auto& s) {
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
  auto ctx = Make(LocalhostSpec(), [](auto& c, auto& s) {
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
  auto c = Context::Create(ClientContextOptions{.ecdh_curve = "X25519:NoSuchCurve"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "ERR_TLS_INVALID_ECDH_CURVE");
}

TEST(ContextOptions, SigningAlgorithmsChooseTheServerSignature) {
  auto ctx = Make(LocalhostSpec(KeyType::kRsa2048),
                  [](auto&, auto& s) { s.signing_algorithms = {SSL_SIGN_RSA_PSS_RSAE_SHA384}; });
  auto pair = MakePair(ctx);
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(pair->client().handshake_info().peer_signature_algorithm, SSL_SIGN_RSA_PSS_RSAE_SHA384);
}

TEST(ContextOptions, VerifyAlgorithmsWithNoOverlapFailTheHandshake) {
  auto ctx = Make(LocalhostSpec(KeyType::kRsa2048), [](auto& c, auto&) {
    c.verify_algorithms = {SSL_SIGN_ECDSA_SECP256R1_SHA256};  // the server only has RSA
  });
  auto pair = MakePair(ctx);
  EXPECT_FALSE(pair->Handshake());
  EXPECT_TRUE(pair->server().failed());
}

TEST(ContextOptions, UnknownSignatureAlgorithmIsAConfigError) {
  auto c = Context::Create(ClientContextOptions{.verify_algorithms = {0x1234}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "ERR_TLS_INVALID_SIGALGS");
}

TEST(ContextOptions, HonorCipherOrderPicksTheServersFirstChoice) {
  for (bool honor : {false, true}) {
    static constexpr auto orders = [](ClientContextOptions& c, ServerContextOptions& s) {
      c.max_version = s.max_version = TlsVersion::kTls12;
      c.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384";
      s.ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256";
    };
    auto client_order = [](ClientContextOptions& c, ServerContextOptions& s) {
      orders(c, s);
      s.honor_cipher_order = false;  // on by default (docs/security.md)
    };
    auto server_order = [](ClientContextOptions& c, ServerContextOptions& s) {
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
    ClientContextOptions co = *ctx.client->client_options();
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

// Node's getFinished()/getPeerFinished() and the channel bindings (RFC 5929, RFC 9266).
Contexts WithMaxVersion(Contexts ctx, TlsVersion v) {
  ClientContextOptions co = *ctx.client->client_options();
  co.max_version = v;
  ctx.client = Context::Create(co).value();
  return ctx;
}

TEST(ChannelBinding, Tls12FinishedMessagesAndTlsUniqueAgree) {
  auto ctx = WithMaxVersion(Make(LocalhostSpec()), TlsVersion::kTls12);
  auto pair = MakePair(ctx);
  ASSERT_TRUE(pair->Handshake());
  std::vector<uint8_t> client_finished = pair->client().finished_message();
  std::vector<uint8_t> server_finished = pair->server().finished_message();
  EXPECT_EQ(client_finished.size(), 12u);  // verify_data of the usual suites
  EXPECT_EQ(server_finished.size(), 12u);
  EXPECT_NE(client_finished, server_finished);
  EXPECT_EQ(pair->server().peer_finished_message(), client_finished);
  EXPECT_EQ(pair->client().peer_finished_message(), server_finished);
  // A full handshake: tls-unique is the client's Finished, the first one sent.
  auto unique_c = pair->client().ChannelBinding("tls-unique");
  auto unique_s = pair->server().ChannelBinding("tls-unique");
  ASSERT_TRUE(unique_c.ok() && unique_s.ok());
  EXPECT_EQ(*unique_c, client_finished);
  EXPECT_EQ(*unique_s, client_finished);
  // TLS 1.2 with the extended master secret (BoringSSL's default): tls-exporter too.
  auto exp_c = pair->client().ChannelBinding("tls-exporter");
  auto exp_s = pair->server().ChannelBinding("tls-exporter");
  ASSERT_TRUE(exp_c.ok() && exp_s.ok()) << (exp_c.ok() ? "" : exp_c.error().message);
  EXPECT_EQ(exp_c->size(), 32u);
  EXPECT_EQ(*exp_c, *exp_s);
}

TEST(ChannelBinding, Tls12ResumptionBindsTheServersFinished) {
  auto ctx = WithMaxVersion(Make(LocalhostSpec()), TlsVersion::kTls12);
  auto first = MakePair(ctx);
  ASSERT_TRUE(first->Handshake());
  first->Pump();
  std::optional<SavedSession> saved = first->client().saved_session();
  ASSERT_TRUE(saved.has_value());
  auto pair = Pair::Create(ctx.client, ctx.server, {.servername = "localhost", .session = saved});
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE((*pair)->Handshake());
  ASSERT_TRUE((*pair)->client().handshake_info().session_reused);
  // An abbreviated handshake: the server's Finished comes first.
  auto unique = (*pair)->client().ChannelBinding("tls-unique");
  ASSERT_TRUE(unique.ok()) << unique.error().message;
  EXPECT_EQ(*unique, (*pair)->server().finished_message());
  EXPECT_EQ(*unique, (*pair)->client().peer_finished_message());
  EXPECT_NE(*unique, first->client().ChannelBinding("tls-unique").value());
}

TEST(ChannelBinding, Tls13HasTlsExporterOnly) {
  auto pair = MakePair(Make(LocalhostSpec()));
  ASSERT_TRUE(pair->Handshake());
  ASSERT_EQ(pair->client().handshake_info().version, TlsVersion::kTls13);
  auto exp_c = pair->client().ChannelBinding("tls-exporter");
  auto exp_s = pair->server().ChannelBinding("tls-exporter");
  ASSERT_TRUE(exp_c.ok() && exp_s.ok());
  EXPECT_EQ(*exp_c, *exp_s);
  const uint8_t empty[1] = {0};
  EXPECT_EQ(*exp_c, pair->client()
                        .ExportKeyingMaterial(32, "EXPORTER-Channel-Binding",
                                              std::span<const uint8_t>(empty, size_t{0}))
                        .value());
  auto unique = pair->client().ChannelBinding("tls-unique");
  ASSERT_FALSE(unique.ok());
  EXPECT_EQ(unique.error().code, "ERR_TLS_CHANNEL_BINDING");
  EXPECT_EQ(unique.error().kind(), ErrorKind::kMisuse);
  // BoringSSL keeps TLS 1.3's Finished messages to itself.
  EXPECT_TRUE(pair->client().finished_message().empty());
  EXPECT_TRUE(pair->server().peer_finished_message().empty());
}

TEST(ChannelBinding, RefusedBeforeTheHandshakeAndForUnknownTypes) {
  auto pair = MakePair(Make(LocalhostSpec()));
  EXPECT_EQ(pair->client().ChannelBinding("tls-exporter").error().code, "ERR_TLS_CHANNEL_BINDING");
  EXPECT_TRUE(pair->client().finished_message().empty());
  ASSERT_TRUE(pair->Handshake());
  auto bad = pair->client().ChannelBinding("tls-server-end-point");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "ERR_TLS_CHANNEL_BINDING");
}

// Node's setMaxSendFragment(): records carry at most that much plaintext.
// The application-data records (type 23) in |wire|: their payload lengths.
std::vector<size_t> AppRecordLengths(std::span<const uint8_t> wire) {
  std::vector<size_t> out;
  for (size_t i = 0; i + 5 <= wire.size();) {
    size_t len = static_cast<size_t>(wire[i + 3]) << 8 | wire[i + 4];
    if (wire[i] == 23) out.push_back(len);
    i += 5 + len;
  }
  return out;
}

TEST(MaxSendFragment, SmallerRecordsFromTheOptionAndTheSetter) {
  auto ctx = Make(LocalhostSpec());
  auto pair =
      Pair::Create(ctx.client, ctx.server, {.servername = "localhost", .max_send_fragment = 1024});
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE((*pair)->Handshake());
  (*pair)->Pump();
  std::vector<uint8_t> data(10000, 'x');
  ASSERT_EQ((*pair)->client().Write(data), data.size());
  std::vector<size_t> records = AppRecordLengths((*pair)->client().PendingOutput());
  ASSERT_GE(records.size(), 10u);
  for (size_t len : records) EXPECT_LE(len, 1024u + 256u);  // plaintext + AEAD overhead
  (*pair)->Pump();
  EXPECT_EQ((*pair)->received(testing::Side::kServer), std::string(data.begin(), data.end()));

  // The server, changed after the handshake; the default sends 16 KiB records.
  ASSERT_TRUE((*pair)->server().set_max_send_fragment(512));
  ASSERT_EQ((*pair)->server().Write(data), data.size());
  records = AppRecordLengths((*pair)->server().PendingOutput());
  ASSERT_GE(records.size(), 19u);
  for (size_t len : records) EXPECT_LE(len, 512u + 256u);
  (*pair)->Pump();
  ASSERT_TRUE((*pair)->client().set_max_send_fragment(16384));
  ASSERT_EQ((*pair)->client().Write(data), data.size());
  EXPECT_EQ(AppRecordLengths((*pair)->client().PendingOutput()).size(), 1u);
}

TEST(MaxSendFragment, OutOfRangeIsRefused) {
  auto ctx = Make(LocalhostSpec());
  for (size_t bad : {size_t{1}, size_t{511}, size_t{16385}}) {
    auto s = Session::Create(ctx.client, {.servername = "localhost", .max_send_fragment = bad});
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code, "ERR_OUT_OF_RANGE");
    EXPECT_EQ(s.error().kind(), ErrorKind::kConfiguration);
  }
  auto pair = MakePair(ctx);
  EXPECT_FALSE(pair->client().set_max_send_fragment(100));
  EXPECT_TRUE(pair->client().set_max_send_fragment(512));
}

// Several chains per context (Node's arrays of key/cert): the client's signature_algorithms
// pick the chain.
struct TwoChains {
  std::shared_ptr<const Context> server;
  std::string root_pem;
};
// Server options with an ECDSA and an RSA chain for "localhost" (|rsa_first|: RSA is
// |credentials|), issued by the root returned in |*root_pem|.
ServerContextOptions TwoChainOptions(bool rsa_first, std::string* root_pem) {
  testing::CertSpec root_spec;
  root_spec.subject = {{"CN", "root"}};
  root_spec.is_ca = true;
  root_spec.key = testing::CachedKey(KeyType::kEcdsaP256, 6);
  testing::Cert root = testing::MakeSelfSigned(root_spec);
  testing::Cert ecdsa = testing::MakeSigned(LocalhostSpec(KeyType::kEcdsaP256), root);
  testing::Cert rsa = testing::MakeSigned(LocalhostSpec(KeyType::kRsa2048), root);
  Credentials e{.key_pem = ecdsa.key_pem, .cert_chain_pem = ecdsa.cert_pem};
  Credentials r{.key_pem = rsa.key_pem, .cert_chain_pem = rsa.cert_pem};
  ServerContextOptions o{.credentials = rsa_first ? r : e};
  o.alternative_credentials = {rsa_first ? e : r};
  *root_pem = root.cert_pem;
  return o;
}

TwoChains MakeTwoChains(bool rsa_first) {
  std::string root_pem;
  auto server = Context::Create(TwoChainOptions(rsa_first, &root_pem));
  EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.error().message);
  return {server.ok() ? server.value() : nullptr, root_pem};
}

// The signature algorithm the server used with a client accepting |algs| (empty: defaults),
// or 0 when the handshake failed.
uint16_t ServerSignature(const TwoChains& chains, std::vector<uint16_t> algs,
                         TlsVersion max = TlsVersion::kTls13) {
  ClientContextOptions co{.ca_pems = {chains.root_pem}};
  co.verify_algorithms = std::move(algs);
  co.max_version = max;
  auto client = Context::Create(co);
  EXPECT_TRUE(client.ok());
  auto pair = Pair::Create(client.value(), chains.server, {.servername = "localhost"});
  EXPECT_TRUE(pair.ok());
  if (!(*pair)->Handshake()) return 0;
  EXPECT_TRUE((*pair)->client().handshake_info().authorized);
  return (*pair)->client().handshake_info().peer_signature_algorithm;
}

TEST(SeveralChains, TheClientsAlgorithmsPickTheChain) {
  TwoChains ecdsa_first = MakeTwoChains(/*rsa_first=*/false);
  EXPECT_EQ(ServerSignature(ecdsa_first, {}), 0x0403);        // both fit: the first chain
  EXPECT_EQ(ServerSignature(ecdsa_first, {0x0804}), 0x0804);  // RSA-PSS only: the RSA chain
  EXPECT_EQ(ServerSignature(ecdsa_first, {0x0804}, TlsVersion::kTls12), 0x0804);
  EXPECT_EQ(ServerSignature(ecdsa_first, {0x0403}), 0x0403);
  TwoChains rsa_first = MakeTwoChains(/*rsa_first=*/true);
  EXPECT_EQ(ServerSignature(rsa_first, {}), 0x0804);
  EXPECT_EQ(ServerSignature(rsa_first, {0x0403, 0x0503}), 0x0403);
  EXPECT_EQ(ServerSignature(rsa_first, {0x0403}, TlsVersion::kTls12), 0x0403);
  // Nothing fits: the first chain is tried, and the handshake fails.
  EXPECT_EQ(ServerSignature(rsa_first, {0x0807}), 0);
  // The Context keeps no private key of any chain.
  const std::optional<ServerContextOptions> kept = rsa_first.server->server_options();
  ASSERT_TRUE(kept.has_value());
  for (const Credentials& c : kept->alternative_credentials) {
    EXPECT_EQ(c.key_pem.find("PRIVATE KEY"), std::string::npos);
  }
}

TEST(SeveralChains, InvalidEntriesAndClientsAreRefused) {
  std::string root_pem;
  ServerContextOptions o = TwoChainOptions(false, &root_pem);
  o.alternative_credentials.push_back(Credentials{.key_pem = "junk", .cert_chain_pem = "junk"});
  auto bad = Context::Create(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("alternative_credentials[1]"), std::string::npos)
      << bad.error().message;
  // A client has no alternative chains to set: tests/core/role_options_test.cc.
}

// Node's enableTrace(): the messages each side sent and received, in order.
std::vector<std::string> Trace(const Pair& pair, testing::Side side, bool sent) {
  std::vector<std::string> out;
  for (const Event& e : pair.events(side)) {
    if (e.kind() == EventKind::kTrace && e.get<TraceMessage>().sent == sent) {
      out.push_back(std::string(e.get<TraceMessage>().name) + "/" +
                    std::to_string(e.get<TraceMessage>().length));
    }
  }
  return out;
}
std::vector<std::string> Names(const std::vector<std::string>& trace) {
  std::vector<std::string> out;
  for (const std::string& t : trace) out.push_back(t.substr(0, t.find('/')));
  return out;
}

TEST(TraceMessages, Tls13HandshakeAndCloseBothWays) {
  auto ctx = Make(LocalhostSpec());
  auto pair = Pair::Create(ctx.client, ctx.server, {.servername = "localhost", .trace = true},
                           {.trace = true});
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE((*pair)->Handshake());
  (*pair)->client().Close();
  (*pair)->Pump();
  (*pair)->server().Close();
  (*pair)->Pump();
  using testing::Side;
  std::vector<std::string> client_sent = Trace(**pair, Side::kClient, true);
  std::vector<std::string> server_sent = Trace(**pair, Side::kServer, true);
  // Each side sends the middlebox-compatibility ChangeCipherSpec (RFC 8446 D.4).
  EXPECT_EQ(Names(client_sent), (std::vector<std::string>{"ClientHello", "ChangeCipherSpec",
                                                          "Finished", "close notify"}));
  EXPECT_EQ(Names(server_sent),
            (std::vector<std::string>{"ServerHello", "ChangeCipherSpec", "EncryptedExtensions",
                                      "CompressedCertificate", "CertificateVerify", "Finished",
                                      "NewSessionTicket", "NewSessionTicket", "close notify"}));
  // What one side sent is what the other received, with the same sizes, except that
  // compatibility record, which a TLS 1.3 receiver drops unseen.
  auto without_ccs = [](std::vector<std::string> v) {
    std::erase(v, "ChangeCipherSpec/1");
    return v;
  };
  EXPECT_EQ(without_ccs(client_sent), Trace(**pair, Side::kServer, false));
  EXPECT_EQ(without_ccs(server_sent), Trace(**pair, Side::kClient, false));
}

TEST(TraceMessages, Tls12HasChangeCipherSpecAndIsOffByDefault) {
  auto ctx = WithMaxVersion(Make(LocalhostSpec()), TlsVersion::kTls12);
  auto pair = Pair::Create(ctx.client, ctx.server, {.servername = "localhost", .trace = true});
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE((*pair)->Handshake());
  (*pair)->Pump();
  using testing::Side;
  EXPECT_EQ(Names(Trace(**pair, Side::kClient, true)),
            (std::vector<std::string>{"ClientHello", "ClientKeyExchange", "ChangeCipherSpec",
                                      "Finished"}));
  EXPECT_EQ(Names(Trace(**pair, Side::kClient, false)),
            (std::vector<std::string>{"ServerHello", "Certificate", "ServerKeyExchange",
                                      "ServerHelloDone", "NewSessionTicket", "ChangeCipherSpec",
                                      "Finished"}));
  EXPECT_TRUE(Trace(**pair, Side::kServer, true).empty()) << "the server did not ask for it";
}

// Certificate compression (RFC 8879): on by default, the chain crosses as
// CompressedCertificate, verifies as before, and takes fewer bytes.
// The size and name of the certificate message the client received.
size_t ServerCertificateBytes(void (*tweak)(ClientContextOptions&, ServerContextOptions&),
                              std::string* message) {
  // A leaf and its intermediate, as servers send them.
  static const testing::TestPki* pki = new testing::TestPki(testing::MakeTestPki());
  ServerContextOptions so{
      .credentials = {.key_pem = pki->server.key_pem, .cert_chain_pem = pki->server_chain_pem()}};
  ClientContextOptions co{.ca_pems = {pki->root.cert_pem}};
  if (tweak) tweak(co, so);
  Contexts ctx{Context::Create(co).value(), Context::Create(so).value()};
  auto pair = Pair::Create(ctx.client, ctx.server, {.servername = "localhost", .trace = true});
  EXPECT_TRUE(pair.ok());
  EXPECT_TRUE((*pair)->Handshake());
  EXPECT_TRUE((*pair)->client().handshake_info().authorized);
  for (const Event& e : (*pair)->events(testing::Side::kClient)) {
    if (e.kind() == EventKind::kTrace && !e.get<TraceMessage>().sent &&
        (e.get<TraceMessage>().type == 11 || e.get<TraceMessage>().type == 25)) {
      *message = std::string(e.get<TraceMessage>().name);
      return e.get<TraceMessage>().length;
    }
  }
  return 0;
}

TEST(CertificateCompression, OnByDefaultAndSavesBytes) {
  std::string compressed_name, plain_name;
  size_t compressed = ServerCertificateBytes(nullptr, &compressed_name);
  size_t plain = ServerCertificateBytes([](auto& c, auto&) { c.certificate_compression = false; },
                                        &plain_name);
  std::string server_off_name;
  ServerCertificateBytes([](auto&, auto& s) { s.certificate_compression = false; },
                         &server_off_name);
  EXPECT_EQ(server_off_name, "Certificate");
  EXPECT_EQ(compressed_name, "CompressedCertificate");
  EXPECT_EQ(plain_name, "Certificate");
  ASSERT_GT(plain, 0u);
  EXPECT_LT(compressed, plain);
  std::printf("certificate message: %zu bytes compressed, %zu plain (%.0f%% saved)\n", compressed,
              plain, 100.0 * (plain - compressed) / plain);
}

// An application judging the stapled OCSP response at kVerifyRequested (BoGo's
// ClientOCSPCallback-Fail-*): the response is readable there, and errc::kOcspRejected
// fails the handshake with bad_certificate_status_response, stapled or not.
class OcspVerdict : public ::testing::TestWithParam<bool> {};

TEST_P(OcspVerdict, ApplicationRejectsTheStapledResponse) {
  static bool staple;
  staple = GetParam();
  auto ctx = Make(LocalhostSpec(), [](auto& c, auto& s) {
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

TEST(ChannelBinding, TlsUniqueBothSidesSeeTheClientFinishedOfAFullTls12Handshake) {
  auto ctx = Make(LocalhostSpec(),
                  [](auto& c, auto& s) { c.max_version = s.max_version = TlsVersion::kTls12; });
  auto pair = MakePair(ctx);
  EXPECT_FALSE(pair->client().ChannelBinding("tls-unique").ok());  // before the handshake
  ASSERT_TRUE(pair->Handshake());
  auto client = pair->client().ChannelBinding("tls-unique");
  auto server = pair->server().ChannelBinding("tls-unique");
  ASSERT_TRUE(client.ok() && server.ok());
  EXPECT_EQ(client->size(), 12u);
  EXPECT_EQ(*client, *server);
  EXPECT_TRUE(pair->client().handshake_info().extended_master_secret);
  EXPECT_TRUE(pair->server().handshake_info().extended_master_secret);
  // Another connection has another value.
  auto other = MakePair(ctx);
  ASSERT_TRUE(other->Handshake());
  EXPECT_NE(*other->client().ChannelBinding("tls-unique"), *client);
}

TEST(ChannelBinding, NoTlsUniqueOnTls13) {
  auto pair = MakePair(Make(LocalhostSpec()));
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(pair->client().handshake_info().version, TlsVersion::kTls13);
  EXPECT_FALSE(pair->client().ChannelBinding("tls-unique").ok());
  EXPECT_FALSE(pair->server().ChannelBinding("tls-unique").ok());
  EXPECT_TRUE(pair->client().handshake_info().extended_master_secret);
}

}  // namespace
}  // namespace sansio_tls
