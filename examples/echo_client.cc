// echo_client: the seed's client. Connects, prints "client connected authorized|
// unauthorized" (stderr), copies stdin to the connection and received data to stdout until
// stdin ends, then closes cleanly and waits (bounded) for the server's close.
//
//   echo_client [--transport=asio|posix|uv] [--host=127.0.0.1] [--port=8000] [--servername=NAME]
//               [--ca=F]... [--key=F --cert=F [--passphrase=P]] [--reject-unauthorized=B]
//               [--alpn=a,b] [--npn=a,b] [--min-version=V] [--max-version=V]
//               [--session-out=FILE] [--session-in=FILE] [--end-timeout-ms=N] [--json]
// With --json, events go to stderr as JSON lines (secureConnect, error, end); data stays on
// stdout. With --session-out, the end of stdin waits up to 2 s for the server's session
// ticket before ending (BoringSSL drops tickets that arrive after our close_notify).
// Exit status: 0 on a clean end; 1 on a handshake or authorization failure; 3 on any other
// failure (truncated end, reset, timeout); 2 on bad usage.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/context.h"
#include "examples/asio_backend.h"
#include "examples/example_util.h"
#include "examples/uv_backend.h"
#include "transports/posix/connection.h"

using namespace sansio_tls;
using namespace sansio_tls::examples;

namespace {

bool g_json = false;

int Usage(const std::string& error) {
  std::fprintf(stderr, "echo_client: %s\n", error.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags({"transport", "host", "port", "servername", "ca", "key", "cert", "passphrase",
               "alpn", "npn", "min-version", "max-version", "session-out", "session-in",
               "end-timeout-ms"},
              {"reject-unauthorized", "json"});
  if (auto err = flags.Parse(argc, argv)) return Usage(*err);
  std::string transport = flags.GetOr("transport", "asio");  // asio: examples/asio_backend.cc
  if (transport != "posix" && transport != "asio" && transport != "uv") {
    return Usage("--transport=" + transport + " is not available (asio, posix, uv)");
  }
  g_json = flags.GetBool("json", false);

  ContextOptions options{.role = Role::kClient};
  std::string error;
  for (const std::string& path : flags.GetAll("ca")) {
    auto pem = ReadFile(path, &error);
    if (!pem) return Usage(error);
    options.ca_pems.push_back(*pem);
  }
  if (flags.Has("key") != flags.Has("cert")) return Usage("--key and --cert go together");
  if (flags.Has("key")) {
    auto key = ReadFile(*flags.Get("key"), &error);
    auto cert = ReadFile(*flags.Get("cert"), &error);
    if (!key || !cert) return Usage(error);
    options.credentials = {.key_pem = *key,
                           .passphrase = flags.GetOr("passphrase", ""),
                           .cert_chain_pem = *cert};
  }
  options.reject_unauthorized = flags.GetBool("reject-unauthorized", true);
  options.alpn_protocols = SplitCommas(flags.GetOr("alpn", ""));
  options.npn_protocols = SplitCommas(flags.GetOr("npn", ""));
  for (auto [flag, field] : {std::pair{"min-version", &options.min_version},
                             std::pair{"max-version", &options.max_version}}) {
    if (auto v = flags.Get(flag)) {
      auto parsed = ParseVersion(*v);
      if (!parsed) return Usage(std::string("--") + flag + " takes 1.2 or 1.3");
      *field = *parsed;
    }
  }
  auto port = ParseUint(flags.GetOr("port", "8000"), 65535);
  if (!port) return Usage("--port takes 0..65535");
  auto end_timeout = ParseUint(flags.GetOr("end-timeout-ms", "10000"), 1u << 30);
  if (!end_timeout) return Usage("--end-timeout-ms takes a number");
  auto context = Context::Create(options);
  if (!context.ok()) return Usage(context.error().code + ": " + context.error().message);

  posix::ConnectOptions connect_options;
  connect_options.session.servername = flags.GetOr("servername", "");
  if (auto path = flags.Get("session-in")) {
    auto bytes = ReadFile(*path, &error);
    if (!bytes) return Usage(error);
    auto saved = SavedSession::FromBytes(
        {reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()});
    if (!saved.ok()) return Usage("--session-in: " + saved.error().message);
    connect_options.session.session = saved.value();
  }
  if (transport == "asio") {
    return asio_backend::EchoClient(
        *context, {.host = flags.GetOr("host", "127.0.0.1"),
                   .port = static_cast<uint16_t>(*port),
                   .session = connect_options.session,
                   .end_timeout = std::chrono::milliseconds(*end_timeout),
                   .json = g_json,
                   .session_out = flags.Get("session-out")});
  }
  if (transport == "uv") {
    return uv_backend::EchoClient(
        *context, {.host = flags.GetOr("host", "127.0.0.1"),
                   .port = static_cast<uint16_t>(*port),
                   .session = connect_options.session,
                   .end_timeout = std::chrono::milliseconds(*end_timeout),
                   .json = g_json,
                   .session_out = flags.Get("session-out")});
  }
  auto conn_or = posix::Connect(flags.GetOr("host", "127.0.0.1"), static_cast<uint16_t>(*port),
                                *context, connect_options);
  if (!conn_or.ok()) {
    ReportClientError(conn_or.error(), g_json);
    return 1;
  }
  posix::Connection& conn = **conn_or;
  if (g_json) {
    PrintEvent(HandshakeJson("secureConnect", conn.session()));
  } else {
    PrintEvent(std::string("client connected ") +
               (conn.handshake_info().authorized ? "authorized" : "unauthorized"));
  }

  // The loop: stdin -> connection, connection -> stdout, until the connection is done.
  bool stdin_open = true;
  std::vector<uint8_t> pending;  // read from stdin, not yet accepted by the connection
  size_t pending_pos = 0;
  std::optional<posix::Deadline> end_deadline;
  bool timed_out = false;
  // BoringSSL ignores TLS 1.3 tickets that arrive after our close_notify: with
  // --session-out, stdin's end waits (bounded) for one before ending the connection.
  const bool want_ticket = flags.Has("session-out");
  std::optional<posix::Deadline> ticket_deadline;
  uint8_t buf[16384];
  for (;;) {
    conn.Advance();
    while (auto ev = conn.NextEvent()) {
      // Data is read below; PeerClosed/PeerTruncated are tracked by the connection.
      if (ev->kind == EventKind::kPeerClosed || ev->kind == EventKind::kPeerTruncated) {
        conn.TryEnd();  // like Node's default allowHalfOpen=false
        if (!end_deadline) {
          end_deadline = posix::Deadline::After(std::chrono::milliseconds(*end_timeout));
        }
      }
    }
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
    fds[0].events = static_cast<short>((in.want_read ? POLLIN : 0) |
                                       (in.want_write ? POLLOUT : 0));
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
        end_deadline = posix::Deadline::After(std::chrono::milliseconds(*end_timeout));
        if (want_ticket) {  // end once the ticket is here, or after a short wait
          ticket_deadline = posix::Deadline::After(std::chrono::milliseconds(2000));
        } else {
          conn.TryEnd();
        }
      }
    }
  }

  if (auto path = flags.Get("session-out")) {
    // The newest ticket or session the server sent (TLS 1.3 tickets come after the
    // handshake, so this is taken at the end).
    if (auto saved = conn.session().saved_session()) {
      std::vector<uint8_t> bytes = saved->ToBytes();
      std::FILE* f = std::fopen(path->c_str(), "wb");
      if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
        PrintEvent("echo_client: cannot write --session-out file " + *path);
      }
      if (f) std::fclose(f);
    } else {
      PrintEvent("echo_client: the server sent no resumable session");
    }
  }

  std::optional<Error> failure = conn.error();
  if (!failure && timed_out) {
    failure = Error{"ETIMEDOUT", "the server did not close within the end timeout",
                    std::nullopt, false};
  }
  if (!failure && conn.peer_end() == posix::PeerEnd::kTruncated) {
    failure = Error{posix::kErrTruncated, "the server's stream ended without close_notify",
                    std::nullopt, false};
  }
  bool clean = !failure && conn.peer_end() == posix::PeerEnd::kClean;
  if (failure) ReportClientError(*failure, g_json);
  if (g_json) {
    PrintEvent(std::string("{\"event\":\"end\",\"clean\":") + (clean ? "true" : "false") + "}");
  }
  conn.Close();
  return clean ? 0 : 3;
}
