#include "core/session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pool.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/internal/context_config.h"
#include "core/internal/session_impl.h"
#include "core/internal/session_rare.h"
#include "core/x509/hostname.h"
#include "core/x509/verify_error.h"

namespace sansio_tls {

namespace {

// Node's bounds for setMaxSendFragment().
bool ValidSendFragment(size_t size) { return size >= 512 && size <= 16384; }

constexpr size_t kMaxInput = 32 * 1024;   // ciphertext kept while the receive side is full
constexpr size_t kReadChunk = 16 * 1024;  // one TLS record of plaintext

// The most specific queued error: the first from the SSL library (e.g. a bad record MAC,
// rather than the cipher failure beneath it), else the first of any library; 0 if none.
uint32_t FirstSslError() {
  uint32_t first = 0;
  for (;;) {
    uint32_t e = ERR_get_error();
    if (e == 0) return first;
    if (first == 0 || (ERR_GET_LIB(first) != ERR_LIB_SSL && ERR_GET_LIB(e) == ERR_LIB_SSL))
      first = e;
  }
}

}  // namespace

// Static trampolines from BoringSSL callbacks to the Session that owns the SSL.
struct SessionCallbacks {
  // The Session owning |ssl|, found through the BIO Init gave it (no ex_data: setting one
  // allocates per SSL); null for an SSL this library did not make (e.g. one an application
  // made from Context::ssl_ctx()).
  static SessionImpl* From(const SSL* ssl) {
    BIO* bio = SSL_get_rbio(ssl);
    if (bio == nullptr || BIO_method_type(bio) != BioType()) return nullptr;
    return static_cast<SessionImpl*>(BIO_get_data(bio));
  }
  static ssl_verify_result_t Verify(SSL* ssl, uint8_t* out_alert) {
    return static_cast<ssl_verify_result_t>(From(ssl)->VerifyPeer(out_alert));
  }
  // SessionOptions::trace: reports each message. TLS 1.3, after the handshake: notes that a
  // post-handshake message was read (a KeyUpdate whose reply BoringSSL holds back until the
  // next write, or a ticket).
  static void Message(int is_write, int /*version*/, int content_type, const void* buf, size_t len,
                      SSL* /*ssl*/, void* arg) {
    auto* s = static_cast<SessionImpl*>(arg);
    if (s->options_.trace) s->Trace(is_write != 0, content_type, buf, len);
    if (!is_write && content_type == SSL3_RT_HANDSHAKE && s->handshake_done_ &&
        SSL_version(s->ssl_) >= TLS1_3_VERSION) {
      s->post_handshake_read_ = true;
    }
  }
  // ClientContextOptions::psk_client_callback / ServerContextOptions::psk_server_callback (TLS 1.2
  // PSK suites). A found key authenticates the peer: no certificate follows in these suites.
  static unsigned PskClient(SSL* ssl, const char* hint, char* identity, unsigned max_identity_len,
                            uint8_t* psk, unsigned max_psk_len) {
    SessionImpl* s = From(ssl);
    std::optional<PskIdentity> answer =
        s->context_->config().psk_client_callback(hint ? std::string_view(hint) : "");
    if (!answer || answer->key.empty() || answer->identity.size() >= max_identity_len ||
        answer->key.size() > max_psk_len || answer->identity.find('\0') != std::string::npos) {
      return 0;  // BoringSSL: PSK_IDENTITY_NOT_FOUND
    }
    std::memcpy(identity, answer->identity.c_str(), answer->identity.size() + 1);
    std::memcpy(psk, answer->key.data(), answer->key.size());
    s->PskAuthenticated();
    return static_cast<unsigned>(answer->key.size());
  }
  static unsigned PskServer(SSL* ssl, const char* identity, uint8_t* psk, unsigned max_psk_len) {
    SessionImpl* s = From(ssl);
    std::optional<std::vector<uint8_t>> key =
        s->context_->config().psk_server_callback(identity ? std::string_view(identity) : "");
    if (!key || key->empty() || key->size() > max_psk_len) return 0;  // unknown_psk_identity
    std::memcpy(psk, key->data(), key->size());
    s->PskAuthenticated();
    return static_cast<unsigned>(key->size());
  }
  // The session's BIO (SessionImpl::Init): BoringSSL reads received ciphertext from the
  // session's buffers and writes into its output queue (no BIO pair, no copy on output).
  static int BioWrite(BIO* bio, const char* data, int len) {
    BIO_clear_retry_flags(bio);
    if (len <= 0) return 0;
    auto* s = static_cast<SessionImpl*>(BIO_get_data(bio));
    s->output_.Append({reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len)});
    return len;
  }
  static int BioRead(BIO* bio, char* out, int len) {
    BIO_clear_retry_flags(bio);
    if (len <= 0) return 0;
    auto* s = static_cast<SessionImpl*>(BIO_get_data(bio));
    size_t n = s->ReadCiphertext({reinterpret_cast<uint8_t*>(out), static_cast<size_t>(len)});
    if (n > 0) return static_cast<int>(n);
    if (s->AtEof()) return 0;  // EOF: BoringSSL reports SSL_ERROR_SYSCALL with ret 0
    BIO_set_retry_read(bio);
    return -1;
  }
  static long BioCtrl(BIO*, int cmd, long, void*) {
    // BoringSSL flushes after each flight; our writes are already complete.
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
  }
  static int BioCreate(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }
  // A type of our own, so that From() recognises the session's BIO.
  static int BioType() {
    static const int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
    return type;
  }
  static const BIO_METHOD* BioMethod() {
    static const BIO_METHOD* method = [] {
      BIO_METHOD* m = BIO_meth_new(BioType(), "sansio_tls session");
      BIO_meth_set_write(m, BioWrite);
      BIO_meth_set_read(m, BioRead);
      BIO_meth_set_ctrl(m, BioCtrl);
      BIO_meth_set_create(m, BioCreate);
      return m;
    }();
    return method;
  }

  static void Info(const SSL* ssl, int where, int value) {
    if (!(where & SSL_CB_ALERT) || (value >> 8) != SSL3_AL_FATAL) return;
    SessionImpl* s = From(ssl);
    auto alert = static_cast<uint8_t>(value & 0xff);
    if (where & SSL_CB_WRITE) {
      if (!s->alert_sent_) s->alert_sent_ = alert;
    } else if (!s->alert_received_) {
      s->alert_received_ = alert;
    }
  }
};

SessionImpl* SessionImpl::FromSsl(const SSL* ssl) { return SessionCallbacks::From(ssl); }

void SessionImpl::PskAuthenticated() {
  verify_done_ = true;
  info_.authorized = true;
  info_.authorization_error.clear();
}

// Event::Payload lists its alternatives in EventKind order (Event::kind() is the index).
template <typename T, EventKind kKind>
constexpr bool AtIndex =
    std::is_same_v<std::variant_alternative_t<static_cast<size_t>(kKind), Event::Payload>, T>;
static_assert(AtIndex<HandshakeInfo, EventKind::kHandshakeDone>);
static_assert(AtIndex<event::Readable, EventKind::kReadable>);
static_assert(AtIndex<event::PeerClosed, EventKind::kPeerClosed>);
static_assert(AtIndex<event::PeerTruncated, EventKind::kPeerTruncated>);
static_assert(AtIndex<Error, EventKind::kError>);
static_assert(AtIndex<event::SniRequest, EventKind::kSniRequest>);
static_assert(AtIndex<SavedSession, EventKind::kNewSession>);
static_assert(AtIndex<event::SessionLookup, EventKind::kSessionLookup>);
static_assert(AtIndex<event::EarlyDataReadable, EventKind::kEarlyData>);
static_assert(AtIndex<event::KeyLog, EventKind::kKeyLog>);
static_assert(AtIndex<event::VerifyRequested, EventKind::kVerifyRequested>);
static_assert(AtIndex<event::AlpnRequest, EventKind::kAlpnRequest>);
static_assert(AtIndex<TraceMessage, EventKind::kTrace>);
static_assert(AtIndex<event::SignRequest, EventKind::kSignRequest>);
static_assert(AtIndex<event::DecryptRequest, EventKind::kDecryptRequest>);
static_assert(AtIndex<event::EarlyDataCheck, EventKind::kEarlyDataCheck>);
static_assert(std::variant_size_v<Event::Payload> ==
              static_cast<size_t>(EventKind::kEarlyDataCheck) + 1);

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kHandshakeDone:
      return "HandshakeDone";
    case EventKind::kReadable:
      return "Readable";
    case EventKind::kPeerClosed:
      return "PeerClosed";
    case EventKind::kPeerTruncated:
      return "PeerTruncated";
    case EventKind::kError:
      return "Error";
    case EventKind::kSniRequest:
      return "SniRequest";
    case EventKind::kNewSession:
      return "NewSession";
    case EventKind::kSessionLookup:
      return "SessionLookup";
    case EventKind::kEarlyData:
      return "EarlyData";
    case EventKind::kKeyLog:
      return "KeyLog";
    case EventKind::kVerifyRequested:
      return "VerifyRequested";
    case EventKind::kAlpnRequest:
      return "AlpnRequest";
    case EventKind::kTrace:
      return "Trace";
    case EventKind::kSignRequest:
      return "SignRequest";
    case EventKind::kDecryptRequest:
      return "DecryptRequest";
    case EventKind::kEarlyDataCheck:
      return "EarlyDataCheck";
  }
  return "?";
}

namespace {

// Create's refusals, out of line (cold): the error for invalid |context| or |options|.
[[gnu::cold, gnu::noinline]] Error InvalidCreateArgs(const Context* context,
                                                     const SessionOptions& options) {
  if (!context) return MakeError("ERR_INVALID_ARG_VALUE", "context is null");
  if (options.servername.find('\0') != std::string::npos || options.servername.size() > 255) {
    return MakeError("ERR_INVALID_ARG_VALUE", "servername is not a valid host name");
  }
  return MakeError(errc::kOutOfRange, "max_send_fragment must be 512 to 16384, got " +
                                          std::to_string(options.max_send_fragment));
}

// Init failed: |init_error|, else an internal error. Clears the error queue.
[[gnu::cold, gnu::noinline]] Error InitFailure(std::optional<Error>& init_error) {
  ERR_clear_error();
  if (init_error) return *std::move(init_error);
  return MakeError("ERR_TLS_INTERNAL", "could not create the TLS session");
}

}  // namespace

Result<std::unique_ptr<SessionImpl>> SessionImpl::Create(std::shared_ptr<const Context>&& context,
                                                         SessionOptions&& options) {
  size_t fragment = options.max_send_fragment;
  if (!context || options.servername.size() > 255 ||
      options.servername.find('\0') != std::string::npos ||
      (fragment != 0 && !ValidSendFragment(fragment))) [[unlikely]] {
    return InvalidCreateArgs(context.get(), options);
  }
  std::unique_ptr<SessionImpl> s(new SessionImpl(std::move(context), std::move(options)));
  if (s->options_.now) s->set_now(*s->options_.now);
  std::optional<Error> init_error;
  if (!s->Init(&init_error)) [[unlikely]] {
    return InitFailure(init_error);
  }
  if (fragment != 0) s->set_max_send_fragment(fragment);
  return s;
}

bool SessionImpl::set_max_send_fragment(size_t size) {
  if (!ValidSendFragment(size)) return false;
  SSL_set_max_send_fragment(ssl_, size);
  return true;
}

SessionImpl::SessionImpl(std::shared_ptr<const Context>&& context, SessionOptions&& options)
    : context_(std::move(context)), options_(std::move(options)), clock_(options_.verify_time) {}

SessionImpl::~SessionImpl() { SSL_free(ssl_); }

SessionImpl::Rare& SessionImpl::rare() {
  if (!rare_) rare_ = std::make_unique<Rare>();
  return *rare_;
}

const internal::Lifecycle& SessionImpl::life() const {
  static const internal::Lifecycle kUnused;
  return rare_ ? rare_->life : kUnused;
}

internal::Lifecycle& SessionImpl::mutable_life() { return rare().life; }

bool SessionImpl::Init(std::optional<Error>* error) {
  // No ERR_clear_error(): a failure here is cleared by Create, and every BoringSSL call
  // whose errors are read afterwards clears the queue on entry (see WriteNow).
  ssl_ = SSL_new(context_->ssl_ctx());
  if (!ssl_) return false;
  BIO* bio = BIO_new(SessionCallbacks::BioMethod());
  if (!bio) return false;
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one reference, owned by ssl_

  const internal::ContextConfig& copts = context_->config();
  SSL_set_info_callback(ssl_, SessionCallbacks::Info);
  if (options_.trace) {
    SSL_set_msg_callback_arg(ssl_, this);
    SSL_set_msg_callback(ssl_, SessionCallbacks::Message);
  }
  // Drop the handshake configuration once it is done: smaller idle sessions.
  SSL_set_shed_handshake_config(ssl_, 1);

  if (role() == Role::kClient) {
    SSL_set_connect_state(ssl_);
    SSL_set_renegotiate_mode(ssl_, ssl_renegotiate_never);  // a client setting
    SSL_set_custom_verify(ssl_, SSL_VERIFY_PEER, SessionCallbacks::Verify);
    // An RSA server certificate whose keyUsage lacks digitalSignature cannot sign the
    // handshake (RFC 5280 4.2.1.3); this BoringSSL does not check it unless asked.
    SSL_set_enforce_rsa_key_usage(ssl_, 1);
    const std::string& sni = options_.servername;
    if (!sni.empty() && !IsIpAddress(sni) && !SSL_set_tlsext_host_name(ssl_, sni.c_str())) {
      return false;
    }
    // Encrypted Client Hello (experimental, core/ech.h).
    if (!options_.ech_config_list.empty()) {
      if (!InitEch(error)) return false;
    } else if (copts.ech_grease) {
      SSL_set_enable_ech_grease(ssl_, 1);
    }
  } else {
    SSL_set_accept_state(ssl_);
    // Without request_cert, BoringSSL's default (SSL_VERIFY_NONE, no callback) holds: no
    // certificate is requested, so none is verified.
    if (copts.request_cert) {
      SSL_set_custom_verify(ssl_, SSL_VERIFY_PEER, SessionCallbacks::Verify);
    }
  }
  if (copts.psk_client_callback) SSL_set_psk_client_callback(ssl_, SessionCallbacks::PskClient);
  if (copts.psk_server_callback) SSL_set_psk_server_callback(ssl_, SessionCallbacks::PskServer);
  if (!InitLifecycle()) return false;  // resumption, 0-RTT (core/session_lifecycle.cc)
  // A client speaks first: its ClientHello is ready as soon as the session exists. A server
  // has nothing to do before its first input (Feed, FeedEof).
  if (role() == Role::kClient) Drive();
  return !failed();
}

bool SessionImpl::InitEch(std::optional<Error>* error) {
  const std::vector<uint8_t>& ech = options_.ech_config_list;
  if (context_->config().max_version < TlsVersion::kTls13) {
    *error = MakeError(errc::kInvalidConfig, "ech_config_list needs TLS 1.3 (max_version)");
    return false;
  }
  if (!SSL_set1_ech_config_list(ssl_, ech.data(), ech.size())) {
    *error = MakeError(errc::kInvalidEchConfig, "ech_config_list is not an ECHConfigList");
    return false;
  }
  return true;
}

// ---- The BIO's side (SessionCallbacks::BioRead) ------------------------------------

size_t SessionImpl::ReadCiphertext(std::span<uint8_t> out) {
  size_t n = input_.empty() ? 0 : input_.Take(out);
  if (n < out.size() && !feed_.empty()) {
    size_t m = std::min(out.size() - n, feed_.size());
    std::memcpy(out.data() + n, feed_.data(), m);
    feed_ = feed_.subspan(m);
    n += m;
  }
  return n;
}

// ---- Input --------------------------------------------------------------------------

size_t SessionImpl::Feed(std::span<const uint8_t> data) {
  if (failed() || peer_closed_ || eof_) return data.size();  // discarded, see header
  feed_ = data;
  Drive();
  // Whatever BoringSSL did not read now is kept, up to the input bound.
  size_t keep = std::min(feed_.size(), kMaxInput - std::min(kMaxInput, input_.size()));
  input_.Append(feed_.first(keep));
  size_t taken = data.size() - feed_.size() + keep;
  feed_ = {};
  if (failed() || peer_closed_) return data.size();
  return taken;
}

void SessionImpl::FeedEof() {
  if (eof_) return;
  eof_ = true;
  Drive();
}

bool SessionImpl::wants_input() const {
  return !failed() && !peer_closed_ && !eof_ && input_.size() < kMaxInput;
}

// Feed keeps up to kMaxInput - input_.size() bytes BoringSSL did not read (see Feed).
size_t SessionImpl::input_capacity() const { return wants_input() ? kMaxInput - input_.size() : 0; }

// ---- Time ---------------------------------------------------------------------------

void SessionImpl::set_now(Timestamp now) {
  if (now_ && now < *now_) return;
  now_ = now;
  if (!options_.verify_time) {
    clock_ = std::chrono::floor<std::chrono::seconds>(now).count();
  }
  StartDeadlines();
}

void SessionImpl::StartDeadlines() {
  if (!now_) return;
  if (!handshake_deadline_ && options_.handshake_timeout.count() > 0) {
    handshake_deadline_ = *now_ + options_.handshake_timeout;
  }
  if (!close_deadline_ && close_sent_ && options_.close_timeout.count() > 0) {
    close_deadline_ = *now_ + options_.close_timeout;
  }
}

std::optional<Timestamp> SessionImpl::next_deadline() const {
  if (failed()) return std::nullopt;
  std::optional<Timestamp> next;
  if (handshake_deadline_ && !handshake_done_) next = *handshake_deadline_;
  if (close_deadline_ && !peer_closed_ && !eof_ && (!next || *close_deadline_ < *next)) {
    next = *close_deadline_;
  }
  return next;
}

void SessionImpl::OnTimer(Timestamp now) {
  set_now(now);
  if (failed()) return;
  if (handshake_deadline_ && !handshake_done_ && *now_ >= *handshake_deadline_) {
    std::string ms = std::to_string(options_.handshake_timeout.count());
    if (pause_pending()) {
      Fail(MakeError(errc::kPauseUnanswered,
                     "the handshake waited " + ms + " ms for the application to answer a pause"));
    } else {
      Fail(MakeError(errc::kHandshakeTimeout,
                     "the TLS handshake did not complete within " + ms + " ms"));
    }
    return;
  }
  if (close_deadline_ && !peer_closed_ && !eof_ && *now_ >= *close_deadline_) FeedEof();
}

// ---- Output -------------------------------------------------------------------------

std::span<const uint8_t> SessionImpl::PendingOutput() const { return output_.Front(); }

void SessionImpl::ConsumeOutput(size_t n) { output_.Consume(std::min(n, output_.Front().size())); }

// ---- Plaintext ----------------------------------------------------------------------

size_t SessionImpl::write_room() const {
  size_t used = pending_write_.size() + output_.size();
  return used >= options_.max_write_buffer ? 0 : options_.max_write_buffer - used;
}

size_t SessionImpl::Write(std::span<const uint8_t> data) {
  if (failed() || close_requested_ || data.empty()) return 0;
  size_t n = std::min(data.size(), write_room());
  if (n == 0) return 0;
  if (!handshake_done_) {
    pending_write_.Append(data.first(n));
    MaybeSendEarlyData();  // 0-RTT (core/session_lifecycle.cc)
    return n;
  }
  return WriteNow(data.first(n));
}

size_t SessionImpl::WriteNow(std::span<const uint8_t> data) {
  internal::ScopedClock clock(clock_);
  // No ERR_clear_error() before SSL_write, SSL_read or SSL_do_handshake: each clears the
  // thread's error queue on entry (checked in this BoringSSL build).
  size_t done = 0;
  while (done < data.size()) {
    int chunk = static_cast<int>(std::min<size_t>(data.size() - done, INT_MAX));
    int r = SSL_write(ssl_, data.data() + done, chunk);
    if (r <= 0) {
      Fail(ErrorFromSsl(SSL_get_error(ssl_, r), "write"));
      return done;
    }
    done += static_cast<size_t>(r);
    CountWritten(static_cast<size_t>(r));  // key-update budget (core/session_lifecycle.cc)
  }
  return done;
}

size_t SessionImpl::Read(std::span<uint8_t> out) {
  size_t n = plaintext_in_.Take(out);
  // Room was made: process the input held back for the lack of it.
  if (n > 0 && read_blocked_ && !failed() && handshake_done_) Drive();
  return n;
}

void SessionImpl::ConsumePlaintext(size_t n) {
  n = std::min(n, plaintext_in_.size());
  plaintext_in_.Consume(n);
  if (n > 0 && read_blocked_ && !failed() && handshake_done_) Drive();  // as Read()
}

void SessionImpl::Close() {
  if (close_requested_) return;
  close_requested_ = true;
  MaybeSendClose();
}

void SessionImpl::MaybeSendClose() {
  if (!close_requested_ || close_sent_ || failed() || !handshake_done_ || !pending_write_.empty())
    return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // queues close_notify into the output; never waits for the peer's
  ERR_clear_error();
  close_sent_ = true;
  StartDeadlines();  // the close grace
}

// ---- Events -------------------------------------------------------------------------

void SessionImpl::Push(Event event) { events_.Push(std::move(event)); }

void SessionImpl::PushKind(EventKind kind) { events_.PushKind(kind); }

std::optional<Event> SessionImpl::PopEvent() {
  std::optional<Event> e;  // built in place and returned as is (no move of the payload)
  EventKind kind{};
  if (!events_.Pop(e, &kind) || e) return e;
  // Queued by kind: the payload is the session's own, fixed once the event was queued.
  switch (kind) {
    case EventKind::kHandshakeDone:
      e.emplace(info_);
      break;
    case EventKind::kError:
      if (error_) {
        e.emplace(**error_);
      } else {
        e.emplace(Error{});
      }
      break;
    case EventKind::kReadable:
      e.emplace(event::Readable{});
      break;
    case EventKind::kPeerClosed:
      e.emplace(event::PeerClosed{});
      break;
    case EventKind::kPeerTruncated:
      e.emplace(event::PeerTruncated{});
      break;
    case EventKind::kEarlyData:
      e.emplace(event::EarlyDataReadable{});
      break;
    default:
      std::abort();  // PushKind() takes only the kinds above
  }
  return e;
}

bool SessionImpl::finished() const {
  return (failed() || (peer_closed_ && close_sent_)) && output_.empty();
}

// ---- The engine ---------------------------------------------------------------------

void SessionImpl::Drive() {
  if (in_drive_) return;
  in_drive_ = true;
  internal::ScopedClock clock(clock_);  // BoringSSL's time source
  bool was_done = handshake_done_;
  if (!failed() && !handshake_done_) DriveHandshake();
  if (!failed() && handshake_done_) {
    // Post-handshake messages BoringSSL holds back can only be new when the handshake just
    // completed (a server's tickets) or a TLS 1.3 post-handshake message was read (a
    // KeyUpdate reply): flush only then, not after every record.
    ReadRecords();
    if (!was_done || post_handshake_read_) {
      post_handshake_read_ = false;
      FlushPostHandshake();  // core/session_lifecycle.cc
    }
    MaybeSendClose();
  }
  in_drive_ = false;
}

void SessionImpl::DriveHandshake() {
  int r = SSL_do_handshake(ssl_);  // clears the error queue itself
  int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
  if (!StepEarlyData(&r, &err)) return;  // 0-RTT (core/session_lifecycle.cc)
  if (r == 1) {
    OnHandshakeDone();
    return;
  }
  if (err == SSL_ERROR_WANT_READ && !AtEof()) return;  // needs more input
  HandshakeStopped(err);
}

void SessionImpl::HandshakeStopped(int err) {
  if (err == SSL_ERROR_PENDING_SESSION) {  // paused until AnswerSessionLookup()
    ERR_clear_error();
    if (eof_)
      Fail(MakeError("ECONNRESET",
                     "the transport ended while the handshake waited for AnswerSessionLookup"));
    return;
  }
  if (err == SSL_ERROR_WANT_CERTIFICATE_VERIFY) {  // paused until CompleteVerification()
    ERR_clear_error();  // an EOF meanwhile is judged once the handshake can go on
    return;
  }
  if (err == SSL_ERROR_WANT_PRIVATE_KEY_OPERATION) {  // paused until CompleteKeyOperation()
    ERR_clear_error();
    if (eof_)
      Fail(MakeError("ECONNRESET",
                     "the transport ended while the handshake waited for a private-key "
                     "operation"));
    return;
  }
  if (err == SSL_ERROR_PENDING_CERTIFICATE) {  // paused until AnswerSni()
    ERR_clear_error();
    if (eof_)
      Fail(MakeError("ECONNRESET", "the transport ended while the handshake waited for AnswerSni"));
    return;
  }
  if (AtEof() && (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_SYSCALL)) {
    ERR_clear_error();
    Fail(MakeError("ECONNRESET", "the transport ended before the TLS handshake completed"));
    return;
  }
  if (std::optional<Error> key_error = KeyOperationError()) {
    ERR_clear_error();
    Fail(*std::move(key_error));
    return;
  }
  Error error = ErrorFromSsl(err, "handshake");
  if (role() == Role::kClient && error.code == "ERR_SSL_ECH_REJECTED") {
    // The server proved the public name and could not decrypt our ClientHello: its retry
    // configs are now authenticated (SSL_get0_ech_retry_configs may only be called here).
    const uint8_t* retry = nullptr;
    size_t retry_len = 0;
    SSL_get0_ech_retry_configs(ssl_, &retry, &retry_len);
    rare().ech_retry_configs.assign(retry, retry + retry_len);
    info_.ech = EchStatus::kRejected;
    error.code = std::string(errc::kEchRejected);
    error.message = retry_len > 0 ? "the server rejected ECH; connect again with its retry "
                                    "configs (SessionImpl::ech_retry_configs)"
                                  : "the server rejected ECH and sent no retry configs: it "
                                    "has no ECH now; connect again without it";
  }
  Fail(std::move(error));
}

std::vector<uint8_t> SessionImpl::ech_retry_configs() const {
  return rare_ ? rare_->ech_retry_configs : std::vector<uint8_t>();
}

namespace {

std::string_view HandshakeName(uint8_t type) {
  switch (type) {
    case 0:
      return "HelloRequest";
    case 1:
      return "ClientHello";
    case 2:
      return "ServerHello";
    case 4:
      return "NewSessionTicket";
    case 5:
      return "EndOfEarlyData";
    case 8:
      return "EncryptedExtensions";
    case 11:
      return "Certificate";
    case 12:
      return "ServerKeyExchange";
    case 13:
      return "CertificateRequest";
    case 14:
      return "ServerHelloDone";
    case 15:
      return "CertificateVerify";
    case 16:
      return "ClientKeyExchange";
    case 20:
      return "Finished";
    case 22:
      return "CertificateStatus";
    case 24:
      return "KeyUpdate";
    case 25:
      return "CompressedCertificate";
    case 67:
      return "NextProtocol";
    case 254:
      return "MessageHash";
    default:
      return "Unknown";
  }
}

}  // namespace

void SessionImpl::Trace(bool sent, int content_type, const void* buf, size_t len) {
  if (content_type != SSL3_RT_HANDSHAKE && content_type != SSL3_RT_ALERT &&
      content_type != SSL3_RT_CHANGE_CIPHER_SPEC) {
    return;  // record headers and inner content types: not messages
  }
  const auto* bytes = static_cast<const uint8_t*>(buf);
  TraceMessage m;
  m.sent = sent;
  m.content_type = static_cast<uint8_t>(content_type);
  m.length = len;
  if (content_type == SSL3_RT_HANDSHAKE && len >= 1) {
    m.type = bytes[0];
    m.name = HandshakeName(bytes[0]);
  } else if (content_type == SSL3_RT_ALERT && len >= 2) {
    m.type = bytes[1];
    m.name = SSL_alert_desc_string_long(bytes[1]);
  } else {
    m.name = "ChangeCipherSpec";
  }
  Push(m);
}

void SessionImpl::OnHandshakeDone() {
  handshake_done_ = true;
  const int version = SSL_version(ssl_);
  const bool tls13 = version >= TLS1_3_VERSION;
  if (tls13) {  // TLS 1.2 has no post-handshake messages here
    SSL_set_msg_callback_arg(ssl_, this);
    SSL_set_msg_callback(ssl_, SessionCallbacks::Message);
  }
  info_.version = static_cast<TlsVersion>(version);
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
  if (cipher) info_.cipher = SSL_CIPHER_standard_name(cipher);  // static storage
  // TLS 1.2 PSK suites: a PSK identity, and a peer authenticated by the key (also when
  // resuming such a session).
  const bool psk = cipher && SSL_CIPHER_get_auth_nid(cipher) == NID_auth_psk;
  if (role() == Role::kServer) {
    const char* sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
    info_.servername = sni ? sni : "";
  } else {
    info_.servername = options_.servername;
  }
  const uint8_t* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_len);
  if (alpn_len > 0) info_.alpn_protocol.emplace(reinterpret_cast<const char*>(alpn), alpn_len);
  if (npn_called_) info_.npn_protocol = NegotiatedNpn();  // no callback: no NPN
  info_.session_reused = SSL_session_reused(ssl_);
  info_.group_id = SSL_get_curve_id(ssl_);
  if (info_.group_id != 0) {
    const char* name = SSL_get_curve_name(info_.group_id);
    info_.group = name ? name : "";
  }
  info_.peer_signature_algorithm = SSL_get_peer_signature_algorithm(ssl_);
  info_.hello_retry_request = tls13 && SSL_used_hello_retry_request(ssl_);  // TLS 1.3 only
  info_.extended_master_secret = SSL_get_extms_support(ssl_) == 1;
  if (psk) {
    if (const char* identity = SSL_get_psk_identity(ssl_)) info_.psk_identity = identity;
  }
  // ECH can only be accepted where it was configured: a client's ech_config_list, a server
  // context's ech_keys.
  const bool ech_configured = role() == Role::kClient ? !options_.ech_config_list.empty()
                                                      : !context_->config().ech_keys.empty();
  if (ech_configured && SSL_ech_accepted(ssl_)) {
    info_.ech = EchStatus::kAccepted;
  } else if (role() == Role::kClient) {
    info_.ech = !options_.ech_config_list.empty() ? EchStatus::kRejected
                : context_->config().ech_grease   ? EchStatus::kGrease
                                                  : EchStatus::kNotOffered;
  }  // server: set when the ClientHello was read (SelectCertificate)
  if (!OnHandshakeLifecycle()) return;  // resumed authorization, 0-RTT, OCSP
  if (psk) PskAuthenticated();

  // Server: missing or refused client certificate (core/verification.cc).
  if (role() == Role::kServer && context_->config().request_cert && RefuseUnauthorizedClient())
    return;

  handshake_reported_ = true;
  PushKind(EventKind::kHandshakeDone);  // NextEvent() copies info_, final from here on
  AfterHandshakeEvent();                // kNewSession held back during the handshake
  if (!pending_write_.empty()) {
    internal::ByteQueue queued = std::move(pending_write_);
    pending_write_ = internal::ByteQueue();
    WriteNow(queued.data());
  }
}

void SessionImpl::ReadRecords() {
  read_blocked_ = false;
  while (!failed() && !peer_closed_) {
    if (plaintext_in_.size() >= options_.max_read_buffer) {
      read_blocked_ = true;  // Read() must make room, then drive again
      return;
    }
    // Nothing new to read: skip SSL_read, which would allocate, wipe and free a 17 KiB
    // record buffer just to report WANT_READ (measured: 2 such calls per received record).
    if (!eof_ && input_.empty() && feed_.empty() && !SSL_has_pending(ssl_)) return;
    std::span<uint8_t> space = plaintext_in_.PrepareAppend(kReadChunk);
    int r = SSL_read(ssl_, space.data(), static_cast<int>(std::min<size_t>(space.size(), INT_MAX)));
    if (r > 0) {
      bool was_empty = plaintext_in_.empty();
      plaintext_in_.Commit(static_cast<size_t>(r));
      if (was_empty) PushKind(EventKind::kReadable);
      continue;
    }
    if (plaintext_in_.empty()) plaintext_in_.Release();
    int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_WANT_READ && !AtEof()) return;  // needs more input
    ReadStopped(err);
    return;
  }
}

void SessionImpl::ReadStopped(int err) {
  if (err == SSL_ERROR_ZERO_RETURN) {
    peer_closed_ = true;
    PushKind(EventKind::kPeerClosed);
    return;
  }
  if (AtEof() && (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_SYSCALL)) {
    ERR_clear_error();
    peer_closed_ = true;
    peer_truncated_ = true;
    PushKind(EventKind::kPeerTruncated);
    return;
  }
  Fail(ErrorFromSsl(err, "read"));
}

Result<std::vector<uint8_t>> SessionImpl::ExportKeyingMaterial(
    size_t length, std::string_view label, std::optional<std::span<const uint8_t>> context) const {
  if (!handshake_reported_ || failed()) {
    return MakeError("ERR_TLS_EXPORT_KEYING_MATERIAL",
                     "keying material can only be exported from an established connection");
  }
  std::vector<uint8_t> out(length);
  ERR_clear_error();
  if (!SSL_export_keying_material(ssl_, out.data(), out.size(), label.data(), label.size(),
                                  context ? context->data() : nullptr,
                                  context ? context->size() : 0, context.has_value())) {
    ERR_clear_error();
    return MakeError("ERR_TLS_EXPORT_KEYING_MATERIAL",
                     "BoringSSL refused to export keying material");
  }
  return out;
}

namespace {

std::vector<uint8_t> Finished(const SSL* ssl, size_t (*get)(const SSL*, void*, size_t)) {
  uint8_t buf[64];
  size_t n = get(ssl, buf, sizeof buf);
  return std::vector<uint8_t>(buf, buf + std::min(n, sizeof buf));
}

}  // namespace

std::vector<uint8_t> SessionImpl::finished_message() const {
  if (!handshake_reported_ || failed()) return {};
  return Finished(ssl_, SSL_get_finished);
}

std::vector<uint8_t> SessionImpl::peer_finished_message() const {
  if (!handshake_reported_ || failed()) return {};
  return Finished(ssl_, SSL_get_peer_finished);
}

Result<std::vector<uint8_t>> SessionImpl::ChannelBinding(std::string_view type) const {
  auto refuse = [&](std::string why) {
    return MakeError(errc::kChannelBinding, std::string(type) + ": " + why);
  };
  if (type != "tls-unique" && type != "tls-exporter") {
    return refuse("unknown channel binding type (tls-unique, tls-exporter)");
  }
  if (!handshake_reported_ || failed()) return refuse("the connection is not established");
  bool tls13 = SSL_version(ssl_) >= TLS1_3_VERSION;
  if (type == "tls-unique") {
    if (tls13) return refuse("not defined for TLS 1.3 (RFC 8446, C.5); use tls-exporter");
    std::vector<uint8_t> out(64);
    size_t n = 0;
    if (!SSL_get_tls_unique(ssl_, out.data(), &n, out.size())) {
      ERR_clear_error();
      return refuse("unsafe on a resumed connection without the extended master secret");
    }
    out.resize(n);
    return out;
  }
  if (!SSL_get_extms_support(ssl_)) {
    return refuse("needs TLS 1.3 or the extended master secret (RFC 9266)");
  }
  static constexpr uint8_t kNone[1] = {0};
  auto km = ExportKeyingMaterial(32, "EXPORTER-Channel-Binding",
                                 std::span<const uint8_t>(kNone, size_t{0}));
  if (!km.ok()) return refuse(km.error().message);
  return km;
}

// ---- Verification: core/verification.cc -----------------------------------------------

// ---- Errors -------------------------------------------------------------------------

Error SessionImpl::ErrorFromSsl(int ssl_error, const char* during) {
  Error e;
  if (verify_rejected_) {
    e.code = info_.authorization_error;
    e.message = VerifyFailureMessage();
    e.verification = true;
  } else if (uint32_t packed = FirstSslError(); packed != 0) {
    const char* reason = ERR_reason_error_string(packed);
    std::string r = reason ? reason : "UNKNOWN";
    e.code = (ERR_GET_LIB(packed) == ERR_LIB_SSL ? "ERR_SSL_" : "ERR_OSSL_") + r;
    char buf[256];
    ERR_error_string_n(packed, buf, sizeof buf);
    e.message = std::string(during) + " failed: " + buf;
  } else {
    e.code = "ERR_TLS_INTERNAL";
    e.message = std::string(during) + " failed: SSL_get_error " + std::to_string(ssl_error);
  }
  ERR_clear_error();
  return e;
}

void SessionImpl::Fail(Error error) {
  if (failed()) return;
  if (alert_received_ && !error.alert) {
    error.alert = alert_received_;
    error.alert_from_peer = true;
  } else if (alert_sent_ && !error.alert) {
    error.alert = alert_sent_;
  }
  error_ = std::make_unique<const std::optional<Error>>(std::move(error));
  pending_write_.Release();
  PushKind(EventKind::kError);  // NextEvent() copies error_, sticky from here on
}

// ---- Session: the movable handle over SessionImpl ------------------------------------

Result<Session> Session::Create(std::shared_ptr<const Context> context, SessionOptions options) {
  Result<std::unique_ptr<SessionImpl>> impl =
      SessionImpl::Create(std::move(context), std::move(options));
  if (!impl) return impl.error();
  return Session(std::move(impl).value());
}

Session::Session(std::unique_ptr<SessionImpl> impl) : impl_(std::move(impl)) {}
Session::Session(Session&& other) noexcept = default;
Session& Session::operator=(Session&& other) noexcept = default;
Session::~Session() = default;

size_t Session::Feed(std::span<const uint8_t> data) { return impl_->Feed(data); }
void Session::FeedEof() { impl_->FeedEof(); }
bool Session::wants_input() const { return impl_->wants_input(); }
size_t Session::input_capacity() const { return impl_->input_capacity(); }
std::span<const uint8_t> Session::PendingOutput() const { return impl_->PendingOutput(); }
void Session::ConsumeOutput(size_t n) { impl_->ConsumeOutput(n); }
size_t Session::pending_output_bytes() const { return impl_->pending_output_bytes(); }
size_t Session::pending_write_bytes() const { return impl_->pending_write_bytes(); }
size_t Session::Write(std::span<const uint8_t> data) { return impl_->Write(data); }
size_t Session::Read(std::span<uint8_t> out) { return impl_->Read(out); }
size_t Session::readable_bytes() const { return impl_->readable_bytes(); }
std::span<const uint8_t> Session::PeekPlaintext() const { return impl_->PeekPlaintext(); }
void Session::ConsumePlaintext(size_t n) { impl_->ConsumePlaintext(n); }
void Session::Close() { impl_->Close(); }
bool Session::set_max_send_fragment(size_t size) { return impl_->set_max_send_fragment(size); }
bool Session::close_flushed() const { return impl_->close_flushed(); }
void Session::set_now(Timestamp now) { impl_->set_now(now); }
std::optional<Timestamp> Session::now() const { return impl_->now(); }
std::optional<Timestamp> Session::next_deadline() const { return impl_->next_deadline(); }
void Session::OnTimer(Timestamp now) { impl_->OnTimer(now); }
std::optional<Event> Session::NextEvent() { return impl_->NextEvent(); }
Role Session::role() const { return impl_->role(); }
bool Session::handshake_done() const { return impl_->handshake_done(); }
bool Session::failed() const { return impl_->failed(); }
const std::optional<Error>& Session::error() const { return impl_->error(); }
bool Session::peer_closed() const { return impl_->peer_closed(); }
bool Session::peer_truncated() const { return impl_->peer_truncated(); }
bool Session::close_sent() const { return impl_->close_sent(); }
bool Session::finished() const { return impl_->finished(); }
const HandshakeInfo& Session::handshake_info() const { return impl_->handshake_info(); }
bool Session::authorized() const { return impl_->authorized(); }
const std::string& Session::authorization_error() const { return impl_->authorization_error(); }
SSL* Session::ssl() const { return impl_->ssl(); }
std::optional<PeerCertificate> Session::peer_certificate(bool detailed) const {
  return impl_->peer_certificate(detailed);
}
std::optional<Error> Session::CompleteVerification(bool accept, std::string code) {
  return impl_->CompleteVerification(accept, std::move(code));
}
bool Session::verify_pending() const { return impl_->verify_pending(); }
std::optional<Error> Session::AnswerSni(SniAnswer answer) {
  return impl_->AnswerSni(std::move(answer));
}
bool Session::sni_pending() const { return impl_->sni_pending(); }
std::optional<Error> Session::AnswerAlpn(std::optional<std::string> protocol) {
  return impl_->AnswerAlpn(std::move(protocol));
}
bool Session::alpn_pending() const { return impl_->alpn_pending(); }
std::optional<Error> Session::CompleteKeyOperation(std::span<const uint8_t> result) {
  return impl_->CompleteKeyOperation(result);
}
std::optional<Error> Session::FailKeyOperation(std::string message) {
  return impl_->FailKeyOperation(std::move(message));
}
bool Session::key_operation_pending() const { return impl_->key_operation_pending(); }
std::optional<Error> Session::AnswerEarlyData(bool accept) {
  return impl_->AnswerEarlyData(accept);
}
bool Session::early_data_check_pending() const { return impl_->early_data_check_pending(); }
bool Session::pause_pending() const { return impl_->pause_pending(); }
Result<std::vector<uint8_t>> Session::ExportKeyingMaterial(
    size_t length, std::string_view label, std::optional<std::span<const uint8_t>> context) const {
  return impl_->ExportKeyingMaterial(length, label, context);
}
std::vector<uint8_t> Session::finished_message() const { return impl_->finished_message(); }
std::vector<uint8_t> Session::peer_finished_message() const {
  return impl_->peer_finished_message();
}
Result<std::vector<uint8_t>> Session::ChannelBinding(std::string_view type) const {
  return impl_->ChannelBinding(type);
}
std::vector<uint8_t> Session::ech_retry_configs() const { return impl_->ech_retry_configs(); }
std::optional<SavedSession> Session::saved_session() const { return impl_->saved_session(); }
std::optional<Error> Session::AnswerSessionLookup(std::optional<SavedSession> found) {
  return impl_->AnswerSessionLookup(std::move(found));
}
bool Session::session_lookup_pending() const { return impl_->session_lookup_pending(); }
std::optional<Error> Session::KeyUpdate(bool request_peer) {
  return impl_->KeyUpdate(request_peer);
}
uint64_t Session::key_updates_sent() const { return impl_->key_updates_sent(); }
std::span<const uint8_t> Session::ocsp_response() const { return impl_->ocsp_response(); }
uint64_t Session::early_data_bytes() const { return impl_->early_data_bytes(); }

}  // namespace sansio_tls
