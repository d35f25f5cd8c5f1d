// Session lifecycle: resumption (saved sessions, tickets, session caches), 0-RTT, key
// updates, key log, OCSP stapling and the session clock. The Context and Session parts
// declared in context.h and session.h.
//
// Every callback here is installed on server and client SSL_CTXs (SNI sub-contexts too,
// since they are built by Context::Create) and reads its configuration through the Session
// owning the SSL (its original Context), never through SSL_get_SSL_CTX. Callbacks record
// facts and queue events; the only pause is the external session-cache lookup.
//
// Ticket format (sealed by TicketKeys, AES-256-GCM): flags (bit 0 verified, bit 1
// authorized), u8-prefixed authorization error, then BoringSSL's session bytes. Carrying
// the verification result is what lets a resumed server session report it.
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>

#include "core/context.h"
#include "core/internal/context_config.h"
#include "core/internal/lifecycle.h"
#include "core/internal/session_impl.h"
#include "core/internal/session_rare.h"
#include "core/resumption.h"
#include "core/session.h"

namespace sansio_tls {
namespace {

constexpr size_t kEarlyChunk = 16 * 1024;
constexpr size_t kMaxTicketError = 255;
constexpr size_t kTicketPrefixMax = 2 + kMaxTicketError;
constexpr uint8_t kNothing = 0;

std::vector<uint8_t> EncodeTicketPrefix(const internal::AuthInfo& auth) {
  size_t n = std::min(auth.error.size(), kMaxTicketError);
  std::vector<uint8_t> out;
  out.reserve(2 + n);
  out.push_back(static_cast<uint8_t>((auth.verified ? 1 : 0) | (auth.authorized ? 2 : 0)));
  out.push_back(static_cast<uint8_t>(n));
  out.insert(out.end(), auth.error.begin(), auth.error.begin() + static_cast<ptrdiff_t>(n));
  return out;
}

// Splits an opened ticket into the verification result and BoringSSL's session bytes.
bool DecodeTicketPrefix(std::span<const uint8_t> plain, internal::AuthInfo* auth,
                        std::span<const uint8_t>* rest) {
  if (plain.size() < 2 || (plain[0] & ~3u) != 0 || plain.size() < 2u + plain[1]) return false;
  auth->verified = plain[0] & 1;
  auth->authorized = plain[0] & 2;
  auth->error.assign(reinterpret_cast<const char*>(plain.data()) + 2, plain[1]);
  *rest = plain.subspan(2u + plain[1]);
  return true;
}

}  // namespace

// Static trampolines from BoringSSL's lifecycle callbacks to the Session owning the SSL. A
// missing Session (an SSL made from ssl_ctx() outside this library) gets neutral answers.
struct LifecycleCallbacks {
  static void CurrentTime(const SSL* /*always null*/, struct timeval* out) {
    out->tv_sec = static_cast<decltype(out->tv_sec)>(internal::ScopedClock::Now());
    out->tv_usec = 0;
  }

  // A resumable session was established (client: a ticket or TLS 1.2 session; server: a
  // TLS 1.2 session with an ID). Takes BoringSSL's reference (returns 1).
  static int NewSession(SSL* ssl, SSL_SESSION* session) {
    bssl::UniquePtr<SSL_SESSION> owned(session);
    SessionImpl* s = SessionImpl::FromSsl(ssl);
    if (!s) return 1;
    SavedSession saved = SavedSession::Wrap(std::move(owned), s->CurrentAuth());
    const internal::ContextConfig& o = s->context_->config();
    if (s->role() == Role::kClient) {
      s->QueueNewSession(std::move(saved));
    } else if (SSL_SESSION_get_protocol_version(saved.ssl_session()) < TLS1_3_VERSION &&
               !saved.id().empty()) {
      if (o.session_cache == SessionCacheMode::kInternal && s->context_->session_store_) {
        s->context_->session_store_->Put(saved);
      } else if (o.session_cache == SessionCacheMode::kExternal) {
        s->QueueNewSession(std::move(saved));
      }
    }
    return 1;
  }

  // Server, TLS 1.2: the client offered session ID |id|.
  static SSL_SESSION* GetSession(SSL* ssl, const uint8_t* id, int id_len, int* out_copy) {
    *out_copy = 0;  // we return a new reference
    SessionImpl* s = SessionImpl::FromSsl(ssl);
    if (!s || id_len <= 0) return nullptr;
    std::span<const uint8_t> wanted(id, static_cast<size_t>(id_len));
    const internal::ContextConfig& o = s->context_->config();
    std::optional<SavedSession> found;
    if (o.session_cache == SessionCacheMode::kInternal && s->context_->session_store_) {
      found = s->context_->session_store_->Get(wanted, internal::ScopedClock::Now());
    } else if (o.session_cache == SessionCacheMode::kExternal) {
      internal::Lifecycle& life = s->mutable_life();
      switch (life.lookup) {
        case internal::Lifecycle::Lookup::kNone: {
          life.lookup = internal::Lifecycle::Lookup::kPending;
          life.lookup_id.assign(reinterpret_cast<const char*>(id), wanted.size());
          s->Push(event::SessionLookup{std::vector<uint8_t>(id, id + wanted.size())});
          return SSL_magic_pending_session_ptr();
        }
        case internal::Lifecycle::Lookup::kPending:
          return SSL_magic_pending_session_ptr();
        case internal::Lifecycle::Lookup::kAnswered:
          found = std::move(life.lookup_answer);
          life.lookup_answer.reset();
          break;
      }
    }
    if (!found) return nullptr;
    unsigned found_len = 0;
    const uint8_t* found_id = SSL_SESSION_get_id(found->ssl_session(), &found_len);
    if (!std::equal(found_id, found_id + found_len, wanted.begin(), wanted.end())) {
      return nullptr;  // the application answered with another session: a miss
    }
    if (!s->AcceptResumption(found->auth())) return nullptr;
    SSL_SESSION* resumed = found->ssl_session();
    SSL_SESSION_up_ref(resumed);
    s->options_.session = std::move(found);  // the server's resumed session (session.h)
    return resumed;
  }

  static size_t TicketOverhead(SSL* /*ssl*/) { return TicketKeys::kOverhead + kTicketPrefixMax; }

  static int TicketSeal(SSL* ssl, uint8_t* out, size_t* out_len, size_t max_out_len,
                        const uint8_t* in, size_t in_len) {
    SessionImpl* s = SessionImpl::FromSsl(ssl);
    if (!s || !s->context_->config().ticket_keys) return 0;
    std::vector<uint8_t> plain = EncodeTicketPrefix(s->CurrentAuth());
    plain.insert(plain.end(), in, in + in_len);
    bool ok = s->context_->config().ticket_keys->Seal(plain, out, max_out_len, out_len);
    OPENSSL_cleanse(plain.data(), plain.size());
    return ok ? 1 : 0;
  }

  static ssl_ticket_aead_result_t TicketOpen(SSL* ssl, uint8_t* out, size_t* out_len,
                                             size_t max_out_len, const uint8_t* in, size_t in_len) {
    SessionImpl* s = SessionImpl::FromSsl(ssl);
    if (!s || !s->context_->config().ticket_keys) return ssl_ticket_aead_ignore_ticket;
    std::vector<uint8_t> plain;
    if (!s->context_->config().ticket_keys->Open({in, in_len}, &plain)) {
      return ssl_ticket_aead_ignore_ticket;  // unknown or rotated-out key, or tampered
    }
    internal::AuthInfo auth;
    std::span<const uint8_t> rest;
    ssl_ticket_aead_result_t result = ssl_ticket_aead_ignore_ticket;
    if (DecodeTicketPrefix(plain, &auth, &rest) && rest.size() <= max_out_len &&
        s->AcceptResumption(auth)) {
      std::memcpy(out, rest.data(), rest.size());
      *out_len = rest.size();
      s->mutable_life().resumed_auth = std::move(auth);
      result = ssl_ticket_aead_success;
    }
    OPENSSL_cleanse(plain.data(), plain.size());
    return result;
  }

  static void KeyLog(const SSL* ssl, const char* line) {
    SessionImpl* s = SessionImpl::FromSsl(ssl);
    // The session's own context decides: after an SNI switch BoringSSL calls the callback
    // of the chosen context, which may not have asked for key logging.
    if (!s || !s->context_->config().key_log) return;
    s->Push(event::KeyLog{line});
  }

  // Observes every ClientHello once resumption is decided (TLS 1.2 and 1.3): whether the
  // client offered early data, so a refusal can be reported as such. Never rejects.
  static int ClientHelloSeen(const SSL_CLIENT_HELLO* hello) {
    SessionImpl* s = SessionImpl::FromSsl(hello->ssl);
    if (!s) return 1;
    const uint8_t* data = nullptr;
    size_t len = 0;
    bool offered =
        SSL_early_callback_ctx_extension_get(hello, TLSEXT_TYPE_early_data, &data, &len) == 1;
    if (offered || s->rare_) s->mutable_life().early_offered = offered;
    return 1;
  }
};

namespace {
const SSL_TICKET_AEAD_METHOD kTicketMethod = {
    LifecycleCallbacks::TicketOverhead,
    LifecycleCallbacks::TicketSeal,
    LifecycleCallbacks::TicketOpen,
};
}  // namespace

// ---- Context ------------------------------------------------------------------------

std::optional<Error> Context::SetUpLifecycle() {
  internal::ContextConfig& o = *config_;
  SSL_CTX* ctx = ssl_ctx_;
  if (o.session_timeout == 0) {
    return MakeError("ERR_TLS_INVALID_CONFIG", "session_timeout must be at least 1 second");
  }
  SSL_CTX_set_current_time_cb(ctx, LifecycleCallbacks::CurrentTime);
  SSL_CTX_set_timeout(ctx, o.session_timeout);
  SSL_CTX_set_session_psk_dhe_timeout(ctx, o.session_timeout);
  if (!o.session_tickets) SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  // Only when asked: BoringSSL formats every line (hex of the secrets, an allocation) before
  // calling it. A session switched by SNI to a context without key_log installs it there
  // (EnableKeyLogHook), so that it keeps logging as its own context asked.
  if (o.key_log) SSL_CTX_set_keylog_callback(ctx, LifecycleCallbacks::KeyLog);

  if (o.role == Role::kClient) {
    if (!o.credentials.ocsp_response.empty()) {
      return MakeError("ERR_TLS_INVALID_CONFIG",
                       "credentials.ocsp_response is a server option (a client asks with "
                       "request_ocsp)");
    }
    // The internal cache is never used by a client; this mode only enables NewSession.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
    SSL_CTX_sess_set_new_cb(ctx, LifecycleCallbacks::NewSession);
    if (o.request_ocsp || o.require_ocsp) SSL_CTX_enable_ocsp_stapling(ctx);
    return std::nullopt;
  }

  if (o.request_ocsp || o.require_ocsp) {
    return MakeError("ERR_TLS_INVALID_CONFIG",
                     "request_ocsp and require_ocsp are client options (a server staples "
                     "credentials.ocsp_response)");
  }
  if (!o.ticket_keys) o.ticket_keys = TicketKeys::Create();
  SSL_CTX_set_ticket_aead_method(ctx, &kTicketMethod);
  if (o.session_cache == SessionCacheMode::kOff) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  } else {
    // BoringSSL's own cache stays unused: ours carries the verification result with each
    // session, and the external mode needs the same hooks.
    SSL_CTX_set_session_cache_mode(
        ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL | SSL_SESS_CACHE_NO_AUTO_CLEAR);
    SSL_CTX_sess_set_new_cb(ctx, LifecycleCallbacks::NewSession);
    SSL_CTX_sess_set_get_cb(ctx, LifecycleCallbacks::GetSession);
    if (o.session_cache == SessionCacheMode::kInternal) {
      session_store_ = std::make_shared<internal::SessionStore>(o.session_cache_size);
    }
  }
  SSL_CTX_set_early_data_enabled(ctx, o.early_data ? 1 : 0);
  SSL_CTX_set_dos_protection_cb(ctx, LifecycleCallbacks::ClientHelloSeen);
  const std::string& ocsp = o.credentials.ocsp_response;
  if (!ocsp.empty() &&
      !SSL_CTX_set_ocsp_response(ctx, reinterpret_cast<const uint8_t*>(ocsp.data()), ocsp.size())) {
    ERR_clear_error();
    return MakeError("ERR_TLS_INVALID_CONFIG", "BoringSSL refused credentials.ocsp_response");
  }
  return std::nullopt;
}

void Context::EnableKeyLogHook() const {
  std::call_once(key_log_hook_, [this] {
    if (SSL_CTX_get_keylog_callback(ssl_ctx_) == nullptr) {
      SSL_CTX_set_keylog_callback(ssl_ctx_, LifecycleCallbacks::KeyLog);
    }
  });
}

// ---- Session: setup and state -------------------------------------------------------

std::string_view SessionImpl::CheckedName() const {
  if (!options_.servername.empty()) return options_.servername;
  if (!options_.host.empty()) return options_.host;
  return "localhost";
}

bool SessionImpl::InitLifecycle() {
  const internal::ContextConfig& o = context_->config();
  // SSL_new took the context's setting: o.early_data on a server, off on a client.
  bool early_data = options_.early_data.value_or(o.early_data);
  if (early_data != (role() == Role::kServer && o.early_data)) {
    SSL_set_early_data_enabled(ssl_, early_data ? 1 : 0);
  }
  if (role() == Role::kClient && options_.session) {
    const SavedSession& saved = *options_.session;
    const internal::AuthInfo& auth = saved.auth();
    // Offered only where its verification result holds: a server certificate was checked
    // (a client's own sessions always have one), for the same name, with a result this
    // context would accept. Otherwise a full handshake verifies afresh.
    if (auth.verified && auth.servername == CheckedName() &&
        (auth.authorized || !o.reject_unauthorized)) {
      if (!SSL_set_session(ssl_, saved.ssl_session())) return false;
      return true;  // kept in options_.session: the session offered
    }
  }
  options_.session.reset();  // not offered: not kept
  return true;
}

bool SessionImpl::AcceptResumption(const internal::AuthInfo& auth) const {
  const internal::ContextConfig& o = context_->config();
  return !(o.request_cert && o.reject_unauthorized && auth.verified && !auth.authorized);
}

internal::AuthInfo SessionImpl::CurrentAuth() const {
  if (SSL_session_reused(ssl_)) {
    if (options_.session) return options_.session->auth();  // offered / resumed from cache
    if (role() == Role::kServer && life().resumed_auth) return *life().resumed_auth;
    return {};
  }
  internal::AuthInfo a;
  a.verified = verify_done_;
  a.authorized = info_.authorized;
  a.error = info_.authorization_error;
  if (role() == Role::kClient) a.servername = std::string(CheckedName());
  return a;
}

void SessionImpl::QueueNewSession(SavedSession saved) {
  if (!handshake_done_ || failed()) {
    // Released after kHandshakeDone; dropped if the handshake is refused after all.
    stashed_sessions_.push_back(std::move(saved));
    return;
  }
  if (role() == Role::kClient) latest_session_ = saved;
  Push(std::move(saved));
}

// ---- Session: the handshake ---------------------------------------------------------

bool SessionImpl::StepEarlyData(int* r, int* err) {
  for (int round = 0; round < 4; ++round) {
    if (*r == 1 && SSL_in_init(ssl_)) {
      // BoringSSL returned early: the 0-RTT window of a handshake still in progress.
      if (role() == Role::kServer) return ReadEarlyData(r);
      mutable_life().early_window = mutable_life().early_attempted = true;
      SendEarlyData();
      if (failed()) return false;
      ERR_clear_error();
      *r = SSL_do_handshake(ssl_);
      *err = *r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, *r);
      continue;
    }
    if (*err == SSL_ERROR_EARLY_DATA_REJECTED) {
      // The server refused the early data: BoringSSL dropped it. Send it again, first,
      // once the handshake completes; the connection carries on as a 1-RTT handshake.
      ERR_clear_error();
      SSL_reset_early_data_reject(ssl_);
      internal::Lifecycle& life = mutable_life();
      life.early_rejected = true;
      life.early_window = false;
      if (!life.early_sent.empty()) {
        internal::ByteQueue merged;
        merged.Append(life.early_sent.data());
        merged.Append(pending_write_.data());
        pending_write_ = std::move(merged);
        life.early_sent.Release();
      }
      *r = SSL_do_handshake(ssl_);
      *err = *r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, *r);
      continue;
    }
    return true;
  }
  return !(*r == 1 && SSL_in_init(ssl_));  // never report an unfinished handshake as done
}

void SessionImpl::SendEarlyData() {
  if (role() != Role::kClient || !life().early_window || handshake_done_ || failed()) return;
  internal::Lifecycle& life = mutable_life();
  if (!SSL_in_early_data(ssl_)) {
    life.early_window = false;
    return;
  }
  internal::ScopedClock clock(clock_);
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE);  // stop at the session's 0-RTT limit
  while (!pending_write_.empty() && life.early_sent.size() < options_.max_write_buffer) {
    std::span<const uint8_t> data = pending_write_.data();
    size_t n =
        std::min({data.size(), options_.max_write_buffer - life.early_sent.size(), kEarlyChunk});
    ERR_clear_error();
    int w = SSL_write(ssl_, data.data(), static_cast<int>(n));
    if (w <= 0) {
      // The session's early-data limit was reached (BoringSSL now waits for the server):
      // the rest goes after the handshake.
      ERR_clear_error();
      life.early_window = false;
      break;
    }
    life.early_sent.Append(data.first(static_cast<size_t>(w)));
    life.early_bytes += static_cast<uint64_t>(w);
    pending_write_.Consume(static_cast<size_t>(w));
  }
  SSL_clear_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE);
}

void SessionImpl::MaybeSendEarlyData() {
  if (!life().early_window) return;
  SendEarlyData();
  Drive();  // SSL_write may have moved the handshake on
}

bool SessionImpl::ReadEarlyData(int* r) {
  // Early data is bounded by BoringSSL's 0-RTT limit (14 KiB), so it is read regardless of
  // max_read_buffer: the client's Finished cannot be reached without reading it.
  for (;;) {
    ERR_clear_error();
    std::span<uint8_t> space = plaintext_in_.PrepareAppend(kEarlyChunk);
    int n = SSL_read(ssl_, space.data(), static_cast<int>(std::min(space.size(), kEarlyChunk)));
    bool done = !SSL_in_init(ssl_);
    if (n > 0) {
      bool was_empty = plaintext_in_.empty();
      plaintext_in_.Commit(static_cast<size_t>(n));
      if (done) {
        mutable_life().one_rtt_readable = true;  // 1-RTT data: kReadable follows kHandshakeDone
        *r = 1;
        return true;
      }
      mutable_life().early_bytes += static_cast<uint64_t>(n);
      if (was_empty) PushKind(EventKind::kEarlyData);
      continue;
    }
    if (plaintext_in_.empty()) plaintext_in_.Release();
    int err = SSL_get_error(ssl_, n);
    if (done && (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_ZERO_RETURN)) {
      *r = 1;  // the handshake completed; ReadRecords() takes what follows
      return true;
    }
    if (err == SSL_ERROR_WANT_READ && !AtEof()) return false;
    if (AtEof() && (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_SYSCALL)) {
      ERR_clear_error();
      Fail(MakeError("ECONNRESET", "the transport ended before the TLS handshake completed"));
      return false;
    }
    Fail(ErrorFromSsl(err, "early data"));
    return false;
  }
}

bool SessionImpl::OnHandshakeLifecycle() {
  const internal::ContextConfig& o = context_->config();
  bool accepted = SSL_early_data_accepted(ssl_);
  const char* reason = SSL_early_data_reason_string(SSL_get_early_data_reason(ssl_));
  info_.early_data_reason = reason ? reason : "";
  if (role() == Role::kClient) {
    info_.early_data = accepted                                            ? EarlyData::kAccepted
                       : (life().early_rejected || life().early_attempted) ? EarlyData::kRejected
                                                                           : EarlyData::kNotOffered;
    if (rare_) {
      rare_->life.early_window = false;
      if (accepted) rare_->life.early_sent.Release();
    }
  } else {
    info_.early_data = accepted               ? EarlyData::kAccepted
                       : life().early_offered ? EarlyData::kRejected
                                              : EarlyData::kNotOffered;
  }

  // A resumed session reports the verification result it was created with.
  if (info_.session_reused) {
    if (role() == Role::kClient && options_.session) {
      const internal::AuthInfo& a = options_.session->auth();
      verify_done_ = true;
      info_.authorized = a.authorized;
      info_.authorization_error = a.error;
    } else if (role() == Role::kServer && o.request_cert) {
      internal::AuthInfo a = options_.session      ? options_.session->auth()
                             : life().resumed_auth ? *life().resumed_auth
                                                   : internal::AuthInfo{};
      verify_done_ = a.verified;
      info_.authorized = a.authorized;
      info_.authorization_error = a.error;
    }
  }

  if (role() == Role::kClient && o.require_ocsp && ocsp_response().empty()) {
    RefuseMissingOcsp();
    return false;
  }
  return true;
}

void SessionImpl::RefuseMissingOcsp() {
  ERR_clear_error();
  SSL_send_fatal_alert(ssl_, SSL_AD_BAD_CERTIFICATE_STATUS_RESPONSE);
  ERR_clear_error();
  Fail(MakeError("ERR_TLS_OCSP_MISSING",
                 "the server stapled no OCSP response and require_ocsp is set"));
}

void SessionImpl::AfterHandshakeEvent() {
  if (!stashed_sessions_.empty()) {
    std::vector<SavedSession> stashed = std::move(stashed_sessions_);
    stashed_sessions_ = {};
    for (SavedSession& saved : stashed) QueueNewSession(std::move(saved));
  }
  if (rare_ && rare_->life.one_rtt_readable) {
    rare_->life.one_rtt_readable = false;
    PushKind(EventKind::kReadable);
  }
}

// ---- Session: after the handshake ---------------------------------------------------

void SessionImpl::FlushPostHandshake() {
  // BoringSSL holds post-handshake messages (a TLS 1.3 server's tickets, KeyUpdate replies)
  // until the next write; a zero-length write sends them even if the application never
  // writes again. TLS 1.2 has none: every flight is flushed within the handshake.
  if (!handshake_done_ || failed() || close_sent_ || SSL_version(ssl_) < TLS1_3_VERSION ||
      SSL_in_init(ssl_)) {
    return;
  }
  SSL_write(ssl_, &kNothing, 0);  // clears the error queue on entry
  ERR_clear_error();
}

bool SessionImpl::SendKeyUpdate(int request_type) {
  internal::ScopedClock clock(clock_);
  ERR_clear_error();
  if (!SSL_key_update(ssl_, request_type)) {
    ERR_clear_error();
    return false;
  }
  internal::KeyUpdateCounters& k = key_updates_;
  k.bytes_since_update = 0;
  k.records_since_update = 0;
  ++k.key_updates_sent;
  ++k.updates_without_data;
  SSL_write(ssl_, &kNothing, 0);  // send it now, ahead of any later data
  ERR_clear_error();
  return true;
}

void SessionImpl::CountWritten(size_t n) {
  internal::KeyUpdateCounters& k = key_updates_;
  if (n > 0) k.updates_without_data = 0;
  k.bytes_since_update += n;
  k.records_since_update += (n + SSL3_RT_MAX_PLAIN_LENGTH - 1) / SSL3_RT_MAX_PLAIN_LENGTH;
  const internal::ContextConfig& o = context_->config();
  bool due = (o.key_update_after_bytes && k.bytes_since_update >= o.key_update_after_bytes) ||
             (o.key_update_after_records && k.records_since_update >= o.key_update_after_records);
  if (due && SSL_version(ssl_) >= TLS1_3_VERSION) SendKeyUpdate(SSL_KEY_UPDATE_NOT_REQUESTED);
}

// ---- Session: public API ------------------------------------------------------------

std::optional<SavedSession> SessionImpl::saved_session() const { return latest_session_; }

std::optional<Error> SessionImpl::AnswerSessionLookup(std::optional<SavedSession> found) {
  if (life().lookup != internal::Lifecycle::Lookup::kPending || failed()) {
    return MakeError("ERR_TLS_SESSION_LOOKUP_NOT_PENDING",
                     "AnswerSessionLookup: no kSessionLookup is waiting for an answer");
  }
  mutable_life().lookup = internal::Lifecycle::Lookup::kAnswered;
  mutable_life().lookup_answer = std::move(found);
  Drive();
  return std::nullopt;
}

bool SessionImpl::session_lookup_pending() const {
  return life().lookup == internal::Lifecycle::Lookup::kPending && !failed();
}

std::optional<Error> SessionImpl::KeyUpdate(bool request_peer) {
  auto refuse = [](std::string why) {
    return MakeError("ERR_TLS_KEY_UPDATE", "KeyUpdate: " + why);
  };
  if (failed()) return refuse("the session has failed");
  if (!handshake_done_) return refuse("the handshake has not completed");
  if (close_sent_) return refuse("close_notify was already sent");
  if (SSL_version(ssl_) < TLS1_3_VERSION) return refuse("key updates need TLS 1.3");
  // A BoringSSL peer aborts (TOO_MANY_KEY_UPDATES) after 32 KeyUpdates in a row, counting
  // our replies to its own requests: half of that budget is ours.
  if (key_updates_.updates_without_data >= 16) {
    return refuse("16 key updates were sent without application data in between");
  }
  if (!SendKeyUpdate(request_peer ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED)) {
    return refuse("BoringSSL refused the key update");
  }
  return std::nullopt;
}

uint64_t SessionImpl::key_updates_sent() const { return key_updates_.key_updates_sent; }

std::span<const uint8_t> SessionImpl::ocsp_response() const {
  const uint8_t* data = nullptr;
  size_t len = 0;
  SSL_get0_ocsp_response(ssl_, &data, &len);
  return {data, len};
}

uint64_t SessionImpl::early_data_bytes() const { return life().early_bytes; }

}  // namespace sansio_tls
