#include "tests/common/stuck_peer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <span>

#include "tests/common/test_data.h"
#include "transports/posix/connection.h"
#include "transports/posix/socket.h"

namespace sansio_tls::test_stuck_peer {

using posix::Deadline;
using std::chrono::milliseconds;

namespace {

std::span<const uint8_t> AsBytes(const std::string& s, size_t from) {
  return {reinterpret_cast<const uint8_t*>(s.data()) + from, s.size() - from};
}

// Closes |conn|'s socket as a departed process would, without Connection::Close's polite
// drain: the descriptor number is taken over by /dev/null (dup2 closes the socket
// atomically), which the Connection closes later.
void Vanish(posix::Connection& conn) {
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ::dup2(devnull, conn.fd());
  ::close(devnull);
}

}  // namespace

Outcome WriteWithoutReadingThenLeave(uint16_t port, std::shared_ptr<const Context> client,
                                     Ending ending, milliseconds stall) {
  Outcome out;
  posix::ConnectOptions options;
  options.session.servername = "localhost";
  options.handshake_timeout = milliseconds(20000);
  auto connected = posix::Connect("127.0.0.1", port, std::move(client), options);
  if (!connected.ok()) {
    out.error = connected.error().code + ": " + connected.error().message;
    return out;
  }
  out.handshake_ok = true;
  posix::Connection& conn = **connected;
  const std::string payload = test_data::Payload(64 << 20, 11);

  // Write as fast as the server takes it, never reading, until it stops taking.
  Deadline give_up = Deadline::After(milliseconds(30000));
  auto last_progress = posix::Clock::now();
  while (!give_up.expired() && posix::Clock::now() - last_progress < stall &&
         out.written < payload.size()) {
    size_t n = conn.TryWrite(AsBytes(payload, out.written));
    if (n > 0) {
      out.written += n;
      last_progress = posix::Clock::now();
    } else if (conn.error()) {
      out.error = conn.error()->code;
      return out;
    } else {
      posix::WaitFd(conn.fd(), false, true, Deadline::After(milliseconds(50)));
      conn.Advance();
    }
  }
  if (out.written == payload.size()) {
    out.error = "the server never held the client back";
    return out;
  }

  switch (ending) {
    case Ending::kReset: {
      linger hard{1, 0};
      ::setsockopt(conn.fd(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      Vanish(conn);
      return out;
    }
    case Ending::kFinThenGone:
      ::shutdown(conn.fd(), SHUT_WR);
      Vanish(conn);
      return out;
    case Ending::kFinAndDrain:
      break;
  }

  // Read the echo while the client's own accepted bytes go out; FIN once they have.
  uint8_t buf[64 * 1024];
  bool fin_sent = false;
  Deadline done_by = Deadline::After(milliseconds(30000));
  while (!done_by.expired()) {
    size_t n = conn.TryRead(buf);
    if (n > 0) {
      out.echoed.append(reinterpret_cast<char*>(buf), n);
      continue;
    }
    if (!fin_sent && conn.session().pending_write_bytes() == 0 &&
        conn.session().pending_output_bytes() == 0) {
      ::shutdown(conn.fd(), SHUT_WR);  // no close_notify: a truncated end for the server
      fin_sent = true;
    }
    if (conn.peer_end() != posix::PeerEnd::kOpen && conn.session().readable_bytes() == 0) {
      out.clean_end = conn.peer_end() == posix::PeerEnd::kClean;
      return out;
    }
    if (conn.error()) {
      out.error = conn.error()->code;
      return out;
    }
    posix::Interest in = conn.Advance();
    if (conn.session().readable_bytes() == 0 && conn.peer_end() == posix::PeerEnd::kOpen) {
      posix::WaitFd(conn.fd(), in.want_read, in.want_write, Deadline::After(milliseconds(50)));
    }
  }
  out.error = "timed out reading the echo";
  return out;
}

std::string EchoRoundTrip(uint16_t port, std::shared_ptr<const Context> client) {
  posix::ConnectOptions options;
  options.session.servername = "localhost";
  options.handshake_timeout = milliseconds(20000);
  auto connected = posix::Connect("127.0.0.1", port, std::move(client), options);
  if (!connected.ok()) return connected.error().code + ": " + connected.error().message;
  posix::Connection& conn = **connected;
  conn.set_timeout(milliseconds(20000));
  const std::string hi = "hi";
  if (auto w = conn.Write(AsBytes(hi, 0)); !w.ok()) return "write: " + w.error().code;
  std::string echoed;
  uint8_t buf[16];
  while (echoed.size() < hi.size()) {
    auto r = conn.Read(buf);
    if (!r.ok()) return "read: " + r.error().code;
    if (*r == 0) return "the server ended before echoing";
    echoed.append(reinterpret_cast<char*>(buf), *r);
  }
  if (echoed != hi) return "echo mismatch: " + echoed;
  if (auto e = conn.End()) return "end: " + e->code;
  for (;;) {
    auto r = conn.Read(buf);
    if (!r.ok()) return "reading the server's end: " + r.error().code;
    if (*r == 0) return "";
  }
}

bool WaitForZero(const std::function<size_t()>& held, milliseconds timeout) {
  Deadline deadline = Deadline::After(timeout);
  while (held() != 0) {
    if (deadline.expired()) return false;
    ::usleep(5000);
  }
  return true;
}

size_t OpenFds() {
  size_t n = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return 0;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n - 1;  // the directory's own descriptor
}

}  // namespace sansio_tls::test_stuck_peer
