// The Redis session cache (store/redis) against a real redis-server, in each form: the
// async engine on libuv and on Asio, and the blocking form. Stored sessions are found and
// expire with their lifetime; garbage, oversized, foreign and wrongly typed values are
// counted misses; a dead or stuck Redis is answered within the bound, reported once, and
// recovers; 0-RTT records are fresh once fleet-wide.
#include <gtest/gtest.h>
#include <uv.h>

#include <functional>

#include <asio/io_context.hpp>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"
#include "store/redis/asio.h"
#include "store/redis/blocking.h"
#include "store/redis/session_cache.h"
#include "store/redis/uv.h"
#include "tests/fleet/redis_server.h"

namespace sansio_tls::fleet_test {
namespace {

using namespace std::chrono_literals;
using redis::Stats;

const testing::TestPki& Pki() {
  static const testing::TestPki pki = testing::MakeTestPki();
  return pki;
}

// A TLS 1.2 session with an ID, made by a real handshake at |time| (unix seconds).
SavedSession MakeSession(int64_t time) {
  ServerContextOptions server{
      .credentials = {.key_pem = Pki().server.key_pem, .cert_chain_pem = Pki().server_chain_pem()},
      .max_version = TlsVersion::kTls12};
  server.session_tickets = false;
  server.session_cache = SessionCacheMode::kExternal;
  ClientContextOptions client{.ca_pems = {Pki().root.cert_pem}, .max_version = TlsVersion::kTls12};
  auto pair = testing::Pair::Create(*Context::Create(client), *Context::Create(server),
                                    {.servername = "localhost", .verify_time = time},
                                    {.verify_time = time});
  EXPECT_TRUE(pair.ok() && (*pair)->Handshake());
  for (const Event& e : (*pair)->events(testing::Side::kServer)) {
    if (const auto* s = e.get_if<SavedSession>()) return *s;
  }
  ADD_FAILURE() << "no session";
  return SavedSession::FromBytes({}).value();  // not reached in a passing run
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// One form of the cache, driven synchronously: each call runs the loop until answered.
class Form {
 public:
  virtual ~Form() = default;
  virtual std::optional<SavedSession> Lookup(std::span<const uint8_t> id) = 0;
  virtual void Store(const SavedSession& s, int64_t now) = 0;  // until acknowledged or dropped
  virtual bool CheckEarlyData(std::span<const uint8_t> identity, std::chrono::milliseconds ttl) = 0;
  virtual Stats stats() = 0;
  virtual bool available() = 0;
  std::optional<SavedSession> Lookup(const SavedSession& s) {
    std::vector<uint8_t> id = s.id();
    return Lookup(std::span<const uint8_t>(id));
  }
};

// The async engine: calls are made, then the loop runs until their answer (bounded).
class AsyncForm : public Form {
 public:
  std::optional<SavedSession> Lookup(std::span<const uint8_t> id) override {
    std::optional<std::optional<SavedSession>> answer;
    cache_->Lookup(id, [&](std::optional<SavedSession> found) { answer = std::move(found); });
    RunUntil([&] { return answer.has_value(); });
    EXPECT_TRUE(answer.has_value()) << "no answer";
    return answer ? *answer : std::nullopt;
  }
  void Store(const SavedSession& s, int64_t now) override {
    Stats before = cache_->stats();
    cache_->Store(s, now);
    if (s.ExpiredAt(now)) return;  // skipped: nothing to wait for
    RunUntil([&] {
      const Stats& after = cache_->stats();
      return after.stores + after.store_failures > before.stores + before.store_failures;
    });
  }
  bool CheckEarlyData(std::span<const uint8_t> identity, std::chrono::milliseconds ttl) override {
    std::optional<bool> answer;
    cache_->CheckEarlyData(identity, ttl, [&](bool fresh) { answer = fresh; });
    RunUntil([&] { return answer.has_value(); });
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(false);
  }
  Stats stats() override { return cache_->stats(); }
  bool available() override { return cache_->available(); }

 protected:
  virtual void RunUntil(const std::function<bool()>& done) = 0;
  std::unique_ptr<redis::RedisSessionCache> cache_;
};

class UvForm : public AsyncForm {
 public:
  explicit UvForm(redis::Options o) {
    uv_loop_init(&loop_);
    cache_ = redis::MakeUvCache(&loop_, std::move(o));
  }
  ~UvForm() override {
    cache_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);  // the cache's handles close
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

 private:
  void RunUntil(const std::function<bool()>& done) override {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) uv_run(&loop_, UV_RUN_ONCE);
  }
  uv_loop_t loop_;
};

class AsioForm : public AsyncForm {
 public:
  explicit AsioForm(redis::Options o) { cache_ = redis::MakeAsioCache(ioc_, std::move(o)); }
  ~AsioForm() override {
    cache_.reset();
    ioc_.restart();
    ioc_.poll();
  }

 private:
  void RunUntil(const std::function<bool()>& done) override {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    ioc_.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline) ioc_.run_one_for(100ms);
  }
  asio::io_context ioc_;
};

class BlockingForm : public Form {
 public:
  explicit BlockingForm(redis::Options o) : cache_(std::move(o)) {}
  std::optional<SavedSession> Lookup(std::span<const uint8_t> id) override {
    return cache_.Lookup(id);
  }
  void Store(const SavedSession& s, int64_t now) override { cache_.Store(s, now); }
  bool CheckEarlyData(std::span<const uint8_t> identity, std::chrono::milliseconds ttl) override {
    return cache_.CheckEarlyData(identity, ttl);
  }
  Stats stats() override { return cache_.stats(); }
  bool available() override { return cache_.available(); }

 private:
  redis::BlockingRedisSessionCache cache_;
};

enum class Kind { kUv, kAsio, kBlocking };

class RedisCache : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.ok()); }

  std::unique_ptr<Form> Make(std::chrono::milliseconds timeout = 200ms,
                             std::chrono::milliseconds retry = 50ms) {
    redis::Options o;
    o.unix_socket = redis_.socket();
    o.timeout = timeout;
    o.retry_interval = retry;
    o.max_value_size = 4096;
    o.on_status = [this](const std::optional<Error>& e) {
      reports_.push_back(e ? e->code + ": " + e->message : "up");
    };
    switch (GetParam()) {
      case Kind::kUv:
        return std::make_unique<UvForm>(std::move(o));
      case Kind::kAsio:
        return std::make_unique<AsioForm>(std::move(o));
      case Kind::kBlocking:
        return std::make_unique<BlockingForm>(std::move(o));
    }
    return nullptr;
  }

  RedisServer redis_;
  std::vector<std::string> reports_;
};

TEST_P(RedisCache, AStoredSessionIsFoundAndExpiresWithItsLifetime) {
  auto cache = Make();
  int64_t now = redis::UnixNow();
  SavedSession s = MakeSession(now - 100);  // 300 s lifetime, 200 s left
  cache->Store(s, now);
  EXPECT_EQ(cache->stats().stores, 1u);
  std::vector<uint8_t> id = s.id();
  std::string key = "sansio-tls:s:";
  for (uint8_t b : id) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", b);
    key += hex;
  }
  long long pttl = redis_.Integer({"PTTL", key});
  EXPECT_GT(pttl, 190'000);
  EXPECT_LE(pttl, 200'000);

  auto found = cache->Lookup(s);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id(), id);
  EXPECT_EQ(found->ToBytes(), s.ToBytes());
  std::string unknown(32, 'x');
  EXPECT_FALSE(cache->Lookup(Bytes(unknown)).has_value());
  Stats st = cache->stats();
  EXPECT_EQ(st.lookups, 2u);
  EXPECT_EQ(st.hits, 1u);
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.invalid, 0u);

  // A session already expired is not stored.
  SavedSession old = MakeSession(now - 400);
  cache->Store(old, now);
  EXPECT_EQ(redis_.Integer({"EXISTS", key.substr(0, 13) + "x"}), 0);
  EXPECT_TRUE(reports_.empty());
}

TEST_P(RedisCache, GarbageOversizedForeignExpiredAndWronglyTypedValuesAreCountedMisses) {
  auto cache = Make();
  int64_t now = redis::UnixNow();
  SavedSession a = MakeSession(now), b = MakeSession(now);
  SavedSession expired = MakeSession(now - 1000);
  std::vector<uint8_t> ab = a.ToBytes(), bb = b.ToBytes(), eb = expired.ToBytes();
  auto key = [](const std::string& id) {
    std::string k = "sansio-tls:s:";
    for (unsigned char c : id) {
      char hex[3];
      std::snprintf(hex, sizeof hex, "%02x", c);
      k += hex;
    }
    return k;
  };
  std::vector<std::pair<std::string, std::function<bool(const std::string&)>>> cases = {
      {"garbage",
       [&](const std::string& k) {
         return redis_.Ok({"SET", k, "not a session"});
       }},
      {"oversized",
       [&](const std::string& k) {
         std::string big(ab.begin(), ab.end());
         big.resize(5000, 'z');
         return redis_.Ok({"SET", k, big});
       }},
      {"foreign",  // another session's bytes under this ID
       [&](const std::string& k) {
         return redis_.Ok({"SET", k, std::string(bb.begin(), bb.end())});
       }},
      {"truncated",
       [&](const std::string& k) {
         return redis_.Ok({"SET", k, std::string(ab.begin(), ab.begin() + ab.size() / 2)});
       }},
      {"list",
       [&](const std::string& k) {
         return redis_.Ok({"RPUSH", k, "a", "b"});
       }},
      {"hash",
       [&](const std::string& k) {
         return redis_.Ok({"HSET", k, "f", "v"});
       }},
  };
  uint64_t n = 0;
  for (auto& [name, put] : cases) {
    std::string id = "id-for-" + name;
    ASSERT_TRUE(put(key(id))) << name;
    EXPECT_FALSE(cache->Lookup(Bytes(id)).has_value()) << name;
    ++n;
    EXPECT_EQ(cache->stats().invalid, n) << name;
  }
  // An expired session's own bytes under its own ID (a clock ahead of the writer's).
  std::vector<uint8_t> eid = expired.id();
  std::string eid_s(eid.begin(), eid.end());
  ASSERT_TRUE(redis_.Ok({"SET", key(eid_s), std::string(eb.begin(), eb.end())}));
  EXPECT_FALSE(cache->Lookup(Bytes(eid_s)).has_value());
  EXPECT_EQ(cache->stats().invalid, n + 1);
  EXPECT_EQ(cache->stats().hits, 0u);
  EXPECT_TRUE(reports_.empty()) << reports_.front();  // bad values are not outages
  // The good one still works.
  cache->Store(a, now);
  EXPECT_TRUE(cache->Lookup(a).has_value());
}

TEST_P(RedisCache, ADeadRedisIsAnsweredAtOnceReportedOnceAndRecovers) {
  auto cache = Make(200ms, 50ms);
  int64_t now = redis::UnixNow();
  SavedSession s = MakeSession(now);
  cache->Store(s, now);
  ASSERT_TRUE(cache->Lookup(s).has_value());

  redis_.Kill();
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(cache->Lookup(s).has_value()) << i;
  cache->Store(s, now);  // dropped
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_EQ(reports_[0].rfind("ERR_REDIS_UNAVAILABLE: ", 0), 0u) << reports_[0];
  EXPECT_EQ(cache->stats().failures_reported, 1u);
  EXPECT_GE(cache->stats().unavailable, 9u);
  EXPECT_FALSE(cache->available());

  redis_.Restart();  // empty
  ASSERT_TRUE(redis_.ok());
  // The retry interval (50 ms) has to pass; until then calls are answered at once.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!cache->available() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  cache->Store(s, now);
  EXPECT_TRUE(cache->Lookup(s).has_value());
  ASSERT_EQ(reports_.size(), 2u);
  EXPECT_EQ(reports_[1], "up");
  EXPECT_EQ(cache->stats().failures_reported, 1u);
}

// The blocking cache sees its link only when it uses it: one that saw no call during an
// outage finds Redis restarted under it, and the next call reconnects and is answered,
// without an outage report or a miss. (An event loop's cache reads the lost link's end as it
// happens and reports the outage then: ADeadRedisIsAnsweredAtOnceReportedOnceAndRecovers.)
TEST(BlockingRedisCache, ALinkIdleAcrossARedisRestartReconnectsWithoutAnOutage) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  std::vector<std::string> reports;
  redis::Options o;
  o.unix_socket = redis.socket();
  o.timeout = 200ms;
  o.retry_interval = 10'000ms;  // an outage would make every call below fail
  o.max_value_size = 4096;
  o.on_status = [&](const std::optional<Error>& e) { reports.push_back(e ? e->code : "up"); };
  BlockingForm blocking(std::move(o));
  Form& cache = blocking;
  int64_t now = redis::UnixNow();
  SavedSession s = MakeSession(now);
  cache.Store(s, now);
  ASSERT_TRUE(cache.Lookup(s).has_value());
  redis.Kill();
  redis.Restart();  // empty
  ASSERT_TRUE(redis.ok());
  cache.Store(s, now);
  EXPECT_TRUE(cache.Lookup(s).has_value());
  EXPECT_TRUE(reports.empty()) << reports.front();
  EXPECT_EQ(cache.stats().failures_reported, 0u);
  EXPECT_EQ(cache.stats().hits, 2u);
}

TEST_P(RedisCache, AStuckRedisCostsOneTimeoutThenAnswersAtOnce) {
  auto cache = Make(100ms, 10'000ms);
  int64_t now = redis::UnixNow();
  SavedSession s = MakeSession(now);
  cache->Store(s, now);
  ASSERT_TRUE(cache->Lookup(s).has_value());
  redis_.Pause();
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(cache->Lookup(s).has_value());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(cache->Lookup(s).has_value());
  auto spent = std::chrono::steady_clock::now() - start;
  redis_.Resume();
  EXPECT_EQ(cache->stats().timeouts, 1u);
  EXPECT_EQ(cache->stats().unavailable, 5u);
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_NE(reports_[0].find("no answer within 100 ms"), std::string::npos) << reports_[0];
  // Not a timing assertion on speed: the bound is the contract (one timeout, then none).
  EXPECT_LT(spent, 5s);
}

TEST_P(RedisCache, EarlyDataIsFreshOnceAcrossCaches) {
  auto a = Make();
  auto b = Make();
  std::string ticket = "a ticket identity";
  EXPECT_TRUE(a->CheckEarlyData(Bytes(ticket), 10s));
  EXPECT_FALSE(b->CheckEarlyData(Bytes(ticket), 10s));  // another server: a replay
  EXPECT_FALSE(a->CheckEarlyData(Bytes(ticket), 10s));
  EXPECT_TRUE(b->CheckEarlyData(Bytes(std::string("another ticket")), 10s));
  EXPECT_EQ(a->stats().early_fresh, 1u);
  EXPECT_EQ(a->stats().early_replays, 1u);
  redis_.Kill();
  EXPECT_FALSE(a->CheckEarlyData(Bytes(std::string("unknown when down")), 10s));
}

INSTANTIATE_TEST_SUITE_P(Forms, RedisCache,
                         ::testing::Values(Kind::kUv, Kind::kAsio, Kind::kBlocking),
                         [](const auto& info) {
                           switch (info.param) {
                             case Kind::kUv:
                               return "Uv";
                             case Kind::kAsio:
                               return "Asio";
                             case Kind::kBlocking:
                               return "Blocking";
                           }
                           return "";
                         });

}  // namespace
}  // namespace sansio_tls::fleet_test
