// Interop with OpenSSL 3's s_server and s_client over 127.0.0.1: handshakes in TLS 1.2 and
// 1.3, 64 MiB each way with a SHA-256 check, ALPN, SNI, client certificates, resumption,
// clean close and truncation. Our side is the POSIX transport.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "core/context.h"
#include "tests/interop/interop_util.h"
#include "tests/posix/posix_test_util.h"
#include "transports/posix/connection.h"
#include "transports/posix/server.h"

namespace sansio_tls::interop {
namespace {

using posix::test::ReadExactly;
using posix::test::ReadToEnd;

using posix::Connection;
using posix::PeerEnd;
using posix::test::ServerThread;

constexpr size_t kBulk = 64 << 20;

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

ServerThread::Factory Recording(Seen* seen, std::string greeting = "") {
  return [seen, greeting](Connection& conn) {
    seen->Add(conn.handshake_info());
    if (!greeting.empty()) conn.TryWrite(Bytes(greeting));
    return std::make_unique<posix::test::EchoHandler>();
  };
}

// ---- Handshakes -------------------------------------------------------------------------

class Versions : public ::testing::TestWithParam<TlsVersion> {};

TEST_P(Versions, OurClientTalksToOpensslServer) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {VersionFlag(v)});
  ASSERT_NE(server.port, 0) << server.process->Describe();
  auto conn = posix::Connect("127.0.0.1", server.port, ClientContext(pki),
                             {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error()) << server.process->Describe();
  Connection& c = **conn;
  c.set_timeout(kIoTimeout);
  EXPECT_TRUE(c.handshake_info().authorized);
  EXPECT_EQ(c.handshake_info().version, v);
  ASSERT_TRUE(c.Write(Bytes("ping from us\n")).ok());
  EXPECT_TRUE(server.process->WaitOut("ping from us\n")) << server.process->Describe();
  server.process->Feed("pong from openssl\n");
  EXPECT_EQ(ReadExactly(c, 18), "pong from openssl\n");
  // Closing s_server's input makes it close the connection with close_notify.
  server.process->CloseStdin();
  std::optional<Error> end;
  EXPECT_EQ(ReadToEnd(c, &end), "");
  EXPECT_FALSE(end.has_value()) << ErrorText(*end);
  EXPECT_EQ(c.peer_end(), PeerEnd::kClean);
  EXPECT_EQ(server.process->Wait(), 0) << server.process->Describe();
}

TEST_P(Versions, OpensslClientTalksToOurServer) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki), {}, Recording(&seen, "welcome!\n"));
  auto client = StartSClient(pki, server.port(),
                             {VersionFlag(v), "-servername", "localhost", "-quiet", "-no_ign_eof"});
  client->Feed("hello\n");
  ASSERT_TRUE(client->WaitOut("welcome!\nhello\n")) << client->Describe();
  client->CloseStdin();  // s_client sends close_notify and exits
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  ASSERT_TRUE(server.WaitFor("close:ok")) << client->Describe();
  EXPECT_EQ(server.Count("end:clean"), 1u);
  EXPECT_EQ(seen.Last().version, v);
  EXPECT_EQ(seen.Last().servername, "localhost");
}

INSTANTIATE_TEST_SUITE_P(Tls, Versions, ::testing::Values(TlsVersion::kTls12, TlsVersion::kTls13),
                         [](const auto& info) {
                           return info.param == TlsVersion::kTls13 ? "Tls13" : "Tls12";
                         });

// ---- TLS 1.2 pre-shared keys -------------------------------------------------------------

// s_server/s_client's -psk is hex; our callbacks take the same bytes.
constexpr char kPskHex[] = "0123456789abcdeffedcba9876543210";
const std::vector<uint8_t> kPskKey = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                      0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};

TEST(Psk, OurPskClientTalksToOpensslServer) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {"-tls1_2", "-cipher", "ECDHE-PSK-CHACHA20-POLY1305", "-psk",
                                   kPskHex, "-psk_identity", "alice", "-psk_hint", "openssl"});
  ASSERT_NE(server.port, 0) << server.process->Describe();
  std::string hint_seen = "(not asked)";
  auto context = ClientContext(pki, [&](auto& o) {
    o.ca_pems.clear();  // nothing trusted: the key alone authenticates the server
    o.max_version = TlsVersion::kTls12;
    o.psk_client_callback = [&hint_seen](std::string_view hint) {
      hint_seen = std::string(hint);
      return std::optional(PskIdentity{"alice", kPskKey});
    };
  });
  auto conn =
      posix::Connect("127.0.0.1", server.port, context, {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error()) << server.process->Describe();
  Connection& c = **conn;
  c.set_timeout(kIoTimeout);
  EXPECT_EQ(hint_seen, "openssl");
  EXPECT_TRUE(c.handshake_info().authorized);
  EXPECT_EQ(c.handshake_info().cipher, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256");
  EXPECT_EQ(c.handshake_info().psk_identity, "alice");
  ASSERT_TRUE(c.Write(Bytes("psk ping\n")).ok());
  EXPECT_TRUE(server.process->WaitOut("psk ping\n")) << server.process->Describe();
  server.process->CloseStdin();
  std::optional<Error> end;
  EXPECT_EQ(ReadToEnd(c, &end), "");
  EXPECT_FALSE(end.has_value()) << ErrorText(*end);
}

TEST(Psk, OpensslPskClientTalksToOurCertificatelessServer) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerContextOptions o{};
  o.max_version = TlsVersion::kTls12;
  o.psk_identity_hint = "ours";
  o.psk_server_callback = [](std::string_view identity) {
    return identity == "bob" ? std::optional(kPskKey) : std::nullopt;
  };
  auto context = Context::Create(o);
  ASSERT_TRUE(context.ok()) << ErrorText(context.error());
  ServerThread server(context.value(), {}, Recording(&seen, "welcome, bob\n"));
  auto client =
      StartSClient(pki, server.port(),
                   {"-tls1_2", "-psk", kPskHex, "-psk_identity", "bob", "-quiet", "-no_ign_eof"});
  client->Feed("hello\n");
  ASSERT_TRUE(client->WaitOut("welcome, bob\nhello\n")) << client->Describe();
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  ASSERT_TRUE(server.WaitFor("end:clean")) << client->Describe();
  HandshakeInfo info = seen.Last();
  EXPECT_TRUE(info.authorized);
  EXPECT_EQ(info.psk_identity, "bob");
  EXPECT_EQ(info.cipher, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256");
}

TEST(Psk, OurServerRefusesAnUnknownOpensslIdentity) {
  PkiFiles pki = WritePki();
  ServerContextOptions o{};
  o.max_version = TlsVersion::kTls12;
  o.psk_server_callback = [](std::string_view) { return std::optional<std::vector<uint8_t>>(); };
  auto context = Context::Create(o);
  ASSERT_TRUE(context.ok()) << ErrorText(context.error());
  ServerThread server(context.value());
  auto client = StartSClient(pki, server.port(),
                             {"-tls1_2", "-psk", kPskHex, "-psk_identity", "eve", "-quiet"});
  EXPECT_NE(client->Wait(), 0) << client->Describe();
  EXPECT_NE(client->err().find("unknown psk identity"), std::string::npos) << client->Describe();
  ASSERT_TRUE(server.WaitFor("clientError:ERR_SSL_PSK_IDENTITY_NOT_FOUND")) << client->Describe();
}

// ---- 64 MiB each way --------------------------------------------------------------------

TEST(Bulk, SixtyFourMiBEachWayThroughOurEchoServerWithOpensslClient) {
  PkiFiles pki = WritePki();
  ServerThread server(ServerContext(pki));
  const std::string up = Payload(kBulk, 11);
  auto start = std::chrono::steady_clock::now();
  auto client =
      StartSClient(pki, server.port(), {"-servername", "localhost", "-quiet", "-no_ign_eof"},
                   {.hash_stdout_bytes = kBulk});
  client->Feed(up);
  ASSERT_TRUE(client->WaitOutBytes(kBulk, milliseconds(120000))) << client->Describe();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("64 MiB each way, s_client <-> our echo server: %.2f s\n", seconds);
  EXPECT_EQ(client->out_prefix_sha256(), Sha256Hex(up));
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  EXPECT_EQ(client->out_bytes(), kBulk) << "nothing after the echo";
  ASSERT_TRUE(server.WaitFor("close:ok"));
  EXPECT_EQ(server.Count("end:clean"), 1u);
}

TEST(Bulk, SixtyFourMiBEachWayBetweenOurClientAndOpensslServer) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {}, {.hash_stdout_bytes = kBulk});
  ASSERT_NE(server.port, 0) << server.process->Describe();
  const std::string up = Payload(kBulk, 21), down = Payload(kBulk, 22);
  auto conn = posix::Connect("127.0.0.1", server.port, ClientContext(pki),
                             {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  Connection& c = **conn;
  server.process->Feed(down);  // s_server sends its stdin to us

  auto start = std::chrono::steady_clock::now();
  size_t sent = 0;
  Sha256 got;
  size_t received = 0;
  uint8_t buf[65536];
  posix::Deadline deadline = posix::Deadline::After(milliseconds(120000));
  while (!deadline.expired() &&
         (received < down.size() || server.process->out_bytes() < up.size())) {
    while (sent < up.size()) {
      size_t n = c.TryWrite(Bytes(std::string_view(up).substr(sent)));
      if (n == 0) break;
      sent += n;
    }
    c.Advance();
    while (c.NextEvent()) {
    }
    while (size_t n = c.TryRead(buf)) {
      got.Update({reinterpret_cast<char*>(buf), n});
      received += n;
    }
    posix::Interest in = c.interest();
    posix::WaitFd(c.fd(), in.want_read, in.want_write || sent < up.size(),
                  posix::Deadline::After(milliseconds(50)));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("64 MiB each way, our client <-> s_server: %.2f s\n", seconds);
  ASSERT_EQ(received, down.size());
  ASSERT_TRUE(server.process->WaitOutBytes(up.size()));
  EXPECT_EQ(got.Hex(), Sha256Hex(down));
  EXPECT_EQ(server.process->out_prefix_sha256(), Sha256Hex(up));
  // Our close_notify; s_server answers with its own.
  c.set_timeout(kIoTimeout);
  EXPECT_FALSE(c.End().has_value());
  std::optional<Error> end;
  ReadToEnd(c, &end);
  EXPECT_FALSE(end.has_value()) << ErrorText(*end);
  EXPECT_EQ(server.process->Wait(), 0) << server.process->Describe();
}

// ---- ALPN, SNI, client certificates, resumption ----------------------------------------

TEST(Alpn, OurClientAndOpensslServerAgree) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {"-alpn", "http/1.1"});
  auto conn = posix::Connect("127.0.0.1", server.port,
                             ClientContext(pki,
                                           [](auto& o) {
                                             o.alpn_protocols = {"h2", "http/1.1"};
                                           }),
                             {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  EXPECT_EQ((*conn)->handshake_info().alpn_protocol, "http/1.1");
}

TEST(Alpn, OpensslClientAndOurServerAgree) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki,
                                    [](auto& o) {
                                      o.alpn_protocols = {"h2", "http/1.1"};
                                    }),
                      {}, Recording(&seen, "welcome!\n"));
  auto client =
      StartSClient(pki, server.port(), {"-servername", "localhost", "-alpn", "foo,http/1.1"});
  ASSERT_TRUE(client->WaitOut("welcome!")) << client->Describe();
  EXPECT_NE(client->out().find("ALPN protocol: http/1.1"), std::string::npos) << client->Describe();
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0);
  EXPECT_EQ(seen.Last().alpn_protocol, "http/1.1");
}

// Several chains per context: openssl's -sigalgs picks the RSA or the ECDSA one.
TEST(SeveralChains, OpensslClientGetsTheChainItsAlgorithmsAllow) {
  PkiFiles pki = WritePki();
  Seen seen;
  testing::CertSpec spec;
  spec.dns_names = {"localhost"};
  spec.key = testing::CachedKey(testing::KeyType::kRsa2048, 9);
  testing::Cert rsa = testing::MakeSigned(spec, pki.pki.intermediate);
  ServerThread server(
      ServerContext(pki,
                    [&](auto& o) {
                      o.alternative_credentials = {
                          {.key_pem = rsa.key_pem,
                           .cert_chain_pem = rsa.cert_pem + pki.pki.intermediate.cert_pem}};
                    }),
      {}, Recording(&seen, "welcome!\n"));
  struct Case {
    const char* sigalgs;
    const char* version;
    const char* peer_signature;
    const char* key_bits;
  };
  for (const Case& c : {Case{"RSA-PSS+SHA256", "-tls1_3", "RSA-PSS", "2048 bit"},
                        Case{"RSA-PSS+SHA256", "-tls1_2", "RSA-PSS", "2048 bit"},
                        Case{"ECDSA+SHA256", "-tls1_3", "ECDSA", "256 bit"},
                        Case{"ECDSA+SHA256:RSA-PSS+SHA256", "-tls1_3", "ECDSA", "256 bit"}}) {
    SCOPED_TRACE(std::string(c.sigalgs) + " " + c.version);
    auto client = StartSClient(pki, server.port(),
                               {"-servername", "localhost", "-sigalgs", c.sigalgs, c.version});
    ASSERT_TRUE(client->WaitOut("welcome!")) << client->Describe();
    std::string out = client->out();
    EXPECT_NE(out.find(std::string("Peer signature type: ") + c.peer_signature), std::string::npos)
        << out;
    EXPECT_NE(out.find(std::string("Server public key is ") + c.key_bits), std::string::npos)
        << out;
    EXPECT_NE(out.find("Verify return code: 0 (ok)"), std::string::npos) << out;
    client->CloseStdin();
    EXPECT_EQ(client->Wait(), 0);
  }
}

TEST(Npn, OurClientAndOpensslServerAgreeInTls12) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {"-tls1_2", "-nextprotoneg", "spdy/3,http/1.1"});
  auto conn = posix::Connect("127.0.0.1", server.port,
                             ClientContext(pki,
                                           [](auto& o) {
                                             o.npn_protocols = {"http/1.1"};
                                             o.max_version = TlsVersion::kTls12;
                                           }),
                             {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  EXPECT_EQ((*conn)->handshake_info().npn_protocol, "http/1.1");
}

TEST(Npn, OpensslClientAndOurServerAgreeInTls12) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki,
                                    [](auto& o) {
                                      o.npn_protocols = {"spdy/3", "http/1.1"};
                                    }),
                      {}, Recording(&seen, "welcome!\n"));
  auto client = StartSClient(pki, server.port(),
                             {"-servername", "localhost", "-tls1_2", "-nextprotoneg", "http/1.1"});
  ASSERT_TRUE(client->WaitOut("welcome!")) << client->Describe();
  EXPECT_NE(client->out().find("Next protocol: (1) http/1.1"), std::string::npos)
      << client->Describe();
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0);
  EXPECT_EQ(seen.Last().npn_protocol, "http/1.1");
}

TEST(Sni, OurClientGetsTheCertificateOpensslServerPicksForTheName) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(
      pki, {"-servername", "other.example", "-cert2", pki.other_chain, "-key2", pki.other_key});
  auto conn = posix::Connect("127.0.0.1", server.port, ClientContext(pki),
                             {.session = {.servername = "other.example"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error()) << server.process->Describe();
  EXPECT_TRUE((*conn)->handshake_info().authorized) << "other.example verified for its name";
  auto cert = (*conn)->session().peer_certificate();
  ASSERT_TRUE(cert.has_value());
  EXPECT_EQ(cert->raw, pki.other.der);
}

TEST(Sni, OpensslClientGetsTheCertificateOurServerPicksForTheName) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(
      ServerContext(pki,
                    [&](auto& o) {
                      o.sni_contexts = {{.pattern = "*.example",
                                         .credentials = {.key_pem = pki.other.key_pem,
                                                         .cert_chain_pem = pki.other.cert_pem}}};
                    }),
      {}, Recording(&seen, "welcome!\n"));
  auto client = StartSClient(pki, server.port(), {"-servername", "other.example"});
  ASSERT_TRUE(client->WaitOut("welcome!")) << client->Describe();
  EXPECT_NE(client->out().find("CN = other.example"), std::string::npos) << client->Describe();
  EXPECT_NE(client->out().find("Verify return code: 0 (ok)"), std::string::npos);
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0);
  EXPECT_EQ(seen.Last().servername, "other.example");
}

TEST(ClientCertificates, OurClientAuthenticatesToOpensslServer) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {"-Verify", "2", "-CAfile", pki.ca, "-verify_return_error"});
  auto conn =
      posix::Connect("127.0.0.1", server.port,
                     ClientContext(pki,
                                   [&](auto& o) {
                                     o.credentials = {.key_pem = pki.pki.client.key_pem,
                                                      .cert_chain_pem = pki.pki.client_chain_pem()};
                                   }),
                     {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  (*conn)->set_timeout(kIoTimeout);
  ASSERT_TRUE((*conn)->Write(Bytes("authenticated\n")).ok());
  EXPECT_TRUE(server.process->WaitOut("authenticated\n")) << server.process->Describe();
}

TEST(ClientCertificates, OpensslServerRefusesOurClientWithoutOne) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {"-Verify", "2", "-CAfile", pki.ca, "-verify_return_error"});
  auto conn = posix::Connect("127.0.0.1", server.port, ClientContext(pki),
                             {.session = {.servername = "localhost"}});
  std::optional<Error> failure;
  if (!conn.ok()) {
    failure = conn.error();
  } else {  // TLS 1.3: the refusal arrives after our handshake completed
    (*conn)->set_timeout(kIoTimeout);
    ReadToEnd(**conn, &failure);
  }
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->code.rfind("ERR_SSL_", 0), 0u) << ErrorText(*failure);
  EXPECT_TRUE(failure->alert_from_peer) << ErrorText(*failure);
}

TEST(ClientCertificates, OpensslClientAuthenticatesToOurServer) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki,
                                    [&](auto& o) {
                                      o.request_cert = true;
                                      o.ca_pems = {pki.pki.root.cert_pem};
                                    }),
                      {}, Recording(&seen, "welcome!\n"));
  auto client =
      StartSClient(pki, server.port(),
                   {"-servername", "localhost", "-cert", pki.client_chain, "-key", pki.client_key,
                    "-cert_chain", pki.intermediate, "-quiet", "-no_ign_eof"});
  ASSERT_TRUE(client->WaitOut("welcome!\n")) << client->Describe();
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0);
  EXPECT_TRUE(seen.Last().authorized) << seen.Last().authorization_error;
}

TEST(ClientCertificates, OurServerRefusesOpensslClientWithoutOne) {
  PkiFiles pki = WritePki();
  ServerThread server(ServerContext(pki, [&](auto& o) {
    o.request_cert = true;
    o.ca_pems = {pki.pki.root.cert_pem};
  }));
  auto client =
      StartSClient(pki, server.port(), {"-servername", "localhost", "-quiet", "-no_ign_eof"});
  ASSERT_TRUE(server.WaitFor("clientError:UNABLE_TO_GET_ISSUER_CERT")) << client->Describe();
  EXPECT_EQ(server.Count("secure"), 0u);
  client->CloseStdin();
  client->Wait();
}

TEST(Resumption, OpensslClientResumesWithOurServer) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki), {}, Recording(&seen, "welcome!\n"));
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
    client->CloseStdin();  // tickets arrived with the welcome; s_client saves on exit
    EXPECT_EQ(client->Wait(), 0) << client->Describe();
    ASSERT_TRUE(server.WaitFor("close:ok", round + 1));
    EXPECT_EQ(seen.Last().session_reused, round == 1);
  }
}

TEST(Resumption, OurClientResumesWithOpensslServer) {
  PkiFiles pki = WritePki();
  auto ctx = ClientContext(pki);
  std::optional<SavedSession> saved;
  // One s_server for both connections: its ticket keys live as long as the process.
  Peer server = StartSServer(pki, {}, {}, /*connections=*/2);
  ASSERT_NE(server.port, 0) << server.process->Describe();
  for (int round = 0; round < 2; ++round) {
    posix::ConnectOptions options{.session = {.servername = "localhost", .session = saved}};
    auto conn = posix::Connect("127.0.0.1", server.port, ctx, options);
    ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
    Connection& c = **conn;
    EXPECT_EQ(c.handshake_info().session_reused, round == 1);
    EXPECT_TRUE(c.handshake_info().authorized) << "carried by the resumed session";
    c.set_timeout(kIoTimeout);
    server.process->Feed("x");  // TLS 1.3 tickets precede the server's first data
    EXPECT_EQ(ReadExactly(c, 1), "x");
    saved = c.session().saved_session();
    ASSERT_TRUE(saved.has_value());
    EXPECT_FALSE(c.End().has_value());  // s_server answers our close_notify with its own
    std::optional<Error> end;
    ReadToEnd(c, &end);
    EXPECT_FALSE(end.has_value());
  }
  EXPECT_EQ(server.process->Wait(), 0) << server.process->Describe();
}

// ---- Closing --------------------------------------------------------------------------

TEST(Close, KillingOpensslServerIsATruncationAfterItsData) {
  PkiFiles pki = WritePki();
  Peer server = StartSServer(pki, {});
  auto conn = posix::Connect("127.0.0.1", server.port, ClientContext(pki),
                             {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok());
  Connection& c = **conn;
  c.set_timeout(kIoTimeout);
  server.process->Feed("last words\n");
  EXPECT_EQ(ReadExactly(c, 11), "last words\n");
  server.process->Kill(SIGKILL);  // the kernel closes its socket: FIN, no close_notify
  std::optional<Error> end;
  EXPECT_EQ(ReadToEnd(c, &end), "");
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->code == posix::kErrTruncated || end->code == "ECONNRESET") << ErrorText(*end);
  EXPECT_EQ(c.peer_end(), PeerEnd::kTruncated);
}

TEST(Close, KillingOpensslClientIsATruncationOnOurServer) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki), {}, Recording(&seen, "welcome!\n"));
  auto client = StartSClient(pki, server.port(), {"-servername", "localhost", "-quiet"});
  ASSERT_TRUE(client->WaitOut("welcome!\n")) << client->Describe();
  client->Kill(SIGKILL);
  ASSERT_TRUE(server.WaitFor("end:truncated"));
  ASSERT_TRUE(server.WaitConnections(0));
  EXPECT_EQ(server.Count("end:clean"), 0u);
}

}  // namespace
}  // namespace sansio_tls::interop
