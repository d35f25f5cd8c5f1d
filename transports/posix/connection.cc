#include "transports/posix/connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "transports/posix/internal/sys.h"

namespace sansio_tls::posix {

namespace {

using transport::ReadBuffer;
using transport::Tick;

}  // namespace

Connection::Connection(UniqueFd fd, Session session)
    : fd_(std::move(fd)), io_(std::move(session)) {}

Connection::~Connection() { Close(); }

std::unique_ptr<Connection> Connection::Adopt(UniqueFd fd, Session session) {
  SetNonBlocking(fd.get());
  SetNoDelay(fd.get());
  Tick(session);
  std::unique_ptr<Connection> c(new Connection(std::move(fd), std::move(session)));
  // Events the session queued while it was created (none today) or before adoption stay
  // queued for NextEvent().
  return c;
}

size_t Connection::buffered_bytes() const {
  const Session& s = io_.session();
  return s.pending_output_bytes() + s.pending_write_bytes() + s.readable_bytes();
}

// ---- The driver loop ------------------------------------------------------------------

bool Connection::CheckSocket() {
  if (!fd_.valid() || io_.send_broken()) return false;
  int err = SocketError(fd_.get());
  if (err == 0) return false;
  io_.SocketFailed(ErrnoError(err, "socket"));
  Advance();
  return true;
}

void Connection::OnTimer(Timestamp now) {
  if (!fd_.valid()) return;
  io_.OnTimer(now);
  Advance();
}

Interest Connection::Advance() {
  bool blocked_write = false, blocked_read = false;
  if (!fd_.valid()) return interest_ = {};
  Tick(io_.session());
  for (;;) {
    bool progress = false;
    // 1. Write the session's pending ciphertext; release what the kernel took.
    blocked_write = false;
    for (std::span<const uint8_t> out; !(out = io_.ToSend()).empty();) {
      IoResult r = SendSome(fd_.get(), out);
      if (r.bytes > 0) {
        io_.Sent(r.bytes);
        progress = true;
      } else if (r.err == EAGAIN) {
        blocked_write = true;
        break;
      } else {
        // EPIPE, ECONNRESET...: nothing more can be delivered. Progress: the input side
        // gets one more look (done() decides whether it still can move).
        io_.SendFailed(ErrnoError(r.err, "send"));
        progress = true;
      }
    }
    // Our close_notify (or fatal alert) is out: half-close, as Node's end() does.
    if (io_.ShouldShutdownSend()) {
      sys::Shutdown(fd_.get(), SHUT_WR);
      io_.ShutdownSent();
    }
    // 2. Feed what the socket has while the session wants it, no more than it takes.
    blocked_read = false;
    if (size_t limit = io_.ReadLimit(); limit > 0) {
      std::span<uint8_t> buf = ReadBuffer().first(limit);
      IoResult r = RecvSome(fd_.get(), buf);
      if (r.bytes > 0) {
        io_.Received(buf.first(r.bytes));
        progress = true;
      } else if (r.eof) {
        io_.ReceivedEnd();
        progress = true;
      } else if (r.err == EAGAIN) {
        blocked_read = true;
      } else {  // ECONNRESET and the like: the stream ended abnormally
        io_.ReceiveFailed(ErrnoError(r.err, "recv"));
        progress = true;
      }
    }
    // 3. Events stay queued for the caller. 4. Repeat until nothing moves.
    if (!progress) break;
  }
  interest_.want_write = blocked_write;
  interest_.want_read = blocked_read;
  if (advance_hook_) advance_hook_();
  return interest_;
}

std::optional<Event> Connection::NextEvent() { return io_.session().NextEvent(); }

bool Connection::DrainEvents() {
  bool any = false;
  while (auto e = io_.session().NextEvent()) {
    any = true;
    if (event_hook_) event_hook_(*this, *e);
  }
  return any;
}

bool Connection::done() const { return !fd_.valid() || io_.done(); }

// ---- Non-blocking use -----------------------------------------------------------------

size_t Connection::TryRead(std::span<uint8_t> out) {
  size_t n = io_.session().Read(out);
  if (n > 0) Advance();
  return n;
}

size_t Connection::TryWrite(std::span<const uint8_t> data) {
  if (io_.send_broken() || io_.session().failed() || io_.session().close_sent() || !fd_.valid())
    return 0;
  size_t n = io_.session().Write(data);
  if (n < data.size()) write_blocked_ = true;
  Advance();
  return n;
}

bool Connection::TakeWritable() {
  if (!write_blocked_ || io_.session().pending_output_bytes() > 0) return false;
  if (!io_.session().handshake_done() && !io_.session().failed()) return false;
  write_blocked_ = false;
  return true;
}

void Connection::TryEnd() {
  io_.session().Close();
  Advance();
}

// ---- Blocking use ---------------------------------------------------------------------

Error Connection::TimeoutError(bool handshake) const {
  if (handshake) return transport::HandshakeTimeoutError(timeout_);
  return MakeError("ETIMEDOUT", "no progress within " + std::to_string(timeout_.count()) + " ms");
}

std::optional<Error> Connection::Wait(const Deadline& deadline, bool handshake) {
  if (!interest_.want_read && !interest_.want_write) {
    return MakeError("ERR_TLS_INTERNAL", "connection stalled: nothing to wait for");
  }
  int w = WaitFd(fd_.get(), interest_.want_read, interest_.want_write, deadline);
  if (w == ETIMEDOUT) return TimeoutError(handshake);
  if (w != 0) return ErrnoError(w, "poll");
  return std::nullopt;
}

// The connection as the shared steps see it.
struct Connection::StepView {
  transport::Driver& io;
  Connection& conn;
  void DrainEvents() { conn.DrainEvents(); }
};

template <typename Step>
Result<size_t> Connection::Run(Step&& step, Deadline deadline, bool progress_renews) {
  using transport::Action;
  StepView view{io_, *this};
  // A blocking call has the connection to itself. Plaintext there is goes to the caller
  // before our output is flushed (Advance flushes it either way).
  const transport::Roles roles{.holds_input = true, .can_write = false};
  bool advanced = false;
  uint64_t sent = io_.bytes_sent();
  for (;;) {
    Action a = step(view, roles);
    if (a.kind == Action::kComplete) {
      if (a.outcome == transport::Outcome::kOk) return a.n;
      if (a.outcome == transport::Outcome::kPeerClosed) return size_t{0};
      return transport::OutcomeError(io_, a.outcome);
    }
    if (a.kind == Action::kWaitApp) return transport::PauseUnansweredError();
    // The step needs the socket (to send, shut the sending side, or read): Advance moves it
    // as far as it goes without waiting; when the step still needs it after that, wait. An
    // event the hook handled (a pause it answered) may have made more to send: advance again.
    if (!advanced) {
      Advance();
      advanced = !DrainEvents();
      continue;
    }
    if (progress_renews && io_.bytes_sent() != sent) {
      sent = io_.bytes_sent();
      deadline = Deadline::After(timeout_);
    }
    if (auto e = Wait(deadline, !io_.session().handshake_done())) return *std::move(e);
    advanced = false;
  }
}

namespace {

auto Handshaking() {
  return [](auto& c, const transport::Roles& r) { return transport::HandshakeStep(c, r); };
}

}  // namespace

Result<HandshakeInfo> Connection::Handshake() {
  if (!fd_.valid()) return MakeError("EBADF", "the connection is closed");
  if (auto done = Run(Handshaking(), Deadline::After(timeout_)); !done.ok()) return done.error();
  return io_.session().handshake_info();
}

Result<size_t> Connection::Read(std::span<uint8_t> out) {
  if (!fd_.valid()) return MakeError("EBADF", "the connection is closed");
  if (out.empty()) return size_t{0};
  auto read_plaintext = [&] {
    size_t n = io_.session().Read(out);
    Advance();  // room was made
    return n;
  };
  return Run([&](auto& c, const auto& r) { return transport::ReadStep(c, r, read_plaintext); },
             Deadline::After(timeout_));
}

Result<size_t> Connection::Write(std::span<const uint8_t> data) {
  if (!fd_.valid()) return MakeError("EBADF", "the connection is closed");
  if (data.empty()) {  // nothing to send, but the handshake (and its failure) as for a write
    if (auto info = Handshake(); !info.ok()) return info.error();
    return size_t{0};
  }
  // The timeout bounds a wait without progress, not the whole transfer.
  for (size_t written = 0; written < data.size();) {
    std::optional<size_t> accepted;
    auto write_plaintext = [&] { return io_.session().Write(data.subspan(written)); };
    auto done =
        Run([&](auto& c,
                const auto& r) { return transport::WriteStep(c, r, write_plaintext, accepted); },
            Deadline::After(timeout_), /*progress_renews=*/true);
    if (!done.ok()) return done.error();
    written += *done;
  }
  return data.size();
}

std::optional<Error> Connection::End() {
  if (!fd_.valid()) return MakeError("EBADF", "the connection is closed");
  Deadline deadline = Deadline::After(timeout_);
  if (!io_.session().handshake_done() && !io_.session().failed()) {  // close_notify follows it
    if (auto done = Run(Handshaking(), deadline); !done.ok()) return done.error();
  }
  bool started = false;
  auto done = Run(
      [&](auto& c, const auto& r) {
        return transport::ShutdownStep(c, r, /*send_only=*/true, /*discard_unread=*/true, started);
      },
      deadline);
  if (!done.ok()) return done.error();
  return std::nullopt;
}

void Connection::Close() {
  if (!fd_.valid()) return;
  if (!io_.input_ended()) transport::DrainUnread(fd_.get());
  fd_.reset();
  interest_ = {};
}

// ---- Client and STARTTLS --------------------------------------------------------------

Result<std::unique_ptr<Connection>> StartTls(int fd, std::shared_ptr<const Context> context,
                                             SessionOptions options,
                                             std::span<const uint8_t> received) {
  if (fd < 0) return MakeError("EBADF", "StartTls: invalid file descriptor");
  auto session = Session::Create(std::move(context), transport::WithNow(std::move(options)));
  if (!session.ok()) return session.error();
  if (auto e = transport::FeedReceived(*session, received)) return *std::move(e);
  if (int e = SetNonBlocking(fd); e != 0) return ErrnoError(e, "fcntl O_NONBLOCK");
  return Connection::Adopt(UniqueFd(fd), std::move(session).value());
}

Result<std::unique_ptr<Connection>> Connect(const std::string& host, uint16_t port,
                                            std::shared_ptr<const Context> context,
                                            ConnectOptions options) {
  if (!context) return MakeError("ERR_INVALID_ARG_VALUE", "context is null");
  // The session first: a bad servername fails before any packet is sent.
  auto session =
      Session::Create(std::move(context), transport::ClientOptions(options.session, host));
  if (!session.ok()) return session.error();
  auto fd = TcpConnect(host, port, options.connect_timeout);
  if (!fd.ok()) return fd.error();
  std::unique_ptr<Connection> conn =
      Connection::Adopt(std::move(fd).value(), std::move(session).value());
  if (options.complete_handshake) {
    conn->set_timeout(options.handshake_timeout);
    auto info = conn->Handshake();
    conn->set_timeout(std::chrono::milliseconds(0));
    if (!info.ok()) return info.error();
  }
  return conn;
}

}  // namespace sansio_tls::posix
