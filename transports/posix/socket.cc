#include "transports/posix/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "transports/common/net.h"
#include "transports/posix/internal/sys.h"

namespace sansio_tls::posix {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) sys::Close(fd_);  // EINTR from close still releases the descriptor on Linux
  fd_ = fd;
}

Deadline Deadline::After(std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) return Never();
  return Deadline(Clock::now() + timeout);
}

int Deadline::PollTimeoutMs() const {
  if (never_) return -1;
  auto left = when_ - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
}

Error ErrnoError(int err, std::string_view during) {
  const char* name = strerrorname_np(err);
  return MakeError(name ? name : "E" + std::to_string(err),
                   std::string(during) + ": " + std::strerror(err));
}

namespace {

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

Result<AddrInfoPtr> Resolve(const std::string& host, uint16_t port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  std::string service = std::to_string(port);
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    std::string msg = "getaddrinfo " + (host.empty() ? std::string("(any)") : host) + ": ";
    msg += rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    return MakeError(errc::kDnsLookup, msg);
  }
  return AddrInfoPtr(res);
}

std::string Describe(const addrinfo* ai) {
  sockaddr_storage ss{};
  std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
  SocketAddress a = transport::AddressOf(ss);
  return (a.family == "IPv6" ? "[" + a.address + "]" : a.address) + ":" + std::to_string(a.port);
}

}  // namespace

SocketAddress LocalAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return transport::AddressOf(ss);
}

SocketAddress PeerAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return transport::AddressOf(ss);
}

int SetNonBlocking(int fd) {
  int fl = sys::Fcntl(fd, F_GETFL, 0);
  if (fl < 0 || sys::Fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return errno;
  int fdfl = sys::Fcntl(fd, F_GETFD, 0);
  if (fdfl < 0 || sys::Fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) != 0) return errno;
  return 0;
}

int SocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (sys::GetSockOpt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

int SetNoDelay(int fd) {
  int one = 1;
  if (sys::SetSockOpt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    // Not TCP (a Unix socket pair in a test, say): nothing to tune.
    if (errno == EOPNOTSUPP || errno == ENOPROTOOPT || errno == EINVAL) return 0;
    return errno;
  }
  return 0;
}

Result<UniqueFd> TcpConnect(const std::string& host, uint16_t port,
                            std::chrono::milliseconds timeout) {
  Deadline deadline = Deadline::After(timeout);
  auto resolved = Resolve(host, port, /*passive=*/false);
  if (!resolved.ok()) return resolved.error();
  Error last{"ECONNREFUSED", "connect " + host + ": no address to try", std::nullopt, false};
  for (const addrinfo* ai = resolved->get(); ai; ai = ai->ai_next) {
    if (deadline.expired()) break;
    UniqueFd fd(
        socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) {
      last = ErrnoError(errno, "socket");
      continue;
    }
    std::string where = "connect " + Describe(ai);
    int rc;
    do {
      rc = ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno != EINPROGRESS) {
      last = ErrnoError(errno, where);
      continue;
    }
    if (rc != 0) {
      int w = WaitFd(fd.get(), /*want_read=*/false, /*want_write=*/true, deadline);
      if (w != 0) {
        last = ErrnoError(w, where);
        continue;
      }
      if (int soerr = SocketError(fd.get()); soerr != 0) {
        last = ErrnoError(soerr, where);
        continue;
      }
    }
    if (int e = SetNoDelay(fd.get()); e != 0) return ErrnoError(e, "setsockopt TCP_NODELAY");
    return fd;
  }
  if (deadline.expired() && last.code != "ETIMEDOUT") {
    last = ErrnoError(ETIMEDOUT, "connect " + host + ":" + std::to_string(port));
  }
  return last;
}

Result<UniqueFd> TcpListen(const std::string& host, uint16_t port, int backlog, bool reuse_port) {
  auto resolved = Resolve(host, port, /*passive=*/true);
  if (!resolved.ok()) return resolved.error();
  // With no host, prefer an IPv6 wildcard that also takes IPv4 (dual stack).
  const addrinfo* pick = resolved->get();
  if (host.empty()) {
    for (const addrinfo* ai = resolved->get(); ai; ai = ai->ai_next) {
      if (ai->ai_family == AF_INET6) {
        pick = ai;
        break;
      }
    }
  }
  Error last{"EADDRNOTAVAIL", "listen " + host + ": no address", std::nullopt, false};
  for (const addrinfo* ai = pick; ai; ai = ai->ai_next) {
    UniqueFd fd(
        socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) {
      last = ErrnoError(errno, "socket");
      continue;
    }
    int one = 1, zero = 0;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      last = ErrnoError(errno, "SO_REUSEPORT");
      continue;
    }
    if (ai->ai_family == AF_INET6 && host.empty()) {
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    std::string where = "bind " + Describe(ai);
    if (bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last = ErrnoError(errno, where);
      continue;
    }
    if (listen(fd.get(), backlog) != 0) {
      last = ErrnoError(errno, "listen " + Describe(ai));
      continue;
    }
    return fd;
  }
  return last;
}

IoResult SendSome(int fd, std::span<const uint8_t> data) {
  for (;;) {
    ssize_t n = sys::Send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) return {static_cast<size_t>(n), 0, false};
    if (errno == EINTR) continue;
    return {0, errno == EWOULDBLOCK ? EAGAIN : errno, false};
  }
}

IoResult RecvSome(int fd, std::span<uint8_t> out) {
  for (;;) {
    ssize_t n = sys::Recv(fd, out.data(), out.size(), 0);
    if (n > 0) return {static_cast<size_t>(n), 0, false};
    if (n == 0) return {0, 0, true};
    if (errno == EINTR) continue;
    return {0, errno == EWOULDBLOCK ? EAGAIN : errno, false};
  }
}

int WaitFd(int fd, bool want_read, bool want_write, const Deadline& deadline) {
  pollfd p{fd, static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0)), 0};
  for (;;) {
    int rc = sys::Poll(&p, 1, deadline.PollTimeoutMs());
    if (rc > 0) return 0;
    if (rc == 0) return ETIMEDOUT;
    if (errno != EINTR) return errno;
    if (deadline.expired()) return ETIMEDOUT;
  }
}

}  // namespace sansio_tls::posix
