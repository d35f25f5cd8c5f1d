// TLS 1.3 key updates over the in-memory pair: on request, on byte and record budgets, under
// load with checksummed data, and the peer's updates answered without any write.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <random>

#include "tests/lifecycle/lifecycle_test_util.h"

namespace sansio_tls {
namespace {

using namespace lifecycle_test;  // NOLINT

constexpr TlsVersion k13 = TlsVersion::kTls13;

uint64_t WriteSeq(Session& s) { return SSL_get_write_sequence(s.ssl()); }
uint64_t ReadSeq(Session& s) { return SSL_get_read_sequence(s.ssl()); }

// |tweak| (a generic lambda) edits both sides' options.
struct NoTweak {
  void operator()(auto&) const {}
};
template <class BothTweak = NoTweak>
std::unique_ptr<Pair> Established(BothTweak tweak = {}, TlsVersion v = k13) {
  auto pair = MakePair(Client(v, tweak), Server(v, tweak), At(Now()));
  EXPECT_TRUE(pair->Handshake()) << Summary(*pair);
  pair->Pump();
  return pair;
}

TEST(KeyUpdate, ARequestedUpdateRenewsBothDirectionsAndTrafficContinues) {
  auto pair = Established();
  for (int i = 0; i < 3; ++i) {
    pair->Write(Side::kClient, "ping");
    pair->Write(Side::kServer, "pong");
  }
  pair->Pump();
  ASSERT_GE(WriteSeq(pair->client()), 3u);
  ASSERT_GE(WriteSeq(pair->server()), 3u);

  ASSERT_FALSE(pair->client().KeyUpdate(/*request_peer=*/true).has_value());
  EXPECT_EQ(pair->client().key_updates_sent(), 1u);
  EXPECT_EQ(WriteSeq(pair->client()), 0u);  // a new key starts at record 0
  pair->Pump();
  // The server took the new key and, although it wrote nothing, answered with its own.
  EXPECT_EQ(ReadSeq(pair->server()), 0u);
  EXPECT_EQ(WriteSeq(pair->server()), 0u);
  EXPECT_EQ(ReadSeq(pair->client()), 0u);
  EXPECT_EQ(pair->server().key_updates_sent(), 0u);  // BoringSSL's reply is not ours

  pair->TakeReceived(Side::kServer);
  pair->TakeReceived(Side::kClient);
  pair->Write(Side::kClient, "after update");
  pair->Write(Side::kServer, "reply");
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "after update");
  EXPECT_EQ(pair->received(Side::kClient), "reply");
  EXPECT_FALSE(pair->client().failed());
  EXPECT_FALSE(pair->server().failed());
}

TEST(KeyUpdate, AnUnrequestedUpdateLeavesThePeersSendingKey) {
  auto pair = Established();
  pair->Write(Side::kServer, "x");
  pair->Pump();
  uint64_t server_seq = WriteSeq(pair->server());
  ASSERT_GT(server_seq, 0u);
  ASSERT_FALSE(pair->client().KeyUpdate(/*request_peer=*/false).has_value());
  pair->Pump();
  EXPECT_EQ(ReadSeq(pair->server()), 0u);
  EXPECT_EQ(WriteSeq(pair->server()), server_seq);
}

TEST(KeyUpdate, IsRefusedWithoutAnEstablishedTls13Connection) {
  auto tls12 = Established({}, TlsVersion::kTls12);
  auto e = tls12->client().KeyUpdate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "ERR_TLS_KEY_UPDATE");

  auto fresh = MakePair(Client(k13), Server(k13), At(Now()));
  e = fresh->client().KeyUpdate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "ERR_TLS_KEY_UPDATE");

  auto closing = Established();
  closing->client().Close();
  e = closing->client().KeyUpdate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "ERR_TLS_KEY_UPDATE");
}

TEST(KeyUpdate, TheRecordBudgetCountsFullRecords) {
  auto pair = Established([](auto& o) { o.key_update_after_records = 10; });
  const std::string record(SSL3_RT_MAX_PLAIN_LENGTH, 'r');
  for (int i = 0; i < 25; ++i) {
    pair->Write(Side::kClient, record);
    pair->Pump();
  }
  EXPECT_EQ(pair->client().key_updates_sent(), 2u);
  EXPECT_EQ(WriteSeq(pair->client()), 5u);  // 25 records, updates after 10 and 20
  EXPECT_EQ(pair->received(Side::kServer).size(), 25u * record.size());
}

TEST(KeyUpdate, UnderLoadWithBudgetsAndRequestsDataArrivesIntact) {
  const uint64_t budget = 256 * 1024;
  auto pair = Established([&](auto& o) { o.key_update_after_bytes = budget; });
  pair->set_fragmentation(
      {.mode = testing::Fragmentation::Mode::kRandom, .seed = 77, .max_fragment = 20000});
  const std::string up = Payload(8 << 20, 21), down = Payload(8 << 20, 22);
  std::mt19937 rng(5);
  size_t sent_up = 0, sent_down = 0;
  uint64_t most_records_under_one_key = 0;
  while (sent_up < up.size() || sent_down < down.size()) {
    size_t slice = 1000 + rng() % 90000;
    sent_up += pair->Write(Side::kClient, std::string_view(up).substr(sent_up, slice));
    sent_down += pair->Write(Side::kServer, std::string_view(down).substr(sent_down, slice));
    if (rng() % 7 == 0) {  // explicit updates in between, from either side
      Side who = rng() % 2 ? Side::kClient : Side::kServer;
      ASSERT_FALSE(pair->session(who).KeyUpdate(rng() % 2).has_value());
    }
    pair->Pump();
    for (Side s : {Side::kClient, Side::kServer})
      most_records_under_one_key = std::max(most_records_under_one_key, WriteSeq(pair->session(s)));
  }
  pair->Pump();
  ASSERT_FALSE(pair->client().failed()) << Summary(*pair);
  ASSERT_FALSE(pair->server().failed()) << Summary(*pair);
  EXPECT_EQ(pair->received(Side::kServer).size(), up.size());
  EXPECT_EQ(Sha256(pair->received(Side::kServer)), Sha256(up));
  EXPECT_EQ(Sha256(pair->received(Side::kClient)), Sha256(down));
  // No key carried more than the budget plus one write (a write is at most 6 full
  // records, plus a few short ones where a write met a full buffer). Without updates a key
  // would carry all 512+ records.
  EXPECT_LE(most_records_under_one_key, budget / SSL3_RT_MAX_PLAIN_LENGTH + 6 + 8);
  EXPECT_GE(pair->client().key_updates_sent(), up.size() / (budget + 91000));
  EXPECT_GE(pair->server().key_updates_sent(), down.size() / (budget + 91000));
}

TEST(KeyUpdate, BudgetsDoNothingOnTls12) {
  auto pair = Established([](auto& o) { o.key_update_after_records = 2; }, TlsVersion::kTls12);
  for (int i = 0; i < 5; ++i)
    pair->Write(Side::kClient, std::string(SSL3_RT_MAX_PLAIN_LENGTH, 'x'));
  pair->Pump();
  EXPECT_EQ(pair->client().key_updates_sent(), 0u);
  EXPECT_EQ(pair->received(Side::kServer).size(), 5u * SSL3_RT_MAX_PLAIN_LENGTH);
}

TEST(KeyUpdate, TheDefaultBudgetIsTheAesGcmRecordLimit) {
  ServerContextOptions s;
  EXPECT_EQ(s.key_update_after_records, uint64_t{1} << 24);
  EXPECT_EQ(s.key_update_after_bytes, 0u);
  ClientContextOptions c;
  EXPECT_EQ(c.key_update_after_records, uint64_t{1} << 24);
  EXPECT_EQ(c.key_update_after_bytes, 0u);
}

}  // namespace
}  // namespace sansio_tls
