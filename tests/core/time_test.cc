// Time is an input: deadlines (handshake bound, close grace) and ticket ages follow the time
// the in-memory pair gives its sessions. Nothing here sleeps.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Pair;
using testing::Side;

struct Contexts {
  std::shared_ptr<const Context> client, server;
};

Contexts MakeContexts(bool sni_callback = false) {
  testing::TestPki pki = testing::MakeTestPki(testing::KeyType::kEcdsaP256);
  ServerContextOptions server{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()}};
  server.sni_callback = sni_callback;
  ClientContextOptions client{.ca_pems = {pki.root.cert_pem}};
  auto s = Context::Create(server);
  auto c = Context::Create(client);
  EXPECT_TRUE(s.ok() && c.ok());
  return {c.value(), s.value()};
}

std::unique_ptr<Pair> MakePair(const Contexts& ctx, SessionOptions client,
                               SessionOptions server = {}) {
  if (client.servername.empty()) client.servername = "localhost";
  auto pair = Pair::Create(ctx.client, ctx.server, std::move(client), std::move(server));
  EXPECT_TRUE(pair.ok());
  return std::move(pair).value();
}

TEST(SessionTime, HandshakeTimeoutFiresWhenTimeReachesTheDeadline) {
  Contexts ctx = MakeContexts();
  auto pair = MakePair(ctx, {.handshake_timeout = milliseconds(5000)});
  pair->DropFrom(Side::kClient, 0);  // the server never hears the ClientHello
  pair->Pump();
  ASSERT_EQ(pair->client().next_deadline(), pair->now() + milliseconds(5000));
  pair->AdvanceTime(milliseconds(4999));
  EXPECT_FALSE(pair->client().failed());
  pair->AdvanceTime(milliseconds(1));
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, errc::kHandshakeTimeout);
  ASSERT_NE(pair->Find(Side::kClient, EventKind::kError), nullptr);
  EXPECT_EQ(pair->Find(Side::kClient, EventKind::kError)->get<Error>().code,
            errc::kHandshakeTimeout);
  EXPECT_EQ(pair->client().next_deadline(), std::nullopt);
  EXPECT_FALSE(pair->server().failed());  // no bound on the server side
}

TEST(SessionTime, ACompletedHandshakeHasNoDeadline) {
  Contexts ctx = MakeContexts();
  auto pair = MakePair(ctx, {.handshake_timeout = milliseconds(1000)},
                       {.handshake_timeout = milliseconds(1000)});
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(pair->client().next_deadline(), std::nullopt);
  EXPECT_EQ(pair->server().next_deadline(), std::nullopt);
  pair->AdvanceTime(seconds(10));
  EXPECT_FALSE(pair->client().failed());
  EXPECT_FALSE(pair->server().failed());
}

TEST(SessionTime, AnUnansweredPauseEndsAtTheHandshakeDeadlineWithItsOwnCode) {
  Contexts ctx = MakeContexts(/*sni_callback=*/true);
  auto pair =
      MakePair(ctx, {.servername = "unknown.example"}, {.handshake_timeout = milliseconds(2000)});
  pair->Pump();
  ASSERT_TRUE(pair->server().sni_pending());
  pair->AdvanceTime(milliseconds(1999));
  EXPECT_FALSE(pair->server().failed());
  pair->AdvanceTime(milliseconds(1));
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->code, errc::kPauseUnanswered);
}

TEST(SessionTime, CloseGraceEndsAPeerThatNeverClosesAsATruncation) {
  Contexts ctx = MakeContexts();
  auto pair = MakePair(ctx, {.close_timeout = milliseconds(3000)});
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(pair->client().next_deadline(), std::nullopt);
  pair->client().Close();
  pair->Pump();  // the server gets close_notify and never answers with its own
  ASSERT_EQ(pair->client().next_deadline(), pair->now() + milliseconds(3000));
  pair->AdvanceTime(milliseconds(2999));
  EXPECT_FALSE(pair->client().peer_closed());
  pair->AdvanceTime(milliseconds(1));
  EXPECT_TRUE(pair->client().peer_truncated());
  EXPECT_NE(pair->Find(Side::kClient, EventKind::kPeerTruncated), nullptr);
  EXPECT_EQ(pair->client().next_deadline(), std::nullopt);
}

TEST(SessionTime, APeerThatClosesInTimeIsACleanEnd) {
  Contexts ctx = MakeContexts();
  auto pair = MakePair(ctx, {.close_timeout = milliseconds(3000)});
  ASSERT_TRUE(pair->Handshake());
  pair->client().Close();
  pair->Pump();
  pair->AdvanceTime(milliseconds(1000));
  pair->server().Close();
  pair->Pump();
  EXPECT_TRUE(pair->client().peer_closed());
  EXPECT_FALSE(pair->client().peer_truncated());
  EXPECT_EQ(pair->client().next_deadline(), std::nullopt);
}

// The default session lifetime is 300 s (*ContextOptions::session_timeout).
std::optional<SavedSession> TicketFrom(const Contexts& ctx) {
  auto pair = MakePair(ctx, {});
  EXPECT_TRUE(pair->Handshake());
  pair->Pump();
  return pair->client().saved_session();
}

TEST(SessionTime, ATicketResumesBeforeItsLifetimeEnds) {
  Contexts ctx = MakeContexts();
  std::optional<SavedSession> ticket = TicketFrom(ctx);
  ASSERT_TRUE(ticket.has_value());
  SessionOptions client{.session = ticket};
  client.now = Timestamp(seconds(ticket->time() + 299));
  auto pair = MakePair(ctx, client, {.now = client.now});
  ASSERT_TRUE(pair->Handshake());
  EXPECT_TRUE(pair->client().handshake_info().session_reused);
}

TEST(SessionTime, ATicketIsNotResumedOnceItsLifetimeEnded) {
  Contexts ctx = MakeContexts();
  std::optional<SavedSession> ticket = TicketFrom(ctx);
  ASSERT_TRUE(ticket.has_value());
  SessionOptions client{.session = ticket};
  client.now = Timestamp(seconds(ticket->time() + 301));
  auto pair = MakePair(ctx, client, {.now = client.now});
  ASSERT_TRUE(pair->Handshake());
  EXPECT_FALSE(pair->client().handshake_info().session_reused);
}

TEST(SessionTime, TheServerRefusesATicketThatAgedWhileTheClientStillOfferedIt) {
  Contexts ctx = MakeContexts();
  std::optional<SavedSession> ticket = TicketFrom(ctx);
  ASSERT_TRUE(ticket.has_value());
  SessionOptions client{.session = ticket};
  client.now = Timestamp(seconds(ticket->time() + 10));  // fresh to the client
  SessionOptions server;
  server.now = Timestamp(seconds(ticket->time() + 400));  // expired to the server
  auto pair = MakePair(ctx, client, server);
  ASSERT_TRUE(pair->Handshake());
  EXPECT_FALSE(pair->server().handshake_info().session_reused);
}

TEST(SessionTime, ASessionGivenNoTimeJudgesCertificatesAtTheEpoch) {
  Contexts ctx = MakeContexts();
  auto client = Session::Create(ctx.client, {.servername = "localhost"});
  auto server = Session::Create(ctx.server, {});
  ASSERT_TRUE(client.ok() && server.ok());
  Pair pair(std::move(client).value(), std::move(server).value());  // set_now after hello
  pair.client().set_now(Timestamp{0});                              // ignored: time never goes back
  EXPECT_NE(pair.client().now(), Timestamp{0});
  ASSERT_TRUE(pair.Handshake());  // the pair gave both sessions the wall clock
}

TEST(SessionInput, CapacityIsWhatFeedTakesWhateverItHolds) {
  Contexts ctx = MakeContexts();
  auto pair = MakePair(ctx, {});
  ASSERT_TRUE(pair->Handshake());
  pair->set_auto_read(false);
  std::string big(1 << 20, 'x');
  pair->Write(Side::kServer, std::string(big.size() / 8, 'y'));
  Session& server = pair->server();
  Session& client = pair->client();
  // Carry the server's output by hand, never more than the client's capacity at a time.
  size_t fed = 0;
  while (!server.PendingOutput().empty() && client.input_capacity() > 0) {
    std::span<const uint8_t> out = server.PendingOutput();
    size_t n = std::min(out.size(), client.input_capacity());
    EXPECT_EQ(client.Feed(out.first(n)), n);
    server.ConsumeOutput(n);
    fed += n;
  }
  EXPECT_GT(fed, 0u);
  EXPECT_EQ(client.input_capacity(), 0u);  // full: the plaintext was not read
  EXPECT_FALSE(client.wants_input());
}

}  // namespace
}  // namespace sansio_tls
