// ALPN and NPN over the in-memory pair: every server list against every client list, what
// both sides report (HandshakeInfo and the handshake-done event), the no-overlap alert, and
// protocol-list validation.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"
#include "tests/negotiation/negotiation_test_util.h"

namespace sansio_tls {
namespace {

using negotiation_test::MustCreate;
using negotiation_test::Summary;
using testing::Pair;
using testing::Side;
using List = std::vector<std::string>;

struct Endpoints {
  std::shared_ptr<const Context> client, server;
};

Endpoints Make(TlsVersion version, const List& server_alpn, const List& client_alpn,
               const List& server_npn = {}, const List& client_npn = {}) {
  static const testing::TestPki* pki = new testing::TestPki(testing::MakeTestPki());
  return {
      MustCreate(ClientContextOptions{.ca_pems = {pki->root.cert_pem},
                                      .min_version = version,
                                      .max_version = version,
                                      .alpn_protocols = client_alpn,
                                      .npn_protocols = client_npn}),
      MustCreate(ServerContextOptions{.credentials = {.key_pem = pki->server.key_pem,
                                                      .cert_chain_pem = pki->server_chain_pem()},
                                      .min_version = version,
                                      .max_version = version,
                                      .alpn_protocols = server_alpn,
                                      .npn_protocols = server_npn})};
}

std::unique_ptr<Pair> Connect(const Endpoints& e) {
  auto pair = Pair::Create(e.client, e.server, {.servername = "localhost"});
  EXPECT_TRUE(pair.ok());
  return std::move(pair).value();
}

// Node's spelling of a negotiated protocol: "none" when nothing was negotiated.
std::string Reported(const std::optional<std::string>& protocol) {
  return protocol.value_or("none");
}

std::string VersionName(TlsVersion v) { return v == TlsVersion::kTls13 ? "Tls13" : "Tls12"; }

// ---- ALPN -----------------------------------------------------------------------------

struct AlpnCase {
  const char* name;
  List server, client;
  std::string expected;  // on both sides; "" = no overlap: fatal no_application_protocol
};

void PrintTo(const AlpnCase& c, std::ostream* os) { *os << c.name; }

class AlpnMatrix : public ::testing::TestWithParam<std::tuple<AlpnCase, TlsVersion>> {};

TEST_P(AlpnMatrix, BothSidesAgreeOrTheServerRefuses) {
  const auto& [c, version] = GetParam();
  auto pair = Connect(Make(version, c.server, c.client));
  pair->Pump();
  if (c.expected.empty()) {
    ASSERT_TRUE(pair->server().failed()) << Summary(*pair);
    EXPECT_EQ(pair->server().error()->alert, SSL_AD_NO_APPLICATION_PROTOCOL);
    EXPECT_FALSE(pair->server().error()->alert_from_peer);
    ASSERT_TRUE(pair->client().failed()) << Summary(*pair);
    EXPECT_EQ(pair->client().error()->alert, SSL_AD_NO_APPLICATION_PROTOCOL);
    EXPECT_TRUE(pair->client().error()->alert_from_peer);
    EXPECT_FALSE(pair->Find(Side::kServer, EventKind::kHandshakeDone));
    EXPECT_FALSE(pair->Find(Side::kClient, EventKind::kHandshakeDone));
    return;
  }
  ASSERT_TRUE(pair->client().handshake_done() && pair->server().handshake_done()) << Summary(*pair);
  for (Side side : {Side::kClient, Side::kServer}) {
    SCOPED_TRACE(testing::SideName(side));
    EXPECT_EQ(Reported(pair->session(side).handshake_info().alpn_protocol), c.expected);
    const Event* done = pair->Find(side, EventKind::kHandshakeDone);
    ASSERT_NE(done, nullptr);
    EXPECT_EQ(Reported(done->get<HandshakeInfo>().alpn_protocol), c.expected);
    EXPECT_EQ(Reported(done->get<HandshakeInfo>().npn_protocol), "none");
  }
}

const AlpnCase kAlpnCases[] = {
    {"ServerOrderWins", {"h2", "http/1.1"}, {"http/1.1", "h2"}, "h2"},
    {"ServerOrderWinsOverClientFirstChoice", {"c", "b", "a"}, {"a", "b", "c"}, "c"},
    {"SingleCommonProtocol", {"h2", "http/1.1"}, {"spdy/3", "http/1.1"}, "http/1.1"},
    {"IdenticalLists", {"h2"}, {"h2"}, "h2"},
    {"NoOverlapIsFatal", {"h2"}, {"http/1.1", "spdy/3"}, ""},
    {"ComparisonIsExactBytes", {"H2"}, {"h2"}, ""},
    {"ClientOffersNothing", {"h2", "http/1.1"}, {}, "none"},
    {"ServerHasNoList", {}, {"h2"}, "none"},
    {"NeitherHasAList", {}, {}, "none"},
    {"LongestProtocolName",
     {std::string(255, 'p'), "h2"},
     {std::string(255, 'p')},
     std::string(255, 'p')},
    {"BinaryProtocolName",
     {std::string("\x00\xff", 2)},
     {std::string("\x00\xff", 2)},
     std::string("\x00\xff", 2)},
};

INSTANTIATE_TEST_SUITE_P(ServerTimesClient, AlpnMatrix,
                         ::testing::Combine(::testing::ValuesIn(kAlpnCases),
                                            ::testing::Values(TlsVersion::kTls12,
                                                              TlsVersion::kTls13)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) +
                                  VersionName(std::get<1>(info.param));
                         });

// ---- NPN (TLS 1.2 only) ---------------------------------------------------------------

struct NpnCase {
  const char* name;
  List server, client;
  std::string client_reports, server_reports;
};

void PrintTo(const NpnCase& c, std::ostream* os) { *os << c.name; }

class NpnMatrix : public ::testing::TestWithParam<NpnCase> {};

TEST_P(NpnMatrix, FollowsNodeSemanticsOnTls12) {
  const NpnCase& c = GetParam();
  auto pair = Connect(Make(TlsVersion::kTls12, {}, {}, c.server, c.client));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(Reported(pair->client().handshake_info().npn_protocol), c.client_reports);
  EXPECT_EQ(Reported(pair->server().handshake_info().npn_protocol), c.server_reports);
  EXPECT_EQ(
      Reported(
          pair->Find(Side::kClient, EventKind::kHandshakeDone)->get<HandshakeInfo>().npn_protocol),
      c.client_reports);
  EXPECT_EQ(
      Reported(
          pair->Find(Side::kServer, EventKind::kHandshakeDone)->get<HandshakeInfo>().npn_protocol),
      c.server_reports);
  EXPECT_EQ(Reported(pair->client().handshake_info().alpn_protocol), "none");
  pair->Write(Side::kClient, "npn data");
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "npn data");
}

INSTANTIATE_TEST_SUITE_P(
    ServerTimesClient, NpnMatrix,
    ::testing::Values(
        // The server's advertised order wins (OpenSSL's SSL_select_next_proto, as Node).
        NpnCase{"ServerAdvertisedOrderWins", {"a", "b"}, {"b", "a"}, "a", "a"},
        NpnCase{"FirstAdvertisedThatTheClientLists", {"x", "b", "a"}, {"a", "b"}, "b", "b"},
        // No overlap: the client sends its first choice and reports none.
        NpnCase{"NoOverlapClientSendsItsFirstChoice", {"a"}, {"c", "d"}, "none", "c"},
        NpnCase{"ServerAdvertisesNothing", {}, {"a"}, "none", "none"},
        NpnCase{"ClientWantsNothing", {"a", "b"}, {}, "none", "none"},
        NpnCase{"NeitherHasAList", {}, {}, "none", "none"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Npn, IsNotNegotiatedOnTls13) {
  auto pair = Connect(Make(TlsVersion::kTls13, {}, {}, {"a"}, {"a"}));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(Reported(pair->client().handshake_info().npn_protocol), "none");
  EXPECT_EQ(Reported(pair->server().handshake_info().npn_protocol), "none");
}

TEST(Npn, OnAClientAllowingTls13ItIsNotUsedWhenTls13IsNegotiated) {
  static const testing::TestPki pki = testing::MakeTestPki();
  auto client =
      MustCreate(ClientContextOptions{.ca_pems = {pki.root.cert_pem}, .npn_protocols = {"a"}});
  auto server = MustCreate(ServerContextOptions{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()},
      .npn_protocols = {"a"}});
  auto pair = Pair::Create(client, server, {.servername = "localhost"});
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE((*pair)->Handshake()) << Summary(**pair);
  EXPECT_EQ((*pair)->client().handshake_info().version, TlsVersion::kTls13);
  EXPECT_EQ(Reported((*pair)->client().handshake_info().npn_protocol), "none");
  EXPECT_EQ(Reported((*pair)->server().handshake_info().npn_protocol), "none");
}

// ---- ALPN chosen by the application (Node's ALPNCallback) ---------------------------------

Endpoints MakeWithAlpnCallback(TlsVersion version, const List& client_alpn,
                               std::vector<SniContext> sni = {}) {
  static const testing::TestPki* pki = new testing::TestPki(testing::MakeTestPki());
  ServerContextOptions server{
      .credentials = {.key_pem = pki->server.key_pem, .cert_chain_pem = pki->server_chain_pem()},
      .min_version = version,
      .max_version = version};
  server.alpn_callback = true;
  server.sni_contexts = std::move(sni);
  return {MustCreate(ClientContextOptions{.ca_pems = {pki->root.cert_pem},
                                          .min_version = version,
                                          .max_version = version,
                                          .alpn_protocols = client_alpn}),
          MustCreate(server)};
}

class AlpnCallback : public ::testing::TestWithParam<TlsVersion> {};

TEST_P(AlpnCallback, TheApplicationChoosesAmongWhatTheClientOffered) {
  auto pair = Connect(MakeWithAlpnCallback(GetParam(), {"http/1.1", "h2", "x-custom"}));
  pair->Pump();
  const Event* request = pair->Find(Side::kServer, EventKind::kAlpnRequest);
  ASSERT_NE(request, nullptr) << Summary(*pair);
  EXPECT_EQ(request->get<event::AlpnRequest>().protocols, (List{"http/1.1", "h2", "x-custom"}));
  EXPECT_EQ(request->get<event::AlpnRequest>().servername, "localhost");
  EXPECT_TRUE(pair->server().alpn_pending());
  EXPECT_TRUE(pair->server().pause_pending());
  EXPECT_FALSE(pair->client().handshake_done());
  // Not offered: refused, nothing changes.
  auto wrong = pair->server().AnswerAlpn("spdy/3");
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(wrong->code, "ERR_TLS_ALPN_CALLBACK_INVALID_RESULT");
  EXPECT_TRUE(pair->server().alpn_pending());
  EXPECT_FALSE(pair->server().AnswerAlpn("x-custom").has_value());
  EXPECT_FALSE(pair->server().alpn_pending());
  pair->Pump();
  ASSERT_TRUE(pair->client().handshake_done() && pair->server().handshake_done()) << Summary(*pair);
  EXPECT_EQ(Reported(pair->client().handshake_info().alpn_protocol), "x-custom");
  EXPECT_EQ(Reported(pair->server().handshake_info().alpn_protocol), "x-custom");
  EXPECT_EQ(pair->server().AnswerAlpn("h2")->code, "ERR_TLS_ALPN_NOT_PENDING");
}

TEST_P(AlpnCallback, RefusingIsANoApplicationProtocolAlert) {
  auto pair = Connect(MakeWithAlpnCallback(GetParam(), {"h2"}));
  pair->Pump();
  ASSERT_TRUE(pair->server().alpn_pending());
  EXPECT_FALSE(pair->server().AnswerAlpn(std::nullopt).has_value());
  pair->Pump();
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->alert, SSL_AD_NO_APPLICATION_PROTOCOL);
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->alert, SSL_AD_NO_APPLICATION_PROTOCOL);
  EXPECT_TRUE(pair->client().error()->alert_from_peer);
}

TEST_P(AlpnCallback, AClientOfferingNothingNeverPauses) {
  auto pair = Connect(MakeWithAlpnCallback(GetParam(), {}));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(pair->Find(Side::kServer, EventKind::kAlpnRequest), nullptr);
  EXPECT_EQ(Reported(pair->server().handshake_info().alpn_protocol), "none");
}

TEST_P(AlpnCallback, ComesAfterTheSniChoiceAndAppliesToItsContext) {
  static const testing::TestPki* pki = new testing::TestPki(testing::MakeTestPki());
  SniContext other{
      .pattern = "localhost",
      .credentials = {.key_pem = pki->server.key_pem, .cert_chain_pem = pki->server_chain_pem()}};
  auto pair = Connect(MakeWithAlpnCallback(GetParam(), {"h2", "http/1.1"}, {other}));
  pair->Pump();
  ASSERT_TRUE(pair->server().alpn_pending()) << Summary(*pair);
  EXPECT_FALSE(pair->server().AnswerAlpn("http/1.1").has_value());
  pair->Pump();
  ASSERT_TRUE(pair->client().handshake_done()) << Summary(*pair);
  EXPECT_EQ(Reported(pair->client().handshake_info().alpn_protocol), "http/1.1");
}

TEST_P(AlpnCallback, AnUnansweredRequestEndsAtTheHandshakeTimeout) {
  auto ctx = MakeWithAlpnCallback(GetParam(), {"h2"});
  auto pair = Pair::Create(ctx.client, ctx.server, {.servername = "localhost"},
                           {.handshake_timeout = std::chrono::milliseconds(500)});
  ASSERT_TRUE(pair.ok());
  (*pair)->Pump();
  ASSERT_TRUE((*pair)->server().alpn_pending());
  (*pair)->AdvanceTime(std::chrono::milliseconds(600));
  ASSERT_TRUE((*pair)->server().failed());
  EXPECT_EQ((*pair)->server().error()->code, "ERR_TLS_PAUSE_UNANSWERED");
}

INSTANTIATE_TEST_SUITE_P(Tls, AlpnCallback,
                         ::testing::Values(TlsVersion::kTls12, TlsVersion::kTls13),
                         [](const auto& info) { return VersionName(info.param); });

TEST(AlpnCallbackConfig, IsExclusiveWithAServerListAndServerOnly) {
  static const testing::TestPki* pki = new testing::TestPki(testing::MakeTestPki());
  ServerContextOptions server{
      .credentials = {.key_pem = pki->server.key_pem, .cert_chain_pem = pki->server_chain_pem()},
      .alpn_protocols = {"h2"}};
  server.alpn_callback = true;
  auto both = Context::Create(server);
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().code, "ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS");
  EXPECT_EQ(both.error().kind(), ErrorKind::kConfiguration);
  // Server only: a client has no such option (tests/core/role_options_test.cc).
}

TEST(AlpnAndNpn, AlpnTakesPrecedenceWhenBothAreConfigured) {
  auto pair = Connect(Make(TlsVersion::kTls12, {"h2"}, {"h2"}, {"a"}, {"a"}));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(Reported(pair->client().handshake_info().alpn_protocol), "h2");
  EXPECT_EQ(Reported(pair->server().handshake_info().alpn_protocol), "h2");
  EXPECT_EQ(Reported(pair->client().handshake_info().npn_protocol), "none");
  EXPECT_EQ(Reported(pair->server().handshake_info().npn_protocol), "none");
}

TEST(AlpnAndNpn, NpnIsUsedWhenAlpnHasNoServerList) {
  auto pair = Connect(Make(TlsVersion::kTls12, {}, {"h2"}, {"a"}, {"a"}));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(Reported(pair->client().handshake_info().alpn_protocol), "none");
  EXPECT_EQ(Reported(pair->client().handshake_info().npn_protocol), "a");
  EXPECT_EQ(Reported(pair->server().handshake_info().npn_protocol), "a");
}

TEST(AlpnAndNpn, ValuesBeforeTheHandshakeAreNone) {
  auto pair = Connect(Make(TlsVersion::kTls13, {"h2"}, {"h2"}));
  EXPECT_EQ(Reported(pair->client().handshake_info().alpn_protocol), "none");
  EXPECT_EQ(Reported(pair->client().handshake_info().npn_protocol), "none");
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(Reported(pair->client().handshake_info().alpn_protocol), "h2");
}

TEST(AlpnAndNpn, AnSniContextKeepsTheServersProtocolLists) {
  static const testing::TestPki pki = testing::MakeTestPki();
  testing::Cert other = testing::MakeSigned(
      {.subject = {{"CN", "other.example"}}, .dns_names = {"other.example"}}, pki.intermediate);
  auto server = MustCreate(ServerContextOptions{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()},
      .min_version = TlsVersion::kTls12,
      .max_version = TlsVersion::kTls12,
      .sni_contexts = {{"other.example",
                        {.key_pem = other.key_pem,
                         .cert_chain_pem = other.cert_pem + pki.intermediate.cert_pem}}},
      .alpn_protocols = {"h2", "http/1.1"},
      .npn_protocols = {"b", "a"}});
  for (const List& alpn : {List{"http/1.1", "h2"}, List{}}) {
    auto client = MustCreate(ClientContextOptions{
        .ca_pems = {pki.root.cert_pem}, .alpn_protocols = alpn, .npn_protocols = {"a", "b"}});
    auto pair = Pair::Create(client, server, {.servername = "other.example"});
    ASSERT_TRUE(pair.ok());
    ASSERT_TRUE((*pair)->Handshake()) << Summary(**pair);
    EXPECT_TRUE((*pair)->client().authorized()) << (*pair)->client().authorization_error();
    EXPECT_EQ(Reported((*pair)->client().handshake_info().alpn_protocol),
              alpn.empty() ? "none" : "h2");
    EXPECT_EQ(Reported((*pair)->client().handshake_info().npn_protocol),
              alpn.empty() ? "b" : "none");
  }
}

// ---- Validation -----------------------------------------------------------------------

struct ListCase {
  const char* name;
  List protocols;
  std::string message_part;
};

void PrintTo(const ListCase& c, std::ostream* os) { *os << c.name; }

class ProtocolListErrors : public ::testing::TestWithParam<std::tuple<ListCase, Role, bool>> {};

TEST_P(ProtocolListErrors, AreConfigurationErrors) {
  const auto& [c, role, npn] = GetParam();
  static const testing::TestPki pki = testing::MakeTestPki();
  auto create = [&](auto options) {
    (npn ? options.npn_protocols : options.alpn_protocols) = c.protocols;
    return Context::Create(options);
  };
  auto ctx =
      role == Role::kServer
          ? create(ServerContextOptions{.credentials = {.key_pem = pki.server.key_pem,
                                                        .cert_chain_pem = pki.server_chain_pem()}})
          : create(ClientContextOptions{});
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().code, "ERR_TLS_INVALID_PROTOCOL_LIST");
  EXPECT_EQ(ctx.error().message.rfind(npn ? "npn_protocols: " : "alpn_protocols: ", 0), 0u)
      << ctx.error().message;
  EXPECT_NE(ctx.error().message.find(c.message_part), std::string::npos) << ctx.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Lists, ProtocolListErrors,
    ::testing::Combine(
        ::testing::Values(ListCase{"EmptyEntry", {"h2", ""}, "index 1 is empty"},
                          ListCase{"EntryOf256Bytes", {std::string(256, 'x')}, "Received 256"}),
        ::testing::Values(Role::kClient, Role::kServer), ::testing::Bool()),
    [](const auto& info) {
      return std::string(std::get<0>(info.param).name) +
             (std::get<1>(info.param) == Role::kClient ? "Client" : "Server") +
             (std::get<2>(info.param) ? "Npn" : "Alpn");
    });

TEST(ProtocolLists, TheLongestValidEntryIsAccepted) {
  EXPECT_NE(MustCreate(ClientContextOptions{.alpn_protocols = {std::string(255, 'x')}}), nullptr);
}

}  // namespace
}  // namespace sansio_tls
