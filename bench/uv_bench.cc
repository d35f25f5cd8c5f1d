// The libuv transport over loopback TCP, with the POSIX transport side by side:
//  - idle heap per connection: N connections handshaken (TLS 1.3, ECDSA, verified), one
//    byte each way (the client gets its tickets), then idle with reads outstanding. uv: the
//    server runs its own loop on a second thread; once everything is idle that loop stops,
//    the client ends are destroyed (their loop runs until their handles are freed), and what
//    is left is the server ends' share. POSIX: non-blocking Connections (StartTls on accepted
//    and connected sockets) driven by Advance() from one thread; per client+server pair;
//  - full handshakes per CPU second (uv, both ends on one loop: connect, handshake, one byte
//    each way, close);
//  - one-way bulk MB per CPU second, 16 KiB writes (uv, both ends on one loop).
//   ./bazelw run -c opt //bench:uv_transport -- [--connections=N] [--handshakes=N] [--mib=N]
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "bench/heap_counter.h"
#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "transports/posix/connection.h"
#include "transports/posix/socket.h"
#include "transports/uv/server.h"
#include "transports/uv/stream.h"

namespace sansio_tls::bench {
namespace {

using uv_tls::Stream;
using uv_tls::StreamCallbacks;

// A uv server on its own thread and loop: each connection writes "s" and counts the byte it
// receives. Stop() stops the loop where it is (nothing more runs); Finish() resumes it to
// close everything and joins.
class ServerThread {
 public:
  explicit ServerThread(std::shared_ptr<const Context> ctx) {
    std::promise<uint16_t> port;
    auto got = port.get_future();
    thread_ = std::thread([this, ctx, &port] {
      uv_loop_init(&loop_);
      uv_async_init(&loop_, &stop_, [](uv_async_t* a) { uv_stop(a->loop); });
      uv_tls::ServerCallbacks cb;
      cb.secure_connection = [this](std::unique_ptr<Stream> s) {
        StreamCallbacks scb;
        scb.data = [this](Stream&, std::span<const uint8_t>) { received_.fetch_add(1); };
        s->set_callbacks(scb);
        s->Write("s");
        streams_.push_back(std::move(s));
      };
      auto server = uv_tls::Server::Listen(&loop_, ctx,
                                           {.handshake_timeout = std::chrono::milliseconds(0)}, cb);
      if (!server.ok()) std::abort();
      server_ = std::move(server).value();
      port.set_value(server_->port());
      uv_run(&loop_, UV_RUN_DEFAULT);  // until Stop()
      std::unique_lock<std::mutex> lock(mu_);
      stopped_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return finish_; });
      streams_.clear();
      server_.reset();
      uv_close(reinterpret_cast<uv_handle_t*>(&stop_), nullptr);
      uv_run(&loop_, UV_RUN_DEFAULT);
      uv_loop_close(&loop_);
    });
    port_ = got.get();
  }
  uint16_t port() const { return port_; }
  size_t received() const { return received_.load(); }
  void Stop() {
    uv_async_send(&stop_);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stopped_; });
  }
  void Finish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      finish_ = true;
      cv_.notify_all();
    }
    thread_.join();
  }

 private:
  uv_loop_t loop_;
  uv_async_t stop_;
  std::unique_ptr<uv_tls::Server> server_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::atomic<size_t> received_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false, finish_ = false;
  uint16_t port_ = 0;
  std::thread thread_;
};

void UvIdleHeap(const Contexts& ctx, int n) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ServerThread server(ctx.server);
  std::vector<std::unique_ptr<Stream>> clients;
  clients.reserve(n + 1);
  size_t got = 0;
  StreamCallbacks cb;
  cb.secure = [](Stream& s, const HandshakeInfo&) { s.Write("c"); };
  cb.data = [&got](Stream&, std::span<const uint8_t>) { ++got; };
  auto connect = [&] {
    uv_tls::ConnectOptions o;
    o.session.servername = "localhost";
    o.stream.handshake_timeout = std::chrono::milliseconds(0);
    auto s = uv_tls::Connect(&loop, "127.0.0.1", server.port(), ctx.client, o, cb);
    if (!s.ok()) std::abort();
    clients.push_back(std::move(s).value());
  };
  auto run_until = [&](size_t want) {
    while (got < want || server.received() < want) uv_run(&loop, UV_RUN_ONCE);
    for (int i = 0; i < 10; ++i) {  // timers and handles closing after the handshakes
      uv_run(&loop, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  };
  // Warm-up: one connection through the cycle (per-thread buffers, pools).
  connect();
  run_until(1);
  HeapSnapshot before = TakeHeapSnapshot();
  for (int i = 0; i < n; ++i) {
    connect();
    if (i % 64 == 63) uv_run(&loop, UV_RUN_NOWAIT);
  }
  run_until(static_cast<size_t>(n) + 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the server's timers close
  server.Stop();
  HeapSnapshot all = TakeHeapSnapshot();
  clients.clear();
  while (uv_run(&loop, UV_RUN_NOWAIT) != 0) {
  }
  HeapSnapshot servers = TakeHeapSnapshot();
  double pair = double(all.total() - before.total()) / n;
  double server_end = double(servers.total() - before.total()) / n;
  double server_ssl = double(servers.boringssl() - before.boringssl()) / n;
  std::printf("uv: idle heap per connection (%d connections, TLS 1.3 ECDSA, reading):\n", n);
  std::printf("  client + server ends: %.0f B\n", pair);
  std::printf("  server end: %.0f B (BoringSSL %.0f B, ours + libuv handles %.0f B)\n", server_end,
              server_ssl, server_end - server_ssl);
  std::printf("  client end: %.0f B\n", pair - server_end);
  std::printf("{\"figure\":\"uv_idle_heap_server_end\",\"bytes\":%.0f}\n", server_end);
  std::printf("{\"figure\":\"uv_idle_heap_client_end\",\"bytes\":%.0f}\n", pair - server_end);
  server.Finish();
  uv_loop_close(&loop);
}

// POSIX: both ends as non-blocking Connections on one thread, driven until each pair moved
// one byte each way.
void PosixIdleHeap(const Contexts& ctx, int n) {
  auto listener = posix::TcpListen("127.0.0.1", 0, 4096);
  if (!listener.ok()) std::abort();
  uint16_t port = posix::LocalAddress(listener->get()).port;
  struct Pair {
    std::unique_ptr<posix::Connection> client, server;
  };
  auto make = [&]() -> Pair {
    auto c = posix::TcpConnect("127.0.0.1", port, std::chrono::seconds(10));
    if (!c.ok()) std::abort();
    posix::WaitFd(listener->get(), true, false, posix::Deadline::After(std::chrono::seconds(10)));
    int s = accept4(listener->get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s < 0) std::abort();
    auto client = posix::StartTls(c->release(), ctx.client, {.servername = "localhost"});
    auto server = posix::StartTls(s, ctx.server);
    if (!client.ok() || !server.ok()) std::abort();
    return {std::move(client).value(), std::move(server).value()};
  };
  auto drive = [](Pair& p) {
    bool cw = false, sw = false;
    uint8_t buf[16];
    size_t got_c = 0, got_s = 0;
    for (int round = 0; round < 100000 && (got_c == 0 || got_s == 0); ++round) {
      for (auto* c : {p.client.get(), p.server.get()}) {
        c->Advance();
        while (c->NextEvent()) {
        }
      }
      if (!cw && p.client->session().handshake_done())
        cw = p.client->TryWrite({(const uint8_t*)"c", 1}) == 1;
      if (!sw && p.server->session().handshake_done())
        sw = p.server->TryWrite({(const uint8_t*)"s", 1}) == 1;
      got_c += p.client->TryRead(buf);
      got_s += p.server->TryRead(buf);
      pollfd fds[2] = {{p.client->fd(), POLLIN, 0}, {p.server->fd(), POLLIN, 0}};
      ::poll(fds, 2, 1);
    }
  };
  {
    Pair w = make();
    drive(w);
  }
  HeapSnapshot before = TakeHeapSnapshot();
  std::vector<Pair> pairs;
  pairs.reserve(n);
  for (int i = 0; i < n; ++i) {
    pairs.push_back(make());
    drive(pairs.back());
  }
  for (auto& p : pairs) {  // late tickets
    p.client->Advance();
    while (p.client->NextEvent()) {
    }
  }
  HeapSnapshot all = TakeHeapSnapshot();
  for (auto& p : pairs) p.client.reset();
  HeapSnapshot servers = TakeHeapSnapshot();
  double pair = double(all.total() - before.total()) / n;
  double server_end = double(servers.total() - before.total()) / n;
  std::printf("posix: idle heap per connection (%d connections, TLS 1.3 ECDSA):\n", n);
  std::printf("  client + server ends: %.0f B\n  server end: %.0f B\n  client end: %.0f B\n", pair,
              server_end, pair - server_end);
  std::printf("{\"figure\":\"posix_idle_heap_server_end\",\"bytes\":%.0f}\n", server_end);
  std::printf("{\"figure\":\"posix_idle_heap_client_end\",\"bytes\":%.0f}\n", pair - server_end);
}

void UvHandshakes(const Contexts& ctx, int n) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<std::unique_ptr<Stream>> server_streams;
  uv_tls::ServerCallbacks scb;
  scb.secure_connection = [&](std::unique_ptr<Stream> s) {
    StreamCallbacks cb;
    cb.data = [](Stream& st, std::span<const uint8_t> b) { st.Write(b); };
    s->set_callbacks(cb);
    server_streams.push_back(std::move(s));
  };
  auto server = uv_tls::Server::Listen(&loop, ctx.server, {}, scb);
  if (!server.ok()) std::abort();
  double cpu0 = CpuSeconds();
  auto wall0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    bool closed = false;
    StreamCallbacks cb;
    cb.secure = [](Stream& s, const HandshakeInfo&) { s.Write("x"); };
    cb.data = [](Stream& s, std::span<const uint8_t>) { s.End(); };
    cb.close = [&closed](Stream&, const std::optional<Error>& e) {
      if (e) std::abort();
      closed = true;
    };
    uv_tls::ConnectOptions o;
    o.session.servername = "localhost";
    auto c = uv_tls::Connect(&loop, "127.0.0.1", (*server)->port(), ctx.client, o, cb);
    while (!closed) uv_run(&loop, UV_RUN_ONCE);
    c->reset();
    if (server_streams.size() > 64) server_streams.clear();
  }
  double cpu = CpuSeconds() - cpu0;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf(
      "uv: full handshakes over loopback, both ends on one loop: %.0f /CPU s (%.0f us CPU "
      "per client+server pair; wall %.2f s for %d)\n",
      n / cpu, cpu / n * 1e6, wall, n);
  std::printf("{\"figure\":\"uv_handshakes_per_cpu_second\",\"value\":%.0f}\n", n / cpu);
  server_streams.clear();
  server->reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

void UvBulk(const Contexts& ctx, size_t mib) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  const size_t total = mib << 20;
  size_t received = 0;
  std::vector<std::unique_ptr<Stream>> server_streams;
  uv_tls::ServerCallbacks scb;
  scb.secure_connection = [&](std::unique_ptr<Stream> s) {
    StreamCallbacks cb;
    cb.data = [&received](Stream&, std::span<const uint8_t> b) { received += b.size(); };
    s->set_callbacks(cb);
    server_streams.push_back(std::move(s));
  };
  auto server = uv_tls::Server::Listen(&loop, ctx.server, {}, scb);
  if (!server.ok()) std::abort();
  const std::string chunk(16 * 1024, 'x');
  size_t sent = 0;
  bool secure = false;
  auto pump = [&](Stream& s) {
    while (sent < total) {
      sent += chunk.size();
      if (!s.Write(chunk)) return;  // until drain
    }
  };
  StreamCallbacks cb;
  cb.secure = [&](Stream&, const HandshakeInfo&) { secure = true; };
  cb.drain = pump;
  uv_tls::ConnectOptions o;
  o.session.servername = "localhost";
  auto c = uv_tls::Connect(&loop, "127.0.0.1", (*server)->port(), ctx.client, o, cb);
  while (!secure || server_streams.empty()) uv_run(&loop, UV_RUN_ONCE);
  double cpu0 = CpuSeconds();
  auto wall0 = std::chrono::steady_clock::now();
  pump(**c);
  while (received < total) uv_run(&loop, UV_RUN_ONCE);
  double cpu = CpuSeconds() - cpu0;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf(
      "uv: bulk one way over loopback, 16 KiB writes, both ends on one loop: %.0f MB/CPU s "
      "(%zu MiB in %.2f s wall)\n",
      total / 1e6 / cpu, mib, wall);
  std::printf("{\"figure\":\"uv_bulk_mb_per_cpu_second\",\"value\":%.0f}\n", total / 1e6 / cpu);
  c->reset();
  server_streams.clear();
  server->reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

}  // namespace
}  // namespace sansio_tls::bench

int main(int argc, char** argv) {
  int connections = 2000, handshakes = 500;
  size_t mib = 512;
  for (int i = 1; i < argc; ++i) {
    if (std::sscanf(argv[i], "--connections=%d", &connections) == 1) continue;
    if (std::sscanf(argv[i], "--handshakes=%d", &handshakes) == 1) continue;
    if (std::sscanf(argv[i], "--mib=%zu", &mib) == 1) continue;
    std::fprintf(stderr, "usage: uv_transport [--connections=N] [--handshakes=N] [--mib=N]\n");
    return 2;
  }
  if (!sansio_tls::bench::InitHeapCounter()) {
    std::fprintf(stderr, "warning: BoringSSL's allocations are not separated\n");
  }
  auto ctx = sansio_tls::bench::MakeContexts();
  if (connections > 0) {
    sansio_tls::bench::UvIdleHeap(ctx, connections);
    sansio_tls::bench::PosixIdleHeap(ctx, connections);
  }
  if (handshakes > 0) sansio_tls::bench::UvHandshakes(ctx, handshakes);
  if (mib > 0) sansio_tls::bench::UvBulk(ctx, mib);
  return 0;
}
