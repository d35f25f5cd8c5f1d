// Interop with Node.js's tls module (node_peer.js) over 127.0.0.1: handshakes in TLS 1.2 and
// 1.3, 64 MiB each way with SHA-256 checks, ALPN, SNI, client certificates, resumption,
// clean close and truncation, a client that rejects our certificate.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <mutex>
#include <optional>
#include <span>
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

// One JSON line of node_peer.js, flattened: top-level key -> raw value (strings unquoted).
using Line = std::map<std::string, std::string>;
Line ParseLine(const std::string& line) {
  Line out;
  size_t i = 1;
  while (i < line.size()) {
    size_t kq = line.find('"', i);
    if (kq == std::string::npos) break;
    size_t ke = line.find('"', kq + 1);
    std::string key = line.substr(kq + 1, ke - kq - 1);
    size_t v = ke + 2;  // past ":
    std::string value;
    if (line[v] == '"') {
      size_t e = v + 1;
      while (e < line.size() && line[e] != '"') e += line[e] == '\\' ? 2 : 1;
      value = line.substr(v + 1, e - v - 1);
      i = e + 2;
    } else {
      size_t e = line.find_first_of(",}", v);
      value = line.substr(v, e - v);
      i = e + 1;
    }
    out[key] = value;
  }
  return out;
}

std::vector<Line> Events(const Process& p, const std::string& event) {
  std::vector<Line> out;
  std::string text = p.out();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) break;
    Line l = ParseLine(text.substr(start, end - start));
    if (l["event"] == event) out.push_back(l);
    start = end + 1;
  }
  return out;
}

// A node server; returns its port (0 if it did not start).
uint16_t NodeServerPort(const Process& p) {
  if (!WaitEvent(p, "listening", 1, kStartTimeout)) return 0;
  return static_cast<uint16_t>(std::stoi(Events(p, "listening")[0]["port"]));
}

ServerThread::Factory Recording(Seen* seen) {
  return [seen](Connection& conn) {
    std::lock_guard<std::mutex> lock(seen->mu);
    seen->infos.push_back(conn.handshake_info());
    return std::make_unique<posix::test::EchoHandler>();
  };
}

std::optional<Error> ReadToEnd(Connection& conn) {
  uint8_t buf[65536];
  for (;;) {
    auto r = conn.Read(buf);
    if (!r.ok()) return r.error();
    if (*r == 0) return std::nullopt;
  }
}

// ---- Handshakes ----------------------------------------------------------------------

class Versions : public ::testing::TestWithParam<TlsVersion> {};

TEST_P(Versions, OurClientTalksToNodeServer) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  std::string ver = Q(VersionName(v));
  auto node = StartNode("{\"role\":\"server\",\"echo\":true,\"tls\":" +
                        ServerTls(pki, ",\"minVersion\":" + ver + ",\"maxVersion\":" + ver) + "}");
  uint16_t port = NodeServerPort(*node);
  ASSERT_NE(port, 0) << node->Describe();
  auto conn = posix::Connect("127.0.0.1", port, ClientContext(pki),
                             {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error()) << node->Describe();
  Connection& c = **conn;
  c.set_timeout(kIoTimeout);
  EXPECT_TRUE(c.handshake_info().authorized);
  EXPECT_EQ(c.handshake_info().version, v);
  ASSERT_TRUE(c.Write(Bytes("ping")).ok());
  EXPECT_EQ(ReadExactly(c, 4), "ping");
  EXPECT_FALSE(c.End().has_value());
  auto end = ReadToEnd(c);  // node ends its side when we end ours (allowHalfOpen false)
  EXPECT_FALSE(end.has_value()) << ErrorText(*end);
  EXPECT_EQ(c.peer_end(), PeerEnd::kClean);
  ASSERT_TRUE(WaitEvent(*node, "end")) << node->Describe();
  Line secure = Events(*node, "secure")[0];
  EXPECT_EQ(secure["protocol"], VersionName(v));
  EXPECT_EQ(secure["servername"], "localhost");
}

TEST_P(Versions, NodeClientTalksToOurServer) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki), {}, Recording(&seen));
  std::string ver = Q(VersionName(v));
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"send\":100000,\"seed\":5,\"tls\":" +
                        ClientTls(pki, ",\"minVersion\":" + ver + ",\"maxVersion\":" + ver) + "}");
  ASSERT_TRUE(WaitEvent(*node, "end")) << node->Describe();
  Line end = Events(*node, "end")[0];
  EXPECT_EQ(end["received"], "100000");
  EXPECT_EQ(end["sha256"], end["sentSha256"]) << "the echo is what node sent";
  Line secure = Events(*node, "secure")[0];
  EXPECT_EQ(secure["protocol"], VersionName(v));
  EXPECT_EQ(secure["authorized"], "true");
  EXPECT_EQ(node->Wait(), 0) << node->Describe();
  ASSERT_TRUE(server.WaitFor("close:ok"));
  EXPECT_EQ(server.Count("end:clean"), 1u);
  EXPECT_EQ(seen.Last().version, v);
}

// ---- Keying material exporters and Finished messages (Node's exportKeyingMaterial,
// getFinished, getPeerFinished) --------------------------------------------------------

constexpr char kExportConfig[] =
    "\"exportKeyingMaterial\":{\"label\":\"EXPORTER-sansio\",\"length\":32,"
    "\"context\":\"0102ff\"}";
constexpr uint8_t kExportContext[] = {0x01, 0x02, 0xff};

std::string Hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

struct Keying {
  std::string material, finished, peer_finished;
};
Keying KeyingOf(const Session& s) {
  auto km = s.ExportKeyingMaterial(32, "EXPORTER-sansio", kExportContext);
  return {km.ok() ? Hex(*km) : "refused", Hex(s.finished_message()),
          Hex(s.peer_finished_message())};
}

TEST_P(Versions, KeyingMaterialAndFinishedAgreeWithNodeServer) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  std::string ver = Q(VersionName(v));
  auto node =
      StartNode("{\"role\":\"server\",\"echo\":true," + std::string(kExportConfig) + ",\"tls\":" +
                ServerTls(pki, ",\"minVersion\":" + ver + ",\"maxVersion\":" + ver) + "}");
  uint16_t port = NodeServerPort(*node);
  ASSERT_NE(port, 0) << node->Describe();
  auto conn = posix::Connect("127.0.0.1", port, ClientContext(pki),
                             {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error()) << node->Describe();
  Keying ours = KeyingOf((*conn)->session());
  EXPECT_FALSE((*conn)->End().has_value());
  ASSERT_TRUE(WaitEvent(*node, "secure")) << node->Describe();
  Line theirs = Events(*node, "secure")[0];
  EXPECT_EQ(ours.material.size(), 64u);
  EXPECT_EQ(ours.material, theirs["keyingMaterial"]);
  if (v == TlsVersion::kTls12) {
    EXPECT_EQ(ours.finished.size(), 24u);
    EXPECT_EQ(ours.finished, theirs["peerFinished"]);
    EXPECT_EQ(ours.peer_finished, theirs["finished"]);
  } else {  // BoringSSL does not expose TLS 1.3's Finished messages (Node's OpenSSL does)
    EXPECT_EQ(ours.finished, "");
    size_t hex = theirs["finished"].size();  // 32 or 48 bytes (SHA-256 or SHA-384 suites)
    EXPECT_TRUE(hex == 64 || hex == 96) << theirs["finished"];
  }
}

TEST_P(Versions, KeyingMaterialAndFinishedAgreeWithNodeClient) {
  TlsVersion v = GetParam();
  PkiFiles pki = WritePki();
  std::mutex mu;
  std::optional<Keying> ours;
  ServerThread server(ServerContext(pki), {}, [&](Connection& conn) {
    std::lock_guard<std::mutex> lock(mu);
    ours = KeyingOf(conn.session());
    return std::make_unique<posix::test::EchoHandler>();
  });
  std::string ver = Q(VersionName(v));
  auto node = StartNode(
      "{\"role\":\"client\",\"port\":" + std::to_string(server.port()) + "," + kExportConfig +
      ",\"tls\":" + ClientTls(pki, ",\"minVersion\":" + ver + ",\"maxVersion\":" + ver) + "}");
  ASSERT_TRUE(WaitEvent(*node, "end")) << node->Describe();
  EXPECT_EQ(node->Wait(), 0) << node->Describe();
  Line theirs = Events(*node, "secure")[0];
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_TRUE(ours.has_value());
  EXPECT_EQ(ours->material, theirs["keyingMaterial"]);
  if (v == TlsVersion::kTls12) {
    EXPECT_EQ(ours->finished, theirs["peerFinished"]);
    EXPECT_EQ(ours->peer_finished, theirs["finished"]);
  }
}

INSTANTIATE_TEST_SUITE_P(Tls, Versions, ::testing::Values(TlsVersion::kTls12, TlsVersion::kTls13),
                         [](const auto& info) {
                           return info.param == TlsVersion::kTls13 ? "Tls13" : "Tls12";
                         });

// ---- 64 MiB each way --------------------------------------------------------------------

TEST(Bulk, SixtyFourMiBEachWayFromNodeClientThroughOurEchoServer) {
  PkiFiles pki = WritePki();
  ServerThread server(ServerContext(pki));
  auto start = std::chrono::steady_clock::now();
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"send\":" + std::to_string(kBulk) + ",\"seed\":9,\"lifetimeMs\":120000" +
                        ",\"tls\":" + ClientTls(pki) + "}");
  ASSERT_TRUE(WaitEvent(*node, "end", 1, milliseconds(120000))) << node->Describe();
  std::printf("64 MiB each way, node client <-> our echo server: %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  Line end = Events(*node, "end")[0];
  EXPECT_EQ(end["received"], std::to_string(kBulk));
  EXPECT_EQ(end["sha256"], end["sentSha256"]);
  EXPECT_EQ(end["sentSha256"], Sha256Hex(Payload(kBulk, 9))) << "same generator both sides";
  ASSERT_TRUE(server.WaitFor("close:ok"));
  EXPECT_LE(server.max_buffered(), 256u * 1024) << "bounded buffers under a fast peer";
}

TEST(Bulk, SixtyFourMiBEachWayBetweenOurClientAndNodeServer) {
  PkiFiles pki = WritePki();
  auto node = StartNode("{\"role\":\"server\",\"send\":" + std::to_string(kBulk) +
                        ",\"seed\":31,\"lifetimeMs\":120000,\"tls\":" + ServerTls(pki) + "}");
  uint16_t port = NodeServerPort(*node);
  ASSERT_NE(port, 0) << node->Describe();
  const std::string up = Payload(kBulk, 32);
  auto conn = posix::Connect("127.0.0.1", port, ClientContext(pki),
                             {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  Connection& c = **conn;
  auto start = std::chrono::steady_clock::now();
  size_t sent = 0, received = 0;
  Sha256 got;
  uint8_t buf[65536];
  posix::Deadline deadline = posix::Deadline::After(milliseconds(120000));
  bool ended = false;
  while (!deadline.expired() && !c.done()) {
    while (sent < up.size()) {
      size_t n = c.TryWrite(Bytes(std::string_view(up).substr(sent)));
      if (n == 0) break;
      sent += n;
    }
    if (sent == up.size() && received == kBulk && !ended) {
      c.TryEnd();  // all exchanged: our close_notify, node answers with its own
      ended = true;
    }
    c.Advance();
    while (c.NextEvent()) {
    }
    while (size_t n = c.TryRead(buf)) {
      got.Update({reinterpret_cast<char*>(buf), n});
      received += n;
    }
    if (c.done()) break;
    posix::Interest in = c.interest();
    posix::WaitFd(c.fd(), in.want_read, in.want_write, posix::Deadline::After(milliseconds(50)));
  }
  std::printf("64 MiB each way, our client <-> node server: %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  EXPECT_EQ(received, kBulk);
  EXPECT_EQ(c.peer_end(), PeerEnd::kClean);
  ASSERT_TRUE(WaitEvent(*node, "end")) << node->Describe();
  Line end = Events(*node, "end")[0];
  EXPECT_EQ(end["received"], std::to_string(kBulk));
  EXPECT_EQ(end["sha256"], Sha256Hex(up)) << "node received what we sent";
  EXPECT_EQ(got.Hex(), end["sentSha256"]) << "we received what node sent";
}

// ---- ALPN, SNI, client certificates, resumption ----------------------------------------

TEST(Alpn, OurClientAndNodeServerAgree) {
  PkiFiles pki = WritePki();
  auto node = StartNode("{\"role\":\"server\",\"tls\":" +
                        ServerTls(pki, ",\"ALPNProtocols\":[\"http/1.1\",\"h2\"]") + "}");
  uint16_t port = NodeServerPort(*node);
  auto conn = posix::Connect("127.0.0.1", port,
                             ClientContext(pki,
                                           [](auto& o) {
                                             o.alpn_protocols = {"h2", "http/1.1"};
                                           }),
                             {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  EXPECT_EQ((*conn)->handshake_info().alpn_protocol, "http/1.1") << "the server's order wins";
  ASSERT_TRUE(WaitEvent(*node, "secure"));
  EXPECT_EQ(Events(*node, "secure")[0]["alpnProtocol"], "http/1.1");
}

TEST(Alpn, NodeClientAndOurServerAgree) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki,
                                    [](auto& o) {
                                      o.alpn_protocols = {"h2", "http/1.1"};
                                    }),
                      {}, Recording(&seen));
  auto node =
      StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                ",\"tls\":" + ClientTls(pki, ",\"ALPNProtocols\":[\"http/1.1\",\"h2\"]") + "}");
  ASSERT_TRUE(WaitEvent(*node, "secure")) << node->Describe();
  EXPECT_EQ(Events(*node, "secure")[0]["alpnProtocol"], "h2");
  ASSERT_TRUE(server.WaitFor("secure"));
  EXPECT_EQ(seen.Last().alpn_protocol, "h2");
}

TEST(Alpn, NoOverlapIsAFatalAlertForNodeClient) {
  PkiFiles pki = WritePki();
  ServerThread server(ServerContext(pki, [](auto& o) { o.alpn_protocols = {"h2"}; }));
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"tls\":" + ClientTls(pki, ",\"ALPNProtocols\":[\"http/1.1\"]") + "}");
  ASSERT_TRUE(WaitEvent(*node, "error")) << node->Describe();
  EXPECT_EQ(Events(*node, "error")[0]["code"], "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL");
  ASSERT_TRUE(server.WaitFor("clientError:ERR_SSL_NO_APPLICATION_PROTOCOL")) << [&] {
    std::string all;
    for (auto& l : server.log()) all += l + " ";
    return all;
  }();
  EXPECT_EQ(server.Count("secure"), 0u);
}

TEST(Sni, OurClientGetsTheCertificateNodeServerPicksForTheName) {
  PkiFiles pki = WritePki();
  auto node = StartNode("{\"role\":\"server\",\"tls\":" + ServerTls(pki) +
                        ",\"sni\":[{\"name\":\"other.example\",\"key\":" + Q(pki.other_key) +
                        ",\"cert\":" + Q(pki.other_chain) + "}]}");
  uint16_t port = NodeServerPort(*node);
  auto conn = posix::Connect("127.0.0.1", port, ClientContext(pki),
                             {.session = {.servername = "other.example"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  EXPECT_TRUE((*conn)->handshake_info().authorized);
  auto cert = (*conn)->session().peer_certificate();
  ASSERT_TRUE(cert.has_value());
  EXPECT_EQ(cert->raw, pki.other.der);
  ASSERT_TRUE(WaitEvent(*node, "secure"));
  EXPECT_EQ(Events(*node, "secure")[0]["servername"], "other.example");
}

TEST(Sni, NodeClientGetsTheCertificateOurServerPicksForTheName) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(
      ServerContext(pki,
                    [&](auto& o) {
                      o.sni_contexts = {{.pattern = "*.example",
                                         .credentials = {.key_pem = pki.other.key_pem,
                                                         .cert_chain_pem = pki.other.cert_pem}}};
                    }),
      {}, Recording(&seen));
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"tls\":{\"ca\":" + Q(pki.ca) + ",\"servername\":\"other.example\"}}");
  ASSERT_TRUE(WaitEvent(*node, "secure")) << node->Describe();
  Line secure = Events(*node, "secure")[0];
  EXPECT_EQ(secure["peerCN"], "other.example");
  EXPECT_EQ(secure["authorized"], "true");
  ASSERT_TRUE(server.WaitFor("secure"));
  EXPECT_EQ(seen.Last().servername, "other.example");
}

TEST(ClientCertificates, OurClientAuthenticatesToNodeServer) {
  PkiFiles pki = WritePki();
  auto node = StartNode(
      "{\"role\":\"server\",\"echo\":true,\"tls\":" +
      ServerTls(pki, ",\"requestCert\":true,\"rejectUnauthorized\":true,\"ca\":" + Q(pki.ca)) +
      "}");
  uint16_t port = NodeServerPort(*node);
  auto conn =
      posix::Connect("127.0.0.1", port,
                     ClientContext(pki,
                                   [&](auto& o) {
                                     o.credentials = {.key_pem = pki.pki.client.key_pem,
                                                      .cert_chain_pem = pki.pki.client_chain_pem()};
                                   }),
                     {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
  ASSERT_TRUE(WaitEvent(*node, "secure")) << node->Describe();
  Line secure = Events(*node, "secure")[0];
  EXPECT_EQ(secure["authorized"], "true");
  EXPECT_EQ(secure["peerCN"], "client");
}

TEST(ClientCertificates, NodeClientAuthenticatesToOurServer) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki,
                                    [&](auto& o) {
                                      o.request_cert = true;
                                      o.ca_pems = {pki.pki.root.cert_pem};
                                    }),
                      {}, Recording(&seen));
  auto node = StartNode(
      "{\"role\":\"client\",\"port\":" + std::to_string(server.port()) + ",\"tls\":" +
      ClientTls(pki, ",\"key\":" + Q(pki.client_key) + ",\"cert\":" + Q(pki.client_chain)) + "}");
  ASSERT_TRUE(WaitEvent(*node, "secure")) << node->Describe();
  ASSERT_TRUE(server.WaitFor("secure"));
  EXPECT_TRUE(seen.Last().authorized) << seen.Last().authorization_error;
}

TEST(Resumption, NodeClientResumesWithOurServer) {
  PkiFiles pki = WritePki();
  Seen seen;
  ServerThread server(ServerContext(pki), {}, Recording(&seen));
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"send\":10,\"connections\":2,\"tls\":" + ClientTls(pki) + "}");
  ASSERT_TRUE(WaitEvent(*node, "secure", 2)) << node->Describe();
  std::vector<Line> secure = Events(*node, "secure");
  EXPECT_EQ(secure[0]["sessionReused"], "false");
  EXPECT_EQ(secure[1]["sessionReused"], "true");
  ASSERT_TRUE(server.WaitFor("close:ok", 2));
  EXPECT_TRUE(seen.Last().session_reused);
}

TEST(Resumption, OurClientResumesWithNodeServer) {
  PkiFiles pki = WritePki();
  auto node = StartNode("{\"role\":\"server\",\"echo\":true,\"tls\":" + ServerTls(pki) + "}");
  uint16_t port = NodeServerPort(*node);
  auto ctx = ClientContext(pki);
  std::optional<SavedSession> saved;
  for (int round = 0; round < 2; ++round) {
    auto conn = posix::Connect("127.0.0.1", port, ctx,
                               {.session = {.servername = "localhost", .session = saved}});
    ASSERT_TRUE(conn.ok()) << ErrorText(conn.error());
    Connection& c = **conn;
    c.set_timeout(kIoTimeout);
    EXPECT_EQ(c.handshake_info().session_reused, round == 1);
    ASSERT_TRUE(c.Write(Bytes("x")).ok());
    EXPECT_EQ(ReadExactly(c, 1), "x");  // the tickets came before the echo
    if (round == 0) {  // (Node issues no new ticket on a resumed TLS 1.3 connection)
      saved = c.session().saved_session();
      ASSERT_TRUE(saved.has_value());
    }
    EXPECT_FALSE(c.End().has_value());
    EXPECT_FALSE(ReadToEnd(c).has_value());
  }
  ASSERT_TRUE(WaitEvent(*node, "secure", 2));
  EXPECT_EQ(Events(*node, "secure")[1]["sessionReused"], "true");
}

// ---- Closing and failures -------------------------------------------------------------

TEST(Close, KillingNodeServerIsATruncationForOurClient) {
  PkiFiles pki = WritePki();
  auto node = StartNode("{\"role\":\"server\",\"send\":5,\"tls\":" + ServerTls(pki) + "}");
  uint16_t port = NodeServerPort(*node);
  auto conn = posix::Connect("127.0.0.1", port, ClientContext(pki),
                             {.session = {.servername = "localhost"}});
  ASSERT_TRUE(conn.ok());
  Connection& c = **conn;
  c.set_timeout(kIoTimeout);
  EXPECT_EQ(ReadExactly(c, 5).size(), 5u);
  node->Kill(SIGKILL);
  auto end = ReadToEnd(c);
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->code == posix::kErrTruncated || end->code == "ECONNRESET") << ErrorText(*end);
  EXPECT_EQ(c.peer_end(), PeerEnd::kTruncated);
}

TEST(Close, KillingNodeClientIsATruncationOnOurServer) {
  PkiFiles pki = WritePki();
  ServerThread server(ServerContext(pki));
  auto client = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                          ",\"send\":5,\"hold\":true,\"tls\":" + ClientTls(pki) + "}");
  ASSERT_TRUE(server.WaitFor("secure")) << client->Describe();
  // Killed with our echo fully read: the kernel sends a FIN, not a reset.
  ASSERT_TRUE(WaitEvent(*client, "held")) << client->Describe();
  client->Kill(SIGKILL);
  ASSERT_TRUE(server.WaitFor("end:truncated")) << client->Describe();
  ASSERT_TRUE(server.WaitConnections(0));
  EXPECT_EQ(server.Count("end:clean"), 0u);
}

TEST(Failures, NodeClientRejectingOurCertificateIsAClientError) {
  PkiFiles pki = WritePki();
  ServerThread server(ServerContext(pki));
  // Node trusts nothing we present: it rejects the chain with a fatal alert.
  auto node = StartNode("{\"role\":\"client\",\"port\":" + std::to_string(server.port()) +
                        ",\"tls\":{\"servername\":\"localhost\"}}");
  ASSERT_TRUE(WaitEvent(*node, "error")) << node->Describe();
  EXPECT_EQ(Events(*node, "error")[0]["code"], "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
  ASSERT_TRUE(server.WaitConnections(0));
  EXPECT_EQ(server.Count("secure"), 0u);
  std::vector<std::string> log = server.log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("clientError:", 0), 0u) << log[0];
}

}  // namespace
}  // namespace sansio_tls::interop
