// The POSIX transport under the transport fuzz target: posix::Connection (non-blocking use,
// as the epoll server drives it) over a fake kernel that implements
// transports/posix/internal/sys.h for one fake descriptor and passes every other descriptor
// to the real kernel. The fake socket's reads and writes follow Wire and the fault script:
// EINTR, spurious EAGAIN, short transfers, ECONNRESET, EPIPE, EOF and SO_ERROR.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz/transport_harness.h"
#include "fuzz/transport_targets.h"
#include "transports/common/driver.h"
#include "transports/posix/connection.h"
#include "transports/posix/internal/sys.h"

namespace sansio_tls::fuzz {
namespace {

// Far above any descriptor the process opens (RLIMIT_NOFILE is 1024 here).
constexpr int kFakeFd = 1 << 20;

struct FakeKernel {
  Wire* wire = nullptr;
  Faults* faults = nullptr;
  int closes = 0;
  bool shut_wr = false;
  bool reset_reported = false;
  void CheckOpen(const char* call) const {
    FUZZ_CHECK(closes == 0, "%s on the connection's socket after close()", call);
  }
};
FakeKernel* g_kernel = nullptr;

bool Fake(int fd) { return fd == kFakeFd && g_kernel != nullptr; }

int Fail(int err) {
  errno = err;
  return -1;
}

}  // namespace
}  // namespace sansio_tls::fuzz

namespace sansio_tls::posix::sys {

using fuzz::FaultKind;
using fuzz::g_kernel;

ssize_t Send(int fd, const void* data, size_t size, int flags) {
  if (!fuzz::Fake(fd)) return ::send(fd, data, size, flags);
  g_kernel->CheckOpen("send");
  FUZZ_CHECK(flags & MSG_NOSIGNAL, "send without MSG_NOSIGNAL");
  fuzz::Wire& w = *g_kernel->wire;
  if (w.so_error) return fuzz::Fail(std::exchange(w.so_error, 0));
  if (g_kernel->shut_wr) return fuzz::Fail(EPIPE);
  if (w.reset) return fuzz::Fail(ECONNRESET);
  if (w.client_gone) return fuzz::Fail(EPIPE);
  fuzz::Fault f = g_kernel->faults->Next();
  if (f.kind == FaultKind::kInterrupt) return fuzz::Fail(EINTR);
  if (f.kind == FaultKind::kWouldBlock) return fuzz::Fail(EAGAIN);
  size_t n = std::min(size, w.send_room());
  if (f.kind == FaultKind::kShort) n = std::min(n, f.cap);
  if (n == 0) return fuzz::Fail(EAGAIN);
  const uint8_t* p = static_cast<const uint8_t*>(data);
  w.to_client.insert(w.to_client.end(), p, p + n);
  return static_cast<ssize_t>(n);
}

ssize_t Recv(int fd, void* out, size_t size, int flags) {
  if (!fuzz::Fake(fd)) return ::recv(fd, out, size, flags);
  g_kernel->CheckOpen("recv");
  fuzz::Wire& w = *g_kernel->wire;
  if (w.so_error) return fuzz::Fail(std::exchange(w.so_error, 0));
  fuzz::Fault f = g_kernel->faults->Next();
  if (f.kind == FaultKind::kInterrupt) return fuzz::Fail(EINTR);
  if (size == 0) return 0;
  if (!w.to_server.empty()) {
    if (f.kind == FaultKind::kWouldBlock) return fuzz::Fail(EAGAIN);
    size_t n = std::min(size, w.to_server.size());
    if (f.kind == FaultKind::kShort) n = std::min(n, f.cap);
    std::copy_n(w.to_server.begin(), n, static_cast<uint8_t*>(out));
    w.to_server.erase(w.to_server.begin(), w.to_server.begin() + n);
    return static_cast<ssize_t>(n);
  }
  if (w.reset && !g_kernel->reset_reported) {
    g_kernel->reset_reported = true;
    return fuzz::Fail(ECONNRESET);
  }
  if (w.reset || w.client_fin) return 0;
  return fuzz::Fail(EAGAIN);
}

int Poll(pollfd* fds, nfds_t count, int timeout_ms) {
  for (nfds_t i = 0; i < count; ++i) {
    FUZZ_CHECK(!fuzz::Fake(fds[i].fd), "a blocking wait in the non-blocking driver");
  }
  return ::poll(fds, count, timeout_ms);
}

int Shutdown(int fd, int how) {
  if (!fuzz::Fake(fd)) return ::shutdown(fd, how);
  g_kernel->CheckOpen("shutdown");
  FUZZ_CHECK(how == SHUT_WR, "shutdown(%d)", how);
  g_kernel->shut_wr = true;
  g_kernel->wire->server_fin = true;
  return 0;
}

int Close(int fd) {
  if (!fuzz::Fake(fd)) return ::close(fd);
  g_kernel->CheckOpen("close");
  ++g_kernel->closes;
  g_kernel->wire->server_closed = true;
  g_kernel->wire->server_fin = true;
  return 0;
}

int Fcntl(int fd, int cmd, int arg) {
  if (!fuzz::Fake(fd)) return ::fcntl(fd, cmd, arg);
  g_kernel->CheckOpen("fcntl");
  (void)cmd;
  (void)arg;
  return 0;  // F_GETFL/F_GETFD: no flags; F_SETFL/F_SETFD: done
}

int GetSockOpt(int fd, int level, int name, void* value, socklen_t* len) {
  if (!fuzz::Fake(fd)) return ::getsockopt(fd, level, name, value, len);
  g_kernel->CheckOpen("getsockopt");
  FUZZ_CHECK(level == SOL_SOCKET && name == SO_ERROR && *len == sizeof(int), "getsockopt");
  int err = std::exchange(g_kernel->wire->so_error, 0);
  std::memcpy(value, &err, sizeof err);
  return 0;
}

int SetSockOpt(int fd, int level, int name, const void* value, socklen_t len) {
  if (!fuzz::Fake(fd)) return ::setsockopt(fd, level, name, value, len);
  g_kernel->CheckOpen("setsockopt");
  return 0;
}

}  // namespace sansio_tls::posix::sys

namespace sansio_tls::fuzz {
namespace {

// The epoll server's loop for one connection, level-triggered on the fake socket's state:
// Advance() when what the connection waits for is there (or it has not run yet), then the
// echo application, then close once done().
class PosixTarget : public Target {
 public:
  PosixTarget(Session session, Wire& wire, Faults& faults) : wire_(wire) {
    kernel_.wire = &wire;
    kernel_.faults = &faults;
    g_kernel = &kernel_;
    conn_ = posix::Connection::Adopt(posix::UniqueFd(kFakeFd), std::move(session));
    checker_ = std::make_unique<SessionChecker>(conn_->session());
  }
  ~PosixTarget() override {
    conn_.reset();
    FUZZ_CHECK(kernel_.closes == 1, "the socket was closed %d times", kernel_.closes);
    g_kernel = nullptr;
  }
  void set_sni_answer(SniAnswer a) { checker_->set_sni_answer(std::move(a)); }

  bool Turn() override {
    if (!conn_) return false;
    bool moved = false;
    uint64_t before = conn_->bytes_sent() + conn_->bytes_received();
    posix::Interest want = conn_->interest();
    if (!started_ || (want.want_read && wire_.readable()) ||
        (want.want_write && wire_.writable())) {
      started_ = true;
      conn_->Advance();
    }
    moved |= App();
    moved |= conn_->bytes_sent() + conn_->bytes_received() != before;
    if (conn_->done()) {
      // The outcome as the server reports it (transports/common/driver.h CloseError).
      clean_ = !conn_->close_error().has_value();
      if (clean_) {
        FUZZ_CHECK(conn_->session().finished() && conn_->peer_end() == posix::PeerEnd::kClean,
                   "done() without an error, yet not closed both ways");
      }
      conn_.reset();  // the server closes a done() connection
      moved = true;
    }
    return moved;
  }
  bool ended() const override { return !conn_; }
  bool ended_clean() const override { return clean_; }
  void SocketErrorNotified() override {
    if (conn_ && conn_->interest() == posix::Interest{}) conn_->CheckSocket();
  }
  void AppEnd() override {
    if (conn_ && !app_ended_) {
      app_ended_ = true;
      echo.pending.clear();  // an application that ends drops what it had not written
      conn_->TryEnd();
    }
  }
  size_t buffered_bytes() const override {
    return (conn_ ? conn_->buffered_bytes() : 0) + echo.pending.size();
  }
  bool handshake_done() const override { return handshake_done_; }
  std::string State() const override {
    if (!conn_) return "closed";
    const Session& s = conn_->session();
    char line[512];
    std::snprintf(line, sizeof line,
                  "interest r%d w%d, wire: to_server %zu fin %d reset %d gone %d to_client %zu "
                  "room %zu; session: hs %d failed %d wants_input %d readable %zu out %zu "
                  "close_sent %d peer_closed %d finished %d; echo pending %zu hold %d, app "
                  "ended %d, error %s",
                  conn_->interest().want_read, conn_->interest().want_write, wire_.to_server.size(),
                  wire_.client_fin, wire_.reset, wire_.client_gone, wire_.to_client.size(),
                  wire_.send_room(), s.handshake_done(), s.failed(), s.wants_input(),
                  s.readable_bytes(), s.pending_output_bytes(), s.close_sent(), s.peer_closed(),
                  s.finished(), echo.pending.size(), echo.hold, app_ended_,
                  conn_->error() ? conn_->error()->code.c_str() : "-");
    return line;
  }

 private:
  // The echo application: drains events (answering pauses), writes back what it read,
  // reads while its backlog allows, ends once the peer ended and the echo is out.
  bool App() {
    // A pause answered while draining (SNI) leaves output to send: advance, as the server
    // does after its event handlers.
    bool moved = checker_->Drain() > 0;
    if (moved) conn_->Advance();
    handshake_done_ |= conn_->session().handshake_done();
    uint8_t buf[8192];
    for (;;) {
      if (!echo.pending.empty() && !app_ended_) {
        size_t n = conn_->TryWrite(
            {reinterpret_cast<const uint8_t*>(echo.pending.data()), echo.pending.size()});
        echo.pending.erase(0, n);
        moved |= n > 0;
      }
      if (!echo.wants_read()) break;
      size_t n = conn_->TryRead(buf);
      if (n == 0) break;
      echo.Received({buf, n});
      if (!app_ended_) echo.pending.append(reinterpret_cast<char*>(buf), n);
      moved = true;
    }
    if (checker_->Drain() > 0) {
      conn_->Advance();
      moved = true;
    }
    if (!app_ended_ && conn_->peer_end() != posix::PeerEnd::kOpen && echo.pending.empty() &&
        conn_->session().readable_bytes() == 0) {
      AppEnd();
      moved = true;
    }
    checker_->CheckSticky();
    return moved;
  }

  Wire& wire_;
  FakeKernel kernel_;
  std::unique_ptr<posix::Connection> conn_;
  std::unique_ptr<SessionChecker> checker_;
  bool started_ = false;
  bool app_ended_ = false;
  bool clean_ = false;
  bool handshake_done_ = false;
};

}  // namespace

void RunPosix(Input& script, Faults& faults, RunSetup setup) {
  auto server = Session::Create(setup.server_context, setup.server_options);
  FUZZ_CHECK(server.ok(), "Session::Create failed");
  Wire wire;
  Peer peer(std::move(*setup.client), wire);
  PosixTarget target(std::move(server).value(), wire, faults);
  target.set_sni_answer(std::move(setup.sni_answer));
  RunScript(script, faults, target, peer, wire, setup.compatible);
}

}  // namespace sansio_tls::fuzz
