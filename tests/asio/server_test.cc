// Server and AsyncConnect: Node's server lifecycle (secureConnection, clientError once,
// drop at max_connections, connections count, handshake timeout, setSecureContext) on one
// io_context, on one io_context run by several threads, and on one io_context per thread.
#include "transports/asio/server.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "tests/asio/test_util.h"
#include "tests/common/stuck_peer.h"
#include "transports/asio/connect.h"

namespace sansio_tls::asio_tls {
namespace {

using test::Contexts;
using test::MakeContexts;
using test::Payload;
using test::RunFor;
using test::tcp;
using namespace std::chrono_literals;

// Echoes until the peer's close_notify, then answers it. Owns the stream.
asio::awaitable<void> EchoSession(TlsStream tls) {
  char buf[4096];
  for (;;) {
    auto [ec, n] = co_await tls.async_read_some(asio::buffer(buf),
                                                asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) break;
    co_await asio::async_write(tls, asio::buffer(buf, n), asio::use_awaitable);
  }
  auto [ec] = co_await tls.async_shutdown(2s, asio::experimental::as_tuple(asio::use_awaitable));
  (void)ec;
}

ServerCallbacks EchoCallbacks(std::atomic<int>* secure = nullptr) {
  return {.secure_connection = [secure](TlsStream tls) {
    if (secure) ++*secure;
    auto ex = tls.get_executor();
    asio::co_spawn(ex, EchoSession(std::move(tls)), asio::detached);
  }};
}

// Connects, checks one echo round trip, shuts down. Counts successes in |ok|.
asio::awaitable<void> EchoClient(uint16_t port, std::shared_ptr<const Context> ctx, int id,
                                 std::atomic<int>& ok, std::string host = "localhost") {
  auto ex = co_await asio::this_coro::executor;
  ConnectOptions options;  // named: see AsyncConnect about GCC 12 and braced temporaries
  TlsStream tls = co_await AsyncConnect(ex, host, port, ctx, options, asio::use_awaitable);
  if (!tls.authorized()) throw std::runtime_error("unauthorized: " + tls.authorization_error());
  std::string msg = Payload(1000 + id, id);
  co_await asio::async_write(tls, asio::buffer(msg), asio::use_awaitable);
  std::string back(msg.size(), '\0');
  co_await asio::async_read(tls, asio::buffer(back), asio::use_awaitable);
  if (back != msg) throw std::runtime_error("echo mismatch");
  co_await tls.async_shutdown(2s, asio::use_awaitable);
  ++ok;
}

std::shared_ptr<Server> MustListen(asio::io_context& ioc, const Contexts& ctx, ServerOptions o,
                                   ServerCallbacks cb) {
  auto s = Server::Listen(ioc, ctx.server, std::move(o), std::move(cb));
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().code + ": " + s.error().message);
  return s.ok() ? s.value() : nullptr;
}

TEST(AsioServer, ServesClientsAndCountsConnections) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  std::atomic<int> secure{0}, ok{0}, failed{0};
  auto server = MustListen(ioc, ctx, {}, EchoCallbacks(&secure));
  ASSERT_TRUE(server);
  EXPECT_NE(server->port(), 0);
  for (int i = 0; i < 20; ++i) {
    asio::co_spawn(ioc, EchoClient(server->port(), ctx.client, i, ok),
                   [&](std::exception_ptr e) { failed += e != nullptr; });
  }
  // An IP literal is checked against the certificate's IP SANs.
  asio::co_spawn(ioc, EchoClient(server->port(), ctx.client, 99, ok, "127.0.0.1"),
                 [&](std::exception_ptr e) { failed += e != nullptr; });
  size_t peak = 0;
  asio::steady_timer sampler(ioc);
  std::function<void()> sample = [&] {
    peak = std::max(peak, server->connections());
    if (ok + failed < 21) {
      sampler.expires_after(1ms);
      sampler.async_wait([&](std::error_code) { sample(); });
    } else {
      server->Close();
    }
  };
  sample();
  RunFor(ioc);
  EXPECT_EQ(ok.load(), 21);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(secure.load(), 21);
  EXPECT_GT(peak, 0u);
  EXPECT_EQ(server->connections(), 0u);  // every stream was destroyed
}

TEST(AsioServer, MaxConnectionsDropsTheNextSocketBeforeAnyTlsByte) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  std::vector<TlsStream> held;  // established connections the application keeps open
  std::vector<DropInfo> drops;
  std::atomic<int> secure{0};
  auto server = MustListen(ioc, ctx, {.max_connections = 2},
                           {.secure_connection =
                                [&](TlsStream tls) {
                                  ++secure;
                                  held.push_back(std::move(tls));
                                },
                            .drop = [&](const DropInfo& d) { drops.push_back(d); }});
  ASSERT_TRUE(server);
  std::vector<std::error_code> results;
  std::vector<TlsStream> clients;
  std::function<void(int)> connect = [&](int left) {
    if (left == 0) return;
    AsyncConnect(ioc.get_executor(), "localhost", server->port(), ctx.client, {},
                 [&, left](std::error_code ec, TlsStream tls) {
                   results.push_back(ec);
                   if (!ec) clients.push_back(std::move(tls));
                   connect(left - 1);
                 });
  };
  connect(3);
  asio::steady_timer t(ioc, 1s);
  t.async_wait([&](std::error_code) { server->Close(); });
  RunFor(ioc);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_FALSE(results[0]) << results[0].message();
  EXPECT_FALSE(results[1]) << results[1].message();
  EXPECT_EQ(results[2], make_error_code(errc::connection_reset)) << results[2].message();
  EXPECT_EQ(secure.load(), 2);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].local.port(), server->port());
  EXPECT_EQ(server->connections(), 2u);
  held.clear();
  EXPECT_EQ(server->connections(), 0u);
}

// Node's allowHalfOpen on a server's streams. The client sends "ping" and ends its side at
// once (close_notify and FIN in the same flight), then reads until the end; the server
// answers what it reads with "pong", reads until the end, then writes "late".
struct HalfOpenRun {
  std::error_code server_read, server_answer, server_write, client_end;
  std::string client_got;
};

HalfOpenRun RunHalfOpen(bool allow_half_open) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  HalfOpenRun run;
  std::shared_ptr<Server> server;
  auto serve = [&run](TlsStream tls) -> asio::awaitable<void> {
    auto tuple = asio::experimental::as_tuple(asio::use_awaitable);
    char buf[256];
    for (;;) {
      auto [ec, n] = co_await tls.async_read_some(asio::buffer(buf), tuple);
      if (ec) {
        run.server_read = ec;
        break;
      }
      auto [aec, an] = co_await asio::async_write(tls, asio::buffer("pong", 4), tuple);
      if (aec) run.server_answer = aec;
    }
    auto [wec, n] = co_await tls.async_write_some(asio::buffer("late", 4), tuple);
    run.server_write = wec;
    co_await tls.async_shutdown(2s, tuple);
  };
  server = MustListen(ioc, ctx, {.allow_half_open = allow_half_open},
                      {.secure_connection = [&](TlsStream tls) {
                        auto ex = tls.get_executor();
                        asio::co_spawn(ex, serve(std::move(tls)), asio::detached);
                      }});
  if (!server) return run;
  auto client = [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    ConnectOptions options;
    TlsStream tls = co_await AsyncConnect(ex, "localhost", server->port(), ctx.client, options,
                                          asio::use_awaitable);
    co_await asio::async_write(tls, asio::buffer("ping", 4), asio::use_awaitable);
    co_await tls.async_shutdown(0s, asio::use_awaitable);  // ends our side only
    char buf[256];
    for (;;) {
      auto [ec, n] = co_await tls.async_read_some(
          asio::buffer(buf), asio::experimental::as_tuple(asio::use_awaitable));
      if (ec) {
        run.client_end = ec;
        break;
      }
      run.client_got.append(buf, n);
    }
    server->Close();
  };
  asio::co_spawn(ioc, client(), [](std::exception_ptr e) { EXPECT_FALSE(e); });
  RunFor(ioc);
  return run;
}

TEST(AsioServer, ThePeersEndEndsThisSideUnlessAllowHalfOpen) {
  HalfOpenRun closed = RunHalfOpen(false);  // the default, as Node's and the other servers'
  EXPECT_EQ(closed.server_read, asio::error::eof);
  // What the server wrote before its read reported the end goes out first.
  EXPECT_FALSE(closed.server_answer) << closed.server_answer.message();
  EXPECT_EQ(closed.server_write, make_error_code(errc::write_after_end));
  EXPECT_EQ(closed.client_end, asio::error::eof);  // our close_notify answered the client's
  EXPECT_EQ(closed.client_got, "pong");

  HalfOpenRun open = RunHalfOpen(true);
  EXPECT_EQ(open.server_read, asio::error::eof);
  EXPECT_FALSE(open.server_answer) << open.server_answer.message();
  EXPECT_FALSE(open.server_write) << open.server_write.message();
  EXPECT_EQ(open.client_end, asio::error::eof);
  EXPECT_EQ(open.client_got, "ponglate");
}

TEST(AsioServer, HandshakeTimeoutIsOneClientError) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  std::vector<ClientErrorInfo> errors;
  std::atomic<int> secure{0};
  std::shared_ptr<Server> server;
  server = MustListen(ioc, ctx, {.handshake_timeout = 100ms},
                      {.secure_connection = [&](TlsStream) { ++secure; },
                       .client_error =
                           [&](const ClientErrorInfo& e) {
                             errors.push_back(e);
                             server->Close();
                           }});
  ASSERT_TRUE(server);
  tcp::socket raw(ioc);  // connects and says nothing
  raw.connect(server->local_endpoint());
  size_t during = 0;
  asio::steady_timer sample(ioc, 50ms);
  sample.async_wait([&](std::error_code) { during = server->connections(); });
  RunFor(ioc);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].error.code, "ERR_TLS_HANDSHAKE_TIMEOUT");
  EXPECT_EQ(errors[0].code, make_error_code(errc::handshake_timeout));
  EXPECT_EQ(errors[0].remote, raw.local_endpoint());
  EXPECT_EQ(secure.load(), 0);
  EXPECT_EQ(during, 1u);
  EXPECT_EQ(server->connections(), 0u);
  // The server closed its end.
  char b;
  std::error_code ec;
  raw.read_some(asio::buffer(&b, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

TEST(AsioServer, JunkAndRejectedClientsAreClientErrorsNeverSecureConnections) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  auto strict = test::MustCreate(
      ServerContextOptions{.credentials = {.key_pem = ctx.pki.server.key_pem,
                                           .cert_chain_pem = ctx.pki.server_chain_pem()},
                           .ca_pems = {ctx.pki.root.cert_pem},
                           .request_cert = true,
                           .reject_unauthorized = true});
  std::vector<ClientErrorInfo> errors;
  std::atomic<int> secure{0};
  auto s = Server::Listen(ioc, strict, {},
                          {.secure_connection = [&](TlsStream) { ++secure; },
                           .client_error = [&](const ClientErrorInfo& e) { errors.push_back(e); }});
  ASSERT_TRUE(s.ok());
  auto server = s.value();

  // 1 MiB of 0x2A, as in Node's test.
  tcp::socket raw(ioc);
  raw.connect(server->local_endpoint());
  std::string junk(1 << 20, '\x2a');
  asio::async_write(raw, asio::buffer(junk), [](std::error_code, size_t) {});
  // A TLS client without a certificate.
  std::error_code client_ec;
  AsyncConnect(ioc.get_executor(), "localhost", server->port(), ctx.client, {},
               [&](std::error_code ec, TlsStream tls) {
                 client_ec = ec;
                 if (ec) return;
                 // TLS 1.3: the client finishes first; the rejection arrives as an alert.
                 auto holder = std::make_shared<TlsStream>(std::move(tls));
                 auto buf = std::make_shared<std::array<char, 16>>();
                 holder->async_read_some(
                     asio::buffer(*buf),
                     [holder, buf, &client_ec](std::error_code e, size_t) { client_ec = e; });
               });
  asio::steady_timer t(ioc, 1500ms);
  t.async_wait([&](std::error_code) { server->Close(); });
  RunFor(ioc);
  EXPECT_EQ(secure.load(), 0);
  ASSERT_EQ(errors.size(), 2u);
  int ssl_errors = 0, cert_errors = 0;
  for (const auto& e : errors) {
    if (e.error.code.rfind("ERR_SSL_", 0) == 0) ++ssl_errors;
    if (e.error.code == "UNABLE_TO_GET_ISSUER_CERT") ++cert_errors;
  }
  EXPECT_EQ(ssl_errors, 1);
  EXPECT_EQ(cert_errors, 1);
  EXPECT_EQ(client_ec.message(), "ERR_SSL_TLSV1_ALERT_CERTIFICATE_REQUIRED");
  EXPECT_EQ(server->connections(), 0u);
}

TEST(AsioServer, SetContextServesNewConnectionsWithTheNewCertificate) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  testing::Cert other = testing::MakeSigned(
      {.subject = {{"CN", "renewed"}}, .dns_names = {"localhost"}}, ctx.pki.intermediate);
  auto renewed = test::MustCreate(ServerContextOptions{
      .credentials = {.key_pem = other.key_pem,
                      .cert_chain_pem = other.cert_pem + ctx.pki.intermediate.cert_pem}});
  auto server = MustListen(ioc, ctx, {}, EchoCallbacks());
  ASSERT_TRUE(server);
  std::vector<std::string> cns;
  auto connect_once = [&](std::function<void()> next) {
    AsyncConnect(ioc.get_executor(), "localhost", server->port(), ctx.client, {},
                 [&, next](std::error_code ec, TlsStream tls) {
                   ASSERT_FALSE(ec) << ec.message();
                   cns.push_back(tls.peer_certificate()->subject.back().second);
                   auto holder = std::make_shared<TlsStream>(std::move(tls));
                   holder->async_shutdown(2s, [holder, next](std::error_code) { next(); });
                 });
  };
  connect_once([&] {
    EXPECT_FALSE(server->SetContext(ctx.client));  // a client context is refused
    EXPECT_TRUE(server->SetContext(renewed));
    connect_once([&] { server->Close(); });
  });
  RunFor(ioc);
  EXPECT_EQ(cns, (std::vector<std::string>{"localhost", "renewed"}));
}

TEST(AsioServer, ListenErrorsAreNodeCodes) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  auto first = MustListen(ioc, ctx, {}, EchoCallbacks());
  ASSERT_TRUE(first);
  auto again = Server::Listen(ioc, ctx.server, {.port = first->port()}, EchoCallbacks());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "EADDRINUSE");
  auto client_ctx = Server::Listen(ioc, ctx.client, {}, EchoCallbacks());
  ASSERT_FALSE(client_ctx.ok());
  EXPECT_EQ(client_ctx.error().code, "ERR_INVALID_ARG_VALUE");
  auto no_callback = Server::Listen(ioc, ctx.server, {}, {});
  ASSERT_FALSE(no_callback.ok());
  EXPECT_EQ(no_callback.error().code, "ERR_INVALID_ARG_VALUE");
  first->Close();
  RunFor(ioc);
}

// ---- Every core --------------------------------------------------------------------------

TEST(AsioServer, OneIoContextPerThreadWithReusePort) {
  constexpr int kThreads = 2;
  constexpr int kClients = 40;
  Contexts ctx = MakeContexts();
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  std::vector<asio::io_context*> raw;
  for (int i = 0; i < kThreads; ++i) {
    iocs.push_back(std::make_unique<asio::io_context>(1));
    raw.push_back(iocs.back().get());
  }
  std::mutex mu;
  std::set<asio::io_context*> served_by;
  std::atomic<int> secure{0};
  auto s = Server::Listen(raw, ctx.server, {}, {.secure_connection = [&](TlsStream tls) {
                            {
                              std::lock_guard<std::mutex> lock(mu);
                              for (auto* ioc : raw) {
                                if (ioc->get_executor().running_in_this_thread()) {
                                  served_by.insert(ioc);
                                }
                              }
                            }
                            ++secure;
                            auto ex = tls.get_executor();
                            asio::co_spawn(ex, EchoSession(std::move(tls)), asio::detached);
                          }});
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto server = s.value();
  std::vector<std::thread> threads;
  for (auto* ioc : raw) threads.emplace_back([ioc] { ioc->run(); });

  asio::io_context clients;
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < kClients; ++i) {
    asio::co_spawn(clients, EchoClient(server->port(), ctx.client, i, ok),
                   [&](std::exception_ptr e) { failed += e != nullptr; });
  }
  RunFor(clients, 60s);
  server->Close();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(secure.load(), kClients);
  EXPECT_EQ(served_by.size(), 2u);  // the kernel spread connections over both listeners
  EXPECT_EQ(server->connections(), 0u);
}

TEST(AsioServer, OneIoContextRunByThreadsWithAStrandPerConnection) {
  constexpr int kThreads = 3;
  constexpr int kClients = 40;
  Contexts ctx = MakeContexts();
  asio::io_context ioc(kThreads);
  std::atomic<int> secure{0};
  auto server = MustListen(ioc, ctx, {}, EchoCallbacks(&secure));
  ASSERT_TRUE(server);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back([&] { ioc.run(); });
  asio::io_context clients;
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < kClients; ++i) {
    asio::co_spawn(clients, EchoClient(server->port(), ctx.client, i, ok),
                   [&](std::exception_ptr e) { failed += e != nullptr; });
  }
  RunFor(clients, 60s);
  server->Close();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(secure.load(), kClients);
}

// ---- AsyncConnect ----------------------------------------------------------------------

// Regression (found on POSIX): a client that filled the pipeline and then went away must
// be released at once, with its descriptor, and lock nobody out under max_connections.
class AsioStuckPeer : public ::testing::TestWithParam<test_stuck_peer::Ending> {};

TEST_P(AsioStuckPeer, IsReleasedWithItsDescriptorAndLocksNobodyOut) {
  using test_stuck_peer::Ending;
  asio::io_context ioc;
  Contexts ctx = MakeContexts(TlsVersion::kTls13);
  std::atomic<int> drops{0};
  ServerCallbacks callbacks = EchoCallbacks();
  callbacks.drop = [&](const DropInfo&) { ++drops; };
  auto server = MustListen(ioc, ctx, {.max_connections = 2}, callbacks);
  ASSERT_TRUE(server);
  auto work = asio::make_work_guard(ioc);
  std::thread runner([&] { ioc.run(); });
  auto held = [&] { return server->connections(); };
  EXPECT_EQ(test_stuck_peer::EchoRoundTrip(server->port(), ctx.client), "");
  ASSERT_TRUE(test_stuck_peer::WaitForZero(held));
  const size_t baseline = test_stuck_peer::OpenFds();
  for (int i = 0; i < 2; ++i) {
    auto o = test_stuck_peer::WriteWithoutReadingThenLeave(server->port(), ctx.client, GetParam());
    EXPECT_TRUE(o.handshake_ok) << o.error;
    EXPECT_EQ(o.error, "");
    if (GetParam() == Ending::kFinAndDrain) {
      EXPECT_TRUE(o.clean_end) << "the server answers the end with close_notify";
      EXPECT_EQ(o.echoed.size(), o.written) << "every byte the client wrote comes back";
      EXPECT_EQ(o.echoed == Payload(64 << 20, 11).substr(0, o.written), true);
    }
    auto left = std::chrono::steady_clock::now();
    EXPECT_TRUE(test_stuck_peer::WaitForZero(held)) << "still held: " << held();
    std::printf("asio stuck peer %d: wrote %zu B, released %lld ms after it left\n",
                static_cast<int>(GetParam()), o.written,
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - left)
                                           .count()));
  }
  EXPECT_EQ(test_stuck_peer::OpenFds(), baseline) << "every descriptor is back";
  EXPECT_EQ(test_stuck_peer::EchoRoundTrip(server->port(), ctx.client), "");
  EXPECT_EQ(drops.load(), 0);
  asio::post(ioc, [&] { server->Close(); });
  work.reset();
  runner.join();
}

INSTANTIATE_TEST_SUITE_P(Endings, AsioStuckPeer,
                         ::testing::Values(test_stuck_peer::Ending::kReset,
                                           test_stuck_peer::Ending::kFinThenGone,
                                           test_stuck_peer::Ending::kFinAndDrain));

TEST(AsioConnect, RefusedAndTimedOutAndCancelled) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  // A port nobody listens on.
  uint16_t closed_port;
  {
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    closed_port = a.local_endpoint().port();
  }
  std::error_code refused, timed_out, cancelled;
  bool refused_empty = false;
  AsyncConnect(ioc.get_executor(), "127.0.0.1", closed_port, ctx.client, {},
               [&](std::error_code ec, TlsStream tls) {
                 refused = ec;
                 refused_empty = !tls.valid();
               });
  // A listener that accepts (in the kernel) but never speaks TLS.
  tcp::acceptor silent(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  AsyncConnect(ioc.get_executor(), "localhost", silent.local_endpoint().port(), ctx.client,
               {.handshake_timeout = 100ms},
               [&](std::error_code ec, TlsStream) { timed_out = ec; });
  asio::cancellation_signal cancel;
  AsyncConnect(ioc.get_executor(), "localhost", silent.local_endpoint().port(), ctx.client, {},
               asio::bind_cancellation_slot(
                   cancel.slot(), [&](std::error_code ec, TlsStream) { cancelled = ec; }));
  asio::steady_timer t(ioc, 50ms);
  t.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  RunFor(ioc);
  EXPECT_EQ(refused, asio::error::connection_refused);
  EXPECT_TRUE(refused_empty);
  EXPECT_EQ(timed_out, make_error_code(errc::handshake_timeout));
  EXPECT_EQ(cancelled, asio::error::operation_aborted);
}

TEST(AsioConnect, ChecksTheHostNameItConnectedTo) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  auto server = MustListen(ioc, ctx, {}, EchoCallbacks());
  ASSERT_TRUE(server);
  std::error_code wrong_name;
  // The server's certificate has no SAN for this name.
  AsyncConnect(ioc.get_executor(), "127.0.0.1", server->port(), ctx.client,
               {.session = {.servername = "example.com"}}, [&](std::error_code ec, TlsStream) {
                 wrong_name = ec;
                 server->Close();
               });
  RunFor(ioc);
  EXPECT_EQ(wrong_name, make_error_code(errc::hostname_mismatch));
}

}  // namespace
}  // namespace sansio_tls::asio_tls
