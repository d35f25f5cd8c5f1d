// Connection, Connect and StartTls over real loopback sockets: blocking and non-blocking
// use, partial writes with tiny socket buffers, EINTR, SIGPIPE, resets, truncation, clean
// close, connect and handshake timeouts.
#include "transports/posix/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "tests/posix/posix_test_util.h"
#include "transports/posix/server.h"
#include "transports/posix/socket.h"

namespace sansio_tls::posix {
namespace {

using test::ReadExactly;
using test::ReadToEnd;

using std::chrono::milliseconds;
using test::Bytes;
using test::Contexts;
using test::MakeContexts;
using test::MakeLivePair;
using test::Payload;
using test::ServerThread;
using test::Sha256Hex;

std::string ErrorText(const Error& e) { return e.code + ": " + e.message; }

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- Connect ------------------------------------------------------------------------

TEST(Connect, HandshakesEchoesAndClosesCleanlyOverLoopback) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server);
  auto conn =
      Connect("127.0.0.1", server.port(), ctx.client, {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  Connection& c = **conn;
  EXPECT_TRUE(c.handshake_info().authorized) << c.handshake_info().authorization_error;
  EXPECT_EQ(c.handshake_info().version, TlsVersion::kTls13);
  EXPECT_EQ(c.handshake_info().servername, "localhost");

  auto w = c.Write(Bytes("ping"));
  ASSERT_TRUE(w.ok()) << ErrorText(w.error());
  EXPECT_EQ(ReadExactly(c, 4), "ping");
  EXPECT_FALSE(c.End().has_value());
  std::optional<Error> end;
  EXPECT_EQ(ReadToEnd(c, &end), "");
  EXPECT_FALSE(end.has_value()) << ErrorText(*end);
  EXPECT_EQ(c.peer_end(), PeerEnd::kClean);
  EXPECT_TRUE(c.done());
  ASSERT_TRUE(server.WaitFor("close:ok"));
  EXPECT_EQ(server.Count("end:clean"), 1u);
}

TEST(Connect, ResolvesLocalhostAndChecksTheNameByDefault) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server);
  auto conn = Connect("localhost", server.port(), ctx.client);
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  EXPECT_TRUE((*conn)->handshake_info().authorized);
  EXPECT_EQ((*conn)->handshake_info().servername, "localhost");
}

TEST(Connect, WorksOverIpv6) {
  Contexts ctx = MakeContexts();
  auto probe = TcpListen("::1", 0, 1);
  if (!probe.ok()) GTEST_SKIP() << "no IPv6 loopback: " << probe.error().message;
  probe->reset();
  ServerThread server(ctx.server, {.host = "::1"});
  auto conn = Connect("::1", server.port(), ctx.client);
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  EXPECT_TRUE((*conn)->handshake_info().authorized);  // the certificate has IP:::1
  EXPECT_EQ((*conn)->peer_address().family, "IPv6");
}

TEST(Connect, RefusedPortIsEconnrefused) {
  Contexts ctx = MakeContexts();
  // A bound socket that does not listen: its port refuses connections.
  UniqueFd fd(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  auto conn = Connect("127.0.0.1", LocalAddress(fd.get()).port, ctx.client);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().code, "ECONNREFUSED");
}

TEST(Connect, UnknownHostIsADnsError) {
  Contexts ctx = MakeContexts();
  auto conn =
      Connect("no-such-host.invalid", 443, ctx.client, {.connect_timeout = milliseconds(5000)});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().code, "ERR_DNS_LOOKUP");
}

TEST(Connect, TimesOutWhenTheSynIsNeverAnswered) {
  Contexts ctx = MakeContexts();
  // backlog 0 admits one queued connection; the kernel then drops further SYNs.
  auto listener = TcpListen("127.0.0.1", 0, 0);
  ASSERT_TRUE(listener.ok());
  uint16_t port = LocalAddress(listener->get()).port;
  auto filler = TcpConnect("127.0.0.1", port, milliseconds(5000));
  ASSERT_TRUE(filler.ok()) << ErrorText(filler.error());
  auto start = Clock::now();
  auto conn = Connect("127.0.0.1", port, ctx.client, {.connect_timeout = milliseconds(300)});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().code, "ETIMEDOUT");
  EXPECT_GE(SecondsSince(start), 0.29);
  EXPECT_LT(SecondsSince(start), 10.0);
}

TEST(Connect, HandshakeTimesOutWhenTheServerNeverSpeaks) {
  Contexts ctx = MakeContexts();
  auto listener = TcpListen("127.0.0.1", 0, 8);  // the kernel accepts; nobody answers
  ASSERT_TRUE(listener.ok());
  auto start = Clock::now();
  auto conn = Connect("127.0.0.1", LocalAddress(listener->get()).port, ctx.client,
                      {.handshake_timeout = milliseconds(300)});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().code, kErrHandshakeTimeout);
  EXPECT_GE(SecondsSince(start), 0.29);
  EXPECT_LT(SecondsSince(start), 10.0);
}

TEST(Connect, UntrustedServerFailsWithTheVerificationCode) {
  Contexts ctx = MakeContexts();
  auto bare = Context::Create(ClientContextOptions{});
  ASSERT_TRUE(bare.ok());
  ServerThread server(ctx.server);
  auto conn = Connect("127.0.0.1", server.port(), *bare, {.session = {.servername = "localhost"}});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().code, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
  ASSERT_TRUE(server.WaitFor("clientError:ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"));
  EXPECT_EQ(server.Count("secure"), 0u);
}

TEST(Connect, WrongNameFailsWithAltnameInvalid) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server);
  auto conn =
      Connect("127.0.0.1", server.port(), ctx.client, {.session = {.servername = "example.com"}});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().code, "ERR_TLS_CERT_ALTNAME_INVALID");
}

TEST(Connect, AnUnansweredPauseFailsTheBlockingHandshake) {
  Contexts ctx = MakeContexts(std::nullopt, nullptr, [](auto& o) { o.verify_callback = true; });
  ServerThread server(ctx.server);
  auto conn = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().code, kErrPaused);
}

TEST(Connect, AnEventHookAnswersAPauseDuringTheBlockingHandshake) {
  Contexts ctx = MakeContexts(std::nullopt, nullptr, [](auto& o) { o.verify_callback = true; });
  ServerThread server(ctx.server);
  auto fd = TcpConnect("127.0.0.1", server.port(), milliseconds(10000));
  ASSERT_TRUE(fd.ok());
  auto conn = StartTls(fd->release(), ctx.client, {.servername = "localhost"});
  ASSERT_TRUE(conn.ok());
  int asked = 0;
  (*conn)->set_event_hook([&](Connection& c, const Event& e) {
    if (e.kind() != EventKind::kVerifyRequested) return;
    ++asked;
    EXPECT_TRUE(e.get<event::VerifyRequested>().authorized)
        << "our own verdict comes with the request";
    c.session().CompleteVerification(true);
  });
  (*conn)->set_timeout(milliseconds(20000));
  auto h = (*conn)->Handshake();
  ASSERT_TRUE(h.ok()) << ErrorText(h.error());
  EXPECT_TRUE(h->authorized);
  EXPECT_EQ(asked, 1);
}

// ---- Blocking transfers -------------------------------------------------------------

TEST(Blocking, EchoesSixteenMiBInChunksIntact) {
  Contexts ctx = MakeContexts();
  ServerThread server(ctx.server);
  auto conn = Connect("127.0.0.1", server.port(), ctx.client);
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  Connection& c = **conn;
  c.set_timeout(milliseconds(20000));
  const std::string payload = Payload(16 << 20);
  std::string echoed;
  constexpr size_t kChunk = 64 * 1024;  // below what the loopback path buffers: no deadlock
  for (size_t off = 0; off < payload.size(); off += kChunk) {
    std::string_view chunk = std::string_view(payload).substr(off, kChunk);
    auto w = c.Write(Bytes(chunk));
    ASSERT_TRUE(w.ok()) << ErrorText(w.error());
    echoed += ReadExactly(c, chunk.size());
  }
  EXPECT_EQ(echoed.size(), payload.size());
  EXPECT_EQ(Sha256Hex(echoed), Sha256Hex(payload));
  EXPECT_FALSE(c.End().has_value());
  std::optional<Error> end;
  ReadToEnd(c, &end);
  EXPECT_FALSE(end.has_value());
}

TEST(Blocking, SmallSocketBuffersForcePartialWritesAndLoseNoByte) {
  Contexts ctx = MakeContexts();
  auto [c, s] = test::TcpPair(/*buffer=*/32768);
  auto client = StartTls(c.release(), ctx.client, {.servername = "localhost"});
  auto server = StartTls(s.release(), ctx.server);
  ASSERT_TRUE(client.ok() && server.ok());
  const std::string up = Payload(8 << 20, 1), down = Payload(8 << 20, 2);
  std::string got_up, got_down;
  std::optional<Error> up_end, down_end, server_err;
  // Each connection belongs to one thread; one direction at a time, then the other.
  auto start = Clock::now();
  std::thread server_thread([&] {
    Connection& conn = **server;
    conn.set_timeout(milliseconds(30000));
    got_up = ReadToEnd(conn, &up_end);
    auto w = conn.Write(Bytes(down));
    if (!w.ok()) server_err = w.error();
    if (auto e = conn.End()) server_err = e;
  });
  Connection& conn = **client;
  conn.set_timeout(milliseconds(30000));
  auto w = conn.Write(Bytes(up));
  EXPECT_TRUE(w.ok()) << ErrorText(w.error());
  EXPECT_FALSE(conn.End().has_value());
  got_down = ReadToEnd(conn, &down_end);
  server_thread.join();  // its own timeouts bound it
  std::printf("8 MiB each way through 32 KiB socket buffers: %.2f s\n", SecondsSince(start));
  EXPECT_FALSE(up_end.has_value()) << ErrorText(*up_end);
  EXPECT_FALSE(down_end.has_value()) << ErrorText(*down_end);
  EXPECT_FALSE(server_err.has_value()) << ErrorText(*server_err);
  EXPECT_EQ(Sha256Hex(got_up), Sha256Hex(up));
  EXPECT_EQ(Sha256Hex(got_down), Sha256Hex(down));
  EXPECT_TRUE(conn.done());
}

// ---- Non-blocking -------------------------------------------------------------------

TEST(NonBlocking, BothDirectionsAtOnceFromOneLoopLoseNoByte) {
  Contexts ctx = MakeContexts();
  auto pair = MakeLivePair(ctx, /*buffer=*/32768);
  ASSERT_TRUE(pair.Handshake());
  const std::string up = Payload(16 << 20, 3), down = Payload(16 << 20, 4);
  size_t up_sent = 0, down_sent = 0;
  std::string up_got, down_got;
  uint8_t buf[32768];
  // Write until each connection pushes back (then it waits for writability), read all.
  auto write_all = [](Connection& c, const std::string& data, size_t& sent) {
    while (sent < data.size()) {
      size_t n = c.TryWrite(Bytes(std::string_view(data).substr(sent)));
      if (n == 0) break;
      sent += n;
    }
  };
  bool ok = pair.DriveUntil(
      [&] {
        write_all(*pair.client, up, up_sent);
        write_all(*pair.server, down, down_sent);
        while (size_t n = pair.server->TryRead(buf)) up_got.append(reinterpret_cast<char*>(buf), n);
        while (size_t n = pair.client->TryRead(buf))
          down_got.append(reinterpret_cast<char*>(buf), n);
        return up_got.size() == up.size() && down_got.size() == down.size();
      },
      milliseconds(60000));
  ASSERT_TRUE(ok) << "up " << up_got.size() << " down " << down_got.size();
  EXPECT_EQ(Sha256Hex(up_got), Sha256Hex(up));
  EXPECT_EQ(Sha256Hex(down_got), Sha256Hex(down));
  // Buffers stayed bounded throughout (session limits plus one socket read).
  EXPECT_LE(pair.client->buffered_bytes(), 256u * 1024);
}

TEST(NonBlocking, InterestSaysWhichReadinessItWaitsFor) {
  Contexts ctx = MakeContexts();
  auto pair = MakeLivePair(ctx, /*buffer=*/32768);
  // The client sent its ClientHello and now waits for the server's answer.
  Interest in = pair.client->Advance();
  EXPECT_TRUE(in.want_read);
  EXPECT_FALSE(in.want_write);
  ASSERT_TRUE(pair.Handshake());

  // The server never reads: the client's writes fill the socket, then its own buffer.
  const std::string data = Payload(4 << 20);
  size_t sent = 0;
  for (int i = 0; i < 1000 && sent < data.size(); ++i) {
    size_t n = pair.client->TryWrite(Bytes(std::string_view(data).substr(sent)));
    sent += n;
    if (n == 0) break;
  }
  ASSERT_LT(sent, data.size());
  in = pair.client->Advance();
  EXPECT_TRUE(in.want_write) << "full socket: waits for writability";
  EXPECT_FALSE(pair.client->TakeWritable());
  EXPECT_LE(pair.client->buffered_bytes(), 128u * 1024);

  // The server reads; the client's output drains and it may write again.
  uint8_t buf[65536];
  size_t read = 0;
  ASSERT_TRUE(pair.DriveUntil([&] {
    while (size_t n = pair.server->TryRead(buf)) read += n;
    return pair.client->TakeWritable();
  }));
  EXPECT_GT(read, 0u);
}

// An application's own loop arms one timer at next_deadline() and calls OnTimer(): the
// session's handshake bound and close grace decide, with time moved by hand.
TEST(NonBlocking, TheSessionsDeadlinesAreTheLoopsOneTimer) {
  Contexts ctx = MakeContexts();
  auto [c, s] = test::TcpPair(32768);
  const Timestamp t0 = transport::WallNow();
  // The handshake bound: the client never speaks.
  auto server =
      StartTls(s.release(), ctx.server, {.now = t0, .handshake_timeout = milliseconds(200)});
  ASSERT_TRUE(server.ok());
  Connection& conn = **server;
  conn.Advance();
  ASSERT_EQ(conn.next_deadline(), t0 + milliseconds(200));
  conn.OnTimer(t0 + milliseconds(199));
  EXPECT_FALSE(conn.done());
  EXPECT_FALSE(conn.close_error());
  conn.OnTimer(t0 + milliseconds(200));
  EXPECT_TRUE(conn.done());
  ASSERT_TRUE(conn.close_error());
  EXPECT_EQ(conn.close_error()->code, "ERR_TLS_HANDSHAKE_TIMEOUT");
  EXPECT_EQ(conn.next_deadline(), std::nullopt);
}

TEST(NonBlocking, ACloseGraceThatRunsOutClosesWithEtimedout) {
  Contexts ctx = MakeContexts();
  auto [c, s] = test::TcpPair(32768);
  auto client = StartTls(c.release(), ctx.client, {.servername = "localhost"});
  auto server = StartTls(s.release(), ctx.server, {.close_timeout = milliseconds(500)});
  ASSERT_TRUE(client.ok() && server.ok());
  test::LivePair pair{std::move(client).value(), std::move(server).value(), {}, {}};
  ASSERT_TRUE(pair.Handshake());
  EXPECT_EQ(pair.server->next_deadline(), std::nullopt);
  pair.server->TryEnd();  // the client never answers our close_notify
  ASSERT_TRUE(pair.DriveUntil([&] { return pair.client->peer_end() == PeerEnd::kClean; }));
  std::optional<Timestamp> grace = pair.server->next_deadline();
  ASSERT_TRUE(grace);
  pair.server->OnTimer(*grace - milliseconds(1));
  EXPECT_FALSE(pair.server->done());
  pair.server->OnTimer(*grace);
  EXPECT_TRUE(pair.server->done());
  ASSERT_TRUE(pair.server->close_error());
  EXPECT_EQ(pair.server->close_error()->code, "ERR_TLS_SHUTDOWN_TIMEOUT");
}

TEST(NonBlocking, AnApplicationLoopSeesEventsInOrder) {
  Contexts ctx = MakeContexts();
  auto pair = MakeLivePair(ctx);
  ASSERT_TRUE(pair.Handshake());
  pair.server->TryWrite(Bytes("hello"));
  pair.server->TryEnd();
  std::string got;
  uint8_t buf[64];
  ASSERT_TRUE(pair.DriveUntil([&] {
    while (size_t n = pair.client->TryRead(buf)) got.append(reinterpret_cast<char*>(buf), n);
    return pair.client->peer_end() != PeerEnd::kOpen;
  }));
  EXPECT_EQ(got, "hello");
  std::vector<EventKind> kinds;  // the kinds this test is about, in order
  for (const Event& e : pair.client_events) {
    if (e.kind() == EventKind::kHandshakeDone || e.kind() == EventKind::kReadable ||
        e.kind() == EventKind::kPeerClosed || e.kind() == EventKind::kPeerTruncated) {
      kinds.push_back(e.kind());
    }
  }
  EXPECT_EQ(kinds, (std::vector<EventKind>{EventKind::kHandshakeDone, EventKind::kReadable,
                                           EventKind::kPeerClosed}));
  pair.client->TryEnd();
  ASSERT_TRUE(pair.DriveUntil([&] { return pair.client->done() && pair.server->done(); }));
}

// ---- STARTTLS -----------------------------------------------------------------------

TEST(StartTls, UpgradesAfterAPlaintextExchangeKeepingBytesAlreadyRead) {
  Contexts ctx = MakeContexts();
  auto [c, s] = test::TcpPair();
  // The client pipelines: its command and its ClientHello leave back to back.
  ASSERT_EQ(::send(c.get(), "STARTTLS\r\n", 10, MSG_NOSIGNAL), 10);
  auto client = StartTls(c.release(), ctx.client, {.servername = "localhost"});
  ASSERT_TRUE(client.ok());
  (*client)->Advance();  // sends the ClientHello

  // The server's line reader reads a chunk: the command and the first TLS bytes.
  std::string chunk;
  char buf[4096];
  while (chunk.find("\r\n") == std::string::npos || chunk.size() <= 10) {
    ASSERT_EQ(WaitFd(s.get(), true, false, Deadline::After(milliseconds(10000))), 0);
    ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    chunk.append(buf, static_cast<size_t>(n));
  }
  ASSERT_EQ(chunk.substr(0, 10), "STARTTLS\r\n");
  std::string rest = chunk.substr(10);
  ASSERT_EQ(rest[0], 0x16) << "a TLS handshake record follows the command";
  auto server = StartTls(s.release(), ctx.server, {}, Bytes(rest));
  ASSERT_TRUE(server.ok());

  std::string server_got;
  std::thread server_thread([&] {
    auto h = (*server)->Handshake();
    if (!h.ok()) return;
    server_got = ReadExactly(**server, 5);
    (*server)->Write(Bytes("world"));
    (*server)->End();
  });
  (*client)->set_timeout(milliseconds(20000));
  auto h = (*client)->Handshake();
  ASSERT_TRUE(h.ok()) << ErrorText(h.error());
  EXPECT_TRUE(h->authorized);
  ASSERT_TRUE((*client)->Write(Bytes("hello")).ok());
  EXPECT_EQ(ReadExactly(**client, 5), "world");
  server_thread.join();
  EXPECT_EQ(server_got, "hello");
}

TEST(StartTls, FailureLeavesTheDescriptorWithTheCaller) {
  Contexts ctx = MakeContexts();
  auto [c, s] = test::TcpPair();
  std::string bad("bad\0name", 8);
  auto conn = StartTls(c.get(), ctx.client, {.servername = bad});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.error().code, "ERR_INVALID_ARG_VALUE");
  EXPECT_NE(fcntl(c.get(), F_GETFD), -1) << "still open, still ours";
}

TEST(StartTls, MoreBytesThanTheSessionTakesBeforeItsAnswerAreRefused) {
  // A server pausing at the ClientHello (SNI callback) reads nothing after it and keeps at
  // most 32 KiB more: 64 KiB past the ClientHello cannot be taken, and the transport keeps no
  // buffer of its own, so StartTls refuses them and leaves the descriptor with the caller.
  Contexts ctx = MakeContexts(std::nullopt, [](auto& o) { o.sni_callback = true; });
  std::vector<uint8_t> hello = test_contexts::ClientHelloAndMore(ctx.client, "unknown.example", 0);
  ASSERT_FALSE(hello.empty());
  std::vector<uint8_t> received =
      test_contexts::ClientHelloAndMore(ctx.client, "unknown.example", 64 * 1024);
  auto [c, s] = test::TcpPair();
  auto refused = StartTls(s.get(), ctx.server, {}, received);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "ERR_INVALID_ARG_VALUE");
  EXPECT_NE(refused.error().message.find("bytes were read past the plaintext"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(fcntl(s.get(), F_GETFD), -1) << "still open, still ours";
  // The ClientHello alone is taken at once: the session is paused on it before any read.
  auto taken = StartTls(s.release(), ctx.server, {}, hello);
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_TRUE((*taken)->session().pause_pending());
  EXPECT_EQ((*taken)->bytes_received(), 0u);
}

// ---- Signals, resets, ends ----------------------------------------------------------

std::atomic<int> g_signals{0};
void CountSignal(int) { g_signals.fetch_add(1); }

TEST(Signals, EintrDuringABlockingReadIsRetried) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = CountSignal;  // no SA_RESTART: poll() returns EINTR
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
  Contexts ctx = MakeContexts();
  auto pair = MakeLivePair(ctx);
  ASSERT_TRUE(pair.Handshake());
  std::atomic<bool> reading{false};
  std::string got;
  std::optional<Error> err;
  std::thread reader([&] {
    reading = true;
    pair.client->set_timeout(milliseconds(20000));
    auto r = ReadExactly(*pair.client, 4);
    got = r;
  });
  while (!reading) std::this_thread::yield();
  pthread_t tid = reader.native_handle();
  for (int i = 0; i < 20; ++i) {
    pthread_kill(tid, SIGUSR1);
    std::this_thread::sleep_for(milliseconds(5));  // spread the signals over the wait
  }
  pair.server->TryWrite(Bytes("data"));
  reader.join();
  sigaction(SIGUSR1, &old, nullptr);
  EXPECT_GT(g_signals.load(), 0);
  EXPECT_EQ(got, "data");
}

// Aborts the socket: with a zero linger, close() sends a reset instead of a FIN.
void Reset(Connection& conn) {
  linger l{1, 0};
  setsockopt(conn.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  conn.Close();
}

TEST(Signals, WritingToAVanishedPeerIsAnErrorNotSigpipe) {
  auto old = std::signal(SIGPIPE, SIG_DFL);  // a SIGPIPE would kill this test
  Contexts ctx = MakeContexts();
  auto pair = MakeLivePair(ctx);
  ASSERT_TRUE(pair.Handshake());
  pair.server->Close();
  pair.server.reset();
  const std::string chunk = Payload(1 << 20);
  std::optional<Error> err;
  pair.client->set_timeout(milliseconds(20000));
  for (int i = 0; i < 64 && !err; ++i) {
    auto w = pair.client->Write(Bytes(chunk));
    if (!w.ok()) err = w.error();
  }
  std::signal(SIGPIPE, old);
  ASSERT_TRUE(err.has_value());
  EXPECT_TRUE(err->code == "EPIPE" || err->code == "ECONNRESET") << ErrorText(*err);
}

TEST(Ends, ResetAfterTheHandshakeIsEconnresetOnRead) {
  Contexts ctx = MakeContexts();
  auto pair = MakeLivePair(ctx);
  ASSERT_TRUE(pair.Handshake());
  Reset(*pair.server);
  pair.client->set_timeout(milliseconds(20000));
  uint8_t buf[16];
  auto r = pair.client->Read(buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ECONNRESET");
  EXPECT_EQ(pair.client->peer_end(), PeerEnd::kTruncated);
}

TEST(Ends, EofWithoutCloseNotifyIsTruncationAfterTheData) {
  Contexts ctx = MakeContexts();
  auto pair = MakeLivePair(ctx);
  ASSERT_TRUE(pair.Handshake());
  pair.server->set_timeout(milliseconds(20000));
  ASSERT_TRUE(pair.server->Write(Bytes("partial")).ok());
  pair.server->Close();  // FIN without close_notify
  pair.client->set_timeout(milliseconds(20000));
  std::optional<Error> end;
  EXPECT_EQ(ReadToEnd(*pair.client, &end), "partial");
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code, kErrTruncated);
  EXPECT_EQ(pair.client->peer_end(), PeerEnd::kTruncated);
}

TEST(Ends, CleanCloseReadsZeroAndFinishesBothWays) {
  Contexts ctx = MakeContexts();
  auto pair = MakeLivePair(ctx);
  ASSERT_TRUE(pair.Handshake());
  pair.server->set_timeout(milliseconds(20000));
  pair.client->set_timeout(milliseconds(20000));
  ASSERT_TRUE(pair.server->Write(Bytes("bye")).ok());
  EXPECT_FALSE(pair.server->End().has_value());
  std::optional<Error> end;
  EXPECT_EQ(ReadToEnd(*pair.client, &end), "bye");
  EXPECT_FALSE(end.has_value());
  EXPECT_EQ(pair.client->peer_end(), PeerEnd::kClean);
  EXPECT_FALSE(pair.client->End().has_value());
  EXPECT_TRUE(pair.client->done());
  ASSERT_TRUE(pair.DriveUntil([&] { return pair.server->done(); }));
  EXPECT_EQ(pair.server->peer_end(), PeerEnd::kClean);
}

TEST(Ends, WriteAfterEndIsRefused) {
  Contexts ctx = MakeContexts();
  auto pair = MakeLivePair(ctx);
  ASSERT_TRUE(pair.Handshake());
  pair.client->set_timeout(milliseconds(20000));
  EXPECT_FALSE(pair.client->End().has_value());
  auto w = pair.client->Write(Bytes("late"));
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, "ERR_STREAM_WRITE_AFTER_END");
  EXPECT_EQ(pair.client->TryWrite(Bytes("late")), 0u);
}

TEST(Ends, PeerClosingDuringTheHandshakeIsEconnreset) {
  Contexts ctx = MakeContexts();
  auto [c, s] = test::TcpPair();
  auto client = StartTls(c.release(), ctx.client, {.servername = "localhost"});
  ASSERT_TRUE(client.ok());
  s.reset();
  (*client)->set_timeout(milliseconds(20000));
  auto h = (*client)->Handshake();
  ASSERT_FALSE(h.ok());
  EXPECT_TRUE(h.error().code == "ECONNRESET" || h.error().code == "EPIPE") << ErrorText(h.error());
}

}  // namespace
}  // namespace sansio_tls::posix
