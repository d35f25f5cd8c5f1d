#include "transports/posix/connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "transports/posix/internal/sys.h"

namespace sansio_tls::posix {

namespace {

using transport::ReadBuffer;
using transport::ReadLimit;
using transport::Tick;

}  // namespace

Connection::Connection(UniqueFd fd, Session session)
    : fd_(std::move(fd)), session_(std::move(session)) {}

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

std::optional<Error> Connection::error() const {
  if (session_.error()) return session_.error();
  return transport_error_;
}

size_t Connection::buffered_bytes() const {
  return session_.pending_output_bytes() + session_.pending_write_bytes() +
         session_.readable_bytes();
}

// ---- The driver loop ------------------------------------------------------------------

void Connection::Broken(int err, const char* op) {
  write_closed_ = true;
  if (!transport_error_) transport_error_ = ErrnoError(err, op);
  // A reset also ends the input once the kernel's queue is read (recv() then reports the
  // end); reset_ makes that end ECONNRESET rather than a plain truncation.
  if (err == ECONNRESET || err == EPIPE) reset_ = true;
}

bool Connection::CheckSocket() {
  if (!fd_.valid() || write_closed_) return false;
  int err = SocketError(fd_.get());
  if (err == 0) return false;
  Broken(err, "socket");
  Advance();
  return true;
}

Interest Connection::Advance() {
  bool blocked_write = false, blocked_read = false;
  if (!fd_.valid()) return interest_ = {};
  Tick(session_);
  for (;;) {
    bool progress = false;
    // 1. Write the session's pending ciphertext; release what the kernel took.
    blocked_write = false;
    for (std::span<const uint8_t> out; !(out = session_.PendingOutput()).empty();) {
      if (write_closed_) {  // the peer is gone: nothing can be delivered any more
        session_.ConsumeOutput(out.size());
        continue;
      }
      IoResult r = SendSome(fd_.get(), out);
      if (r.bytes > 0) {
        session_.ConsumeOutput(r.bytes);
        bytes_sent_ += r.bytes;
        progress = true;
      } else if (r.err == EAGAIN) {
        blocked_write = true;
        break;
      } else {
        // EPIPE, ECONNRESET...: nothing more can be delivered. Progress: the input side
        // gets one more look (done() decides whether it still can move).
        Broken(r.err, "send");
        progress = true;
      }
    }
    // Our close_notify (or fatal alert) is out: half-close, as Node's end() does.
    if (!shut_wr_ && !write_closed_ && session_.pending_output_bytes() == 0 &&
        (session_.close_sent() || session_.failed())) {
      sys::Shutdown(fd_.get(), SHUT_WR);
      shut_wr_ = true;
    }
    // 2. Feed what the socket has while the session wants it.
    blocked_read = false;
    if (session_.wants_input()) {
      if (!eof_) {
        // No more than the session takes: nothing is left over.
        std::span<uint8_t> buf = ReadBuffer().first(ReadLimit(session_));
        IoResult r = RecvSome(fd_.get(), buf);
        if (r.bytes > 0) {
          bytes_received_ += r.bytes;
          session_.Feed(buf.first(r.bytes));
          progress = true;
        } else if (r.eof) {
          eof_ = true;
          session_.FeedEof();
          progress = true;
        } else if (r.err == EAGAIN) {
          blocked_read = true;
        } else {  // ECONNRESET and the like: the stream ended abnormally
          eof_ = true;
          reset_ = true;
          if (!transport_error_) transport_error_ = ErrnoError(r.err, "recv");
          session_.FeedEof();
          progress = true;
        }
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

std::optional<Event> Connection::NextEvent() { return session_.NextEvent(); }

void Connection::DrainEvents() {
  while (auto e = session_.NextEvent()) {
    if (event_hook_) event_hook_(*this, *e);
  }
}

bool Connection::Paused() const { return session_.pause_pending(); }

bool Connection::done() const {
  if (!fd_.valid() || session_.finished()) return true;  // failed or closed, and flushed
  // Nothing can be sent any more (a send failed, or the socket reported an error): over
  // once the input cannot move on its own either, at its end or held by a session that
  // takes no more (its plaintext unread). Waiting for the application to read would wait
  // for an answer that can never be delivered.
  return write_closed_ && (eof_ || session_.failed() || !session_.wants_input());
}

// ---- Non-blocking use -----------------------------------------------------------------

size_t Connection::TryRead(std::span<uint8_t> out) {
  size_t n = session_.Read(out);
  if (n > 0) Advance();
  return n;
}

size_t Connection::TryWrite(std::span<const uint8_t> data) {
  if (write_closed_ || session_.failed() || session_.close_sent() || !fd_.valid()) return 0;
  size_t n = session_.Write(data);
  if (n < data.size()) write_blocked_ = true;
  Advance();
  return n;
}

bool Connection::TakeWritable() {
  if (!write_blocked_ || session_.pending_output_bytes() > 0) return false;
  if (!session_.handshake_done() && !session_.failed()) return false;
  write_blocked_ = false;
  return true;
}

void Connection::TryEnd() {
  session_.Close();
  Advance();
}

// ---- Blocking use ---------------------------------------------------------------------

Error Connection::TimeoutError(bool handshake) const {
  if (handshake) return transport::HandshakeTimeoutError(timeout_);
  return MakeError("ETIMEDOUT", "no progress within " + std::to_string(timeout_.count()) + " ms");
}

std::optional<Error> Connection::Wait(const Deadline& deadline, bool handshake) {
  if (Paused()) {
    return transport::PauseUnansweredError();
  }
  if (!interest_.want_read && !interest_.want_write) {
    return MakeError("ERR_TLS_INTERNAL", "connection stalled: nothing to wait for");
  }
  int w = WaitFd(fd_.get(), interest_.want_read, interest_.want_write, deadline);
  if (w == ETIMEDOUT) return TimeoutError(handshake);
  if (w != 0) return ErrnoError(w, "poll");
  return std::nullopt;
}

std::optional<Error> Connection::EndError() const {
  if (reset_ && transport_error_) return transport_error_;
  return transport::TruncatedError();
}

Result<HandshakeInfo> Connection::Handshake() {
  if (!fd_.valid()) return MakeError("EBADF", "the connection is closed");
  Deadline deadline = Deadline::After(timeout_);
  for (;;) {
    Advance();
    DrainEvents();
    if (session_.failed()) return *session_.error();  // Advance flushed the alert
    if (session_.handshake_done()) return session_.handshake_info();
    if (write_closed_) return *transport_error_;
    if (auto e = Wait(deadline, /*handshake=*/true)) return *e;
  }
}

Result<size_t> Connection::Read(std::span<uint8_t> out) {
  if (!fd_.valid()) return MakeError("EBADF", "the connection is closed");
  Deadline deadline = Deadline::After(timeout_);
  for (;;) {
    size_t n = session_.Read(out);
    if (n > 0 || out.empty()) {
      Advance();
      DrainEvents();
      return n;
    }
    DrainEvents();
    if (session_.failed()) return *session_.error();
    if (peer_end() == PeerEnd::kClean) return size_t{0};
    if (peer_end() == PeerEnd::kTruncated) return *EndError();
    Advance();
    DrainEvents();
    if (session_.readable_bytes() > 0 || session_.failed() || peer_end() != PeerEnd::kOpen) {
      continue;
    }
    if (write_closed_ && !session_.handshake_done()) return *transport_error_;
    if (auto e = Wait(deadline, !session_.handshake_done())) return *e;
  }
}

Result<size_t> Connection::Write(std::span<const uint8_t> data) {
  if (!fd_.valid()) return MakeError("EBADF", "the connection is closed");
  Deadline deadline = Deadline::After(timeout_);
  size_t done = 0;
  for (;;) {
    if (session_.failed()) return *session_.error();
    if (write_closed_) return *transport_error_;
    if (session_.close_sent() && done < data.size()) {
      return MakeError("ERR_STREAM_WRITE_AFTER_END", "write after end");
    }
    size_t accepted = session_.Write(data.subspan(done));
    done += accepted;
    uint64_t sent_before = bytes_sent_;
    Advance();
    DrainEvents();
    if (session_.failed()) return *session_.error();
    if (write_closed_) return *transport_error_;
    if (done == data.size() && session_.handshake_done() && session_.pending_output_bytes() == 0) {
      return done;
    }
    // Wait only when nothing moved: a flush makes room for more without waiting (also
    // when the handshake completed inside Advance() and its queued data went out at once).
    // The timeout bounds a wait without progress, not the whole transfer.
    if (accepted > 0 || bytes_sent_ > sent_before) {
      deadline = Deadline::After(timeout_);
      continue;
    }
    if (auto e = Wait(deadline, !session_.handshake_done())) return *e;
  }
}

std::optional<Error> Connection::End() {
  if (!fd_.valid()) return MakeError("EBADF", "the connection is closed");
  Deadline deadline = Deadline::After(timeout_);
  session_.Close();
  for (;;) {
    Advance();
    DrainEvents();
    if (session_.failed()) return session_.error();
    if (write_closed_) return transport_error_;
    if (shut_wr_) return std::nullopt;
    if (auto e = Wait(deadline, !session_.handshake_done())) return e;
  }
}

void Connection::Close() {
  if (!fd_.valid()) return;
  if (!eof_) {
    // Unread bytes at close() make the kernel send a reset; drain what is already here.
    std::span<uint8_t> buf = ReadBuffer();
    for (size_t drained = 0; drained < transport::kMaxDrainOnClose;) {
      IoResult r = RecvSome(fd_.get(), buf);
      if (r.bytes == 0) break;
      drained += r.bytes;
    }
  }
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
