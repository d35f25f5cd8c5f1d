// Hostile clients against echo_server (examples/echo_server.cc) on each transport (asio,
// posix, uv): junk, 1 MiB of one byte, silent and half-hello clients, TLS 1.0/1.1/SSLv2
// hellos, renegotiation, a tampered record, an oversized record, a writer that never reads
// (then reset, or FIN and read back), a flood over max_connections, seeded resets in the
// handshake and in the transfer, 2,000 idle connections.
//
// Each case runs against a fresh server (a child process, --json events) and ends with the
// same checks: the server's fd count returns to its baseline, clientError was reported once
// per connection that failed before its handshake completed (and never for others), and a
// good client still gets back exactly what it wrote (SHA-256). Every wait is bounded. One
// line per case, "[hostile] ...", reports what was measured (fds, RSS growth, close latency).
//
// The transport comes from $HOSTILE_TRANSPORT (set per test target), else all three run.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/interop/interop_util.h"

namespace sansio_tls::interop {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;

constexpr milliseconds kHandshakeTimeout{1000};  // the suite's server setting
constexpr milliseconds kSettle{20000};           // bound on every wait for the server

long long MsSince(Clock::time_point t) {
  return duration_cast<milliseconds>(Clock::now() - t).count();
}

// ---- The server process: fds, memory, CPU, events ---------------------------------------

int CountFds(pid_t pid) {
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

long RssKb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// User + system CPU time of |pid| in ms.
long CpuMs(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t at = stat.rfind(')');
  if (at == std::string::npos) return -1;
  std::istringstream rest(stat.substr(at + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {  // fields 14 and 15 (1-based) are utime, stime
    if (i == 14) utime = std::atol(field.c_str());
    if (i == 15) {
      stime = std::atol(field.c_str());
      break;
    }
  }
  return (utime + stime) * 1000 / ::sysconf(_SC_CLK_TCK);
}

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// ---- Plain sockets ------------------------------------------------------------------------

int TcpConnect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

// Closes |fd| with a TCP reset (SO_LINGER {1, 0}).
void ResetClose(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

// Sends what the peer takes; returns the bytes sent (stops at EPIPE/ECONNRESET/timeout).
size_t SendSome(int fd, std::string_view data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  return sent;
}

// Reads until EOF or reset (|closed| true) or |timeout|; returns the bytes.
std::string ReadUntilClosed(int fd, milliseconds timeout, bool* closed) {
  std::string out;
  *closed = false;
  auto deadline = Clock::now() + timeout;
  char buf[16384];
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(duration_cast<milliseconds>(deadline - Clock::now()).count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      *closed = true;
      return out;
    }
  }
  return out;
}

// ---- A TLS client on BoringSSL over memory BIOs: every byte on the wire is ours to see,
// hold back, cut or alter. --------------------------------------------------------------

class TlsClient {
 public:
  TlsClient(uint16_t min_version = TLS1_2_VERSION, uint16_t max_version = TLS1_3_VERSION) {
    ctx_ = SSL_CTX_new(TLS_method());
    SSL_CTX_set_min_proto_version(ctx_, min_version);
    SSL_CTX_set_max_proto_version(ctx_, max_version);
    if (min_version < TLS1_2_VERSION) SSL_CTX_set_strict_cipher_list(ctx_, "ALL");
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);  // echo_server's ephemeral cert
    SSL_CTX_set_info_callback(ctx_, [](const SSL* ssl, int where, int ret) {
      if (where & SSL_CB_READ_ALERT) {
        static_cast<TlsClient*>(SSL_get_app_data(ssl))->alerts_.push_back(ret & 0xff);
      }
    });
    ssl_ = SSL_new(ctx_);
    SSL_set_app_data(ssl_, this);
    SSL_set_connect_state(ssl_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio_, -1);
    SSL_set_bio(ssl_, rbio_, wbio_);
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool Connect(uint16_t port) {
    fd_ = TcpConnect(port);
    return fd_ >= 0;
  }
  int fd() const { return fd_; }
  int release_fd() { return std::exchange(fd_, -1); }
  const std::vector<int>& alerts() const { return alerts_; }
  bool Received(int alert) const {
    return std::find(alerts_.begin(), alerts_.end(), alert) != alerts_.end();
  }

  // The first flight (the ClientHello record), not sent.
  std::string ClientHello() {
    SSL_do_handshake(ssl_);
    return TakeOutput();
  }
  // Ciphertext the session produced since the last call.
  std::string TakeOutput() {
    std::string out(BIO_pending(wbio_), '\0');
    if (!out.empty()) BIO_read(wbio_, out.data(), static_cast<int>(out.size()));
    return out;
  }
  bool Flush() {
    std::string out = TakeOutput();
    return SendSome(fd_, out) == out.size();
  }
  // One recv into the session's input; false on EOF, error or the socket timeout.
  bool Pull() {
    char buf[16384];
    ssize_t n;
    do {
      n = ::recv(fd_, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    BIO_write(rbio_, buf, static_cast<int>(n));
    return true;
  }

  bool Handshake() {
    for (;;) {
      int r = SSL_do_handshake(ssl_);
      if (!Flush()) return false;
      if (r == 1) return true;
      if (SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ || !Pull()) return false;
    }
  }
  // Reads plaintext until |out| holds |want| bytes; false on failure or the end.
  bool ReadPlain(size_t want, std::string* out) {
    char buf[16384];
    while (out->size() < want) {
      int n = SSL_read(ssl_, buf, static_cast<int>(std::min(sizeof buf, want - out->size())));
      if (n > 0) {
        out->append(buf, static_cast<size_t>(n));
        continue;
      }
      Flush();
      if (SSL_get_error(ssl_, n) != SSL_ERROR_WANT_READ || !Pull()) return false;
    }
    return true;
  }
  // Reads until the session fails or the connection ends (bounded by the socket timeout).
  void ReadUntilFailure() {
    char buf[16384];
    for (;;) {
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n > 0) continue;
      if (SSL_get_error(ssl_, n) != SSL_ERROR_WANT_READ || !Pull()) return;
    }
  }
  // Encrypts |data| into records, not sent.
  std::string Seal(std::string_view data) {
    EXPECT_EQ(SSL_write(ssl_, data.data(), static_cast<int>(data.size())),
              static_cast<int>(data.size()));
    return TakeOutput();
  }
  SSL* ssl() { return ssl_; }
  void Feed(const char* data, size_t n) { BIO_write(rbio_, data, static_cast<int>(n)); }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO *rbio_ = nullptr, *wbio_ = nullptr;
  int fd_ = -1;
  std::vector<int> alerts_;
};

// A well-behaved client: handshake, "welcome!\n", then |size| bytes echoed back in 16 KiB
// steps; true when the echo's SHA-256 matches what was written, and the close is clean.
bool GoodClient(uint16_t port, size_t size = 256 * 1024, uint32_t seed = 1) {
  TlsClient c;
  if (!c.Connect(port) || !c.Handshake()) return false;
  std::string welcome;
  if (!c.ReadPlain(9, &welcome) || welcome != "welcome!\n") return false;
  std::string payload = Payload(size, seed), echo;
  for (size_t at = 0; at < payload.size(); at += 16384) {
    std::string_view chunk = std::string_view(payload).substr(at, 16384);
    if (SendSome(c.fd(), c.Seal(chunk)) == 0) return false;
    if (!c.ReadPlain(at + chunk.size(), &echo)) return false;
  }
  bool same = Sha256Hex(echo) == Sha256Hex(payload);
  SSL_shutdown(c.ssl());
  c.Flush();
  c.ReadUntilFailure();  // the server's close_notify, then its FIN
  return same;
}

// ---- The fixture ----------------------------------------------------------------------

class Hostile : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    // Under ASan (CI's second pass) freed memory waits in a quarantine of up to 256 MiB,
    // which RSS would count as growth: the server child gets a small one.
    if (const char* asan = std::getenv("ASAN_OPTIONS")) {
      ::setenv("ASAN_OPTIONS", (std::string(asan) + ":quarantine_size_mb=4").c_str(), 1);
    }
    rlimit r;  // 2,000 idle connections need more than the usual 1,024 fds (both processes)
    if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
      r.rlim_cur = r.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &r);
    }
  }

  // Starts echo_server --json on this test's transport with a 1 s handshake timeout
  // (|flags| come after and may override it), warms it up with one good client, then takes
  // the fd baseline.
  void StartServer(std::vector<std::string> flags = {}) {
    std::vector<std::string> argv = {
        Runfile("examples/echo_server"), "--transport=" + GetParam(), "--port=0", "--json",
        "--handshake-timeout-ms=" + std::to_string(kHandshakeTimeout.count())};
    argv.insert(argv.end(), flags.begin(), flags.end());
    server_ = Process::Start(argv);
    ASSERT_TRUE(server_->WaitOut("\"event\":\"listening\"", kStartTimeout)) << server_->Describe();
    std::string out = server_->out();
    port_ = static_cast<uint16_t>(std::stoi(out.substr(out.find("\"port\":") + 7)));
    ASSERT_TRUE(GoodClient(port_)) << server_->Describe();
    // The warm-up client's socket closes asynchronously; the count settles right after.
    int last = -1;
    for (auto start = Clock::now(); MsSince(start) < 5000;) {
      int now = CountFds(pid());
      if (now == last) break;
      last = now;
      std::this_thread::sleep_for(milliseconds(200));
    }
    baseline_ = CountFds(pid());
    ASSERT_GT(baseline_, 0);
    errors_before_ = Events("clientError");
    rss_before_ = RssKb(pid());
  }

  void TearDown() override {
    if (!server_) return;
    server_->Kill(SIGTERM);
    auto rc = server_->Wait(milliseconds(20000));
    EXPECT_EQ(rc, 0) << "echo_server exits cleanly (sanitizers: no leak)\n" << server_->Describe();
  }

  pid_t pid() const { return server_->pid(); }
  size_t Events(const std::string& name) const {
    return CountOf(server_->out(), "\"event\":\"" + name + "\"");
  }
  // The codes of the clientError events after the first |skip|.
  std::vector<std::string> ClientErrorCodes(size_t skip) const {
    std::vector<std::string> codes;
    std::string out = server_->out();
    const std::string key = "\"event\":\"clientError\",\"code\":\"";
    size_t i = 0;
    for (size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + 1), ++i) {
      if (i < skip) continue;
      size_t from = at + key.size();
      codes.push_back(out.substr(from, out.find('"', from) - from));
    }
    return codes;
  }
  // Waits until the server holds |n| fds; the time it took (ms), or -1 on timeout.
  long long WaitFds(int n, milliseconds timeout = kSettle) const {
    auto start = Clock::now();
    while (CountFds(pid()) != n) {
      if (Clock::now() - start > timeout) return -1;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return MsSince(start);
  }
  bool WaitEvents(const std::string& name, size_t n, milliseconds timeout = kSettle) const {
    return server_->WaitOutput(
        [&](const std::string& out, const std::string&) {
          return CountOf(out, "\"event\":\"" + name + "\"") >= n;
        },
        timeout);
  }

  // The checks after every case: fds back to the baseline, exactly |failed| clientErrors
  // since the case started, a good client served with its bytes intact, and fds back
  // again. Prints the case's line with |measured|.
  void After(const std::string& name, size_t failed, const std::string& measured,
             Clock::time_point closed_at = Clock::now()) {
    long long settle = WaitFds(baseline_);
    long long close_ms = settle < 0 ? -1 : MsSince(closed_at);
    EXPECT_GE(settle, 0) << name << ": the server still holds " << CountFds(pid()) - baseline_
                         << " fds above its baseline of " << baseline_;
    EXPECT_TRUE(WaitEvents("clientError", errors_before_ + failed, milliseconds(5000)));
    EXPECT_TRUE(GoodClient(port_, 256 * 1024, 99)) << name << ": a good client after the case";
    EXPECT_GE(WaitFds(baseline_), 0) << name << ": fds after the good client";
    size_t errors = Events("clientError") - errors_before_;
    EXPECT_EQ(errors, failed) << name << ": one clientError per failed connection";
    std::printf(
        "[hostile] transport=%s case=%s fds_baseline=%d fds_after=%d close_ms=%lld "
        "client_errors=%zu rss_growth_kb=%ld %s\n",
        GetParam().c_str(), name.c_str(), baseline_, CountFds(pid()), close_ms, errors,
        RssKb(pid()) - rss_before_, measured.c_str());
    std::fflush(stdout);
  }

  std::unique_ptr<Process> server_;
  uint16_t port_ = 0;
  int baseline_ = 0;
  size_t errors_before_ = 0;
  long rss_before_ = 0;
};

// ---- Cases ------------------------------------------------------------------------------

TEST_P(Hostile, Junk) {
  StartServer();
  int fd = TcpConnect(port_);
  ASSERT_GE(fd, 0);
  SendSome(fd, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" + Payload(4096, 5));
  bool closed = false;
  std::string got = ReadUntilClosed(fd, kSettle, &closed);
  EXPECT_TRUE(closed) << "the server closes a connection that sends junk";
  EXPECT_TRUE(got.empty() || got[0] == 0x15) << "nothing but an alert comes back";
  auto at = Clock::now();
  ::close(fd);
  After("junk", 1, "reply_bytes=" + std::to_string(got.size()), at);
}

TEST_P(Hostile, OneMebibyteOfOneByte) {
  StartServer();
  int fd = TcpConnect(port_);
  ASSERT_GE(fd, 0);
  size_t sent = SendSome(fd, std::string(1 << 20, '\x2a'));
  bool closed = false;
  std::string got = ReadUntilClosed(fd, kSettle, &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(got.empty() || got[0] == 0x15);
  auto at = Clock::now();
  ::close(fd);
  After("one_mib_0x2a", 1, "bytes_taken=" + std::to_string(sent), at);
}

TEST_P(Hostile, SilentClientIsClosedAtTheHandshakeTimeout) {
  StartServer();
  auto start = Clock::now();
  int fd = TcpConnect(port_);
  ASSERT_GE(fd, 0);
  bool closed = false;
  std::string got = ReadUntilClosed(fd, kSettle, &closed);
  long long ms = MsSince(start);
  EXPECT_TRUE(closed);
  EXPECT_EQ(got, "");
  EXPECT_GE(ms, kHandshakeTimeout.count() - 50) << "not closed before the timeout";
  ::close(fd);
  After("silent", 1, "closed_after_ms=" + std::to_string(ms));
  EXPECT_EQ(ClientErrorCodes(errors_before_),
            std::vector<std::string>{"ERR_TLS_HANDSHAKE_TIMEOUT"});
}

TEST_P(Hostile, HalfAClientHelloIsClosedAtTheHandshakeTimeout) {
  StartServer();
  TlsClient c;
  std::string hello = c.ClientHello();
  ASSERT_GT(hello.size(), 100u);
  auto start = Clock::now();
  ASSERT_TRUE(c.Connect(port_));
  SendSome(c.fd(), std::string_view(hello).substr(0, hello.size() / 2));
  bool closed = false;
  std::string got = ReadUntilClosed(c.fd(), kSettle, &closed);
  long long ms = MsSince(start);
  EXPECT_TRUE(closed);
  EXPECT_EQ(got, "");
  EXPECT_GE(ms, kHandshakeTimeout.count() - 50);
  ::close(c.release_fd());
  After("half_client_hello", 1, "closed_after_ms=" + std::to_string(ms));
  EXPECT_EQ(ClientErrorCodes(errors_before_),
            std::vector<std::string>{"ERR_TLS_HANDSHAKE_TIMEOUT"});
}

// A fatal protocol_version (70) alert record: 15 03 0x 00 02 02 46.
bool IsProtocolVersionAlert(const std::string& got) {
  return got.size() >= 7 && got[0] == 0x15 && got[1] == 0x03 && got[3] == 0x00 && got[4] == 0x02 &&
         got[5] == 0x02 && got[6] == 70;
}

std::string Hex(const std::string& s) {
  std::string out;
  char b[4];
  for (unsigned char c : s.substr(0, 16)) {
    std::snprintf(b, sizeof b, "%02x ", c);
    out += b;
  }
  return out;
}

TEST_P(Hostile, OldProtocolHellosGetAProtocolVersionAlert) {
  StartServer();
  std::string measured;
  struct Hello {
    const char* name;
    std::string bytes;
  };
  std::vector<Hello> hellos;
  for (auto [name, v] : {std::pair{"tls1.0", TLS1_VERSION}, std::pair{"tls1.1", TLS1_1_VERSION}}) {
    TlsClient c(v, v);
    hellos.push_back({name, c.ClientHello()});
  }
  // SSLv2 CLIENT-HELLO (2-byte header, msg 1, version, cipher specs RC4_128_WITH_MD5 and
  // TLS_RSA_WITH_AES_128_CBC_SHA, no session id, 16-byte challenge): SSLv2 itself, and the
  // SSLv2-compatible form offering TLS 1.0.
  for (auto [name, version] : {std::pair{"sslv2", std::string("\x00\x02", 2)},
                               std::pair{"sslv2_tls1.0", std::string("\x03\x01", 2)}}) {
    std::string body = std::string("\x01", 1) + version +
                       std::string("\x00\x06\x00\x00\x00\x10", 6) +
                       std::string("\x01\x00\x80\x00\x00\x2f", 6) + Payload(16, 3);
    hellos.push_back(
        {name, std::string{static_cast<char>(0x80), static_cast<char>(body.size())} + body});
  }
  for (const Hello& h : hellos) {
    int fd = TcpConnect(port_);
    ASSERT_GE(fd, 0);
    SendSome(fd, h.bytes);
    bool closed = false;
    std::string got = ReadUntilClosed(fd, kSettle, &closed);
    EXPECT_TRUE(closed) << h.name;
    EXPECT_TRUE(IsProtocolVersionAlert(got)) << h.name << ": received " << Hex(got);
    measured += std::string(h.name) + "_reply=" + Hex(got.substr(0, 7));
    measured.pop_back();
    measured += " ";
    ::close(fd);
  }
  std::replace(measured.begin(), measured.end(), ' ', ',');
  After("old_protocol_hellos", hellos.size(), measured);
}

TEST_P(Hostile, RenegotiationIsRefused) {
  StartServer();
  long cpu0 = CpuMs(pid());
  auto client =
      Process::Start({kOpenssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(port_),
                      "-tls1_2", "-servername", "localhost"});
  ASSERT_TRUE(client->WaitOut("welcome!", kIoTimeout)) << client->Describe();
  client->Feed("R\n");  // s_client's renegotiation command
  auto rc = client->Wait(kIoTimeout);
  ASSERT_TRUE(rc.has_value()) << "the connection ends after the request\n" << client->Describe();
  std::string all = client->out() + client->err();
  EXPECT_NE(all.find("RENEGOTIATING"), std::string::npos) << client->Describe();
  EXPECT_TRUE(all.find("no renegotiation") != std::string::npos ||
              all.find("alert number 100") != std::string::npos)
      << "a no_renegotiation alert\n"
      << client->Describe();
  long cpu = CpuMs(pid()) - cpu0;
  auto at = Clock::now();
  After("renegotiation", 0, "server_cpu_ms=" + std::to_string(cpu), at);
}

// An established TLS 1.3 connection (welcome read).
std::unique_ptr<TlsClient> Established(uint16_t port) {
  auto c = std::make_unique<TlsClient>();
  EXPECT_TRUE(c->Connect(port) && c->Handshake());
  std::string welcome;
  EXPECT_TRUE(c->ReadPlain(9, &welcome));
  EXPECT_EQ(welcome, "welcome!\n");
  return c;
}

TEST_P(Hostile, AFlippedByteGetsBadRecordMac) {
  StartServer();
  auto c = Established(port_);
  std::string record = c->Seal("hello, tampered world");
  record[record.size() - 3] ^= 0x01;  // in the AEAD tag
  SendSome(c->fd(), record);
  c->ReadUntilFailure();
  EXPECT_TRUE(c->Received(SSL_AD_BAD_RECORD_MAC)) << "alerts: " << c->alerts().size();
  auto at = Clock::now();
  c.reset();
  After("flipped_byte", 0, "", at);
}

TEST_P(Hostile, AnOversizedRecordGetsRecordOverflow) {
  StartServer();
  auto c = Established(port_);
  const size_t len = 0x5000;  // above 2^14 + 2048, the most any TLS version allows
  std::string record = {0x17, 0x03, 0x03, static_cast<char>(len >> 8),
                        static_cast<char>(len & 0xff)};
  record += std::string(len, '\0');
  SendSome(c->fd(), record);
  c->ReadUntilFailure();
  EXPECT_TRUE(c->Received(SSL_AD_RECORD_OVERFLOW)) << "alerts: " << c->alerts().size();
  auto at = Clock::now();
  c.reset();
  After("oversized_record", 0, "", at);
}

// A TLS 1.3 client writing without reading: the plaintext written (count and SHA-256) and
// the ciphertext not yet sent.
struct Writer {
  std::unique_ptr<TlsClient> c;
  SHA256_CTX sent{};
  size_t plain = 0;
  std::string pending;
};

// Writes without reading until the server stops taking bytes (no progress for 1 s) or
// |cap| bytes were written.
void WriteUntilBlocked(Writer& w, size_t cap) {
  SHA256_Init(&w.sent);
  ::fcntl(w.c->fd(), F_SETFL, ::fcntl(w.c->fd(), F_GETFL) | O_NONBLOCK);
  auto progress = Clock::now();
  while (MsSince(progress) < 1000 && w.plain < cap) {
    if (w.pending.empty()) {
      std::string chunk = Payload(16384, static_cast<uint32_t>(w.plain / 16384));
      SHA256_Update(&w.sent, chunk.data(), chunk.size());
      w.pending = w.c->Seal(chunk);
      w.plain += chunk.size();
    }
    ssize_t n = ::send(w.c->fd(), w.pending.data(), w.pending.size(), MSG_NOSIGNAL);
    if (n > 0) {
      w.pending.erase(0, static_cast<size_t>(n));
      progress = Clock::now();
    } else {
      pollfd p{w.c->fd(), POLLOUT, 0};
      ::poll(&p, 1, 100);
    }
  }
}

constexpr size_t kWriterCap = 256u << 20;  // an unbounded server would take this much

TEST_P(Hostile, AWriterThatNeverReadsIsBoundedThenReset) {
  StartServer();
  Writer w;
  w.c = Established(port_);
  long rss0 = RssKb(pid());
  WriteUntilBlocked(w, kWriterCap);
  EXPECT_LT(w.plain, kWriterCap) << "the server stopped taking bytes (backpressure)";
  EXPECT_TRUE(GoodClient(port_, 64 * 1024, 7)) << "another client is served meanwhile";
  long growth = RssKb(pid()) - rss0;
  EXPECT_LT(growth, 64 * 1024) << "server memory bounded by its buffers (KiB)";
  auto at = Clock::now();
  ResetClose(w.c->release_fd());  // the case of issue 13, part 1
  After("writer_no_read_then_reset", 0,
        "written_before_blocked_kb=" + std::to_string(w.plain / 1024) +
            " rss_growth_while_blocked_kb=" + std::to_string(growth),
        at);
}

TEST_P(Hostile, AWriterThatNeverReadsIsBoundedThenFinAndReadsItAllBack) {
  StartServer();
  Writer w;
  w.c = Established(port_);
  long rss0 = RssKb(pid());
  WriteUntilBlocked(w, kWriterCap);
  EXPECT_LT(w.plain, kWriterCap) << "the server stopped taking bytes (backpressure)";
  EXPECT_TRUE(GoodClient(port_, 64 * 1024, 7)) << "another client is served meanwhile";
  long growth = RssKb(pid()) - rss0;
  EXPECT_LT(growth, 64 * 1024);

  // Send what is left while reading, then FIN (no close_notify), then read to the end.
  int fd = w.c->fd();
  SHA256_CTX got;
  SHA256_Init(&got);
  size_t received = 0;
  bool fin_sent = false, ended = false;
  auto at = Clock::now();
  auto last = Clock::now();
  char buf[65536];
  while (!ended && MsSince(last) < kSettle.count()) {
    if (!w.pending.empty()) {
      ssize_t n = ::send(fd, w.pending.data(), w.pending.size(), MSG_NOSIGNAL);
      if (n > 0) w.pending.erase(0, static_cast<size_t>(n)), last = Clock::now();
    } else if (!fin_sent) {
      ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
      fin_sent = true;
      at = Clock::now();
    }
    pollfd p{fd, static_cast<short>(POLLIN | (w.pending.empty() ? 0 : POLLOUT)), 0};
    ::poll(&p, 1, 100);
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      w.c->Feed(buf, static_cast<size_t>(n));
      last = Clock::now();
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      ended = true;
    }
    for (;;) {
      int r = SSL_read(w.c->ssl(), buf, sizeof buf);
      if (r <= 0) break;
      SHA256_Update(&got, buf, static_cast<size_t>(r));
      received += static_cast<size_t>(r);
    }
  }
  EXPECT_TRUE(ended) << "the server ends the connection once everything is echoed";
  EXPECT_EQ(received, w.plain) << "every byte written comes back";
  uint8_t a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256_Final(a, &w.sent);
  SHA256_Final(b, &got);
  EXPECT_EQ(std::string(a, a + sizeof a), std::string(b, b + sizeof b)) << "SHA-256 of the echo";
  w.c.reset();
  After("writer_no_read_then_fin", 0,
        "written_before_blocked_kb=" + std::to_string(w.plain / 1024) +
            " echoed_kb=" + std::to_string(received / 1024) +
            " rss_growth_while_blocked_kb=" + std::to_string(growth),
        at);
}

TEST_P(Hostile, AFloodOverMaxConnectionsIsDroppedAndLaterClientsServed) {
  constexpr int kMax = 5, kFlood = 50;
  StartServer({"--max-connections=" + std::to_string(kMax), "--handshake-timeout-ms=60000"});
  std::vector<int> holders;
  for (int i = 0; i < kMax; ++i) holders.push_back(TcpConnect(port_));
  ASSERT_GE(WaitFds(baseline_ + kMax), 0) << CountFds(pid());
  size_t drops0 = Events("drop");
  int refused_without_bytes = 0;
  for (int i = 0; i < kFlood; ++i) {
    int fd = TcpConnect(port_);
    ASSERT_GE(fd, 0);
    bool closed = false;
    std::string got = ReadUntilClosed(fd, kSettle, &closed);
    if (closed && got.empty()) ++refused_without_bytes;
    ::close(fd);
  }
  EXPECT_EQ(refused_without_bytes, kFlood);
  EXPECT_TRUE(WaitEvents("drop", drops0 + kFlood));
  EXPECT_EQ(Events("drop") - drops0, static_cast<size_t>(kFlood));
  int peak = CountFds(pid());
  auto at = Clock::now();
  for (int fd : holders) ::close(fd);  // each leaves before its handshake: a clientError
  After("flood_over_max_connections", kMax,
        "drops=" + std::to_string(Events("drop") - drops0) + " fds_peak=" + std::to_string(peak),
        at);
}

TEST_P(Hostile, SeededResetsInTheHandshakeAndInTheTransfer) {
  StartServer();
  std::mt19937 rng(20261204);
  constexpr int kClients = 40;
  size_t in_handshake = 0, in_transfer = 0;
  size_t secure0 = Events("secureConnection");
  for (int i = 0; i < kClients; ++i) {
    if (rng() % 2 == 0) {
      // Handshake: a random prefix of the ClientHello (1 byte .. all of it), and when all of
      // it was sent, after the server's first flight arrived (no Finished).
      TlsClient c;
      std::string hello = c.ClientHello();
      size_t cut = 1 + rng() % hello.size();
      ASSERT_TRUE(c.Connect(port_));
      SendSome(c.fd(), std::string_view(hello).substr(0, cut));
      if (cut == hello.size()) {
        char b[1];
        ASSERT_EQ(::recv(c.fd(), b, 1, MSG_PEEK), 1);
      }
      ResetClose(c.release_fd());
      ++in_handshake;
    } else {
      // Transfer: established, then a random cut of a random-sized write.
      auto c = Established(port_);
      std::string sealed = c->Seal(Payload(1 + rng() % 65536, static_cast<uint32_t>(i)));
      SendSome(c->fd(), std::string_view(sealed).substr(0, rng() % (sealed.size() + 1)));
      ResetClose(c->release_fd());
      ++in_transfer;
    }
  }
  auto at = Clock::now();
  ASSERT_TRUE(WaitEvents("clientError", errors_before_ + in_handshake));
  EXPECT_EQ(Events("secureConnection") - secure0, in_transfer);
  After("seeded_resets", in_handshake,
        "in_handshake=" + std::to_string(in_handshake) +
            " in_transfer=" + std::to_string(in_transfer),
        at);
}

TEST_P(Hostile, TwoThousandIdleConnectionsThenAllClosed) {
  constexpr int kIdle = 2000;
  StartServer({"--handshake-timeout-ms=120000"});
  std::vector<int> fds;
  for (int i = 0; i < kIdle; ++i) {
    int fd = TcpConnect(port_);
    ASSERT_GE(fd, 0) << "connection " << i << ": " << std::strerror(errno);
    fds.push_back(fd);
  }
  long long open_ms = WaitFds(baseline_ + kIdle, milliseconds(60000));
  EXPECT_GE(open_ms, 0) << "the server holds every idle connection: " << CountFds(pid());
  long rss = RssKb(pid()) - rss_before_;
  auto at = Clock::now();
  for (int fd : fds) ::close(fd);
  After("idle_2000", kIdle,
        "fds_peak=" + std::to_string(baseline_ + kIdle) + " rss_growth_with_2000_idle_kb=" +
            std::to_string(rss) + " per_connection_b=" + std::to_string(rss * 1024 / kIdle),
        at);
}

std::vector<std::string> Transports() {
  const char* t = std::getenv("HOSTILE_TRANSPORT");
  if (t && *t) return {t};
  return {"asio", "posix", "uv"};
}

INSTANTIATE_TEST_SUITE_P(Transports, Hostile, ::testing::ValuesIn(Transports()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sansio_tls::interop
