// Socket helpers of the POSIX transport: an owned file descriptor, deadlines on the monotonic
// clock, TCP connect/listen with the options every connection of this library uses, and
// send/recv that absorb EINTR and never raise SIGPIPE.
#ifndef SANSIO_TLS_TRANSPORTS_POSIX_SOCKET_H_
#define SANSIO_TLS_TRANSPORTS_POSIX_SOCKET_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "transports/common/transport_types.h"

namespace sansio_tls::posix {

// UniqueFd owns a file descriptor and closes it exactly once (-1: none).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // release gives up ownership and returns the descriptor.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // reset closes the owned descriptor (if any) and owns |fd| instead.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

using Clock = std::chrono::steady_clock;

// Deadline is a point on the monotonic clock, or never.
class Deadline {
 public:
  // A timeout <= 0 means no deadline.
  static Deadline After(std::chrono::milliseconds timeout);
  static Deadline Never() { return Deadline(); }
  static Deadline At(Clock::time_point when) { return Deadline(when); }

  bool never() const { return never_; }
  bool expired() const { return !never_ && Clock::now() >= when_; }
  Clock::time_point when() const { return when_; }
  // Milliseconds left for poll()/epoll_wait(), rounded up; -1 when never, 0 when expired.
  int PollTimeoutMs() const;

 private:
  Deadline() = default;
  explicit Deadline(Clock::time_point when) : never_(false), when_(when) {}
  bool never_ = true;
  Clock::time_point when_{};
};

// ErrnoError makes an Error whose code is errno's name ("ECONNREFUSED") and whose message
// is "<during>: <strerror>".
Error ErrnoError(int err, std::string_view during);

// An endpoint of a connected or listening socket, as Node reports it.
using transport::SocketAddress;  // transports/common/transport_types.h
SocketAddress LocalAddress(int fd);
SocketAddress PeerAddress(int fd);

// Marks |fd| non-blocking and close-on-exec. Returns errno on failure, 0 on success.
int SetNonBlocking(int fd);
// Sets TCP_NODELAY (without it a TLS 1.3 server's tickets followed by a small write stall
// about 40 ms on delayed ACKs). Ignored on non-TCP sockets. Returns errno or 0.
int SetNoDelay(int fd);
// The socket's pending error (SO_ERROR, which reading clears), e.g. ECONNRESET after the
// peer's reset; 0 when none.
int SocketError(int fd);

// TcpConnect resolves |host| (getaddrinfo: names, IPv4 and IPv6 literals) and connects to
// the first address that accepts within what is left of |timeout| (<= 0: no limit; name
// resolution itself is not bounded by it). The socket is non-blocking, close-on-exec and
// has TCP_NODELAY. Errors: ETIMEDOUT, the last connect errno (ECONNREFUSED ...), or
// ERR_DNS_LOOKUP (EAI_* message) when the name does not resolve.
Result<UniqueFd> TcpConnect(const std::string& host, uint16_t port,
                            std::chrono::milliseconds timeout);

// TcpListen binds |host| (an address literal or name; empty: all IPv6+IPv4 addresses) and
// |port| (0: any) with SO_REUSEADDR (and SO_REUSEPORT when |reuse_port|: see
// ServerOptions::reuse_port) and listens. The socket is non-blocking, close-on-exec.
Result<UniqueFd> TcpListen(const std::string& host, uint16_t port, int backlog,
                           bool reuse_port = false);

// Outcome of one send/recv on a non-blocking socket.
struct IoResult {
  size_t bytes = 0;  // > 0 when progress was made
  int err = 0;       // 0, EAGAIN (would block), or the failure's errno
  bool eof = false;  // recv only: orderly end of the peer's stream
};
// SendSome sends what the kernel takes now, with MSG_NOSIGNAL (no SIGPIPE), retrying on
// EINTR. A partial send is progress, not an error.
IoResult SendSome(int fd, std::span<const uint8_t> data);
// RecvSome receives what is available now, retrying on EINTR.
IoResult RecvSome(int fd, std::span<uint8_t> out);

// WaitFd polls |fd| for the given readiness until |deadline|, retrying on EINTR with the
// time left. Returns 0 when ready (also on POLLERR/POLLHUP, which the next I/O call
// reports), ETIMEDOUT when the deadline passed, or poll's errno.
int WaitFd(int fd, bool want_read, bool want_write, const Deadline& deadline);

}  // namespace sansio_tls::posix

#endif  // SANSIO_TLS_TRANSPORTS_POSIX_SOCKET_H_
