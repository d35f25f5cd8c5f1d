// The fleet benchmark: examples/echo_server as 1 or 2 worker processes sharing a port and a
// ticket-key file, with a real redis-server as the TLS 1.2 session cache. One command:
//   ./bazelw run -c opt //bench:fleet -- [--transport=asio|posix|uv] [--seconds=S] [--idle=N]
// Prints a table: handshakes per second (full, resumed) with 1 and 2 workers, the
// resumption rate and the share resumed on another process, the latency a Redis lookup
// adds to a resumed handshake, and the worker's memory per idle connection at N
// connections. Client and servers share this machine's cores: the figures are for the
// pair, not for a server alone. docs/fleet.md has the figures and the method.
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

#include "store/redis/blocking.h"
#include "tests/fleet/fleet_test_util.h"
#include "tests/fleet/redis_server.h"

namespace sansio_tls::fleet_test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const interop::PkiFiles& Pki() {
  static const interop::PkiFiles pki = interop::WritePki();
  return pki;
}

std::shared_ptr<const Context> ClientContext(TlsVersion v, bool tickets = true) {
  ClientContextOptions o{.ca_pems = {Pki().pki.root.cert_pem}, .min_version = v, .max_version = v};
  o.session_tickets = tickets;
  return *Context::Create(o);
}

// One connection: handshake (offering |offer|), read "welcome!\n", clean end. The newest
// session, whether it resumed; nullopt on failure.
struct Outcome {
  bool reused = false;
  std::optional<SavedSession> session;
};
std::optional<Outcome> OneConnection(uint16_t port, const std::shared_ptr<const Context>& ctx,
                                     std::optional<SavedSession> offer) {
  posix::ConnectOptions options;
  options.session.servername = "localhost";
  options.session.session = std::move(offer);
  auto conn = posix::Connect("127.0.0.1", port, ctx, options);
  if (!conn.ok()) return std::nullopt;
  (*conn)->set_timeout(20s);
  uint8_t buf[64];
  size_t got = 0;
  while (got < 9) {
    auto n = (*conn)->Read(buf);
    if (!n.ok() || *n == 0) return std::nullopt;
    got += *n;
  }
  Outcome out{(*conn)->handshake_info().session_reused, (*conn)->session().saved_session()};
  (*conn)->End();
  return out;
}

struct Rate {
  double per_second = 0;
  double reused_share = 0;
};

// |threads| clients connect back to back for |seconds|; resumed: each offers its newest
// session.
Rate Hammer(uint16_t port, const std::shared_ptr<const Context>& ctx, bool resume, int threads,
            double seconds) {
  std::atomic<uint64_t> done{0}, reused{0};
  std::vector<std::thread> clients;
  auto until = Clock::now() +
               std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&] {
      std::optional<SavedSession> session;
      if (resume) {
        if (auto first = OneConnection(port, ctx, std::nullopt)) session = first->session;
      }
      while (Clock::now() < until) {
        auto o = OneConnection(port, ctx, resume ? session : std::nullopt);
        if (!o) continue;
        ++done;
        reused += o->reused;
        if (resume && o->session) session = o->session;
      }
    });
  }
  for (auto& c : clients) c.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return {done / elapsed, done ? double(reused) / done : 0};
}

long RssKiB(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

int WorkerPid(const Fleet& f) {
  std::smatch m;
  std::string line = LinesWith(f.process->out(), "\"event\":\"listening\"").at(0);
  // One worker runs in the started process itself (no "pid" field then).
  return std::regex_search(line, m, std::regex("\"pid\":([0-9]+)")) ? std::stoi(m[1])
                                                                    : f.process->pid();
}

double MeanMicros(uint16_t port, const std::shared_ptr<const Context>& ctx, int n) {
  auto first = OneConnection(port, ctx, std::nullopt);
  if (!first) return -1;
  std::optional<SavedSession> s = first->session;
  auto start = Clock::now();
  int reused = 0;
  for (int i = 0; i < n; ++i) {
    auto o = OneConnection(port, ctx, s);
    if (o && o->reused) ++reused;
  }
  double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / n;
  if (reused != n) std::fprintf(stderr, "warning: %d of %d resumed\n", reused, n);
  return us;
}

int Main(int argc, char** argv) {
  std::string transport = "asio";
  double seconds = 2;
  int idle = 10000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--transport=", 0) == 0) transport = a.substr(12);
    if (a.rfind("--seconds=", 0) == 0) seconds = std::stod(a.substr(10));
    if (a.rfind("--idle=", 0) == 0) idle = std::stoi(a.substr(7));
  }
  setenv("EXAMPLES_TRANSPORT", transport.c_str(), 1);
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);

  RedisServer redis;
  if (!redis.ok()) return 1;
  std::string keys = interop::TempDir() + "/ticket.keys";
  interop::WriteFile(keys, "U2Fuc2lvVGxzRmxlZXRCZW5jaEtleU5hbWVTZWNyZXRTZWNyZXRTZWNyZXQhISEh\n");
  std::vector<std::string> base = {"--key=" + Pki().server_key, "--cert=" + Pki().server_chain,
                                   "--ticket-keys=" + keys, "--redis=unix:" + redis.socket()};
  auto tls13 = ClientContext(TlsVersion::kTls13);
  auto tls12_ids = ClientContext(TlsVersion::kTls12, /*tickets=*/false);
  auto tls12_tickets = ClientContext(TlsVersion::kTls12);

  std::printf(
      "fleet benchmark: echo_server --transport=%s, redis-server on a Unix socket, "
      "%u cores, client in this process (2 threads)\n\n",
      transport.c_str(), std::thread::hardware_concurrency());
  std::printf("%-44s %12s %12s\n", "handshakes per second (TLS 1.3)", "1 worker", "2 workers");
  Rate r[2][2];
  double cross = 0, resumed_rate = 0;
  for (int w = 1; w <= 2; ++w) {
    Fleet f = StartFleet(w, base);
    if (!f.port) return 1;
    r[w - 1][0] = Hammer(f.port, tls13, false, 2, seconds);
    r[w - 1][1] = Hammer(f.port, tls13, true, 2, seconds);
    if (w == 2) {  // resumption across processes: sequential, each visit's worker known
      auto ticket = Connect(f, tls13).session;
      int cross_n = 0, ok = 0, n = 40;
      int issuer = -1;
      Visit first = Connect(f, tls13);
      ticket = first.session;
      issuer = first.worker;
      for (int i = 0; i < n; ++i) {
        Visit v = Connect(f, tls13, ticket);
        ok += v.reused;
        cross_n += v.reused && v.worker != issuer;
        if (v.session) {
          ticket = v.session;
          issuer = v.worker;
        }
      }
      resumed_rate = double(ok) / n;
      cross = double(cross_n) / n;
    }
    f.Stop();
  }
  std::printf("%-44s %12.0f %12.0f\n", "  full", r[0][0].per_second, r[1][0].per_second);
  std::printf("%-44s %12.0f %12.0f\n", "  resumed (ticket, shared key file)", r[0][1].per_second,
              r[1][1].per_second);
  std::printf("%-44s %11.1f%% %11.1f%%\n", "  share of offered tickets resumed",
              100 * r[0][1].reused_share, 100 * r[1][1].reused_share);
  std::printf("\nresumption across processes (2 workers, 40 sequential visits, TLS 1.3)\n");
  std::printf("%-44s %11.1f%%\n", "  offered tickets resumed", 100 * resumed_rate);
  std::printf("%-44s %11.1f%%\n", "  resumed on another process than the issuer", 100 * cross);

  {
    Fleet f = StartFleet(1, {"--key=" + Pki().server_key, "--cert=" + Pki().server_chain,
                             "--redis=unix:" + redis.socket()});
    double ids = MeanMicros(f.port, tls12_ids, 300);
    double tickets = MeanMicros(f.port, tls12_tickets, 300);
    f.Stop();
    redis::Options o;
    o.unix_socket = redis.socket();
    redis::BlockingRedisSessionCache cache(o);
    std::string id(32, 'q');
    cache.Lookup({reinterpret_cast<const uint8_t*>(id.data()), id.size()});  // connect
    auto start = Clock::now();
    for (int i = 0; i < 2000; ++i) {
      cache.Lookup({reinterpret_cast<const uint8_t*>(id.data()), id.size()});
    }
    double rtt = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / 2000;
    std::printf("\nRedis lookup cost (1 worker, sequential, TLS 1.2 resumed handshakes)\n");
    std::printf("%-44s %9.0f us\n", "  by session ID, looked up in Redis", ids);
    std::printf("%-44s %9.0f us\n", "  by ticket (no Redis)", tickets);
    std::printf("%-44s %9.0f us\n", "  added by the Redis lookup", ids - tickets);
    std::printf("%-44s %9.1f us\n", "  one GETRANGE round trip (blocking client)", rtt);
  }

  {
    Fleet f = StartFleet(1, base);
    int pid = WorkerPid(f);
    OneConnection(f.port, tls13, std::nullopt);  // warm up
    long before = RssKiB(pid);
    std::vector<std::unique_ptr<posix::Connection>> held;
    held.reserve(idle);
    posix::ConnectOptions options;
    options.session.servername = "localhost";
    for (int i = 0; i < idle; ++i) {
      auto c = posix::Connect("127.0.0.1", f.port, tls13, options);
      if (!c.ok()) {
        std::fprintf(stderr, "connection %d: %s\n", i, c.error().message.c_str());
        break;
      }
      (*c)->set_timeout(20s);
      uint8_t buf[16];
      size_t got = 0;
      while (got < 9) {
        auto n = (*c)->Read(buf);
        if (!n.ok() || *n == 0) break;
        got += *n;
      }
      held.push_back(std::move(*c));
    }
    std::this_thread::sleep_for(300ms);  // the worker settles (its last writes complete)
    long after = RssKiB(pid);
    std::printf("\nidle connections (1 worker, TLS 1.3, after the handshake and the welcome)\n");
    std::printf("%-44s %12zu\n", "  connections held", held.size());
    std::printf("%-44s %9.1f KiB\n", "  worker RSS per idle connection",
                held.empty() ? 0.0 : double(after - before) / held.size());
    held.clear();
    f.Stop();
  }
  return 0;
}

}  // namespace
}  // namespace sansio_tls::fleet_test

int main(int argc, char** argv) {
  if (!std::getenv("TEST_SRCDIR")) {
    std::string runfiles = std::string(argv[0]) + ".runfiles";
    setenv("TEST_SRCDIR", runfiles.c_str(), 1);
  }
  if (!std::getenv("TEST_TMPDIR")) {
    char templ[] = "/tmp/fleet-bench-XXXXXX";
    if (mkdtemp(templ)) setenv("TEST_TMPDIR", templ, 1);
  }
  return sansio_tls::fleet_test::Main(argc, argv);
}
