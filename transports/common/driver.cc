#include "transports/common/driver.h"

#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <utility>

#include "transports/common/steps.h"

namespace sansio_tls::transport {

namespace {

Error TruncatedError() {
  return MakeError(kErrTruncated,
                   "the peer's stream ended without close_notify; its data may be "
                   "truncated");
}

// The close grace ran out: the peer did not end its side after our close_notify. The code
// Asio's shutdown reports for the same (errc::shutdown_timeout).
Error EndTimeoutError() {
  return MakeError(errc::kShutdownTimeout,
                   "the peer did not end its side within the close grace (end_timeout) after "
                   "our close_notify");
}

}  // namespace

Timestamp WallNow() {
  return std::chrono::duration_cast<Timestamp>(std::chrono::system_clock::now().time_since_epoch());
}

void Tick(Session& session) { session.set_now(WallNow()); }

SessionOptions WithNow(SessionOptions options) {
  if (!options.now) options.now = WallNow();
  return options;
}

SessionOptions WithTimeouts(SessionOptions options, std::chrono::milliseconds handshake_timeout,
                            std::chrono::milliseconds end_timeout) {
  using std::chrono::milliseconds;
  if (options.handshake_timeout <= milliseconds::zero() &&
      handshake_timeout > milliseconds::zero()) {
    options.handshake_timeout = handshake_timeout;
  }
  if (options.close_timeout <= milliseconds::zero() && end_timeout > milliseconds::zero()) {
    options.close_timeout = end_timeout;
  }
  return options;
}

SessionOptions AcceptedOptions(const ServerOptions& options) {
  return WithNow(WithTimeouts(options.session, options.handshake_timeout, options.end_timeout));
}

SessionOptions ClientOptions(SessionOptions options, const std::string& host) {
  if (options.servername.empty()) options.servername = host;
  if (options.host.empty()) options.host = host;
  return WithNow(std::move(options));
}

void DrainUnread(int fd) {
  std::span<uint8_t> buf = ReadBuffer();
  for (size_t drained = 0; drained < kMaxDrainOnClose;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    drained += static_cast<size_t>(n);
  }
}

std::span<uint8_t> ReadBuffer() {
  thread_local std::unique_ptr<uint8_t[]> buf(new uint8_t[kReadChunk]);
  return {buf.get(), kReadChunk};
}

bool Paused(const Session& s) { return s.pause_pending(); }

void DefaultAnswer(Session& session, const Event& event) {
  switch (event.kind()) {
    case EventKind::kSniRequest:
      session.AnswerSni(SniAnswer::UseDefault());
      break;
    case EventKind::kSessionLookup:
      session.AnswerSessionLookup(std::nullopt);
      break;
    case EventKind::kVerifyRequested:
      session.CompleteVerification(false);
      break;
    case EventKind::kAlpnRequest:
      session.AnswerAlpn(std::nullopt);  // refused, as Node's ALPNCallback returning undefined
      break;
    case EventKind::kSignRequest:
    case EventKind::kDecryptRequest:
      session.FailKeyOperation("nothing handles private-key operations (external_key)");
      break;
    case EventKind::kEarlyDataCheck:
      session.AnswerEarlyData(false);  // unvetted 0-RTT is not accepted: 1-RTT goes on
      break;
    default:
      break;
  }
}

std::optional<Error> FeedReceived(Session& session, std::span<const uint8_t> received) {
  size_t taken = session.Feed(received);
  if (taken == received.size()) return std::nullopt;
  return MakeError("ERR_INVALID_ARG_VALUE",
                   "StartTls: " + std::to_string(received.size()) +
                       " bytes were read past the plaintext; the session took " +
                       std::to_string(taken) + " (more than a peer sends before our answer)");
}

// ---- Driver ------------------------------------------------------------------------------

std::span<const uint8_t> Driver::ToSend() {
  std::span<const uint8_t> out = session_.PendingOutput();
  if (send_broken_) {  // the peer is gone: nothing can be delivered any more
    while (!out.empty()) {
      session_.ConsumeOutput(out.size());
      out = session_.PendingOutput();
    }
  }
  return out;
}

void Driver::Sent(size_t n) {
  session_.ConsumeOutput(n);
  bytes_sent_ += n;
}

void Driver::SendFailed(Error error) {
  send_broken_ = true;
  // A reset also ends the input once the kernel's queue is read; the end is then this
  // error rather than a plain truncation.
  reset_ = true;
  if (!transport_error_) transport_error_ = std::make_unique<Error>(std::move(error));
}

bool Driver::ShouldShutdownSend() const {
  return !shut_send_ && !send_broken_ && session_.pending_output_bytes() == 0 &&
         (session_.close_sent() || session_.failed());
}

size_t Driver::ReadLimit() const {
  if (input_ended_) return 0;
  size_t n = session_.input_capacity();
  return n < kReadChunk ? n : kReadChunk;
}

void Driver::Received(std::span<const uint8_t> bytes) {
  bytes_received_ += bytes.size();
  size_t taken = session_.Feed(bytes);
  if (taken < bytes.size()) {
    ReceiveFailed(MakeError(errc::kInternal, "the session took " + std::to_string(taken) + " of " +
                                                 std::to_string(bytes.size()) +
                                                 " bytes read within its capacity"));
  }
}

void Driver::ReceivedEnd() {
  if (input_ended_) return;
  input_ended_ = true;
  session_.FeedEof();
}

void Driver::ReceiveFailed(Error error) {
  reset_ = true;
  if (!transport_error_) transport_error_ = std::make_unique<Error>(std::move(error));
  ReceivedEnd();
}

void Driver::OnTimer(Timestamp now) {
  bool waiting_for_end = session_.close_sent() && !session_.peer_closed() && !session_.failed();
  session_.OnTimer(now);
  if (waiting_for_end && session_.peer_truncated()) end_timed_out_ = true;
}

PeerEnd Driver::peer_end() const {
  if (!session_.peer_closed()) return PeerEnd::kOpen;
  return session_.peer_truncated() ? PeerEnd::kTruncated : PeerEnd::kClean;
}

std::optional<Error> Driver::error() const {
  if (session_.error()) return session_.error();
  return transport_error();
}

Error Driver::TruncationError() const {
  if (reset_ && transport_error_) return *transport_error_;
  return TruncatedError();
}

bool Driver::done() const {
  if (end_timed_out_ || session_.finished()) return true;  // failed or closed, and flushed
  return send_broken_ && (input_ended_ || session_.failed() || !session_.wants_input());
}

std::optional<Error> Driver::CloseError() const {
  if (session_.error()) return session_.error();
  if (end_timed_out_) return EndTimeoutError();
  if (transport_error_) return *transport_error_;
  if (session_.peer_truncated()) return TruncatedError();
  return std::nullopt;
}

std::optional<Error> ServerArgsError(const Context* context, bool has_secure_connection) {
  if (!context || context->role() != Role::kServer) {
    return MakeError("ERR_INVALID_ARG_VALUE", "Server::Listen needs a server context");
  }
  if (!has_secure_connection) {
    return MakeError("ERR_INVALID_ARG_VALUE", "Server::Listen needs a secure_connection callback");
  }
  return std::nullopt;
}

Error HandshakeTimeoutError(std::chrono::milliseconds timeout) {
  return MakeError(kErrHandshakeTimeout, "the TLS handshake did not complete within " +
                                             std::to_string(timeout.count()) + " ms");
}

Error PauseUnansweredError() {
  return MakeError(kErrPauseUnanswered,
                   "the handshake waits for the application's answer to a pause "
                   "and nothing answers it");
}

}  // namespace sansio_tls::transport

namespace sansio_tls::transport {

Error OutcomeError(const Driver& d, Outcome outcome) {
  switch (outcome) {
    case Outcome::kSessionError:
      if (d.session().error()) return *d.session().error();
      break;
    case Outcome::kTransportError:
      if (d.transport_error()) return *d.transport_error();
      break;
    case Outcome::kTruncated:
      return d.TruncationError();
    case Outcome::kWriteAfterEnd:
      return MakeError(errc::kWriteAfterEnd, "write after end");
    case Outcome::kHandshakeNotDone:
      return MakeError(errc::kHandshakeNotDone, "the handshake has not completed");
    case Outcome::kOk:
    case Outcome::kPeerClosed:
    case Outcome::kStalled:
      break;
  }
  return MakeError(errc::kInternal, "the connection cannot go on: nothing to wait for");
}

}  // namespace sansio_tls::transport
