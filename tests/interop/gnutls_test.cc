// Interop with GnuTLS's gnutls-cli against our server over 127.0.0.1: TLS 1.2 and 1.3,
// ALPN, resumption, clean close, and that it has no certificate compression. (gnutls-serv cannot be
// bound to loopback only, so GnuTLS plays the client side here.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/context.h"
#include "tests/interop/interop_util.h"
#include "tests/posix/posix_test_util.h"
#include "transports/posix/server.h"

namespace sansio_tls::interop {
namespace {

using posix::Connection;
using posix::test::ServerThread;

ServerThread::Factory Greeting(Seen* seen) {
  return [seen](Connection& conn) {
    {
      std::lock_guard<std::mutex> lock(seen->mu);
      seen->infos.push_back(conn.handshake_info());
    }
    static const std::string welcome = "welcome!\n";
    conn.TryWrite({reinterpret_cast<const uint8_t*>(welcome.data()), welcome.size()});
    return std::make_unique<posix::test::EchoHandler>();
  };
}

class Versions : public ::testing::TestWithParam<TlsVersion> {};

TEST_P(Versions, GnutlsClientTalksToOurServerAndClosesCleanly) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki), {}, Greeting(&seen));
  std::string priority = std::string("--priority=NORMAL:-VERS-ALL:+VERS-TLS1.") +
                         (v == TlsVersion::kTls13 ? "3" : "2");
  auto cli = StartGnutlsCli(pki, server.port(), {priority});
  cli->Feed("echo this\n");
  ASSERT_TRUE(cli->WaitOut("welcome!\necho this\n")) << cli->Describe();
  cli->CloseStdin();  // gnutls-cli says goodbye (close_notify) and exits
  EXPECT_EQ(cli->Wait(), 0) << cli->Describe();
  ASSERT_TRUE(server.WaitFor("close:ok")) << cli->Describe();
  EXPECT_EQ(server.Count("end:clean"), 1u);
  EXPECT_EQ(seen.Last().version, v == TlsVersion::kTls13 ? TlsVersion::kTls13 : TlsVersion::kTls12);
}

INSTANTIATE_TEST_SUITE_P(Tls, Versions, ::testing::Values(TlsVersion::kTls12, TlsVersion::kTls13),
                         [](const auto& info) {
                           return info.param == TlsVersion::kTls13 ? "Tls13" : "Tls12";
                         });

TEST(Alpn, GnutlsClientAndOurServerAgree) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki,
                                    [](auto& o) {
                                      o.alpn_protocols = {"h2", "http/1.1"};
                                    }),
                      {}, Greeting(&seen));
  auto cli = StartGnutlsCli(pki, server.port(), {"--alpn=http/1.1"});
  ASSERT_TRUE(cli->WaitOut("welcome!\n")) << cli->Describe();
  cli->CloseStdin();
  EXPECT_EQ(cli->Wait(), 0);
  EXPECT_EQ(seen.Last().alpn_protocol, "http/1.1");
}

TEST(Resumption, GnutlsClientResumesWithOurServer) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki), {}, Greeting(&seen));
  auto cli = StartGnutlsCli(pki, server.port(), {"--resume"});
  ASSERT_TRUE(cli->WaitOutput([](const std::string& out, const std::string& err) {
    return (out + err).find("This is a resumed session") != std::string::npos;
  })) << cli->Describe();
  cli->CloseStdin();
  cli->Wait();
  ASSERT_TRUE(server.WaitFor("secure", 2));
  EXPECT_TRUE(seen.Last().session_reused);
}

// docs/credentials.md: Debian 12's GnuTLS (3.7.9) is built without certificate compression,
// so no outside peer checks ours. It says so and goes on uncompressed; should a GnuTLS gain
// it, this fails: then test our compression against it here and update the docs.
TEST(CertificateCompression, DebiansGnutlsHasNoneAndCompletesWithout) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki), {}, Greeting(&seen));  // compression on (default)
  for (const char* method : {"brotli", "zlib"}) {
    SCOPED_TRACE(method);
    auto cli = StartGnutlsCli(
        pki, server.port(),
        {"--priority=NORMAL:-VERS-ALL:+VERS-TLS1.3", std::string("--compress-cert=") + method});
    ASSERT_TRUE(cli->WaitOut("welcome!\n")) << cli->Describe();
    cli->CloseStdin();
    EXPECT_EQ(cli->Wait(), 0) << cli->Describe();
    const std::string said = cli->out() + cli->err();
    EXPECT_NE(said.find(std::string("Unknown compression method: ") + method), std::string::npos)
        << "gnutls-cli now knows certificate compression (" << method
        << "): test it against our server and update docs/credentials.md\n"
        << cli->Describe();
    EXPECT_EQ(seen.Last().version, TlsVersion::kTls13);
  }
}

}  // namespace
}  // namespace sansio_tls::interop
