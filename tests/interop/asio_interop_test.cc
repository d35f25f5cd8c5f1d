// The interop scenarios of openssl_test.cc, node_test.cc and gnutls_test.cc with the Asio
// transport on our side: OpenSSL 3's s_server/s_client, Node.js's tls module (node_peer.js)
// and gnutls-cli over 127.0.0.1. Handshakes in TLS 1.2 and 1.3, 64 MiB each way with SHA-256
// checks (full duplex on one stream), ALPN, NPN, SNI, client certificates, resumption, clean
// close and truncation, failures reported as clientError.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "core/context.h"
#include "tests/interop/interop_util.h"
#include "transports/asio/connect.h"
#include "transports/asio/server.h"

namespace sansio_tls::interop {
namespace {

using asio_tls::ConnectOptions;
using asio_tls::PeerEnd;
using asio_tls::TlsStream;
using namespace std::chrono_literals;

constexpr size_t kBulk = 64 << 20;
constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

// ---- Our server: asio_tls::Server on an io_context thread, echoing after a greeting -----

// Log entries, as the POSIX tests' ServerThread writes them: "secure",
// "clientError:<code>", "end:clean" / "end:truncated", "close:ok" / "close:<code>".
class AsioServerThread {
 public:
  explicit AsioServerThread(std::shared_ptr<const Context> context, std::string greeting = "")
      : greeting_(std::move(greeting)) {
    asio_tls::ServerCallbacks cb;
    cb.secure_connection = [this](TlsStream tls) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        infos_.push_back(tls.handshake_info());
      }
      Log("secure");
      auto ex = tls.get_executor();
      asio::co_spawn(ex, Echo(std::move(tls)), asio::detached);
    };
    cb.client_error = [this](const asio_tls::ClientErrorInfo& info) {
      Log("clientError:" + info.error.code);
    };
    auto s = asio_tls::Server::Listen(ioc_, std::move(context), {}, cb);
    EXPECT_TRUE(s.ok()) << ErrorText(s.error());
    server_ = s.value();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~AsioServerThread() {
    server_->Close();
    if (!WaitConnections(0, 5s)) ioc_.stop();
    thread_.join();
  }

  uint16_t port() const { return server_->port(); }
  HandshakeInfo Last() {
    std::lock_guard<std::mutex> lock(mu_);
    return infos_.empty() ? HandshakeInfo{} : infos_.back();
  }
  size_t Count(const std::string& entry) {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<size_t>(std::count(log_.begin(), log_.end(), entry));
  }
  bool WaitFor(const std::string& entry, size_t n = 1, milliseconds timeout = kIoTimeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      return static_cast<size_t>(std::count(log_.begin(), log_.end(), entry)) >= n;
    });
  }
  bool WaitConnections(size_t n, milliseconds timeout = kIoTimeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (server_->connections() != n) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }
  std::string LogText() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string all;
    for (auto& l : log_) all += l + " ";
    return all;
  }

 private:
  void Log(std::string entry) {
    std::lock_guard<std::mutex> lock(mu_);
    log_.push_back(std::move(entry));
    cv_.notify_all();
  }

  asio::awaitable<void> Echo(TlsStream tls) {
    if (!greeting_.empty()) {
      auto [ec, n] = co_await asio::async_write(tls, asio::buffer(greeting_), kAsTuple);
      if (ec) co_return Log("close:" + asio_tls::ErrorFromCode(ec).code);
    }
    std::vector<char> buf(65536);
    for (;;) {
      auto [ec, n] = co_await tls.async_read_some(asio::buffer(buf), kAsTuple);
      if (ec == asio::error::eof) break;
      if (ec) {
        if (tls.peer_end() == PeerEnd::kTruncated) Log("end:truncated");
        co_return Log("close:" + asio_tls::ErrorFromCode(ec).code);
      }
      auto [wec, wn] = co_await asio::async_write(tls, asio::buffer(buf.data(), n), kAsTuple);
      if (wec) co_return Log("close:" + asio_tls::ErrorFromCode(wec).code);
    }
    Log("end:clean");
    // Our close_notify answers the peer's (which already arrived: no waiting).
    auto [ec] = co_await tls.async_shutdown(5s, kAsTuple);
    Log(ec ? "close:" + asio_tls::ErrorFromCode(ec).code : std::string("close:ok"));
  }

  std::string greeting_;
  asio::io_context ioc_;
  std::shared_ptr<asio_tls::Server> server_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> log_;
  std::vector<HandshakeInfo> infos_;
};

// ---- Our client: coroutines on an io_context run by the test thread ---------------------

// Runs |body| to completion (bounded); an exception fails the test.
void RunClient(std::function<asio::awaitable<void>()> body,
               std::chrono::milliseconds limit = kIoTimeout) {
  asio::io_context ioc;
  bool done = false;
  asio::co_spawn(ioc, body(), [&](std::exception_ptr e) {
    done = true;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      ADD_FAILURE() << "client coroutine threw: " << x.what();
    }
  });
  ioc.run_for(limit);
  EXPECT_TRUE(done) << "the client did not finish in time";
}

// Connects to 127.0.0.1:|port| (with |servername|, |saved| to resume).
asio::awaitable<std::pair<std::error_code, TlsStream>> Connect(
    uint16_t port, std::shared_ptr<const Context> ctx, std::string servername = "localhost",
    std::optional<SavedSession> saved = std::nullopt) {
  auto ex = co_await asio::this_coro::executor;
  ConnectOptions options;  // named: see AsyncConnect about GCC 12 and braced temporaries
  options.session.servername = std::move(servername);
  options.session.session = std::move(saved);
  auto [ec, tls] = co_await asio_tls::AsyncConnect(ex, "127.0.0.1", port, ctx, options, kAsTuple);
  co_return std::make_pair(ec, std::move(tls));
}

asio::awaitable<std::string> ReadExactly(TlsStream& tls, size_t n) {
  std::string out(n, '\0');
  auto [ec, got] = co_await asio::async_read(tls, asio::buffer(out), kAsTuple);
  out.resize(got);
  co_return out;
}

// Reads until the end: the bytes and how it ended (success: clean).
asio::awaitable<std::pair<std::string, std::error_code>> ReadToEnd(TlsStream& tls) {
  std::string out;
  char buf[65536];
  for (;;) {
    auto [ec, n] = co_await tls.async_read_some(asio::buffer(buf), kAsTuple);
    out.append(buf, n);
    if (ec == asio::error::eof) co_return std::make_pair(out, std::error_code());
    if (ec) co_return std::make_pair(out, ec);
  }
}

// ---- OpenSSL ------------------------------------------------------------------------------

class Versions : public ::testing::TestWithParam<TlsVersion> {};

TEST_P(Versions, OurAsioClientTalksToOpensslServer) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {VersionFlag(v)});
  ASSERT_NE(server.port, 0) << server.process->Describe();
  RunClient([&]() -> asio::awaitable<void> {
    auto [ec, tls] = co_await Connect(server.port, ClientContext(pki));
    EXPECT_FALSE(ec) << ec.message() << server.process->Describe();
    if (ec) co_return;
    EXPECT_TRUE(tls.authorized());
    EXPECT_EQ(tls.protocol(), VersionName(v));
    co_await asio::async_write(tls, asio::buffer("ping from us\n", 13), asio::use_awaitable);
    EXPECT_TRUE(server.process->WaitOut("ping from us\n")) << server.process->Describe();
    server.process->Feed("pong from openssl\n");
    EXPECT_EQ(co_await ReadExactly(tls, 18), "pong from openssl\n");
    // Closing s_server's input makes it close the connection with close_notify.
    server.process->CloseStdin();
    auto [rest, end] = co_await ReadToEnd(tls);
    EXPECT_EQ(rest, "");
    EXPECT_FALSE(end) << end.message();
    EXPECT_EQ(tls.peer_end(), PeerEnd::kClean);
  });
  EXPECT_EQ(server.process->Wait(), 0) << server.process->Describe();
}

TEST_P(Versions, OpensslClientTalksToOurAsioServer) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki), "welcome!\n");
  auto client = StartSClient(pki, server.port(),
                             {VersionFlag(v), "-servername", "localhost", "-quiet", "-no_ign_eof"});
  client->Feed("hello\n");
  ASSERT_TRUE(client->WaitOut("welcome!\nhello\n")) << client->Describe();
  client->CloseStdin();  // s_client sends close_notify and exits
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  ASSERT_TRUE(server.WaitFor("end:clean")) << server.LogText();
  EXPECT_EQ(server.Last().version, v);
  EXPECT_EQ(server.Last().servername, "localhost");
}

INSTANTIATE_TEST_SUITE_P(Tls, Versions, ::testing::Values(TlsVersion::kTls12, TlsVersion::kTls13),
                         [](const auto& info) {
                           return info.param == TlsVersion::kTls13 ? "Tls13" : "Tls12";
                         });

TEST(Bulk, SixtyFourMiBEachWayThroughOurAsioEchoServerWithOpensslClient) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki));
  const std::string up = Payload(kBulk, 11);
  auto start = std::chrono::steady_clock::now();
  auto client =
      StartSClient(pki, server.port(), {"-servername", "localhost", "-quiet", "-no_ign_eof"},
                   {.hash_stdout_bytes = kBulk});
  client->Feed(up);
  ASSERT_TRUE(client->WaitOutBytes(kBulk, milliseconds(120000))) << client->Describe();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("64 MiB each way, s_client <-> our Asio echo server: %.2f s\n", seconds);
  EXPECT_EQ(client->out_prefix_sha256(), Sha256Hex(up));
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  ASSERT_TRUE(server.WaitFor("close:ok")) << server.LogText();
}

TEST(Bulk, SixtyFourMiBEachWayFullDuplexBetweenOurAsioClientAndOpensslServer) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {}, {.hash_stdout_bytes = kBulk});
  ASSERT_NE(server.port, 0) << server.process->Describe();
  const std::string up = Payload(kBulk, 21), down = Payload(kBulk, 22);
  RunClient(
      [&]() -> asio::awaitable<void> {
        auto [ec, tls] = co_await Connect(server.port, ClientContext(pki));
        EXPECT_FALSE(ec) << ec.message();
        if (ec) co_return;
        server.process->Feed(down);  // s_server sends its stdin to us
        auto start = std::chrono::steady_clock::now();
        // One coroutine writes while this one reads: a write and a read outstanding at once.
        bool written = false;
        asio::co_spawn(
            co_await asio::this_coro::executor,
            [&]() -> asio::awaitable<void> {
              co_await asio::async_write(tls, asio::buffer(up), asio::use_awaitable);
              written = true;
            },
            asio::detached);
        Sha256 got;
        size_t received = 0;
        std::vector<char> buf(65536);
        while (received < down.size()) {
          auto [rec, n] = co_await tls.async_read_some(asio::buffer(buf), kAsTuple);
          if (rec) break;
          got.Update({buf.data(), n});
          received += n;
        }
        // Until our writes completed too (without blocking this thread: it runs them).
        asio::steady_timer wait(co_await asio::this_coro::executor);
        while (!written && std::chrono::steady_clock::now() - start < 120s) {
          wait.expires_after(5ms);
          co_await wait.async_wait(asio::use_awaitable);
        }
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("64 MiB each way, our Asio client <-> s_server: %.2f s\n", seconds);
        EXPECT_EQ(received, down.size());
        EXPECT_EQ(got.Hex(), Sha256Hex(down));
        EXPECT_TRUE(written);
        EXPECT_TRUE(server.process->WaitOutBytes(up.size()));
        EXPECT_EQ(server.process->out_prefix_sha256(), Sha256Hex(up));
        // Our close_notify; s_server answers with its own.
        auto [sec] = co_await tls.async_shutdown(10s, kAsTuple);
        EXPECT_FALSE(sec) << sec.message();
      },
      milliseconds(180000));
  EXPECT_EQ(server.process->Wait(), 0) << server.process->Describe();
}

TEST(Alpn, OurAsioClientAndOpensslServerAgree) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {"-alpn", "http/1.1"});
  RunClient([&]() -> asio::awaitable<void> {
    auto [ec, tls] = co_await Connect(server.port, ClientContext(pki, [](auto& o) {
                                        o.alpn_protocols = {"h2", "http/1.1"};
                                      }));
    EXPECT_FALSE(ec) << ec.message();
    if (!ec) {
      EXPECT_EQ(tls.alpn_protocol(), "http/1.1");
    }
  });
}

TEST(Alpn, OpensslClientAndOurAsioServerAgree) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki,
                                        [](auto& o) {
                                          o.alpn_protocols = {"h2", "http/1.1"};
                                        }),
                          "welcome!\n");
  auto client =
      StartSClient(pki, server.port(), {"-servername", "localhost", "-alpn", "foo,http/1.1"});
  ASSERT_TRUE(client->WaitOut("welcome!")) << client->Describe();
  EXPECT_NE(client->out().find("ALPN protocol: http/1.1"), std::string::npos) << client->Describe();
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0);
  EXPECT_EQ(server.Last().alpn_protocol, "http/1.1");
}

TEST(Npn, OurAsioClientAndOpensslServerAgreeInTls12) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {"-tls1_2", "-nextprotoneg", "spdy/3,http/1.1"});
  RunClient([&]() -> asio::awaitable<void> {
    auto [ec, tls] = co_await Connect(server.port, ClientContext(pki, [](auto& o) {
                                        o.npn_protocols = {"http/1.1"};
                                        o.max_version = TlsVersion::kTls12;
                                      }));
    EXPECT_FALSE(ec) << ec.message();
    if (!ec) {
      EXPECT_EQ(tls.npn_protocol(), "http/1.1");
    }
  });
}

TEST(Sni, OurAsioClientGetsTheCertificateOpensslServerPicksForTheName) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(
      pki, {"-servername", "other.example", "-cert2", pki.other_chain, "-key2", pki.other_key});
  RunClient([&]() -> asio::awaitable<void> {
    auto [ec, tls] = co_await Connect(server.port, ClientContext(pki), "other.example");
    EXPECT_FALSE(ec) << ec.message() << server.process->Describe();
    if (ec) co_return;
    EXPECT_TRUE(tls.authorized()) << "other.example verified for its name";
    auto cert = tls.peer_certificate();
    EXPECT_TRUE(cert.has_value() && cert->raw == pki.other.der);
  });
}

TEST(Sni, OpensslClientGetsTheCertificateOurAsioServerPicksForTheName) {
  PkiFiles pki = WritePki();
  AsioServerThread server(
      ServerContext(pki,
                    [&](auto& o) {
                      o.sni_contexts = {{.pattern = "*.example",
                                         .credentials = {.key_pem = pki.other.key_pem,
                                                         .cert_chain_pem = pki.other.cert_pem}}};
                    }),
      "welcome!\n");
  auto client = StartSClient(pki, server.port(), {"-servername", "other.example"});
  ASSERT_TRUE(client->WaitOut("welcome!")) << client->Describe();
  EXPECT_NE(client->out().find("CN = other.example"), std::string::npos) << client->Describe();
  EXPECT_NE(client->out().find("Verify return code: 0 (ok)"), std::string::npos);
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0);
  EXPECT_EQ(server.Last().servername, "other.example");
}

TEST(ClientCertificates, OurAsioClientAuthenticatesToOpensslServer) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {"-Verify", "2", "-CAfile", pki.ca, "-verify_return_error"});
  RunClient([&]() -> asio::awaitable<void> {
    auto [ec, tls] =
        co_await Connect(server.port, ClientContext(pki, [&](auto& o) {
                           o.credentials = {.key_pem = pki.pki.client.key_pem,
                                            .cert_chain_pem = pki.pki.client_chain_pem()};
                         }));
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    co_await asio::async_write(tls, asio::buffer("authenticated\n", 14), asio::use_awaitable);
    EXPECT_TRUE(server.process->WaitOut("authenticated\n")) << server.process->Describe();
  });
}

TEST(ClientCertificates, OpensslServerRefusesOurAsioClientWithoutOne) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {"-Verify", "2", "-CAfile", pki.ca, "-verify_return_error"});
  RunClient([&]() -> asio::awaitable<void> {
    auto [ec, tls] = co_await Connect(server.port, ClientContext(pki));
    std::optional<Error> failure;
    if (ec) {
      failure = tls.valid() && tls.error() ? *tls.error() : asio_tls::ErrorFromCode(ec);
    } else {  // TLS 1.3: the refusal arrives after our handshake completed
      auto [rest, end] = co_await ReadToEnd(tls);
      if (tls.error()) failure = *tls.error();
    }
    EXPECT_TRUE(failure.has_value());
    if (!failure) co_return;
    EXPECT_EQ(failure->code.rfind("ERR_SSL_", 0), 0u) << ErrorText(*failure);
    EXPECT_TRUE(failure->alert_from_peer) << ErrorText(*failure);
  });
}

TEST(ClientCertificates, OpensslClientAuthenticatesToOurAsioServer) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki,
                                        [&](auto& o) {
                                          o.request_cert = true;
                                          o.ca_pems = {pki.pki.root.cert_pem};
                                        }),
                          "welcome!\n");
  auto client =
      StartSClient(pki, server.port(),
                   {"-servername", "localhost", "-cert", pki.client_chain, "-key", pki.client_key,
                    "-cert_chain", pki.intermediate, "-quiet", "-no_ign_eof"});
  ASSERT_TRUE(client->WaitOut("welcome!\n")) << client->Describe();
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0);
  EXPECT_TRUE(server.Last().authorized) << server.Last().authorization_error;
}

TEST(ClientCertificates, OurAsioServerRefusesOpensslClientWithoutOne) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki, [&](auto& o) {
    o.request_cert = true;
    o.ca_pems = {pki.pki.root.cert_pem};
  }));
  auto client =
      StartSClient(pki, server.port(), {"-servername", "localhost", "-quiet", "-no_ign_eof"});
  ASSERT_TRUE(server.WaitFor("clientError:UNABLE_TO_GET_ISSUER_CERT"))
      << server.LogText() << client->Describe();
  EXPECT_EQ(server.Count("secure"), 0u);
  client->CloseStdin();
  client->Wait();
}

TEST(Resumption, OpensslClientResumesWithOurAsioServer) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki), "welcome!\n");
  std::string sess = pki.dir + "/session.pem";
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> flags = {"-servername", "localhost"};
    flags.push_back(round == 0 ? "-sess_out" : "-sess_in");
    flags.push_back(sess);
    auto client = StartSClient(pki, server.port(), flags);
    ASSERT_TRUE(client->WaitOut("welcome!")) << client->Describe();
    if (round == 1) {
      EXPECT_NE(client->out().find("Reused, TLSv1.3"), std::string::npos) << client->Describe();
    }
    client->CloseStdin();
    EXPECT_EQ(client->Wait(), 0) << client->Describe();
    ASSERT_TRUE(server.WaitFor("end:clean", round + 1)) << server.LogText();
    EXPECT_EQ(server.Last().session_reused, round == 1);
  }
}

TEST(Resumption, OurAsioClientResumesWithOpensslServer) {
  PkiFiles pki = WritePki();
  auto ctx = ClientContext(pki);
  std::optional<SavedSession> saved;
  Peer server = StartSServer(pki, {}, {}, /*connections=*/2);
  ASSERT_NE(server.port, 0) << server.process->Describe();
  for (int round = 0; round < 2; ++round) {
    RunClient([&]() -> asio::awaitable<void> {
      auto [ec, tls] = co_await Connect(server.port, ctx, "localhost", saved);
      EXPECT_FALSE(ec) << ec.message();
      if (ec) co_return;
      EXPECT_EQ(tls.session_reused(), round == 1);
      EXPECT_TRUE(tls.authorized()) << "carried by the resumed session";
      server.process->Feed("x");  // TLS 1.3 tickets precede the server's first data
      EXPECT_EQ(co_await ReadExactly(tls, 1), "x");
      saved = tls.session().saved_session();
      EXPECT_TRUE(saved.has_value());
      auto [sec] = co_await tls.async_shutdown(10s, kAsTuple);  // s_server answers ours
      EXPECT_FALSE(sec) << sec.message();
    });
  }
  EXPECT_EQ(server.process->Wait(), 0) << server.process->Describe();
}

TEST(Close, KillingOpensslServerIsATruncationForOurAsioClient) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {});
  RunClient([&]() -> asio::awaitable<void> {
    auto [ec, tls] = co_await Connect(server.port, ClientContext(pki));
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    server.process->Feed("last words\n");
    EXPECT_EQ(co_await ReadExactly(tls, 11), "last words\n");
    server.process->Kill(SIGKILL);  // the kernel closes its socket: FIN, no close_notify
    auto [rest, end] = co_await ReadToEnd(tls);
    EXPECT_EQ(rest, "");
    EXPECT_TRUE(end == asio_tls::errc::truncated || end == asio::error::connection_reset)
        << end.message();
    EXPECT_EQ(tls.peer_end(), PeerEnd::kTruncated);
  });
}

TEST(Close, KillingOpensslClientIsATruncationOnOurAsioServer) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki), "welcome!\n");
  auto client = StartSClient(pki, server.port(), {"-servername", "localhost", "-quiet"});
  ASSERT_TRUE(client->WaitOut("welcome!\n")) << client->Describe();
  client->Kill(SIGKILL);
  ASSERT_TRUE(server.WaitFor("end:truncated")) << server.LogText();
  ASSERT_TRUE(server.WaitConnections(0));
  EXPECT_EQ(server.Count("end:clean"), 0u);
}

// ---- Node.js ---------------------------------------------------------------------------

// The value of "key" in the first line of |p|'s stdout whose "event" is |event| ("" if none;
// strings unquoted).
std::string EventField(const Process& p, const std::string& event, const std::string& key,
                       size_t index = 0) {
  std::string text = p.out();
  std::string needle = "{\"event\":\"" + event + "\"";
  size_t at = std::string::npos, from = 0;
  for (size_t i = 0; i <= index; ++i) {
    at = text.find(needle, from);
    if (at == std::string::npos) return "";
    from = at + 1;
  }
  std::string line = text.substr(at, text.find('\n', at) - at);
  size_t k = line.find("\"" + key + "\":");
  if (k == std::string::npos) return "";
  size_t v = k + key.size() + 3;
  if (line[v] == '"') return line.substr(v + 1, line.find('"', v + 1) - v - 1);
  return line.substr(v, line.find_first_of(",}", v) - v);
}

TEST_P(Versions, OurAsioClientTalksToNodeServer) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  std::string ver = Q(VersionName(v));
  auto node = StartNode("{\"role\":\"server\",\"echo\":true,\"tls\":" +
                        ServerTls(pki, ",\"minVersion\":" + ver + ",\"maxVersion\":" + ver) + "}");
  ASSERT_TRUE(WaitEvent(*node, "listening", 1, kStartTimeout)) << node->Describe();
  uint16_t port = static_cast<uint16_t>(std::stoi(EventField(*node, "listening", "port")));
  RunClient([&]() -> asio::awaitable<void> {
    auto [ec, tls] = co_await Connect(port, ClientContext(pki));
    EXPECT_FALSE(ec) << ec.message() << node->Describe();
    if (ec) co_return;
    EXPECT_TRUE(tls.authorized());
    EXPECT_EQ(tls.protocol(), VersionName(v));
    co_await asio::async_write(tls, asio::buffer("ping", 4), asio::use_awaitable);
    EXPECT_EQ(co_await ReadExactly(tls, 4), "ping");
    // Node ends its side when we end ours (allowHalfOpen false).
    auto [sec] = co_await tls.async_shutdown(10s, kAsTuple);
    EXPECT_FALSE(sec) << sec.message();
    EXPECT_EQ(tls.peer_end(), PeerEnd::kClean);
  });
  ASSERT_TRUE(WaitEvent(*node, "end")) << node->Describe();
  EXPECT_EQ(EventField(*node, "secure", "protocol"), VersionName(v));
  EXPECT_EQ(EventField(*node, "secure", "servername"), "localhost");
}

TEST_P(Versions, NodeClientTalksToOurAsioServer) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki));
  std::string ver = Q(VersionName(v));
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"send\":100000,\"seed\":5,\"tls\":" +
                        ClientTls(pki, ",\"minVersion\":" + ver + ",\"maxVersion\":" + ver) + "}");
  ASSERT_TRUE(WaitEvent(*node, "end")) << node->Describe();
  EXPECT_EQ(EventField(*node, "end", "received"), "100000");
  EXPECT_EQ(EventField(*node, "end", "sha256"), EventField(*node, "end", "sentSha256"));
  EXPECT_EQ(EventField(*node, "secure", "protocol"), VersionName(v));
  EXPECT_EQ(EventField(*node, "secure", "authorized"), "true");
  EXPECT_EQ(node->Wait(), 0) << node->Describe();
  ASSERT_TRUE(server.WaitFor("close:ok")) << server.LogText();
  EXPECT_EQ(server.Count("end:clean"), 1u);
  EXPECT_EQ(server.Last().version, v);
}

TEST(Alpn, NoOverlapIsAFatalAlertForNodeClientOfOurAsioServer) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki, [](auto& o) { o.alpn_protocols = {"h2"}; }));
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"tls\":" + ClientTls(pki, ",\"ALPNProtocols\":[\"http/1.1\"]") + "}");
  ASSERT_TRUE(WaitEvent(*node, "error")) << node->Describe();
  EXPECT_EQ(EventField(*node, "error", "code"), "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL");
  ASSERT_TRUE(server.WaitFor("clientError:ERR_SSL_NO_APPLICATION_PROTOCOL")) << server.LogText();
  EXPECT_EQ(server.Count("secure"), 0u);
}

TEST(Sni, NodeClientGetsTheCertificateOurAsioServerPicksForTheName) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki, [&](auto& o) {
    o.sni_contexts = {
        {.pattern = "*.example",
         .credentials = {.key_pem = pki.other.key_pem, .cert_chain_pem = pki.other.cert_pem}}};
  }));
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"tls\":{\"ca\":" + Q(pki.ca) + ",\"servername\":\"other.example\"}}");
  ASSERT_TRUE(WaitEvent(*node, "secure")) << node->Describe();
  EXPECT_EQ(EventField(*node, "secure", "peerCN"), "other.example");
  EXPECT_EQ(EventField(*node, "secure", "authorized"), "true");
  ASSERT_TRUE(server.WaitFor("secure"));
  EXPECT_EQ(server.Last().servername, "other.example");
}

TEST(ClientCertificates, OurAsioClientAuthenticatesToNodeServer) {
  PkiFiles pki = WritePki();
  auto node = StartNode(
      "{\"role\":\"server\",\"echo\":true,\"tls\":" +
      ServerTls(pki, ",\"requestCert\":true,\"rejectUnauthorized\":true,\"ca\":" + Q(pki.ca)) +
      "}");
  ASSERT_TRUE(WaitEvent(*node, "listening", 1, kStartTimeout)) << node->Describe();
  uint16_t port = static_cast<uint16_t>(std::stoi(EventField(*node, "listening", "port")));
  RunClient([&]() -> asio::awaitable<void> {
    auto [ec, tls] =
        co_await Connect(port, ClientContext(pki, [&](auto& o) {
                           o.credentials = {.key_pem = pki.pki.client.key_pem,
                                            .cert_chain_pem = pki.pki.client_chain_pem()};
                         }));
    EXPECT_FALSE(ec) << ec.message();
  });
  ASSERT_TRUE(WaitEvent(*node, "secure")) << node->Describe();
  EXPECT_EQ(EventField(*node, "secure", "authorized"), "true");
  EXPECT_EQ(EventField(*node, "secure", "peerCN"), "client");
}

TEST(Resumption, NodeClientResumesWithOurAsioServer) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki));
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"send\":10,\"connections\":2,\"tls\":" + ClientTls(pki) + "}");
  ASSERT_TRUE(WaitEvent(*node, "secure", 2)) << node->Describe();
  EXPECT_EQ(EventField(*node, "secure", "sessionReused", 0), "false");
  EXPECT_EQ(EventField(*node, "secure", "sessionReused", 1), "true");
  ASSERT_TRUE(server.WaitFor("close:ok", 2)) << server.LogText();
  EXPECT_TRUE(server.Last().session_reused);
}

TEST(Resumption, OurAsioClientResumesWithNodeServer) {
  PkiFiles pki = WritePki();
  auto node = StartNode("{\"role\":\"server\",\"echo\":true,\"tls\":" + ServerTls(pki) + "}");
  ASSERT_TRUE(WaitEvent(*node, "listening", 1, kStartTimeout)) << node->Describe();
  uint16_t port = static_cast<uint16_t>(std::stoi(EventField(*node, "listening", "port")));
  auto ctx = ClientContext(pki);
  std::optional<SavedSession> saved;
  for (int round = 0; round < 2; ++round) {
    RunClient([&]() -> asio::awaitable<void> {
      auto [ec, tls] = co_await Connect(port, ctx, "localhost", saved);
      EXPECT_FALSE(ec) << ec.message();
      if (ec) co_return;
      EXPECT_EQ(tls.session_reused(), round == 1);
      co_await asio::async_write(tls, asio::buffer("x", 1), asio::use_awaitable);
      EXPECT_EQ(co_await ReadExactly(tls, 1), "x");  // the tickets came before the echo
      if (round == 0) {  // (Node issues no new ticket on a resumed TLS 1.3 connection)
        saved = tls.session().saved_session();
        EXPECT_TRUE(saved.has_value());
      }
      co_await tls.async_shutdown(10s, kAsTuple);
    });
  }
}

TEST(Close, KillingNodeClientIsATruncationOnOurAsioServer) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki));
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"send\":5,\"hold\":true,\"tls\":" + ClientTls(pki) + "}");
  ASSERT_TRUE(server.WaitFor("secure")) << node->Describe();
  // Killed with our echo fully read: the kernel sends a FIN, not a reset.
  ASSERT_TRUE(WaitEvent(*node, "held")) << node->Describe();
  node->Kill(SIGKILL);
  ASSERT_TRUE(server.WaitFor("end:truncated")) << server.LogText();
  ASSERT_TRUE(server.WaitConnections(0));
}

TEST(Failures, NodeClientRejectingOurCertificateIsAClientErrorOnOurAsioServer) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki));
  // No CA for node: our (valid) chain is untrusted there.
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"tls\":{\"servername\":\"localhost\"}}");
  ASSERT_TRUE(WaitEvent(*node, "error")) << node->Describe();
  EXPECT_EQ(EventField(*node, "error", "code"), "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
  ASSERT_TRUE(server.WaitConnections(0));
  EXPECT_EQ(server.Count("secure"), 0u);
  std::string log = server.LogText();
  EXPECT_EQ(log.rfind("clientError:", 0), 0u) << log;
  EXPECT_EQ(log.find(' '), log.size() - 1) << "one entry: " << log;
}

// ---- GnuTLS --------------------------------------------------------------------------

TEST_P(Versions, GnutlsClientTalksToOurAsioServerAndClosesCleanly) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki), "welcome!\n");
  std::string priority =
      v == TlsVersion::kTls13 ? "NORMAL:-VERS-ALL:+VERS-TLS1.3" : "NORMAL:-VERS-ALL:+VERS-TLS1.2";
  auto cli = StartGnutlsCli(pki, server.port(), {"--priority=" + priority});
  ASSERT_TRUE(cli->WaitOut("welcome!")) << cli->Describe();
  cli->Feed("gnutls says hi\n");
  ASSERT_TRUE(cli->WaitOut("gnutls says hi\n")) << cli->Describe();
  cli->CloseStdin();  // gnutls-cli sends close_notify (bye) and exits
  EXPECT_EQ(cli->Wait(), 0) << cli->Describe();
  ASSERT_TRUE(server.WaitFor("end:clean")) << server.LogText();
  EXPECT_EQ(server.Last().version, v);
}

TEST(Resumption, GnutlsClientResumesWithOurAsioServer) {
  PkiFiles pki = WritePki();
  AsioServerThread server(ServerContext(pki), "welcome!\n");
  auto cli = StartGnutlsCli(pki, server.port(), {"--resume"});
  ASSERT_TRUE(cli->WaitOutput([](const std::string& out, const std::string& err) {
    return (out + err).find("This is a resumed session") != std::string::npos;
  })) << cli->Describe();
  cli->CloseStdin();
  cli->Wait();
  ASSERT_TRUE(server.WaitFor("secure", 2));
  EXPECT_TRUE(server.Last().session_reused);
}

}  // namespace
}  // namespace sansio_tls::interop
