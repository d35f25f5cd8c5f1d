#include "transports/common/driver.h"

#include <memory>
#include <utility>

namespace sansio_tls::transport {

Timestamp WallNow() {
  return std::chrono::duration_cast<Timestamp>(std::chrono::system_clock::now().time_since_epoch());
}

void Tick(Session& session) { session.set_now(WallNow()); }

SessionOptions WithNow(SessionOptions options) {
  if (!options.now) options.now = WallNow();
  return options;
}

SessionOptions ClientOptions(SessionOptions options, const std::string& host) {
  if (options.servername.empty()) options.servername = host;
  if (options.host.empty()) options.host = host;
  return WithNow(std::move(options));
}

std::span<uint8_t> ReadBuffer() {
  thread_local std::unique_ptr<uint8_t[]> buf(new uint8_t[kReadChunk]);
  return {buf.get(), kReadChunk};
}

size_t ReadLimit(const Session& session) {
  size_t n = session.input_capacity();
  return n < kReadChunk ? n : kReadChunk;
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

std::optional<Error> CloseError(const Session& session,
                                const std::optional<Error>& transport_error) {
  if (session.error()) return session.error();
  if (transport_error) return transport_error;
  if (session.peer_truncated()) return TruncatedError();
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

Error TruncatedError() {
  return MakeError(kErrTruncated,
                   "the peer's stream ended without close_notify; its data may be "
                   "truncated");
}

Error HandshakeTimeoutError(std::chrono::milliseconds timeout) {
  return MakeError(kErrHandshakeTimeout, "the TLS handshake did not complete within " +
                                             std::to_string(timeout.count()) + " ms");
}

Error HandshakeTimeoutError(const Session& session, std::chrono::milliseconds timeout) {
  if (!Paused(session)) return HandshakeTimeoutError(timeout);
  return MakeError(kErrPauseUnanswered, "the handshake waited " + std::to_string(timeout.count()) +
                                            " ms for the application to answer a pause");
}

Error EndTimeoutError(std::chrono::milliseconds timeout) {
  return MakeError("ETIMEDOUT", "the peer did not end its side within " +
                                    std::to_string(timeout.count()) + " ms of our close_notify");
}

Error PauseUnansweredError() {
  return MakeError(kErrPauseUnanswered,
                   "the handshake waits for the application's answer to a pause "
                   "and nothing answers it");
}

}  // namespace sansio_tls::transport
