// Server: secureConnection/clientError/drop, max_connections, the connections count,
// handshake timeout, junk before a handshake, a client that never reads, graceful close
// with and without stragglers, context replacement, many concurrent clients.
#include "transports/posix/server.h"

#include <gtest/gtest.h>
#include <openssl/pool.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/cert_factory.h"
#include "tests/common/stuck_peer.h"
#include "tests/posix/posix_test_util.h"
#include "transports/posix/connection.h"
#include "transports/posix/socket.h"

namespace sansio_tls::posix {
namespace {

using test::ReadExactly;
using test::ReadToEnd;

using std::chrono::milliseconds;
using test::Bytes;
using test::Contexts;
using test::MakeContexts;
using test::Payload;
using test::ServerThread;
using test::Sha256Hex;

std::string ErrorText(const Error& e) { return e.code + ": " + e.message; }

UniqueFd RawConnect(uint16_t port) {
  auto fd = TcpConnect("127.0.0.1", port, milliseconds(10000));
  EXPECT_TRUE(fd.ok());
  return fd.ok() ? std::move(fd).value() : UniqueFd();
}

// Reads from a raw socket until EOF or reset; returns the bytes (bounded wait).
std::string ReadRawUntilClosed(int fd, bool* closed) {
  std::string out;
  char buf[4096];
  Deadline deadline = Deadline::After(milliseconds(20000));
  *closed = false;
  for (;;) {
    if (WaitFd(fd, true, false, deadline) != 0) return out;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    *closed = true;  // EOF or ECONNRESET
    return out;
  }
}

TEST(Server, ListenRefusesAClientContextAndAMissingCallback) {
  Contexts ctx = MakeContexts();
  auto a = Server::Listen(ctx.client, {}, {.secure_connection = [](Connection&) {
                            return std::unique_ptr<ConnectionHandler>();
                          }});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "ERR_INVALID_ARG_VALUE");
  auto b = Server::Listen(ctx.server, {}, {});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, "ERR_INVALID_ARG_VALUE");
}

TEST(Server, SecondListenerOnTheSamePortIsEaddrinuse) {
  Contexts ctx = MakeContexts();
  ServerThread first(ctx.server);
  auto second = Server::Listen(
      ctx.server, {.port = first.port()},
      {.secure_connection = [](Connection&) { return std::unique_ptr<ConnectionHandler>(); }});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "EADDRINUSE");
}

TEST(Server, MaxConnectionsDropsTheNextSocketBeforeAnyTlsByte) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server, {.max_connections = 1});
  auto first = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_TRUE(first.ok()) << ErrorText(first.error());
  ASSERT_TRUE(server.WaitFor("secure"));

  UniqueFd second = RawConnect(server.port());
  bool closed = false;
  std::string got = ReadRawUntilClosed(second.get(), &closed);
  EXPECT_TRUE(closed) << "connection N+1 is closed by the server";
  EXPECT_EQ(got, "") << "not a single TLS byte";
  ASSERT_TRUE(server.WaitFor("drop"));
  EXPECT_EQ(server.Count("drop"), 1u);
  EXPECT_EQ(server.Count("secure"), 1u);
  EXPECT_EQ(server.server().connections(), 1u);

  // Once the first leaves, a new connection is served again.
  (*first)->set_timeout(milliseconds(20000));
  EXPECT_FALSE((*first)->End().has_value());
  first->reset();
  ASSERT_TRUE(server.WaitConnections(0));
  auto third = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_TRUE(third.ok()) << ErrorText(third.error());
  EXPECT_EQ(server.Count("drop"), 1u);
}

TEST(Server, ConnectionsCountsHandshakingSocketsToo) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server);
  EXPECT_EQ(server.server().connections(), 0u);
  UniqueFd a = RawConnect(server.port()), b = RawConnect(server.port());
  ASSERT_TRUE(server.WaitConnections(2)) << server.server().connections();
  auto tls = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_TRUE(tls.ok());
  ASSERT_TRUE(server.WaitConnections(3));
  a.reset();
  b.reset();
  ASSERT_TRUE(server.WaitConnections(1)) << server.server().connections();
  EXPECT_EQ(server.Count("clientError:ECONNRESET"), 2u);
}

TEST(Server, HandshakeTimeoutIsOneClientErrorAndACloseSocket) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server, {.handshake_timeout = milliseconds(300)});
  auto start = Clock::now();
  UniqueFd idle = RawConnect(server.port());
  bool closed = false;
  std::string got = ReadRawUntilClosed(idle.get(), &closed);
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_TRUE(closed);
  EXPECT_EQ(got, "");
  EXPECT_GE(elapsed, 0.29);
  EXPECT_LT(elapsed, 10.0);
  ASSERT_TRUE(server.WaitFor("clientError:ERR_TLS_HANDSHAKE_TIMEOUT"));
  ASSERT_TRUE(server.WaitConnections(0));
  EXPECT_EQ(server.log(), (std::vector<std::string>{"clientError:ERR_TLS_HANDSHAKE_TIMEOUT"}));
}

TEST(Server, HandshakeTimeoutSparesCompletedHandshakes) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server, {.handshake_timeout = milliseconds(1000)});
  auto conn = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_TRUE(conn.ok());
  UniqueFd idle = RawConnect(server.port());
  ASSERT_TRUE(server.WaitFor("clientError:ERR_TLS_HANDSHAKE_TIMEOUT"));
  // The established connection outlived the timeout and still echoes.
  (*conn)->set_timeout(milliseconds(20000));
  ASSERT_TRUE((*conn)->Write(Bytes("still here")).ok());
  EXPECT_EQ(ReadExactly(**conn, 10), "still here");
  EXPECT_EQ(server.Count("clientError:ERR_TLS_HANDSHAKE_TIMEOUT"), 1u);
}

TEST(Server, OneMiBOfJunkBeforeAHandshakeIsOneClientErrorAndNoSecureConnection) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server);
  UniqueFd fd = RawConnect(server.port());
  const std::string junk(1 << 20, '\x2a');
  std::thread writer([&] {
    size_t off = 0;
    while (off < junk.size()) {
      if (WaitFd(fd.get(), false, true, Deadline::After(milliseconds(20000))) != 0) return;
      ssize_t n = ::send(fd.get(), junk.data() + off, junk.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) continue;
      if (n <= 0) return;  // the server closed on us: expected
      off += static_cast<size_t>(n);
    }
  });
  bool closed = false;
  ReadRawUntilClosed(fd.get(), &closed);
  writer.join();
  EXPECT_TRUE(closed);
  ASSERT_TRUE(server.WaitConnections(0));
  std::vector<std::string> log = server.log();
  ASSERT_EQ(log.size(), 1u) << "exactly one clientError, nothing else";
  EXPECT_EQ(log[0].rfind("clientError:ERR_SSL_", 0), 0u) << log[0];
}

TEST(Server, AClientThatNeverReadsCannotGrowTheServersMemory) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server);
  auto conn = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_TRUE(conn.ok());
  Connection& client = **conn;
  // Write as long as the server takes anything; never read its echo.
  const std::string chunk = Payload(256 * 1024);
  size_t sent = 0;
  Deadline give_up = Deadline::After(milliseconds(30000));
  auto last_progress = Clock::now();
  while (!give_up.expired() && Clock::now() - last_progress < milliseconds(1000)) {
    size_t n = client.TryWrite(Bytes(chunk));
    if (n > 0) {
      sent += n;
      last_progress = Clock::now();
    } else {
      WaitFd(client.fd(), false, true, Deadline::After(milliseconds(100)));
    }
  }
  EXPECT_GT(sent, 256u * 1024) << "the server took some data";
  EXPECT_LT(sent, 64u << 20) << "and then held the client back";
  EXPECT_LE(server.max_buffered(), 256u * 1024)
      << "per-connection buffers stay bounded whatever the peer does";
  // The server still serves others.
  auto other = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_TRUE(other.ok()) << ErrorText(other.error());
  (*other)->set_timeout(milliseconds(20000));
  ASSERT_TRUE((*other)->Write(Bytes("hi")).ok());
  EXPECT_EQ(ReadExactly(**other, 2), "hi");
}

TEST(Server, RejectedClientCertificateIsAClientErrorNotASecureConnection) {
  // The server asks for a certificate chaining to the test root; the client has none.
  Contexts with_ca = MakeContexts();
  auto server_ctx = Context::Create(
      ServerContextOptions{.credentials = {.key_pem = with_ca.pki.server.key_pem,
                                           .cert_chain_pem = with_ca.pki.server_chain_pem()},
                           .ca_pems = {with_ca.pki.root.cert_pem},
                           .request_cert = true});
  ASSERT_TRUE(server_ctx.ok());
  ServerThread server(*server_ctx);
  auto conn = Connect("127.0.0.1", server.port(), with_ca.client);
  if (conn.ok()) {  // TLS 1.3: the client finishes first and learns on its first read
    uint8_t buf[16];
    (*conn)->set_timeout(milliseconds(20000));
    auto r = (*conn)->Read(buf);
    EXPECT_FALSE(r.ok());
  }
  ASSERT_TRUE(server.WaitFor("clientError:UNABLE_TO_GET_ISSUER_CERT"));
  EXPECT_EQ(server.Count("secure"), 0u);
}

TEST(Server, AcceptedClientCertificateIsAuthorized) {
  testing::TestPki pki = testing::MakeTestPki();
  auto server_ctx = Context::Create(ServerContextOptions{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()},
      .ca_pems = {pki.root.cert_pem},
      .request_cert = true});
  auto client_ctx = Context::Create(ClientContextOptions{
      .credentials = {.key_pem = pki.client.key_pem, .cert_chain_pem = pki.client_chain_pem()},
      .ca_pems = {pki.root.cert_pem}});
  ASSERT_TRUE(server_ctx.ok() && client_ctx.ok());
  std::atomic<bool> authorized{false};
  ServerThread server(*server_ctx, {}, [&](Connection& conn) {
    authorized = conn.handshake_info().authorized;
    return std::make_unique<test::EchoHandler>();
  });
  auto conn = Connect("127.0.0.1", server.port(), *client_ctx);
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  ASSERT_TRUE(server.WaitFor("secure"));
  EXPECT_TRUE(authorized.load());
}

TEST(Server, GracefulCloseStopsAcceptingAndLetsConnectionsFinish) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server);
  auto conn = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_TRUE(conn.ok());
  uint16_t port = server.port();
  std::thread closer([&] { server.Stop(milliseconds(20000)); });
  // New connections are refused once the listener is gone.
  Deadline deadline = Deadline::After(milliseconds(10000));
  std::optional<Error> refused;
  while (!deadline.expired() && !refused) {
    // A probe caught in the backlog as the listener closes is reset (ECONNRESET); after
    // that, connections are refused.
    auto probe = TcpConnect("127.0.0.1", port, milliseconds(2000));
    if (!probe.ok() && probe.error().code != "ECONNRESET") refused = probe.error();
  }
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, "ECONNREFUSED");
  // The established connection keeps working, then ends; Run() returns then, not at the
  // deadline.
  (*conn)->set_timeout(milliseconds(20000));
  ASSERT_TRUE((*conn)->Write(Bytes("last words")).ok());
  EXPECT_EQ(ReadExactly(**conn, 10), "last words");
  auto before_end = Clock::now();
  EXPECT_FALSE((*conn)->End().has_value());
  closer.join();
  EXPECT_LT(Clock::now() - before_end, milliseconds(10000));
  EXPECT_EQ(server.Count("close:ok"), 1u);
  EXPECT_EQ(server.Count("stopped"), 1u);
}

TEST(Server, GracePeriodEndClosesStragglersWithCloseNotify) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server);
  auto conn = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_TRUE(conn.ok());
  UniqueFd handshaking = RawConnect(server.port());
  ASSERT_TRUE(server.WaitConnections(2));
  auto took = server.Stop(milliseconds(300));
  EXPECT_GE(took.count(), 290);
  EXPECT_LT(took.count(), 10000);
  EXPECT_EQ(server.Count("close:ERR_TLS_SERVER_CLOSED"), 1u);
  EXPECT_EQ(server.Count("clientError:ERR_TLS_SERVER_CLOSED"), 1u);
  // The established client got a clean close_notify.
  uint8_t buf[16];
  (*conn)->set_timeout(milliseconds(20000));
  auto r = (*conn)->Read(buf);
  ASSERT_TRUE(r.ok()) << ErrorText(r.error());
  EXPECT_EQ(*r, 0u);
}

std::vector<uint8_t> PeerLeafDer(const Connection& conn) {
  const STACK_OF(CRYPTO_BUFFER)* chain = SSL_get0_peer_certificates(conn.session().ssl());
  if (!chain || sk_CRYPTO_BUFFER_num(chain) == 0) return {};
  const CRYPTO_BUFFER* leaf = sk_CRYPTO_BUFFER_value(chain, 0);
  return {CRYPTO_BUFFER_data(leaf), CRYPTO_BUFFER_data(leaf) + CRYPTO_BUFFER_len(leaf)};
}

TEST(Server, SetContextServesNewConnectionsWithTheNewCertificate) {
  Contexts a = MakeContexts();
  Contexts b = MakeContexts();
  ServerThread server(a.server);
  auto first = Connect("127.0.0.1", server.port(), a.client);
  ASSERT_TRUE(first.ok()) << ErrorText(first.error());
  EXPECT_EQ(PeerLeafDer(**first), a.pki.server.der);
  EXPECT_FALSE(server.server().SetContext(a.client)) << "a client context is refused";
  ASSERT_TRUE(server.server().SetContext(b.server));
  auto second = Connect("127.0.0.1", server.port(), b.client);
  ASSERT_TRUE(second.ok()) << ErrorText(second.error());
  EXPECT_EQ(PeerLeafDer(**second), b.pki.server.der);
  // The first connection kept its context and still works.
  (*first)->set_timeout(milliseconds(20000));
  ASSERT_TRUE((*first)->Write(Bytes("ok")).ok());
  EXPECT_EQ(ReadExactly(**first, 2), "ok");
}

TEST(Server, APeerThatEndsFirstStillGetsEveryEchoedByte) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server);
  auto conn = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_TRUE(conn.ok());
  Connection& c = **conn;
  // Send everything and end at once; the echo is still in flight (and held back by the
  // handler's backpressure) when the server learns of our end.
  const std::string data = Payload(8 << 20, 5);
  size_t sent = 0;
  bool ended = false;
  std::string got;
  uint8_t buf[65536];
  Deadline deadline = Deadline::After(milliseconds(30000));
  while (!deadline.expired() && !c.done()) {
    while (sent < data.size()) {
      size_t n = c.TryWrite(Bytes(std::string_view(data).substr(sent)));
      if (n == 0) break;
      sent += n;
    }
    if (sent == data.size() && !ended) {
      c.TryEnd();
      ended = true;
    }
    c.Advance();
    while (c.NextEvent()) {
    }
    while (size_t n = c.TryRead(buf)) got.append(reinterpret_cast<char*>(buf), n);
    Interest in = c.interest();
    WaitFd(c.fd(), in.want_read, in.want_write, Deadline::After(milliseconds(50)));
  }
  EXPECT_EQ(got.size(), data.size());
  EXPECT_EQ(Sha256Hex(got), Sha256Hex(data));
  EXPECT_EQ(c.peer_end(), PeerEnd::kClean);
  ASSERT_TRUE(server.WaitFor("close:ok"));
}

TEST(Server, PausesWithoutASessionEventCallbackGetDefaultAnswers) {
  // An SNI callback context: a name matching no SNI context pauses the handshake; with no
  // session_event callback the server answers "use the default credentials".
  Contexts ctx = MakeContexts(
      std::nullopt, [](auto& o) { o.sni_callback = true; },
      [](auto& o) { o.reject_unauthorized = false; });
  ServerThread server(ctx.server, {.handshake_timeout = milliseconds(20000)});
  auto conn =
      Connect("127.0.0.1", server.port(), ctx.client, {.session = {.servername = "unknown.test"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  EXPECT_EQ((*conn)->handshake_info().authorization_error, "ERR_TLS_CERT_ALTNAME_INVALID")
      << "served the default (localhost) certificate";
  ASSERT_TRUE(server.WaitFor("secure"));
}

TEST(Server, SessionEventCallbackAnswersAPause) {
  Contexts ctx = MakeContexts(
      std::nullopt, [](auto& o) { o.sni_callback = true; },
      [](auto& o) { o.reject_unauthorized = false; });
  std::atomic<int> asked{0};
  ServerCallbacks callbacks;
  callbacks.secure_connection = [](Connection&) { return std::make_unique<test::EchoHandler>(); };
  callbacks.session_event = [&](Connection& conn, const Event& e) {
    if (e.kind() != EventKind::kSniRequest) return;
    asked.fetch_add(1);
    conn.session().AnswerSni(SniAnswer::Reject("no such name here"));
  };
  auto server = Server::Listen(ctx.server, {}, callbacks);
  ASSERT_TRUE(server.ok());
  std::thread loop([&] { (*server)->Run(); });
  auto conn = Connect("127.0.0.1", (*server)->port(), ctx.client,
                      {.session = {.servername = "unknown.test"}});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().code, "ERR_SSL_TLSV1_ALERT_UNRECOGNIZED_NAME") << ErrorText(conn.error());
  EXPECT_EQ(asked.load(), 1);
  (*server)->Close(milliseconds(1000));
  loop.join();
}

TEST(Server, KeyLogLinesReachTheCallback) {
  Contexts ctx = MakeContexts(std::nullopt, [](auto& o) { o.key_log = true; });
  std::mutex mu;
  std::vector<std::string> lines;
  ServerCallbacks callbacks;
  callbacks.secure_connection = [](Connection&) { return std::make_unique<test::EchoHandler>(); };
  callbacks.key_log = [&](Connection&, std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  };
  auto server = Server::Listen(ctx.server, {}, callbacks);
  ASSERT_TRUE(server.ok());
  std::thread loop([&] { (*server)->Run(); });
  auto conn = Connect("127.0.0.1", (*server)->port(), ctx.client);
  ASSERT_TRUE(conn.ok());
  (*conn)->set_timeout(milliseconds(20000));
  ASSERT_TRUE((*conn)->Write(Bytes("x")).ok());
  EXPECT_EQ(ReadExactly(**conn, 1), "x");
  (*server)->Close(milliseconds(1000));
  loop.join();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(lines.size(), 5u) << "TLS 1.3: two handshake, two traffic secrets, exporter";
  EXPECT_EQ(lines[0].rfind("SERVER_HANDSHAKE_TRAFFIC_SECRET ", 0) == 0 ||
                lines[0].rfind("CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 0) == 0,
            true)
      << lines[0];
}

TEST(Server, ServesManyConcurrentClientsFromOneThread) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server);
  constexpr int kClients = 40;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto conn = Connect("127.0.0.1", server.port(), ctx.client);
      if (!conn.ok()) return;
      (*conn)->set_timeout(milliseconds(30000));
      std::string data = Payload(100000, static_cast<uint32_t>(i));
      if (!(*conn)->Write(Bytes(data)).ok()) return;
      if (Sha256Hex(ReadExactly(**conn, data.size())) != Sha256Hex(data)) return;
      if ((*conn)->End()) return;
      ok.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients);
  ASSERT_TRUE(server.WaitFor("close:ok", kClients));
  ASSERT_TRUE(server.WaitConnections(0));
}

// Regression: a client that filled the pipeline (the server stopped reading because its
// echo could not be sent) and then went away was kept forever with its descriptor, and
// with max_connections such clients locked every later one out.
class ServerStuckPeer : public ::testing::TestWithParam<test_stuck_peer::Ending> {};

TEST_P(ServerStuckPeer, IsReleasedWithItsDescriptorAndLocksNobodyOut) {
  using test_stuck_peer::Ending;
  Contexts ctx = MakeContexts(TlsVersion::kTls13);
  ServerThread server(ctx.server, {.max_connections = 2});
  const size_t baseline = test_stuck_peer::OpenFds();
  for (int i = 0; i < 2; ++i) {
    auto left = Clock::now();
    auto o = test_stuck_peer::WriteWithoutReadingThenLeave(server.port(), ctx.client, GetParam());
    ASSERT_TRUE(o.handshake_ok) << o.error;
    EXPECT_EQ(o.error, "");
    if (GetParam() == Ending::kFinAndDrain) {
      EXPECT_TRUE(o.clean_end) << "the server answers the end with close_notify";
      ASSERT_EQ(o.echoed.size(), o.written) << "every byte the client wrote comes back";
      EXPECT_EQ(Sha256Hex(o.echoed), Sha256Hex(Payload(64 << 20, 11).substr(0, o.written)));
    }
    left = Clock::now();
    ASSERT_TRUE(server.WaitConnections(0, milliseconds(10000)))
        << "still held: " << server.server().connections();
    std::printf("posix stuck peer %d: wrote %zu B, released %lld ms after it left\n",
                static_cast<int>(GetParam()), o.written,
                static_cast<long long>(
                    std::chrono::duration_cast<milliseconds>(Clock::now() - left).count()));
  }
  EXPECT_EQ(test_stuck_peer::OpenFds(), baseline) << "every descriptor is back";
  auto other = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_TRUE(other.ok()) << ErrorText(other.error());
  (*other)->set_timeout(milliseconds(20000));
  ASSERT_TRUE((*other)->Write(Bytes("hi")).ok());
  EXPECT_EQ(ReadExactly(**other, 2), "hi");
  EXPECT_EQ(server.Count("drop"), 0u);
  EXPECT_FALSE((*other)->End().has_value());
  other->reset();
  ASSERT_TRUE(server.WaitConnections(0));
  EXPECT_LT(server.Stop(milliseconds(5000)), milliseconds(4000))
      << "closing waits for no departed client";
}

INSTANTIATE_TEST_SUITE_P(Endings, ServerStuckPeer,
                         ::testing::Values(test_stuck_peer::Ending::kReset,
                                           test_stuck_peer::Ending::kFinThenGone,
                                           test_stuck_peer::Ending::kFinAndDrain));

// A reset reaches a connection that waits for nothing (its application holds the data
// unread, so the session takes no more): it is released, not parked forever.
TEST(Server, AResetReachesAConnectionWhoseApplicationHoldsItsData) {
  struct Holder : ConnectionHandler {
    void OnData(Connection&) override {}  // never reads
  };
  Contexts ctx = MakeContexts(TlsVersion::kTls13);
  ServerThread server(ctx.server, {}, [](Connection&) -> std::unique_ptr<ConnectionHandler> {
    return std::make_unique<Holder>();
  });
  const size_t baseline = test_stuck_peer::OpenFds();
  auto o = test_stuck_peer::WriteWithoutReadingThenLeave(server.port(), ctx.client,
                                                         test_stuck_peer::Ending::kReset);
  ASSERT_TRUE(o.handshake_ok) << o.error;
  EXPECT_EQ(o.error, "");
  ASSERT_TRUE(server.WaitConnections(0, milliseconds(10000)))
      << "still held: " << server.server().connections();
  EXPECT_EQ(test_stuck_peer::OpenFds(), baseline);
  EXPECT_TRUE(server.WaitFor("close:ECONNRESET")) << server.log().back();
}

}  // namespace
}  // namespace sansio_tls::posix
