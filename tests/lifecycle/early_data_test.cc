// TLS 1.3 early data (0-RTT) over the in-memory pair: accepted, refused by the server (the
// client re-sends it after the handshake), not offered, over the session's limit.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/lifecycle/lifecycle_test_util.h"

namespace sansio_tls {
namespace {

using namespace lifecycle_test;  // NOLINT

constexpr TlsVersion k13 = TlsVersion::kTls13;

// Moves everything |from| has pending into the other side, without draining events.
void Deliver(Pair& pair, Side from) {
  Session& src = pair.session(from);
  Session& dst = pair.session(testing::Other(from));
  while (!src.PendingOutput().empty()) {
    size_t n = dst.Feed(src.PendingOutput());
    if (n == 0) break;
    src.ConsumeOutput(n);
  }
}

size_t IndexOf(const Pair& pair, Side side, EventKind kind) {
  const auto& events = pair.events(side);
  for (size_t i = 0; i < events.size(); ++i)
    if (events[i].kind() == kind) return i;
  return events.size();
}

SavedSession SessionFrom(const std::shared_ptr<const Context>& client,
                         const std::shared_ptr<const Context>& server) {
  auto pair = Connect(client, server, Now());
  std::vector<SavedSession> saved = NewSessions(*pair, Side::kClient);
  EXPECT_FALSE(saved.empty()) << Summary(*pair);
  return saved.back();
}

auto EarlyOn = [](auto& o) { o.early_data = true; };

TEST(EarlyData, IsAcceptedAndReachesTheServerBeforeTheHandshakeCompletes) {
  auto server = Server(k13, EarlyOn);
  auto client = Client(k13, EarlyOn);
  SavedSession saved = SessionFrom(client, server);
  ASSERT_TRUE(saved.early_data_capable());

  auto pair = MakePair(client, server, At(Now() + 1, saved));
  const std::string request = "GET /idempotent";
  ASSERT_EQ(pair->client().Write(Bytes(request)), request.size());
  EXPECT_EQ(pair->client().early_data_bytes(), request.size());

  // The first flight alone (ClientHello + early data) already gives the server the data.
  Deliver(*pair, Side::kClient);
  EXPECT_FALSE(pair->server().handshake_done());
  EXPECT_EQ(pair->server().readable_bytes(), request.size());
  EXPECT_EQ(pair->server().early_data_bytes(), request.size());

  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(pair->received(Side::kServer), request);
  EXPECT_LT(IndexOf(*pair, Side::kServer, EventKind::kEarlyData),
            IndexOf(*pair, Side::kServer, EventKind::kHandshakeDone))
      << Summary(*pair);
  EXPECT_EQ(pair->client().handshake_info().early_data, EarlyData::kAccepted);
  EXPECT_EQ(pair->server().handshake_info().early_data, EarlyData::kAccepted);
  EXPECT_TRUE(pair->client().handshake_info().session_reused);
  EXPECT_TRUE(pair->client().authorized());

  // 1-RTT traffic continues normally both ways.
  pair->Write(Side::kServer, "response");
  pair->Write(Side::kClient, " and more");
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kClient), "response");
  EXPECT_EQ(pair->received(Side::kServer), request + " and more");
}

TEST(EarlyData, RefusedByTheServerIsSentAgainAfterTheHandshakeExactlyOnce) {
  auto server = Server(k13, EarlyOn);
  auto client = Client(k13, EarlyOn);
  SavedSession saved = SessionFrom(client, server);
  ASSERT_TRUE(saved.early_data_capable());

  SessionOptions server_options;
  server_options.early_data = false;  // this connection refuses 0-RTT
  auto pair = MakePair(client, server, At(Now() + 1, saved), server_options);
  const std::string request = "POST /not-on-this-server";
  ASSERT_EQ(pair->client().Write(Bytes(request)), request.size());
  EXPECT_EQ(pair->client().early_data_bytes(), request.size());
  Deliver(*pair, Side::kClient);
  EXPECT_EQ(pair->server().readable_bytes(), 0u);  // dropped, not delivered early

  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), request);  // once, as 1-RTT data
  EXPECT_EQ(pair->client().handshake_info().early_data, EarlyData::kRejected);
  EXPECT_EQ(pair->server().handshake_info().early_data, EarlyData::kRejected);
  EXPECT_EQ(pair->server().early_data_bytes(), 0u);
  EXPECT_EQ(Count(*pair, Side::kServer, EventKind::kEarlyData), 0u);
  EXPECT_TRUE(pair->server().handshake_info().session_reused);  // resumed, 1-RTT
}

TEST(EarlyData, RefusedWithTheWholeSessionStillDeliversTheData) {
  auto keys = TicketKeys::Create(/*window=*/0);
  auto server = Server(k13, [&](auto& o) {
    o.early_data = true;
    o.ticket_keys = keys;
  });
  auto client = Client(k13, EarlyOn);
  SavedSession saved = SessionFrom(client, server);
  keys->Rotate();  // the ticket can no longer be opened: full handshake
  auto pair = MakePair(client, server, At(Now() + 1, saved));
  const std::string request = Payload(3000, 5);
  ASSERT_EQ(pair->client().Write(Bytes(request)), request.size());
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  pair->Pump();
  EXPECT_FALSE(pair->server().handshake_info().session_reused);
  EXPECT_EQ(pair->client().handshake_info().early_data, EarlyData::kRejected);
  EXPECT_TRUE(pair->client().authorized());  // verified afresh
  EXPECT_TRUE(pair->received(Side::kServer) == request);
}

TEST(EarlyData, IsNotOfferedWhenTheSessionDoesNotAllowIt) {
  auto server = Server(k13);  // early_data off: its tickets forbid 0-RTT
  auto client = Client(k13, EarlyOn);
  SavedSession saved = SessionFrom(client, server);
  EXPECT_FALSE(saved.early_data_capable());
  auto pair = MakePair(client, server, At(Now() + 1, saved));
  pair->client().Write(Bytes("hello"));
  EXPECT_EQ(pair->client().early_data_bytes(), 0u);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(pair->received(Side::kServer), "hello");
  EXPECT_EQ(pair->client().handshake_info().early_data, EarlyData::kNotOffered);
  EXPECT_EQ(pair->server().handshake_info().early_data, EarlyData::kNotOffered);
  EXPECT_TRUE(pair->client().handshake_info().session_reused);
}

TEST(EarlyData, IsOffByDefaultOnTheClient) {
  auto server = Server(k13, EarlyOn);
  auto client = Client(k13);  // default: no 0-RTT
  SavedSession saved = SessionFrom(client, server);
  auto pair = MakePair(client, server, At(Now() + 1, saved));
  pair->client().Write(Bytes("hello"));
  EXPECT_EQ(pair->client().early_data_bytes(), 0u);
  Deliver(*pair, Side::kClient);
  EXPECT_EQ(pair->server().readable_bytes(), 0u);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(pair->received(Side::kServer), "hello");
  EXPECT_EQ(pair->client().handshake_info().early_data, EarlyData::kNotOffered);
  EXPECT_EQ(pair->server().handshake_info().early_data, EarlyData::kNotOffered);
}

TEST(EarlyData, APerConnectionOverrideEnablesItOnTheClient) {
  auto server = Server(k13, EarlyOn);
  auto client = Client(k13);
  SavedSession saved = SessionFrom(client, server);
  SessionOptions o = At(Now() + 1, saved);
  o.early_data = true;
  auto pair = MakePair(client, server, o);
  pair->client().Write(Bytes("early"));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(pair->client().handshake_info().early_data, EarlyData::kAccepted);
  EXPECT_EQ(pair->received(Side::kServer), "early");
}

TEST(EarlyData, DataBeyondTheSessionLimitWaitsForTheHandshakeAndArrivesIntact) {
  auto server = Server(k13, EarlyOn);
  auto client = Client(k13, EarlyOn);
  SavedSession saved = SessionFrom(client, server);
  auto pair = MakePair(client, server, At(Now() + 1, saved));
  pair->set_fragmentation(
      {.mode = testing::Fragmentation::Mode::kRandom, .seed = 3, .max_fragment = 900});
  const std::string data = Payload(40000, 11);
  size_t accepted = 0;
  while (accepted < data.size()) {
    size_t n = pair->client().Write(Bytes(std::string_view(data).substr(accepted)));
    ASSERT_GT(n, 0u);
    accepted += n;
  }
  uint64_t early = pair->client().early_data_bytes();
  EXPECT_GT(early, 0u);
  EXPECT_LT(early, data.size());
  EXPECT_LE(early, 14336u);  // BoringSSL's server allows 14 KiB of early data
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  pair->Pump();
  EXPECT_EQ(pair->server().early_data_bytes(), early);
  EXPECT_EQ(pair->received(Side::kServer).size(), data.size());
  EXPECT_EQ(Sha256(pair->received(Side::kServer)), Sha256(data));
  EXPECT_EQ(pair->client().handshake_info().early_data, EarlyData::kAccepted);
}

TEST(EarlyData, TheServerSeesTheEarlyPartAsItsFirstBytes) {
  auto server = Server(k13, EarlyOn);
  auto client = Client(k13, EarlyOn);
  SavedSession saved = SessionFrom(client, server);
  auto pair = MakePair(client, server, At(Now() + 1, saved));
  pair->client().Write(Bytes("early|"));
  Deliver(*pair, Side::kClient);  // early data in, before the server's flight went out
  Deliver(*pair, Side::kServer);  // server flight; the client finishes and sends Finished
  pair->client().Write(Bytes("late"));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  pair->Pump();
  const std::string got = pair->received(Side::kServer);
  EXPECT_EQ(got, "early|late");
  EXPECT_EQ(got.substr(0, pair->server().early_data_bytes()), "early|");
}

TEST(EarlyData, Tls12NeverUsesIt) {
  auto server = Server(TlsVersion::kTls12, EarlyOn);
  auto client = Client(TlsVersion::kTls12, EarlyOn);
  SavedSession saved = SessionFrom(client, server);
  EXPECT_FALSE(saved.early_data_capable());
  auto pair = MakePair(client, server, At(Now() + 1, saved));
  pair->client().Write(Bytes("x"));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(pair->received(Side::kServer), "x");
  EXPECT_EQ(pair->client().handshake_info().early_data, EarlyData::kNotOffered);
  EXPECT_EQ(pair->client().early_data_bytes(), 0u);
}

}  // namespace
}  // namespace sansio_tls
