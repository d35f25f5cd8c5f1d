// The system calls of internal/sys.h, passed to the kernel.
#include "transports/posix/internal/sys.h"

#include <fcntl.h>
#include <unistd.h>

namespace sansio_tls::posix::sys {

ssize_t Send(int fd, const void* data, size_t size, int flags) {
  return ::send(fd, data, size, flags);
}
ssize_t Recv(int fd, void* out, size_t size, int flags) { return ::recv(fd, out, size, flags); }
int Poll(pollfd* fds, nfds_t count, int timeout_ms) { return ::poll(fds, count, timeout_ms); }
int Shutdown(int fd, int how) { return ::shutdown(fd, how); }
int Close(int fd) { return ::close(fd); }
int Fcntl(int fd, int cmd, int arg) { return ::fcntl(fd, cmd, arg); }
int GetSockOpt(int fd, int level, int name, void* value, socklen_t* len) {
  return ::getsockopt(fd, level, name, value, len);
}
int SetSockOpt(int fd, int level, int name, const void* value, socklen_t len) {
  return ::setsockopt(fd, level, name, value, len);
}

}  // namespace sansio_tls::posix::sys
