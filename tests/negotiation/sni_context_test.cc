// SNI contexts (ServerContextOptions::sni_contexts) and the asynchronous SNI callback, over the
// in-memory pair: which certificate the client is served, what each side reports, which CAs
// verify client certificates, and configuration errors.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"
#include "tests/negotiation/negotiation_test_util.h"

namespace sansio_tls {
namespace {

using negotiation_test::CredentialsOf;
using negotiation_test::MustCreate;
using negotiation_test::Pki;
using negotiation_test::ServedLeaf;
using negotiation_test::Summary;
using testing::Fragmentation;
using testing::Pair;
using testing::Side;

const Pki& SharedPki() {
  static const Pki* pki = new Pki();
  return *pki;
}

// A client that trusts SharedPki's root but completes the handshake whatever it is served,
// so the test can look at the certificate instead of the verification result.
std::shared_ptr<const Context> LenientClient(TlsVersion version = TlsVersion::kTls13) {
  return MustCreate(ClientContextOptions{.ca_pems = {SharedPki().root.cert_pem},
                                         .min_version = version,
                                         .max_version = version,
                                         .reject_unauthorized = false});
}

std::unique_ptr<Pair> Connect(std::shared_ptr<const Context> client,
                              std::shared_ptr<const Context> server,
                              const std::string& servername) {
  auto pair = Pair::Create(std::move(client), std::move(server), {.servername = servername});
  EXPECT_TRUE(pair.ok());
  return pair.ok() ? std::move(pair).value() : nullptr;
}

// ---- The wildcard table ---------------------------------------------------------------

struct TableCase {
  const char* name;
  std::vector<std::string> patterns;  // added in this order, each with its own certificate
  std::string servername;             // what the client asks for ("" = no SNI)
  int served;                         // index into |patterns|, or -1 for the default
  std::string reported;               // the server's HandshakeInfo::servername
};

void PrintTo(const TableCase& c, std::ostream* os) { *os << c.name; }

class SniTable : public ::testing::TestWithParam<TableCase> {};

TEST_P(SniTable, ServesTheMatchingContextsCertificate) {
  const TableCase& c = GetParam();
  const Pki& pki = SharedPki();
  testing::Cert fallback = pki.Leaf("default.invalid");
  std::vector<testing::Cert> leaves;
  ServerContextOptions server{.credentials = CredentialsOf(fallback)};
  for (size_t i = 0; i < c.patterns.size(); ++i) {
    // Each entry gets a certificate of its own, even when a pattern repeats.
    leaves.push_back(pki.Leaf("entry" + std::to_string(i) + ".invalid"));
    server.sni_contexts.push_back(
        {.pattern = c.patterns[i], .credentials = CredentialsOf(leaves.back())});
  }
  for (TlsVersion version : {TlsVersion::kTls12, TlsVersion::kTls13}) {
    SCOPED_TRACE(version == TlsVersion::kTls13 ? "TLS 1.3" : "TLS 1.2");
    auto pair = Connect(LenientClient(version), MustCreate(server), c.servername);
    ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
    const testing::Cert& want = c.served < 0 ? fallback : leaves[c.served];
    EXPECT_EQ(ServedLeaf(pair->client()), want.der)
        << "expected " << (c.served < 0 ? "the default" : c.patterns[c.served]);
    EXPECT_EQ(pair->server().handshake_info().servername, c.reported);
    const Event* done = pair->Find(Side::kServer, EventKind::kHandshakeDone);
    ASSERT_NE(done, nullptr);
    EXPECT_EQ(done->get<HandshakeInfo>().servername, c.reported);
    EXPECT_EQ(pair->Find(Side::kServer, EventKind::kSniRequest), nullptr);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Wildcards, SniTable,
    ::testing::Values(
        TableCase{"ExactName", {"example.com"}, "example.com", 0, "example.com"},
        TableCase{"ExactNameMissesOtherNames", {"example.com"}, "example.org", -1, "example.org"},
        TableCase{"StarCoversOneLabel", {"*.test.com"}, "b.test.com", 0, "b.test.com"},
        TableCase{"StarRefusesSeveralLabels", {"*.test.com"}, "a.b.test.com", -1, "a.b.test.com"},
        TableCase{"StarRefusesTheBareSuffix", {"*.test.com"}, "test.com", -1, "test.com"},
        TableCase{"PartialLabelMatches", {"a*.x.com"}, "abc.x.com", 0, "abc.x.com"},
        TableCase{"PartialLabelMatchesZeroCharacters", {"a*.x.com"}, "a.x.com", 0, "a.x.com"},
        TableCase{"PartialLabelNeedsItsPrefix", {"a*.x.com"}, "ba.x.com", -1, "ba.x.com"},
        TableCase{"NameCaseIsIgnored", {"example.com"}, "EXAMPLE.Com", 0, "EXAMPLE.Com"},
        TableCase{
            "PatternCaseIsIgnored", {"*.Example.COM"}, "www.example.com", 0, "www.example.com"},
        TableCase{"PatternTrailingDotIsIgnored", {"example.com."}, "example.com", 0, "example.com"},
        TableCase{"NameTrailingDotIsIgnored",
                  {"*.example.com"},
                  "www.example.com.",
                  0,
                  "www.example.com."},
        TableCase{"DotIsLiteralNotARegexWildcard", {"a.x.com"}, "abx.com", -1, "abx.com"},
        TableCase{
            "MostRecentWinsOverEarlierWildcard", {"*.x.com", "a.x.com"}, "a.x.com", 1, "a.x.com"},
        TableCase{
            "MostRecentWinsOverEarlierExact", {"a.x.com", "*.x.com"}, "a.x.com", 1, "a.x.com"},
        TableCase{"ReAddingAPatternReplacesIt",
                  {"a.x.com", "*.x.com", "a.x.com"},
                  "a.x.com",
                  2,
                  "a.x.com"},
        TableCase{
            "OtherNamesStillReachOlderEntries", {"*.x.com", "a.x.com"}, "b.x.com", 0, "b.x.com"},
        TableCase{"NoSniServesTheDefault", {"*.test.com", "localhost"}, "", -1, ""},
        TableCase{"Ipv4IsNotSentAsSni", {"localhost"}, "127.0.0.1", -1, ""},
        TableCase{"Ipv6IsNotSentAsSni", {"localhost"}, "::1", -1, ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SniContexts, OneByteFragmentsSelectTheSameContext) {
  const Pki& pki = SharedPki();
  testing::Cert fallback = pki.Leaf("default.invalid"), wild = pki.Leaf("*.test.com");
  auto server =
      MustCreate(ServerContextOptions{.credentials = CredentialsOf(fallback),
                                      .sni_contexts = {{"*.test.com", CredentialsOf(wild)}}});
  auto pair = Connect(LenientClient(), server, "b.test.com");
  pair->set_fragmentation({.mode = Fragmentation::Mode::kOneByte});
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(ServedLeaf(pair->client()), wild.der);
  // Served under its name, the certificate also verifies: the client authorizes it.
  EXPECT_TRUE(pair->client().authorized()) << pair->client().authorization_error();
}

TEST(SniContexts, ContextForServernameFollowsTheSameRules) {
  const Pki& pki = SharedPki();
  testing::Cert a = pki.Leaf("a.invalid"), b = pki.Leaf("b.invalid");
  auto server =
      MustCreate(ServerContextOptions{.credentials = CredentialsOf(pki.Leaf("default.invalid")),
                                      .sni_contexts = {{"*.x.com", CredentialsOf(a)},
                                                       {"y.x.com", CredentialsOf(b)},
                                                       {"z.x.com", CredentialsOf(a)}}});
  ASSERT_NE(server, nullptr);
  auto wild = server->ContextForServername("q.X.com.");
  auto exact = server->ContextForServername("y.x.com");
  ASSERT_NE(wild, nullptr);
  ASSERT_NE(exact, nullptr);
  EXPECT_NE(wild, exact);
  // Entries with identical credentials and CAs share one context.
  EXPECT_EQ(server->ContextForServername("z.x.com"), wild);
  EXPECT_EQ(server->ContextForServername("x.com"), nullptr);
  EXPECT_EQ(server->ContextForServername(""), nullptr);
  EXPECT_EQ(server->ContextForServername("127.0.0.1"), nullptr);
  EXPECT_EQ(wild->role(), Role::kServer);
}

TEST(SniContexts, TenThousandExactNamesAreEachFoundByOneLookup) {
  const Pki& pki = SharedPki();
  testing::Cert shared = pki.Leaf("many.invalid"), last = pki.Leaf("host9999.example.com");
  ServerContextOptions options{.credentials = CredentialsOf(pki.Leaf("default.invalid"))};
  for (int i = 0; i < 9999; ++i) {
    options.sni_contexts.push_back(
        {"host" + std::to_string(i) + ".example.com", CredentialsOf(shared)});
  }
  options.sni_contexts.push_back({"host9999.example.com", CredentialsOf(last)});
  options.sni_contexts.push_back({"*.wild.example.com", CredentialsOf(shared)});
  auto server = MustCreate(options);
  ASSERT_NE(server, nullptr);

  auto start = std::chrono::steady_clock::now();
  size_t found = 0;
  for (int i = 0; i < 10000; ++i) {
    found += server->ContextForServername("host" + std::to_string(i) + ".example.com") != nullptr;
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(found, 10000u);
  EXPECT_EQ(server->ContextForServername("host10000.example.com"), nullptr);
  // Generous bound (sanitizers, a shared machine): a linear scan of 10,000 patterns per
  // lookup would take orders of magnitude longer than hashing.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 2000);

  auto pair = Connect(LenientClient(), server, "host9999.example.com");
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(ServedLeaf(pair->client()), last.der);
  EXPECT_TRUE(pair->client().authorized()) << pair->client().authorization_error();
}

// ---- Client certificates are verified with the chosen context's own CAs ----------------

struct ClientCertCase {
  const char* name;
  std::string servername;  // "b.test" selects the SNI context (CA B); anything else, CA A
  bool client_from_b;      // the client's certificate chains to CA B (else CA A)
  bool authorized;
};

void PrintTo(const ClientCertCase& c, std::ostream* os) { *os << c.name; }

class SniClientCertificates : public ::testing::TestWithParam<ClientCertCase> {};

TEST_P(SniClientCertificates, AreCheckedAgainstTheChosenContextsCas) {
  const ClientCertCase& c = GetParam();
  Pki a("Root A", 30), b("Root B", 31);
  auto server = MustCreate(
      ServerContextOptions{.credentials = CredentialsOf(a.Leaf("localhost")),
                           .ca_pems = {a.root.cert_pem},
                           .request_cert = true,
                           .reject_unauthorized = true,
                           .sni_contexts = {{.pattern = "b.test",
                                             .credentials = CredentialsOf(b.Leaf("b.test")),
                                             .ca_pems = {b.root.cert_pem}}}});
  const Pki& issuer = c.client_from_b ? b : a;
  auto client = MustCreate(ClientContextOptions{
      .credentials = CredentialsOf(issuer.Leaf("client", {testing::kClientAuth})),
      .ca_pems = {a.root.cert_pem, b.root.cert_pem}});
  auto pair = Connect(client, server, c.servername);
  pair->Pump();
  if (c.authorized) {
    ASSERT_TRUE(pair->Find(Side::kServer, EventKind::kHandshakeDone)) << Summary(*pair);
    EXPECT_TRUE(pair->server().authorized()) << pair->server().authorization_error();
    EXPECT_TRUE(pair->client().authorized()) << pair->client().authorization_error();
  } else {
    EXPECT_FALSE(pair->Find(Side::kServer, EventKind::kHandshakeDone)) << Summary(*pair);
    ASSERT_TRUE(pair->server().failed());
    // A lone leaf whose issuer is not among the chosen CAs (OpenSSL's and Node's code).
    EXPECT_EQ(pair->server().error()->code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
        << pair->server().error()->message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    OwnCas, SniClientCertificates,
    ::testing::Values(ClientCertCase{"SniContextAcceptsItsOwnCa", "b.test", true, true},
                      ClientCertCase{"SniContextDoesNotInheritTheDefaultCa", "b.test", false,
                                     false},
                      ClientCertCase{"DefaultAcceptsItsOwnCa", "localhost", false, true},
                      ClientCertCase{"DefaultRejectsTheSniContextsCa", "localhost", true, false}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- Configuration errors -------------------------------------------------------------

struct ConfigCase {
  const char* name;
  std::string pattern;
  std::string code;
  std::string message_part;  // must appear in the message
};

void PrintTo(const ConfigCase& c, std::ostream* os) { *os << c.name; }

class SniConfigErrors : public ::testing::TestWithParam<ConfigCase> {};

TEST_P(SniConfigErrors, AreReportedByCreateNamingTheEntry) {
  const ConfigCase& c = GetParam();
  const Pki& pki = SharedPki();
  testing::Cert leaf = pki.Leaf("ok.invalid");
  ServerContextOptions options{
      .credentials = CredentialsOf(leaf),
      .sni_contexts = {{"fine.example", CredentialsOf(leaf)}, {c.pattern, CredentialsOf(leaf)}}};
  auto ctx = Context::Create(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().code, c.code);
  EXPECT_NE(ctx.error().message.find("sni_contexts[1]"), std::string::npos) << ctx.error().message;
  EXPECT_NE(ctx.error().message.find(c.message_part), std::string::npos) << ctx.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Patterns, SniConfigErrors,
    ::testing::Values(
        ConfigCase{"Empty", "", "ERR_TLS_INVALID_SNI_PATTERN", "empty"},
        ConfigCase{"Ipv4", "10.1.2.3", "ERR_TLS_INVALID_SNI_PATTERN", "IPv4"},
        ConfigCase{"Ipv6", "::1", "ERR_TLS_INVALID_SNI_PATTERN", "IPv6"},
        ConfigCase{"Space", "a b.example", "ERR_TLS_INVALID_SNI_PATTERN", "' '"},
        ConfigCase{"RegexMetacharacter", "(a|b).example", "ERR_TLS_INVALID_SNI_PATTERN", "'('"},
        ConfigCase{"EmptyLabel", "a..example", "ERR_TLS_INVALID_SNI_PATTERN", "empty label"},
        ConfigCase{"TwoStarsInALabel", "*a*.example", "ERR_TLS_INVALID_SNI_PATTERN",
                   "more than one"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SniConfig, AnEntryWithoutACertificateIsAnErrorNamingItsPattern) {
  const Pki& pki = SharedPki();
  auto ctx =
      Context::Create(ServerContextOptions{.credentials = CredentialsOf(pki.Leaf("ok.invalid")),
                                           .sni_contexts = {{.pattern = "nocert.example"}}});
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().code, "ERR_TLS_MISSING_CERTIFICATE");
  EXPECT_NE(ctx.error().message.find("sni_contexts[0] (\"nocert.example\")"), std::string::npos)
      << ctx.error().message;
}

TEST(SniConfig, AKeyOfAnotherCertificateIsAnErrorNamingItsPattern) {
  const Pki& pki = SharedPki();
  testing::Cert leaf = pki.Leaf("ok.invalid");
  testing::CertSpec other_spec;
  other_spec.key = testing::CachedKey(testing::KeyType::kEcdsaP256, 22);
  testing::Cert other = testing::MakeSigned(other_spec, pki.root);
  auto ctx = Context::Create(ServerContextOptions{
      .credentials = CredentialsOf(leaf),
      .sni_contexts = {
          {.pattern = "*.mismatch.example",
           .credentials = {.key_pem = other.key_pem, .cert_chain_pem = leaf.cert_pem}}}});
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().code, "ERR_TLS_KEY_MISMATCH");
  EXPECT_NE(ctx.error().message.find("*.mismatch.example"), std::string::npos)
      << ctx.error().message;
}

TEST(SniConfig, ABadCaIsAnErrorNamingItsPattern) {
  const Pki& pki = SharedPki();
  testing::Cert leaf = pki.Leaf("ok.invalid");
  auto ctx =
      Context::Create(ServerContextOptions{.credentials = CredentialsOf(leaf),
                                           .sni_contexts = {{.pattern = "ca.example",
                                                             .credentials = CredentialsOf(leaf),
                                                             .ca_pems = {"not a pem"}}}});
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().code, "ERR_TLS_INVALID_CA");
  EXPECT_NE(ctx.error().message.find("ca.example"), std::string::npos) << ctx.error().message;
}

// Clients cannot have SNI contexts or an SNI callback (Create used to refuse them at run
// time): ClientContextOptions has neither field.
template <class Options>
concept HasSniOptions = requires(Options o) {
  o.sni_contexts;
}
|| requires(Options o) { o.sni_callback; };
static_assert(HasSniOptions<ServerContextOptions>);
static_assert(!HasSniOptions<ClientContextOptions>);

TEST(SniConfig, PrivateKeysOfEntriesAreNotKept) {
  const Pki& pki = SharedPki();
  testing::Cert leaf = pki.Leaf("ok.invalid");
  auto ctx = MustCreate(ServerContextOptions{.credentials = CredentialsOf(leaf),
                                             .sni_contexts = {{"a.example", CredentialsOf(leaf)}}});
  ASSERT_NE(ctx, nullptr);
  const std::optional<ServerContextOptions> kept = ctx->server_options();
  ASSERT_TRUE(kept.has_value());
  ASSERT_EQ(kept->sni_contexts.size(), 1u);
  EXPECT_EQ(kept->sni_contexts[0].pattern, "a.example");
  EXPECT_EQ(kept->sni_contexts[0].credentials.key_pem, "");
  EXPECT_EQ(kept->sni_contexts[0].credentials.cert_chain_pem, leaf.cert_pem);
  EXPECT_EQ(ctx->ContextForServername("a.example")->server_options()->credentials.key_pem, "");
}

// ---- The SNI callback -----------------------------------------------------------------

struct CallbackServer {
  testing::Cert fallback, fixed, dynamic;
  std::shared_ptr<const Context> server;  // sni_callback, one static context
  std::shared_ptr<const Context> answer;  // what the application answers with
};

CallbackServer MakeCallbackServer(TlsVersion version = TlsVersion::kTls13) {
  const Pki& pki = SharedPki();
  CallbackServer s{pki.Leaf("default.invalid"), pki.Leaf("static.example"),
                   pki.Leaf("dynamic.example"), nullptr, nullptr};
  s.server =
      MustCreate(ServerContextOptions{.credentials = CredentialsOf(s.fallback),
                                      .min_version = version,
                                      .max_version = version,
                                      .sni_contexts = {{"static.example", CredentialsOf(s.fixed)}},
                                      .sni_callback = true});
  s.answer = MustCreate(ServerContextOptions{.credentials = CredentialsOf(s.dynamic)});
  return s;
}

// Pumps until the server pauses, checks the pause holds, and returns the request.
const Event* PauseAt(Pair& pair, const std::string& servername) {
  pair.Pump();
  const Event* request = pair.Find(Side::kServer, EventKind::kSniRequest);
  EXPECT_NE(request, nullptr) << Summary(pair);
  if (!request) return nullptr;
  EXPECT_EQ(request->get<event::SniRequest>().servername, servername);
  EXPECT_TRUE(pair.server().sni_pending());
  // Nothing moves while the application thinks.
  EXPECT_EQ(pair.Pump(), 0u);
  EXPECT_FALSE(pair.server().handshake_done());
  EXPECT_FALSE(pair.client().handshake_done());
  EXPECT_FALSE(pair.server().failed());
  return request;
}

struct AnswerCase {
  const char* name;
  TlsVersion version;
  Fragmentation::Mode mode;
};

void PrintTo(const AnswerCase& c, std::ostream* os) { *os << c.name; }

class SniCallbackAnswers : public ::testing::TestWithParam<AnswerCase> {};

TEST_P(SniCallbackAnswers, CredentialsAnsweredLaterServeTheConnection) {
  CallbackServer s = MakeCallbackServer(GetParam().version);
  auto pair = Connect(LenientClient(GetParam().version), s.server, "Dynamic.Example");
  pair->set_fragmentation({.mode = GetParam().mode, .seed = 3, .max_fragment = 50});
  ASSERT_NE(PauseAt(*pair, "Dynamic.Example"), nullptr);

  EXPECT_EQ(pair->server().AnswerSni(SniAnswer::Use(s.answer)), std::nullopt);
  EXPECT_FALSE(pair->server().sni_pending());
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(ServedLeaf(pair->client()), s.dynamic.der);
  EXPECT_EQ(pair->server().handshake_info().servername, "Dynamic.Example");
  // One request per handshake, before it completed.
  EXPECT_EQ(pair->EventSummary(Side::kServer), "SniRequest,HandshakeDone");
  pair->Write(Side::kClient, "after the pause");
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "after the pause");
}

TEST_P(SniCallbackAnswers, UseDefaultServesTheDefaultCredentials) {
  CallbackServer s = MakeCallbackServer(GetParam().version);
  auto pair = Connect(LenientClient(GetParam().version), s.server, "unknown.example");
  pair->set_fragmentation({.mode = GetParam().mode, .seed = 4, .max_fragment = 50});
  ASSERT_NE(PauseAt(*pair, "unknown.example"), nullptr);
  EXPECT_EQ(pair->server().AnswerSni(SniAnswer::UseDefault()), std::nullopt);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(ServedLeaf(pair->client()), s.fallback.der);
  EXPECT_EQ(pair->server().handshake_info().servername, "unknown.example");
}

TEST_P(SniCallbackAnswers, AnErrorFailsTheHandshakeWithAFatalAlert) {
  CallbackServer s = MakeCallbackServer(GetParam().version);
  auto pair = Connect(LenientClient(GetParam().version), s.server, "evil.example");
  pair->set_fragmentation({.mode = GetParam().mode, .seed = 5, .max_fragment = 50});
  ASSERT_NE(PauseAt(*pair, "evil.example"), nullptr);
  EXPECT_EQ(pair->server().AnswerSni(SniAnswer::Reject("no certificate for evil.example")),
            std::nullopt);
  pair->Pump();
  // The server's clientError: its error, and no handshake.
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->code, "ERR_TLS_SNI_REJECTED");
  EXPECT_EQ(pair->server().error()->message, "no certificate for evil.example");
  EXPECT_EQ(pair->server().error()->alert, SSL_AD_UNRECOGNIZED_NAME);
  EXPECT_FALSE(pair->server().error()->alert_from_peer);
  EXPECT_EQ(pair->EventSummary(Side::kServer), "SniRequest,Error(ERR_TLS_SNI_REJECTED)");
  // The client got the alert.
  ASSERT_TRUE(pair->client().failed()) << Summary(*pair);
  EXPECT_EQ(pair->client().error()->alert, SSL_AD_UNRECOGNIZED_NAME);
  EXPECT_TRUE(pair->client().error()->alert_from_peer);
  EXPECT_FALSE(pair->Find(Side::kClient, EventKind::kHandshakeDone));
}

INSTANTIATE_TEST_SUITE_P(
    Later, SniCallbackAnswers,
    ::testing::Values(AnswerCase{"Tls13Whole", TlsVersion::kTls13, Fragmentation::Mode::kWhole},
                      AnswerCase{"Tls13OneByte", TlsVersion::kTls13, Fragmentation::Mode::kOneByte},
                      AnswerCase{"Tls12Whole", TlsVersion::kTls12, Fragmentation::Mode::kWhole},
                      AnswerCase{"Tls12Random", TlsVersion::kTls12, Fragmentation::Mode::kRandom}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SniCallback, AStaticContextMatchAnswersWithoutPausing) {
  CallbackServer s = MakeCallbackServer();
  auto pair = Connect(LenientClient(), s.server, "static.example");
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(ServedLeaf(pair->client()), s.fixed.der);
  EXPECT_EQ(pair->Find(Side::kServer, EventKind::kSniRequest), nullptr);
}

TEST(SniCallback, AClientWithoutSniNeverPauses) {
  CallbackServer s = MakeCallbackServer();
  auto pair = Connect(LenientClient(), s.server, "");
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(ServedLeaf(pair->client()), s.fallback.der);
  EXPECT_EQ(pair->Find(Side::kServer, EventKind::kSniRequest), nullptr);
  EXPECT_EQ(pair->server().handshake_info().servername, "");
}

TEST(SniCallback, MisusedAnswersAreErrorsAndKeepTheRequestPending) {
  CallbackServer s = MakeCallbackServer();
  auto pair = Connect(LenientClient(), s.server, "dynamic.example");

  // Nothing pending yet (the ClientHello has not arrived).
  auto early = pair->server().AnswerSni(SniAnswer::UseDefault());
  ASSERT_TRUE(early.has_value());
  EXPECT_EQ(early->code, "ERR_TLS_SNI_NOT_PENDING");

  ASSERT_NE(PauseAt(*pair, "dynamic.example"), nullptr);
  auto null_context = pair->server().AnswerSni(SniAnswer::Use(nullptr));
  ASSERT_TRUE(null_context.has_value());
  EXPECT_EQ(null_context->code, "ERR_INVALID_ARG_VALUE");
  auto client_context = pair->server().AnswerSni(SniAnswer::Use(LenientClient()));
  ASSERT_TRUE(client_context.has_value());
  EXPECT_EQ(client_context->code, "ERR_INVALID_ARG_VALUE");
  EXPECT_TRUE(pair->server().sni_pending());

  EXPECT_EQ(pair->server().AnswerSni(SniAnswer::Use(s.answer)), std::nullopt);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(ServedLeaf(pair->client()), s.dynamic.der);
  // Answering twice is an error too.
  auto twice = pair->server().AnswerSni(SniAnswer::UseDefault());
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(twice->code, "ERR_TLS_SNI_NOT_PENDING");
  // A client session never pauses for SNI.
  auto on_client = pair->client().AnswerSni(SniAnswer::UseDefault());
  ASSERT_TRUE(on_client.has_value());
}

TEST(SniCallback, TransportEndWhilePausedIsAnError) {
  CallbackServer s = MakeCallbackServer();
  auto pair = Connect(LenientClient(), s.server, "dynamic.example");
  ASSERT_NE(PauseAt(*pair, "dynamic.example"), nullptr);
  pair->InjectEof(Side::kServer);
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->code, "ECONNRESET");
  EXPECT_FALSE(pair->server().sni_pending());
  auto late = pair->server().AnswerSni(SniAnswer::UseDefault());
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->code, "ERR_TLS_SNI_NOT_PENDING");
}

TEST(SniCallback, AnsweredCredentialsBringTheirOwnClientCas) {
  Pki a("Root A", 30), b("Root B", 31);
  auto server = MustCreate(ServerContextOptions{.credentials = CredentialsOf(a.Leaf("localhost")),
                                                .ca_pems = {a.root.cert_pem},
                                                .request_cert = true,
                                                .sni_callback = true});
  auto answer = MustCreate(ServerContextOptions{.credentials = CredentialsOf(b.Leaf("b.test")),
                                                .ca_pems = {b.root.cert_pem}});
  auto client = MustCreate(
      ClientContextOptions{.credentials = CredentialsOf(b.Leaf("client", {testing::kClientAuth})),
                           .ca_pems = {b.root.cert_pem}});
  auto pair = Connect(client, server, "b.test");
  pair->Pump();
  ASSERT_TRUE(pair->server().sni_pending()) << Summary(*pair);
  EXPECT_EQ(pair->server().AnswerSni(SniAnswer::Use(answer)), std::nullopt);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_TRUE(pair->server().authorized()) << pair->server().authorization_error();
  EXPECT_TRUE(pair->client().authorized()) << pair->client().authorization_error();
}

TEST(SniCallback, TheAnsweredContextOutlivesTheApplicationsReference) {
  CallbackServer s = MakeCallbackServer();
  auto pair = Connect(LenientClient(), s.server, "dynamic.example");
  ASSERT_NE(PauseAt(*pair, "dynamic.example"), nullptr);
  std::weak_ptr<const Context> watch = s.answer;
  EXPECT_EQ(pair->server().AnswerSni(SniAnswer::Use(std::move(s.answer))), std::nullopt);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_FALSE(watch.expired());  // held by the session
  pair.reset();
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace sansio_tls
