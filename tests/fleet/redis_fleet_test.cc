// echo_server --workers=3 --redis: TLS 1.2 session IDs (no tickets) kept in a real
// redis-server resume on whichever worker the kernel picks; Redis killed mid-run: every
// handshake still completes, as a full one, and each worker reports the outage once; Redis
// back: resumption returns.
#include <sys/socket.h>

#include <set>

#include "tests/fleet/fleet_test_util.h"
#include "tests/fleet/redis_server.h"
#include "transports/posix/socket.h"

namespace sansio_tls::fleet_test {
namespace {

using namespace std::chrono_literals;

constexpr int kWorkers = 3;

const interop::PkiFiles& Pki() {
  static const interop::PkiFiles pki = interop::WritePki();
  return pki;
}

std::shared_ptr<const Context> Tls12Client() {
  ClientContextOptions o{.ca_pems = {Pki().pki.root.cert_pem}, .max_version = TlsVersion::kTls12};
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

// A ticket-key file for the fleet (tickets are what 0-RTT resumes).
std::string TicketKeyFile() {
  std::string path = interop::TempDir() + "/ticket.keys";
  interop::WriteFile(path, "ZmxlZXQtdGVzdC1rZXktbmZsZWV0LXRlc3Qta2V5LXNlY3JldC0zMi1ieXRlcyEh\n");
  return path;
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
  for (int i = 0; i < 15; ++i) {
    Visit v = Connect(fleet, client, first.session);  // offered, never found: no hang
    ASSERT_TRUE(v.ok) << v.error;
    EXPECT_FALSE(v.reused);
  }
  std::string out = fleet.process->out();
  size_t down = CountOf(out, "\"event\":\"sessionStore\",\"available\":false");
  EXPECT_GE(down, 1u);
  // Every worker's Redis connection may notice the outage, whether or not a visit landed on it.
  EXPECT_LE(down, static_cast<size_t>(fleet.workers))
      << "an outage is reported once per worker: " << out;
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
  EXPECT_EQ(resumed, 9) << "the workers' reports (a miss after recovery says why): "
                        << fleet.process->out();
  EXPECT_TRUE(fleet.Stop()) << fleet.process->Describe();
}

TEST(RedisFleet, AReplayedZeroRttClientHelloHasItsEarlyDataRejectedOnEveryOtherAttempt) {
  RedisServer redis;
  ASSERT_TRUE(redis.ok());
  Fleet fleet = StartFleet(kWorkers, {"--key=" + Pki().server_key, "--cert=" + Pki().server_chain,
                                      "--redis=unix:" + redis.socket(), "--early-data",
                                      "--ticket-keys=" + TicketKeyFile()});
  ASSERT_NE(fleet.port, 0) << fleet.process->Describe();
  ClientContextOptions o{.ca_pems = {Pki().pki.root.cert_pem}, .min_version = TlsVersion::kTls13};
  o.early_data = true;
  auto client = *Context::Create(o);
  Visit first = Connect(fleet, client);
  ASSERT_TRUE(first.ok && first.session) << first.error;
  ASSERT_TRUE(first.session->early_data_capable());

  // The genuine 0-RTT connection: its first flight (ClientHello + early data) is kept.
  SessionOptions so{.servername = "localhost"};
  so.session = first.session;
  so.now = Timestamp(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch()));
  auto session = Session::Create(client, so);
  ASSERT_TRUE(session.ok());
  const std::string request = "GET /once\n";
  ASSERT_EQ(session->Write({reinterpret_cast<const uint8_t*>(request.data()), request.size()}),
            request.size());
  std::string flight;
  while (!session->PendingOutput().empty()) {
    auto out = session->PendingOutput();
    flight.append(reinterpret_cast<const char*>(out.data()), out.size());
    session->ConsumeOutput(out.size());
  }
  auto send_flight = [&](int fd) {
    return ::send(fd, flight.data(), flight.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(flight.size());
  };
  auto fd = posix::TcpConnect("127.0.0.1", fleet.port, 10s);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(send_flight(fd->get()));
  auto genuine = posix::Connection::Adopt(std::move(*fd), std::move(*session));
  genuine->set_timeout(20s);
  auto done = genuine->Handshake();
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->early_data, EarlyData::kAccepted);
  std::string echoed;
  uint8_t buf[256];
  while (echoed.size() < 9 + request.size()) {
    auto n = genuine->Read(buf);
    ASSERT_TRUE(n.ok() && *n > 0);
    echoed.append(reinterpret_cast<const char*>(buf), *n);
  }
  EXPECT_EQ(echoed, "welcome!\n" + request);
  genuine->End();
  ASSERT_TRUE(fleet.WaitFor("\"event\":\"earlyDataCheck\"", 1));
  std::string first_check = LinesWith(fleet.process->out(), "earlyDataCheck").at(0);
  EXPECT_NE(first_check.find("\"fresh\":true"), std::string::npos) << first_check;

  // The attacker replays the same bytes, until one replay reached another process.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(first_check, m, std::regex("\"worker\":([0-9]+)")));
  int origin = std::stoi(m[1]);
  bool other_process = false;
  for (size_t i = 1; i <= 12 && !other_process; ++i) {
    auto replay = posix::TcpConnect("127.0.0.1", fleet.port, 10s);
    ASSERT_TRUE(replay.ok());
    ASSERT_TRUE(send_flight(replay->get()));
    ASSERT_TRUE(fleet.WaitFor("\"event\":\"earlyDataCheck\"", i + 1)) << i;
    std::string line = LinesWith(fleet.process->out(), "earlyDataCheck").at(i);
    EXPECT_NE(line.find("\"fresh\":false"), std::string::npos) << line;
    ASSERT_TRUE(std::regex_search(line, m, std::regex("\"worker\":([0-9]+)")));
    other_process = std::stoi(m[1]) != origin;
  }
  EXPECT_TRUE(other_process);
  EXPECT_EQ(CountOf(fleet.process->out(), "\"fresh\":true"), 1u);
  EXPECT_TRUE(fleet.Stop()) << fleet.process->Describe();
}

}  // namespace
}  // namespace sansio_tls::fleet_test
