// Stream<NextLayer>: a TLS session over an Asio stream (standalone Asio, 1.22+).
//
//   asio_tls::Stream<asio::ip::tcp::socket> tls(std::move(socket), client_context,
//                                               {.servername = "example.com"});
//   co_await tls.async_handshake(asio::use_awaitable);
//   co_await asio::async_write(tls, asio::buffer(request), asio::use_awaitable);
//   size_t n = co_await tls.async_read_some(asio::buffer(reply), asio::use_awaitable);
//   co_await tls.async_shutdown(std::chrono::seconds(5), asio::use_awaitable);
//
// Stream models AsyncReadStream, AsyncWriteStream, SyncReadStream and SyncWriteStream, so
// asio::read, asio::write, asio::async_read_until and the like work on it. NextLayer is
// asio::ip::tcp::socket (any asio::basic_stream_socket), or any type that is itself an
// AsyncReadStream + AsyncWriteStream (and SyncReadStream + SyncWriteStream for the blocking
// calls). The role (client or server) is the Context's.
//
// Asynchronous operations take any completion token (callbacks, asio::use_future,
// asio::use_awaitable, asio::experimental::deferred, ...). Intermediate handlers run on the
// completion handler's associated executor (default: the next layer's) and allocate with its
// associated allocator. Per-operation cancellation (the handler's cancellation slot):
//  - async_read_some: terminal, partial and total; nothing is lost, reads can be retried.
//  - async_write_some, async_handshake, async_shutdown: terminal and partial; the session
//    keeps what it accepted (plaintext, handshake progress), the next operation carries on.
// A cancelled operation completes with asio::error::operation_aborted.
//
// Concurrency: as for any Asio stream, at most one read-side operation (async_read_some or
// async_handshake) and one write-side operation (async_write_some or async_shutdown) may be
// outstanding at a time, all started and completed on one strand (implicit or explicit).
// Reads and writes in flight together are fine (full duplex); a shutdown may run while a read
// is outstanding (the read receives the peer's remaining data, then eof). Blocking calls must
// not overlap with anything. Reads and writes before the handshake run it implicitly.
//
// Movable, also while operations are outstanding (their state lives on the heap). Destroying
// the stream destroys the next layer (a socket cancels its operations); operations still
// outstanding then complete with operation_aborted without touching the destroyed state.
#ifndef SANSIO_TLS_TRANSPORTS_ASIO_STREAM_H_
#define SANSIO_TLS_TRANSPORTS_ASIO_STREAM_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <asio/async_result.hpp>
#include <asio/compose.hpp>
#include <asio/detail/throw_error.hpp>
#include <asio/post.hpp>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"
#include "core/x509/peer_certificate.h"
#include "transports/asio/error.h"
#include "transports/asio/internal/stream_core.h"
#include "transports/asio/internal/timeout.h"

namespace sansio_tls::asio_tls {

// How long async_shutdown(token) and shutdown() wait for the peer's close_notify when the
// session has no close grace of its own (SessionOptions::close_timeout).
inline constexpr std::chrono::milliseconds kDefaultShutdownTimeout{30'000};

namespace detail {
template <typename T>
struct IsDuration : std::false_type {};
template <typename Rep, typename Period>
struct IsDuration<std::chrono::duration<Rep, Period>> : std::true_type {};
template <typename T>
concept NotDuration = !IsDuration<std::decay_t<T>>::value;
}  // namespace detail

template <typename NextLayer>
class Stream {
  static_assert(!std::is_reference_v<NextLayer>, "NextLayer is held by value");

 public:
  using next_layer_type = std::remove_reference_t<NextLayer>;
  using executor_type = typename next_layer_type::executor_type;
  using default_token = asio::default_completion_token_t<executor_type>;

  // An empty stream (what a failed connect hands back). Only assignment, destruction and
  // valid() may be used on it.
  Stream() = default;

  // Creates the next layer from |next_layer_arg| (a connected socket to move from, or what
  // its constructor takes) and a session of |context|. Throws std::system_error when
  // |options| are invalid (Session::Create's error).
  template <typename Arg>
  Stream(Arg&& next_layer_arg, std::shared_ptr<const Context> context, SessionOptions options = {})
      : Stream(std::forward<Arg>(next_layer_arg),
               MakeSession(std::move(context), std::move(options))) {}

  // Takes |session| (fresh, or mid-handshake) as is.
  template <typename Arg>
  Stream(Arg&& next_layer_arg, Session session)
      : core_(std::make_unique<detail::Core<next_layer_type>>(std::forward<Arg>(next_layer_arg),
                                                              std::move(session))) {
    core_->owner = this;
  }

  Stream(Stream&& other) noexcept : core_(std::move(other.core_)) {
    if (core_) core_->owner = this;
  }
  Stream& operator=(Stream&& other) noexcept {
    core_ = std::move(other.core_);
    if (core_) core_->owner = this;
    return *this;
  }
  ~Stream() = default;

  bool valid() const { return core_ != nullptr; }

  executor_type get_executor() noexcept { return core_->next.get_executor(); }
  next_layer_type& next_layer() { return core_->next; }
  const next_layer_type& next_layer() const { return core_->next; }
  auto& lowest_layer() requires requires(next_layer_type& n) { n.lowest_layer(); }
  { return core_->next.lowest_layer(); }

  // The core session (advanced use: events are drained by the stream; read the state).
  Session& session() { return core_->s(); }
  const Session& session() const { return core_->s(); }

  // prime_input hands over bytes already read from the next layer that belong to the TLS
  // stream, e.g. what a buffered reader read past the last plaintext line before STARTTLS.
  // The session takes them at once (transport::FeedReceived), before anything read later.
  // Call before the first operation. Fails with ERR_INVALID_ARG_VALUE when they are more
  // than a peer sends before our first answer (the stream is then unusable: destroy it); the
  // throwing form throws std::system_error.
  std::error_code prime_input(std::span<const uint8_t> received, std::error_code& ec) {
    transport::Tick(core_->s());
    std::optional<Error> error = transport::FeedReceived(core_->s(), received);
    core_->DrainEvents();
    ec = error ? ToErrorCode(*error) : std::error_code();
    return ec;
  }
  void prime_input(std::span<const uint8_t> received) {
    std::error_code ec;
    Throw(prime_input(received, ec), "prime_input");
  }

  // ---- Handshake ------------------------------------------------------------------------
  // Runs the handshake to completion (client or server, as the Context says). Errors: the
  // session's (a certificate code such as CERT_HAS_EXPIRED, ERR_SSL_..., ECONNRESET for a
  // peer that went away), or the next layer's. Completes at once when already done.
  void handshake() {
    std::error_code ec;
    Throw(handshake(ec), "handshake");
  }
  std::error_code handshake(std::error_code& ec) {
    ec = detail::RunSync(*core_, [this](const detail::StepContext& ctx) {
           return transport::HandshakeStep(*core_, ctx);
         }).first;
    return ec;
  }

  // Signature void(std::error_code). Bounded by the session's own deadline, when it has one
  // (SessionOptions::handshake_timeout, counted from the session's creation): when it passes
  // the session fails with ERR_TLS_HANDSHAKE_TIMEOUT, or ERR_TLS_PAUSE_UNANSWERED when a
  // pause was waiting for the application, and the operation completes with that code.
  template <detail::NotDuration Token = default_token>
  auto async_handshake(Token&& token = default_token()) {
    auto* core = core_.get();
    std::optional<Timestamp> deadline = core->io.next_deadline();
    std::chrono::milliseconds left(0);  // none: no timer
    if (deadline) left = std::max(*deadline - transport::WallNow(), std::chrono::milliseconds(1));
    return detail::AsyncWithTimeout<void(std::error_code)>(
        core->next.get_executor(), left,
        [core, deadline]() -> std::error_code {
          // Our timer says the deadline passed: tell the session, whose error it is.
          core->io.OnTimer(std::max(transport::WallNow(), *deadline));
          if (core->s().failed()) return core->SessionError();
          return make_error_code(errc::handshake_timeout);
        },
        [core](auto handler) {
          asio::async_compose<decltype(handler), void(std::error_code)>(
              detail::HandshakeOp<next_layer_type>(core), handler, core->next);
        },
        std::forward<Token>(token));
  }
  // The same, failing with errc::handshake_timeout ("ERR_TLS_HANDSHAKE_TIMEOUT") when it
  // does not complete within |timeout| (ERR_TLS_PAUSE_UNANSWERED when a pause was waiting
  // for the application); the stream is then unusable (close it).
  template <typename Token = default_token>
  auto async_handshake(std::chrono::steady_clock::duration timeout,
                       Token&& token = default_token()) {
    auto* core = core_.get();
    return detail::AsyncWithTimeout<void(std::error_code)>(
        core->next.get_executor(), timeout,
        [core]() -> std::error_code {  // a pause left unanswered has its own code
          if (transport::Paused(core->s())) return ErrorCodeFor(transport::kErrPauseUnanswered);
          return make_error_code(errc::handshake_timeout);
        },
        [core](auto handler) {
          asio::async_compose<decltype(handler), void(std::error_code)>(
              detail::HandshakeOp<next_layer_type>(core), handler, core->next);
        },
        std::forward<Token>(token));
  }

  // ---- Reading ----------------------------------------------------------------------------
  // Reads some plaintext (at least one byte unless |buffers| are empty). After the peer's
  // close_notify: asio::error::eof. After a transport end without close_notify:
  // errc::truncated (or the transport's error, e.g. connection_reset). A fatal TLS error: the
  // session's code (plaintext that arrived before it is delivered first).
  template <typename MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    std::error_code ec;
    size_t n = read_some(buffers, ec);
    Throw(ec, "read_some");
    return n;
  }
  template <typename MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, std::error_code& ec) {
    if (asio::buffer_size(buffers) == 0) {
      ec = {};
      return 0;
    }
    auto [e, n] = detail::RunSync(*core_, [&](const detail::StepContext& ctx) {
      return detail::ReadBuffersStep(*core_, ctx, buffers);
    });
    ec = e;
    return n;
  }
  // Signature void(std::error_code, std::size_t).
  template <typename MutableBufferSequence, typename Token = default_token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token = default_token()) {
    return asio::async_compose<Token, void(std::error_code, size_t)>(
        detail::ReadOp<next_layer_type, MutableBufferSequence>(core_.get(), buffers), token,
        core_->next);
  }

  // Completes when plaintext is readable (readable_bytes() > 0) without taking any, so that
  // a connection waiting for its peer holds no read buffer: borrow one once data is there,
  // read_some/async_read_some into it (which then complete at once), and give it back (the
  // pattern of examples/common/asio_util.cc's AsioEcho). Errors as async_read_some's:
  // asio::error::eof after the peer's close_notify, errc::truncated, the session's. Signature
  // void(std::error_code). Cancelling loses nothing.
  template <typename Token = default_token>
  auto async_wait_readable(Token&& token = default_token()) {
    return asio::async_compose<Token, void(std::error_code)>(
        detail::WaitReadableOp<next_layer_type>(core_.get()), token, core_->next);
  }
  // Plaintext bytes that a read would return now without waiting.
  size_t readable_bytes() const { return core_->s().readable_bytes(); }

  // ---- Writing ----------------------------------------------------------------------------
  // Encrypts a prefix of |buffers| (up to SessionOptions::max_write_buffer) and completes
  // once its ciphertext was handed to the next layer; returns that prefix's size. Errors: the
  // session's, the next layer's, or errc::write_after_end after shutdown started.
  template <typename ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers) {
    std::error_code ec;
    size_t n = write_some(buffers, ec);
    Throw(ec, "write_some");
    return n;
  }
  template <typename ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers, std::error_code& ec) {
    if (asio::buffer_size(buffers) == 0) {
      ec = {};
      return 0;
    }
    std::optional<size_t> accepted;
    auto [e, n] = detail::RunSync(*core_, [&](const detail::StepContext& ctx) {
      return detail::WriteBuffersStep(*core_, ctx, buffers, accepted);
    });
    ec = e;
    return n;
  }
  // Signature void(std::error_code, std::size_t).
  template <typename ConstBufferSequence, typename Token = default_token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token = default_token()) {
    return asio::async_compose<Token, void(std::error_code, size_t)>(
        detail::WriteOp<next_layer_type, ConstBufferSequence>(core_.get(), buffers), token,
        core_->next);
  }

  // ---- Shutdown ---------------------------------------------------------------------------
  // Sends close_notify after everything written, flushes it, half-closes a socket (shutdown
  // of its sending side), then waits for the peer's close_notify for at most |timeout|
  // (<= 0: does not wait). Success: the peer's close_notify arrived (or, not waiting, ours
  // left). Errors: errc::shutdown_timeout, errc::truncated (the peer ended without
  // close_notify), the session's or the next layer's error, errc::handshake_not_done.
  // Plaintext arriving meanwhile stays readable (read it until eof, concurrently); if more
  // than SessionOptions::max_read_buffer piles up unread, async_shutdown waits for reads
  // (or times out) and the blocking shutdown discards it. The next layer stays open: close
  // it afterwards. Blocking waits can only time out on sockets.
  void shutdown() {
    std::error_code ec;
    Throw(shutdown(ec), "shutdown");
  }
  // Without a timeout: the session's close grace (SessionOptions::close_timeout; a server's
  // ServerOptions::end_timeout), else kDefaultShutdownTimeout.
  std::error_code shutdown(std::error_code& ec) {
    return shutdown(core_->CloseGrace(kDefaultShutdownTimeout), ec);
  }
  std::error_code shutdown(std::chrono::steady_clock::duration timeout, std::error_code& ec) {
    bool send_only = timeout <= timeout.zero();
    bool started = false;
    ec = detail::RunSync(
             *core_,
             [&](const detail::StepContext& ctx) {
               return transport::ShutdownStep(*core_, ctx, send_only, /*discard_unread=*/true,
                                              started);
             },
             std::chrono::duration_cast<std::chrono::milliseconds>(timeout),
             make_error_code(errc::shutdown_timeout))
             .first;
    return ec;
  }
  // Signature void(std::error_code). Waits for the peer as long as the session's close grace
  // (SessionOptions::close_timeout; a server's ServerOptions::end_timeout), else
  // kDefaultShutdownTimeout.
  template <detail::NotDuration Token = default_token>
  auto async_shutdown(Token&& token = default_token()) {
    return async_shutdown(core_->CloseGrace(kDefaultShutdownTimeout), std::forward<Token>(token));
  }
  template <typename Token = default_token>
  auto async_shutdown(std::chrono::steady_clock::duration timeout,
                      Token&& token = default_token()) {
    auto* core = core_.get();
    bool send_only = timeout <= timeout.zero();
    auto initiation = [core, send_only](auto handler) {
      asio::async_compose<decltype(handler), void(std::error_code)>(
          detail::ShutdownOp<next_layer_type>(core, send_only), handler, core->next);
    };
    return detail::AsyncWithTimeout<void(std::error_code)>(core->next.get_executor(), timeout,
                                                           make_error_code(errc::shutdown_timeout),
                                                           initiation, std::forward<Token>(token));
  }

  // ---- What the handshake settled (Node's TLSSocket properties) --------------------------
  bool handshake_done() const { return core_->s().handshake_done(); }
  const HandshakeInfo& handshake_info() const { return core_->s().handshake_info(); }
  bool authorized() const { return handshake_info().authorized; }
  const std::string& authorization_error() const { return handshake_info().authorization_error; }
  const std::string& servername() const { return handshake_info().servername; }
  // nullopt: none negotiated.
  const std::optional<std::string>& alpn_protocol() const { return handshake_info().alpn_protocol; }
  const std::optional<std::string>& npn_protocol() const { return handshake_info().npn_protocol; }
  std::optional<TlsVersion> version() const { return handshake_info().version; }
  std::string_view protocol() const { return handshake_info().protocol(); }  // "TLSv1.3"
  std::string_view cipher() const { return handshake_info().cipher; }
  bool session_reused() const { return handshake_info().session_reused; }
  // Node's getPeerCertificate(detailed); nullopt when the peer sent none.
  std::optional<PeerCertificate> peer_certificate(bool detailed = false) const {
    return core_->s().peer_certificate(detailed);
  }
  // How the peer's side ended so far.
  PeerEnd peer_end() const { return core_->io.peer_end(); }
  // The session's fatal error with its message and alert (error_codes carry only the code).
  const std::optional<Error>& error() const { return core_->s().error(); }

  // ---- Events that are not data, and pauses -----------------------------------------------
  // set_event_handler receives the session's events other than data and ends: kSniRequest,
  // kAlpnRequest, kSessionLookup, kVerifyRequested, kSignRequest and kDecryptRequest (the
  // handshake pauses until answered with answer_sni, answer_alpn, answer_session_lookup,
  // complete_verification, complete_key_operation or fail_key_operation, from the handler
  // or later, on the stream's strand), kNewSession, kKeyLog, kEarlyData. It runs inside
  // whichever operation produced the event; it must not destroy the stream. Without a
  // handler, pauses get default answers: SNI the default credentials, ALPN a refusal, a
  // lookup a miss, a verification a rejection, a key operation a failure. A blocking call
  // whose pause is not answered by the handler fails with ERR_TLS_PAUSE_UNANSWERED; an
  // asynchronous one waits (bound it with a handshake timeout, or the session's own:
  // SessionOptions::handshake_timeout). Events produced before the
  // first operation (a client's ClientHello trace) reach the handler set by then.
  using EventHandler = std::function<void(Stream& stream, const Event& event)>;
  void set_event_handler(EventHandler handler) { core_->event_handler = std::move(handler); }
  // Answers to pauses: the Session's calls, then the waiting operation goes on. Answer
  // through these (not session() directly), or the operation is not woken.
  std::optional<Error> answer_sni(SniAnswer answer) {
    auto r = core_->s().AnswerSni(std::move(answer));
    core_->AfterAnswer();
    return r;
  }
  std::optional<Error> answer_session_lookup(std::optional<SavedSession> found) {
    auto r = core_->s().AnswerSessionLookup(std::move(found));
    core_->AfterAnswer();
    return r;
  }
  // Answers |event| as the transports do when nothing handles it (transport::DefaultAnswer):
  // SNI the default credentials, ALPN a refusal, a lookup a miss, a verification a rejection,
  // a key operation a failure, 0-RTT a refusal. Other events are left alone.
  void answer_by_default(const Event& event) {
    transport::DefaultAnswer(core_->s(), event);
    core_->AfterAnswer();
  }
  // A miss (also what the server answers when the application does not).
  std::optional<Error> answer_session_lookup(std::nullopt_t) {
    auto r = core_->s().AnswerSessionLookup(std::nullopt);
    core_->AfterAnswer();
    return r;
  }
  // kEarlyDataCheck (ServerContextOptions::early_data_check): accept the client's 0-RTT, or
  // refuse it (the handshake goes on as 1-RTT) (Session::AnswerEarlyData).
  std::optional<Error> answer_early_data(bool accept) {
    auto r = core_->s().AnswerEarlyData(accept);
    core_->AfterAnswer();
    return r;
  }
  std::optional<Error> complete_verification(bool accept, std::string code = {}) {
    auto r = core_->s().CompleteVerification(accept, std::move(code));
    core_->AfterAnswer();
    return r;
  }
  // kAlpnRequest (ServerContextOptions::alpn_callback): a protocol the client offered, or nullopt
  // to refuse the connection (Session::AnswerAlpn).
  std::optional<Error> answer_alpn(std::optional<std::string> protocol) {
    auto r = core_->s().AnswerAlpn(std::move(protocol));
    core_->AfterAnswer();
    return r;
  }
  // kSignRequest, kDecryptRequest (Credentials::external_key): the signature or decryption
  // (Session::CompleteKeyOperation), or a failure (Session::FailKeyOperation). A signer on
  // another thread posts its answer to the stream's executor.
  std::optional<Error> complete_key_operation(std::span<const uint8_t> result) {
    auto r = core_->s().CompleteKeyOperation(result);
    core_->AfterAnswer();
    return r;
  }
  std::optional<Error> fail_key_operation(std::string message = {}) {
    auto r = core_->s().FailKeyOperation(std::move(message));
    core_->AfterAnswer();
    return r;
  }
  // key_operation_answerer returns a function that any thread may call once to answer the
  // pending kSignRequest/kDecryptRequest later (a signer thread, a remote call): it posts
  // the answer to the stream's executor, the result bytes as complete_key_operation, nullopt
  // as fail_key_operation. An answer arriving after the stream was destroyed (its handshake
  // timed out meanwhile) is dropped there. Call this on the stream's executor (e.g. in the
  // event handler); the stream may move meanwhile.
  std::function<void(std::optional<std::vector<uint8_t>>)> key_operation_answerer() {
    return [core = core_.get(), alive = core_->alive,
            ex = get_executor()](std::optional<std::vector<uint8_t>> result) {
      asio::post(ex, [core, alive, result = std::move(result)] {
        if (!*alive) return;
        if (result) {
          core->s().CompleteKeyOperation(*result);
        } else {
          core->s().FailKeyOperation("the signer failed");
        }
        core->AfterAnswer();
      });
    };
  }

  // Internal: an object released with the stream (used by Server for its connection count).
  void set_owner_token(std::shared_ptr<void> token) { core_->owner_token = std::move(token); }

  // Node's allowHalfOpen. True (the default for a stream made directly, as Asio's own
  // streams): the peer's close_notify ends only its side; this side writes on until
  // shutdown(). False (a server's stream unless ServerOptions::allow_half_open): a read
  // that reports the peer's close_notify (eof; all plaintext before it was read, and what
  // was written in answer to it went first) first queues ours, sends it and shuts the
  // socket's sending side; later writes fail with errc::write_after_end and a shutdown()
  // completes at once.
  void set_allow_half_open(bool allow) { core_->allow_half_open = allow; }
  // lifetime: expires when this stream's state is destroyed (the stream, or the one it was
  // moved into, is gone). For code answering a pause later, asynchronously: while the token
  // lives the stream does too, and no move happens while its handshake waits for an answer.
  std::weak_ptr<void> lifetime() {
    if (!core_->lifetime) core_->lifetime = std::make_shared<char>(0);
    return core_->lifetime;
  }

 private:
  static Session MakeSession(std::shared_ptr<const Context> context, SessionOptions options) {
    auto s = Session::Create(std::move(context), transport::WithNow(std::move(options)));
    if (!s.ok()) throw std::system_error(ToErrorCode(s.error()), s.error().message);
    return std::move(s).value();
  }
  static void Throw(const std::error_code& ec, const char* what) {
    if (ec) asio::detail::throw_error(ec, what);
  }

  std::unique_ptr<detail::Core<next_layer_type>> core_;
};

}  // namespace sansio_tls::asio_tls

#endif  // SANSIO_TLS_TRANSPORTS_ASIO_STREAM_H_
