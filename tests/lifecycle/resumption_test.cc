// Resumption over the in-memory pair: TLS 1.3 tickets, TLS 1.2 session IDs and tickets,
// saved sessions as bytes, expiry by the session clock, ticket-key rotation and sharing,
// the external session-cache pause, and the verification result a resumption reports.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "tests/lifecycle/lifecycle_test_util.h"

namespace sansio_tls {
namespace {

using namespace lifecycle_test;  // NOLINT

const char* VersionName(TlsVersion v) { return v == TlsVersion::kTls13 ? "Tls13" : "Tls12"; }

// First connection: returns the newest session the client saved (fails the test if none).
std::optional<SavedSession> SaveSession(const std::shared_ptr<const Context>& client,
                                        const std::shared_ptr<const Context>& server,
                                        int64_t time = Now()) {
  auto pair = Connect(client, server, time);
  if (!pair) return std::nullopt;
  EXPECT_FALSE(pair->client().handshake_info().session_reused);
  std::vector<SavedSession> saved = NewSessions(*pair, Side::kClient);
  EXPECT_FALSE(saved.empty()) << Summary(*pair);
  if (saved.empty()) return std::nullopt;
  EXPECT_TRUE(pair->client().saved_session().has_value());
  return saved.back();
}

bool Resumed(Pair& pair) {
  return pair.client().handshake_info().session_reused &&
         pair.server().handshake_info().session_reused;
}

class Resumption : public ::testing::TestWithParam<TlsVersion> {};

TEST_P(Resumption, ASavedSessionResumesAndBothSidesSaySo) {
  auto server = Server(GetParam());
  auto client = Client(GetParam());
  auto saved = SaveSession(client, server);
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->protocol(), GetParam() == TlsVersion::kTls13 ? "TLSv1.3" : "TLSv1.2");
  EXPECT_TRUE(saved->authorized());
  EXPECT_EQ(saved->servername(), "localhost");

  auto pair = Connect(client, server, Now() + 5, saved);
  ASSERT_TRUE(pair);
  EXPECT_TRUE(Resumed(*pair)) << Summary(*pair);
  const Event* done = pair->Find(Side::kClient, EventKind::kHandshakeDone);
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->get<HandshakeInfo>().session_reused);
  EXPECT_TRUE(done->get<HandshakeInfo>().authorized)
      << done->get<HandshakeInfo>().authorization_error;
  EXPECT_EQ(pair->server().handshake_info().servername, "localhost");
  pair->Write(Side::kClient, "after resumption");
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "after resumption");
}

TEST_P(Resumption, SessionBytesRoundTripAndStillResume) {
  auto server = Server(GetParam());
  auto client = Client(GetParam());
  auto saved = SaveSession(client, server);
  ASSERT_TRUE(saved);
  std::vector<uint8_t> bytes = saved->ToBytes();
  ASSERT_FALSE(bytes.empty());
  auto parsed = SavedSession::FromBytes(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->ToBytes(), bytes);
  EXPECT_EQ(parsed->time(), Now());
  EXPECT_EQ(parsed->timeout(), 300u);
  EXPECT_EQ(parsed->protocol(), saved->protocol());
  EXPECT_EQ(parsed->authorized(), saved->authorized());
  EXPECT_FALSE(parsed->ExpiredAt(Now() + 299));
  EXPECT_TRUE(parsed->ExpiredAt(Now() + 300));

  auto pair = Connect(client, server, Now() + 1, *parsed);
  ASSERT_TRUE(pair);
  EXPECT_TRUE(Resumed(*pair)) << Summary(*pair);
}

TEST_P(Resumption, AServerThatNeverWritesStillGivesTheClientASession) {
  // BoringSSL holds a TLS 1.3 server's tickets until its next write; the session flushes
  // them when the handshake completes, so no application write is needed.
  auto server = Server(GetParam());
  auto client = Client(GetParam());
  auto pair = MakePair(client, server, At(Now()));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  pair->Pump();
  EXPECT_EQ(pair->bytes_sent(Side::kServer) > 0, true);
  std::vector<SavedSession> saved = NewSessions(*pair, Side::kClient);
  ASSERT_FALSE(saved.empty()) << Summary(*pair);
  if (GetParam() == TlsVersion::kTls13) {
    EXPECT_EQ(saved.size(), 2u);  // BoringSSL sends two
  }
  auto again = Connect(client, server, Now() + 1, saved.front());
  ASSERT_TRUE(again);
  EXPECT_TRUE(Resumed(*again)) << Summary(*again);
}

TEST_P(Resumption, ASessionExpiredOnTheClientIsNotOfferedAndAFullHandshakeFollows) {
  auto server = Server(GetParam());
  auto client = Client(GetParam());
  auto saved = SaveSession(client, server);
  ASSERT_TRUE(saved);
  auto pair = Connect(client, server, Now() + 300, saved);  // lifetime is [t, t+300)
  ASSERT_TRUE(pair);
  EXPECT_FALSE(pair->client().handshake_info().session_reused);
  EXPECT_FALSE(pair->server().handshake_info().session_reused);
  EXPECT_TRUE(pair->client().authorized()) << pair->client().authorization_error();
  // The full handshake brought a fresh session.
  EXPECT_FALSE(NewSessions(*pair, Side::kClient).empty());
}

TEST_P(Resumption, ASessionExpiredOnTheServerFallsBackToAFullHandshake) {
  auto server = Server(GetParam(), [](auto& o) { o.session_timeout = 60; });
  auto client = Client(GetParam(), [](auto& o) { o.session_timeout = 3600; });
  auto saved = SaveSession(client, server);
  ASSERT_TRUE(saved);
  // The client still considers it valid (TLS 1.2: its own timeout) or the ticket says 60s
  // (TLS 1.3); keep the client's clock early and move only the server's.
  SessionOptions client_options = At(Now() + 30, saved);
  SessionOptions server_options;
  server_options.verify_time = Now() + 61;
  auto pair = MakePair(client, server, client_options, server_options);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_FALSE(pair->server().handshake_info().session_reused);
  EXPECT_FALSE(pair->client().handshake_info().session_reused);
  EXPECT_TRUE(pair->client().authorized());

  // Within the server's lifetime the same session resumes.
  auto ok =
      MakePair(client, server, At(Now() + 30, saved), SessionOptions{.verify_time = Now() + 59});
  ASSERT_TRUE(ok->Handshake()) << Summary(*ok);
  EXPECT_TRUE(Resumed(*ok)) << Summary(*ok);
}

TEST_P(Resumption, ResumptionSkipsVerificationAndKeepsTheOriginalResult) {
  // Node's behaviour: a resumed session is not verified again. The server certificate has
  // expired by the time of the resumption; the session (40-day lifetime) still resumes
  // and reports the original, successful verification.
  auto server = Server(GetParam(), [](auto& o) { o.session_timeout = 40 * 86400; });
  auto client = Client(GetParam(), [](auto& o) { o.session_timeout = 40 * 86400; });
  auto saved = SaveSession(client, server);
  ASSERT_TRUE(saved);
  const int64_t later = Now() + 35 * 86400;  // the leaf is valid for 30 days
  auto resumed = Connect(client, server, later, saved);
  ASSERT_TRUE(resumed);
  EXPECT_TRUE(Resumed(*resumed)) << Summary(*resumed);
  EXPECT_TRUE(resumed->client().authorized());
  // A full handshake at that time fails verification: the resumption really skipped it.
  auto fresh = MakePair(client, server, At(later));
  EXPECT_FALSE(fresh->Handshake());
  ASSERT_TRUE(fresh->client().failed());
  EXPECT_EQ(fresh->client().error()->code, "CERT_HAS_EXPIRED");
}

TEST_P(Resumption, AnUnauthorizedSessionResumesUnauthorizedWithTheOriginalCode) {
  // reject_unauthorized=false and a name the certificate does not cover.
  auto server = Server(GetParam());
  auto client = Client(GetParam(), [](auto& o) { o.reject_unauthorized = false; });
  auto first = Connect(client, server, Now(), std::nullopt);
  ASSERT_TRUE(first);
  // Connect() uses "localhost"; redo with a wrong name.
  auto wrong = MakePair(client, server, At(Now(), std::nullopt, "wrong.example"));
  ASSERT_TRUE(wrong->Handshake()) << Summary(*wrong);
  wrong->Pump();
  EXPECT_FALSE(wrong->client().authorized());
  EXPECT_EQ(wrong->client().authorization_error(), "ERR_TLS_CERT_ALTNAME_INVALID");
  std::vector<SavedSession> saved = NewSessions(*wrong, Side::kClient);
  ASSERT_FALSE(saved.empty());
  EXPECT_FALSE(saved.back().authorized());
  EXPECT_EQ(saved.back().authorization_error(), "ERR_TLS_CERT_ALTNAME_INVALID");
  EXPECT_EQ(saved.back().servername(), "wrong.example");

  auto resumed = MakePair(client, server, At(Now() + 1, saved.back(), "wrong.example"));
  ASSERT_TRUE(resumed->Handshake()) << Summary(*resumed);
  EXPECT_TRUE(Resumed(*resumed));
  const Event* done = resumed->Find(Side::kClient, EventKind::kHandshakeDone);
  ASSERT_TRUE(done);
  EXPECT_FALSE(done->get<HandshakeInfo>().authorized);
  EXPECT_EQ(done->get<HandshakeInfo>().authorization_error, "ERR_TLS_CERT_ALTNAME_INVALID");

  // A strict client does not offer it: full handshake, which fails on the name.
  auto strict_client = Client(GetParam());
  auto strict = MakePair(strict_client, server, At(Now() + 1, saved.back(), "wrong.example"));
  EXPECT_FALSE(strict->Handshake());
  ASSERT_TRUE(strict->client().failed());
  EXPECT_EQ(strict->client().error()->code, "ERR_TLS_CERT_ALTNAME_INVALID");
  EXPECT_FALSE(strict->server().handshake_info().session_reused);
}

TEST_P(Resumption, ASessionIsNotOfferedToAnotherName) {
  auto server = Server(GetParam());
  auto client = Client(GetParam());
  auto saved = SaveSession(client, server);
  ASSERT_TRUE(saved);
  // 127.0.0.1 is in the certificate too, so the full handshake succeeds.
  auto pair = MakePair(client, server, At(Now() + 1, saved, "127.0.0.1"));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_FALSE(pair->client().handshake_info().session_reused);
  EXPECT_FALSE(pair->server().handshake_info().session_reused);
}

TEST_P(Resumption, ResumedClientCertificateKeepsTheServersAuthorization) {
  auto server = Server(GetParam(), [](auto& o) { o.request_cert = true; });
  auto client = Client(GetParam(), [](auto& o) {
    o.credentials = {.key_pem = Pki().client.key_pem, .cert_chain_pem = Pki().client_chain_pem()};
  });
  auto first = Connect(client, server, Now());
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->server().authorized()) << first->server().authorization_error();
  std::vector<SavedSession> saved = NewSessions(*first, Side::kClient);
  ASSERT_FALSE(saved.empty());
  auto resumed = Connect(client, server, Now() + 1, saved.back());
  ASSERT_TRUE(resumed);
  EXPECT_TRUE(Resumed(*resumed)) << Summary(*resumed);
  EXPECT_TRUE(resumed->server().authorized()) << resumed->server().authorization_error();
  EXPECT_FALSE(resumed->server().failed());
}

TEST_P(Resumption, ResumedClientWithoutCertificateIsReportedAsTheOriginal) {
  auto server = Server(GetParam(), [](auto& o) {
    o.request_cert = true;
    o.reject_unauthorized = false;
  });
  auto client = Client(GetParam());
  auto first = Connect(client, server, Now());
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->server().authorized());
  EXPECT_EQ(first->server().authorization_error(), "UNABLE_TO_GET_ISSUER_CERT");
  std::vector<SavedSession> saved = NewSessions(*first, Side::kClient);
  ASSERT_FALSE(saved.empty());
  auto resumed = Connect(client, server, Now() + 1, saved.back());
  ASSERT_TRUE(resumed);
  EXPECT_TRUE(Resumed(*resumed)) << Summary(*resumed);
  EXPECT_FALSE(resumed->server().authorized());
  EXPECT_EQ(resumed->server().authorization_error(), "UNABLE_TO_GET_ISSUER_CERT");
}

TEST_P(Resumption, AnUntrustedClientResumesUnauthorizedAndAStrictServerSharingKeysRefusesIt) {
  auto keys = TicketKeys::Create();
  testing::Cert stranger_root =
      testing::MakeSelfSigned({.subject = {{"CN", "Stranger Root"}}, .is_ca = true});
  testing::Cert stranger = testing::MakeSigned(
      {.subject = {{"CN", "stranger"}}, .ext_key_usage = {testing::kClientAuth}}, stranger_root);
  auto lenient = Server(GetParam(), [&](auto& o) {
    o.request_cert = true;
    o.reject_unauthorized = false;
    o.ticket_keys = keys;
    o.session_cache = SessionCacheMode::kOff;  // tickets only: the shared keys decide
  });
  auto client = Client(GetParam(), [&](auto& o) {
    o.credentials = {.key_pem = stranger.key_pem, .cert_chain_pem = stranger.cert_pem};
  });
  auto first = Connect(client, lenient, Now());
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->server().authorized());
  const std::string code = first->server().authorization_error();
  EXPECT_FALSE(code.empty());
  std::vector<SavedSession> saved = NewSessions(*first, Side::kClient);
  ASSERT_FALSE(saved.empty());

  auto resumed = Connect(client, lenient, Now() + 1, saved.back());
  ASSERT_TRUE(resumed);
  EXPECT_TRUE(Resumed(*resumed)) << Summary(*resumed);
  EXPECT_FALSE(resumed->server().authorized());
  EXPECT_EQ(resumed->server().authorization_error(), code);

  auto strict = Server(GetParam(), [&](auto& o) {
    o.request_cert = true;
    o.ticket_keys = keys;
    o.session_cache = SessionCacheMode::kOff;
  });
  auto refused = MakePair(client, strict, At(Now() + 1, saved.back()));
  EXPECT_FALSE(refused->Handshake());
  EXPECT_FALSE(refused->server().handshake_info().session_reused);
  ASSERT_TRUE(refused->server().failed()) << Summary(*refused);
  EXPECT_EQ(refused->server().error()->code, code);
}

TEST_P(Resumption, ARotatedKeyStillOpensTicketsWithinTheWindowAndNotAfter) {
  auto keys = TicketKeys::Create(/*window=*/1);
  auto server = Server(GetParam(), [&](auto& o) {
    o.ticket_keys = keys;
    o.session_cache = SessionCacheMode::kOff;
  });
  auto client = Client(GetParam());
  auto saved = SaveSession(client, server);
  ASSERT_TRUE(saved);
  ASSERT_TRUE(saved->has_ticket());
  std::vector<TicketKeys::Key> before = keys->Get();
  ASSERT_EQ(before.size(), 1u);

  keys->Rotate();
  std::vector<TicketKeys::Key> after = keys->Get();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1], before[0]);  // the old key moved behind the new one
  EXPECT_NE(after[0], before[0]);
  auto within = Connect(client, server, Now() + 1, saved);
  ASSERT_TRUE(within);
  EXPECT_TRUE(Resumed(*within)) << Summary(*within);

  keys->Rotate();  // the first key leaves the window
  EXPECT_EQ(keys->Get().size(), 2u);
  auto beyond = Connect(client, server, Now() + 2, saved);
  ASSERT_TRUE(beyond);
  EXPECT_FALSE(beyond->server().handshake_info().session_reused);
  EXPECT_TRUE(beyond->client().authorized());
}

TEST_P(Resumption, KeysCopiedToAnotherServerLetItResumeTheTickets) {
  auto a = Server(GetParam(), [](auto& o) { o.session_cache = SessionCacheMode::kOff; });
  auto b = Server(GetParam(), [](auto& o) { o.session_cache = SessionCacheMode::kOff; });
  auto client = Client(GetParam());
  auto saved = SaveSession(client, a);
  ASSERT_TRUE(saved);

  auto elsewhere = Connect(client, b, Now() + 1, saved);  // b has its own random keys
  ASSERT_TRUE(elsewhere);
  EXPECT_FALSE(elsewhere->server().handshake_info().session_reused);

  std::vector<TicketKeys::Key> exported = a->server_options()->ticket_keys->Get();
  EXPECT_FALSE(b->server_options()->ticket_keys->Set(exported).has_value());
  auto shared = Connect(client, b, Now() + 2, saved);
  ASSERT_TRUE(shared);
  EXPECT_TRUE(Resumed(*shared)) << Summary(*shared);
}

TEST_P(Resumption, ASecondContextSharingTheRingResumes) {
  auto keys = TicketKeys::Create();
  auto a = Server(GetParam(), [&](auto& o) {
    o.ticket_keys = keys;
    o.session_cache = SessionCacheMode::kOff;
  });
  auto client = Client(GetParam());
  auto saved = SaveSession(client, a);
  ASSERT_TRUE(saved);
  auto b = Server(GetParam(), [&](auto& o) {
    o.ticket_keys = keys;
    o.session_cache = SessionCacheMode::kOff;
  });  // e.g. the context that replaced |a| after a credential reload
  auto pair = Connect(client, b, Now() + 1, saved);
  ASSERT_TRUE(pair);
  EXPECT_TRUE(Resumed(*pair)) << Summary(*pair);
}

TEST_P(Resumption, ATamperedTicketIsIgnoredAndAFullHandshakeFollows) {
  auto server = Server(GetParam(), [](auto& o) { o.session_cache = SessionCacheMode::kOff; });
  auto client = Client(GetParam());
  auto saved = SaveSession(client, server);
  ASSERT_TRUE(saved && saved->has_ticket());
  const uint8_t* ticket = nullptr;
  size_t len = 0;
  SSL_SESSION_get0_ticket(saved->ssl_session(), &ticket, &len);
  ASSERT_GT(len, 40u);
  std::vector<uint8_t> flipped(ticket, ticket + len);
  flipped[len - 5] ^= 0x20;  // inside the GCM tag
  // The same session with the flipped ticket.
  bssl::UniquePtr<SSL_SESSION> dup;
  {
    uint8_t* der = nullptr;
    size_t der_len = 0;
    ASSERT_TRUE(SSL_SESSION_to_bytes(saved->ssl_session(), &der, &der_len));
    bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_with_buffers_method()));
    dup.reset(SSL_SESSION_from_bytes(der, der_len, ctx.get()));
    OPENSSL_free(der);
  }
  ASSERT_TRUE(dup);
  ASSERT_TRUE(SSL_SESSION_set_ticket(dup.get(), flipped.data(), flipped.size()));
  SavedSession tampered = SavedSession::Wrap(std::move(dup), saved->auth());
  auto pair = Connect(client, server, Now() + 1, tampered);
  ASSERT_TRUE(pair);
  EXPECT_FALSE(pair->server().handshake_info().session_reused);
  EXPECT_TRUE(pair->client().authorized());
}

INSTANTIATE_TEST_SUITE_P(Versions, Resumption,
                         ::testing::Values(TlsVersion::kTls13, TlsVersion::kTls12),
                         [](const auto& info) { return std::string(VersionName(info.param)); });

// ---- TLS 1.2: session IDs, tickets, the caches --------------------------------------

TEST(Tls12Resumption, SessionIdResumesThroughTheInternalCache) {
  auto server = Server(TlsVersion::kTls12);  // default: kInternal
  auto client = Client(TlsVersion::kTls12, [](auto& o) { o.session_tickets = false; });
  auto saved = SaveSession(client, server);
  ASSERT_TRUE(saved);
  EXPECT_FALSE(saved->has_ticket());
  EXPECT_EQ(saved->id().size(), 32u);
  auto pair = Connect(client, server, Now() + 1, saved);
  ASSERT_TRUE(pair);
  EXPECT_TRUE(Resumed(*pair)) << Summary(*pair);
}

TEST(Tls12Resumption, TicketsResumeWithNoServerCache) {
  auto server =
      Server(TlsVersion::kTls12, [](auto& o) { o.session_cache = SessionCacheMode::kOff; });
  auto client = Client(TlsVersion::kTls12);
  auto saved = SaveSession(client, server);
  ASSERT_TRUE(saved);
  EXPECT_TRUE(saved->has_ticket());
  auto pair = Connect(client, server, Now() + 1, saved);
  ASSERT_TRUE(pair);
  EXPECT_TRUE(Resumed(*pair)) << Summary(*pair);
}

TEST(Tls12Resumption, NoTicketsAndNoCacheMeansNoResumableSession) {
  auto server = Server(TlsVersion::kTls12, [](auto& o) {
    o.session_cache = SessionCacheMode::kOff;
    o.session_tickets = false;
  });
  auto client = Client(TlsVersion::kTls12);
  auto pair = Connect(client, server, Now());
  ASSERT_TRUE(pair);
  EXPECT_TRUE(NewSessions(*pair, Side::kClient).empty()) << Summary(*pair);
  EXPECT_FALSE(pair->client().saved_session().has_value());
}

TEST(Tls12Resumption, TheInternalCacheEvictsTheLeastRecentlyUsed) {
  auto server = Server(TlsVersion::kTls12, [](auto& o) { o.session_cache_size = 2; });
  auto client = Client(TlsVersion::kTls12, [](auto& o) { o.session_tickets = false; });
  auto s1 = SaveSession(client, server);
  auto s2 = SaveSession(client, server);
  ASSERT_TRUE(s1 && s2);
  auto r1 = Connect(client, server, Now() + 1, s1);  // s1 becomes the most recent
  EXPECT_TRUE(Resumed(*r1));
  auto s3 = SaveSession(client, server);  // evicts s2
  ASSERT_TRUE(s3);
  EXPECT_TRUE(Resumed(*Connect(client, server, Now() + 2, s1)));
  EXPECT_TRUE(Resumed(*Connect(client, server, Now() + 2, s3)));
  auto r2 = Connect(client, server, Now() + 2, s2);
  EXPECT_FALSE(r2->server().handshake_info().session_reused);
}

// The external cache: the application stores what kNewSession gives and answers
// kSessionLookup, possibly later (the handshake waits).
class ExternalCache {
 public:
  void Store(const Pair& pair) {
    for (const SavedSession& s : NewSessions(pair, Side::kServer)) {
      by_id_[s.id()] = s.ToBytes();
    }
  }
  std::optional<SavedSession> Find(const std::vector<uint8_t>& id) const {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    auto parsed = SavedSession::FromBytes(it->second);
    EXPECT_TRUE(parsed.ok());
    return parsed.ok() ? std::optional<SavedSession>(parsed.value()) : std::nullopt;
  }
  size_t size() const { return by_id_.size(); }

 private:
  std::map<std::vector<uint8_t>, std::vector<uint8_t>> by_id_;
};

TEST(Tls12Resumption, TheExternalCacheStoresNewSessionsAndAnswersLookupsLater) {
  auto server =
      Server(TlsVersion::kTls12, [](auto& o) { o.session_cache = SessionCacheMode::kExternal; });
  auto client = Client(TlsVersion::kTls12, [](auto& o) { o.session_tickets = false; });
  ExternalCache cache;
  auto first = Connect(client, server, Now());
  ASSERT_TRUE(first);
  EXPECT_EQ(Count(*first, Side::kServer, EventKind::kNewSession), 1u) << Summary(*first);
  cache.Store(*first);
  ASSERT_EQ(cache.size(), 1u);
  std::vector<SavedSession> saved = NewSessions(*first, Side::kClient);
  ASSERT_EQ(saved.size(), 1u);

  auto pair = MakePair(client, server, At(Now() + 1, saved[0]));
  pair->Pump();
  // Paused: the server asked, nobody answered yet.
  const Event* lookup = pair->Find(Side::kServer, EventKind::kSessionLookup);
  ASSERT_TRUE(lookup) << Summary(*pair);
  std::vector<uint8_t> id = saved[0].id();
  EXPECT_EQ(lookup->get<event::SessionLookup>().session_id, id);
  EXPECT_TRUE(pair->server().session_lookup_pending());
  EXPECT_FALSE(pair->server().handshake_done());
  EXPECT_FALSE(pair->client().handshake_done());
  EXPECT_EQ(pair->Pump(), 0u);  // nothing moves while it waits

  EXPECT_FALSE(pair->server()
                   .AnswerSessionLookup(cache.Find(lookup->get<event::SessionLookup>().session_id))
                   .has_value());
  EXPECT_FALSE(pair->server().session_lookup_pending());
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_TRUE(Resumed(*pair));
  EXPECT_EQ(Count(*pair, Side::kServer, EventKind::kSessionLookup), 1u);
  // Answering twice is an error that changes nothing.
  auto again = pair->server().AnswerSessionLookup(std::nullopt);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->code, "ERR_TLS_SESSION_LOOKUP_NOT_PENDING");
}

TEST(Tls12Resumption, AnExternalCacheMissOrAWrongAnswerMeansAFullHandshake) {
  auto server =
      Server(TlsVersion::kTls12, [](auto& o) { o.session_cache = SessionCacheMode::kExternal; });
  auto client = Client(TlsVersion::kTls12, [](auto& o) { o.session_tickets = false; });
  auto a = Connect(client, server, Now());
  auto b = Connect(client, server, Now());
  ASSERT_TRUE(a && b);
  SavedSession sa = NewSessions(*a, Side::kClient).at(0);
  SavedSession other = NewSessions(*b, Side::kServer).at(0);

  auto miss = MakePair(client, server, At(Now() + 1, sa));
  miss->Pump();
  ASSERT_TRUE(miss->server().session_lookup_pending());
  EXPECT_FALSE(miss->server().AnswerSessionLookup(std::nullopt).has_value());
  ASSERT_TRUE(miss->Handshake()) << Summary(*miss);
  EXPECT_FALSE(miss->server().handshake_info().session_reused);
  EXPECT_EQ(Count(*miss, Side::kServer, EventKind::kNewSession), 1u);  // a fresh one to store

  auto wrong = MakePair(client, server, At(Now() + 1, sa));
  wrong->Pump();
  ASSERT_TRUE(wrong->server().session_lookup_pending());
  EXPECT_FALSE(wrong->server().AnswerSessionLookup(other).has_value());  // another ID
  ASSERT_TRUE(wrong->Handshake()) << Summary(*wrong);
  EXPECT_FALSE(wrong->server().handshake_info().session_reused);
}

TEST(Tls12Resumption, EofWhileTheLookupWaitsIsAnError) {
  auto server =
      Server(TlsVersion::kTls12, [](auto& o) { o.session_cache = SessionCacheMode::kExternal; });
  auto client = Client(TlsVersion::kTls12, [](auto& o) { o.session_tickets = false; });
  auto first = Connect(client, server, Now());
  SavedSession saved = NewSessions(*first, Side::kClient).at(0);
  auto pair = MakePair(client, server, At(Now() + 1, saved));
  pair->Pump();
  ASSERT_TRUE(pair->server().session_lookup_pending());
  pair->InjectEof(Side::kServer);
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->code, "ECONNRESET");
}

// ---- Saved session bytes and ticket keys --------------------------------------------

TEST(SavedSession, GarbageIsAClearErrorNeverACrash) {
  auto server = Server(TlsVersion::kTls13);
  auto client = Client(TlsVersion::kTls13);
  auto saved = SaveSession(client, server);
  ASSERT_TRUE(saved);
  std::vector<uint8_t> good = saved->ToBytes();
  std::vector<std::vector<uint8_t>> bad = {
      {}, {'S', 'T', 'L', 'S'}, std::vector<uint8_t>(300, 0x2a)};
  for (size_t cut = 0; cut < good.size(); cut += 17)
    bad.emplace_back(good.begin(), good.begin() + cut);
  std::vector<uint8_t> version = good;
  version[4] = 9;
  bad.push_back(version);
  std::vector<uint8_t> trailing = good;
  trailing.push_back(0);
  bad.push_back(trailing);
  std::vector<uint8_t> body = good;
  body[body.size() - 20] ^= 0xff;  // inside BoringSSL's encoding
  for (const auto& b : bad) {
    auto r = SavedSession::FromBytes(b);
    ASSERT_FALSE(r.ok()) << "size " << b.size();
    EXPECT_EQ(r.error().code, "ERR_TLS_INVALID_SESSION");
  }
  // A flipped byte inside the BoringSSL encoding either fails to parse or parses into a
  // different session; never a crash.
  auto flipped = SavedSession::FromBytes(body);
  if (flipped.ok()) {
    EXPECT_NE(flipped->ToBytes(), good);
  }
}

// Byte 5 of the saved form holds the verdict flags (bit 0 verified, bit 1 authorized).
// Found by the lifecycle fuzz target: a stored session edited to "not verified" was offered,
// and the resumed client reported unauthorized without a code.
TEST(SavedSession, AnEditedVerdictIsRefusedOrNeverOffered) {
  for (TlsVersion version : {TlsVersion::kTls13, TlsVersion::kTls12}) {
    auto server = Server(version);
    auto client = Client(version);
    auto saved = SaveSession(client, server);
    ASSERT_TRUE(saved);
    ASSERT_TRUE(saved->authorized());
    std::vector<uint8_t> good = saved->ToBytes();
    ASSERT_EQ(good[5], 3);
    // Authorized without a checked certificate: no handshake produces that.
    std::vector<uint8_t> unverified_authorized = good;
    unverified_authorized[5] = 2;
    auto refused = SavedSession::FromBytes(unverified_authorized);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "ERR_TLS_INVALID_SESSION");
    EXPECT_NE(refused.error().message.find("inconsistent"), std::string::npos);
    // Checked and refused without a code: also refused.
    std::vector<uint8_t> refused_without_code = good;
    refused_without_code[5] = 1;
    EXPECT_FALSE(SavedSession::FromBytes(refused_without_code).ok());
    // Nothing checked: what a server's session without a client certificate carries. It
    // parses, but a client never offers it: a full handshake verifies the server again.
    std::vector<uint8_t> unchecked = good;
    unchecked[5] = 0;
    auto parsed = SavedSession::FromBytes(unchecked);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_FALSE(parsed->authorized());
    auto pair = Connect(client, server, Now(), *parsed);
    ASSERT_TRUE(pair);
    EXPECT_FALSE(pair->client().handshake_info().session_reused);
    EXPECT_TRUE(pair->client().authorized());
    EXPECT_EQ(pair->client().authorization_error(), "");
    // The unedited bytes still resume.
    auto again = SavedSession::FromBytes(good);
    ASSERT_TRUE(again.ok());
    auto resumed = Connect(client, server, Now(), *again);
    ASSERT_TRUE(resumed);
    EXPECT_TRUE(Resumed(*resumed)) << VersionName(version);
  }
}

TEST(TicketKeys, SetRefusesEmptyDuplicateAndOversizedRings) {
  auto keys = TicketKeys::Create();
  std::vector<TicketKeys::Key> before = keys->Get();
  auto empty = keys->Set({});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->code, "ERR_TLS_INVALID_TICKET_KEYS");
  TicketKeys::Key k{};
  k[0] = 1;
  std::vector<TicketKeys::Key> dup = {k, k};
  ASSERT_TRUE(keys->Set(dup));
  std::vector<TicketKeys::Key> many(TicketKeys::kMaxKeys + 1, k);
  for (size_t i = 0; i < many.size(); ++i) many[i][1] = static_cast<uint8_t>(i);
  ASSERT_TRUE(keys->Set(many));
  EXPECT_EQ(keys->Get(), before);  // nothing changed
  std::vector<TicketKeys::Key> two = {k, k};
  two[1][0] = 2;
  EXPECT_FALSE(keys->Set(two).has_value());
  EXPECT_EQ(keys->Get(), two);
}

TEST(TicketKeys, SealedTicketsOpenOnlyWithTheirKeyAndIntact) {
  auto keys = TicketKeys::Create(0);
  std::string plain = "session bytes";
  std::vector<uint8_t> sealed(plain.size() + TicketKeys::kOverhead);
  size_t len = 0;
  ASSERT_TRUE(keys->Seal(Bytes(plain), sealed.data(), sealed.size(), &len));
  ASSERT_EQ(len, sealed.size());
  std::vector<uint8_t> opened;
  ASSERT_TRUE(keys->Open(sealed, &opened));
  EXPECT_EQ(std::string(opened.begin(), opened.end()), plain);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::vector<uint8_t> t = sealed;
    t[i] ^= 1;
    EXPECT_FALSE(keys->Open(t, &opened)) << "byte " << i;
  }
  EXPECT_FALSE(keys->Open(std::span<const uint8_t>(sealed).first(20), &opened));
  keys->Rotate();  // window 0: the old key is gone at once
  EXPECT_EQ(keys->Get().size(), 1u);
  EXPECT_FALSE(keys->Open(sealed, &opened));
  // Too small an output buffer is refused, not overrun.
  EXPECT_FALSE(
      keys->Seal(Bytes(plain), sealed.data(), plain.size() + TicketKeys::kOverhead - 1, &len));
}

TEST(TicketKeys, ContextsShareTheRingAndRotationRacesHandshakesSafely) {
  // Several threads resume against one server Context while another rotates its keys.
  auto keys = TicketKeys::Create(/*window=*/64);
  auto server = Server(TlsVersion::kTls13, [&](auto& o) { o.ticket_keys = keys; });
  auto client = Client(TlsVersion::kTls13);
  std::atomic<bool> stop{false};
  std::atomic<int> resumed{0}, failures{0};
  std::thread rotator([&] {
    while (!stop) {
      keys->Rotate();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 8; ++i) {
        auto first = Pair::Create(client, server, At(Now()), SessionOptions{.verify_time = Now()});
        if (!first.ok() || !(*first)->Handshake()) {
          ++failures;
          continue;
        }
        (*first)->Pump();
        auto s = (*first)->client().saved_session();
        if (!s) {
          ++failures;
          continue;
        }
        auto second = Pair::Create(client, server, At(Now() + 1, s),
                                   SessionOptions{.verify_time = Now() + 1});
        if (!second.ok() || !(*second)->Handshake()) {
          ++failures;
          continue;
        }
        resumed += (*second)->server().handshake_info().session_reused;
      }
    });
  }
  for (auto& w : workers) w.join();
  stop = true;
  rotator.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(resumed.load(), 24);  // the window (64) outlasts the rotations in between
}

TEST(Context, LifecycleOptionsAreValidated) {
  auto zero = Context::Create([] {
    ServerContextOptions o = ServerOptions(TlsVersion::kTls13);
    o.session_timeout = 0;
    return o;
  }());
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, "ERR_TLS_INVALID_CONFIG");
  // A server cannot ask for a staple: tests/core/role_options_test.cc.
  auto staple_on_client = Context::Create([] {
    ClientContextOptions o = ClientOptions(TlsVersion::kTls13);
    o.credentials.ocsp_response = "x";
    return o;
  }());
  ASSERT_FALSE(staple_on_client.ok());
}

}  // namespace
}  // namespace sansio_tls
