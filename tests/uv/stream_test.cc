// Stream, Connect and StartTls over loopback on one loop: bulk echo with backpressure both
// ways, clean close in both orders, truncation, pauses answered later, Connect's errors,
// STARTTLS after a plaintext line, destroying a stream from inside its callbacks.
#include "transports/uv/stream.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/uv/uv_test_util.h"
#include "transports/uv/server.h"

namespace sansio_tls::uv_tls {
namespace {

using std::chrono::milliseconds;
using test::Contexts;
using test::EchoServer;
using test::ErrorText;
using test::MakeContexts;
using test::Payload;
using test::Recording;
using test::Sha256Hex;
using test::StreamLog;

class UvStream : public test::LoopTest {};

std::unique_ptr<Stream> MustConnect(uv_loop_t* loop, uint16_t port,
                                    std::shared_ptr<const Context> ctx, StreamCallbacks cb,
                                    ConnectOptions options = {}) {
  if (options.session.servername.empty()) options.session.servername = "localhost";
  auto s = Connect(loop, "127.0.0.1", port, std::move(ctx), std::move(options), std::move(cb));
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST_F(UvStream, EchoesEightMiBBothWaysThroughAPausingReaderWithBoundedMemory) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);
  const std::string up = Payload(8 << 20, 3);
  std::string down;
  size_t sent = 0, pauses = 0, drains = 0;
  bool closed = false;
  std::optional<Error> close_error;
  std::unique_ptr<Stream> client;
  // Resume timers may fire after the test body (in TearDown's loop run): they check this.
  auto alive = std::make_shared<bool>(true);
  struct Dead {
    std::shared_ptr<bool> alive;
    ~Dead() { *alive = false; }
  } dead{alive};
  // Writes until Write() says "full", then waits for drain.
  auto pump = [&](Stream& s) {
    while (sent < up.size()) {
      size_t n = std::min<size_t>(100000, up.size() - sent);
      bool room = s.Write(std::string_view(up).substr(sent, n));
      sent += n;
      if (!room) return;
    }
    s.End();
  };
  StreamCallbacks cb;
  cb.secure = [&](Stream& s, const HandshakeInfo&) { pump(s); };
  cb.drain = [&](Stream& s) {
    ++drains;
    pump(s);
  };
  cb.data = [&](Stream& s, std::span<const uint8_t> bytes) {
    size_t before = down.size();
    down.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (down.size() / (512 << 10) != before / (512 << 10)) {  // every 512 KiB: a short pause
      ++pauses;
      s.Pause();
      Stream* raw = &s;
      test::After(loop(), milliseconds(5), [raw, alive, &client] {
        if (*alive && client.get() == raw) raw->Resume();
      });
    }
  };
  cb.close = [&](Stream&, const std::optional<Error>& e) {
    closed = true;
    close_error = e;
  };
  client = MustConnect(loop(), server.port(), ctx.client, cb);
  ASSERT_TRUE(RunUntil([&] { return closed; }, milliseconds(120000)));
  EXPECT_FALSE(close_error.has_value()) << ErrorText(close_error);
  EXPECT_EQ(down.size(), up.size());
  EXPECT_EQ(Sha256Hex(down), Sha256Hex(up));
  EXPECT_GT(drains, 0u) << "Write() returned false and drain followed";
  EXPECT_GT(pauses, 10u);
  EXPECT_EQ(client->peer_end(), PeerEnd::kClean);
  EXPECT_LE(server.max_buffered(), 512u * 1024) << "the echo held the peer back";
  ASSERT_TRUE(RunUntil([&] { return server.Count("close:ok") == 1; }));
  EXPECT_EQ(server.log(), (std::vector<std::string>{"secure", "end:clean", "close:ok"}));
}

class UvStreamVersions : public test::LoopTest, public ::testing::WithParamInterface<TlsVersion> {};

TEST_P(UvStreamVersions, HandshakesEchoesAndClosesCleanly) {
  Contexts ctx = MakeContexts(GetParam());
  EchoServer server(loop(), ctx.server);
  StreamLog log;
  StreamCallbacks cb = Recording(&log);
  const std::string data = Payload(200000, 5);
  cb.secure = [&](Stream& s, const HandshakeInfo& info) {
    log.secure = true;
    log.info = info;
    s.Write(data);
    s.End();
  };
  auto client = MustConnect(loop(), server.port(), ctx.client, cb);
  ASSERT_TRUE(RunUntil([&] { return log.closed && server.Count("close:ok") == 1; }));
  EXPECT_EQ(log.info.version,
            GetParam() == TlsVersion::kTls13 ? TlsVersion::kTls13 : TlsVersion::kTls12);
  EXPECT_EQ(Sha256Hex(log.data), Sha256Hex(data));
  EXPECT_FALSE(log.close_error.has_value()) << ErrorText(log.close_error);
}

INSTANTIATE_TEST_SUITE_P(Tls, UvStreamVersions,
                         ::testing::Values(TlsVersion::kTls12, TlsVersion::kTls13),
                         [](const auto& info) {
                           return info.param == TlsVersion::kTls13 ? "Tls13" : "Tls12";
                         });

TEST_F(UvStream, AHalfOpenServerWritesAfterThePeerEndedThenEnds) {
  Contexts ctx = MakeContexts();
  std::unique_ptr<Stream> held;
  StreamLog server_log;
  ServerCallbacks scb;
  scb.secure_connection = [&](std::unique_ptr<Stream> s) {
    held = std::move(s);
    StreamCallbacks cb = Recording(&server_log);
    cb.end = [&](Stream& st, PeerEnd end) {
      server_log.end = end;
      st.Write("after your end");  // allowed: our side is still open
      st.End();
    };
    held->set_callbacks(cb);
  };
  auto server = Server::Listen(loop(), ctx.server, {.allow_half_open = true}, scb);
  ASSERT_TRUE(server.ok());
  StreamLog log;
  StreamCallbacks cb = Recording(&log);
  cb.secure = [&](Stream& s, const HandshakeInfo&) { s.End(); };
  auto client = MustConnect(loop(), (*server)->port(), ctx.client, cb);
  ASSERT_TRUE(RunUntil([&] { return log.closed && server_log.closed; }));
  EXPECT_EQ(server_log.end, PeerEnd::kClean);
  EXPECT_EQ(log.data, "after your end");
  EXPECT_FALSE(log.close_error.has_value()) << ErrorText(log.close_error);
  EXPECT_FALSE(server_log.close_error.has_value()) << ErrorText(server_log.close_error);
}

TEST_F(UvStream, APeerThatNeverEndsItsSideMeetsTheEndTimeout) {
  Contexts ctx = MakeContexts();
  std::unique_ptr<Stream> held;  // half-open, never ends: holds our connection open
  ServerCallbacks scb;
  scb.secure_connection = [&](std::unique_ptr<Stream> s) { held = std::move(s); };
  auto server = Server::Listen(loop(), ctx.server, {.allow_half_open = true}, scb);
  ASSERT_TRUE(server.ok());
  StreamLog log;
  StreamCallbacks cb = Recording(&log);
  cb.secure = [&](Stream& s, const HandshakeInfo&) { s.End(); };
  ConnectOptions options;
  options.stream.end_timeout = milliseconds(200);
  auto client = MustConnect(loop(), (*server)->port(), ctx.client, cb, options);
  ASSERT_TRUE(RunUntil([&] { return log.closed; }));
  ASSERT_TRUE(log.close_error.has_value());
  EXPECT_EQ(log.close_error->code, "ERR_TLS_SHUTDOWN_TIMEOUT") << ErrorText(log.close_error);
  EXPECT_FALSE(log.end.has_value());
}

TEST_F(UvStream, ClientEndsFirstAndBothSidesCloseCleanly) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);
  StreamLog log;
  StreamCallbacks cb = Recording(&log);
  cb.secure = [&](Stream& s, const HandshakeInfo& info) {
    log.secure = true;
    log.info = info;
    s.Write("last words");
    s.End();
  };
  auto client = MustConnect(loop(), server.port(), ctx.client, cb);
  ASSERT_TRUE(RunUntil([&] { return log.closed && server.Count("close:ok") == 1; }));
  EXPECT_TRUE(log.info.authorized);
  EXPECT_EQ(log.data, "last words") << "the echo arrives after our end (half-close)";
  EXPECT_EQ(log.end, PeerEnd::kClean);
  EXPECT_FALSE(log.close_error.has_value()) << ErrorText(log.close_error);
  EXPECT_EQ(server.log(), (std::vector<std::string>{"secure", "end:clean", "close:ok"}));
}

TEST_F(UvStream, ServerEndsFirstAndBothSidesCloseCleanly) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server, {}, [](Stream& s) {
    s.Write("bye now");
    s.End();
  });
  StreamLog log;
  auto client = MustConnect(loop(), server.port(), ctx.client, Recording(&log));
  ASSERT_TRUE(RunUntil([&] { return log.closed && server.Count("close:ok") == 1; }));
  EXPECT_EQ(log.data, "bye now");
  EXPECT_EQ(log.end, PeerEnd::kClean);
  EXPECT_FALSE(log.close_error.has_value()) << ErrorText(log.close_error);
  EXPECT_FALSE(client->Write("too late")) << "after the close nothing is accepted";
  EXPECT_EQ(server.Count("end:clean"), 1u);
}

TEST_F(UvStream, APeerThatClosesTcpWithoutCloseNotifyIsATruncatedEnd) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server, {}, [](Stream& s) {
    s.Write("partial");
    // Flushed now (the socket takes it at once), then the socket closes without close_notify.
    s.Destroy();
  });
  StreamLog log;
  auto client = MustConnect(loop(), server.port(), ctx.client, Recording(&log));
  ASSERT_TRUE(RunUntil([&] { return log.closed; }));
  EXPECT_EQ(log.data, "partial");
  EXPECT_EQ(log.end, PeerEnd::kTruncated);
  ASSERT_TRUE(log.close_error.has_value());
  EXPECT_EQ(log.close_error->code, kErrTruncated) << ErrorText(log.close_error);
}

TEST_F(UvStream, WritesBeforeTheHandshakeAreHeldAndSentInOrder) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);
  StreamLog log;
  auto client = MustConnect(loop(), server.port(), ctx.client, Recording(&log));
  const std::string big = Payload(300000, 9);  // beyond the 64 KiB bound: Write says "full"
  EXPECT_FALSE(client->Write(big));
  // Every byte is kept: what the session holds before the handshake (up to its 64 KiB
  // bound) plus the rest in the stream.
  EXPECT_GE(client->buffered_bytes(), big.size() - 64 * 1024);
  client->End();
  ASSERT_TRUE(RunUntil([&] { return log.closed; }));
  EXPECT_EQ(Sha256Hex(log.data), Sha256Hex(big));
  EXPECT_GE(log.drains, 1u);
  EXPECT_FALSE(log.close_error.has_value()) << ErrorText(log.close_error);
}

TEST_F(UvStream, ConnectResolvesANameAndTriesEachAddressInTurn) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);  // 127.0.0.1 only: ::1, if tried first, refuses
  StreamLog log;
  auto s = Connect(loop(), "localhost", server.port(), ctx.client, {}, Recording(&log));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(RunUntil([&] { return log.secure || log.closed; }));
  EXPECT_TRUE(log.secure) << ErrorText(log.close_error);
  EXPECT_EQ(log.info.servername, "localhost");
  EXPECT_EQ((*s)->peer_address().address, "127.0.0.1");
}

TEST_F(UvStream, ConnectToAClosedPortIsEconnrefused) {
  // A port that was just free: bind one, note it, close it.
  auto* probe = new uv_tcp_t;
  uv_tcp_init(loop(), probe);
  sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", 0, &addr);
  ASSERT_EQ(uv_tcp_bind(probe, reinterpret_cast<const sockaddr*>(&addr), 0), 0);
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(probe, reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  uv_close(reinterpret_cast<uv_handle_t*>(probe),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  Contexts ctx = MakeContexts();
  StreamLog log;
  auto s = Connect(loop(), "127.0.0.1", port, ctx.client, {}, Recording(&log));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(RunUntil([&] { return log.closed; }));
  EXPECT_FALSE(log.secure);
  ASSERT_TRUE(log.close_error.has_value());
  EXPECT_EQ(log.close_error->code, "ECONNREFUSED") << ErrorText(log.close_error);
}

TEST_F(UvStream, AnUnresolvableHostIsErrDnsLookup) {
  // glibc refuses a name with spaces without asking a DNS server (nothing leaves the host).
  Contexts ctx = MakeContexts();
  StreamLog log;
  ConnectOptions options;
  options.session.servername = "localhost";  // the host itself is no valid SNI name
  auto s = Connect(loop(), "bad host name", 443, ctx.client, options, Recording(&log));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(RunUntil([&] { return log.closed; }));
  ASSERT_TRUE(log.close_error.has_value());
  EXPECT_EQ(log.close_error->code, kErrDnsLookup) << ErrorText(log.close_error);
}

TEST_F(UvStream, AnUntrustedCertificateFailsConnectWithItsCodeAndTheServerSeesAClientError) {
  Contexts ctx = MakeContexts();
  auto untrusting = Context::Create(ClientContextOptions{});  // trusts no CA at all
  ASSERT_TRUE(untrusting.ok());
  EchoServer server(loop(), ctx.server);
  StreamLog log;
  auto s = MustConnect(loop(), server.port(), *untrusting, Recording(&log));
  ASSERT_TRUE(RunUntil([&] { return log.closed && !server.log().empty(); }));
  EXPECT_FALSE(log.secure);
  ASSERT_TRUE(log.close_error.has_value());
  EXPECT_EQ(log.close_error->code, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY")
      << ErrorText(log.close_error);
  ASSERT_EQ(server.log().size(), 1u);
  EXPECT_EQ(server.log()[0].rfind("clientError:ERR_SSL_", 0), 0u) << server.log()[0];
}

TEST_F(UvStream, ConnectRefusesAServerContextAndABadServername) {
  Contexts ctx = MakeContexts();
  auto a = Connect(loop(), "127.0.0.1", 1, ctx.server, {}, {});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "ERR_INVALID_ARG_VALUE");
  ConnectOptions bad;
  bad.session.servername = std::string("bad\0name", 8);
  auto b = Connect(loop(), "127.0.0.1", 1, ctx.client, bad, {});
  EXPECT_FALSE(b.ok());
}

TEST_F(UvStream, AHandshakeTimeoutClosesTheClientWithItsCode) {
  // A plain TCP listener that never answers.
  auto* listener = new uv_tcp_t;
  uv_tcp_init(loop(), listener);
  sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", 0, &addr);
  ASSERT_EQ(uv_tcp_bind(listener, reinterpret_cast<const sockaddr*>(&addr), 0), 0);
  ASSERT_EQ(uv_listen(reinterpret_cast<uv_stream_t*>(listener), 4,
                      [](uv_stream_t*, int) {}),  // never accepted: the kernel completes TCP
            0);
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  Contexts ctx = MakeContexts();
  StreamLog log;
  ConnectOptions options;
  options.stream.handshake_timeout = milliseconds(200);
  auto s = MustConnect(loop(), port, ctx.client, Recording(&log), options);
  ASSERT_TRUE(RunUntil([&] { return log.closed; }));
  ASSERT_TRUE(log.close_error.has_value());
  EXPECT_EQ(log.close_error->code, kErrHandshakeTimeout) << ErrorText(log.close_error);
  uv_close(reinterpret_cast<uv_handle_t*>(listener),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
}

TEST_F(UvStream, APausedVerificationAnsweredLaterCompletesTheHandshake) {
  Contexts ctx = MakeContexts(std::nullopt, nullptr, [](auto& o) { o.verify_callback = true; });
  EchoServer server(loop(), ctx.server);
  StreamLog log;
  int asked = 0;
  StreamCallbacks cb = Recording(&log);
  cb.session_event = [&](Stream& s, const Event& e) {
    if (e.kind() != EventKind::kVerifyRequested) return;
    ++asked;
    EXPECT_TRUE(e.get<event::VerifyRequested>().authorized)
        << "our own verdict comes with the question";
    Stream* raw = &s;
    test::After(loop(), milliseconds(20), [raw] {
      EXPECT_FALSE(raw->session().CompleteVerification(true).has_value());
      raw->Advance();
    });
  };
  auto s = MustConnect(loop(), server.port(), ctx.client, cb);
  ASSERT_TRUE(RunUntil([&] { return log.secure || log.closed; }));
  EXPECT_TRUE(log.secure) << ErrorText(log.close_error);
  EXPECT_EQ(asked, 1);
  EXPECT_TRUE(log.info.authorized);
  s->Write("ping");
  ASSERT_TRUE(RunUntil([&] { return log.data == "ping"; }));
}

TEST_F(UvStream, APausedSniRequestAnsweredLaterPicksTheCertificate) {
  Contexts ctx = MakeContexts(
      std::nullopt, [](auto& o) { o.sni_callback = true; },
      [](auto& o) { o.reject_unauthorized = false; });
  EchoServer server(loop(), ctx.server);
  std::string asked_for;
  server.extra().session_event = [&](Stream& s, const Event& e) {
    if (e.kind() != EventKind::kSniRequest) return;
    asked_for = e.get<event::SniRequest>().servername;
    Stream* raw = &s;
    test::After(loop(), milliseconds(20), [raw] {
      EXPECT_FALSE(raw->session().AnswerSni(SniAnswer::UseDefault()).has_value());
      raw->Advance();
    });
  };
  StreamLog log;
  ConnectOptions options;
  options.session.servername = "unknown.test";
  auto s = MustConnect(loop(), server.port(), ctx.client, Recording(&log), options);
  ASSERT_TRUE(RunUntil([&] { return log.secure || log.closed; }));
  EXPECT_TRUE(log.secure) << ErrorText(log.close_error);
  EXPECT_EQ(asked_for, "unknown.test");
  EXPECT_EQ(log.info.authorization_error, "ERR_TLS_CERT_ALTNAME_INVALID")
      << "served the default (localhost) certificate";
}

TEST_F(UvStream, ARejectedSniRequestIsAClientErrorAndTheClientGetsTheAlert) {
  Contexts ctx = MakeContexts(std::nullopt, [](auto& o) { o.sni_callback = true; });
  EchoServer server(loop(), ctx.server);
  server.extra().session_event = [&](Stream& s, const Event& e) {
    if (e.kind() == EventKind::kSniRequest) s.session().AnswerSni(SniAnswer::Reject("no"));
  };
  StreamLog log;
  ConnectOptions options;
  options.session.servername = "unknown.test";
  auto s = MustConnect(loop(), server.port(), ctx.client, Recording(&log), options);
  ASSERT_TRUE(RunUntil([&] { return log.closed && !server.log().empty(); }));
  ASSERT_TRUE(log.close_error.has_value());
  EXPECT_EQ(log.close_error->code, "ERR_SSL_TLSV1_ALERT_UNRECOGNIZED_NAME")
      << ErrorText(log.close_error);
  EXPECT_EQ(server.log(), (std::vector<std::string>{"clientError:ERR_TLS_SNI_REJECTED"}));
}

TEST_F(UvStream, DestroyingStreamsInsideTheirOwnCallbacksIsSafe) {
  Contexts ctx = MakeContexts();
  // The server destroys its stream inside the data callback, the client inside secure and
  // then a second client inside close.
  std::unique_ptr<Stream> held;
  ServerCallbacks scb;
  int server_data = 0;
  scb.secure_connection = [&](std::unique_ptr<Stream> s) {
    held = std::move(s);
    StreamCallbacks cb;
    cb.data = [&](Stream&, std::span<const uint8_t>) {
      ++server_data;
      held.reset();
    };
    held->set_callbacks(cb);
  };
  auto server = Server::Listen(loop(), ctx.server, {}, scb);
  ASSERT_TRUE(server.ok());
  uint16_t port = (*server)->port();

  std::unique_ptr<Stream> first;
  bool first_secure = false;
  StreamCallbacks c1;
  c1.secure = [&](Stream&, const HandshakeInfo&) {
    first_secure = true;
    first.reset();
  };
  first = MustConnect(loop(), port, ctx.client, c1);
  ASSERT_TRUE(RunUntil([&] { return first_secure; }));
  EXPECT_EQ(first, nullptr);

  std::unique_ptr<Stream> second;
  bool second_closed = false;
  StreamCallbacks c2;
  c2.secure = [&](Stream& s, const HandshakeInfo&) { s.Write("x"); };
  c2.close = [&](Stream&, const std::optional<Error>&) {
    second_closed = true;
    second.reset();
  };
  second = MustConnect(loop(), port, ctx.client, c2);
  ASSERT_TRUE(RunUntil([&] { return second_closed; }));
  EXPECT_EQ(server_data, 1);
  EXPECT_EQ(second, nullptr);
  ASSERT_TRUE(RunUntil([&] { return (*server)->connections() == 0; }));
  server->reset();
}

TEST_F(UvStream, DestroyingAStreamWhileItResolvesOrConnectsLeavesNothingOpen) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);
  bool called = false;
  StreamCallbacks cb;
  cb.close = [&](Stream&, const std::optional<Error>&) { called = true; };
  auto resolving = Connect(loop(), "localhost", server.port(), ctx.client, {}, cb);
  ASSERT_TRUE(resolving.ok());
  resolving->reset();  // getaddrinfo in flight: cancelled or ignored when it comes back
  StreamLog log;
  auto connecting = MustConnect(loop(), server.port(), ctx.client, Recording(&log));
  Error why{"ERR_TEST_DESTROYED", "by the test", std::nullopt, false};
  connecting->Destroy(why);
  EXPECT_TRUE(connecting->closed());
  ASSERT_TRUE(RunUntil([&] { return log.closed; }));
  EXPECT_FALSE(log.secure);
  ASSERT_TRUE(log.close_error.has_value());
  EXPECT_EQ(*log.close_error, why) << "Destroy's error is what close reports";
  EXPECT_FALSE(called) << "no callback after the Stream was destroyed";
  // TearDown checks that every handle (resolver, TCP, timers) closed.
}

TEST_F(UvStream, APausedReaderGetsTheEndOnlyAfterItsData) {
  Contexts ctx = MakeContexts();
  const std::string data = Payload(300000, 11);  // more than the session buffers (64 KiB)
  EchoServer server(loop(), ctx.server, {}, [&](Stream& s) {
    s.Write(data);
    s.End();
  });
  StreamLog log;
  StreamCallbacks cb = Recording(&log);
  cb.secure = [&](Stream& s, const HandshakeInfo&) {
    log.secure = true;
    s.Pause();
  };
  auto client = MustConnect(loop(), server.port(), ctx.client, cb);
  ASSERT_TRUE(RunUntil([&] { return log.secure; }));
  // Paused: the peer's data and its close_notify wait (in the session, then in the kernel).
  ASSERT_FALSE(
      RunUntil([&] { return log.end.has_value() || !log.data.empty(); }, milliseconds(300)));
  EXPECT_LE(client->buffered_bytes(), 200u * 1024) << "only what the bounds allow";
  client->Resume();
  ASSERT_TRUE(RunUntil([&] { return log.closed; }));
  EXPECT_EQ(Sha256Hex(log.data), Sha256Hex(data));
  EXPECT_EQ(log.end, PeerEnd::kClean);
  EXPECT_FALSE(log.close_error.has_value()) << ErrorText(log.close_error);
}

// ---- STARTTLS -----------------------------------------------------------------------------

// A plaintext server: accepts one connection, reads "STARTTLS\r\n" plus at least one byte
// after it (the client's first TLS bytes), then starts TLS with those bytes as |received|.
struct PlainAcceptor {
  uv_tcp_t* listener = new uv_tcp_t;
  uv_tcp_t* conn = nullptr;
  std::string buffered;
  std::function<void(uv_tcp_t*, std::string rest)> on_line;
  uint16_t port = 0;
  char buf[4096];
};

TEST_F(UvStream, StartTlsRefusesMoreBytesThanTheSessionTakesAndLeavesTheHandle) {
  // As on POSIX (transport::FeedReceived): a server pausing at the ClientHello keeps at most
  // 32 KiB after it, and the stream keeps no buffer of its own for the rest.
  Contexts ctx = MakeContexts(std::nullopt, [](auto& o) { o.sni_callback = true; });
  std::vector<uint8_t> hello = test_contexts::ClientHelloAndMore(ctx.client, "unknown.example", 0);
  ASSERT_FALSE(hello.empty());
  std::vector<uint8_t> received =
      test_contexts::ClientHelloAndMore(ctx.client, "unknown.example", 64 * 1024);
  auto* tcp = new uv_tcp_t;
  ASSERT_EQ(uv_tcp_init(loop(), tcp), 0);
  StreamLog log;
  auto refused = StartTls(tcp, ctx.server, {}, received, Recording(&log));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "ERR_INVALID_ARG_VALUE");
  EXPECT_FALSE(uv_is_closing(reinterpret_cast<uv_handle_t*>(tcp))) << "still the caller's";
  uv_close(reinterpret_cast<uv_handle_t*>(tcp),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
}

TEST_F(UvStream, StartTlsAfterAPlaintextLineUsesTheBytesReadPastIt) {
  Contexts ctx = MakeContexts();
  PlainAcceptor acc;
  uv_tcp_init(loop(), acc.listener);
  acc.listener->data = &acc;
  sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", 0, &addr);
  ASSERT_EQ(uv_tcp_bind(acc.listener, reinterpret_cast<const sockaddr*>(&addr), 0), 0);
  ASSERT_EQ(uv_listen(reinterpret_cast<uv_stream_t*>(acc.listener), 4,
                      [](uv_stream_t* l, int status) {
                        auto* a = static_cast<PlainAcceptor*>(l->data);
                        if (status < 0 || a->conn) return;
                        a->conn = new uv_tcp_t;
                        uv_tcp_init(l->loop, a->conn);
                        a->conn->data = a;
                        uv_accept(l, reinterpret_cast<uv_stream_t*>(a->conn));
                        uv_read_start(
                            reinterpret_cast<uv_stream_t*>(a->conn),
                            [](uv_handle_t* h, size_t, uv_buf_t* b) {
                              auto* a = static_cast<PlainAcceptor*>(h->data);
                              *b = uv_buf_init(a->buf, sizeof a->buf);
                            },
                            [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
                              auto* a = static_cast<PlainAcceptor*>(s->data);
                              if (n <= 0) return;
                              a->buffered.append(b->base, static_cast<size_t>(n));
                              size_t eol = a->buffered.find("\r\n");
                              if (eol == std::string::npos || a->buffered.size() == eol + 2) {
                                return;  // wait for the line and the first TLS byte
                              }
                              uv_read_stop(s);
                              a->on_line(a->conn, a->buffered.substr(eol + 2));
                            });
                      }),
            0);
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(acc.listener, reinterpret_cast<sockaddr*>(&bound), &len);
  acc.port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  std::unique_ptr<Stream> server_side;
  StreamLog server_log;
  size_t received_len = 0;
  acc.on_line = [&](uv_tcp_t* tcp, std::string rest) {
    received_len = rest.size();
    StreamCallbacks cb = Recording(&server_log);
    cb.data = [&](Stream& s, std::span<const uint8_t> bytes) {
      server_log.data.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      s.Write("250 hello, secure world\r\n");
      s.End();
    };
    auto s = StartTls(tcp, ctx.server, {},
                      {reinterpret_cast<const uint8_t*>(rest.data()), rest.size()}, cb);
    ASSERT_TRUE(s.ok());
    server_side = std::move(s).value();
  };

  // The client: a plain connection, the line, then TLS at once (its ClientHello follows
  // the line without waiting for an answer).
  struct PlainConnect {
    uv_connect_t req;
    bool done = false;
    int status = 0;
  } pc;
  auto* client_tcp = new uv_tcp_t;
  uv_tcp_init(loop(), client_tcp);
  uv_ip4_addr("127.0.0.1", acc.port, &addr);
  pc.req.data = &pc;
  uv_tcp_connect(&pc.req, client_tcp, reinterpret_cast<const sockaddr*>(&addr),
                 [](uv_connect_t* r, int status) {
                   auto* p = static_cast<PlainConnect*>(r->data);
                   p->done = true;
                   p->status = status;
                 });
  ASSERT_TRUE(RunUntil([&] { return pc.done; }));
  ASSERT_EQ(pc.status, 0);
  static char line[] = "STARTTLS\r\n";
  uv_buf_t lb = uv_buf_init(line, sizeof line - 1);
  ASSERT_EQ(uv_try_write(reinterpret_cast<uv_stream_t*>(client_tcp), &lb, 1),
            static_cast<int>(sizeof line - 1));
  StreamLog client_log;
  auto client =
      StartTls(client_tcp, ctx.client, {.servername = "localhost"}, {}, Recording(&client_log));
  ASSERT_TRUE(client.ok());
  (*client)->Write("HELLO\r\n");
  ASSERT_TRUE(RunUntil([&] { return client_log.closed && server_log.closed; }));
  EXPECT_GT(received_len, 0u) << "the server's StartTls got the first TLS bytes as |received|";
  EXPECT_TRUE(client_log.info.authorized);
  EXPECT_EQ(server_log.data, "HELLO\r\n");
  EXPECT_EQ(client_log.data, "250 hello, secure world\r\n");
  EXPECT_FALSE(client_log.close_error.has_value()) << ErrorText(client_log.close_error);
  EXPECT_FALSE(server_log.close_error.has_value()) << ErrorText(server_log.close_error);
  uv_close(reinterpret_cast<uv_handle_t*>(acc.listener),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
}

}  // namespace
}  // namespace sansio_tls::uv_tls
