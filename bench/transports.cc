// The transport benchmark: echo servers over loopback TCP, measured by one load client of
// ours, in one run:
//   - our examples/echo_server on each transport (asio, posix, uv),
//   - Node's tls (bench/node_echo.js, the seed's server) and Asio's ssl::stream on the
//     system's OpenSSL 3 (bench/asio_openssl_echo.cc): the anchors.
// Every server gets the same ECDSA P-256 leaf + intermediate and writes "welcome!\n", then
// echoes. The client (our Asio transport, one thread, epoll) runs full TLS 1.3 handshakes at
// 1 and 32 concurrent (each reads the welcome, then closes with close_notify both ways), echoes
// 16 KiB writes on 1 and 4 connections, and holds idle connections. Server CPU and RSS are read
// from /proc/PID; the servers are interleaved in each repetition and the medians reported,
// with ratios to Node and, for handshakes, the raw-BoringSSL limit: the server's CPU per
// handshake in memory (BIO pair, same chain), measured in this binary. A "TCP only" server
// in this binary (--tcp-only-server: epoll, accept, welcome, close; no TLS) gives the
// server's TCP floor per connection under the same load.
// Multi-core: full handshakes per second of wall time, and CPU per handshake summed over
// every process, with 1 worker and with a fleet of 2 (echo_server --workers=2 on each
// transport; Node's cluster), from a load client of --client-threads threads.
//
//   ./bazelw run -c opt //bench:transports -- [--reps=3] [--handshakes=3000] [--mib=256]
//                                             [--idle=2000] [--only=table|multicore]
//                                             [--servers=node,asio-openssl,asio,posix,uv,tcp]
//                                             [--client-threads=2]
//
// Docs: docs/performance.md ("Transports").
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include "bench/raw_tls.h"
#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "transports/asio/server.h"
#include "transports/asio/stream.h"

namespace sansio_tls::bench {
namespace {

using asio::ip::tcp;
using asio_tls::TlsStream;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "transports bench: %s\n", what.c_str());
  std::exit(1);
}

// ---- Server processes --------------------------------------------------------------------

// One server process; its stdout and stderr go to a file (servers print a line per
// connection, which must never block them). Stopped (SIGTERM, then waited for) by the
// destructor. A fleet's supervisor (|listeners| > 1) is ready once that many workers printed
// "(pid N): listening on 127.0.0.1:PORT"; its CPU is its own plus its workers'.
class ServerProcess {
 public:
  ServerProcess(const std::vector<std::string>& argv, const std::string& log_path,
                int listeners = 1) {
    int in[2];
    if (pipe(in) != 0) Die("pipe");
    pid_ = fork();
    if (pid_ < 0) Die("fork");
    if (pid_ == 0) {
      int out = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(in[0], 0);
      dup2(out, 1);
      dup2(out, 2);
      close(in[0]);
      close(in[1]);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(in[0]);
    stdin_ = in[1];
    // Wait for "listening on 127.0.0.1:PORT" (from each worker of a fleet).
    auto deadline = Clock::now() + std::chrono::seconds(20);
    int listening = 0;
    while (Clock::now() < deadline && listening < listeners) {
      std::ifstream f(log_path);
      std::string line;
      listening = 0;
      workers_.clear();
      while (std::getline(f, line)) {
        auto at = line.find("listening on 127.0.0.1:");
        if (at == std::string::npos) continue;
        port_ = std::atoi(line.c_str() + at + 23);
        ++listening;
        auto pid_at = line.find("(pid ");
        if (listeners > 1 && pid_at != std::string::npos && pid_at < at) {
          workers_.push_back(std::atoi(line.c_str() + pid_at + 5));
        }
      }
      if (listening < listeners) {
        int status;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          Die("server exited at start: " + argv[0] + " (see " + log_path + ")");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (listening < listeners ||
        static_cast<int>(workers_.size()) < (listeners > 1 ? listeners : 0))
      Die("server did not listen: " + argv[0] + " (see " + log_path + ")");
  }
  // A server started elsewhere (--attach, e.g. under a profiler): measured, never stopped.
  ServerProcess(pid_t pid, int port) : pid_(pid), port_(port), owned_(false) {}
  ~ServerProcess() {
    if (pid_ <= 0 || !owned_) return;
    close(stdin_);
    kill(pid_, SIGTERM);
    int status;
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  uint16_t port() const { return static_cast<uint16_t>(port_); }

  // User + system CPU seconds the process and its fleet's workers have used.
  double CpuSeconds() const {
    double sum = ProcessCpuSeconds(pid_);
    for (pid_t w : workers_) sum += ProcessCpuSeconds(w);
    return sum;
  }
  // The fleet's worker pids (empty for a single process).
  const std::vector<pid_t>& workers() const { return workers_; }

  // User + system CPU seconds process |pid| has used, from /proc/PID/stat.
  static double ProcessCpuSeconds(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) Die("cannot read /proc stat");
    std::istringstream rest(stat.substr(close_paren + 2));
    std::string field;
    double ticks = 0;
    // After "(comm) ": state is field 3; utime and stime are fields 14 and 15.
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i >= 14) ticks += std::stod(field);
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  // Resident set size in bytes, from /proc/PID/status.
  double RssBytes() const {
    std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) * 1024;
    }
    Die("cannot read VmRSS");
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
  bool owned_ = true;
  std::vector<pid_t> workers_;
};

// ---- The TCP floor: no TLS -----------------------------------------------------------------

// `transports --tcp-only-server`: one thread, epoll (level-triggered), the shape of our POSIX
// server without TLS: accept, TCP_NODELAY, write "welcome!\n", wait for the client's last
// byte (where a TLS client sends close_notify), close. Prints "listening on 127.0.0.1:PORT";
// exits when its stdin closes.
int TcpOnlyServer() {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listener, 1024) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Die(std::string("tcp server: ") + std::strerror(errno));
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  ev.data.fd = 0;  // stdin: EOF stops the server
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
  std::printf("listening on 127.0.0.1:%d (tcp only)\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  epoll_event events[64];
  for (;;) {
    int n = epoll_wait(ep, events, 64, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Die("tcp server: epoll_wait");
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      char buf[256];
      if (fd == 0) {
        if (read(0, buf, sizeof buf) <= 0) return 0;
      } else if (fd == listener) {
        int c;
        while ((c = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          int one = 1;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          if (write(c, "welcome!\n", 9) != 9) {
            close(c);
            continue;
          }
          ev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        }
      } else {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EAGAIN) continue;
        close(fd);  // the client's byte, its EOF or an error: done (close leaves the epoll set)
      }
    }
  }
}

// ---- The load client -----------------------------------------------------------------------

struct Client {
  asio::io_context io;
  std::shared_ptr<const Context> context;
  tcp::endpoint endpoint;
  std::string failure;  // the first failure, if any

  void Run() {
    io.restart();
    io.run();
    if (!failure.empty()) Die("client: " + failure);
  }
  void Fail(const std::string& what) {
    if (failure.empty()) failure = what;
    io.stop();
  }
};

// Connects, completes the handshake and reads the welcome.
asio::awaitable<TlsStream> Open(Client& c) {
  tcp::socket socket(c.io);
  co_await socket.async_connect(c.endpoint, asio::use_awaitable);
  socket.set_option(tcp::no_delay(true));
  SessionOptions options;
  options.servername = "localhost";
  TlsStream tls(std::move(socket), c.context, options);
  co_await tls.async_handshake(asio::use_awaitable);
  char welcome[9];
  co_await asio::async_read(tls, asio::buffer(welcome), asio::use_awaitable);
  if (std::memcmp(welcome, "welcome!\n", 9) != 0) throw std::runtime_error("no welcome");
  co_return tls;
}

// close_notify both ways: the server's answer completes the shutdown.
asio::awaitable<void> Close(TlsStream& tls) {
  co_await tls.async_shutdown(std::chrono::seconds(5), asio::use_awaitable);
}

asio::awaitable<void> Guard(Client& c, asio::awaitable<void> work) {
  try {
    co_await std::move(work);
  } catch (const std::exception& e) {
    c.Fail(e.what());
  }
}

// |total| handshakes, |concurrent| at a time.
void Handshakes(Client& c, int total, int concurrent) {
  int started = 0;
  for (int w = 0; w < concurrent; ++w) {
    asio::co_spawn(c.io,
                   Guard(c,
                         [](Client& c, int& started, int total) -> asio::awaitable<void> {
                           while (started < total) {
                             ++started;
                             TlsStream tls = co_await Open(c);
                             co_await Close(tls);
                           }
                         }(c, started, total)),
                   asio::detached);
  }
  c.Run();
}

// |total| plain TCP connections, |concurrent| at a time, in the TLS pattern without TLS:
// connect, read the welcome, send one byte (where TLS sends close_notify), read until the
// server closes.
void TcpConnections(Client& c, int total, int concurrent) {
  int started = 0;
  for (int w = 0; w < concurrent; ++w) {
    asio::co_spawn(
        c.io,
        Guard(c,
              [](Client& c, int& started, int total) -> asio::awaitable<void> {
                while (started < total) {
                  ++started;
                  tcp::socket socket(c.io);
                  co_await socket.async_connect(c.endpoint, asio::use_awaitable);
                  socket.set_option(tcp::no_delay(true));
                  char welcome[9];
                  co_await asio::async_read(socket, asio::buffer(welcome), asio::use_awaitable);
                  if (std::memcmp(welcome, "welcome!\n", 9) != 0)
                    throw std::runtime_error("no welcome");
                  co_await asio::async_write(socket, asio::buffer("x", 1), asio::use_awaitable);
                  asio::error_code ec;
                  co_await socket.async_read_some(asio::buffer(welcome),
                                                  asio::redirect_error(asio::use_awaitable, ec));
                  if (ec != asio::error::eof) throw std::runtime_error("tcp: no close");
                }
              }(c, started, total)),
        asio::detached);
  }
  c.Run();
}

// The payload: a repeating pattern the reader checks.
std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>('a' + i % 23);
  return p;
}
constexpr size_t kWriteSize = 16 * 1024;

asio::awaitable<void> Writer(TlsStream& tls, const std::vector<uint8_t>& block, size_t bytes) {
  for (size_t sent = 0; sent < bytes; sent += kWriteSize) {
    co_await asio::async_write(tls, asio::buffer(block.data(), std::min(kWriteSize, bytes - sent)),
                               asio::use_awaitable);
  }
}
asio::awaitable<void> Reader(TlsStream& tls, const std::vector<uint8_t>& block, size_t bytes) {
  std::vector<uint8_t> buf(64 * 1024);
  size_t got = 0;
  while (got < bytes) {
    size_t n = co_await tls.async_read_some(asio::buffer(buf), asio::use_awaitable);
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] != block[(got + i) % kWriteSize]) throw std::runtime_error("echo corrupted");
    }
    got += n;
  }
}

// |connections| connections each echo |bytes_each| bytes in 16 KiB writes.
void Echo(Client& c, int connections, size_t bytes_each) {
  static const std::vector<uint8_t> block = Pattern(kWriteSize);
  for (int i = 0; i < connections; ++i) {
    asio::co_spawn(c.io,
                   Guard(c,
                         [](Client& c, size_t bytes) -> asio::awaitable<void> {
                           TlsStream tls = co_await Open(c);
                           co_await (Writer(tls, block, bytes) && Reader(tls, block, bytes));
                           co_await Close(tls);
                         }(c, bytes_each)),
                   asio::detached);
  }
  c.Run();
}

// Opens |n| connections (32 at a time) and keeps them in |held|.
void OpenIdle(Client& c, int n, std::vector<TlsStream>& held) {
  int started = 0;
  for (int w = 0; w < 32; ++w) {
    asio::co_spawn(c.io,
                   Guard(c,
                         [](Client& c, int& started, int n,
                            std::vector<TlsStream>& held) -> asio::awaitable<void> {
                           while (started < n) {
                             ++started;
                             held.push_back(co_await Open(c));
                           }
                         }(c, started, n, held)),
                   asio::detached);
  }
  c.Run();
}

// ---- The limit: raw BoringSSL in memory -------------------------------------------------

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Server CPU seconds per full TLS 1.3 handshake, BoringSSL driven directly over a BIO pair
// with the same chain: only the server's SSL calls are timed.
double RawServerHandshakeSeconds(const testing::TestPki& pki, int n) {
  RawContexts ctx = RawContexts::Make(pki, Scenario{});
  double server = 0;
  for (int i = 0; i < n; ++i) {
    SSL* client = SSL_new(ctx.client.get());
    SSL* srv = SSL_new(ctx.server.get());
    BIO *a = nullptr, *b = nullptr;
    if (!client || !srv || !BIO_new_bio_pair(&a, 0, &b, 0)) Die("raw setup");
    SSL_set_bio(client, a, a);
    SSL_set_bio(srv, b, b);
    SSL_set_connect_state(client);
    SSL_set_tlsext_host_name(client, "localhost");
    SSL_set_accept_state(srv);
    bool client_done = false, server_done = false;
    for (int step = 0; step < 100 && !(client_done && server_done); ++step) {
      if (!client_done) {
        int r = SSL_do_handshake(client);
        if (r == 1)
          client_done = true;
        else if (SSL_get_error(client, r) != SSL_ERROR_WANT_READ)
          Die("raw client handshake");
      }
      double t0 = ThreadCpuSeconds();
      if (!server_done) {
        int r = SSL_do_handshake(srv);
        if (r == 1)
          server_done = true;
        else if (SSL_get_error(srv, r) != SSL_ERROR_WANT_READ)
          Die("raw server handshake");
      }
      server += ThreadCpuSeconds() - t0;
    }
    if (!client_done || !server_done) Die("raw handshake did not finish");
    SSL_free(client);
    SSL_free(srv);
  }
  return server / n;
}

// ---- The run --------------------------------------------------------------------------------

struct Options {
  int reps = 3;
  int handshakes = 3000;
  size_t mib = 256;
  int idle = 2000;
  std::vector<std::string> servers = {"node", "asio-openssl", "asio", "posix", "uv", "tcp"};
  pid_t attach_pid = 0;  // --attach=PID:PORT: measure that running server only
  int attach_port = 0;
  bool table = true;      // the main table (--only=multicore: skipped)
  bool multicore = true;  // 1 worker against 2 (--only=table: skipped)
  int client_threads = 2;
};

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> std::optional<std::string> {
      std::string prefix = std::string(name) + "=";
      if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
      return std::nullopt;
    };
    if (auto v = value("--reps"))
      o.reps = std::max(1, std::atoi(v->c_str()));
    else if (auto v = value("--handshakes"))
      o.handshakes = std::max(32, std::atoi(v->c_str()));
    else if (auto v = value("--mib"))
      o.mib = std::max<size_t>(4, std::strtoul(v->c_str(), nullptr, 10));
    else if (auto v = value("--idle"))
      o.idle = std::max(1, std::atoi(v->c_str()));
    else if (auto v = value("--client-threads"))
      o.client_threads = std::clamp(std::atoi(v->c_str()), 1, 8);
    else if (auto v = value("--only")) {
      o.table = *v == "table";
      o.multicore = *v == "multicore";
      if (!o.table && !o.multicore) Die("--only=table or --only=multicore");
    } else if (auto v = value("--attach")) {
      o.attach_pid = std::atoi(v->c_str());
      o.attach_port = std::atoi(v->substr(v->find(':') + 1).c_str());
      o.servers = {"attached"};
    } else if (auto v = value("--servers")) {
      o.servers.clear();
      std::stringstream ss(*v);
      std::string s;
      while (std::getline(ss, s, ',')) o.servers.push_back(s);
    } else {
      std::fprintf(stderr,
                   "usage: transports [--reps=N] [--handshakes=N] [--mib=N] [--idle=N] "
                   "[--servers=node,asio-openssl,asio,posix,uv,tcp] [--only=table|multicore] "
                   "[--client-threads=N]\n");
      std::exit(a == "--help" || a == "-h" ? 0 : 2);
    }
  }
  return o;
}

// Figures of one server in one repetition.
struct Figures {
  double handshake_us_1 = 0, handshake_us_32 = 0;   // server CPU per full handshake
  double bulk_s_per_gb_1 = 0, bulk_s_per_gb_4 = 0;  // server CPU per GB echoed
  double idle_bytes = 0;                            // server RSS per idle connection
};

const char* kFigureNames[] = {
    "server CPU per full handshake, 1 at a time (us)",
    "server CPU per full handshake, 32 concurrent (us)",
    "server CPU per GB echoed, 1 connection (s)",
    "server CPU per GB echoed, 4 connections (s)",
    "server RSS per idle connection (bytes)",
};
double Get(const Figures& f, int i) {
  switch (i) {
    case 0:
      return f.handshake_us_1;
    case 1:
      return f.handshake_us_32;
    case 2:
      return f.bulk_s_per_gb_1;
    case 3:
      return f.bulk_s_per_gb_4;
    default:
      return f.idle_bytes;
  }
}

Figures Measure(const std::string& name, const std::vector<std::string>& argv, const Options& o,
                const std::shared_ptr<const Context>& client_context, const std::string& dir) {
  std::optional<ServerProcess> started;
  if (o.attach_pid == 0) started.emplace(argv, dir + "/" + name + ".log");
  ServerProcess attached(o.attach_pid, o.attach_port);
  const ServerProcess& server = started ? *started : attached;
  Client c;
  c.context = client_context;
  c.endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port());
  Figures f;
  // The TCP floor has connections only: no TLS, so no handshake, echo or idle session.
  const bool tcp_only = name == "tcp";
  auto connections = tcp_only ? TcpConnections : Handshakes;
  // Warm-up: a few connections, so lazy start-up work is not counted.
  connections(c, 50, 4);

  int sequential = std::max(32, o.handshakes / 6);
  double t0 = server.CpuSeconds();
  connections(c, sequential, 1);
  f.handshake_us_1 = (server.CpuSeconds() - t0) / sequential * 1e6;
  t0 = server.CpuSeconds();
  connections(c, o.handshakes, 32);
  f.handshake_us_32 = (server.CpuSeconds() - t0) / o.handshakes * 1e6;
  if (tcp_only) {
    f.bulk_s_per_gb_1 = f.bulk_s_per_gb_4 = f.idle_bytes = std::nan("");
    return f;
  }

  size_t bytes = o.mib << 20;
  t0 = server.CpuSeconds();
  Echo(c, 1, bytes);
  f.bulk_s_per_gb_1 = (server.CpuSeconds() - t0) / (static_cast<double>(bytes) / 1e9);
  t0 = server.CpuSeconds();
  Echo(c, 4, bytes / 4);
  f.bulk_s_per_gb_4 = (server.CpuSeconds() - t0) / (static_cast<double>(bytes) / 1e9);

  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  double rss0 = server.RssBytes();
  std::vector<TlsStream> held;
  held.reserve(static_cast<size_t>(o.idle));
  OpenIdle(c, o.idle, held);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the server settle
  f.idle_bytes = (server.RssBytes() - rss0) / o.idle;
  held.clear();  // sockets closed; the server sees its clients leave
  return f;
}

// ---- Multi-core: one process against a fleet of two ---------------------------------------

double ProcessCpuSelf() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// |total| handshakes, |concurrent| in flight in all, spread over |clients| (one thread each).
void ParallelHandshakes(std::vector<std::unique_ptr<Client>>& clients, int total, int concurrent) {
  const int n = static_cast<int>(clients.size());
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Handshakes(*clients[i], total / n + (i < total % n), concurrent / n + (i < concurrent % n));
    });
  }
  for (auto& t : threads) t.join();
}

// Figures of one server (one process or a fleet) in one repetition.
struct FleetFigures {
  double per_second = 0;     // full handshakes per second of wall time, 32 concurrent
  double server_us = 0;      // server CPU per handshake: supervisor and every worker
  double client_us = 0;      // the load client's CPU per handshake (this process)
  double busiest_share = 0;  // the busiest worker's share of the workers' CPU (fleets)
};

FleetFigures MeasureFleet(const std::string& name, const std::vector<std::string>& argv,
                          int workers, int client_threads, const Options& o,
                          const std::shared_ptr<const Context>& client_context,
                          const std::string& dir) {
  ServerProcess server(argv, dir + "/" + name + "-" + std::to_string(workers) + "w.log", workers);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < client_threads; ++i) {
    clients.push_back(std::make_unique<Client>());
    clients.back()->context = client_context;
    clients.back()->endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port());
  }
  ParallelHandshakes(clients, 100, 8);  // warm-up: every worker gets some
  std::vector<double> worker0;
  for (pid_t w : server.workers()) worker0.push_back(ServerProcess::ProcessCpuSeconds(w));
  double s0 = server.CpuSeconds(), c0 = ProcessCpuSelf();
  auto t0 = Clock::now();
  ParallelHandshakes(clients, o.handshakes, 32);
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  FleetFigures f;
  f.per_second = o.handshakes / wall;
  f.server_us = (server.CpuSeconds() - s0) / o.handshakes * 1e6;
  f.client_us = (ProcessCpuSelf() - c0) / o.handshakes * 1e6;
  double sum = 0, busiest = 0;
  for (size_t i = 0; i < worker0.size(); ++i) {
    double used = ServerProcess::ProcessCpuSeconds(server.workers()[i]) - worker0[i];
    sum += used;
    busiest = std::max(busiest, used);
  }
  f.busiest_share = sum > 0 ? busiest / sum : 1;
  return f;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

int Main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--tcp-only-server") return TcpOnlyServer();
  Options o = Parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;  // the idle case holds o.idle sockets on each side
  setrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_cur < static_cast<rlim_t>(o.idle) + 100) {
    Die("RLIMIT_NOFILE " + std::to_string(nofile.rlim_cur) + " is below --idle + 100");
  }

  // The PKI every server presents (ECDSA P-256 leaf + intermediate) and the client trusts.
  testing::TestPki pki = testing::MakeTestPki();
  std::string dir =
      std::filesystem::temp_directory_path() / ("transports-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string key = dir + "/key.pem", chain = dir + "/chain.pem";
  std::ofstream(key) << pki.server.key_pem;
  std::ofstream(chain) << pki.server_chain_pem();
  // An attached server has its own certificate: the client does not verify it then.
  auto client_context = Context::Create(ClientContextOptions{
      .ca_pems = {pki.root.cert_pem}, .reject_unauthorized = o.attach_pid == 0});
  if (!client_context.ok()) Die("client context: " + client_context.error().message);

  // Binaries come from the runfiles: bazel run's working directory, else next to argv[0].
  auto runfile = [&](const std::string& path) -> std::string {
    for (const std::string& base :
         {std::string("."), std::string(argv[0]) + ".runfiles/sansio_tls"}) {
      std::filesystem::path p = std::filesystem::path(base) / path;
      if (std::filesystem::is_regular_file(p)) return std::filesystem::absolute(p);
    }
    return path;  // missing: reported and skipped below
  };
  std::map<std::string, std::vector<std::string>> argvs;
  for (const char* t : {"asio", "posix", "uv"}) {
    argvs[t] = {runfile("examples/echo_server"), std::string("--transport=") + t, "--port=0",
                "--key=" + key, "--cert=" + chain};
  }
  argvs["asio-openssl"] = {runfile("bench/asio_openssl_echo"), key, chain};
  const char* node = "/usr/bin/node";
  argvs["node"] = {node, runfile("bench/node_echo.js"), key, chain};
  argvs["attached"] = {"/proc/self/exe"};  // not started: --attach
  argvs["tcp"] = {std::filesystem::read_symlink("/proc/self/exe"), "--tcp-only-server"};

  std::vector<std::string> servers;
  for (const auto& s : o.servers) {
    if (!argvs.count(s)) Die("unknown server " + s);
    const std::vector<std::string>& a = argvs[s];
    std::string missing = !std::filesystem::is_regular_file(a[0]) || access(a[0].c_str(), X_OK)
                              ? a[0]
                          : s == "node" && !std::filesystem::is_regular_file(a[1]) ? a[1]
                                                                                   : "";
    if (!missing.empty()) {
      std::printf("skipped: %s (%s is missing)\n", s.c_str(), missing.c_str());
      continue;
    }
    servers.push_back(s);
  }

  const std::map<std::string, std::string> titles = {
      {"node", "Node 20 tls"},     {"asio-openssl", "Asio ssl::stream + OpenSSL 3"},
      {"asio", "ours asio"},       {"posix", "ours posix"},
      {"uv", "ours uv"},           {"attached", "attached server"},
      {"tcp", "TCP only (no TLS)"}};
  if (o.table) {
    std::printf(
        "transports bench: %d reps, %d handshakes (and %d one at a time), %zu MiB echoed, "
        "%d idle; servers interleaved\n",
        o.reps, o.handshakes, std::max(32, o.handshakes / 6), o.mib, o.idle);
    std::map<std::string, std::vector<Figures>> results;
    for (int rep = 0; rep < o.reps; ++rep) {
      for (const auto& s : servers) {
        results[s].push_back(Measure(s, argvs[s], o, client_context.value(), dir));
        std::printf("  rep %d %-12s done\n", rep + 1, s.c_str());
        std::fflush(stdout);
      }
    }
    std::vector<double> raw;
    for (int rep = 0; rep < o.reps; ++rep) raw.push_back(RawServerHandshakeSeconds(pki, 500) * 1e6);
    double limit_us = Median(raw);
    auto median = [&](const std::string& s, int i) {
      std::vector<double> v;
      for (const auto& f : results[s]) v.push_back(Get(f, i));
      return Median(v);
    };

    // The table: medians, then ratios to Node. The TCP floor's "handshake" is a connection.
    std::printf("\n| figure (median of %d) |", o.reps);
    for (const auto& s : servers) std::printf(" %s |", titles.at(s).c_str());
    std::printf(" limit |\n|---|");
    for (size_t i = 0; i < servers.size(); ++i) std::printf("---:|");
    std::printf("---:|\n");
    for (int i = 0; i < 5; ++i) {
      std::printf("| %s |", kFigureNames[i]);
      for (const auto& s : servers) {
        double m = median(s, i);
        std::printf(" %s |", std::isnan(m) ? "-" : Fixed(m, i == 4 ? 0 : (i >= 2 ? 2 : 0)).c_str());
      }
      if (i <= 1)
        std::printf(" %s (raw BoringSSL server, in memory) |\n", Fixed(limit_us, 0).c_str());
      else
        std::printf(" |\n");
    }
    std::vector<std::string> tls_servers;
    for (const auto& s : servers)
      if (s != "tcp") tls_servers.push_back(s);
    if (results.count("node")) {
      std::printf("\nRatios to Node (lower is better; < 1 beats Node):\n\n| figure |");
      for (const auto& s : tls_servers) std::printf(" %s |", titles.at(s).c_str());
      std::printf("\n|---|");
      for (size_t i = 0; i < tls_servers.size(); ++i) std::printf("---:|");
      std::printf("\n");
      for (int i = 0; i < 5; ++i) {
        double node_median = median("node", i);
        std::printf("| %s |", kFigureNames[i]);
        for (const auto& s : tls_servers) {
          std::printf(" %s |",
                      node_median > 0 ? Fixed(median(s, i) / node_median, 2).c_str() : "-");
        }
        std::printf("\n");
      }
    }
    std::printf("\nHandshake share of the limit (server CPU per handshake, 32 concurrent / raw):");
    for (const auto& s : tls_servers)
      std::printf(" %s %s;", s.c_str(), Fixed(median(s, 1) / limit_us, 2).c_str());
    std::printf("\n");
    if (results.count("tcp")) {
      // What is left once the server's TCP work (the floor) is taken off each figure.
      double floor_us = median("tcp", 1);
      std::printf(
          "Without the TCP floor (%s us per connection, 32 concurrent): (handshake - "
          "floor) / raw:",
          Fixed(floor_us, 0).c_str());
      for (const auto& s : tls_servers)
        std::printf(" %s %s;", s.c_str(), Fixed((median(s, 1) - floor_us) / limit_us, 2).c_str());
      std::printf("\n");
    }
  }

  if (o.multicore) {
    // Fleets: our echo_server --workers=2 on each transport, Node's cluster. The Asio +
    // OpenSSL anchor is one process by design (a fleet mode would be new code): skipped.
    std::vector<std::string> fleet_servers;
    for (const auto& s : servers)
      if (s == "node" || s == "asio" || s == "posix" || s == "uv") fleet_servers.push_back(s);
    auto fleet_argv = [&](const std::string& s, int workers) {
      std::vector<std::string> a = argvs[s];
      if (workers > 1)
        a.push_back(s == "node" ? std::to_string(workers) : "--workers=" + std::to_string(workers));
      return a;
    };
    const int cpus = static_cast<int>(std::thread::hardware_concurrency());
    std::printf(
        "\nmulti-core: %d reps, %d full handshakes, 32 concurrent, from a load client of %d "
        "thread(s); 1 worker process, then 2 (SO_REUSEPORT; Node: cluster); %d CPUs online\n",
        o.reps, o.handshakes, o.client_threads, cpus);
    std::map<std::string, std::vector<FleetFigures>> one, two;
    for (int rep = 0; rep < o.reps; ++rep) {
      for (const auto& s : fleet_servers) {
        one[s].push_back(
            MeasureFleet(s, fleet_argv(s, 1), 1, o.client_threads, o, client_context.value(), dir));
        two[s].push_back(
            MeasureFleet(s, fleet_argv(s, 2), 2, o.client_threads, o, client_context.value(), dir));
        std::printf("  rep %d %-12s done\n", rep + 1, s.c_str());
        std::fflush(stdout);
      }
    }
    // Each row: the median over the repetitions of a figure of one (1 worker, 2 workers) pair,
    // so that ratios compare runs made side by side.
    auto row = [&](const char* label, int digits,
                   const std::function<double(const FleetFigures&, const FleetFigures&)>& fig) {
      std::printf("| %s |", label);
      for (const auto& s : fleet_servers) {
        std::vector<double> v;
        for (int rep = 0; rep < o.reps; ++rep) v.push_back(fig(one[s][rep], two[s][rep]));
        std::printf(" %s |", Fixed(Median(v), digits).c_str());
      }
      std::printf("\n");
    };
    std::printf("\n| multi-core figure (median of %d) |", o.reps);
    for (const auto& s : fleet_servers)
      std::printf(" %s%s |", titles.at(s).c_str(), s == "node" ? " (cluster)" : "");
    std::printf("\n|---|");
    for (size_t i = 0; i < fleet_servers.size(); ++i) std::printf("---:|");
    std::printf("\n");
    using F = const FleetFigures&;
    row("full handshakes per second, 1 worker", 0, [](F a, F) { return a.per_second; });
    row("full handshakes per second, 2 workers", 0, [](F, F b) { return b.per_second; });
    row("2 workers / 1 worker (goal >= 1.8)", 2,
        [](F a, F b) { return b.per_second / a.per_second; });
    row("server CPU per handshake, 1 worker (us)", 0, [](F a, F) { return a.server_us; });
    row("server CPU per handshake, 2 workers, all processes (us)", 0,
        [](F, F b) { return b.server_us; });
    row("load client CPU per handshake (us)", 0,
        [](F a, F b) { return (a.client_us + b.client_us) / 2; });
    row("CPUs busy (server + client CPU per wall second), 1 worker", 2,
        [](F a, F) { return (a.server_us + a.client_us) * a.per_second / 1e6; });
    row("CPUs busy, 2 workers", 2,
        [](F, F b) { return (b.server_us + b.client_us) * b.per_second / 1e6; });
    row("busiest worker's share of the workers' CPU, 2 workers", 2,
        [](F, F b) { return b.busiest_share; });
    // Were each worker given its own free core, the fleet would be bounded by its busiest
    // worker: rate 1 / (CPU per handshake x its share), against 1 / (CPU per handshake).
    row("projected 2 / 1 with a free core per worker: cpu1 / (cpu2 x busiest share)", 2,
        [](F a, F b) { return a.server_us / (b.server_us * b.busiest_share); });
    std::printf(
        "\nClient and servers share the machine's %d CPUs: where \"CPUs busy\" is near %d, "
        "the handshakes per second measure the machine, not the server, and the projection "
        "(from CPU per handshake and the workers' balance) is the server's own scaling.\n",
        cpus, cpus);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace sansio_tls::bench

int main(int argc, char** argv) { return sansio_tls::bench::Main(argc, argv); }
