// Internal to the POSIX transport: the system calls a connection makes on its socket, in one
// place. transports/posix/sys.cc passes them to the kernel; the transport fuzz target
// (fuzz/transport_posix.cc) links a fake kernel in their place (with
// //transports/posix:posix_without_syscalls), so the code above them (EINTR and EAGAIN
// handling, short reads and writes, errors, half-close) runs against every outcome.
// Same signatures, return values and errno as the calls they stand for. Not part of the API.
#ifndef SANSIO_TLS_TRANSPORTS_POSIX_INTERNAL_SYS_H_
#define SANSIO_TLS_TRANSPORTS_POSIX_INTERNAL_SYS_H_

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>

namespace sansio_tls::posix::sys {

ssize_t Send(int fd, const void* data, size_t size, int flags);  // send(2)
ssize_t Recv(int fd, void* out, size_t size, int flags);         // recv(2)
int Poll(pollfd* fds, nfds_t count, int timeout_ms);             // poll(2)
int Shutdown(int fd, int how);                                   // shutdown(2)
int Close(int fd);                                               // close(2)
int Fcntl(int fd, int cmd, int arg);                             // fcntl(2), int argument
int GetSockOpt(int fd, int level, int name, void* value, socklen_t* len);
int SetSockOpt(int fd, int level, int name, const void* value, socklen_t len);

}  // namespace sansio_tls::posix::sys

#endif  // SANSIO_TLS_TRANSPORTS_POSIX_INTERNAL_SYS_H_
