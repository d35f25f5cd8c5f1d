// Interop of the libuv transport with OpenSSL 3's s_server and s_client over 127.0.0.1:
// handshakes in TLS 1.2 and 1.3, 64 MiB each way with a SHA-256 check (our side reads
// through backpressure), ALPN, a clean close and truncation. Our side runs on a uv loop on
// the test thread; the peers are child processes.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "core/context.h"
#include "tests/interop/interop_util.h"
#include "tests/uv/uv_test_util.h"
#include "transports/uv/server.h"
#include "transports/uv/stream.h"

namespace sansio_tls::interop {
namespace {

using uv_tls::PeerEnd;
using uv_tls::Stream;
using uv_tls::StreamCallbacks;
using uv_tls::test::EchoServer;
using uv_tls::test::Recording;
using uv_tls::test::StreamLog;

constexpr size_t kBulk = 64 << 20;

class UvInterop : public uv_tls::test::LoopTest {
 protected:
  std::unique_ptr<Stream> ConnectTo(uint16_t port, std::shared_ptr<const Context> ctx,
                                    StreamCallbacks cb) {
    uv_tls::ConnectOptions options;
    options.session.servername = "localhost";
    auto s = uv_tls::Connect(loop(), "127.0.0.1", port, std::move(ctx), options, std::move(cb));
    EXPECT_TRUE(s.ok());
    return s.ok() ? std::move(s).value() : nullptr;
  }
  bool RunUntilOut(const Process& p, const std::string& needle) {
    return RunUntil([&] { return p.out().find(needle) != std::string::npos; }, kIoTimeout);
  }
};

class UvVersions : public UvInterop, public ::testing::WithParamInterface<TlsVersion> {};

TEST_P(UvVersions, OurUvClientTalksToOpensslServer) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {VersionFlag(v)});
  ASSERT_NE(server.port, 0) << server.process->Describe();
  StreamLog log;
  auto conn = ConnectTo(server.port, ClientContext(pki), Recording(&log));
  ASSERT_TRUE(RunUntil([&] { return log.secure || log.closed; }, kIoTimeout));
  ASSERT_TRUE(log.secure) << ErrorText(*log.close_error) << server.process->Describe();
  EXPECT_TRUE(log.info.authorized);
  EXPECT_EQ(log.info.version, v);
  conn->Write("ping from us\n");
  EXPECT_TRUE(RunUntilOut(*server.process, "ping from us\n")) << server.process->Describe();
  server.process->Feed("pong from openssl\n");
  ASSERT_TRUE(RunUntil([&] { return log.data == "pong from openssl\n"; }, kIoTimeout));
  // Closing s_server's input makes it close the connection with close_notify.
  server.process->CloseStdin();
  ASSERT_TRUE(RunUntil([&] { return log.closed; }, kIoTimeout));
  EXPECT_EQ(log.end, PeerEnd::kClean);
  EXPECT_FALSE(log.close_error.has_value()) << ErrorText(*log.close_error);
  EXPECT_EQ(server.process->Wait(), 0) << server.process->Describe();
}

TEST_P(UvVersions, OpensslClientTalksToOurUvServer) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  HandshakeInfo seen;
  EchoServer server(loop(), ServerContext(pki), {}, [&](Stream& s) {
    seen = s.handshake_info();
    s.Write("welcome!\n");
  });
  auto client = StartSClient(pki, server.port(),
                             {VersionFlag(v), "-servername", "localhost", "-quiet", "-no_ign_eof"});
  client->Feed("hello\n");
  ASSERT_TRUE(RunUntilOut(*client, "welcome!\nhello\n")) << client->Describe();
  client->CloseStdin();  // s_client sends close_notify and exits
  ASSERT_TRUE(RunUntil([&] { return server.Count("close:ok") == 1; }, kIoTimeout))
      << client->Describe();
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  EXPECT_EQ(server.Count("end:clean"), 1u);
  EXPECT_EQ(seen.version, v);
  EXPECT_EQ(seen.servername, "localhost");
}

INSTANTIATE_TEST_SUITE_P(Tls, UvVersions, ::testing::Values(TlsVersion::kTls12, TlsVersion::kTls13),
                         [](const auto& info) {
                           return info.param == TlsVersion::kTls13 ? "Tls13" : "Tls12";
                         });

TEST_F(UvInterop, SixtyFourMiBEachWayThroughOurUvEchoServerWithOpensslClient) {
  PkiFiles pki = WritePki();
  EchoServer server(loop(), ServerContext(pki));
  const std::string up = Payload(kBulk, 31);
  auto client =
      StartSClient(pki, server.port(), {"-servername", "localhost", "-quiet", "-no_ign_eof"},
                   {.hash_stdout_bytes = kBulk});
  client->Feed(up);
  ASSERT_TRUE(RunUntil([&] { return client->out_bytes() >= kBulk; }, milliseconds(120000)))
      << client->Describe();
  EXPECT_EQ(client->out_prefix_sha256(), Sha256Hex(up));
  client->CloseStdin();
  ASSERT_TRUE(RunUntil([&] { return server.Count("close:ok") == 1; }, kIoTimeout));
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  EXPECT_EQ(client->out_bytes(), kBulk) << "nothing after the echo";
  EXPECT_LE(server.max_buffered(), 512u * 1024) << "the echo held s_client back";
}

TEST_F(UvInterop, SixtyFourMiBEachWayBetweenOurUvClientAndOpensslServer) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {}, {.hash_stdout_bytes = kBulk});
  ASSERT_NE(server.port, 0) << server.process->Describe();
  const std::string up = Payload(kBulk, 41), down = Payload(kBulk, 42);
  server.process->Feed(down);  // s_server sends its stdin to us
  size_t sent = 0, received = 0;
  Sha256 got;
  bool closed = false;
  std::optional<Error> close_error;
  auto pump = [&](Stream& s) {
    while (sent < up.size()) {
      size_t n = std::min<size_t>(256 * 1024, up.size() - sent);
      bool room = s.Write(std::string_view(up).substr(sent, n));
      sent += n;
      if (!room) return;  // until drain
    }
  };
  StreamCallbacks cb;
  cb.secure = [&](Stream& s, const HandshakeInfo&) { pump(s); };
  cb.drain = pump;
  cb.data = [&](Stream&, std::span<const uint8_t> bytes) {
    got.Update({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    received += bytes.size();
  };
  cb.close = [&](Stream&, const std::optional<Error>& e) {
    closed = true;
    close_error = e;
  };
  auto conn = ConnectTo(server.port, ClientContext(pki), cb);
  ASSERT_TRUE(RunUntil(
      [&] {
        return closed || (received >= down.size() && server.process->out_bytes() >= up.size());
      },
      milliseconds(120000)))
      << server.process->Describe();
  ASSERT_FALSE(closed) << ErrorText(*close_error);
  EXPECT_EQ(received, down.size());
  EXPECT_EQ(got.Hex(), Sha256Hex(down));
  EXPECT_EQ(server.process->out_prefix_sha256(), Sha256Hex(up));
  // Our close_notify; s_server answers with its own.
  conn->End();
  ASSERT_TRUE(RunUntil([&] { return closed; }, kIoTimeout));
  EXPECT_FALSE(close_error.has_value()) << ErrorText(*close_error);
  EXPECT_EQ(server.process->Wait(), 0) << server.process->Describe();
}

TEST_F(UvInterop, AlpnAgreesBothWays) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {"-alpn", "http/1.1"});
  ASSERT_NE(server.port, 0);
  StreamLog log;
  auto conn = ConnectTo(server.port,
                        ClientContext(pki,
                                      [](auto& o) {
                                        o.alpn_protocols = {"h2", "http/1.1"};
                                      }),
                        Recording(&log));
  ASSERT_TRUE(RunUntil([&] { return log.secure || log.closed; }, kIoTimeout));
  EXPECT_EQ(log.info.alpn_protocol, "http/1.1");

  HandshakeInfo seen;
  EchoServer ours(loop(),
                  ServerContext(pki,
                                [](auto& o) {
                                  o.alpn_protocols = {"h2", "http/1.1"};
                                }),
                  {}, [&](Stream& s) {
                    seen = s.handshake_info();
                    s.Write("welcome!\n");
                  });
  auto client =
      StartSClient(pki, ours.port(), {"-servername", "localhost", "-alpn", "foo,http/1.1"});
  ASSERT_TRUE(RunUntilOut(*client, "welcome!")) << client->Describe();
  EXPECT_NE(client->out().find("ALPN protocol: http/1.1"), std::string::npos);
  EXPECT_EQ(seen.alpn_protocol, "http/1.1");
  client->Kill(SIGKILL);
  client->Wait();
}

TEST_F(UvInterop, KillingOpensslServerIsATruncationAfterItsData) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {});
  ASSERT_NE(server.port, 0);
  StreamLog log;
  auto conn = ConnectTo(server.port, ClientContext(pki), Recording(&log));
  ASSERT_TRUE(RunUntil([&] { return log.secure; }, kIoTimeout));
  server.process->Feed("last\n");
  ASSERT_TRUE(RunUntil([&] { return log.data == "last\n"; }, kIoTimeout));
  server.process->Kill(SIGKILL);  // the kernel closes its socket: FIN, no close_notify
  ASSERT_TRUE(RunUntil([&] { return log.closed; }, kIoTimeout));
  EXPECT_EQ(log.end, PeerEnd::kTruncated);
  ASSERT_TRUE(log.close_error.has_value());
  EXPECT_TRUE(log.close_error->code == uv_tls::kErrTruncated ||
              log.close_error->code == "ECONNRESET")
      << ErrorText(*log.close_error);
}

TEST_F(UvInterop, KillingOpensslClientIsATruncationOnOurUvServer) {
  PkiFiles pki = WritePki();
  EchoServer server(loop(), ServerContext(pki), {}, [](Stream& s) { s.Write("welcome!\n"); });
  auto client = StartSClient(pki, server.port(), {"-servername", "localhost", "-quiet"});
  ASSERT_TRUE(RunUntilOut(*client, "welcome!\n")) << client->Describe();
  client->Kill(SIGKILL);
  ASSERT_TRUE(RunUntil([&] { return server.open_streams() == 0; }, kIoTimeout));
  EXPECT_EQ(server.Count("end:truncated"), 1u);
  EXPECT_TRUE(server.Count("close:ERR_TLS_TRUNCATED") + server.Count("close:ECONNRESET") +
                  server.Count("close:EPIPE") ==
              1u);
}

}  // namespace
}  // namespace sansio_tls::interop
