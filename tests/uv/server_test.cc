// Server: secure_connection/client_error/drop, max_connections, connections(), handshake
// timeout, junk before a handshake, graceful Close with and without stragglers, SetContext,
// key log, many clients on one loop, destroying the Server with connections alive.
#include "transports/uv/server.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/common/stuck_peer.h"
#include "tests/uv/uv_test_util.h"
#include "transports/uv/stream.h"

namespace sansio_tls::uv_tls {
namespace {

using std::chrono::milliseconds;
using test::Contexts;
using test::EchoServer;
using test::ErrorText;
using test::MakeContexts;
using test::Payload;
using test::RawClient;
using test::Recording;
using test::Sha256Hex;
using test::StreamLog;

class UvServer : public test::LoopTest {
 protected:
  std::unique_ptr<Stream> ConnectTo(uint16_t port, std::shared_ptr<const Context> ctx,
                                    StreamCallbacks cb) {
    ConnectOptions options;
    options.session.servername = "localhost";
    auto s = Connect(loop(), "127.0.0.1", port, std::move(ctx), options, std::move(cb));
    EXPECT_TRUE(s.ok());
    return s.ok() ? std::move(s).value() : nullptr;
  }
};

TEST_F(UvServer, ListenRefusesAClientContextAMissingCallbackAndABusyPort) {
  Contexts ctx = MakeContexts();
  ServerCallbacks cb;
  cb.secure_connection = [](std::unique_ptr<Stream>) {};
  auto a = Server::Listen(loop(), ctx.client, {}, cb);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "ERR_INVALID_ARG_VALUE");
  auto b = Server::Listen(loop(), ctx.server, {}, {});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, "ERR_INVALID_ARG_VALUE");
  auto first = Server::Listen(loop(), ctx.server, {}, cb);
  ASSERT_TRUE(first.ok());
  auto second = Server::Listen(loop(), ctx.server, {.port = (*first)->port()}, cb);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "EADDRINUSE");
}

TEST_F(UvServer, MaxConnectionsDropsTheNextSocketBeforeAnyTlsByte) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server, {.max_connections = 1});
  StreamLog first_log;
  auto first = ConnectTo(server.port(), ctx.client, Recording(&first_log));
  ASSERT_TRUE(RunUntil([&] { return server.Count("secure") == 1; }));
  RawClient second(loop(), server.port());
  ASSERT_TRUE(RunUntil([&] { return second.closed_by_peer(); }));
  EXPECT_EQ(second.received(), "") << "not a single TLS byte";
  EXPECT_EQ(server.Count("drop"), 1u);
  EXPECT_EQ(server.server().connections(), 1u);
  // Once the first leaves, a new connection is served again.
  first->End();
  ASSERT_TRUE(RunUntil([&] { return first_log.closed && server.server().connections() == 0; }));
  StreamLog third_log;
  auto third = ConnectTo(server.port(), ctx.client, Recording(&third_log));
  ASSERT_TRUE(RunUntil([&] { return third_log.secure || third_log.closed; }));
  EXPECT_TRUE(third_log.secure) << ErrorText(third_log.close_error);
  EXPECT_EQ(server.Count("drop"), 1u);
}

TEST_F(UvServer, ConnectionsCountsHandshakingSocketsAndALeavingPeerIsOneClientError) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);
  auto a = std::make_unique<RawClient>(loop(), server.port());
  auto b = std::make_unique<RawClient>(loop(), server.port());
  ASSERT_TRUE(RunUntil([&] { return server.server().connections() == 2; }));
  StreamLog log;
  auto tls = ConnectTo(server.port(), ctx.client, Recording(&log));
  ASSERT_TRUE(RunUntil([&] { return log.secure && server.server().connections() == 3; }));
  a.reset();
  b.reset();
  ASSERT_TRUE(RunUntil([&] { return server.server().connections() == 1; }));
  EXPECT_EQ(server.Count("clientError:ECONNRESET"), 2u);
}

TEST_F(UvServer, HandshakeTimeoutIsOneClientErrorAndAClosedSocket) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server, {.handshake_timeout = milliseconds(200)});
  RawClient idle(loop(), server.port());
  ASSERT_TRUE(RunUntil([&] { return idle.closed_by_peer(); }));
  EXPECT_EQ(idle.received(), "");
  ASSERT_TRUE(RunUntil([&] { return server.server().connections() == 0; }));
  EXPECT_EQ(server.log(), (std::vector<std::string>{"clientError:ERR_TLS_HANDSHAKE_TIMEOUT"}));
}

TEST_F(UvServer, HandshakeTimeoutSparesCompletedHandshakes) {
  Contexts ctx = MakeContexts();
  // Long enough for the real client's handshake on a loaded machine (sanitizers, CI).
  EchoServer server(loop(), ctx.server, {.handshake_timeout = milliseconds(1000)});
  StreamLog log;
  auto conn = ConnectTo(server.port(), ctx.client, Recording(&log));
  RawClient idle(loop(), server.port());
  ASSERT_TRUE(RunUntil([&] { return server.Count("clientError:ERR_TLS_HANDSHAKE_TIMEOUT") == 1; }));
  ASSERT_TRUE(log.secure);
  conn->Write("still here");
  ASSERT_TRUE(RunUntil([&] { return log.data == "still here"; }));
  EXPECT_FALSE(log.closed);
}

TEST_F(UvServer, JunkBeforeAHandshakeIsOneClientErrorAndNoSecureConnection) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);
  RawClient junk(loop(), server.port());
  ASSERT_TRUE(RunUntil([&] { return junk.connected(); }));
  junk.Send(std::string(1 << 20, '\x2a'));
  ASSERT_TRUE(
      RunUntil([&] { return junk.closed_by_peer() && server.server().connections() == 0; }));
  ASSERT_EQ(server.log().size(), 1u) << "exactly one clientError, nothing else";
  EXPECT_EQ(server.log()[0].rfind("clientError:ERR_SSL_", 0), 0u) << server.log()[0];
}

TEST_F(UvServer, SigpipeNoLongerHasItsDefaultActionOnceAServerExists) {
  // libuv writes with write(2): with SIGPIPE at its default, a peer that reset would kill
  // the process on our next write.
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);
  struct sigaction current {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &current), 0);
  EXPECT_EQ(current.sa_handler, SIG_IGN);
}

TEST_F(UvServer, RejectedClientCertificateIsAClientErrorNotASecureConnection) {
  // The server asks for a certificate chaining to the test root; the client has none.
  Contexts with_ca = MakeContexts();
  auto server_ctx = Context::Create(
      ServerContextOptions{.credentials = {.key_pem = with_ca.pki.server.key_pem,
                                           .cert_chain_pem = with_ca.pki.server_chain_pem()},
                           .ca_pems = {with_ca.pki.root.cert_pem},
                           .request_cert = true});
  ASSERT_TRUE(server_ctx.ok());
  EchoServer server(loop(), *server_ctx);
  StreamLog log;
  auto conn = ConnectTo(server.port(), with_ca.client, Recording(&log));
  ASSERT_TRUE(RunUntil([&] { return log.closed && !server.log().empty(); }));
  EXPECT_EQ(server.log(), (std::vector<std::string>{"clientError:UNABLE_TO_GET_ISSUER_CERT"}));
  EXPECT_TRUE(log.close_error.has_value()) << "the client learns it too (alert)";
}

TEST_F(UvServer, GracefulCloseStopsAcceptingAndLetsConnectionsFinish) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);
  StreamLog log;
  auto conn = ConnectTo(server.port(), ctx.client, Recording(&log));
  ASSERT_TRUE(RunUntil([&] { return server.Count("secure") == 1; }));
  uint16_t port = server.port();
  server.server().Close(milliseconds(20000));
  // New connections are refused once the listener is gone.
  StreamLog refused;
  auto late = ConnectTo(port, ctx.client, Recording(&refused));
  ASSERT_TRUE(RunUntil([&] { return refused.closed; }));
  ASSERT_TRUE(refused.close_error.has_value());
  EXPECT_EQ(refused.close_error->code, "ECONNREFUSED") << ErrorText(refused.close_error);
  // The established connection keeps working, then ends; the server's close follows.
  conn->Write("last words");
  ASSERT_TRUE(RunUntil([&] { return log.data == "last words"; }));
  EXPECT_EQ(server.Count("serverClose"), 0u);
  conn->End();
  ASSERT_TRUE(RunUntil([&] { return server.Count("serverClose") == 1 && log.closed; }));
  EXPECT_EQ(server.Count("close:ok"), 1u);
  EXPECT_FALSE(log.close_error.has_value()) << ErrorText(log.close_error);
}

TEST_F(UvServer, GracePeriodEndClosesStragglersWithCloseNotify) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);
  StreamLog log;
  auto conn = ConnectTo(server.port(), ctx.client, Recording(&log));
  RawClient handshaking(loop(), server.port());
  ASSERT_TRUE(RunUntil([&] { return log.secure && server.server().connections() == 2; }));
  server.server().Close(milliseconds(200));
  ASSERT_TRUE(RunUntil([&] { return server.Count("serverClose") == 1; }));
  EXPECT_EQ(server.Count("close:ERR_TLS_SERVER_CLOSED"), 1u);
  EXPECT_EQ(server.Count("clientError:ERR_TLS_SERVER_CLOSED"), 1u);
  // The established client got a clean close_notify.
  ASSERT_TRUE(RunUntil([&] { return log.end.has_value(); }));
  EXPECT_EQ(log.end, PeerEnd::kClean);
  ASSERT_TRUE(RunUntil([&] { return handshaking.closed_by_peer(); }));
}

TEST_F(UvServer, SetContextServesNewConnectionsWithTheNewCertificate) {
  Contexts a = MakeContexts();
  Contexts b = MakeContexts();
  EchoServer server(loop(), a.server);
  StreamLog first;
  auto c1 = ConnectTo(server.port(), a.client, Recording(&first));
  ASSERT_TRUE(RunUntil([&] { return first.secure || first.closed; }));
  ASSERT_TRUE(first.secure);
  EXPECT_FALSE(server.server().SetContext(a.client)) << "a client context is refused";
  ASSERT_TRUE(server.server().SetContext(b.server));
  StreamLog second;
  auto c2 = ConnectTo(server.port(), b.client, Recording(&second));
  ASSERT_TRUE(RunUntil([&] { return second.secure || second.closed; }));
  ASSERT_TRUE(second.secure) << ErrorText(second.close_error);
  EXPECT_EQ(c1->session().peer_certificate()->raw, a.pki.server.der);
  EXPECT_EQ(c2->session().peer_certificate()->raw, b.pki.server.der);
  // The first connection kept its context and still works.
  c1->Write("ok");
  ASSERT_TRUE(RunUntil([&] { return first.data == "ok"; }));
}

TEST_F(UvServer, KeyLogLinesReachTheServerCallback) {
  Contexts ctx = MakeContexts(std::nullopt, [](auto& o) { o.key_log = true; });
  std::vector<std::string> lines;
  EchoServer server(loop(), ctx.server);
  server.extra().key_log = [&](Stream&, std::string_view line) { lines.emplace_back(line); };
  StreamLog log;
  auto conn = ConnectTo(server.port(), ctx.client, Recording(&log));
  conn->Write("x");
  ASSERT_TRUE(RunUntil([&] { return log.data == "x"; }));
  ASSERT_EQ(lines.size(), 5u) << "TLS 1.3: two handshake, two traffic secrets, exporter";
  EXPECT_EQ(lines[0].rfind("SERVER_HANDSHAKE_TRAFFIC_SECRET ", 0) == 0 ||
                lines[0].rfind("CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 0) == 0,
            true)
      << lines[0];
}

TEST_F(UvServer, ServesManyConcurrentClientsOnOneLoop) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);
  constexpr int kClients = 40;
  struct Client {
    StreamLog log;
    std::string sent;
    std::unique_ptr<Stream> stream;
  };
  std::vector<Client> clients(kClients);
  for (int i = 0; i < kClients; ++i) {
    Client& c = clients[i];
    c.sent = Payload(100000, static_cast<uint32_t>(i));
    StreamCallbacks cb = Recording(&c.log);
    c.stream = ConnectTo(server.port(), ctx.client, cb);
    c.stream->Write(c.sent);
    c.stream->End();
  }
  ASSERT_TRUE(RunUntil(
      [&] {
        for (auto& c : clients) {
          if (!c.log.closed) return false;
        }
        return server.server().connections() == 0;
      },
      milliseconds(60000)));
  for (auto& c : clients) {
    EXPECT_FALSE(c.log.close_error.has_value()) << ErrorText(c.log.close_error);
    EXPECT_EQ(Sha256Hex(c.log.data), Sha256Hex(c.sent));
  }
  EXPECT_EQ(server.Count("close:ok"), static_cast<size_t>(kClients));
}

TEST_F(UvServer, DestroyingTheServerInsideItsOwnCallbackIsSafe) {
  Contexts ctx = MakeContexts();
  std::unique_ptr<Server> server;
  int errors = 0;
  ServerCallbacks cb;
  cb.secure_connection = [](std::unique_ptr<Stream>) {};
  cb.client_error = [&](const ClientErrorInfo& info) {
    ++errors;
    EXPECT_EQ(info.error.code, kErrHandshakeTimeout);
    server.reset();  // inside the server's own callback
  };
  auto listening = Server::Listen(loop(), ctx.server, {.handshake_timeout = milliseconds(100)}, cb);
  ASSERT_TRUE(listening.ok());
  server = std::move(listening).value();
  RawClient a(loop(), server->port()), b(loop(), server->port());
  ASSERT_TRUE(RunUntil([&] { return a.closed_by_peer() && b.closed_by_peer(); }));
  EXPECT_EQ(errors, 1) << "no server callback after it was destroyed";
  EXPECT_EQ(server, nullptr);
}

TEST_F(UvServer, DestroyingTheServerKeepsEstablishedStreamsAndClosesHandshakingOnes) {
  Contexts ctx = MakeContexts();
  EchoServer server(loop(), ctx.server);
  StreamLog log;
  auto conn = ConnectTo(server.port(), ctx.client, Recording(&log));
  RawClient handshaking(loop(), server.port());
  ASSERT_TRUE(RunUntil([&] {
    return log.secure && server.Count("secure") == 1 && server.server().connections() == 2;
  }));
  server.DestroyServer();
  ASSERT_TRUE(RunUntil([&] { return handshaking.closed_by_peer(); }));
  EXPECT_EQ(server.Count("clientError:ERR_TLS_SERVER_CLOSED"), 0u) << "no callback after destroy";
  conn->Write("alive");
  ASSERT_TRUE(RunUntil([&] { return log.data == "alive"; }));
  conn->End();
  ASSERT_TRUE(RunUntil([&] { return log.closed; }));
  EXPECT_FALSE(log.close_error.has_value()) << ErrorText(log.close_error);
}

// Regression (found on POSIX): a client that filled the pipeline and then went away must
// be released at once, with its descriptor, and lock nobody out under max_connections.
// The clients run on their own thread (plain blocking sockets); the loop runs here.
class UvStuckPeer : public test::LoopTest,
                    public ::testing::WithParamInterface<test_stuck_peer::Ending> {
 protected:
  // Runs |client| on a thread while the loop runs; returns once it finished and the server
  // holds no connection (false on timeout).
  template <typename F>
  bool RunClient(EchoServer& server, F client) {
    std::atomic<bool> finished{false};
    std::thread t([&] {
      client();
      finished = true;
    });
    bool ok = RunUntil([&] { return finished.load(); }, milliseconds(60000));
    t.join();
    auto left = std::chrono::steady_clock::now();
    ok = ok && RunUntil([&] { return server.server().connections() == 0; }, milliseconds(10000));
    released_ms =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - left).count();
    return ok;
  }
  long long released_ms = 0;
};

TEST_P(UvStuckPeer, IsReleasedWithItsDescriptorAndLocksNobodyOut) {
  using test_stuck_peer::Ending;
  Contexts ctx = MakeContexts(TlsVersion::kTls13);
  EchoServer server(loop(), ctx.server, {.max_connections = 2});
  std::string warmup;
  ASSERT_TRUE(RunClient(
      server, [&] { warmup = test_stuck_peer::EchoRoundTrip(server.port(), ctx.client); }));
  EXPECT_EQ(warmup, "");
  const size_t baseline = test_stuck_peer::OpenFds();
  for (int i = 0; i < 2; ++i) {
    test_stuck_peer::Outcome o;
    EXPECT_TRUE(RunClient(server,
                          [&] {
                            o = test_stuck_peer::WriteWithoutReadingThenLeave(
                                server.port(), ctx.client, GetParam());
                          }))
        << "still held: " << server.server().connections();
    EXPECT_TRUE(o.handshake_ok) << o.error;
    EXPECT_EQ(o.error, "");
    if (GetParam() == Ending::kFinAndDrain) {
      EXPECT_TRUE(o.clean_end) << "the server answers the end with close_notify";
      EXPECT_EQ(o.echoed.size(), o.written) << "every byte the client wrote comes back";
      EXPECT_EQ(Sha256Hex(o.echoed), Sha256Hex(Payload(64 << 20, 11).substr(0, o.written)));
    }
    std::printf("uv stuck peer %d: wrote %zu B, released %lld ms after it left\n",
                static_cast<int>(GetParam()), o.written, released_ms);
  }
  EXPECT_EQ(test_stuck_peer::OpenFds(), baseline) << "every descriptor is back";
  std::string after;
  EXPECT_TRUE(RunClient(
      server, [&] { after = test_stuck_peer::EchoRoundTrip(server.port(), ctx.client); }));
  EXPECT_EQ(after, "");
  EXPECT_EQ(server.Count("drop"), 0u);
}

INSTANTIATE_TEST_SUITE_P(Endings, UvStuckPeer,
                         ::testing::Values(test_stuck_peer::Ending::kReset,
                                           test_stuck_peer::Ending::kFinThenGone,
                                           test_stuck_peer::Ending::kFinAndDrain));

}  // namespace
}  // namespace sansio_tls::uv_tls
