// echo_server --workers=3 --redis: TLS 1.2 session IDs (no tickets) kept in a real
// redis-server resume on whichever worker the kernel picks; Redis killed mid-run: every
// handshake still completes, as a full one, and each worker reports the outage once; Redis
// back: resumption returns.
#include <set>

#include "tests/fleet/fleet_test_util.h"
#include "tests/fleet/redis_server.h"

namespace sansio_tls::fleet_test {
namespace {

using namespace std::chrono_literals;

constexpr int kWorkers = 3;

const interop::PkiFiles& Pki() {
  static const interop::PkiFiles pki = interop::WritePki();
  return pki;
}

std::shared_ptr<const Context> Tls12Client() {
  ContextOptions o{.role = Role::kClient,
                   .ca_pems = {Pki().pki.root.cert_pem},
                   .max_version = TlsVersion::kTls12};
  o.session_tickets = false;  // session IDs only: the server must find them in Redis
  return *Context::Create(o);
}

// The worker stores a new session asynchronously, racing the client's next connection:
// wait until Redis holds |n| keys.
bool WaitForKeys(const RedisServer& redis, long long n) {
  for (int i = 0; i < 500; ++i) {
    if (redis.Integer({"DBSIZE"}) >= n) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

Fleet StartRedisFleet(const RedisServer& redis) {
  return StartFleet(kWorkers, {"--key=" + Pki().server_key, "--cert=" + Pki().server_chain,
                               "--redis=unix:" + redis.socket(), "--session-tickets=false",
                               "--redis-timeout-ms=200", "--redis-retry-ms=50"});
}

TEST(RedisFleet, EverySessionIdResumesOnWhicheverWorkerTheClientLands) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  Fleet fleet = StartRedisFleet(redis);
  ASSERT_NE(fleet.port, 0) << fleet.process->Describe();
  auto client = Tls12Client();

  Visit first = Connect(fleet, client);
  ASSERT_TRUE(first.ok && first.session) << first.error;
  ASSERT_FALSE(first.session->id().empty());
  ASSERT_TRUE(WaitForKeys(redis, 1));
  std::set<int> workers{first.worker};
  int cross_process = 0;
  for (int i = 0; i < 18; ++i) {
    Visit v = Connect(fleet, client, first.session);
    ASSERT_TRUE(v.ok) << v.error;
    EXPECT_TRUE(v.reused) << "visit " << i << " on worker " << v.worker << ", session from "
                          << first.worker;
    EXPECT_TRUE(v.server_reused);
    workers.insert(v.worker);
    cross_process += v.worker != first.worker;
  }
  EXPECT_GE(workers.size(), 2u);
  EXPECT_GT(cross_process, 0);
  EXPECT_EQ(CountOf(fleet.process->out(), "\"event\":\"sessionStore\""), 0u);
  EXPECT_TRUE(fleet.Stop()) << fleet.process->Describe();
}

TEST(RedisFleet, RedisKilledMidRunMeansFullHandshakesOneReportPerWorkerThenResumptionReturns) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  Fleet fleet = StartRedisFleet(redis);
  ASSERT_NE(fleet.port, 0) << fleet.process->Describe();
  auto client = Tls12Client();
  Visit first = Connect(fleet, client);
  ASSERT_TRUE(first.ok && first.session) << first.error;
  ASSERT_TRUE(WaitForKeys(redis, 1));
  Visit again = Connect(fleet, client, first.session);
  ASSERT_TRUE(again.ok && again.reused) << again.error;

  redis.Kill();
  std::set<int> workers;
  for (int i = 0; i < 15; ++i) {
    Visit v = Connect(fleet, client, first.session);  // offered, never found: no hang
    ASSERT_TRUE(v.ok) << v.error;
    EXPECT_FALSE(v.reused);
    workers.insert(v.worker);
  }
  std::string out = fleet.process->out();
  size_t down = CountOf(out, "\"event\":\"sessionStore\",\"available\":false");
  EXPECT_GE(down, 1u);
  EXPECT_LE(down, workers.size()) << "an outage is reported once per worker: " << out;
  for (const std::string& line : LinesWith(out, "\"available\":false")) {
    EXPECT_NE(line.find("ERR_REDIS_UNAVAILABLE"), std::string::npos) << line;
  }

  redis.Restart();  // empty: the sessions stored before are gone
  ASSERT_TRUE(redis.ok());
  std::this_thread::sleep_for(100ms);  // the workers' retry interval (50 ms) passes
  Visit fresh = Connect(fleet, client);
  ASSERT_TRUE(fresh.ok && fresh.session) << fresh.error;
  ASSERT_TRUE(WaitForKeys(redis, 1));
  int resumed = 0;
  for (int i = 0; i < 9; ++i) {
    Visit v = Connect(fleet, client, fresh.session);
    ASSERT_TRUE(v.ok) << v.error;
    resumed += v.reused;
  }
  EXPECT_EQ(resumed, 9);
  EXPECT_TRUE(fleet.Stop()) << fleet.process->Describe();
}

}  // namespace
}  // namespace sansio_tls::fleet_test
