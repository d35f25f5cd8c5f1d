// SessionImpl: the state and workings behind a Session (core/session.h), which holds one
// on the heap so that a Session moves as a value while BoringSSL's callbacks keep a stable
// pointer (the session's BIO). Internal: included only by the core's own .cc files; its
// public methods mean exactly what Session's documentation says.
#ifndef SANSIO_TLS_CORE_INTERNAL_SESSION_IMPL_H_
#define SANSIO_TLS_CORE_INTERNAL_SESSION_IMPL_H_

#include <openssl/base.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/internal/buffer.h"
#include "core/internal/event_queue.h"
#include "core/internal/lifecycle.h"
#include "core/session.h"

namespace sansio_tls {

namespace internal {
// A deadline or none, in the 8 bytes of its Timestamp (std::optional takes 16).
class Deadline {
 public:
  Deadline() = default;
  Deadline& operator=(Timestamp t) {
    t_ = t;
    return *this;
  }
  explicit operator bool() const { return t_ != kNone; }
  Timestamp operator*() const { return t_; }

 private:
  static constexpr Timestamp kNone = Timestamp::min();
  Timestamp t_ = kNone;
};
}  // namespace internal

class SessionImpl {
 public:
  // Each method does what Session's method of the same name documents (core/session.h).
  static Result<std::unique_ptr<SessionImpl>> Create(std::shared_ptr<const Context>&& context,
                                                     SessionOptions&& options);
  ~SessionImpl();
  SessionImpl(const SessionImpl&) = delete;
  SessionImpl& operator=(const SessionImpl&) = delete;

  // ---- Ciphertext in -------------------------------------------------------------------
  size_t Feed(std::span<const uint8_t> data);
  void FeedEof();
  bool wants_input() const;
  size_t input_capacity() const;

  // ---- Ciphertext out ------------------------------------------------------------------
  std::span<const uint8_t> PendingOutput() const;
  void ConsumeOutput(size_t n);
  size_t pending_output_bytes() const { return output_.size(); }
  size_t pending_write_bytes() const { return pending_write_.size(); }

  // ---- Plaintext -----------------------------------------------------------------------
  size_t Write(std::span<const uint8_t> data);
  size_t Read(std::span<uint8_t> out);
  size_t readable_bytes() const { return plaintext_in_.size(); }
  std::span<const uint8_t> PeekPlaintext() const { return plaintext_in_.data(); }
  void ConsumePlaintext(size_t n);

  void Close();
  bool set_max_send_fragment(size_t size);
  bool close_flushed() const { return close_sent_ && output_.empty(); }

  // ---- Time ------------------------------------------------------------------------------
  void set_now(Timestamp now);
  std::optional<Timestamp> now() const { return now_; }
  std::optional<Timestamp> next_deadline() const;
  void OnTimer(Timestamp now);

  // ---- Events and state ----------------------------------------------------------------
  std::optional<Event> NextEvent() {
    if (events_.empty()) return std::nullopt;
    return PopEvent();
  }

  Role role() const { return context_->role(); }
  bool handshake_done() const { return handshake_reported_; }
  bool failed() const { return error_ != nullptr; }
  const std::optional<Error>& error() const { return error_ ? *error_ : kNoError; }
  bool peer_closed() const { return peer_closed_; }        // close_notify or EOF received
  bool peer_truncated() const { return peer_truncated_; }  // ... an EOF without close_notify
  bool close_sent() const { return close_sent_; }          // our close_notify is in the output
  bool finished() const;

  const HandshakeInfo& handshake_info() const { return info_; }
  bool authorized() const { return info_.authorized; }
  const std::string& authorization_error() const { return info_.authorization_error; }

  SSL* ssl() const { return ssl_; }

  // ---- Peer certificate and verification (core/verification.cc) -----------------------
  std::optional<PeerCertificate> peer_certificate(bool detailed = false) const;
  std::optional<Error> CompleteVerification(bool accept, std::string code = {});
  bool verify_pending() const;

  // ---- SNI callback (ServerContextOptions::sni_callback) -------------------------------------
  std::optional<Error> AnswerSni(SniAnswer answer);
  bool sni_pending() const;

  // ---- ALPN callback (ServerContextOptions::alpn_callback) -----------------------------------
  std::optional<Error> AnswerAlpn(std::optional<std::string> protocol);
  bool alpn_pending() const;

  // ---- External private keys (Credentials::external_key; core/key_operation.cc) ---------
  std::optional<Error> CompleteKeyOperation(std::span<const uint8_t> result);
  std::optional<Error> FailKeyOperation(std::string message = {});
  bool key_operation_pending() const;

  // ---- 0-RTT anti-replay (ServerContextOptions::early_data_check) --------------------------
  std::optional<Error> AnswerEarlyData(bool accept);
  bool early_data_check_pending() const;

  bool pause_pending() const;

  Result<std::vector<uint8_t>> ExportKeyingMaterial(
      size_t length, std::string_view label,
      std::optional<std::span<const uint8_t>> context = std::nullopt) const;

  std::vector<uint8_t> finished_message() const;
  std::vector<uint8_t> peer_finished_message() const;
  Result<std::vector<uint8_t>> ChannelBinding(std::string_view type) const;

  std::vector<uint8_t> ech_retry_configs() const;

  // ---- Session lifecycle (core/session_lifecycle.cc) -----------------------------------
  std::optional<SavedSession> saved_session() const;
  std::optional<Error> AnswerSessionLookup(std::optional<SavedSession> found);
  bool session_lookup_pending() const;
  std::optional<Error> KeyUpdate(bool request_peer = true);
  uint64_t key_updates_sent() const;  // by KeyUpdate() and the context options' budgets
  std::span<const uint8_t> ocsp_response() const;
  uint64_t early_data_bytes() const;

 private:
  friend struct SessionCallbacks;
  friend struct NegotiationCallbacks;
  friend struct LifecycleCallbacks;
  friend struct KeyOperationCallbacks;
  SessionImpl(std::shared_ptr<const Context>&& context, SessionOptions&& options);

  bool Init(std::optional<Error>* error);
  // Rare paths, out of line so that the usual ones stay compact (they run once per
  // connection, with BoringSSL's handshake code competing for the instruction cache).
  [[gnu::cold, gnu::noinline]] bool InitEch(std::optional<Error>* error);  // client, Init
  // DriveHandshake, when SSL_do_handshake stopped for other than more input: a pause or
  // a failure (|err|: SSL_get_error).
  [[gnu::cold, gnu::noinline]] void HandshakeStopped(int err);
  // ReadRecords, when SSL_read stopped for other than more input (|err|: SSL_get_error).
  [[gnu::cold, gnu::noinline]] void ReadStopped(int err);
  std::optional<Event> PopEvent();  // NextEvent with an event queued
  void Drive();
  void DriveHandshake();
  void OnHandshakeDone();
  void FlushPendingWrites();
  void ReadRecords();
  void MaybeSendClose();
  size_t WriteNow(std::span<const uint8_t> data);
  [[gnu::cold]] void Fail(Error error);
  [[gnu::cold]] Error ErrorFromSsl(int ssl_error, const char* during);
  void Push(Event event);         // an event with a payload of its own
  void PushKind(EventKind kind);  // a payload-free event, or kHandshakeDone / kError
  void Trace(bool sent, int content_type, const void* buf, size_t len);  // kTrace
  size_t write_room() const;

  // Verification, called from BoringSSL's custom-verify callback; returns an
  // ssl_verify_result_t (core/verification.cc).
  int VerifyPeer(uint8_t* out_alert);
  // Chain, then (client) host name, into info_. False (nothing set) when a certificate the
  // peer sent does not parse.
  bool ComputeVerdict();
  // Server with request_cert, in OnHandshakeDone: reports a missing client certificate and
  // refuses an unauthorized client (reject_unauthorized). True when the session failed.
  bool RefuseUnauthorizedClient();
  std::string VerifyFailureMessage() const;  // the message of a verification error
  // A PSK callback found the key: a TLS 1.2 PSK suite authenticates the peer, which sends
  // no certificate.
  void PskAuthenticated();

  // SNI and NPN (core/negotiation_context.cc).
  static SessionImpl* FromSsl(const SSL* ssl);
  int SelectCertificate(const SSL_CLIENT_HELLO* hello);  // an ssl_select_cert_result_t
  std::optional<std::string> NegotiatedNpn() const;      // HandshakeInfo::npn_protocol
  // early_data_check: the ticket identity a ClientHello's 0-RTT is bound to, when it offers
  // early data with a PSK and early data is enabled here; else nullopt.
  std::optional<std::string> EarlyDataIdentity(const SSL_CLIENT_HELLO* hello) const;
  // The store verifying the peer: the SNI-chosen credentials' CAs, else the context's.
  X509_STORE* verify_store() const;

  // External keys (core/key_operation.cc): BoringSSL asks for an operation (an
  // ssl_private_key_result_t), then for its result.
  int StartKeyOperation(EventKind kind, uint16_t algorithm, std::span<const uint8_t> input,
                        size_t max_out);
  int FinishKeyOperation(uint8_t* out, size_t* out_len, size_t max_out);
  // The handshake failed while a key operation was answered with a failure: its error.
  std::optional<Error> KeyOperationError();

  // Session lifecycle (core/session_lifecycle.cc).
  bool InitLifecycle();
  // After SSL_do_handshake returned |*r| (|*err|: its SSL_get_error, SSL_ERROR_NONE for 1);
  // updates both when it drives the handshake on. False: DriveHandshake stops.
  bool StepEarlyData(int* r, int* err);
  bool ReadEarlyData(int* r);
  void SendEarlyData();
  void MaybeSendEarlyData();    // Write() before the handshake
  bool OnHandshakeLifecycle();  // in OnHandshakeDone; false: the session failed
  // Client, require_ocsp: no OCSP response was stapled; fails the session.
  [[gnu::cold, gnu::noinline]] void RefuseMissingOcsp();
  void AfterHandshakeEvent();  // right after kHandshakeDone is queued
  void FlushPostHandshake();
  bool SendKeyUpdate(int request_type);
  void CountWritten(size_t n);
  void QueueNewSession(SavedSession saved);
  bool AcceptResumption(const internal::AuthInfo& auth) const;
  internal::AuthInfo CurrentAuth() const;
  // The name the peer certificate is checked against (in options_, or a literal).
  std::string_view CheckedName() const;

  // The BIO's side (SessionCallbacks::BioRead): received ciphertext is read first from
  // |input_| (older bytes), then from |feed_| (the Feed() call in progress, read in place).
  // Copies up to |out.size()| bytes; returns the count, 0 if none.
  size_t ReadCiphertext(std::span<uint8_t> out);
  // True once the transport has ended and every received byte has been read.
  bool AtEof() const { return eof_ && input_.empty() && feed_.empty(); }

  std::shared_ptr<const Context> context_;
  // As given, except |session|: client, the session offered (reset when not offered); server,
  // the session resumed from the session cache (set by its lookup).
  SessionOptions options_;
  SSL* ssl_ = nullptr;

  internal::ByteQueue input_;          // ciphertext taken but not yet read by BoringSSL
  std::span<const uint8_t> feed_;      // the Feed() argument, read in place during Feed()
  internal::ChunkQueue output_;        // ciphertext written by BoringSSL, not yet consumed
  internal::ByteQueue pending_write_;  // plaintext accepted before the handshake completed
  internal::ByteQueue plaintext_in_;   // decrypted, not yet Read()
  internal::EventQueue events_;

  HandshakeInfo info_;
  // The sticky fatal error. Rare: on the heap, so that a working session carries a pointer
  // for it rather than an empty Error (idle memory per session, bench/core_bench.cc).
  std::unique_ptr<const std::optional<Error>> error_;
  static inline const std::optional<Error> kNoError;
  bool verify_done_ = false;
  bool verify_rejected_ = false;  // our verifier ended the handshake
  enum class VerifyState : uint8_t { kNone, kPending, kAccepted, kRejected };
  VerifyState verify_state_ = VerifyState::kNone;  // verify_callback: the application's answer
  bool eof_ = false;
  bool handshake_done_ = false;      // BoringSSL finished the handshake
  bool handshake_reported_ = false;  // ... and kHandshakeDone was queued
  bool peer_closed_ = false;
  bool peer_truncated_ = false;
  bool close_requested_ = false;
  bool close_sent_ = false;
  bool in_drive_ = false;
  // ReadRecords stopped at max_read_buffer: Read() and ConsumePlaintext() drive again once
  // they made room (otherwise every input was already processed, or waits for Feed).
  bool read_blocked_ = false;
  // Time (set_now): the last time given; BoringSSL's clock (unix seconds, |verify_time| or
  // from now_); the deadlines, once started.
  std::optional<Timestamp> now_;
  std::optional<int64_t> clock_;
  internal::Deadline handshake_deadline_, close_deadline_;
  void StartDeadlines();
  bool post_handshake_read_ = false;  // TLS 1.3: a post-handshake message was read
  std::optional<uint8_t> alert_sent_, alert_received_;
  enum class SniState : uint8_t { kNone, kPending, kAnswered };
  SniState sni_state_ = SniState::kNone;
  bool npn_no_overlap_ = false;  // client: NPN fell back to our first choice
  // An NPN callback ran (client: select, server: advertise): without one, BoringSSL
  // negotiated no NPN, and OnHandshakeDone skips asking it.
  bool npn_called_ = false;
  std::optional<SavedSession> latest_session_;  // client: saved_session()
  internal::KeyUpdateCounters key_updates_;     // *ContextOptions::key_update_after_*
  std::vector<SavedSession> stashed_sessions_;  // new sessions seen before kHandshakeDone
  // Rarely used state (external-cache lookups, 0-RTT, a ticket's verdict, SNI choice,
  // host-name failure text), allocated on first use (core/internal/session_rare.h).
  struct Rare;
  std::unique_ptr<Rare> rare_;
  Rare& rare();                             // allocates on first use
  const internal::Lifecycle& life() const;  // read-only; defaults when unallocated
  internal::Lifecycle& mutable_life();      // allocates on first use
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_INTERNAL_SESSION_IMPL_H_
