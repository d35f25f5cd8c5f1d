// Helpers for interop tests against real peers (openssl s_server/s_client, node, the
// example programs): child processes with piped stdio and bounded waits, discovery of the
// port a child listens on, and an in-memory PKI written to files for the peers.
//
// Every child is started by the test, gets SIGKILL when its Process object goes away (or
// when the test process dies: PR_SET_PDEATHSIG), and only ever talks to 127.0.0.1.
#ifndef SANSIO_TLS_TESTS_INTEROP_INTEROP_UTIL_H_
#define SANSIO_TLS_TESTS_INTEROP_INTEROP_UTIL_H_

#include <openssl/sha.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "tests/common/test_data.h"

namespace sansio_tls::interop {

using std::chrono::milliseconds;

// Generous bounds for a loaded 2-core machine.
inline constexpr milliseconds kStartTimeout{20000};
inline constexpr milliseconds kIoTimeout{30000};

class Process {
 public:
  struct Options {
    // The first |hash_stdout_bytes| bytes of stdout are hashed (SHA-256) and not kept;
    // later bytes are kept as text (bulk transfers without holding 64 MiB).
    size_t hash_stdout_bytes = 0;
  };
  // Starts argv[0] (an absolute path) with stdin, stdout and stderr piped. Aborts the test
  // process if it cannot fork/exec (the child then exits 127: visible in its stderr).
  static std::unique_ptr<Process> Start(std::vector<std::string> argv, Options options);
  static std::unique_ptr<Process> Start(std::vector<std::string> argv) {
    return Start(std::move(argv), Options{});
  }
  // SIGKILL if still running, then reaps the child and joins the helper threads.
  ~Process();

  pid_t pid() const { return pid_; }

  // Writes |data| to the child's stdin on a helper thread (a previous feed finishes
  // first); closes stdin afterwards when |close_after|.
  void Feed(std::string data, bool close_after = false);
  // Closes stdin once every fed byte was written (EOF for the child).
  void CloseStdin();

  // Stdout (after the hashed prefix) and stderr so far.
  std::string out() const;
  std::string err() const;
  // Stdout bytes so far, hashed prefix included.
  size_t out_bytes() const;
  // Lowercase hex SHA-256 of the hashed prefix once it is complete, else "".
  std::string out_prefix_sha256() const;
  // Waits until |done(out(), err())| holds; false on timeout or when the child's output
  // ended without it.
  bool WaitOutput(const std::function<bool(const std::string& out, const std::string& err)>& done,
                  milliseconds timeout = kIoTimeout) const;
  bool WaitOut(const std::string& needle, milliseconds timeout = kIoTimeout) const;
  bool WaitErr(const std::string& needle, milliseconds timeout = kIoTimeout) const;
  bool WaitOutBytes(size_t n, milliseconds timeout = kIoTimeout) const;

  // Waits for the child to exit (and its output to be read): its exit code, 128 + signal
  // when killed, nullopt on timeout.
  std::optional<int> Wait(milliseconds timeout = kIoTimeout);
  void Kill(int sig);

  // "stdout: ...\nstderr: ..." (truncated) for assertion messages.
  std::string Describe() const;

 private:
  Process() = default;
  void ReadLoop(int out_fd, int err_fd);

  pid_t pid_ = -1;
  std::optional<int> status_;
  int stdin_fd_ = -1;
  Options options_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::string out_, err_;
  size_t out_total_ = 0;
  SHA256_CTX sha_;
  std::string sha_hex_;
  bool output_closed_ = false;
  std::thread reader_, feeder_;
};

// The TCP port the process |pid| listens on (found through /proc), waiting up to
// |timeout| for it to start listening; 0 on timeout or when the process exited first.
uint16_t ListeningPort(pid_t pid, milliseconds timeout = kStartTimeout);

// A PKI in files under a fresh directory of TEST_TMPDIR: root CA -> intermediate ->
// server "localhost" (DNS:localhost, IP:127.0.0.1, IP:::1) and client "client"; a second
// server identity "other.example" issued by the root itself (for SNI); and the server
// identity as PKCS#12.
struct PkiFiles {
  testing::TestPki pki;
  testing::Cert other;
  std::string dir;
  std::string ca;            // root certificate
  std::string intermediate;  // the intermediate CA certificate (s_server/s_client -cert_chain)
  std::string server_chain;  // server + intermediate
  std::string server_key;
  std::string client_chain;  // client + intermediate
  std::string client_key;
  std::string other_chain;  // other.example (issued by the root)
  std::string other_key;
  std::string server_pfx;  // PKCS#12 of the server identity, passphrase "secret"
};
PkiFiles WritePki();

// Writes |data| to |path|; aborts on failure.
void WriteFile(const std::string& path, const std::string& data);
// Absolute path of a data dependency in the test's runfiles ("examples/echo_server").
std::string Runfile(const std::string& path);
// A fresh directory under TEST_TMPDIR.
std::string TempDir();

// Deterministic payload, SHA-256 as lowercase hex.
using test_data::Payload;
using test_data::Sha256Hex;

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256() { SHA256_Init(&ctx_); }
  void Update(std::string_view data) { SHA256_Update(&ctx_, data.data(), data.size()); }
  std::string Hex();

 private:
  SHA256_CTX ctx_;
};

// ---- Shared by the peer tests (openssl, node, gnutls; POSIX and Asio transports) ----------

inline constexpr char kOpenssl[] = "/usr/bin/openssl";
inline constexpr char kNode[] = "/usr/bin/node";
inline constexpr char kGnutlsCli[] = "/usr/bin/gnutls-cli";

std::string ErrorText(const Error& e);
// s_client/s_server version flag and Node/OpenSSL protocol name of |v|.
const char* VersionFlag(TlsVersion v);
const char* VersionName(TlsVersion v);

// Contexts trusting / presenting the PKI's server chain; |edit| adjusts the options first.
// A Context::Create failure is a (non-fatal) test failure.
std::shared_ptr<const Context> ClientContext(const PkiFiles& pki,
                                             std::function<void(ClientContextOptions&)> edit = {});
std::shared_ptr<const Context> ServerContext(const PkiFiles& pki,
                                             std::function<void(ServerContextOptions&)> edit = {});

// Handshake infos recorded by our server's callbacks (thread-safe).
struct Seen {
  std::mutex mu;
  std::vector<HandshakeInfo> infos;
  void Add(const HandshakeInfo& h) {
    std::lock_guard<std::mutex> lock(mu);
    infos.push_back(h);
  }
  // The latest info; a default one when none was recorded.
  HandshakeInfo Last() {
    std::lock_guard<std::mutex> lock(mu);
    return infos.empty() ? HandshakeInfo{} : infos.back();
  }
};

// A peer server process and the port it listens on (0 if it did not start listening).
struct Peer {
  std::unique_ptr<Process> process;
  uint16_t port = 0;
};

// s_server on 127.0.0.1, port 0, serving |connections| connections; -quiet: stdout carries
// exactly the bytes received, stdin is sent to the client (closing it ends the connection
// with close_notify).
Peer StartSServer(const PkiFiles& pki, std::vector<std::string> extra,
                  Process::Options options = {}, int connections = 1);
// s_client to 127.0.0.1:|port| verifying against the PKI's root, then |extra|; tests pass
// -quiet (stdout is the data) -no_ign_eof (stdin EOF sends close_notify); -nocommands
// (payload bytes are never commands) is always set.
std::unique_ptr<Process> StartSClient(const PkiFiles& pki, uint16_t port,
                                      std::vector<std::string> extra,
                                      Process::Options options = {});

// gnutls-cli to 127.0.0.1:|port| verifying against the PKI's root, with |extra| flags.
std::unique_ptr<Process> StartGnutlsCli(const PkiFiles& pki, uint16_t port,
                                        std::vector<std::string> extra);

// node_peer.js (a data dependency of the test) with the JSON |config|.
std::unique_ptr<Process> StartNode(const std::string& config);
// A JSON string (paths and names: no control chars).
std::string Q(std::string_view s);
// Waits until |p|'s stdout holds |n| node_peer.js lines whose "event" is |event|.
bool WaitEvent(const Process& p, const std::string& event, size_t n = 1,
               milliseconds timeout = kIoTimeout);
// node_peer.js "tls" objects: the server identity, and a client trusting the root for
// "localhost"; |extra| is appended inside the object (",\"k\":v...").
std::string ServerTls(const PkiFiles& pki, const std::string& extra = "");
std::string ClientTls(const PkiFiles& pki, const std::string& extra = "");

}  // namespace sansio_tls::interop

#endif  // SANSIO_TLS_TESTS_INTEROP_INTEROP_UTIL_H_
