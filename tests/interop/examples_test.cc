// The example programs as users run them: the seed's `openssl s_client -connect
// 127.0.0.1:PORT` flow against echo_server, its --json events (listening,
// secureConnection, clientError, drop), max connections, handshake timeout, junk, a client
// that never reads, echo_client's exit status and events, resumption through session
// files, key log, PKCS#12, SNI, ALPN, the starttls and demo programs, and every program's
// command line (--help, -h, --version, usage errors).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/context.h"
#include "core/version.h"
#include "tests/interop/interop_util.h"
#include "transports/posix/connection.h"
#include "transports/posix/socket.h"

namespace sansio_tls::interop {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";

std::string EchoServer() { return Runfile("examples/echo_server"); }
std::string EchoClient() { return Runfile("examples/echo_client"); }

// The transport the programs run: $EXAMPLES_TRANSPORT (set per test target in BUILD),
// else the programs' default, asio.
std::string Transport() {
  const char* t = std::getenv("EXAMPLES_TRANSPORT");
  return t && *t ? t : "asio";
}
std::string TransportFlag() { return "--transport=" + Transport(); }

// Starts echo_server --port=0 --json with |flags|; returns it and its port.
std::pair<std::unique_ptr<Process>, uint16_t> StartEchoServer(std::vector<std::string> flags) {
  std::vector<std::string> argv = {EchoServer(), TransportFlag(), "--port=0", "--json"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto p = Process::Start(argv);
  if (!p->WaitOut("\"event\":\"listening\"", kStartTimeout)) return {std::move(p), 0};
  std::string out = p->out();
  size_t at = out.find("\"port\":");
  return {std::move(p), static_cast<uint16_t>(std::stoi(out.substr(at + 7)))};
}

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// SIGTERM closes echo_server gracefully: it exits 0 once its connections are gone.
void StopEchoServer(Process& server) {
  server.Kill(SIGTERM);
  EXPECT_EQ(server.Wait(), 0) << server.Describe();
}

TEST(EchoServer, TheSeedsOpensslFlowReceivesWelcome) {
  auto server = Process::Start({EchoServer(), TransportFlag(), "--port=0"});
  ASSERT_TRUE(server->WaitOut("ephemeral certificate SHA-256 ", kStartTimeout))
      << server->Describe();
  std::string out = server->out();
  ASSERT_NE(out.find("listening on 127.0.0.1:"), std::string::npos) << out;
  uint16_t port = static_cast<uint16_t>(std::stoi(out.substr(out.find("127.0.0.1:") + 10)));

  // Exactly the seed's command.
  auto client =
      Process::Start({kOpenssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(client->WaitOut("welcome!\n")) << client->Describe();
  ASSERT_TRUE(server->WaitOut("server connected unauthorized\n")) << server->Describe();
  client->Feed("echo me\n");
  ASSERT_TRUE(client->WaitOut("welcome!\necho me\n")) << client->Describe();
  client->CloseStdin();  // s_client: DONE, close
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  StopEchoServer(*server);
}

TEST(EchoServer, JsonReportsListeningAndSecureConnectionWithNodeFieldNames) {
  PkiFiles pki = WritePki();
  auto [server, port] = StartEchoServer({"--key=" + pki.server_key, "--cert=" + pki.server_chain,
                                         "--ca=" + pki.ca, "--request-cert", "--alpn=h2,http/1.1"});
  ASSERT_NE(port, 0) << server->Describe();
  EXPECT_NE(server->out().find("{\"event\":\"listening\",\"transport\":\"" + Transport() +
                               "\",\"host\":"
                               "\"127.0.0.1\",\"port\":" +
                               std::to_string(port) + "}"),
            std::string::npos)
      << server->out();
  auto client = Process::Start(
      {kOpenssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(port), "-CAfile", pki.ca,
       "-servername", "localhost", "-cert", pki.client_chain, "-key", pki.client_key, "-cert_chain",
       pki.intermediate, "-alpn", "http/1.1", "-quiet", "-no_ign_eof", "-nocommands"});
  ASSERT_TRUE(client->WaitOut("welcome!\n")) << client->Describe();
  ASSERT_TRUE(server->WaitOut("\"event\":\"secureConnection\"")) << server->Describe();
  std::string out = server->out();
  std::string line = out.substr(out.find("{\"event\":\"secureConnection\""));
  line = line.substr(0, line.find('\n'));
  for (const char* field :
       {"\"authorized\":true", "\"authorizationError\":null", "\"servername\":\"localhost\"",
        "\"alpnProtocol\":\"http/1.1\"", "\"npnProtocol\":null", "\"protocol\":\"TLSv1.3\"",
        "\"cipher\":\"TLS_", "\"sessionReused\":false",
        "\"peerCertificate\":{\"subject\":{"
        "\"CN\":\"client\"}",
        "\"fingerprint256\":", "\"valid_from\":"}) {
    EXPECT_NE(line.find(field), std::string::npos) << field << " in " << line;
  }
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0);
  StopEchoServer(*server);
}

TEST(EchoServer, MaxConnectionsDropsTheNextConnectionWithADropEvent) {
  auto [server, port] = StartEchoServer({"--max-connections=1"});
  ASSERT_NE(port, 0) << server->Describe();
  auto first = Process::Start({kOpenssl, "s_client", "-connect",
                               "127.0.0.1:" + std::to_string(port), "-quiet", "-nocommands"});
  ASSERT_TRUE(first->WaitOut("welcome!\n")) << first->Describe();
  auto fd = posix::TcpConnect("127.0.0.1", port, kIoTimeout);
  ASSERT_TRUE(fd.ok());
  char buf[64];
  ASSERT_EQ(posix::WaitFd(fd->get(), true, false, posix::Deadline::After(kIoTimeout)), 0);
  ssize_t n = ::recv(fd->get(), buf, sizeof buf, 0);
  EXPECT_LE(n, 0) << "closed without a TLS byte";
  ASSERT_TRUE(server->WaitOut("\"event\":\"drop\"")) << server->Describe();
  EXPECT_NE(server->out().find("\"remoteAddress\":\"127.0.0.1\""), std::string::npos);
  EXPECT_EQ(CountOf(server->out(), "\"event\":\"secureConnection\""), 1u);
  first->Kill(SIGKILL);
  StopEchoServer(*server);
}

TEST(EchoServer, HandshakeTimeoutIsOneClientError) {
  auto [server, port] = StartEchoServer({"--handshake-timeout-ms=300"});
  ASSERT_NE(port, 0);
  auto fd = posix::TcpConnect("127.0.0.1", port, kIoTimeout);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(server->WaitOut("\"code\":\"ERR_TLS_HANDSHAKE_TIMEOUT\"")) << server->Describe();
  char buf[64];
  ASSERT_EQ(posix::WaitFd(fd->get(), true, false, posix::Deadline::After(kIoTimeout)), 0);
  EXPECT_LE(::recv(fd->get(), buf, sizeof buf, 0), 0) << "closed by the server";
  EXPECT_EQ(CountOf(server->out(), "\"event\":\"clientError\""), 1u);
  StopEchoServer(*server);
}

TEST(EchoServer, OneMiBOfJunkIsOneClientErrorAndNoSecureConnection) {
  auto [server, port] = StartEchoServer({});
  ASSERT_NE(port, 0);
  auto fd = posix::TcpConnect("127.0.0.1", port, kIoTimeout);
  ASSERT_TRUE(fd.ok());
  std::string junk(1 << 20, '\x2a');
  size_t off = 0;
  posix::Deadline deadline = posix::Deadline::After(kIoTimeout);
  while (off < junk.size() && !deadline.expired()) {
    auto r = posix::SendSome(
        fd->get(), {reinterpret_cast<const uint8_t*>(junk.data()) + off, junk.size() - off});
    off += r.bytes;
    if (r.err == EAGAIN)
      posix::WaitFd(fd->get(), false, true, deadline);
    else if (r.err != 0)
      break;  // the server closed on us: expected
  }
  ASSERT_TRUE(server->WaitOut("\"event\":\"clientError\"")) << server->Describe();
  fd->reset();
  // A later, good connection is served, and nothing more was reported for the junk.
  auto good = Process::Start({kOpenssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                              "-quiet", "-nocommands"});
  ASSERT_TRUE(server->WaitOut("\"event\":\"secureConnection\"")) << server->Describe();
  EXPECT_EQ(CountOf(server->out(), "\"event\":\"clientError\""), 1u);
  EXPECT_EQ(CountOf(server->out(), "\"event\":\"secureConnection\""), 1u);
  good->Kill(SIGKILL);
  StopEchoServer(*server);
}

TEST(EchoServer, AClientThatNeverReadsDoesNotStopTheServer) {
  PkiFiles pki = WritePki();
  auto [server, port] = StartEchoServer({"--key=" + pki.server_key, "--cert=" + pki.server_chain});
  ASSERT_NE(port, 0);
  auto ctx = Context::Create(ClientContextOptions{.ca_pems = {pki.pki.root.cert_pem}});
  auto hog = posix::Connect("127.0.0.1", port, *ctx, {.session = {.servername = "localhost"}});
  ASSERT_TRUE(hog.ok());
  // Write until the server stops taking data (its echo is never read).
  std::string chunk(256 * 1024, 'x');
  auto start = std::chrono::steady_clock::now(), last = start;
  size_t sent = 0;
  while (std::chrono::steady_clock::now() - last < milliseconds(1000) &&
         std::chrono::steady_clock::now() - start < milliseconds(15000) && sent < (256u << 20)) {
    size_t n = (*hog)->TryWrite({reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()});
    if (n > 0) {
      sent += n;
      last = std::chrono::steady_clock::now();
    } else {
      posix::WaitFd((*hog)->fd(), false, true, posix::Deadline::After(milliseconds(100)));
    }
  }
  std::printf("a client that never reads: the server took %zu KiB, then held it back\n",
              sent / 1024);
  EXPECT_LT(sent, 256u << 20) << "the server held the client back";
  auto other = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                               "--ca=" + pki.ca, "--servername=localhost"});
  other->Feed("still served\n", /*close_after=*/true);
  ASSERT_EQ(other->Wait(), 0) << other->Describe();
  EXPECT_EQ(other->out(), "welcome!\nstill served\n");
  hog->reset();
  StopEchoServer(*server);
}

// ---- echo_client ------------------------------------------------------------------------

std::pair<std::unique_ptr<Process>, uint16_t> StartSServer(const PkiFiles& pki,
                                                           std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {kOpenssl,      "s_server",       "-accept",  "127.0.0.1:0",
                                   "-cert",       pki.server_chain, "-key",     pki.server_key,
                                   "-cert_chain", pki.intermediate, "-naccept", "1",
                                   "-quiet"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto p = Process::Start(argv);
  uint16_t port = ListeningPort(p->pid());
  return {std::move(p), port};
}

TEST(EchoClient, CopiesStdinAndEndsCleanlyWithExitZero) {
  PkiFiles pki = WritePki();
  auto [server, port] = StartSServer(pki);
  ASSERT_NE(port, 0) << server->Describe();
  auto client = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                                "--ca=" + pki.ca, "--servername=localhost", "--json"});
  server->Feed("from s_server\n");
  ASSERT_TRUE(client->WaitOut("from s_server\n")) << client->Describe();
  client->Feed("from echo_client\n", /*close_after=*/true);
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  EXPECT_TRUE(server->WaitOut("from echo_client\n")) << server->Describe();
  std::string err = client->err();
  EXPECT_NE(err.find("{\"event\":\"secureConnect\",\"authorized\":true"), std::string::npos) << err;
  EXPECT_NE(err.find("{\"event\":\"end\",\"clean\":true}"), std::string::npos) << err;
  EXPECT_EQ(client->out(), "from s_server\n") << "stdout carries data only";
}

TEST(EchoClient, UntrustedServerIsExitOneWithTheCode) {
  PkiFiles pki = WritePki();
  auto [server, port] = StartSServer(pki);
  auto client = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                                "--servername=localhost", "--json"});
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 1) << client->Describe();
  EXPECT_NE(
      client->err().find("{\"event\":\"error\",\"code\":\"UNABLE_TO_GET_ISSUER_CERT_LOCALLY\""),
      std::string::npos)
      << client->Describe();
  // Human mode, without verification: unauthorized but connected.
  auto [server2, port2] = StartSServer(pki);
  auto loose = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port2),
                               "--reject-unauthorized=false"});
  loose->CloseStdin();
  EXPECT_EQ(loose->Wait(), 0) << loose->Describe();
  EXPECT_NE(loose->err().find("client connected unauthorized"), std::string::npos);
}

TEST(EchoClient, AKilledServerIsATruncatedEndAndANonZeroExit) {
  PkiFiles pki = WritePki();
  auto [server, port] = StartSServer(pki);
  auto client = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                                "--ca=" + pki.ca, "--servername=localhost", "--json"});
  server->Feed("partial\n");
  ASSERT_TRUE(client->WaitOut("partial\n")) << client->Describe();
  server->Kill(SIGKILL);
  EXPECT_EQ(client->Wait(), 3) << client->Describe();
  EXPECT_NE(client->err().find("{\"event\":\"end\",\"clean\":false}"), std::string::npos);
}

TEST(EchoClient, ResumesWithEchoServerThroughSessionFiles) {
  PkiFiles pki = WritePki();
  auto [server, port] = StartEchoServer({"--key=" + pki.server_key, "--cert=" + pki.server_chain});
  ASSERT_NE(port, 0);
  std::string session = pki.dir + "/session.bin";
  for (int round = 0; round < 2; ++round) {
    auto client =
        Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                        "--ca=" + pki.ca, "--servername=localhost", "--json",
                        round == 0 ? "--session-out=" + session : "--session-in=" + session});
    client->Feed("hi\n", /*close_after=*/true);
    EXPECT_EQ(client->Wait(), 0) << client->Describe();
    EXPECT_NE(client->err().find(round == 0 ? "\"sessionReused\":false" : "\"sessionReused\":true"),
              std::string::npos)
        << client->Describe();
  }
  EXPECT_EQ(CountOf(server->out(), "\"sessionReused\":true"), 1u) << server->out();
  StopEchoServer(*server);
}

TEST(EchoClient, NegotiatesAlpnWithEchoServer) {
  PkiFiles pki = WritePki();
  auto [server, port] = StartEchoServer(
      {"--key=" + pki.server_key, "--cert=" + pki.server_chain, "--alpn=h2,http/1.1"});
  auto client =
      Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                      "--ca=" + pki.ca, "--servername=localhost", "--alpn=http/1.1", "--json"});
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  EXPECT_NE(client->err().find("\"alpnProtocol\":\"http/1.1\""), std::string::npos);
  EXPECT_NE(server->out().find("\"alpnProtocol\":\"http/1.1\""), std::string::npos);
  StopEchoServer(*server);
}

TEST(EchoClient, GroupsAndSignatureAlgorithmsAreUsedAndReported) {
  PkiFiles pki = WritePki();
  auto [server, port] = StartEchoServer(
      {"--key=" + pki.server_key, "--cert=" + pki.server_chain, "--groups=P-384,X25519", "--json"});
  ASSERT_NE(port, 0) << server->Describe();
  auto client = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                                "--ca=" + pki.ca, "--servername=localhost", "--json",
                                "--groups=X25519,P-384", "--sigalgs=ecdsa_secp256r1_sha256"});
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  // The server's order wins; the leaf is ECDSA P-256.
  EXPECT_NE(client->err().find("\"group\":\"P-384\""), std::string::npos) << client->err();
  EXPECT_NE(client->err().find("\"peerSignatureAlgorithm\":\"ecdsa_secp256r1_sha256\""),
            std::string::npos)
      << client->err();
  ASSERT_TRUE(server->WaitOut("\"group\":\"P-384\"")) << server->Describe();

  // A peer with no group in common is refused: openssl s_client offering only P-256.
  auto other = Process::Start({kOpenssl, "s_client", "-connect",
                               "127.0.0.1:" + std::to_string(port), "-CAfile", pki.ca,
                               "-servername", "localhost", "-groups", "P-256", "-no_ign_eof"});
  other->CloseStdin();
  EXPECT_NE(other->Wait(), 0) << other->Describe();
  ASSERT_TRUE(server->WaitOut("clientError")) << server->Describe();
  StopEchoServer(*server);
}

// ---- --trace and --max-send-fragment ---------------------------------------------------

// The {"event":"trace"} records among |text|'s lines, each parsed (a line that does not
// parse fails the test), as "sent NAME" / "received NAME".
std::vector<std::string> TraceRecords(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("{\"event\":\"trace\"", 0) != 0) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << line;
    if (j.is_discarded()) continue;
    EXPECT_EQ(j.size(), 5u) << line;
    EXPECT_TRUE(j["direction"] == "sent" || j["direction"] == "received") << line;
    EXPECT_TRUE(j["type"] == "handshake" || j["type"] == "alert" || j["type"] == "changeCipherSpec")
        << line;
    EXPECT_TRUE(j["length"].is_number_unsigned() && j["length"].get<size_t>() > 0) << line;
    out.push_back(j["direction"].get<std::string>() + " " + j["name"].get<std::string>());
  }
  return out;
}

// True when |want| appears in |seen| in this order (other records may come between).
bool InOrder(const std::vector<std::string>& seen, const std::vector<std::string>& want) {
  size_t i = 0;
  for (const std::string& s : seen) {
    if (i < want.size() && s == want[i]) ++i;
  }
  return i == want.size();
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += s + "; ";
  return out;
}

TEST(EchoClient, TraceReportsEachTls13HandshakeMessageInOrderOnBothSides) {
  PkiFiles pki = WritePki();
  auto [server, port] =
      StartEchoServer({"--key=" + pki.server_key, "--cert=" + pki.server_chain, "--trace"});
  ASSERT_NE(port, 0) << server->Describe();
  auto client = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                                "--ca=" + pki.ca, "--servername=localhost", "--json", "--trace"});
  client->Feed("hi\n", /*close_after=*/true);
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  EXPECT_EQ(client->out(), "welcome!\nhi\n");
  std::vector<std::string> ours = TraceRecords(client->err());
  // The certificate is compressed (both sides offer it by default).
  EXPECT_TRUE(
      InOrder(ours, {"sent ClientHello", "received ServerHello", "received EncryptedExtensions",
                     "received CompressedCertificate", "received CertificateVerify",
                     "received Finished", "sent Finished", "sent close notify"}))
      << Joined(ours);
  // The tickets may come before or after our close_notify; the server's close_notify last.
  EXPECT_TRUE(InOrder(ours, {"sent Finished", "received NewSessionTicket"})) << Joined(ours);
  EXPECT_EQ(ours.back(), "received close notify") << Joined(ours);
  EXPECT_EQ(ours.front(), "sent ClientHello") << Joined(ours);
  // The trace comes before the handshake report.
  EXPECT_LT(client->err().find("\"name\":\"ClientHello\""),
            client->err().find("{\"event\":\"secureConnect\""));
  ASSERT_TRUE(server->WaitOut("\"name\":\"close notify\"")) << server->Describe();
  std::vector<std::string> theirs = TraceRecords(server->out());
  EXPECT_TRUE(
      InOrder(theirs, {"received ClientHello", "sent ServerHello", "sent EncryptedExtensions",
                       "sent CompressedCertificate", "sent CertificateVerify", "sent Finished",
                       "received Finished", "sent NewSessionTicket"}))
      << Joined(theirs);
  StopEchoServer(*server);

  // Human lines; TLS 1.2 without certificate compression.
  auto [server12, port12] =
      StartEchoServer({"--key=" + pki.server_key, "--cert=" + pki.server_chain});
  auto human = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port12),
                               "--ca=" + pki.ca, "--servername=localhost", "--trace",
                               "--max-version=1.2", "--compress-cert=false"});
  human->CloseStdin();
  EXPECT_EQ(human->Wait(), 0) << human->Describe();
  std::string err = human->err();
  for (const char* line : {"trace: sent ClientHello (handshake, ", "trace: received Certificate (",
                           "trace: received ServerHelloDone (handshake, 4 bytes)",
                           "trace: sent ChangeCipherSpec (changeCipherSpec, 1 bytes)",
                           "trace: received Finished (handshake, 16 bytes)"}) {
    EXPECT_NE(err.find(line), std::string::npos) << line << " in " << err;
  }
  EXPECT_EQ(err.find("{"), std::string::npos) << err;
  StopEchoServer(*server12);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The ApplicationData records in openssl's -trace output, "Received Record" or "Sent Record":
// their lengths, in order (TLS 1.3: plaintext + 1 content type byte + 16 tag bytes).
std::vector<size_t> TracedDataRecords(const std::string& trace, const std::string& direction) {
  std::vector<size_t> out;
  const std::regex record(direction +
                          R"( Record\nHeader:\n  Version = [^\n]*\n  Content Type = )"
                          R"(ApplicationData \(23\)\n  Length = (\d+)\n  Inner Content Type = )"
                          R"(ApplicationData \(23\))");
  for (auto it = std::sregex_iterator(trace.begin(), trace.end(), record);
       it != std::sregex_iterator(); ++it) {
    out.push_back(std::stoul((*it)[1]));
  }
  return out;
}

TEST(EchoClient, MaxSendFragmentCutsWhatItSendsIntoRecordsOfAtMostThatManyBytes) {
  PkiFiles pki = WritePki();
  const std::string payload = std::string(1999, 'a') + "\n";
  for (const char* fragment : {"--max-send-fragment=512", "--max-send-fragment=16384"}) {
    SCOPED_TRACE(fragment);
    const std::string trace = pki.dir + "/s_server.trace";
    Peer peer = StartSServer(pki, {"-trace", "-msgfile", trace}, Process::Options{}, 1);
    auto& [server, port] = peer;
    ASSERT_NE(port, 0) << server->Describe();
    auto client = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                                  "--ca=" + pki.ca, "--servername=localhost", "--json", fragment});
    ASSERT_TRUE(client->WaitErr("secureConnect")) << client->Describe();
    client->Feed(payload, /*close_after=*/true);
    ASSERT_TRUE(server->WaitOut(std::string(100, 'a') + "\n")) << server->Describe();
    server->CloseStdin();
    client->Wait();
    server->Wait();
    std::vector<size_t> records = TracedDataRecords(Slurp(trace), "Received");
    size_t plaintext = 0;
    for (size_t r : records) plaintext += r - 17;
    EXPECT_EQ(plaintext, payload.size());
    if (std::string(fragment).ends_with("=512")) {
      EXPECT_EQ(records, (std::vector<size_t>{529, 529, 529, 481}));
    } else {
      EXPECT_EQ(records, std::vector<size_t>{2017});
    }
  }
}

TEST(EchoServer, MaxSendFragmentCutsItsEchoIntoRecordsOfAtMostThatManyBytes) {
  PkiFiles pki = WritePki();
  auto [server, port] = StartEchoServer(
      {"--key=" + pki.server_key, "--cert=" + pki.server_chain, "--max-send-fragment=512"});
  ASSERT_NE(port, 0) << server->Describe();
  const std::string trace = pki.dir + "/s_client.trace";
  auto client = StartSClient(
      pki, port,
      {"-servername", "localhost", "-trace", "-msgfile", trace, "-quiet", "-no_ign_eof"});
  ASSERT_TRUE(client->WaitOut("welcome!\n")) << client->Describe();
  client->Feed(std::string(1998, 'a') + "Z\n");
  ASSERT_TRUE(client->WaitOut("Z\n")) << client->Describe();
  client->CloseStdin();
  client->Wait();
  std::vector<size_t> records = TracedDataRecords(Slurp(trace), "Received");
  size_t plaintext = 0, largest = 0;
  for (size_t r : records) {
    plaintext += r - 17;
    largest = std::max(largest, r);
  }
  EXPECT_EQ(plaintext, 9u + 2000u) << "welcome!\n and the echo";
  EXPECT_EQ(largest, 529u);
  EXPECT_GE(records.size(), 5u);
  StopEchoServer(*server);
}

// ---- echo_server credentials: PKCS#12, SNI, key log ----------------------------------

TEST(EchoServer, ServesAPkcs12IdentitySniContextsAndWritesAKeyLog) {
  PkiFiles pki = WritePki();
  std::string keylog = pki.dir + "/keys.log";
  auto [server, port] = StartEchoServer({"--pfx=" + pki.server_pfx, "--passphrase=secret",
                                         "--sni=*.example," + pki.other_key + "," + pki.other_chain,
                                         "--keylog=" + keylog});
  ASSERT_NE(port, 0) << server->Describe();
  for (const char* name : {"localhost", "other.example"}) {
    auto client = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                                  "--ca=" + pki.ca, std::string("--servername=") + name, "--json"});
    client->CloseStdin();
    EXPECT_EQ(client->Wait(), 0) << client->Describe();
    std::string err = client->err();
    EXPECT_NE(err.find("\"authorized\":true"), std::string::npos) << name << ": " << err;
    EXPECT_NE(err.find(std::string("\"subject\":{\"CN\":\"") + name + "\"}"), std::string::npos)
        << name << ": " << err;
  }
  StopEchoServer(*server);
  std::ifstream in(keylog);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(CountOf(text.str(), "CLIENT_HANDSHAKE_TRAFFIC_SECRET "), 2u) << text.str();
  EXPECT_EQ(CountOf(text.str(), "CLIENT_TRAFFIC_SECRET_0 "), 2u);
}

TEST(EchoServer, BadFlagsAreAUsageError) {
  for (std::vector<std::string> flags : {std::vector<std::string>{"--no-such-flag"},
                                         {"--port=70000"},
                                         {"--min-version=1.4"},
                                         {"--key=/nonexistent"},
                                         {"--transport=carrier-pigeon"}}) {
    std::vector<std::string> argv = {EchoServer()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto p = Process::Start(argv);
    EXPECT_EQ(p->Wait(), 2) << flags[0] << ": " << p->Describe();
  }
}

// ---- Keying material and channel bindings ---------------------------------------------

// The value of "NAME":"..." in |line| (empty when absent or not a string).
std::string JsonString(const std::string& line, const std::string& name) {
  size_t at = line.find("\"" + name + "\":\"");
  if (at == std::string::npos) return "";
  at += name.size() + 4;
  return line.substr(at, line.find('"', at) - at);
}

// openssl's "Keying material: HEX" line, lower-cased.
std::string OpensslKeyingMaterial(const std::string& text) {
  size_t at = text.find("Keying material: ");
  if (at == std::string::npos) return "";
  at += 17;
  std::string hex = text.substr(at, text.find('\n', at) - at);
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return hex;
}

TEST(EchoServer, ExportsTheSameKeyingMaterialAsOpensslSClient) {
  PkiFiles pki = WritePki();
  auto [server, port] =
      StartEchoServer({"--key=" + pki.server_key, "--cert=" + pki.server_chain,
                       "--keymat-export=EXPORTER-sansio,40", "--channel-binding"});
  ASSERT_NE(port, 0) << server->Describe();
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    SCOPED_TRACE(version);
    auto client =
        Process::Start({kOpenssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                        "-CAfile", pki.ca, "-servername", "localhost", version, "-keymatexport",
                        "EXPORTER-sansio", "-keymatexportlen", "40", "-no_ign_eof"});
    ASSERT_TRUE(client->WaitOut("welcome!\n")) << client->Describe();
    client->CloseStdin();
    EXPECT_EQ(client->Wait(), 0) << client->Describe();
    std::string theirs = OpensslKeyingMaterial(client->out());
    ASSERT_EQ(theirs.size(), 80u) << client->out();
    ASSERT_TRUE(server->WaitOut(theirs)) << server->Describe();
    std::string out = server->out();
    size_t at = out.rfind("{\"event\":\"secureConnection\"");
    std::string line = out.substr(at, out.find('\n', at) - at);
    EXPECT_EQ(JsonString(line, "keyingMaterial"), theirs) << line;
    EXPECT_EQ(JsonString(line, "tlsExporter").size(), 64u) << line;
    if (std::string(version) == "-tls1_2") {
      // A full TLS 1.2 handshake: tls-unique is the client's Finished, our peerFinished.
      EXPECT_EQ(JsonString(line, "finished").size(), 24u) << line;
      EXPECT_EQ(JsonString(line, "tlsUnique"), JsonString(line, "peerFinished")) << line;
    } else {
      for (const char* absent :
           {"\"finished\":null", "\"peerFinished\":null", "\"tlsUnique\":null"}) {
        EXPECT_NE(line.find(absent), std::string::npos) << absent << " in " << line;
      }
    }
  }
  StopEchoServer(*server);
}

TEST(EchoClient, ExportsTheSameKeyingMaterialAsOpensslSServer) {
  PkiFiles pki = WritePki();
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    SCOPED_TRACE(version);
    // Not -quiet: s_server prints the keying material with the connection's details.
    auto server =
        Process::Start({kOpenssl, "s_server", "-accept", "127.0.0.1:0", "-cert", pki.server_chain,
                        "-key", pki.server_key, "-cert_chain", pki.intermediate, "-naccept", "1",
                        version, "-keymatexport", "EXPORTER-sansio", "-keymatexportlen", "24"});
    uint16_t port = ListeningPort(server->pid());
    ASSERT_NE(port, 0) << server->Describe();
    auto client = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                                  "--ca=" + pki.ca, "--servername=localhost", "--json",
                                  "--keymat-export=EXPORTER-sansio,24"});
    client->Feed("x\n", /*close_after=*/true);
    EXPECT_EQ(client->Wait(), 0) << client->Describe();
    std::string line = client->err().substr(client->err().find("{\"event\":\"secureConnect\""));
    line = line.substr(0, line.find('\n'));
    std::string ours = JsonString(line, "keyingMaterial");
    EXPECT_EQ(ours.size(), 48u) << line;
    EXPECT_EQ(line.find("tlsUnique"), std::string::npos) << "only what was asked for";
    ASSERT_TRUE(server->WaitOut(ours.empty() ? "?" : "x\n")) << server->Describe();
    server->CloseStdin();
    server->Wait();
    EXPECT_EQ(OpensslKeyingMaterial(server->out()), ours) << server->out();
  }
}

// --external-key: the key stays with echo_server's signer thread; OpenSSL's s_client (a real
// peer) verifies the signatures it made, in TLS 1.3 and 1.2.
TEST(EchoServer, ExternalKeySignsForOpensslSClient) {
  PkiFiles pki = WritePki();
  auto [server, port] =
      StartEchoServer({"--key=" + pki.server_key, "--cert=" + pki.server_chain, "--external-key"});
  ASSERT_NE(port, 0) << server->Describe();
  for (const char* version : {"-tls1_3", "-tls1_2"}) {
    auto client =
        Process::Start({kOpenssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                        "-CAfile", pki.ca, "-servername", "localhost", "-verify_return_error",
                        version, "-quiet", "-no_ign_eof", "-nocommands"});
    ASSERT_TRUE(client->WaitOut("welcome!\n")) << version << ": " << client->Describe();
    client->CloseStdin();
    EXPECT_EQ(client->Wait(), 0) << client->Describe();
  }
  EXPECT_TRUE(server->WaitOut("\"protocol\":\"TLSv1.2\"")) << server->Describe();
  EXPECT_EQ(CountOf(server->out(), "\"event\":\"secureConnection\""), 2u) << server->out();
  StopEchoServer(*server);
}

// Encrypted Client Hello (experimental): echo_server prints its ECHConfigList; echo_client
// encrypts its ClientHello with it and both report "ech":"accepted"; a list the server does
// not hold is ERR_TLS_ECH_REJECTED.
TEST(EchoClient, EncryptsItsClientHelloWithTheListEchoServerPrints) {
  PkiFiles pki = WritePki();
  auto [server, port] = StartEchoServer(
      {"--key=" + pki.server_key, "--cert=" + pki.server_chain, "--ech-public-name=localhost"});
  ASSERT_NE(port, 0) << server->Describe();
  std::string out = server->out();
  size_t at = out.find("\"echConfigList\":\"");
  ASSERT_NE(at, std::string::npos) << out;
  std::string list = out.substr(at + 17, out.find('"', at + 17) - at - 17);
  auto client = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                                "--ca=" + pki.ca, "--servername=localhost", "--json",
                                "--ech-config=" + list});
  ASSERT_TRUE(client->WaitOut("welcome!\n")) << client->Describe();
  client->CloseStdin();
  EXPECT_EQ(client->Wait(), 0) << client->Describe();
  EXPECT_NE(client->err().find("\"ech\":\"accepted\""), std::string::npos) << client->err();
  ASSERT_TRUE(server->WaitOut("\"event\":\"secureConnection\"")) << server->Describe();
  EXPECT_NE(server->out().find("\"ech\":\"accepted\""), std::string::npos) << server->out();

  // A config the server does not hold (another config_id: list length 2, version 2, length
  // 2, then the id): rejected.
  std::string wrong = list;
  wrong[13] = wrong[13] == '0' ? '1' : '0';
  auto rejected = Process::Start({EchoClient(), TransportFlag(), "--port=" + std::to_string(port),
                                  "--ca=" + pki.ca, "--servername=localhost", "--json",
                                  "--ech-config=" + wrong});
  rejected->CloseStdin();
  EXPECT_EQ(rejected->Wait(), 1) << rejected->Describe();
  EXPECT_NE(rejected->err().find("ERR_TLS_ECH_REJECTED"), std::string::npos) << rejected->err();
  StopEchoServer(*server);
}

// ---- starttls and demo ---------------------------------------------------------------

TEST(Starttls, UpgradesBothEndsAndClosesCleanly) {
  auto p = Process::Start({Runfile("examples/starttls"), TransportFlag()});
  EXPECT_EQ(p->Wait(), 0) << p->Describe();
  std::string out = p->out();
  for (const char* line :
       {"C: STARTTLS", "S: 220 go ahead", "-- TLS established: TLSv1.3", "authorized",
        "S: 250 hello, secure world (TLS)", "-- closed cleanly both ways"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << " in\n" << out;
  }
}

TEST(Demo, RunsWithNoArgumentsInMemoryThenOverLoopback) {
  auto p = Process::Start({Runfile("examples/demo"), TransportFlag()});
  EXPECT_EQ(p->Wait(), 0) << p->Describe();
  std::string out = p->out();
  EXPECT_EQ(CountOf(out, "closed cleanly both ways"), 2u) << out;
  EXPECT_NE(out.find("[client] received: welcome!\nhello over TCP\n"), std::string::npos) << out;
}

TEST(RemoteSigner, TheServerSignsOnTheSignerThreadAndEchoes) {
  auto p = Process::Start({Runfile("examples/remote_signer"), TransportFlag()});
  EXPECT_EQ(p->Wait(), 0) << p->Describe();
  std::string out = p->out();
  for (const char* line :
       {"the server holds no private key",
        "signer thread: SignRequest with algorithm 0x0403 for key "
        "\"signer:localhost\"",
        "authorized, server signed with 0x0403", "client received: signed elsewhere, echoed here",
        "signatures made by the signer thread: 1"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << " in\n" << out;
  }
}

// ---- every program's command line ---------------------------------------------------

// The example programs and a flag each takes with its default, as --help shows it.
struct Program {
  const char* name;
  const char* flag_with_default;
};
constexpr Program kPrograms[] = {{"demo", "--transport NAME=asio"},
                                 {"echo_server", "--port PORT=8000"},
                                 {"echo_client", "--end-timeout-ms MS=10000"},
                                 {"starttls", "--mode MODE=both"},
                                 {"remote_signer", "--transport NAME=asio"}};

// Runs |program| with |args| to completion.
std::unique_ptr<Process> RunProgram(const std::string& program, std::vector<std::string> args) {
  args.insert(args.begin(), Runfile("examples/" + program));
  auto p = Process::Start(args);
  p->CloseStdin();
  return p;
}

TEST(CommandLine, HelpListsEveryFlagWithItsDefaultAndTheExitStatuses) {
  for (const Program& program : kPrograms) {
    auto p = RunProgram(program.name, {"--help"});
    ASSERT_EQ(p->Wait(), 0) << program.name << ": " << p->Describe();
    std::string help = p->out();
    EXPECT_NE(help.find(std::string("Usage: ") + program.name), std::string::npos) << help;
    EXPECT_NE(help.find(program.flag_with_default), std::string::npos) << help;
    EXPECT_NE(help.find("--transport NAME=asio"), std::string::npos) << help;
    EXPECT_NE(help.find("Exit status: 0 "), std::string::npos) << help;
    EXPECT_NE(help.find("; 2 a bad flag or value"), std::string::npos) << help;
    // Every option line but --help and --version shows its default right after its name:
    // "--port PORT=8000", "--ca FILE=none ...", "--json[=BOOL]=false".
    const std::regex with_default(R"(--[a-z-]+( [^ =]+=[^ ].*|\[=BOOL\]=(true|false)))");
    std::istringstream lines(help);
    size_t flags = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("  --", 0) != 0 || line.rfind("  --version", 0) == 0) continue;
      ++flags;
      std::string opts = line.substr(2, line.find("  ", 2) - 2);
      EXPECT_TRUE(std::regex_match(opts, with_default)) << program.name << ": " << line;
    }
    EXPECT_GE(flags, 1u) << help;
    EXPECT_TRUE(p->err().empty()) << p->err();
  }
}

TEST(CommandLine, ShortHelpIsTheSameHelp) {
  for (const Program& program : kPrograms) {
    auto long_help = RunProgram(program.name, {"--help"});
    auto short_help = RunProgram(program.name, {"-h"});
    ASSERT_EQ(long_help->Wait(), 0) << long_help->Describe();
    ASSERT_EQ(short_help->Wait(), 0) << short_help->Describe();
    EXPECT_EQ(short_help->out(), long_help->out()) << program.name;
    EXPECT_NE(short_help->out().find("-h,--help"), std::string::npos);
  }
}

TEST(CommandLine, VersionIsTheLibrarysVersion) {
  for (const Program& program : kPrograms) {
    auto p = RunProgram(program.name, {"--version"});
    ASSERT_EQ(p->Wait(), 0) << p->Describe();
    EXPECT_EQ(p->out(), std::string(program.name) + " (sansio-tls) " + kVersion + "\n");
  }
}

TEST(CommandLine, AnUnknownFlagOrABadValueIsExitTwoWithAMessage) {
  for (const Program& program : kPrograms) {
    for (std::vector<std::string> args : {std::vector<std::string>{"--no-such-flag"},
                                          {"stray-argument"},
                                          {"--transport=carrier-pigeon"},
                                          {"--transport"}}) {
      auto p = RunProgram(program.name, args);
      EXPECT_EQ(p->Wait(), 2) << program.name << " " << args[0] << ": " << p->Describe();
      std::string err = p->err();
      EXPECT_EQ(err.rfind(std::string(program.name) + ": ", 0), 0u) << err;
      EXPECT_NE(err.find(args[0].substr(0, args[0].find('='))), std::string::npos)
          << "names the flag: " << err;
      EXPECT_NE(err.find("--help"), std::string::npos) << err;
      EXPECT_TRUE(p->out().empty()) << p->out();
    }
  }
  // Each program's own values.
  for (auto [program, arg] : {std::pair{"echo_client", "--port=65536"},
                              {"echo_client", "--min-version=SSLv3"},
                              {"echo_client", "--json=maybe"},
                              {"echo_client", "--ca=/nonexistent"},
                              {"echo_server", "--threads=0"},
                              {"echo_server", "--sni=a,b"},
                              {"echo_server", "--groups=P-999"},
                              {"echo_client", "--sigalgs=rot13_sha256"},
                              {"echo_client", "--max-send-fragment=511"},
                              {"echo_server", "--max-send-fragment=16385"},
                              {"echo_server", "--max-send-fragment=lots"},
                              {"starttls", "--mode=sideways"},
                              {"starttls", "--port=-1"}}) {
    auto p = RunProgram(program, {arg});
    EXPECT_EQ(p->Wait(), 2) << program << " " << arg << ": " << p->Describe();
    EXPECT_FALSE(p->err().empty()) << program << " " << arg;
    if (std::string(arg).starts_with("--max-send-fragment")) {
      EXPECT_NE(p->err().find("--max-send-fragment"), std::string::npos) << p->err();
      EXPECT_NE(p->err().find("not in range 512 to 16384"), std::string::npos) << p->err();
    }
  }
}

}  // namespace
}  // namespace sansio_tls::interop
