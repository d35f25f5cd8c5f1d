#include "tests/interop/interop_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace sansio_tls::interop {

namespace {

std::string Hex(const uint8_t* md, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

void IgnoreSigpipeOnce() {
  static bool done = [] {
    ::signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test
    return true;
  }();
  (void)done;
}

}  // namespace

std::string Sha256::Hex() {
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256_Final(md, &ctx_);
  return interop::Hex(md, sizeof md);
}

std::unique_ptr<Process> Process::Start(std::vector<std::string> argv, Options options) {
  IgnoreSigpipeOnce();
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) std::abort();
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {  // child: async-signal-safe calls only
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    signal(SIGPIPE, SIG_DFL);
    execv(args[0], args.data());
    const char msg[] = "exec failed\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  std::unique_ptr<Process> p(new Process());
  p->pid_ = pid;
  p->stdin_fd_ = in[1];
  p->options_ = options;
  SHA256_Init(&p->sha_);
  if (options.hash_stdout_bytes == 0) p->sha_hex_ = Sha256Hex("");
  Process* self = p.get();
  int out_fd = out[0], err_fd = err[0];
  p->reader_ = std::thread([self, out_fd, err_fd] { self->ReadLoop(out_fd, err_fd); });
  return p;
}

Process::~Process() {
  if (!status_) {
    Kill(SIGKILL);
    Wait(milliseconds(10000));
  }
  if (feeder_.joinable()) feeder_.join();  // the child is gone: its writes fail with EPIPE
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (reader_.joinable()) reader_.join();
}

void Process::ReadLoop(int out_fd, int err_fd) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::vector<char> buf(1 << 16);
  int open = 2;
  while (open > 0) {
    int rc = poll(fds, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (i == 1) {
        err_.append(buf.data(), static_cast<size_t>(n));
      } else {
        size_t skip = 0;
        if (out_total_ < options_.hash_stdout_bytes) {
          skip = std::min(static_cast<size_t>(n), options_.hash_stdout_bytes - out_total_);
          SHA256_Update(&sha_, buf.data(), skip);
          if (out_total_ + skip == options_.hash_stdout_bytes) {
            uint8_t md[SHA256_DIGEST_LENGTH];
            SHA256_Final(md, &sha_);
            sha_hex_ = Hex(md, sizeof md);
          }
        }
        out_total_ += static_cast<size_t>(n);
        out_.append(buf.data() + skip, static_cast<size_t>(n) - skip);
      }
      cv_.notify_all();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  output_closed_ = true;
  cv_.notify_all();
}

void Process::Feed(std::string data, bool close_after) {
  if (feeder_.joinable()) feeder_.join();
  int fd = stdin_fd_;
  if (close_after) stdin_fd_ = -1;
  feeder_ = std::thread([fd, close_after, data = std::move(data)] {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = write(fd, data.data() + off, data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EPIPE: the child stopped reading
      off += static_cast<size_t>(n);
    }
    if (close_after) close(fd);
  });
}

void Process::CloseStdin() {
  if (feeder_.joinable()) feeder_.join();
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

std::string Process::out() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

std::string Process::err() const {
  std::lock_guard<std::mutex> lock(mu_);
  return err_;
}

size_t Process::out_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_total_;
}

std::string Process::out_prefix_sha256() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sha_hex_;
}

bool Process::WaitOutput(const std::function<bool(const std::string&, const std::string&)>& done,
                         milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  bool ok = cv_.wait_for(lock, timeout, [&] { return done(out_, err_) || output_closed_; });
  return ok && done(out_, err_);
}

bool Process::WaitOut(const std::string& needle, milliseconds timeout) const {
  return WaitOutput(
      [&](const std::string& o, const std::string&) { return o.find(needle) != std::string::npos; },
      timeout);
}

bool Process::WaitErr(const std::string& needle, milliseconds timeout) const {
  return WaitOutput(
      [&](const std::string&, const std::string& e) { return e.find(needle) != std::string::npos; },
      timeout);
}

bool Process::WaitOutBytes(size_t n, milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  bool ok = cv_.wait_for(lock, timeout, [&] { return out_total_ >= n || output_closed_; });
  return ok && out_total_ >= n;
}

std::optional<int> Process::Wait(milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      // Everything it wrote is read before its status is reported.
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, deadline, [&] { return output_closed_; });
      return status_;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(5));  // no pidfd wait on every kernel
  }
}

void Process::Kill(int sig) {
  if (!status_ && pid_ > 0) kill(pid_, sig);  // our own child only
}

std::string Process::Describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  auto clip = [](const std::string& s) {
    return s.size() > 4000 ? s.substr(0, 2000) + "\n...\n" + s.substr(s.size() - 2000) : s;
  };
  return "stdout (" + std::to_string(out_total_) + " bytes): " + clip(out_) +
         "\nstderr: " + clip(err_);
}

uint16_t ListeningPort(pid_t pid, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::set<std::string> inodes;
    std::string stat_path = "/proc/" + std::to_string(pid) + "/stat";
    std::ifstream stat(stat_path);
    std::string stat_line;
    if (!std::getline(stat, stat_line)) return 0;  // gone
    size_t paren = stat_line.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat_line.size() && stat_line[paren + 2] == 'Z') {
      return 0;  // exited, not yet reaped
    }
    std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    if (DIR* d = opendir(fd_dir.c_str())) {
      while (dirent* e = readdir(d)) {
        char link[128];
        std::string path = fd_dir + "/" + e->d_name;
        ssize_t n = readlink(path.c_str(), link, sizeof link - 1);
        if (n <= 0) continue;
        link[n] = 0;
        if (std::strncmp(link, "socket:[", 8) == 0) {
          inodes.insert(std::string(link + 8, std::strlen(link + 8) - 1));
        }
      }
      closedir(d);
    }
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
      std::ifstream in(table);
      std::string line;
      std::getline(in, line);  // header
      while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string sl, local, remote, state, queues, timer, retr, uid, timeout_s, inode;
        fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout_s >>
            inode;
        if (state != "0A" || !inodes.count(inode)) continue;  // 0A: LISTEN
        return static_cast<uint16_t>(std::stoul(local.substr(local.find(':') + 1), nullptr, 16));
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return 0;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::abort();
  }
}

std::string TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string templ = std::string(base ? base : "/tmp") + "/interop.XXXXXX";
  if (!mkdtemp(templ.data())) std::abort();
  return templ;
}

std::string Runfile(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  std::string p = std::string(srcdir ? srcdir : ".") + "/" +
                  (workspace ? workspace : "sansio_tls") + "/" + path;
  char resolved[PATH_MAX];
  return realpath(p.c_str(), resolved) ? std::string(resolved) : p;
}

PkiFiles WritePki() {
  PkiFiles f;
  f.pki = testing::MakeTestPki();
  f.other = testing::MakeSigned({.subject = {{"CN", "other.example"}},
                                 .dns_names = {"other.example"},
                                 .ext_key_usage = {testing::kServerAuth}},
                                f.pki.root);  // straight from the root: no chain to send
  f.dir = TempDir();
  auto put = [&](const char* name, const std::string& data) {
    std::string path = f.dir + "/" + name;
    WriteFile(path, data);
    return path;
  };
  f.ca = put("ca.pem", f.pki.root.cert_pem);
  f.intermediate = put("intermediate.pem", f.pki.intermediate.cert_pem);
  f.server_chain = put("server.pem", f.pki.server_chain_pem());
  f.server_key = put("server.key", f.pki.server.key_pem);
  f.client_chain = put("client.pem", f.pki.client_chain_pem());
  f.client_key = put("client.key", f.pki.client.key_pem);
  f.other_chain = put("other.pem", f.other.cert_pem);
  f.other_key = put("other.key", f.other.key_pem);
  std::vector<uint8_t> pfx = testing::MakePkcs12(f.pki.server, {f.pki.intermediate}, "secret");
  f.server_pfx = put("server.p12", std::string(pfx.begin(), pfx.end()));
  return f;
}

std::string ErrorText(const Error& e) { return e.code + ": " + e.message; }
const char* VersionFlag(TlsVersion v) { return v == TlsVersion::kTls13 ? "-tls1_3" : "-tls1_2"; }
const char* VersionName(TlsVersion v) { return v == TlsVersion::kTls13 ? "TLSv1.3" : "TLSv1.2"; }

std::shared_ptr<const Context> ClientContext(const PkiFiles& pki,
                                             std::function<void(ClientContextOptions&)> edit) {
  ClientContextOptions o{.ca_pems = {pki.pki.root.cert_pem}};
  if (edit) edit(o);
  auto c = Context::Create(o);
  EXPECT_TRUE(c.ok()) << ErrorText(c.error());
  return c.value();
}

std::shared_ptr<const Context> ServerContext(const PkiFiles& pki,
                                             std::function<void(ServerContextOptions&)> edit) {
  ServerContextOptions o{.credentials = {.key_pem = pki.pki.server.key_pem,
                                         .cert_chain_pem = pki.pki.server_chain_pem()}};
  if (edit) edit(o);
  auto c = Context::Create(o);
  EXPECT_TRUE(c.ok()) << ErrorText(c.error());
  return c.value();
}

Peer StartSServer(const PkiFiles& pki, std::vector<std::string> extra, Process::Options options,
                  int connections) {
  // -cert reads only the leaf: the intermediate goes in -cert_chain.
  std::vector<std::string> argv = {kOpenssl,         "s_server",     "-accept",
                                   "127.0.0.1:0",    "-cert",        pki.server_chain,
                                   "-key",           pki.server_key, "-cert_chain",
                                   pki.intermediate, "-naccept",     std::to_string(connections),
                                   "-quiet"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Peer p;
  p.process = Process::Start(argv, options);
  p.port = ListeningPort(p.process->pid());
  return p;
}

std::unique_ptr<Process> StartSClient(const PkiFiles& pki, uint16_t port,
                                      std::vector<std::string> extra, Process::Options options) {
  std::vector<std::string> argv = {kOpenssl,
                                   "s_client",
                                   "-connect",
                                   "127.0.0.1:" + std::to_string(port),
                                   "-CAfile",
                                   pki.ca,
                                   "-verify_return_error",
                                   "-nocommands"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return Process::Start(argv, options);
}

std::unique_ptr<Process> StartGnutlsCli(const PkiFiles& pki, uint16_t port,
                                        std::vector<std::string> extra) {
  std::vector<std::string> argv = {kGnutlsCli, "--x509cafile=" + pki.ca, "-p",
                                   std::to_string(port)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("127.0.0.1");  // the certificate has IP:127.0.0.1
  return Process::Start(argv);
}

std::unique_ptr<Process> StartNode(const std::string& config) {
  return Process::Start({kNode, Runfile("tests/interop/node_peer.js"), config});
}

std::string Q(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool WaitEvent(const Process& p, const std::string& event, size_t n, milliseconds timeout) {
  std::string needle = "\"event\":\"" + event + "\"";
  return p.WaitOutput(
      [&](const std::string& out, const std::string&) {
        size_t count = 0;
        for (size_t at = out.find(needle); at != std::string::npos; at = out.find(needle, at + 1)) {
          ++count;
        }
        return count >= n;
      },
      timeout);
}

std::string ServerTls(const PkiFiles& pki, const std::string& extra) {
  return "{\"key\":" + Q(pki.server_key) + ",\"cert\":" + Q(pki.server_chain) + extra + "}";
}
std::string ClientTls(const PkiFiles& pki, const std::string& extra) {
  return "{\"ca\":" + Q(pki.ca) + ",\"servername\":\"localhost\"" + extra + "}";
}

}  // namespace sansio_tls::interop
