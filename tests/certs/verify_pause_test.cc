// Application verification (*ContextOptions::verify_callback): the handshake pauses with
// kVerifyRequested, the application inspects the peer certificate and our verdict, answers
// with CompleteVerification(), and the session resumes. Input fed meanwhile is kept within
// Feed's bound.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include <string>
#include <vector>

#include "tests/certs/certs_test_util.h"

namespace sansio_tls::certs_test {
namespace {

using testing::Fragmentation;

struct PauseCase {
  const char* name;
  Side pausing;  // whose verification pauses
  TlsVersion version;
  Fragmentation::Mode mode;
};

const PauseCase kPauseCases[] = {
    {"ClientTls13Whole", Side::kClient, TlsVersion::kTls13, Fragmentation::Mode::kWhole},
    {"ClientTls13OneByte", Side::kClient, TlsVersion::kTls13, Fragmentation::Mode::kOneByte},
    {"ClientTls12Whole", Side::kClient, TlsVersion::kTls12, Fragmentation::Mode::kWhole},
    {"ClientTls12OneByte", Side::kClient, TlsVersion::kTls12, Fragmentation::Mode::kOneByte},
    {"ServerTls13Whole", Side::kServer, TlsVersion::kTls13, Fragmentation::Mode::kWhole},
    {"ServerTls13OneByte", Side::kServer, TlsVersion::kTls13, Fragmentation::Mode::kOneByte},
    {"ServerTls12Whole", Side::kServer, TlsVersion::kTls12, Fragmentation::Mode::kWhole},
    {"ServerTls12OneByte", Side::kServer, TlsVersion::kTls12, Fragmentation::Mode::kOneByte},
};

struct Mutual {
  Pki pki{"pause"};
  Cert server_leaf = pki.Server();
  Cert client_leaf = pki.Client();

  // Both sides present and check certificates; |pausing| asks the application.
  std::unique_ptr<Pair> Make(Side pausing, TlsVersion version, bool reject_unauthorized = true,
                             std::vector<std::string> pausing_cas = {}) const {
    ServerContextOptions server{.credentials = pki.CredentialsFor(server_leaf),
                                .ca_pems = {pki.root.cert_pem},
                                .min_version = version,
                                .max_version = version,
                                .request_cert = true,
                                .reject_unauthorized = reject_unauthorized};
    ClientContextOptions client{.credentials = pki.CredentialsFor(client_leaf),
                                .ca_pems = {pki.root.cert_pem},
                                .min_version = version,
                                .max_version = version,
                                .reject_unauthorized = reject_unauthorized};
    auto pause = [&pausing_cas](auto& p) {
      p.verify_callback = true;
      if (!pausing_cas.empty()) p.ca_pems = pausing_cas;
    };
    if (pausing == Side::kClient) {
      pause(client);
    } else {
      pause(server);
    }
    return MustPair(MustCreate(client), MustCreate(server));
  }
  const Cert& LeafSeenBy(Side s) const { return s == Side::kClient ? server_leaf : client_leaf; }
};

class VerifyPause : public ::testing::TestWithParam<PauseCase> {};

TEST_P(VerifyPause, WaitsForTheApplicationThenAcceptCompletesTheHandshake) {
  const PauseCase& c = GetParam();
  Mutual m;
  auto pair = m.Make(c.pausing, c.version);
  pair->set_fragmentation({.mode = c.mode});
  pair->Pump();
  Session& s = pair->session(c.pausing);

  const Event* request = pair->Find(c.pausing, EventKind::kVerifyRequested);
  ASSERT_NE(request, nullptr) << Summary(*pair);
  EXPECT_TRUE(request->get<event::VerifyRequested>().authorized);  // our verdict: the chain is good
  EXPECT_EQ(request->get<event::VerifyRequested>().authorization_error, "");
  EXPECT_TRUE(s.verify_pending());
  EXPECT_FALSE(s.handshake_done());
  EXPECT_EQ(pair->Find(c.pausing, EventKind::kHandshakeDone), nullptr);
  EXPECT_FALSE(pair->client().failed() || pair->server().failed()) << Summary(*pair);
  // The certificate is there to inspect while the handshake waits.
  auto cert = s.peer_certificate(true);
  ASSERT_TRUE(cert.has_value());
  EXPECT_EQ(cert->raw, m.LeafSeenBy(c.pausing).der);
  ASSERT_NE(cert->issuer_cert(), nullptr);
  EXPECT_EQ(pair->Pump(), 0u) << "nothing moves while paused";

  EXPECT_EQ(s.CompleteVerification(true), std::nullopt);
  EXPECT_FALSE(s.verify_pending());
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_TRUE(s.authorized());
  EXPECT_EQ(s.authorization_error(), "");
  EXPECT_EQ(pair->Find(c.pausing, EventKind::kHandshakeDone)->get<HandshakeInfo>().authorized,
            true);
  // Exactly one request per handshake.
  size_t requests = 0;
  for (EventKind k : pair->event_kinds(c.pausing)) requests += k == EventKind::kVerifyRequested;
  EXPECT_EQ(requests, 1u);
  EXPECT_EQ(pair->Find(Other(c.pausing), EventKind::kVerifyRequested), nullptr);

  pair->Write(Side::kClient, "after the pause");
  pair->Write(Side::kServer, "both ways");
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "after the pause");
  EXPECT_EQ(pair->received(Side::kClient), "both ways");
}

TEST_P(VerifyPause, RejectEndsTheHandshakeWithTheApplicationsCode) {
  const PauseCase& c = GetParam();
  Mutual m;
  auto pair = m.Make(c.pausing, c.version);
  pair->set_fragmentation({.mode = c.mode});
  pair->Pump();
  Session& s = pair->session(c.pausing);
  ASSERT_TRUE(s.verify_pending()) << Summary(*pair);

  EXPECT_EQ(s.CompleteVerification(false, "ERR_PINNED_KEY_MISMATCH"), std::nullopt);
  pair->Pump();
  EXPECT_EQ(pair->Find(c.pausing, EventKind::kHandshakeDone), nullptr) << Summary(*pair);
  ASSERT_TRUE(s.failed());
  EXPECT_EQ(s.error()->code, "ERR_PINNED_KEY_MISMATCH");
  EXPECT_EQ(s.error()->alert, SSL_AD_BAD_CERTIFICATE);
  EXPECT_FALSE(s.error()->alert_from_peer);
  EXPECT_NE(s.error()->message.find("application"), std::string::npos) << s.error()->message;
  EXPECT_FALSE(s.authorized());
  EXPECT_EQ(s.authorization_error(), "ERR_PINNED_KEY_MISMATCH");
  Session& peer = pair->session(Other(c.pausing));
  ASSERT_TRUE(peer.failed()) << Summary(*pair);
  EXPECT_EQ(peer.error()->alert, SSL_AD_BAD_CERTIFICATE);
  EXPECT_TRUE(peer.error()->alert_from_peer);
  // The certificate stays available after the rejection.
  ASSERT_TRUE(s.peer_certificate().has_value());
  EXPECT_EQ(s.peer_certificate()->raw, m.LeafSeenBy(c.pausing).der);
}

INSTANTIATE_TEST_SUITE_P(All, VerifyPause, ::testing::ValuesIn(kPauseCases),
                         [](const ::testing::TestParamInfo<PauseCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(VerifyPauseAnswers, RejectWithoutACodeIsCertRejectedAndAnX509CodePicksItsAlert) {
  Mutual m;
  struct Case {
    std::string code, want_code;
    uint8_t want_alert;
  } cases[] = {
      {"", "CERT_REJECTED", SSL_AD_BAD_CERTIFICATE},
      {"CERT_REVOKED", "CERT_REVOKED", SSL_AD_CERTIFICATE_REVOKED},
      {"CERT_HAS_EXPIRED", "CERT_HAS_EXPIRED", SSL_AD_CERTIFICATE_EXPIRED},
      {"UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", SSL_AD_UNKNOWN_CA},
  };
  for (const Case& c : cases) {
    auto pair = m.Make(Side::kClient, TlsVersion::kTls13);
    pair->Pump();
    ASSERT_TRUE(pair->client().verify_pending());
    pair->client().CompleteVerification(false, c.code);
    pair->Pump();
    ASSERT_TRUE(pair->client().failed());
    EXPECT_EQ(pair->client().error()->code, c.want_code);
    EXPECT_EQ(pair->client().error()->alert, c.want_alert);
    ASSERT_TRUE(pair->server().failed());
    EXPECT_EQ(pair->server().error()->alert, c.want_alert);
  }
}

std::string Sha256(const std::vector<uint8_t>& d) {
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(d.data(), d.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

TEST(VerifyPauseAnswers, ShowOurVerdictAndAcceptOverridesIt) {
  // Pinning a certificate no CA vouches for: the application sees
  // UNABLE_TO_GET_ISSUER_CERT_LOCALLY, checks the fingerprint itself and accepts.
  Mutual m;
  Pki stranger("pause stranger", KeyType::kEcdsaP256, 50);
  for (Side pausing : {Side::kClient, Side::kServer}) {
    for (bool reject_unauthorized : {true, false}) {
      SCOPED_TRACE(std::string(testing::SideName(pausing)) +
                   (reject_unauthorized ? " reject" : " accept"));
      auto pair =
          m.Make(pausing, TlsVersion::kTls13, reject_unauthorized, {stranger.root.cert_pem});
      pair->Pump();
      Session& s = pair->session(pausing);
      const Event* request = pair->Find(pausing, EventKind::kVerifyRequested);
      ASSERT_NE(request, nullptr) << Summary(*pair);
      EXPECT_FALSE(request->get<event::VerifyRequested>().authorized);
      EXPECT_EQ(request->get<event::VerifyRequested>().authorization_error,
                "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
      auto cert = s.peer_certificate();
      ASSERT_TRUE(cert.has_value());
      ASSERT_EQ(Sha256(cert->raw), Sha256(m.LeafSeenBy(pausing).der));
      s.CompleteVerification(true);
      ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
      EXPECT_TRUE(s.authorized());
      EXPECT_EQ(s.authorization_error(), "");
    }
  }
}

TEST(VerifyPauseAnswers, ShowAHostNameMismatch) {
  Mutual m;
  ClientContextOptions client{.ca_pems = {m.pki.root.cert_pem}, .verify_callback = true};
  ServerContextOptions server{.credentials = m.pki.CredentialsFor(m.server_leaf)};
  auto pair = MustPair(MustCreate(client), MustCreate(server), {.servername = "other.example"});
  pair->Pump();
  const Event* request = pair->Find(Side::kClient, EventKind::kVerifyRequested);
  ASSERT_NE(request, nullptr) << Summary(*pair);
  EXPECT_EQ(request->get<event::VerifyRequested>().authorization_error,
            "ERR_TLS_CERT_ALTNAME_INVALID");
  pair->client().CompleteVerification(false, "ERR_TLS_CERT_ALTNAME_INVALID");
  pair->Pump();
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, "ERR_TLS_CERT_ALTNAME_INVALID");
  EXPECT_EQ(pair->client().error()->alert, SSL_AD_BAD_CERTIFICATE);
}

TEST(VerifyPauseAnswers, WithoutAPendingRequestAreErrorsThatChangeNothing) {
  Mutual m;
  auto pair = m.Make(Side::kClient, TlsVersion::kTls13);
  Session& client = pair->client();
  auto early = client.CompleteVerification(true);  // ClientHello sent, nothing received yet
  ASSERT_TRUE(early.has_value());
  EXPECT_EQ(early->code, "ERR_TLS_VERIFY_NOT_PENDING");
  EXPECT_FALSE(client.failed());
  pair->Pump();
  ASSERT_TRUE(client.verify_pending());
  EXPECT_EQ(client.CompleteVerification(true), std::nullopt);
  auto twice = client.CompleteVerification(false);
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(twice->code, "ERR_TLS_VERIFY_NOT_PENDING");
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_TRUE(client.authorized());
  // A context without verify_callback never pauses.
  auto plain = MustPair(
      MustCreate(ClientContextOptions{.ca_pems = {m.pki.root.cert_pem}}),
      MustCreate(ServerContextOptions{.credentials = m.pki.CredentialsFor(m.server_leaf)}));
  ASSERT_TRUE(plain->Handshake());
  EXPECT_EQ(plain->Find(Side::kClient, EventKind::kVerifyRequested), nullptr);
  EXPECT_EQ(plain->client().CompleteVerification(true)->code, "ERR_TLS_VERIFY_NOT_PENDING");
}

TEST(VerifyPauseAnswers, AMissingClientCertificateIsNotPausedFor) {
  Mutual m;
  ServerContextOptions server{.credentials = m.pki.CredentialsFor(m.server_leaf),
                              .ca_pems = {m.pki.root.cert_pem},
                              .verify_callback = true,
                              .request_cert = true};
  auto pair = MustPair(MustCreate(ClientContextOptions{.ca_pems = {m.pki.root.cert_pem}}),
                       MustCreate(server));
  pair->Pump();
  EXPECT_EQ(pair->Find(Side::kServer, EventKind::kVerifyRequested), nullptr);
  ASSERT_TRUE(pair->server().failed()) << Summary(*pair);
  EXPECT_EQ(pair->server().error()->code, "UNABLE_TO_GET_ISSUER_CERT");
}

// ---- Bytes while paused -------------------------------------------------------------------

// Moves |from|'s pending output into |to| |step| bytes at a time; returns bytes taken.
size_t Move(Session& from, Session& to, size_t step = SIZE_MAX) {
  size_t moved = 0;
  for (;;) {
    std::span<const uint8_t> out = from.PendingOutput();
    if (out.empty()) return moved;
    size_t n = to.Feed(out.first(std::min(step, out.size())));
    if (n == 0) return moved;
    from.ConsumeOutput(n);
    moved += n;
  }
}

std::vector<EventKind> Drain(Session& s) {
  std::vector<EventKind> kinds;
  while (auto e = s.NextEvent()) kinds.push_back(e->kind());
  return kinds;
}

std::pair<std::optional<Session>, std::optional<Session>> PausedClient(const Mutual& m,
                                                                       TlsVersion version) {
  ServerContextOptions server{.credentials = m.pki.CredentialsFor(m.server_leaf),
                              .min_version = version,
                              .max_version = version};
  ClientContextOptions client{.ca_pems = {m.pki.root.cert_pem},
                              .verify_callback = true,
                              .min_version = version,
                              .max_version = version};
  auto c =
      Session::Create(MustCreate(client), {.servername = "localhost", .now = testing::WallNow()})
          .value();
  auto s = Session::Create(MustCreate(server), {.now = testing::WallNow()}).value();
  return {std::move(c), std::move(s)};
}

TEST(VerifyPauseInput, TheRestOfThePeersFlightIsKeptAndUsedAfterTheAnswer) {
  // A TLS 1.2 server judges the client's Certificate before its ChangeCipherSpec and
  // Finished records: those arrive while the server waits.
  Mutual m;
  ServerContextOptions server_options{.credentials = m.pki.CredentialsFor(m.server_leaf),
                                      .ca_pems = {m.pki.root.cert_pem},
                                      .verify_callback = true,
                                      .min_version = TlsVersion::kTls12,
                                      .max_version = TlsVersion::kTls12,
                                      .request_cert = true};
  ClientContextOptions client_options{.credentials = m.pki.CredentialsFor(m.client_leaf),
                                      .ca_pems = {m.pki.root.cert_pem},
                                      .min_version = TlsVersion::kTls12,
                                      .max_version = TlsVersion::kTls12};
  auto client = Session::Create(MustCreate(client_options),
                                {.servername = "localhost", .now = testing::WallNow()})
                    .value();
  auto server = Session::Create(MustCreate(server_options), {.now = testing::WallNow()}).value();
  Move(client, server);
  Move(server, client);
  // One byte at a time until the server pauses, then the rest: every byte is taken.
  size_t flight = client.pending_output_bytes();
  size_t taken = 0;
  while (!server.verify_pending() && !client.PendingOutput().empty()) {
    ASSERT_EQ(server.Feed(client.PendingOutput().first(1)), 1u);
    client.ConsumeOutput(1);
    ++taken;
  }
  ASSERT_TRUE(server.verify_pending());
  ASSERT_LT(taken, flight) << "the pause comes before the client's Finished";
  while (!client.PendingOutput().empty()) {
    ASSERT_EQ(server.Feed(client.PendingOutput().first(1)), 1u);
    client.ConsumeOutput(1);
    ++taken;
  }
  EXPECT_EQ(taken, flight);
  EXPECT_TRUE(server.verify_pending());
  EXPECT_FALSE(server.handshake_done());
  EXPECT_EQ(server.pending_output_bytes(), 0u);  // the server's Finished waits too

  EXPECT_EQ(server.CompleteVerification(true), std::nullopt);
  EXPECT_TRUE(server.handshake_done());  // from the kept bytes alone
  EXPECT_EQ(Drain(server),
            (std::vector<EventKind>{EventKind::kVerifyRequested, EventKind::kHandshakeDone}));
  EXPECT_TRUE(server.authorized());
  Move(server, client);
  EXPECT_TRUE(client.handshake_done());
  EXPECT_FALSE(client.failed());
}

TEST(VerifyPauseInput, IsBoundedAndWantsNoMoreOnceFull) {
  Mutual m;
  auto [client, server] = PausedClient(m, TlsVersion::kTls13);
  Move(*client, *server);
  Move(*server, *client);
  ASSERT_TRUE(client->verify_pending());
  ASSERT_TRUE(client->wants_input());
  std::vector<uint8_t> junk(256 * 1024, 0x17);
  size_t taken = client->Feed(junk);
  EXPECT_GT(taken, 0u);
  EXPECT_LT(taken, junk.size());  // bounded: the rest must be offered again later
  EXPECT_FALSE(client->wants_input());
  EXPECT_EQ(client->Feed(junk), 0u);
  EXPECT_FALSE(client->failed());
  EXPECT_TRUE(client->verify_pending());
  // Once answered, the kept input is processed in order: the junk is fatal.
  client->CompleteVerification(true);
  EXPECT_TRUE(client->failed());
}

TEST(VerifyPauseInput, AnEofWhilePausedIsJudgedAfterTheAnswer) {
  Mutual m;
  auto [client, server] = PausedClient(m, TlsVersion::kTls13);
  Move(*client, *server);
  Move(*server, *client);  // the whole server flight
  ASSERT_TRUE(client->verify_pending());
  client->FeedEof();
  EXPECT_FALSE(client->failed());
  EXPECT_TRUE(client->verify_pending());
  client->CompleteVerification(true);
  // The flight was complete: the handshake finishes, then the missing close_notify shows.
  EXPECT_EQ(Drain(*client),
            (std::vector<EventKind>{EventKind::kVerifyRequested, EventKind::kHandshakeDone,
                                    EventKind::kPeerTruncated}));
  EXPECT_FALSE(client->failed());
}

TEST(VerifyPauseInput, AnEofBeforeTheFlightEndedFailsAfterTheAnswer) {
  Mutual m;
  auto [client, server] = PausedClient(m, TlsVersion::kTls12);
  Move(*client, *server);
  // Feed the server's flight until the pause, then cut the transport.
  while (!client->verify_pending() && !server->PendingOutput().empty()) {
    client->Feed(server->PendingOutput().first(1));
    server->ConsumeOutput(1);
  }
  ASSERT_TRUE(client->verify_pending());
  client->FeedEof();
  EXPECT_FALSE(client->failed());
  client->CompleteVerification(true);
  // TLS 1.2: the client still needs the server's Finished, which will never come.
  ASSERT_TRUE(client->failed());
  EXPECT_EQ(client->error()->code, "ECONNRESET");
}

TEST(VerifyPauseResumption, AResumedSessionIsNotPausedAgain) {
  Mutual m;
  ClientContextOptions client_options{.ca_pems = {m.pki.root.cert_pem}, .verify_callback = true};
  auto client = MustCreate(client_options);
  auto server =
      MustCreate(ServerContextOptions{.credentials = m.pki.CredentialsFor(m.server_leaf)});
  auto first = MustPair(client, server);
  first->Pump();
  ASSERT_TRUE(first->client().verify_pending());
  first->client().CompleteVerification(true);
  ASSERT_TRUE(first->Handshake()) << Summary(*first);
  first->Write(Side::kServer, "x");  // tickets go out with the server's next write
  first->Pump();
  auto saved = first->client().saved_session();
  ASSERT_TRUE(saved.has_value());
  EXPECT_TRUE(saved->authorized());

  auto again = MustPair(client, server, {.servername = "localhost", .session = saved});
  ASSERT_TRUE(again->Handshake()) << Summary(*again);
  EXPECT_TRUE(again->client().handshake_info().session_reused);
  EXPECT_EQ(again->Find(Side::kClient, EventKind::kVerifyRequested), nullptr);
  EXPECT_TRUE(again->client().authorized());
}

TEST(VerifyPauseEvents, HaveAName) {
  EXPECT_STREQ(EventKindName(EventKind::kVerifyRequested), "VerifyRequested");
}

}  // namespace
}  // namespace sansio_tls::certs_test
