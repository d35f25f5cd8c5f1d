// Stream<NextLayer> over loopback TCP: handshakes and data with every completion token style,
// the Asio composed operations, results and errors, shutdown with a deadline, cancellation,
// STARTTLS, executors and allocators, moves, many connections, and several threads.
#include "transports/asio/stream.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <asio/bind_allocator.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/buffers_iterator.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>

#include "tests/asio/test_util.h"
#include "tests/common/test_contexts.h"

namespace sansio_tls::asio_tls {
namespace {

using test::Contexts;
using test::MakeContexts;
using test::Payload;
using test::RunFor;
using test::SocketPair;
using test::tcp;
using TlsSocket = Stream<tcp::socket>;
using namespace std::chrono_literals;

struct StreamPair {
  std::unique_ptr<TlsSocket> client, server;
};

StreamPair MakeStreams(asio::io_context& ioc, const Contexts& ctx,
                       SessionOptions client_options = {.servername = "localhost"}) {
  auto [c, s] = SocketPair(ioc);
  return {std::make_unique<TlsSocket>(std::move(c), ctx.client, std::move(client_options)),
          std::make_unique<TlsSocket>(std::move(s), ctx.server)};
}

// Handshakes both ends with callbacks; returns {client ec, server ec}.
std::pair<std::error_code, std::error_code> Handshake(asio::io_context& ioc, StreamPair& p) {
  std::error_code cec = asio::error::would_block, sec = asio::error::would_block;
  p.client->async_handshake([&](std::error_code ec) { cec = ec; });
  p.server->async_handshake([&](std::error_code ec) { sec = ec; });
  RunFor(ioc);
  return {cec, sec};
}

// ---- Completion token styles ----------------------------------------------------------

TEST(AsioStream, CallbacksHandshakeAndEchoWithNodeStyleResults) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  auto [cec, sec] = Handshake(ioc, p);
  ASSERT_FALSE(cec) << cec.message();
  ASSERT_FALSE(sec) << sec.message();

  EXPECT_TRUE(p.client->authorized()) << p.client->authorization_error();
  EXPECT_EQ(p.client->authorization_error(), "");
  EXPECT_EQ(p.client->protocol(), "TLSv1.3");
  EXPECT_EQ(p.server->servername(), "localhost");
  EXPECT_FALSE(p.server->authorized());  // no client certificate was asked for
  EXPECT_EQ(p.client->alpn_protocol(), std::nullopt);
  EXPECT_EQ(p.client->cipher(), p.server->cipher());
  auto cert = p.client->peer_certificate();
  ASSERT_TRUE(cert.has_value());
  ASSERT_FALSE(cert->subject.empty());
  EXPECT_EQ(cert->subject.back(), (std::pair<std::string, std::string>{"CN", "localhost"}));
  EXPECT_EQ(cert->issuer_cert(), nullptr);
  auto detailed = p.client->peer_certificate(/*detailed=*/true);
  ASSERT_TRUE(detailed.has_value());
  ASSERT_NE(detailed->issuer_cert(), nullptr);  // the intermediate the server sent
  EXPECT_FALSE(p.server->peer_certificate().has_value());

  std::string request = "ping over TLS\n", got;
  char buf[64];
  asio::async_write(*p.client, asio::buffer(request),
                    [](std::error_code ec, size_t) { EXPECT_FALSE(ec) << ec.message(); });
  asio::async_read(*p.server, asio::buffer(buf, request.size()), [&](std::error_code ec, size_t n) {
    ASSERT_FALSE(ec) << ec.message();
    got.assign(buf, n);
  });
  RunFor(ioc);
  EXPECT_EQ(got, request);
}

TEST(AsioStream, UseFutureFromAnotherThread) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  auto work = asio::make_work_guard(ioc);
  std::thread runner([&] { ioc.run(); });

  std::future<void> ch = p.client->async_handshake(asio::use_future);
  std::future<void> sh = p.server->async_handshake(asio::use_future);
  ASSERT_EQ(ch.wait_for(10s), std::future_status::ready);
  ASSERT_EQ(sh.wait_for(10s), std::future_status::ready);
  EXPECT_NO_THROW(ch.get());
  EXPECT_NO_THROW(sh.get());

  std::string msg = "future";
  char buf[16];
  std::future<size_t> w = asio::async_write(*p.client, asio::buffer(msg), asio::use_future);
  std::future<size_t> r =
      asio::async_read(*p.server, asio::buffer(buf, msg.size()), asio::use_future);
  EXPECT_EQ(w.get(), msg.size());
  EXPECT_EQ(r.get(), msg.size());
  EXPECT_EQ(std::string(buf, msg.size()), msg);

  // Errors arrive as exceptions carrying our category: the peer's close_notify is eof.
  std::future<void> sd = p.server->async_shutdown(0s, asio::use_future);
  EXPECT_NO_THROW(sd.get());
  std::future<size_t> eof = p.client->async_read_some(asio::buffer(buf), asio::use_future);
  try {
    eof.get();
    ADD_FAILURE() << "read after the peer's close_notify succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), asio::error::eof);
  }
  work.reset();
  runner.join();
}

TEST(AsioStream, UseAwaitableCoroutines) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts(TlsVersion::kTls13, {"h2", "http/1.1"});
  StreamPair p = MakeStreams(ioc, ctx);
  std::string server_got, client_got;

  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await p.server->async_handshake(asio::use_awaitable);
        asio::streambuf sb;
        size_t n = co_await asio::async_read_until(*p.server, sb, '\n', asio::use_awaitable);
        server_got.assign(asio::buffers_begin(sb.data()), asio::buffers_begin(sb.data()) + n);
        co_await asio::async_write(*p.server, asio::buffer("pong\n", 5), asio::use_awaitable);
        co_await p.server->async_shutdown(5s, asio::use_awaitable);
      },
      [](std::exception_ptr e) { EXPECT_FALSE(e); });
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await p.client->async_handshake(asio::use_awaitable);
        EXPECT_EQ(p.client->alpn_protocol(), "h2");
        co_await asio::async_write(*p.client, asio::buffer("ping\n", 5), asio::use_awaitable);
        std::string line;
        co_await asio::async_read_until(*p.client, asio::dynamic_buffer(line), '\n',
                                        asio::use_awaitable);
        client_got = line;
        // The server's close_notify ends the stream; ours completes its shutdown.
        char b[8];
        auto [ec, n] = co_await p.client->async_read_some(
            asio::buffer(b), asio::experimental::as_tuple(asio::use_awaitable));
        EXPECT_EQ(ec, asio::error::eof);
        EXPECT_EQ(n, 0u);
        co_await p.client->async_shutdown(5s, asio::use_awaitable);
      },
      [](std::exception_ptr e) { EXPECT_FALSE(e); });
  RunFor(ioc);
  EXPECT_EQ(server_got, "ping\n");
  EXPECT_EQ(client_got, "pong\n");
  EXPECT_EQ(p.client->peer_end(), PeerEnd::kClean);
  EXPECT_EQ(p.server->peer_end(), PeerEnd::kClean);
}

TEST(AsioStream, DeferredOperationsRunWhenInvoked) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  auto client_hs = p.client->async_handshake(asio::experimental::deferred);
  auto server_hs = p.server->async_handshake(asio::experimental::deferred);
  RunFor(ioc);
  EXPECT_FALSE(p.client->handshake_done());  // nothing ran yet

  std::error_code cec = asio::error::would_block, sec = asio::error::would_block;
  std::move(client_hs)([&](std::error_code ec) { cec = ec; });
  std::move(server_hs)([&](std::error_code ec) { sec = ec; });
  RunFor(ioc);
  EXPECT_FALSE(cec) << cec.message();
  EXPECT_FALSE(sec) << sec.message();

  // A deferred write chained into a deferred read.
  char buf[8] = {};
  std::string got;
  auto write = asio::async_write(*p.client, asio::buffer("abc", 3), asio::experimental::deferred);
  std::move(write)([&](std::error_code ec, size_t) {
    ASSERT_FALSE(ec);
    asio::async_read(*p.server, asio::buffer(buf, 3), [&](std::error_code ec2, size_t n) {
      ASSERT_FALSE(ec2);
      got.assign(buf, n);
    });
  });
  RunFor(ioc);
  EXPECT_EQ(got, "abc");
}

// ---- Blocking API ----------------------------------------------------------------------

TEST(AsioStream, BlockingCallsWithAsioReadAndWrite) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts(TlsVersion::kTls12);
  StreamPair p = MakeStreams(ioc, ctx);
  std::string data = Payload(300'000);
  std::thread server([&] {
    p.server->handshake();
    std::string got(data.size(), '\0');
    asio::read(*p.server, asio::buffer(got));
    asio::write(*p.server, asio::buffer(got));
    std::error_code ec;
    p.server->shutdown(5s, ec);
    EXPECT_FALSE(ec) << ec.message();
  });
  p.client->handshake();
  EXPECT_EQ(p.client->protocol(), "TLSv1.2");
  asio::write(*p.client, asio::buffer(data));
  std::string echo(data.size(), '\0');
  asio::read(*p.client, asio::buffer(echo));
  EXPECT_TRUE(echo == data);
  char b[4];
  std::error_code ec;
  EXPECT_EQ(p.client->read_some(asio::buffer(b), ec), 0u);
  EXPECT_EQ(ec, asio::error::eof);
  p.client->shutdown(5s, ec);
  EXPECT_FALSE(ec) << ec.message();
  server.join();
}

// ---- Errors ----------------------------------------------------------------------------

TEST(AsioStream, UntrustedServerFailsTheHandshakeWithNodesCode) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  testing::Cert other_root =
      testing::MakeSelfSigned({.subject = {{"CN", "Other Root"}}, .is_ca = true});
  auto other_client = test::MustCreate(ClientContextOptions{.ca_pems = {other_root.cert_pem}});
  StreamPair p{nullptr, nullptr};
  {
    auto [c, s] = SocketPair(ioc);
    p.client = std::make_unique<TlsSocket>(std::move(c), other_client,
                                           SessionOptions{.servername = "localhost"});
    p.server = std::make_unique<TlsSocket>(std::move(s), ctx.server);
  }
  auto [cec, sec] = Handshake(ioc, p);
  EXPECT_EQ(cec.category(), category());
  EXPECT_EQ(cec.message(), "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
  EXPECT_EQ(cec, ErrorCodeFor("UNABLE_TO_GET_ISSUER_CERT_LOCALLY"));
  ASSERT_TRUE(p.client->error().has_value());
  EXPECT_EQ(p.client->error()->code, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
  // The client's alert reached the server.
  EXPECT_EQ(sec.message(), "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA");
  ASSERT_TRUE(p.server->error().has_value());
  EXPECT_TRUE(p.server->error()->alert_from_peer);
}

TEST(AsioStream, WrongHostNameIsAltnameInvalid) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx, {.servername = "example.com"});
  auto [cec, sec] = Handshake(ioc, p);
  EXPECT_EQ(cec, make_error_code(errc::hostname_mismatch));
  EXPECT_EQ(cec.message(), "ERR_TLS_CERT_ALTNAME_INVALID");
  EXPECT_TRUE(sec);
}

TEST(AsioStream, InvalidSessionOptionsThrowFromTheConstructor) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  try {
    TlsSocket s(tcp::socket(ioc), ctx.client, {.servername = std::string("a\0b", 3)});
    ADD_FAILURE() << "constructed";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().message(), "ERR_INVALID_ARG_VALUE");
  }
}

TEST(AsioStream, ErrorCategoryCarriesCodes) {
  std::error_code a = ErrorCodeFor("CERT_HAS_EXPIRED");
  EXPECT_EQ(a, ErrorCodeFor("CERT_HAS_EXPIRED"));
  EXPECT_NE(a, ErrorCodeFor("CERT_NOT_YET_VALID"));
  EXPECT_EQ(a.message(), "CERT_HAS_EXPIRED");
  EXPECT_STREQ(a.category().name(), "sansio_tls");
  EXPECT_FALSE(ErrorCodeFor(""));
  EXPECT_EQ(ErrorCodeFor("ECONNRESET"), make_error_code(errc::connection_reset));
  EXPECT_EQ(make_error_code(errc::connection_reset), std::errc::connection_reset);
  EXPECT_EQ(make_error_code(errc::shutdown_timeout), std::errc::timed_out);
  EXPECT_EQ(make_error_code(errc::handshake_timeout).message(), "ERR_TLS_HANDSHAKE_TIMEOUT");
  EXPECT_EQ(make_error_code(errc::truncated).message(), "ERR_TLS_TRUNCATED");
}

// Values are fixed by the code, not by the order codes are first met: every code the
// library produces maps to the same number in every process, and back to its string.
TEST(AsioStream, ErrorCategoryValuesAreStatic) {
  struct Case {
    const char* code;
    int value;
  } cases[] = {
      {"ERR_TLS_HANDSHAKE_TIMEOUT", OwnErrorValue(sansio_tls::errc::kHandshakeTimeout)},
      {"CERT_HAS_EXPIRED", 1000 + X509_V_ERR_CERT_HAS_EXPIRED},
      {"DEPTH_ZERO_SELF_SIGNED_CERT", 1000 + X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT},
      {"EPIPE", 0x8000 + EPIPE},
      {"ERR_SSL_WRONG_VERSION_NUMBER", 0x10000 + (ERR_LIB_SSL << 12) + SSL_R_WRONG_VERSION_NUMBER},
      {"ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
       0x10000 + (ERR_LIB_SSL << 12) + SSL_R_TLSV1_ALERT_UNKNOWN_CA},
  };
  for (const Case& c : cases) {
    std::error_code ec = ErrorCodeFor(c.code);
    EXPECT_EQ(ec.value(), c.value) << c.code;
    EXPECT_EQ(ec.message(), c.code);
    EXPECT_EQ(std::error_code(c.value, category()).message(), c.code) << "no lookup needed first";
  }
  EXPECT_EQ(ErrorCodeFor("EPIPE"), std::errc::broken_pipe);
  std::error_code invented = ErrorCodeFor("ERR_MY_PINNING_POLICY");
  EXPECT_GE(invented.value(), 0x1000000) << "only invented codes are numbered on first sight";
  EXPECT_EQ(invented.message(), "ERR_MY_PINNING_POLICY");
  EXPECT_EQ(ErrorCodeFor("ERR_MY_PINNING_POLICY"), invented);
}

TEST(AsioStream, PeerClosingWithoutCloseNotifyIsTruncated) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  ASSERT_EQ(Handshake(ioc, p), std::make_pair(std::error_code(), std::error_code()));
  asio::write(*p.server, asio::buffer("last", 4));
  p.server->next_layer().close();  // no close_notify
  std::string got;
  std::error_code end;
  std::function<void()> read_more;
  char buf[16];
  read_more = [&] {
    p.client->async_read_some(asio::buffer(buf), [&](std::error_code ec, size_t n) {
      got.append(buf, n);
      if (ec) {
        end = ec;
        return;
      }
      read_more();
    });
  };
  read_more();
  RunFor(ioc);
  EXPECT_EQ(got, "last");
  EXPECT_EQ(end, make_error_code(errc::truncated));
  EXPECT_EQ(p.client->peer_end(), PeerEnd::kTruncated);
}

TEST(AsioStream, PeerGoingAwayMidHandshakeIsConnectionReset) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  auto [c, s] = SocketPair(ioc);
  TlsSocket client(std::move(c), ctx.client, {.servername = "localhost"});
  std::error_code cec = asio::error::would_block;
  client.async_handshake([&](std::error_code ec) { cec = ec; });
  s.close();
  RunFor(ioc);
  EXPECT_EQ(cec, make_error_code(errc::connection_reset));
}

TEST(AsioStream, PlaintextJunkFailsTheServerHandshake) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  auto [c, s] = SocketPair(ioc);
  TlsSocket server(std::move(s), ctx.server);
  std::error_code sec = asio::error::would_block;
  server.async_handshake([&](std::error_code ec) { sec = ec; });
  std::string junk(1 << 20, '\x2a');
  asio::async_write(c, asio::buffer(junk), [](std::error_code, size_t) {});
  RunFor(ioc);
  EXPECT_TRUE(sec);
  EXPECT_EQ(sec.category(), category());
  EXPECT_EQ(sec.message().rfind("ERR_SSL_", 0), 0u) << sec.message();
}

// ---- Shutdown ---------------------------------------------------------------------------

TEST(AsioStream, ShutdownTimesOutWhenThePeerNeverAnswers) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  ASSERT_EQ(Handshake(ioc, p), std::make_pair(std::error_code(), std::error_code()));
  // The server never reads, so it never answers our close_notify.
  std::error_code sec = asio::error::would_block;
  auto start = std::chrono::steady_clock::now();
  p.client->async_shutdown(200ms, [&](std::error_code ec) { sec = ec; });
  RunFor(ioc);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(sec, make_error_code(errc::shutdown_timeout));
  EXPECT_EQ(sec, std::errc::timed_out);
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 2s);
}

TEST(AsioStream, ShutdownWithoutWaitingOnlySendsCloseNotify) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  ASSERT_EQ(Handshake(ioc, p), std::make_pair(std::error_code(), std::error_code()));
  std::error_code sec = asio::error::would_block;
  p.client->async_shutdown(0s, [&](std::error_code ec) { sec = ec; });
  RunFor(ioc);
  EXPECT_FALSE(sec) << sec.message();
  EXPECT_TRUE(p.client->session().close_sent());
  // The server sees the clean end, and writing after shutdown is refused.
  char b[4];
  std::error_code ec;
  p.server->read_some(asio::buffer(b), ec);
  EXPECT_EQ(ec, asio::error::eof);
  p.client->write_some(asio::buffer("x", 1), ec);
  EXPECT_EQ(ec, make_error_code(errc::write_after_end));
}

TEST(AsioStream, ShutdownWhileAReadIsOutstandingDeliversTheRestThenEof) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  ASSERT_EQ(Handshake(ioc, p), std::make_pair(std::error_code(), std::error_code()));
  std::string client_got;
  std::error_code client_end, client_sd = asio::error::would_block,
                              server_sd = asio::error::would_block;
  char buf[1024];
  std::function<void()> read_more = [&] {
    p.client->async_read_some(asio::buffer(buf), [&](std::error_code ec, size_t n) {
      client_got.append(buf, n);
      if (ec) {
        client_end = ec;
        return;
      }
      read_more();
    });
  };
  read_more();
  // The client shuts down while its read is outstanding; the server sends more, then ends.
  p.client->async_shutdown(5s, [&](std::error_code ec) { client_sd = ec; });
  std::string tail = Payload(50'000);
  asio::async_write(*p.server, asio::buffer(tail), [&](std::error_code ec, size_t) {
    ASSERT_FALSE(ec);
    p.server->async_shutdown(5s, [&](std::error_code e) { server_sd = e; });
  });
  RunFor(ioc);
  EXPECT_TRUE(client_got == tail) << client_got.size();
  EXPECT_EQ(client_end, asio::error::eof);
  EXPECT_FALSE(client_sd) << client_sd.message();
  EXPECT_FALSE(server_sd) << server_sd.message();
}

// ---- Full duplex ----------------------------------------------------------------------

TEST(AsioStream, FullDuplexBulkBothWaysAtOnce) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  const std::string a = Payload(4 << 20, 1), b = Payload(4 << 20, 2);
  std::string at_server(a.size(), '\0'), at_client(b.size(), '\0');
  int done = 0;
  auto check = [&](std::error_code ec, size_t) {
    EXPECT_FALSE(ec) << ec.message();
    ++done;
  };
  // Reads and writes are started before the handshake: they run it implicitly.
  asio::async_write(*p.client, asio::buffer(a), check);
  asio::async_read(*p.client, asio::buffer(at_client), check);
  asio::async_write(*p.server, asio::buffer(b), check);
  asio::async_read(*p.server, asio::buffer(at_server), check);
  RunFor(ioc, 60s);
  EXPECT_EQ(done, 4);
  EXPECT_TRUE(at_server == a);
  EXPECT_TRUE(at_client == b);
}

// ---- Cancellation -----------------------------------------------------------------------

TEST(AsioStream, CancellingMidHandshakeThenResumingIt) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  auto [c, s] = SocketPair(ioc);
  TlsSocket client(std::move(c), ctx.client, {.servername = "localhost"});
  // Nobody answers yet: the client sends its ClientHello and waits.
  asio::cancellation_signal cancel;
  std::error_code first = asio::error::would_block;
  client.async_handshake(
      asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec) { first = ec; }));
  asio::steady_timer t(ioc, 50ms);
  t.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::partial); });
  RunFor(ioc);
  EXPECT_EQ(first, asio::error::operation_aborted);
  EXPECT_FALSE(client.handshake_done());

  // Partial cancellation kept the handshake's progress: it completes once a server shows up.
  TlsSocket server(std::move(s), ctx.server);
  std::error_code cec = asio::error::would_block, sec = asio::error::would_block;
  client.async_handshake([&](std::error_code ec) { cec = ec; });
  server.async_handshake([&](std::error_code ec) { sec = ec; });
  RunFor(ioc);
  EXPECT_FALSE(cec) << cec.message();
  EXPECT_FALSE(sec) << sec.message();
}

TEST(AsioStream, HandshakeTimeoutIsNodesCode) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  auto [c, s] = SocketPair(ioc);
  TlsSocket server(std::move(s), ctx.server);  // the client never speaks
  std::error_code sec = asio::error::would_block;
  server.async_handshake(100ms, [&](std::error_code ec) { sec = ec; });
  RunFor(ioc);
  EXPECT_EQ(sec, make_error_code(errc::handshake_timeout));
  EXPECT_EQ(sec.message(), "ERR_TLS_HANDSHAKE_TIMEOUT");
}

TEST(AsioStream, CancellingMidReadLosesNothing) {
  for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                    asio::cancellation_type::total}) {
    asio::io_context ioc;
    Contexts ctx = MakeContexts();
    StreamPair p = MakeStreams(ioc, ctx);
    ASSERT_EQ(Handshake(ioc, p), std::make_pair(std::error_code(), std::error_code()));
    asio::cancellation_signal cancel;
    char buf[32];
    std::error_code first = asio::error::would_block;
    p.server->async_read_some(
        asio::buffer(buf),
        asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec, size_t n) {
          first = ec;
          EXPECT_EQ(n, 0u);
        }));
    asio::post(ioc, [&] { cancel.emit(type); });
    RunFor(ioc);
    EXPECT_EQ(first, asio::error::operation_aborted);

    // The stream is still usable: the next read gets what the client sends.
    std::string got;
    asio::async_write(*p.client, asio::buffer("after", 5),
                      [](std::error_code ec, size_t) { EXPECT_FALSE(ec); });
    asio::async_read(*p.server, asio::buffer(buf, 5), [&](std::error_code ec, size_t n) {
      EXPECT_FALSE(ec);
      got.assign(buf, n);
    });
    RunFor(ioc);
    EXPECT_EQ(got, "after");
  }
}

// async_wait_readable: completes once plaintext is there, takes none of it (a read then
// gets it all), reports eof after close_notify, and can be cancelled losing nothing.
TEST(AsioStream, WaitReadableTakesNothingAndEndsAtEof) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  ASSERT_EQ(Handshake(ioc, p), std::make_pair(std::error_code(), std::error_code()));

  // Cancelled while waiting: nothing lost.
  asio::cancellation_signal cancel;
  std::error_code cancelled = asio::error::would_block;
  p.server->async_wait_readable(
      asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec) { cancelled = ec; }));
  asio::post(ioc, [&] { cancel.emit(asio::cancellation_type::total); });
  RunFor(ioc);
  EXPECT_EQ(cancelled, asio::error::operation_aborted);
  EXPECT_EQ(p.server->readable_bytes(), 0u);

  std::error_code waited = asio::error::would_block;
  p.server->async_wait_readable([&](std::error_code ec) { waited = ec; });
  ioc.restart();
  ioc.run_for(50ms);
  EXPECT_EQ(waited, asio::error::would_block);  // nothing sent yet: still waiting
  asio::async_write(*p.client, asio::buffer("twelve bytes", 12),
                    [](std::error_code ec, size_t) { EXPECT_FALSE(ec); });
  RunFor(ioc);
  EXPECT_FALSE(waited);
  EXPECT_EQ(p.server->readable_bytes(), 12u);
  // Waiting again completes at once: the bytes are still there.
  waited = asio::error::would_block;
  p.server->async_wait_readable([&](std::error_code ec) { waited = ec; });
  RunFor(ioc);
  EXPECT_FALSE(waited);
  char buf[64];
  std::string got;
  p.server->async_read_some(asio::buffer(buf), [&](std::error_code ec, size_t n) {
    EXPECT_FALSE(ec);
    got.assign(buf, n);
  });
  RunFor(ioc);
  EXPECT_EQ(got, "twelve bytes");
  EXPECT_EQ(p.server->readable_bytes(), 0u);

  // The client's close_notify: eof.
  p.client->async_shutdown(std::chrono::milliseconds(0), [](std::error_code) {});
  waited = asio::error::would_block;
  p.server->async_wait_readable([&](std::error_code ec) { waited = ec; });
  RunFor(ioc);
  EXPECT_EQ(waited, asio::error::eof);
}

TEST(AsioStream, CancellingAReadWaitingBehindShutdown) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  ASSERT_EQ(Handshake(ioc, p), std::make_pair(std::error_code(), std::error_code()));
  // The shutdown holds the input side (waiting for the server's close_notify), so the read
  // queues behind it; cancelling the read must take it out of that queue.
  std::error_code sd = asio::error::would_block, rd = asio::error::would_block;
  p.client->async_shutdown(300ms, [&](std::error_code ec) { sd = ec; });
  asio::cancellation_signal cancel;
  char buf[8];
  asio::post(ioc, [&] {
    p.client->async_read_some(
        asio::buffer(buf),
        asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec, size_t) { rd = ec; }));
    asio::post(ioc, [&] { cancel.emit(asio::cancellation_type::terminal); });
  });
  RunFor(ioc);
  EXPECT_EQ(rd, asio::error::operation_aborted);
  EXPECT_EQ(sd, make_error_code(errc::shutdown_timeout));
}

// ---- Executors, allocators, moves -----------------------------------------------------

template <typename T>
struct CountingAllocator {
  using value_type = T;
  std::atomic<int>* count;
  explicit CountingAllocator(std::atomic<int>* c) : count(c) {}
  template <typename U>
  CountingAllocator(const CountingAllocator<U>& o) : count(o.count) {}
  T* allocate(size_t n) {
    ++*count;
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, size_t n) { std::allocator<T>().deallocate(p, n); }
  template <typename U>
  bool operator==(const CountingAllocator<U>& o) const {
    return count == o.count;
  }
};

TEST(AsioStream, HandlersRunOnTheirAssociatedExecutorAndAllocator) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  auto strand = asio::make_strand(ioc);
  std::atomic<int> allocations{0};
  bool in_strand = false;
  std::error_code cec = asio::error::would_block;
  p.client->async_handshake(asio::bind_executor(
      strand, asio::bind_allocator(CountingAllocator<void>(&allocations), [&](std::error_code ec) {
        cec = ec;
        in_strand = strand.running_in_this_thread();
      })));
  p.server->async_handshake([](std::error_code ec) { EXPECT_FALSE(ec); });
  RunFor(ioc);
  EXPECT_FALSE(cec) << cec.message();
  EXPECT_TRUE(in_strand);
  EXPECT_GT(allocations.load(), 0);  // the intermediate socket operations used it
}

TEST(AsioStream, MovingAStreamWithAReadOutstanding) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  ASSERT_EQ(Handshake(ioc, p), std::make_pair(std::error_code(), std::error_code()));
  char buf[8];
  std::string got;
  p.server->async_read_some(asio::buffer(buf), [&](std::error_code ec, size_t n) {
    EXPECT_FALSE(ec);
    got.assign(buf, n);
  });
  TlsSocket moved(std::move(*p.server));
  TlsSocket assigned;
  assigned = std::move(moved);
  EXPECT_FALSE(moved.valid());
  asio::write(*p.client, asio::buffer("moved", 5));
  RunFor(ioc);
  EXPECT_EQ(got, "moved");
  EXPECT_TRUE(assigned.valid());
  asio::write(assigned, asio::buffer("back", 4));
  char b2[4];
  asio::read(*p.client, asio::buffer(b2));
  EXPECT_EQ(std::string(b2, 4), "back");
}

TEST(AsioStream, DestroyingAStreamAbortsItsOutstandingRead) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  ASSERT_EQ(Handshake(ioc, p), std::make_pair(std::error_code(), std::error_code()));
  char buf[8];
  std::error_code rd = asio::error::would_block;
  p.server->async_read_some(asio::buffer(buf), [&](std::error_code ec, size_t) { rd = ec; });
  ioc.poll();
  p.server.reset();
  RunFor(ioc);
  EXPECT_EQ(rd, asio::error::operation_aborted);
}

TEST(AsioStream, DestroyingAStreamAbortsAReadQueuedBehindShutdown) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx);
  ASSERT_EQ(Handshake(ioc, p), std::make_pair(std::error_code(), std::error_code()));
  char buf[8];
  // The shutdown holds the input side waiting for the server's close_notify (the server
  // never reads): the read queues behind it.
  std::error_code sd = asio::error::would_block, queued = asio::error::would_block;
  p.client->async_shutdown(5s, [&](std::error_code ec) { sd = ec; });
  asio::post(ioc, [&] {
    p.client->async_read_some(asio::buffer(buf), [&](std::error_code ec, size_t) { queued = ec; });
    asio::post(ioc, [&] { p.client.reset(); });
  });
  RunFor(ioc);
  EXPECT_EQ(queued, asio::error::operation_aborted);
  EXPECT_EQ(sd, asio::error::operation_aborted);
}

// ---- STARTTLS ----------------------------------------------------------------------------

TEST(AsioStream, PrimeInputRefusesMoreThanTheSessionTakes) {
  // As on POSIX and libuv (transport::FeedReceived): a server pausing at the ClientHello keeps
  // at most 32 KiB after it, and the stream keeps no buffer of its own for the rest.
  asio::io_context ioc;
  testing::TestPki pki = testing::MakeTestPki();
  Contexts ctx;
  ctx.server = test::MustCreate(ServerContextOptions{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()},
      .sni_callback = true});
  ctx.client = test::MustCreate(ClientContextOptions{.ca_pems = {pki.root.cert_pem}});
  std::vector<uint8_t> hello = test_contexts::ClientHelloAndMore(ctx.client, "unknown.example", 0);
  ASSERT_FALSE(hello.empty());
  std::vector<uint8_t> received =
      test_contexts::ClientHelloAndMore(ctx.client, "unknown.example", 64 * 1024);
  auto [c, s] = SocketPair(ioc);
  TlsSocket refused(std::move(s), ctx.server);
  std::error_code ec;
  refused.prime_input(received, ec);
  EXPECT_EQ(ec, ErrorCodeFor("ERR_INVALID_ARG_VALUE")) << ec.message();
  auto [c2, s2] = SocketPair(ioc);
  EXPECT_THROW(TlsSocket(std::move(s2), ctx.server).prime_input(received), std::system_error);
  // The ClientHello alone is taken at once: the server's first flight is ready to send.
  auto [c3, s3] = SocketPair(ioc);
  TlsSocket taken(std::move(s3), ctx.server);
  taken.prime_input(hello, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_GT(taken.session().pending_output_bytes(), 0u);
}

TEST(AsioStream, StartTlsAfterAPlaintextExchange) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  auto [c, s] = SocketPair(ioc);
  std::string client_got, server_got;
  asio::co_spawn(
      ioc,
      [&, s = std::move(s)]() mutable -> asio::awaitable<void> {
        std::string buffered;
        auto in = asio::dynamic_buffer(buffered);
        co_await asio::async_read_until(s, in, "\r\n", asio::use_awaitable);
        EXPECT_EQ(buffered.substr(0, 10), "STARTTLS\r\n");
        co_await asio::async_write(s, asio::buffer("220 go ahead\r\n", 14), asio::use_awaitable);
        // Wait until the ClientHello is there too, so that the buffered reader holds TLS
        // bytes past the plaintext line: they must be handed over.
        while (buffered.size() < 10 + 5) {
          size_t n = co_await s.async_read_some(in.prepare(4096), asio::use_awaitable);
          in.commit(n);
        }
        std::string tls_bytes = buffered.substr(10);
        TlsSocket tls(std::move(s), ctx.server);
        tls.prime_input({reinterpret_cast<const uint8_t*>(tls_bytes.data()), tls_bytes.size()});
        co_await tls.async_handshake(asio::use_awaitable);
        std::string line;
        co_await asio::async_read_until(tls, asio::dynamic_buffer(line), '\n', asio::use_awaitable);
        server_got = line;
        co_await asio::async_write(tls, asio::buffer("secret reply\n", 13), asio::use_awaitable);
        co_await tls.async_shutdown(5s, asio::use_awaitable);
      },
      [](std::exception_ptr e) { EXPECT_FALSE(e); });
  asio::co_spawn(
      ioc,
      [&, c = std::move(c)]() mutable -> asio::awaitable<void> {
        co_await asio::async_write(c, asio::buffer("STARTTLS\r\n", 10), asio::use_awaitable);
        std::string reply;
        co_await asio::async_read_until(c, asio::dynamic_buffer(reply), "\r\n",
                                        asio::use_awaitable);
        EXPECT_EQ(reply, "220 go ahead\r\n");
        TlsSocket tls(std::move(c), ctx.client, {.servername = "localhost"});
        co_await tls.async_handshake(asio::use_awaitable);
        EXPECT_TRUE(tls.authorized());
        co_await asio::async_write(tls, asio::buffer("secret\n", 7), asio::use_awaitable);
        std::string line;
        co_await asio::async_read_until(tls, asio::dynamic_buffer(line), '\n', asio::use_awaitable);
        client_got = line;
        auto [ec, n] = co_await tls.async_read_some(
            asio::buffer(reply.data(), 1), asio::experimental::as_tuple(asio::use_awaitable));
        EXPECT_EQ(ec, asio::error::eof);
        co_await tls.async_shutdown(5s, asio::use_awaitable);
      },
      [](std::exception_ptr e) { EXPECT_FALSE(e); });
  RunFor(ioc);
  EXPECT_EQ(server_got, "secret\n");
  EXPECT_EQ(client_got, "secret reply\n");
}

// ---- A generic next layer -------------------------------------------------------------

// A stream that is not a socket: forwards to a socket it owns (exercises the generic path,
// which reads into the stream's own buffer instead of waiting for readability).
class ForwardingStream {
 public:
  using executor_type = tcp::socket::executor_type;
  explicit ForwardingStream(tcp::socket s) : s_(std::move(s)) {}
  executor_type get_executor() { return s_.get_executor(); }
  template <typename B, typename T>
  auto async_read_some(const B& b, T&& t) {
    ++reads;
    return s_.async_read_some(b, std::forward<T>(t));
  }
  template <typename B, typename T>
  auto async_write_some(const B& b, T&& t) {
    return s_.async_write_some(b, std::forward<T>(t));
  }
  template <typename B>
  size_t read_some(const B& b, std::error_code& ec) {
    return s_.read_some(b, ec);
  }
  template <typename B>
  size_t write_some(const B& b, std::error_code& ec) {
    return s_.write_some(b, ec);
  }
  int reads = 0;

 private:
  tcp::socket s_;
};

TEST(AsioStream, AnyAsyncStreamAsNextLayer) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  auto [c, s] = SocketPair(ioc);
  Stream<ForwardingStream> client(ForwardingStream(std::move(c)), ctx.client,
                                  {.servername = "localhost"});
  Stream<ForwardingStream> server(ForwardingStream(std::move(s)), ctx.server);
  std::string data = Payload(200'000), got(data.size(), '\0');
  int done = 0;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await client.async_handshake(asio::use_awaitable);
        co_await asio::async_write(client, asio::buffer(data), asio::use_awaitable);
        ++done;
      },
      asio::detached);
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await server.async_handshake(asio::use_awaitable);
        co_await asio::async_read(server, asio::buffer(got), asio::use_awaitable);
        ++done;
      },
      asio::detached);
  RunFor(ioc);
  EXPECT_EQ(done, 2);
  EXPECT_TRUE(got == data);
  EXPECT_GT(server.next_layer().reads, 0);
}

// ---- Many connections, several threads -------------------------------------------------

// An echo server coroutine: reads until eof, echoing, then shuts down.
asio::awaitable<void> Echo(TlsSocket& tls) {
  co_await tls.async_handshake(asio::use_awaitable);
  char buf[4096];
  for (;;) {
    auto [ec, n] = co_await tls.async_read_some(asio::buffer(buf),
                                                asio::experimental::as_tuple(asio::use_awaitable));
    if (ec == asio::error::eof) break;
    if (ec) throw std::system_error(ec);
    co_await asio::async_write(tls, asio::buffer(buf, n), asio::use_awaitable);
  }
  co_await tls.async_shutdown(5s, asio::use_awaitable);
}

// A client coroutine: sends |rounds| messages, checks each echo, then shuts down.
asio::awaitable<void> Ping(TlsSocket& tls, int id, int rounds, std::atomic<int>& ok) {
  co_await tls.async_handshake(asio::use_awaitable);
  for (int i = 0; i < rounds; ++i) {
    std::string msg = Payload(100 + (id * 37 + i * 11) % 3000, id * 1000 + i);
    co_await asio::async_write(tls, asio::buffer(msg), asio::use_awaitable);
    std::string back(msg.size(), '\0');
    co_await asio::async_read(tls, asio::buffer(back), asio::use_awaitable);
    if (back != msg) throw std::runtime_error("echo mismatch");
  }
  // Our close_notify ends the echo loop; the server's answers it.
  co_await tls.async_shutdown(5s, asio::use_awaitable);
  ++ok;
}

TEST(AsioStream, ManyConcurrentConnectionsOnOneIoContext) {
  constexpr int kConnections = 200;
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  std::vector<std::unique_ptr<TlsSocket>> clients, servers;
  for (int i = 0; i < kConnections; ++i) {
    StreamPair p = MakeStreams(ioc, ctx);
    clients.push_back(std::move(p.client));
    servers.push_back(std::move(p.server));
  }
  std::atomic<int> ok{0};
  std::atomic<int> failures{0};
  auto on_done = [&](std::exception_ptr e) {
    if (e) ++failures;
  };
  for (int i = 0; i < kConnections; ++i) {
    asio::co_spawn(ioc, Echo(*servers[i]), on_done);
    asio::co_spawn(ioc, Ping(*clients[i], i, 5, ok), on_done);
  }
  RunFor(ioc, 60s);
  EXPECT_EQ(ok.load(), kConnections);
  EXPECT_EQ(failures.load(), 0);
}

TEST(AsioStream, MultiThreadedIoContextWithStrands) {
  constexpr int kConnections = 40;
  constexpr int kThreads = 4;
  asio::io_context ioc(kThreads);
  Contexts ctx = MakeContexts();
  std::vector<std::unique_ptr<TlsSocket>> clients, servers;
  {
    asio::io_context setup;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    for (int i = 0; i < kConnections; ++i) {
      // Each end of each connection on a strand of its own.
      tcp::socket c(asio::make_strand(ioc)), s(asio::make_strand(ioc));
      c.connect(acceptor.local_endpoint());
      acceptor.accept(s);
      c.set_option(tcp::no_delay(true));
      s.set_option(tcp::no_delay(true));
      clients.push_back(std::make_unique<TlsSocket>(std::move(c), ctx.client,
                                                    SessionOptions{.servername = "localhost"}));
      servers.push_back(std::make_unique<TlsSocket>(std::move(s), ctx.server));
    }
  }
  std::atomic<int> ok{0}, failures{0};
  auto on_done = [&](std::exception_ptr e) {
    if (e) ++failures;
  };
  for (int i = 0; i < kConnections; ++i) {
    asio::co_spawn(servers[i]->get_executor(), Echo(*servers[i]), on_done);
    asio::co_spawn(clients[i]->get_executor(), Ping(*clients[i], i, 10, ok), on_done);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back([&] { ioc.run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kConnections);
  EXPECT_EQ(failures.load(), 0);
}

// ---- Pauses answered by the application ------------------------------------------------

TEST(AsioStream, SniPauseAnsweredLaterFromATimer) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  testing::Cert other = testing::MakeSigned(
      {.subject = {{"CN", "other.test"}}, .dns_names = {"other.test"}}, ctx.pki.intermediate);
  // (key_log on both: the secrets are logged by the context SNI switched to.)
  auto other_ctx = test::MustCreate(ServerContextOptions{
      .credentials = {.key_pem = other.key_pem,
                      .cert_chain_pem = other.cert_pem + ctx.pki.intermediate.cert_pem},
      .key_log = true});
  auto server_ctx = test::MustCreate(
      ServerContextOptions{.credentials = {.key_pem = ctx.pki.server.key_pem,
                                           .cert_chain_pem = ctx.pki.server_chain_pem()},
                           .sni_callback = true,
                           .key_log = true});
  auto [c, s] = SocketPair(ioc);
  TlsSocket client(std::move(c), ctx.client, {.servername = "other.test"});
  TlsSocket server(std::move(s), server_ctx);
  std::vector<std::string> asked, key_log;
  asio::steady_timer later(ioc);
  server.set_event_handler([&](TlsSocket& stream, const Event& e) {
    if (e.kind() == EventKind::kKeyLog) {
      key_log.push_back(e.get<event::KeyLog>().line);
    } else if (e.kind() == EventKind::kSniRequest) {
      asked.push_back(e.get<event::SniRequest>().servername);
      // Answer after the handler returned, 30 ms later.
      later.expires_after(30ms);
      later.async_wait([&stream, &other_ctx](std::error_code) {
        EXPECT_FALSE(stream.answer_sni(SniAnswer::Use(other_ctx)).has_value());
      });
    }
  });
  auto [cec, sec] = [&] {
    std::error_code a = asio::error::would_block, b = asio::error::would_block;
    client.async_handshake([&](std::error_code ec) { a = ec; });
    server.async_handshake([&](std::error_code ec) { b = ec; });
    RunFor(ioc);
    return std::make_pair(a, b);
  }();
  ASSERT_FALSE(cec) << cec.message();
  ASSERT_FALSE(sec) << sec.message();
  EXPECT_EQ(asked, std::vector<std::string>{"other.test"});
  EXPECT_EQ(client.peer_certificate()->subject.back().second, "other.test");
  EXPECT_EQ(server.servername(), "other.test");
  EXPECT_FALSE(key_log.empty());  // TLS 1.3 secrets, one NSS line each
  for (const auto& line : key_log) EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(AsioStream, AHandlerSetAfterConstructionSeesTheClientHellosTrace) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  StreamPair p = MakeStreams(ioc, ctx, {.servername = "localhost", .trace = true});
  std::vector<std::string> sent;
  p.client->set_event_handler([&](TlsSocket&, const Event& e) {
    if (e.kind() == EventKind::kTrace && e.get<TraceMessage>().sent)
      sent.emplace_back(e.get<TraceMessage>().name);
  });
  auto [cec, sec] = Handshake(ioc, p);
  ASSERT_FALSE(cec) << cec.message();
  ASSERT_FALSE(sec) << sec.message();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.front(), "ClientHello");
  EXPECT_EQ(sent.back(), "Finished");
}

TEST(AsioStream, UnansweredPauseEndsAtTheHandshakeTimeout) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  auto server_ctx = test::MustCreate(
      ServerContextOptions{.credentials = {.key_pem = ctx.pki.server.key_pem,
                                           .cert_chain_pem = ctx.pki.server_chain_pem()},
                           .sni_callback = true});
  auto [c, s] = SocketPair(ioc);
  TlsSocket client(std::move(c), ctx.client, {.servername = "nobody.test"});
  TlsSocket server(std::move(s), server_ctx);
  int asked = 0;
  server.set_event_handler([&](TlsSocket&, const Event& e) {
    asked += e.kind() == EventKind::kSniRequest;  // never answered
  });
  std::error_code sec = asio::error::would_block;
  client.async_handshake(200ms, [](std::error_code) {});
  server.async_handshake(100ms, [&](std::error_code ec) { sec = ec; });
  RunFor(ioc);
  EXPECT_EQ(asked, 1);
  // The unified code for a pause left unanswered (transports/common/driver.h).
  EXPECT_EQ(sec, ErrorCodeFor("ERR_TLS_PAUSE_UNANSWERED"));
}

TEST(AsioStream, PausesWithoutAHandlerGetDefaultAnswers) {
  asio::io_context ioc;
  Contexts ctx = MakeContexts();
  auto server_ctx = test::MustCreate(
      ServerContextOptions{.credentials = {.key_pem = ctx.pki.server.key_pem,
                                           .cert_chain_pem = ctx.pki.server_chain_pem()},
                           .sni_callback = true});
  auto verifying_client = test::MustCreate(
      ClientContextOptions{.ca_pems = {ctx.pki.root.cert_pem}, .verify_callback = true});
  auto [c, s] = SocketPair(ioc);
  StreamPair p{std::make_unique<TlsSocket>(std::move(c), verifying_client,
                                           SessionOptions{.servername = "localhost"}),
               std::make_unique<TlsSocket>(std::move(s), server_ctx)};
  auto [cec, sec] = Handshake(ioc, p);
  // SNI: the default credentials served; verification: rejected by default.
  EXPECT_EQ(cec.message(), "CERT_REJECTED");
  EXPECT_TRUE(sec);
}

}  // namespace
}  // namespace sansio_tls::asio_tls
