// ServerContextOptions::early_data_check over the in-memory pair: a ClientHello offering 0-RTT
// pauses with kEarlyDataCheck (the ticket identity, the window) until AnswerEarlyData();
// accepted, the early data is delivered; refused, it is rejected and the handshake goes on
// as 1-RTT; the same first flight replayed to a second server is caught by a shared record
// of identities (what store/redis does across processes) and its early data never read.
#include <gtest/gtest.h>

#include <set>

#include "tests/lifecycle/lifecycle_test_util.h"

namespace sansio_tls {
namespace {

using namespace lifecycle_test;  // NOLINT

constexpr TlsVersion k13 = TlsVersion::kTls13;

std::shared_ptr<TicketKeys> FleetKeys() {
  static std::shared_ptr<TicketKeys> keys = TicketKeys::Create();
  return keys;
}

// A server of the fleet: shared ticket keys, 0-RTT with the check.
std::shared_ptr<const Context> CheckingServer() {
  return Server(k13, [](auto& o) {
    o.early_data = true;
    o.early_data_check = true;
    o.ticket_keys = FleetKeys();
  });
}

std::shared_ptr<const Context> EarlyClient() {
  return Client(k13, [](auto& o) { o.early_data = true; });
}

// A 0-RTT-capable ticket from a server of the fleet (the first handshake offers no early
// data: no check).
SavedSession Ticket(const std::shared_ptr<const Context>& client) {
  auto pair = Connect(client, CheckingServer(), Now());
  EXPECT_EQ(Count(*pair, Side::kServer, EventKind::kEarlyDataCheck), 0u);
  std::vector<SavedSession> saved = NewSessions(*pair, Side::kClient);
  EXPECT_FALSE(saved.empty());
  EXPECT_TRUE(saved.back().early_data_capable());
  return saved.back();
}

void Deliver(Pair& pair, Side from) {
  Session& src = pair.session(from);
  Session& dst = pair.session(testing::Other(from));
  while (!src.PendingOutput().empty()) {
    size_t n = dst.Feed(src.PendingOutput());
    if (n == 0) break;
    src.ConsumeOutput(n);
  }
}

// Pops |session|'s events until a kEarlyDataCheck (returned) or none are left.
std::optional<Event> TakeCheck(Session& session) {
  while (auto e = session.NextEvent()) {
    if (e->kind() == EventKind::kEarlyDataCheck) return e;
  }
  return std::nullopt;
}

TEST(EarlyDataCheck, AnAcceptedCheckDeliversTheEarlyData) {
  auto client = EarlyClient();
  SavedSession ticket = Ticket(client);
  auto pair = MakePair(client, CheckingServer(), At(Now() + 1, ticket));
  const std::string request = "GET /idempotent";
  ASSERT_EQ(pair->client().Write(Bytes(request)), request.size());
  Deliver(*pair, Side::kClient);

  std::optional<Event> check = TakeCheck(pair->server());
  ASSERT_TRUE(check.has_value());
  EXPECT_FALSE(check->get<event::EarlyDataCheck>().identity.empty());
  EXPECT_EQ(check->get<event::EarlyDataCheck>().window, std::chrono::seconds(300));
  EXPECT_TRUE(pair->server().early_data_check_pending());
  EXPECT_TRUE(pair->server().pause_pending());
  EXPECT_EQ(pair->server().readable_bytes(), 0u);  // nothing read while it waits
  EXPECT_TRUE(pair->server().PendingOutput().empty());

  EXPECT_FALSE(pair->server().AnswerEarlyData(true).has_value());
  EXPECT_FALSE(pair->server().early_data_check_pending());
  EXPECT_EQ(pair->server().readable_bytes(), request.size());  // early, before the handshake
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(pair->received(Side::kServer), request);
  EXPECT_EQ(pair->server().handshake_info().early_data, EarlyData::kAccepted);
  EXPECT_EQ(pair->client().handshake_info().early_data, EarlyData::kAccepted);
}

TEST(EarlyDataCheck, ARefusedCheckRejectsTheEarlyDataAndTheHandshakeGoesOnAsOneRtt) {
  auto client = EarlyClient();
  SavedSession ticket = Ticket(client);
  auto pair = MakePair(client, CheckingServer(), At(Now() + 1, ticket));
  const std::string request = "POST /seen-before";
  ASSERT_EQ(pair->client().Write(Bytes(request)), request.size());
  Deliver(*pair, Side::kClient);
  ASSERT_TRUE(TakeCheck(pair->server()).has_value());
  EXPECT_FALSE(pair->server().AnswerEarlyData(false).has_value());
  EXPECT_EQ(pair->server().readable_bytes(), 0u);

  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), request);  // once, as 1-RTT data
  EXPECT_EQ(pair->server().handshake_info().early_data, EarlyData::kRejected);
  EXPECT_EQ(pair->server().handshake_info().early_data_reason, "disabled");
  EXPECT_EQ(pair->client().handshake_info().early_data, EarlyData::kRejected);
  EXPECT_EQ(pair->server().early_data_bytes(), 0u);
  EXPECT_EQ(Count(*pair, Side::kServer, EventKind::kEarlyData), 0u);
  EXPECT_TRUE(pair->server().handshake_info().session_reused);
}

TEST(EarlyDataCheck, AFirstFlightReplayedToASecondServerIsCaughtByTheSharedRecord) {
  std::set<std::vector<uint8_t>> seen;  // the fleet's record (Redis SET NX in store/redis)
  auto answer = [&seen](Session& server) {
    std::optional<Event> check = TakeCheck(server);
    EXPECT_TRUE(check.has_value());
    bool fresh = check && seen.insert(check->get<event::EarlyDataCheck>().identity).second;
    EXPECT_FALSE(server.AnswerEarlyData(fresh).has_value());
    return fresh;
  };
  auto client_ctx = EarlyClient();
  SavedSession ticket = Ticket(client_ctx);
  auto client = Session::Create(client_ctx, At(Now() + 1, ticket));
  ASSERT_TRUE(client.ok());
  const std::string request = "POST /transfer?amount=100";
  ASSERT_EQ(client->Write(Bytes(request)), request.size());
  std::string first_flight;
  while (!client->PendingOutput().empty()) {
    auto out = client->PendingOutput();
    first_flight.append(reinterpret_cast<const char*>(out.data()), out.size());
    client->ConsumeOutput(out.size());
  }

  // The genuine connection, on server A: fresh, accepted.
  SessionOptions server_options;
  server_options.verify_time = Now() + 1;
  auto a = Session::Create(CheckingServer(), server_options);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->Feed(Bytes(first_flight)), first_flight.size());
  EXPECT_TRUE(answer(*a));
  EXPECT_EQ(a->readable_bytes(), request.size());
  Pair genuine(std::move(*client), std::move(*a));
  ASSERT_TRUE(genuine.Handshake()) << Summary(genuine);
  EXPECT_EQ(genuine.received(Side::kServer), request);
  EXPECT_EQ(genuine.server().handshake_info().early_data, EarlyData::kAccepted);

  // An attacker replays the same bytes to server B (another process, the same keys).
  auto b = Session::Create(CheckingServer(), server_options);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->Feed(Bytes(first_flight)), first_flight.size());
  EXPECT_FALSE(answer(*b));
  EXPECT_FALSE(b->failed());
  EXPECT_EQ(b->readable_bytes(), 0u);  // the early data was never read
  EXPECT_EQ(b->early_data_bytes(), 0u);
  EXPECT_FALSE(b->PendingOutput().empty());  // it goes on as 1-RTT (the attacker cannot)
  while (auto e = b->NextEvent()) EXPECT_NE(e->kind(), EventKind::kEarlyData);
}

TEST(EarlyDataCheck, HandshakesWithoutEarlyDataNeverPause) {
  auto client = Client(k13);  // does not send early data
  SavedSession ticket = Ticket(EarlyClient());
  auto full = Connect(client, CheckingServer(), Now());
  ASSERT_TRUE(full);
  EXPECT_EQ(Count(*full, Side::kServer, EventKind::kEarlyDataCheck), 0u);
  // A resumption whose client does not do 0-RTT. (A 0-RTT client offers early data on
  // every capable ticket, even with nothing to send yet: that ClientHello is checked.)
  auto pair = MakePair(client, CheckingServer(), At(Now() + 1, ticket));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_TRUE(pair->server().handshake_info().session_reused);
  EXPECT_EQ(Count(*pair, Side::kServer, EventKind::kEarlyDataCheck), 0u);
}

TEST(EarlyDataCheck, AnAnswerWithNothingPendingIsAnError) {
  auto pair = Connect(EarlyClient(), CheckingServer(), Now());
  ASSERT_TRUE(pair);
  std::optional<Error> e = pair->server().AnswerEarlyData(true);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "ERR_TLS_EARLY_DATA_CHECK_NOT_PENDING");
  EXPECT_FALSE(pair->server().failed());
}

TEST(EarlyDataCheck, AnUnansweredCheckEndsAtTheHandshakeTimeout) {
  auto client = EarlyClient();
  SavedSession ticket = Ticket(client);
  SessionOptions server_options;
  server_options.handshake_timeout = std::chrono::milliseconds(1000);
  auto pair = MakePair(client, CheckingServer(), At(Now() + 1, ticket), server_options);
  pair->client().Write(Bytes("x"));
  Deliver(*pair, Side::kClient);
  ASSERT_TRUE(TakeCheck(pair->server()).has_value());
  Timestamp now = *pair->server().now();
  pair->server().OnTimer(now + std::chrono::milliseconds(1001));
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->code, "ERR_TLS_PAUSE_UNANSWERED");
}

}  // namespace
}  // namespace sansio_tls
