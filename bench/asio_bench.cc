// The Asio transport over loopback TCP, both ends in this process on one thread:
//  - idle heap per connection: N connections handshaken (TLS 1.3, ECDSA, verified), one
//    echo round trip each, then idle with a read outstanding on both ends (what a server
//    holding N quiet clients looks like); the client ends' share is measured by destroying
//    them without running the loop, the rest is the server ends';
//  - full handshakes per CPU second (connect, handshake, one byte each way, close);
//  - one-way bulk MB per CPU second, 16 KiB writes.
//   ./bazelw run -c opt //bench:asio_transport -- [--connections=N] [--handshakes=N] [--mib=N]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "bench/bench_util.h"
#include "bench/heap_counter.h"
#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "transports/asio/stream.h"

namespace sansio_tls::bench {
namespace {

using asio::ip::tcp;
using Tls = asio_tls::Stream<tcp::socket>;

struct Conn {
  std::unique_ptr<Tls> client, server;
};

// Connects a loopback pair and wraps both ends (no I/O yet).
Conn Make(asio::io_context& ioc, tcp::acceptor& acceptor, const Contexts& ctx) {
  tcp::socket c(ioc), s(ioc);
  c.connect(acceptor.local_endpoint());
  acceptor.accept(s);
  c.set_option(tcp::no_delay(true));
  s.set_option(tcp::no_delay(true));
  return {
      std::make_unique<Tls>(std::move(c), ctx.client, SessionOptions{.servername = "localhost"}),
      std::make_unique<Tls>(std::move(s), ctx.server)};
}

// Handshake, one byte each way (the client gets its TLS 1.3 tickets), then a read
// outstanding on both ends.
void StartIdle(Conn& c, char* cbuf, char* sbuf, int* idle = nullptr) {
  c.server->async_handshake([&c, sbuf, idle](std::error_code ec) {
    if (ec) std::abort();
    asio::async_read(*c.server, asio::buffer(sbuf, 1), [&c, sbuf, idle](std::error_code e, size_t) {
      if (e) std::abort();
      asio::async_write(
          *c.server, asio::buffer("s", 1), [&c, sbuf, idle](std::error_code e2, size_t) {
            if (e2) std::abort();
            if (idle) ++*idle;
            c.server->async_read_some(asio::buffer(sbuf, 1), [](std::error_code, size_t) {});
          });
    });
  });
  c.client->async_handshake([&c, cbuf, idle](std::error_code ec) {
    if (ec) std::abort();
    asio::async_write(*c.client, asio::buffer("c", 1), [&c, cbuf, idle](std::error_code e, size_t) {
      if (e) std::abort();
      asio::async_read(
          *c.client, asio::buffer(cbuf, 1), [&c, cbuf, idle](std::error_code e2, size_t) {
            if (e2) std::abort();
            if (idle) ++*idle;
            c.client->async_read_some(asio::buffer(cbuf, 1), [](std::error_code, size_t) {});
          });
    });
  });
}

void IdleHeap(const Contexts& ctx, int n) {
  asio::io_context ioc(1);
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  acceptor.listen(4096);
  std::vector<Conn> conns;
  conns.reserve(n);
  std::vector<char> bufs(2 * n);
  // Warm-up: one connection through the whole cycle first (per-thread buffers, pools).
  {
    Conn w = Make(ioc, acceptor, ctx);
    char a, b;
    StartIdle(w, &a, &b);
    ioc.run_for(std::chrono::seconds(5));
    w.client.reset();
    w.server.reset();
    ioc.restart();
    ioc.poll();
    ioc.restart();
  }
  HeapSnapshot before = TakeHeapSnapshot();
  for (int i = 0; i < n; ++i) {
    conns.push_back(Make(ioc, acceptor, ctx));
    StartIdle(conns.back(), &bufs[2 * i], &bufs[2 * i + 1]);
    if (i % 64 == 63) ioc.poll();
  }
  // Run until every connection is idle (nothing ready; reads outstanding).
  for (int round = 0; round < 1000; ++round) {
    if (ioc.poll() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (ioc.poll() == 0) break;
    }
  }
  HeapSnapshot all = TakeHeapSnapshot();
  for (auto& c : conns) c.client.reset();  // the loop does not run: server reads stay queued
  HeapSnapshot servers = TakeHeapSnapshot();
  double pair = double(all.total() - before.total()) / n;
  double server = double(servers.total() - before.total()) / n;
  double server_ssl = double(servers.boringssl() - before.boringssl()) / n;
  std::printf("idle heap per connection (%d connections, TLS 1.3 ECDSA, read outstanding):\n", n);
  std::printf("  client + server ends: %.0f B\n", pair);
  std::printf("  server end: %.0f B (BoringSSL %.0f B, ours + Asio %.0f B)\n", server, server_ssl,
              server - server_ssl);
  std::printf("  client end: %.0f B\n", pair - server);
  std::printf("{\"figure\":\"asio_idle_heap_server_end\",\"bytes\":%.0f}\n", server);
  std::printf("{\"figure\":\"asio_idle_heap_client_end\",\"bytes\":%.0f}\n", pair - server);
  for (auto& c : conns) c.server.reset();
  ioc.restart();
  ioc.poll();
}

void Handshakes(const Contexts& ctx, int n) {
  asio::io_context ioc(1);
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  double cpu0 = CpuSeconds();
  auto wall0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    Conn c = Make(ioc, acceptor, ctx);
    char a, b;
    int idle = 0;
    StartIdle(c, &a, &b, &idle);
    ioc.restart();
    while (idle < 2) ioc.run_one();
  }
  double cpu = CpuSeconds() - cpu0;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf(
      "full handshakes over loopback, both ends on one thread: %.0f /CPU s (%.0f us CPU "
      "per client+server pair; wall %.2f s for %d)\n",
      n / cpu, cpu / n * 1e6, wall, n);
  std::printf("{\"figure\":\"asio_handshakes_per_cpu_second\",\"value\":%.0f}\n", n / cpu);
}

void Bulk(const Contexts& ctx, size_t mib) {
  asio::io_context ioc(1);
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  Conn c = Make(ioc, acceptor, ctx);
  const size_t total = mib << 20;
  std::string chunk(16 * 1024, 'x');
  size_t sent = 0, received = 0;
  std::vector<char> rbuf(64 * 1024);
  std::function<void()> write_more = [&] {
    if (sent >= total) return;
    asio::async_write(*c.client, asio::buffer(chunk), [&](std::error_code ec, size_t n) {
      if (ec) std::abort();
      sent += n;
      write_more();
    });
  };
  std::function<void()> read_more = [&] {
    c.server->async_read_some(asio::buffer(rbuf), [&](std::error_code ec, size_t n) {
      if (ec) std::abort();
      received += n;
      if (received < total) read_more();
    });
  };
  int handshaken = 0;
  auto on_handshake = [&](std::error_code ec) {
    if (ec) std::abort();
    ++handshaken;
  };
  c.client->async_handshake(on_handshake);
  c.server->async_handshake(on_handshake);
  while (handshaken < 2) ioc.run_one();
  double cpu0 = CpuSeconds();
  auto wall0 = std::chrono::steady_clock::now();
  write_more();
  read_more();
  ioc.restart();
  ioc.run();
  double cpu = CpuSeconds() - cpu0;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf(
      "bulk one way over loopback, 16 KiB writes, both ends on one thread: %.0f MB/CPU s "
      "(%zu MiB in %.2f s wall)\n",
      total / 1e6 / cpu, mib, wall);
  std::printf("{\"figure\":\"asio_bulk_mb_per_cpu_second\",\"value\":%.0f}\n", total / 1e6 / cpu);
}

}  // namespace
}  // namespace sansio_tls::bench

int main(int argc, char** argv) {
  int connections = 2000, handshakes = 1000;
  size_t mib = 512;
  for (int i = 1; i < argc; ++i) {
    if (std::sscanf(argv[i], "--connections=%d", &connections) == 1) continue;
    if (std::sscanf(argv[i], "--handshakes=%d", &handshakes) == 1) continue;
    if (std::sscanf(argv[i], "--mib=%zu", &mib) == 1) continue;
    std::fprintf(stderr, "usage: asio_transport [--connections=N] [--handshakes=N] [--mib=N]\n");
    return 2;
  }
  if (!sansio_tls::bench::InitHeapCounter()) {
    std::fprintf(stderr, "warning: BoringSSL's allocations are not separated\n");
  }
  auto ctx = sansio_tls::bench::MakeContexts();
  if (connections > 0) sansio_tls::bench::IdleHeap(ctx, connections);
  if (handshakes > 0) sansio_tls::bench::Handshakes(ctx, handshakes);
  if (mib > 0) sansio_tls::bench::Bulk(ctx, mib);
  return 0;
}
