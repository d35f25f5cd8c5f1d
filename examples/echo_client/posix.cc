// echo_client on the POSIX transport: one poll() loop over the connection and stdin.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

#include "examples/common/cli.h"
#include "examples/common/output.h"
#include "examples/echo_client/echo_client.h"
#include "transports/posix/connection.h"

namespace sansio_tls::examples::echo_client {

int RunPosix(const EchoClientConfig& config) {
  // The handshake runs below, once the trace's hook is in place.
  posix::ConnectOptions options{.session = config.session, .complete_handshake = false};
  auto conn_or = posix::Connect(config.host, config.port, config.context, options);
  if (!conn_or.ok()) {
    PrintClientFailure(conn_or.error(), config.json);
    return kExitFailure;
  }
  posix::Connection& conn = **conn_or;
  const bool json = config.json;
  conn.set_event_hook([json](posix::Connection&, const Event& e) {
    if (e.kind() == EventKind::kTrace) PrintTrace(e.get<TraceMessage>(), Role::kClient, json);
  });
  conn.set_timeout(options.handshake_timeout);
  auto handshake = conn.Handshake();
  conn.set_timeout(std::chrono::milliseconds(0));
  if (!handshake.ok()) {
    PrintClientFailure(handshake.error(), config.json);
    conn.Close();
    return kExitFailure;
  }
  PrintSecureConnect(conn.session(), config.json);

  // The loop: stdin -> connection, connection -> stdout, until the connection is done.
  bool stdin_open = true;
  std::vector<uint8_t> pending;  // read from stdin, not yet accepted by the connection
  size_t pending_pos = 0;
  std::optional<posix::Deadline> end_deadline;
  bool timed_out = false;
  // With --session-out, stdin's end waits (bounded) for a ticket before ending.
  const bool want_ticket = config.session_out.has_value();
  std::optional<posix::Deadline> ticket_deadline;
  uint8_t buf[16384];
  // Events: traces are printed; the peer's end ends our side too.
  auto drain_events = [&] {
    while (auto ev = conn.NextEvent()) {
      // Data is read below; PeerClosed/PeerTruncated are tracked by the connection.
      if (ev->kind() == EventKind::kTrace) PrintTrace(ev->get<TraceMessage>(), Role::kClient, json);
      if (ev->kind() == EventKind::kPeerClosed || ev->kind() == EventKind::kPeerTruncated) {
        conn.TryEnd();  // like Node's default allowHalfOpen=false
        if (!end_deadline) end_deadline = posix::Deadline::After(config.end_timeout);
      }
    }
  };
  for (;;) {
    conn.Advance();
    drain_events();
    while (size_t n = conn.TryRead(buf)) {
      if (!WriteAll(STDOUT_FILENO, {reinterpret_cast<char*>(buf), n})) break;
    }
    if (pending_pos < pending.size()) {
      pending_pos += conn.TryWrite({pending.data() + pending_pos, pending.size() - pending_pos});
      if (pending_pos == pending.size()) {
        pending.clear();
        pending_pos = 0;
      }
    }
    if (ticket_deadline && (conn.session().saved_session() || ticket_deadline->expired() ||
                            conn.peer_end() != posix::PeerEnd::kOpen)) {
      ticket_deadline.reset();
      conn.TryEnd();
    }
    if (conn.done()) break;
    if (end_deadline && end_deadline->expired()) {
      timed_out = true;
      break;
    }

    pollfd fds[2] = {{conn.fd(), 0, 0}, {STDIN_FILENO, 0, 0}};
    posix::Interest in = conn.interest();
    fds[0].events = static_cast<short>((in.want_read ? POLLIN : 0) | (in.want_write ? POLLOUT : 0));
    bool want_stdin = stdin_open && pending.empty() && !conn.session().close_sent();
    fds[1].events = want_stdin ? POLLIN : 0;
    int timeout = ticket_deadline ? std::min(ticket_deadline->PollTimeoutMs(), 50)
                  : end_deadline  ? end_deadline->PollTimeoutMs()
                                  : -1;
    int rc = ::poll(fds, 2, timeout);
    if (rc < 0 && errno != EINTR) break;
    if (want_stdin && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n > 0) {
        pending.assign(buf, buf + n);
        pending_pos = 0;
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        stdin_open = false;
        end_deadline = posix::Deadline::After(config.end_timeout);
        if (want_ticket) {  // end once the ticket is here, or after a short wait
          ticket_deadline = posix::Deadline::After(kTicketWait);
        } else {
          conn.TryEnd();
        }
      }
    }
  }

  // TryRead, TryWrite and TryEnd advance the connection too: what they produced after the
  // last drain (e.g. the trace of the server's close_notify) is still queued.
  drain_events();

  std::optional<Error> failure = conn.error();
  if (!failure && timed_out) {
    failure = MakeError(errc::kShutdownTimeout, "the server did not close within the end timeout");
  }
  int status =
      EndOfConnection(config, conn.session(), failure, conn.peer_end() == posix::PeerEnd::kClean,
                      conn.peer_end() == posix::PeerEnd::kTruncated);
  conn.Close();
  return status;
}

}  // namespace sansio_tls::examples::echo_client
