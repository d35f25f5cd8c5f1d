// Session and Pair: handshakes under every fragmentation, data integrity, closing,
// truncation, tampering, garbage, verification failures and backpressure. No sockets.
#include "core/session.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include <functional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls {
namespace {

using testing::Fragmentation;
using testing::KeyType;
using testing::Pair;
using testing::Side;

struct Contexts {
  std::shared_ptr<const Context> client, server;
};

// Contexts for |key_type| and |version|, whose options |edit_server| and |edit_client|
// adjust when given.
Contexts MakeContexts(KeyType key_type = KeyType::kEcdsaP256,
                      TlsVersion version = TlsVersion::kTls13,
                      const std::function<void(ServerContextOptions&)>& edit_server = nullptr,
                      const std::function<void(ClientContextOptions&)>& edit_client = nullptr) {
  testing::TestPki pki = testing::MakeTestPki(key_type);
  ServerContextOptions server{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()},
      .min_version = version,
      .max_version = version};
  ClientContextOptions client{
      .ca_pems = {pki.root.cert_pem}, .min_version = version, .max_version = version};
  if (edit_server) edit_server(server);
  if (edit_client) edit_client(client);
  auto s = Context::Create(server);
  auto c = Context::Create(client);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return {c.value(), s.value()};
}

std::unique_ptr<Pair> MakePair(const Contexts& ctx,
                               SessionOptions client_options = {.servername = "localhost"}) {
  auto pair = Pair::Create(ctx.client, ctx.server, std::move(client_options));
  EXPECT_TRUE(pair.ok());
  return std::move(pair).value();
}

std::string Sha256(std::string_view data) {
  uint8_t out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

// Deterministic, non-repeating-looking payload.
std::string Payload(size_t n, uint32_t seed = 7) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// ---- Handshake matrix ---------------------------------------------------------------

struct HandshakeCase {
  const char* name;
  KeyType key;
  TlsVersion version;
  Fragmentation::Mode mode;
};

class HandshakeMatrix : public ::testing::TestWithParam<HandshakeCase> {};

TEST_P(HandshakeMatrix, CompletesAndCarriesDataBothWays) {
  const HandshakeCase& c = GetParam();
  auto pair = MakePair(MakeContexts(c.key, c.version));
  pair->set_fragmentation({.mode = c.mode, .seed = 42, .max_fragment = 700});
  ASSERT_TRUE(pair->Handshake()) << "client: " << pair->EventSummary(Side::kClient)
                                 << " server: " << pair->EventSummary(Side::kServer);

  const HandshakeInfo& ci = pair->client().handshake_info();
  const HandshakeInfo& si = pair->server().handshake_info();
  EXPECT_EQ(ci.version, c.version);
  EXPECT_EQ(si.version, c.version);
  EXPECT_EQ(ci.cipher, si.cipher);
  EXPECT_FALSE(ci.cipher.empty());
  EXPECT_TRUE(ci.authorized) << ci.authorization_error;
  EXPECT_EQ(si.servername, "localhost");
  EXPECT_FALSE(si.authorized);  // no client certificate was requested
  EXPECT_EQ(si.authorization_error, "");
  EXPECT_EQ(ci.alpn_protocol, std::nullopt);

  ASSERT_EQ(pair->Write(Side::kClient, "hello from client"), 17u);
  ASSERT_EQ(pair->Write(Side::kServer, "hello from server"), 17u);
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "hello from client");
  EXPECT_EQ(pair->received(Side::kClient), "hello from server");
}

INSTANTIATE_TEST_SUITE_P(
    All, HandshakeMatrix,
    ::testing::Values(HandshakeCase{"Tls13EcdsaWhole", KeyType::kEcdsaP256, TlsVersion::kTls13,
                                    Fragmentation::Mode::kWhole},
                      HandshakeCase{"Tls13EcdsaOneByte", KeyType::kEcdsaP256, TlsVersion::kTls13,
                                    Fragmentation::Mode::kOneByte},
                      HandshakeCase{"Tls13EcdsaRandom", KeyType::kEcdsaP256, TlsVersion::kTls13,
                                    Fragmentation::Mode::kRandom},
                      HandshakeCase{"Tls13RsaWhole", KeyType::kRsa2048, TlsVersion::kTls13,
                                    Fragmentation::Mode::kWhole},
                      HandshakeCase{"Tls13RsaOneByte", KeyType::kRsa2048, TlsVersion::kTls13,
                                    Fragmentation::Mode::kOneByte},
                      HandshakeCase{"Tls13RsaRandom", KeyType::kRsa2048, TlsVersion::kTls13,
                                    Fragmentation::Mode::kRandom},
                      HandshakeCase{"Tls12EcdsaWhole", KeyType::kEcdsaP256, TlsVersion::kTls12,
                                    Fragmentation::Mode::kWhole},
                      HandshakeCase{"Tls12EcdsaOneByte", KeyType::kEcdsaP256, TlsVersion::kTls12,
                                    Fragmentation::Mode::kOneByte},
                      HandshakeCase{"Tls12EcdsaRandom", KeyType::kEcdsaP256, TlsVersion::kTls12,
                                    Fragmentation::Mode::kRandom},
                      HandshakeCase{"Tls12RsaWhole", KeyType::kRsa2048, TlsVersion::kTls12,
                                    Fragmentation::Mode::kWhole},
                      HandshakeCase{"Tls12RsaOneByte", KeyType::kRsa2048, TlsVersion::kTls12,
                                    Fragmentation::Mode::kOneByte},
                      HandshakeCase{"Tls12RsaRandom", KeyType::kRsa2048, TlsVersion::kTls12,
                                    Fragmentation::Mode::kRandom}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- Data ---------------------------------------------------------------------------

TEST(Session, Sixteen_MiB_EachWayArriveIntactAndInOrder) {
  auto pair = MakePair(MakeContexts());
  pair->set_fragmentation({.mode = Fragmentation::Mode::kRandom, .seed = 9, .max_fragment = 40000});
  ASSERT_TRUE(pair->Handshake());
  const std::string up = Payload(16 << 20, 1), down = Payload(16 << 20, 2);
  // Interleave: write a slice each way, pump, until all is sent.
  size_t sent_up = 0, sent_down = 0;
  const size_t slice = 100'000;
  while (sent_up < up.size() || sent_down < down.size()) {
    sent_up += pair->Write(Side::kClient, std::string_view(up).substr(sent_up, slice));
    sent_down += pair->Write(Side::kServer, std::string_view(down).substr(sent_down, slice));
    pair->Pump();
  }
  EXPECT_EQ(pair->received(Side::kServer).size(), up.size());
  EXPECT_EQ(Sha256(pair->received(Side::kServer)), Sha256(up));
  EXPECT_EQ(Sha256(pair->received(Side::kClient)), Sha256(down));
}

// Sessions are values: moved mid-handshake (into a container, out again, by assignment), a
// session goes on where it was, and the view PendingOutput() lent stays valid across the move.
TEST(Session, MovesAsAValueMidHandshakeAndKeepsItsBorrowedOutput) {
  static_assert(std::is_nothrow_move_constructible_v<Session>);
  static_assert(std::is_nothrow_move_assignable_v<Session>);
  static_assert(!std::is_copy_constructible_v<Session>);
  Contexts ctx = MakeContexts();
  Result<Session> c =
      Session::Create(ctx.client, {.servername = "localhost", .now = testing::WallNow()});
  Result<Session> s = Session::Create(ctx.server, {.now = testing::WallNow()});
  ASSERT_TRUE(c.ok() && s.ok());
  std::vector<Session> sessions;
  sessions.push_back(std::move(c).value());  // client
  sessions.push_back(std::move(s).value());  // server
  std::span<const uint8_t> hello = sessions[0].PendingOutput();
  ASSERT_FALSE(hello.empty());
  const std::vector<uint8_t> hello_copy(hello.begin(), hello.end());
  sessions.reserve(64);  // the vector reallocates: both sessions move
  Session client = std::move(sessions[0]);
  EXPECT_TRUE(std::equal(hello.begin(), hello.end(), hello_copy.begin(), hello_copy.end()));
  EXPECT_EQ(client.PendingOutput().data(), hello.data());  // the same bytes, not a copy
  Session server = std::move(sessions[1]);
  sessions.clear();  // destroys the moved-from shells only

  // Finish the handshake by hand, moving the server again half-way.
  auto move_bytes = [](Session& from, Session& to) {
    for (std::span<const uint8_t> out; !(out = from.PendingOutput()).empty();) {
      ASSERT_EQ(to.Feed(out), out.size());
      from.ConsumeOutput(out.size());
    }
  };
  move_bytes(client, server);
  Session moved_server = std::move(server);
  server = std::move(moved_server);  // assignment back into the moved-from shell
  move_bytes(server, client);
  move_bytes(client, server);
  ASSERT_TRUE(client.handshake_done());
  ASSERT_TRUE(server.handshake_done());
  EXPECT_TRUE(client.authorized());
  const std::string text = "after two moves";
  ASSERT_EQ(client.Write({reinterpret_cast<const uint8_t*>(text.data()), text.size()}),
            text.size());
  move_bytes(client, server);
  std::string got(server.readable_bytes(), '\0');
  ASSERT_EQ(server.Read({reinterpret_cast<uint8_t*>(got.data()), got.size()}), text.size());
  EXPECT_EQ(got, text);
}

TEST(Session, EventsCarryTheTypedPayloadOfTheirKind) {
  auto pair = MakePair(MakeContexts(KeyType::kEcdsaP256, TlsVersion::kTls13, nullptr,
                                    [](auto& o) { o.key_log = true; }));
  ASSERT_TRUE(pair->Handshake());
  ASSERT_EQ(pair->Write(Side::kClient, "x"), 1u);
  ASSERT_EQ(pair->Write(Side::kServer, "y"), 1u);  // delivers the tickets
  pair->Pump();
  size_t key_log = 0, handshakes = 0, sessions = 0;
  for (const Event& e : pair->events(Side::kClient)) {
    // kind() names the alternative held; no other payload type answers.
    EXPECT_EQ(static_cast<size_t>(e.kind()), e.payload().index());
    if (const auto* line = e.get_if<event::KeyLog>()) {
      ++key_log;
      EXPECT_EQ(e.kind(), EventKind::kKeyLog);
      EXPECT_FALSE(line->line.empty());
      EXPECT_EQ(line->line.find('\n'), std::string::npos);
      EXPECT_EQ(e.get_if<HandshakeInfo>(), nullptr);
      EXPECT_THROW(e.get<Error>(), std::bad_variant_access);
    } else if (const auto* h = e.get_if<HandshakeInfo>()) {
      ++handshakes;
      EXPECT_EQ(h->version, TlsVersion::kTls13);
      EXPECT_EQ(h->protocol(), "TLSv1.3");
      EXPECT_FALSE(h->cipher.empty());
      EXPECT_EQ(h->alpn_protocol, std::nullopt);  // none negotiated: absent, not "none"
      EXPECT_EQ(h->npn_protocol, std::nullopt);
    } else if (const auto* saved = e.get_if<SavedSession>()) {
      ++sessions;
      EXPECT_EQ(saved->protocol(), "TLSv1.3");
    }
  }
  EXPECT_EQ(handshakes, 1u);
  EXPECT_EQ(key_log, 5u);  // TLS 1.3: two handshake, two traffic secrets, the exporter
  EXPECT_GE(sessions, 1u);
  // An event is built from its payload alone.
  Event made = event::SniRequest{"example.com"};
  EXPECT_EQ(made.kind(), EventKind::kSniRequest);
  EXPECT_EQ(made.get<event::SniRequest>().servername, "example.com");
}

TEST(Session, WritesBeforeTheHandshakeAreQueuedAndSentInOrder) {
  auto pair = MakePair(MakeContexts());
  EXPECT_EQ(pair->client().Write({reinterpret_cast<const uint8_t*>("early "), 6}), 6u);
  EXPECT_EQ(pair->client().Write({reinterpret_cast<const uint8_t*>("bytes"), 5}), 5u);
  EXPECT_EQ(pair->client().pending_write_bytes(), 11u);  // held, not yet encrypted
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(pair->client().pending_write_bytes(), 0u);
  EXPECT_EQ(pair->received(Side::kServer), "early bytes");
}

TEST(Session, PlaintextHeldBeforeTheHandshakeCountsAgainstTheWriteBound) {
  Contexts ctx = MakeContexts();
  auto pair = MakePair(ctx, {.servername = "localhost", .max_write_buffer = 4096});
  std::string big = Payload(10000);
  size_t accepted =
      pair->client().Write({reinterpret_cast<const uint8_t*>(big.data()), big.size()});
  EXPECT_EQ(accepted, 4096u - pair->client().pending_output_bytes());  // the ClientHello counts
  EXPECT_EQ(pair->client().pending_write_bytes(), accepted);
  EXPECT_EQ(pair->client().Write({reinterpret_cast<const uint8_t*>(big.data()), 1}), 0u);
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(pair->client().pending_write_bytes(), 0u);
  EXPECT_EQ(pair->received(Side::kServer), big.substr(0, accepted));
}

// ---- Closing ------------------------------------------------------------------------

TEST(Session, ClientCloseIsACleanEndForTheServerAndHalfCloseStillDelivers) {
  auto pair = MakePair(MakeContexts());
  ASSERT_TRUE(pair->Handshake());
  pair->Write(Side::kClient, "last words");
  pair->client().Close();
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "last words");
  EXPECT_TRUE(pair->Find(Side::kServer, EventKind::kPeerClosed))
      << pair->EventSummary(Side::kServer);
  EXPECT_FALSE(pair->Find(Side::kServer, EventKind::kPeerTruncated));
  EXPECT_TRUE(pair->client().close_sent());
  EXPECT_EQ(pair->client().Write({reinterpret_cast<const uint8_t*>("x"), 1}), 0u);

  // Half-close: the server may still answer after the client's close_notify.
  EXPECT_EQ(pair->Write(Side::kServer, "reply after close"), 17u);
  pair->server().Close();
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kClient), "reply after close");
  EXPECT_TRUE(pair->Find(Side::kClient, EventKind::kPeerClosed))
      << pair->EventSummary(Side::kClient);
  EXPECT_TRUE(pair->client().finished());
  EXPECT_TRUE(pair->server().finished());
}

TEST(Session, ServerCloseIsACleanEndForTheClient) {
  auto pair = MakePair(MakeContexts());
  ASSERT_TRUE(pair->Handshake());
  pair->Write(Side::kServer, "bye");
  pair->server().Close();
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kClient), "bye");
  EXPECT_TRUE(pair->Find(Side::kClient, EventKind::kPeerClosed));
  EXPECT_FALSE(pair->client().failed());
}

TEST(Session, CloseBeforeTheHandshakeSendsQueuedDataThenCloseNotify) {
  auto pair = MakePair(MakeContexts());
  pair->client().Write({reinterpret_cast<const uint8_t*>("queued"), 6});
  pair->client().Close();
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(pair->received(Side::kServer), "queued");
  EXPECT_TRUE(pair->Find(Side::kServer, EventKind::kPeerClosed));
}

TEST(Session, EofWithoutCloseNotifyIsReportedAsTruncation) {
  auto pair = MakePair(MakeContexts());
  ASSERT_TRUE(pair->Handshake());
  pair->Write(Side::kClient, "partial");
  pair->Pump();
  pair->InjectEof(Side::kServer);
  EXPECT_EQ(pair->received(Side::kServer), "partial");
  EXPECT_TRUE(pair->Find(Side::kServer, EventKind::kPeerTruncated))
      << pair->EventSummary(Side::kServer);
  EXPECT_FALSE(pair->Find(Side::kServer, EventKind::kPeerClosed));
  EXPECT_FALSE(pair->server().failed());
}

TEST(Session, EofInsideARecordIsTruncationAndKeepsEarlierData) {
  auto pair = MakePair(MakeContexts());
  ASSERT_TRUE(pair->Handshake());
  pair->Write(Side::kClient, "complete");
  pair->Pump();
  uint64_t cut = pair->bytes_sent(Side::kClient) + 10;  // mid-way through the next record
  pair->DropFrom(Side::kClient, cut);
  pair->Write(Side::kClient, "never arrives in full");
  pair->Pump();
  pair->InjectEof(Side::kServer);
  EXPECT_EQ(pair->received(Side::kServer), "complete");
  EXPECT_TRUE(pair->Find(Side::kServer, EventKind::kPeerTruncated))
      << pair->EventSummary(Side::kServer);
}

TEST(Session, EofDuringTheHandshakeIsAnError) {
  auto pair = MakePair(MakeContexts());
  pair->InjectEof(Side::kServer);
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->code, "ECONNRESET");
  const testing::Side s = Side::kServer;
  EXPECT_EQ(pair->EventSummary(s), "Error(ECONNRESET)");
}

TEST(Session, DataAfterCloseNotifyIsIgnored) {
  auto pair = MakePair(MakeContexts());
  ASSERT_TRUE(pair->Handshake());
  pair->client().Close();
  pair->Pump();
  ASSERT_TRUE(pair->server().peer_closed());
  const uint8_t junk[] = {23, 3, 3, 0, 5, 1, 2, 3, 4, 5};
  EXPECT_EQ(pair->server().Feed(junk), sizeof junk);  // taken and discarded
  EXPECT_FALSE(pair->server().failed());
  EXPECT_EQ(pair->server().readable_bytes(), 0u);
}

// ---- Bad input ----------------------------------------------------------------------

TEST(Session, TamperedRecordIsFatalOnBothSidesWithAnAlert) {
  auto pair = MakePair(MakeContexts());
  ASSERT_TRUE(pair->Handshake());
  pair->Write(Side::kClient, "good");
  pair->Pump();
  pair->TamperAt(Side::kClient, pair->bytes_sent(Side::kClient) + 12);  // inside the ciphertext
  pair->Write(Side::kClient, "this record is corrupted");
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "good");
  ASSERT_TRUE(pair->server().failed()) << pair->EventSummary(Side::kServer);
  EXPECT_EQ(pair->server().error()->code, "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC");
  EXPECT_EQ(pair->server().error()->alert, SSL_AD_BAD_RECORD_MAC);
  EXPECT_FALSE(pair->server().error()->alert_from_peer);
  // The alert was flushed to the client, which fails with it too.
  ASSERT_TRUE(pair->client().failed()) << pair->EventSummary(Side::kClient);
  EXPECT_EQ(pair->client().error()->alert, SSL_AD_BAD_RECORD_MAC);
  EXPECT_TRUE(pair->client().error()->alert_from_peer);
  // Errors are sticky.
  EXPECT_EQ(pair->server().Write({reinterpret_cast<const uint8_t*>("x"), 1}), 0u);
  EXPECT_TRUE(pair->server().failed());
}

TEST(Session, TamperedHandshakeFailsWithoutCrashAtEveryOffset) {
  Contexts ctx = MakeContexts();
  // Flip one byte at many offsets of the client's first flight and of the server's answer.
  for (Side from : {Side::kClient, Side::kServer}) {
    for (uint64_t offset = 0; offset < 600; offset += 37) {
      auto pair = MakePair(ctx);
      pair->TamperAt(from, offset, 0x80);
      pair->Pump();
      bool some_failed = pair->client().failed() || pair->server().failed();
      bool both_done = pair->client().handshake_done() && pair->server().handshake_done();
      // Either the flip was caught, or it hit a byte that does not matter (e.g. GREASE or a
      // random). Never a crash, never a silent hang with neither side done.
      EXPECT_TRUE(some_failed || both_done) << testing::SideName(from) << " offset " << offset;
    }
  }
}

TEST(Session, AnHttpRequestToATlsServerIsAFatalError) {
  Contexts ctx = MakeContexts();
  auto server = Session::Create(ctx.server, {.now = testing::WallNow()});
  ASSERT_TRUE(server.ok());
  std::string junk = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  EXPECT_EQ(server->Feed({reinterpret_cast<const uint8_t*>(junk.data()), junk.size()}),
            junk.size());
  ASSERT_TRUE(server->failed());
  EXPECT_EQ(server->error()->code, "ERR_SSL_HTTP_REQUEST");
  int errors = 0;
  while (auto e = server->NextEvent()) errors += e->kind() == EventKind::kError;
  EXPECT_EQ(errors, 1);
}

TEST(Session, OneMebibyteOfStarsIsOneErrorAndAllTaken) {
  Contexts ctx = MakeContexts();
  auto server = Session::Create(ctx.server, {.now = testing::WallNow()});
  ASSERT_TRUE(server.ok());
  std::string stars(1 << 20, '\x2a');
  size_t taken = 0;
  for (size_t i = 0; i < stars.size(); i += 65536)
    taken += server->Feed({reinterpret_cast<const uint8_t*>(stars.data()) + i, 65536});
  EXPECT_EQ(taken, stars.size());
  ASSERT_TRUE(server->failed());
  EXPECT_EQ(server->error()->code, "ERR_SSL_WRONG_VERSION_NUMBER");
  int errors = 0;
  while (auto e = server->NextEvent()) errors += e->kind() == EventKind::kError;
  EXPECT_EQ(errors, 1);
  EXPECT_FALSE(server->handshake_done());
}

// ---- Verification -------------------------------------------------------------------

TEST(Session, WrongCaIsRejectedWithTheX509Code) {
  Contexts good = MakeContexts();
  testing::TestPki other = testing::MakeTestPki(KeyType::kEcdsaP256);
  // A client trusting a different root: same keys are cached, so make a distinct root.
  testing::Cert stranger =
      testing::MakeSelfSigned({.subject = {{"CN", "Stranger Root"}}, .is_ca = true});
  auto client = Context::Create(ClientContextOptions{.ca_pems = {stranger.cert_pem}});
  ASSERT_TRUE(client.ok());
  auto pair = MakePair({client.value(), good.server});
  EXPECT_FALSE(pair->Handshake());
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
  EXPECT_EQ(pair->client().authorization_error(), "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->alert, SSL_AD_UNKNOWN_CA);
  EXPECT_TRUE(pair->server().error()->alert_from_peer);
  EXPECT_EQ(pair->server().error()->code, "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA");
  EXPECT_FALSE(pair->Find(Side::kServer, EventKind::kHandshakeDone));
  (void)other;
}

TEST(Session, WrongCaWithRejectUnauthorizedFalseConnectsUnauthorized) {
  Contexts good = MakeContexts();
  testing::Cert stranger =
      testing::MakeSelfSigned({.subject = {{"CN", "Stranger Root"}}, .is_ca = true});
  auto client = Context::Create(
      ClientContextOptions{.ca_pems = {stranger.cert_pem}, .reject_unauthorized = false});
  ASSERT_TRUE(client.ok());
  auto pair = MakePair({client.value(), good.server});
  ASSERT_TRUE(pair->Handshake());
  const Event* done = pair->Find(Side::kClient, EventKind::kHandshakeDone);
  ASSERT_TRUE(done);
  EXPECT_FALSE(done->get<HandshakeInfo>().authorized);
  EXPECT_EQ(done->get<HandshakeInfo>().authorization_error, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
}

TEST(Session, ClientWithNoCasRejectsTheServer) {
  Contexts good = MakeContexts();
  auto client = Context::Create(ClientContextOptions{});
  ASSERT_TRUE(client.ok());
  auto pair = MakePair({client.value(), good.server});
  EXPECT_FALSE(pair->Handshake());
  EXPECT_EQ(pair->client().error()->code, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
}

// ---- Backpressure -------------------------------------------------------------------

TEST(Session, WriteStopsAtTheBoundWhenOutputIsNotConsumed) {
  Contexts ctx = MakeContexts();
  auto pair = MakePair(ctx, {.servername = "localhost", .max_write_buffer = 32 * 1024});
  ASSERT_TRUE(pair->Handshake());
  std::string big = Payload(1 << 20);
  size_t accepted =
      pair->client().Write({reinterpret_cast<const uint8_t*>(big.data()), big.size()});
  EXPECT_EQ(accepted, 32u * 1024);
  EXPECT_EQ(pair->client().Write({reinterpret_cast<const uint8_t*>(big.data()), big.size()}), 0u);
  EXPECT_LE(pair->client().pending_output_bytes(), 32u * 1024 + 1024);
  pair->Pump();  // the transport drains it: room again
  EXPECT_GT(pair->client().Write({reinterpret_cast<const uint8_t*>(big.data()), big.size()}), 0u);
}

TEST(Session, FeedTakesLessWhenPlaintextIsNotReadAndLosesNothing) {
  Contexts ctx = MakeContexts();
  auto pair = MakePair(ctx, {.servername = "localhost"});
  ASSERT_TRUE(pair->Handshake());
  pair->set_auto_read(false);
  const std::string data = Payload(1 << 20, 3);
  // Ciphertext piles up on the server; it takes only up to its bounds.
  size_t written = 0;
  while (written < data.size()) {
    size_t n = pair->Write(Side::kClient, std::string_view(data).substr(written, 65536));
    if (n == 0) break;
    written += n;
  }
  EXPECT_LT(written, data.size());  // the client is stuck: backpressure reached it
  EXPECT_FALSE(pair->server().wants_input());
  EXPECT_LE(pair->server().readable_bytes(), 64u * 1024 + 16 * 1024);
  // Now read everything, letting the rest flow; nothing lost or reordered.
  std::string got;
  uint8_t buf[8192];
  for (int rounds = 0; got.size() < data.size() && rounds < 100000; ++rounds) {
    while (size_t n = pair->server().Read(buf)) got.append(reinterpret_cast<char*>(buf), n);
    if (written < data.size())
      written += pair->client().Write(
          {reinterpret_cast<const uint8_t*>(data.data()) + written, data.size() - written});
    pair->Pump();
  }
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
}

// ---- Configuration ------------------------------------------------------------------

TEST(Context, ServerWithoutCertificateIsAConfigurationError) {
  auto r = Context::Create(ServerContextOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ERR_TLS_MISSING_CERTIFICATE");
}

TEST(Context, MinAboveMaxIsAConfigurationError) {
  auto r = Context::Create(
      ClientContextOptions{.min_version = TlsVersion::kTls13, .max_version = TlsVersion::kTls12});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ERR_TLS_INVALID_PROTOCOL_VERSION");
}

TEST(Context, UnknownCipherIsAConfigurationError) {
  auto r = Context::Create(ClientContextOptions{.ciphers = "NOT-A-CIPHER"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ERR_TLS_INVALID_CIPHERS");
}

TEST(Context, DefaultTls12SuitesAreEcdheWithAeadOnly) {
  for (Role role : {Role::kServer, Role::kClient}) {
    Contexts ctx = MakeContexts();
    const Context& c = role == Role::kServer ? *ctx.server : *ctx.client;
    STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(c.ssl_ctx());
    ASSERT_NE(list, nullptr);
    std::vector<std::string> names;
    for (size_t i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
      const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(list, i);
      names.push_back(SSL_CIPHER_get_name(cipher));
      if (SSL_CIPHER_get_min_version(cipher) >= TLS1_3_VERSION) continue;
      EXPECT_TRUE(SSL_CIPHER_is_aead(cipher)) << names.back();
      EXPECT_EQ(SSL_CIPHER_get_kx_nid(cipher), NID_kx_ecdhe) << names.back();
    }
    // In server preference order: AES-128-GCM first, ChaCha20 for clients without AES-GCM.
    EXPECT_EQ(names, (std::vector<std::string>{
                         "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
                         "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
                         "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"}));
  }
}

TEST(Context, DefaultServerRefusesATls12ClientOfferingOnlyCbc) {
  auto only_cbc = [](auto& o) { o.ciphers = "ECDHE-ECDSA-AES128-SHA"; };
  Contexts ctx = MakeContexts(
      KeyType::kEcdsaP256, TlsVersion::kTls12, [](auto&) {}, only_cbc);
  auto pair = MakePair(ctx);
  EXPECT_FALSE(pair->Handshake());
  ASSERT_TRUE(pair->server().error().has_value());
  EXPECT_EQ(pair->server().error()->code, "ERR_SSL_NO_SHARED_CIPHER");
}

TEST(Context, AServerWidensTheCipherListOnPurpose) {
  auto widened = [](auto& o) {
    o.ciphers = std::string(kDefaultCiphers) + ":ECDHE-ECDSA-AES128-SHA";
  };
  auto only_cbc = [](auto& o) { o.ciphers = "ECDHE-ECDSA-AES128-SHA"; };
  Contexts ctx = MakeContexts(KeyType::kEcdsaP256, TlsVersion::kTls12, widened, only_cbc);
  auto pair = MakePair(ctx);
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(pair->server().handshake_info().cipher, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA");
}

TEST(Context, TheServersCipherOrderWinsByDefault) {
  auto chacha_first = [](auto& o) {
    o.ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256";
  };
  {
    Contexts ctx = MakeContexts(
        KeyType::kEcdsaP256, TlsVersion::kTls12, [](auto&) {}, chacha_first);
    auto pair = MakePair(ctx);
    ASSERT_TRUE(pair->Handshake());
    EXPECT_EQ(pair->client().handshake_info().cipher, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  }
  {  // honor_cipher_order = false: the client's order (Node's default).
    Contexts ctx = MakeContexts(
        KeyType::kEcdsaP256, TlsVersion::kTls12, [](auto& o) { o.honor_cipher_order = false; },
        chacha_first);
    auto pair = MakePair(ctx);
    ASSERT_TRUE(pair->Handshake());
    EXPECT_EQ(pair->client().handshake_info().cipher,
              "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
  }
}

TEST(Context, KeyThatDoesNotMatchTheCertificateIsRejected) {
  testing::TestPki pki = testing::MakeTestPki();
  auto r = Context::Create(ServerContextOptions{
      .credentials = {.key_pem = pki.client.key_pem, .cert_chain_pem = pki.server_chain_pem()}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ERR_TLS_KEY_MISMATCH");
}

TEST(Context, ContextsOutliveNothingTheyDoNotOwn) {
  // Sessions keep their context alive after the caller drops it.
  std::unique_ptr<Pair> pair;
  {
    Contexts ctx = MakeContexts();
    pair = MakePair(ctx);
  }
  EXPECT_TRUE(pair->Handshake());
}

TEST(Context, AnSslAnApplicationMadeFromTheContextIsNotTakenForASession) {
  // BoringSSL calls the context's hooks (key log, ClientHello observer, SNI selection) for
  // every SSL made from ssl_ctx(); one made by the application, with BIOs of its own, must
  // get their neutral answers rather than be mistaken for a Session.
  testing::TestPki pki = testing::MakeTestPki();
  Credentials creds{.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()};
  auto server = Context::Create(ServerContextOptions{
      .credentials = creds,
      .sni_contexts = {{"*.example.com", creds, {}}},
      .session_tickets = false,  // sealing a ticket needs a Session: a foreign SSL gets none
      .key_log = true});
  auto client = Context::Create(ClientContextOptions{.ca_pems = {pki.root.cert_pem}});
  ASSERT_TRUE(server.ok() && client.ok());
  bssl::UniquePtr<SSL> raw(SSL_new((*server)->ssl_ctx()));
  ASSERT_TRUE(raw);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(raw.get(), in, out);  // owned by |raw|
  SSL_set_accept_state(raw.get());
  auto session = Session::Create(*client, {.servername = "localhost", .now = testing::WallNow()});
  ASSERT_TRUE(session.ok());
  for (int round = 0; round < 16 && !(session->handshake_done() && SSL_is_init_finished(raw.get()));
       ++round) {
    std::span<const uint8_t> c2s = session->PendingOutput();
    ASSERT_EQ(BIO_write(in, c2s.data(), static_cast<int>(c2s.size())),
              static_cast<int>(c2s.size()));
    session->ConsumeOutput(c2s.size());
    int r = SSL_do_handshake(raw.get());
    ASSERT_TRUE(r == 1 || SSL_get_error(raw.get(), r) == SSL_ERROR_WANT_READ)
        << SSL_get_error(raw.get(), r) << " " << ERR_reason_error_string(ERR_peek_error());
    const uint8_t* s2c = nullptr;
    size_t n = 0;
    BIO_mem_contents(out, &s2c, &n);
    EXPECT_EQ(session->Feed({s2c, n}), n);
    ASSERT_EQ(BIO_reset(out), 1);
    while (session->NextEvent()) {
    }
    ASSERT_FALSE(session->failed()) << session->error()->message;
  }
  EXPECT_TRUE(session->handshake_done());
  EXPECT_TRUE(session->authorized());
  EXPECT_EQ(SSL_is_init_finished(raw.get()), 1);
}

}  // namespace
}  // namespace sansio_tls
