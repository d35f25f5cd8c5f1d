// Session: one TLS connection, client or server, with no I/O of its own (Node's SecurePair).
//
// The caller moves bytes: ciphertext received from the network goes in with Feed() (and
// FeedEof() when the transport ends), ciphertext to send is borrowed with PendingOutput()
// and released with ConsumeOutput(). Plaintext goes in with Write() and comes out with
// Read(). After any call, NextEvent() yields what happened, in order.
//
// A Session never opens a socket, starts a thread, reads a clock or calls into the
// application: BoringSSL's callbacks only record facts and queue events. Time is an input
// (set_now(), OnTimer()); the session says when it next needs it (next_deadline()). It is not
// thread-safe; use one session from one thread at a time.
#ifndef SANSIO_TLS_CORE_SESSION_H_
#define SANSIO_TLS_CORE_SESSION_H_

#include <openssl/base.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "core/resumption.h"
#include "core/x509/peer_certificate.h"

namespace sansio_tls {

// What the handshake settled. Strings are empty when the value does not apply; values that
// may be absent (version, the negotiated protocols) are std::optional.
struct HandshakeInfo {
  bool authorized = false;          // the peer's certificate verified (and, client, its name)
  std::string authorization_error;  // Error code when !authorized and a certificate was checked
  // The negotiated version (TlsVersionName() gives Node's "TLSv1.3"...); nullopt before the
  // handshake completed.
  std::optional<TlsVersion> version;
  // Node's name of |version| ("TLSv1.3", ...; static storage), "" before the handshake.
  std::string_view protocol() const { return version ? TlsVersionName(*version) : ""; }
  // The suite's standard name, e.g. "TLS_AES_128_GCM_SHA256" (static storage); empty before.
  std::string_view cipher;
  std::string servername;  // SNI: what the client sent (server) or asked for (client)
  // The negotiated application protocols; nullopt when none was (Node reports false for
  // ALPN and "none" for NPN: the JSON/CLI layer keeps those spellings).
  std::optional<std::string> alpn_protocol;
  std::optional<std::string> npn_protocol;
  bool session_reused = false;
  EarlyData early_data = EarlyData::kNotOffered;  // TLS 1.3 0-RTT outcome (resumption.h)
  // Why 0-RTT went as it did, in BoringSSL's words: "accept", "disabled", "no_session_offered",
  // "session_not_resumed", "unsupported_for_session", "alpn_mismatch", "ticket_age_skew", ...
  // Static storage (no allocation per handshake).
  std::string_view early_data_reason;
  // Key-exchange group, e.g. "X25519" (static storage); empty: none (resumed TLS 1.2, or a
  // TLS 1.3 PSK-only resumption).
  std::string_view group;
  uint16_t group_id = 0;                  // its IANA code point (0: none)
  uint16_t peer_signature_algorithm = 0;  // IANA SignatureScheme the peer signed with (0: none)
  bool hello_retry_request = false;       // TLS 1.3: the server sent a HelloRetryRequest
  // The master secret covers the handshake transcript (RFC 7627 extended master secret, or
  // TLS 1.3); false: a TLS 1.2-or-older peer without it (triple-handshake exposure).
  bool extended_master_secret = false;
  // TLS 1.2 PSK suite (ClientContextOptions::psk_client_callback,
  // ServerContextOptions::psk_server_callback): the identity used (client: ours; server: the
  // client's); empty otherwise.
  std::string psk_identity;
  // Encrypted Client Hello (experimental, core/ech.h). Also set in handshake_info() after a
  // client's ERR_TLS_ECH_REJECTED (kRejected) and a server's failed handshake.
  EchStatus ech = EchStatus::kNotOffered;
};

enum class EventKind {
  kHandshakeDone,    // HandshakeInfo: plaintext may flow both ways now
  kReadable,         // plaintext became available: Read() until it returns 0
  kPeerClosed,       // the peer sent close_notify: a clean end of its data
  kPeerTruncated,    // the transport ended without close_notify: the peer's data may be cut short
  kError,            // Error: fatal; the session is dead (a pending alert can be flushed)
  kSniRequest,       // server, sni_callback: the handshake waits for AnswerSni()
  kNewSession,       // SavedSession: can resume a later connection. Client: a ticket or TLS
                     // 1.2 session arrived (also saved_session()). Server, kExternal cache: a
                     // TLS 1.2 session to store under its id()
  kSessionLookup,    // server, kExternal cache: the handshake waits for AnswerSessionLookup()
  kEarlyData,        // server: 0-RTT data is readable (Read() it) before the handshake
                     // completed; an attacker may replay it
  kKeyLog,           // *ContextOptions::key_log: one NSS key-log line
  kVerifyRequested,  // *ContextOptions::verify_callback: the handshake waits for
                     // CompleteVerification(); peer_certificate() holds the certificate
  kAlpnRequest,      // server, ServerContextOptions::alpn_callback: the handshake waits for
                     // AnswerAlpn()
  kTrace,            // SessionOptions::trace (TraceMessage): a protocol message sent or received
  kSignRequest,      // Credentials::external_key: the handshake waits for
                     // CompleteKeyOperation() with a signature
  kDecryptRequest,   // Credentials::external_key, TLS 1.2 RSA key exchange: the handshake
                     // waits for CompleteKeyOperation() with a raw RSA decryption
  kEarlyDataCheck,   // server, ServerContextOptions::early_data_check: the client offers 0-RTT; the
                     // handshake waits for AnswerEarlyData()
};

// A protocol message seen by the trace (SessionOptions::trace, Node's enableTrace()).
struct TraceMessage {
  bool sent = false;         // by us (else received from the peer)
  uint8_t content_type = 0;  // 22 handshake, 21 alert, 20 change_cipher_spec
  uint8_t type = 0;          // handshake: the message type; alert: the description
  size_t length = 0;         // bytes of the message (handshake: with its 4-byte header)
  // "ClientHello", "Finished", ... for handshake messages; the alert's name
  // ("close_notify", "bad_certificate", ...); "ChangeCipherSpec". Static storage.
  std::string_view name;
};

// The payloads of the event kinds that have no type of their own elsewhere. (kHandshakeDone
// carries a HandshakeInfo, kError an Error, kNewSession a SavedSession, kTrace a
// TraceMessage.)
namespace event {
struct Readable {};
struct PeerClosed {};
struct PeerTruncated {};
struct EarlyDataReadable {};
struct SniRequest {
  std::string servername;  // the name the client sent
};
struct SessionLookup {
  std::vector<uint8_t> session_id;  // the TLS 1.2 session ID the client offered
};
struct KeyLog {
  std::string line;  // without the newline
};
struct VerifyRequested {
  // Our own verdict, which CompleteVerification() may overrule.
  bool authorized = false;
  std::string authorization_error;  // its Error code when !authorized
};
struct AlpnRequest {
  std::vector<std::string> protocols;  // the client's list, in its order
  std::string servername;              // its SNI name ("" when it sent none)
};
struct SignRequest {
  // The IANA SignatureScheme to sign with (0x0804 rsa_pss_rsae_sha256, 0x0403
  // ecdsa_secp256r1_sha256, ...). In TLS 1.2 an ECDSA scheme does not bind the curve: sign
  // with the key's own curve and the scheme's hash.
  uint16_t signature_algorithm = 0;
  std::string key_label;       // Credentials::external_key
  std::vector<uint8_t> input;  // the message itself, not a digest
};
struct DecryptRequest {
  std::string key_label;       // Credentials::external_key
  std::vector<uint8_t> input;  // to decrypt raw (no padding removed)
};
struct EarlyDataCheck {
  std::vector<uint8_t> identity;  // the ticket (PSK) identity the early data is bound to
  // How long the identity must be remembered: the ticket lifetime (session_timeout).
  std::chrono::seconds window{0};
};
}  // namespace event

namespace event {
template <typename T, typename Variant>
struct IsAlternative;
template <typename T, typename... Ts>
struct IsAlternative<T, std::variant<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {
};
}  // namespace event

// Event: what happened, with the payload its kind carries. Switch on kind() and take the
// payload with get<T>() (or visit payload()); get<T>() of another kind's type is a
// programming error (std::bad_variant_access).
class Event {
 public:
  // The alternatives, in EventKind order: kind() is the index of the one held.
  using Payload =
      std::variant<HandshakeInfo, event::Readable, event::PeerClosed, event::PeerTruncated, Error,
                   event::SniRequest, SavedSession, event::SessionLookup, event::EarlyDataReadable,
                   event::KeyLog, event::VerifyRequested, event::AlpnRequest, TraceMessage,
                   event::SignRequest, event::DecryptRequest, event::EarlyDataCheck>;
  template <typename T>
  static constexpr bool IsPayload = event::IsAlternative<T, Payload>::value;

  // From any one payload type (implicit, so that `Event e = event::KeyLog{line};` reads).
  template <typename T>
  requires IsPayload<std::remove_cvref_t<T>> Event(T&& payload)
      : payload_(std::forward<T>(payload)) {}  // NOLINT(google-explicit-constructor)

  EventKind kind() const { return static_cast<EventKind>(payload_.index()); }
  const Payload& payload() const { return payload_; }
  Payload& payload() { return payload_; }
  template <typename T>
  const T& get() const {
    return std::get<T>(payload_);
  }
  template <typename T>
  T& get() {
    return std::get<T>(payload_);
  }
  template <typename T>
  const T* get_if() const {
    return std::get_if<T>(&payload_);
  }

 private:
  Payload payload_;
};

// SniAnswer: the application's answer to kSniRequest (Session::AnswerSni).
struct SniAnswer {
  enum class Kind { kUseContext, kUseDefault, kReject };
  Kind kind = Kind::kUseDefault;
  // kUseContext: a server Context whose credentials, ca_pems (for client certificates),
  // alpn_protocols and npn_protocols serve this connection. The session keeps a reference.
  std::shared_ptr<const Context> context;
  // kReject: becomes the session's fatal error; |error.alert| is sent to the client.
  Error error;

  static SniAnswer Use(std::shared_ptr<const Context> context) {
    return {Kind::kUseContext, std::move(context), {}};
  }
  static SniAnswer UseDefault() { return {}; }
  // Fails the handshake with code ERR_TLS_SNI_REJECTED and an unrecognized_name (112) alert.
  static SniAnswer Reject(std::string message) {
    return {Kind::kReject, nullptr, Error{"ERR_TLS_SNI_REJECTED", std::move(message), 112, false}};
  }
};

const char* EventKindName(EventKind kind);

// A point in time as the application's clock tells it: milliseconds since the unix epoch.
// The core never reads a clock; transports pass the wall clock, tests any time they like.
using Timestamp = std::chrono::milliseconds;

// The session's deadlines end it with errc::kHandshakeTimeout, or errc::kPauseUnanswered
// when the handshake was waiting for the application's answer to a pause (kSniRequest,
// kSessionLookup, kVerifyRequested, kAlpnRequest, kSignRequest, kDecryptRequest) as the
// deadline passed (core/error.h).

// Per-connection options.
struct SessionOptions {
  // Client: the name sent as SNI (not sent for IP literals) and checked against the server's
  // certificate. Server: unused (the client's SNI is reported in HandshakeInfo::servername).
  std::string servername;
  // Client: the host connected to, checked when |servername| is empty ("localhost" if both are).
  std::string host;
  // Pins this session's clock (unix seconds) for certificate validity and the creation,
  // lifetime and age of sessions and tickets (resumption.h), whatever set_now() says. Unset:
  // the time last given to set_now()/OnTimer(); a session never given any time judges at
  // the epoch (0), where every certificate is not yet valid (CERT_NOT_YET_VALID).
  std::optional<int64_t> verify_time;
  // The time at creation, as set_now() would give it. A client writes its ClientHello when
  // it is created: without a time then, a session it offers looks like one from the future
  // and is not offered.
  std::optional<Timestamp> now;
  // Bound on the handshake, counted from the first time the session is given (set_now() or
  // OnTimer()). When OnTimer() sees it passed, the session fails with
  // ERR_TLS_HANDSHAKE_TIMEOUT, or ERR_TLS_PAUSE_UNANSWERED when a pause was waiting for
  // the application. Zero: no bound.
  std::chrono::milliseconds handshake_timeout{0};
  // Close grace: how long after our close_notify was queued (Close()) the peer may take to
  // end its side. When OnTimer() sees it passed, the session acts as on FeedEof(): the
  // peer's end is kPeerTruncated. Zero: no bound.
  std::chrono::milliseconds close_timeout{0};
  // Client: a session to resume (Node's options.session). Offered only to the name it was
  // verified for and only if its verification result passes reject_unauthorized; expired
  // or refused sessions end in a full handshake. HandshakeInfo::session_reused tells.
  std::optional<SavedSession> session;
  // Overrides *ContextOptions::early_data for this connection.
  std::optional<bool> early_data;
  // Bound on plaintext accepted by Write() but not yet handed out as ciphertext (queued
  // before the handshake, or encrypted and not yet consumed). Write() accepts less when full.
  size_t max_write_buffer = 64 * 1024;
  // Bound on received plaintext not yet Read(). Feed() takes less when full.
  size_t max_read_buffer = 64 * 1024;
  // Largest plaintext fragment per record we send (Node's tlsSocket.setMaxSendFragment):
  // 512 to 16384; 0 keeps the maximum, 16384. Smaller records cost more overhead but let a
  // receiver start decrypting sooner (latency-sensitive streams). Create() refuses other
  // values with ERR_OUT_OF_RANGE.
  size_t max_send_fragment = 0;
  // Node's enableTrace(): every handshake message, alert and ChangeCipherSpec sent or
  // received is reported as a kTrace event (names, sizes; never key material). Off: none.
  bool trace = false;
  // Client: the server's ECHConfigList (its DNS HTTPS record's "ech" value, or
  // Session::ech_retry_configs() of a rejected attempt): the ClientHello naming
  // |servername| is encrypted, and the clear one names the config's public name
  // (experimental, core/ech.h). Empty: no ECH. Create() refuses a malformed list
  // (ERR_TLS_INVALID_ECH_CONFIG) and a context without TLS 1.3 (ERR_TLS_INVALID_CONFIG); a
  // list with no config this library supports is ignored (no ECH).
  std::vector<uint8_t> ech_config_list;
};

class SessionImpl;

class Session {
 public:
  // Creates a session for |context|'s role. The session holds a reference to |context|.
  // Returns an Error only for invalid |options| (e.g. a malformed servername).
  static Result<Session> Create(std::shared_ptr<const Context> context,
                                SessionOptions options = {});
  // A Session is a value that moves (its state stays where BoringSSL's callbacks find it,
  // so a move is a pointer copy and views it lent, PendingOutput() and PeekPlaintext(),
  // stay valid). A moved-from Session may only be destroyed or assigned to.
  Session(Session&& other) noexcept;
  Session& operator=(Session&& other) noexcept;
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // ---- Ciphertext in -------------------------------------------------------------------
  // Feed gives the session ciphertext received from the peer and processes it. Returns how
  // many bytes were taken: all of |data|, unless the receive side is full (Read() has not
  // kept up); then wants_input() is false until Read() makes room. Bytes not taken must be
  // offered again later. After a fatal error, a close_notify from the peer, or FeedEof(),
  // everything is taken and discarded.
  size_t Feed(std::span<const uint8_t> data);
  // FeedEof tells the session the transport will deliver no more bytes. Before the
  // handshake completes this is an error (ECONNRESET); afterwards, without a close_notify
  // from the peer, it is reported as kPeerTruncated.
  void FeedEof();
  // True when Feed() would take at least one byte and the session may need it.
  bool wants_input() const;
  // How many bytes Feed() takes now for certain (0 when !wants_input()): a transport that
  // reads no more than this never holds ciphertext the session did not take.
  size_t input_capacity() const;

  // ---- Ciphertext out ------------------------------------------------------------------
  // PendingOutput borrows the oldest contiguous run of ciphertext waiting to be sent (empty
  // when none). The bytes stay valid and unchanged until ConsumeOutput() releases them, even
  // across other calls on this session, so an asynchronous write needs no copy. Send the
  // bytes in order; call again after ConsumeOutput() for the next run.
  std::span<const uint8_t> PendingOutput() const;
  // ConsumeOutput releases the first |n| bytes of PendingOutput() (n <= its size).
  void ConsumeOutput(size_t n);
  // Total ciphertext waiting to be sent (possibly spanning several runs).
  size_t pending_output_bytes() const;
  // Plaintext Write() accepted that is not yet encrypted (held until the handshake
  // completes). With pending_output_bytes() it counts against max_write_buffer.
  size_t pending_write_bytes() const;

  // ---- Plaintext -----------------------------------------------------------------------
  // Write queues |data| to be encrypted and sent; before the handshake completes it is held
  // and sent in order once it does. Returns how much was accepted (bounded by
  // SessionOptions::max_write_buffer); 0 once the session has failed or Close() was called.
  size_t Write(std::span<const uint8_t> data);
  // Read copies received plaintext into |out|; returns the number of bytes copied (0 when
  // none is buffered). Reading makes room: the session may then take more input.
  size_t Read(std::span<uint8_t> out);
  size_t readable_bytes() const;
  // PeekPlaintext borrows all received plaintext not yet read, in order, as one contiguous
  // view (empty when none): Read() without the copy. The view stays valid and unchanged
  // until ConsumePlaintext(), Read(), or any call that may process input (Feed(), FeedEof(),
  // Close(), KeyUpdate(), AnswerSni(), AnswerAlpn(), AnswerSessionLookup(),
  // CompleteVerification(), CompleteKeyOperation(), FailKeyOperation()).
  // Write(), NextEvent(), PendingOutput(), ConsumeOutput() and the const accessors leave it
  // valid: an application may Write() straight from the view (an echo) before consuming it.
  std::span<const uint8_t> PeekPlaintext() const;
  // ConsumePlaintext releases the first |n| bytes of PeekPlaintext() (at most its size),
  // like a Read() of |n| bytes: it makes room, so the session may take more input.
  void ConsumePlaintext(size_t n);

  // Close starts a clean close: once everything written so far has been encrypted, a
  // close_notify follows it. The peer may keep sending until it closes too (half-close).
  // The transport sends the output, half-closes its write side once close_flushed(), and
  // may keep reading until the peer closes. Waiting is bounded by the transport: when its
  // deadline passes it calls FeedEof(), which reports kPeerTruncated unless the peer's
  // close_notify came first.
  void Close();
  // Node's setMaxSendFragment(): records written from now on carry at most |size| bytes of
  // plaintext (512 to 16384). Returns false, changing nothing, for another size.
  bool set_max_send_fragment(size_t size);
  // True once our close_notify was handed to the transport (close_sent(), output empty).
  bool close_flushed() const;

  // ---- Time ------------------------------------------------------------------------------
  // set_now tells the session the current time; it only records it (the first call also
  // starts the handshake bound). Times going backwards are ignored.
  void set_now(Timestamp now);
  // The last time given, if any.
  std::optional<Timestamp> now() const;
  // When the session next needs OnTimer(): the earliest pending deadline (handshake bound,
  // close grace), or nullopt when none is pending. Changes after calls that move the
  // handshake or the close; a transport re-arms its one timer after each.
  std::optional<Timestamp> next_deadline() const;
  // OnTimer is set_now(now), then acts on every deadline at or before |now| (see
  // SessionOptions::handshake_timeout and close_timeout). Events may follow.
  void OnTimer(Timestamp now);

  // ---- Events and state ----------------------------------------------------------------
  // NextEvent pops the oldest unread event, or nullopt when there is none.
  std::optional<Event> NextEvent();

  Role role() const;
  // True once kHandshakeDone was queued: never for a connection refused at the end of its
  // handshake (e.g. a server refusing an unauthorized client certificate).
  bool handshake_done() const;
  bool failed() const;
  // The sticky fatal error, if any.
  const std::optional<Error>& error() const;
  bool peer_closed() const;     // close_notify or EOF received
  bool peer_truncated() const;  // ... an EOF without close_notify
  bool close_sent() const;      // our close_notify is in the output
  // True when nothing more will happen: failed or closed both ways, and output flushed.
  bool finished() const;

  // Valid after kHandshakeDone (default values before).
  const HandshakeInfo& handshake_info() const;
  bool authorized() const;
  const std::string& authorization_error() const;

  // Borrowed; for advanced use (extra BoringSSL queries). Do not drive I/O through it.
  SSL* ssl() const;

  // ---- Peer certificate and verification (core/verification.cc) -----------------------
  // The peer's certificate as Node's getPeerCertificate(detailed) reports it, built anew
  // from the DER BoringSSL keeps; nullopt when the peer sent none. Available as soon as it
  // arrives (during kVerifyRequested), after the handshake, and after a failed
  // verification. |detailed| links issuerCertificate through the chain the peer sent, then
  // through the trust store as Node does; a self-signed root refers to itself.
  std::optional<PeerCertificate> peer_certificate(bool detailed = false) const;
  // CompleteVerification answers the pending kVerifyRequested and resumes the handshake.
  // Accept: the peer is authorized (authorization_error cleared). Reject: the handshake
  // fails at once with |code| (default "CERT_REJECTED") as error and authorization_error,
  // and an alert matching it. A client judging the stapled OCSP response (ocsp_response(),
  // available from kVerifyRequested on, empty when none was stapled) rejects it with
  // errc::kOcspRejected: the alert is bad_certificate_status_response (RFC 6066).
  // Error ERR_TLS_VERIFY_NOT_PENDING (nothing changes) when no request waits.
  std::optional<Error> CompleteVerification(bool accept, std::string code = {});
  // True from kVerifyRequested until CompleteVerification() (or a failure).
  bool verify_pending() const;

  // ---- SNI callback (ServerContextOptions::sni_callback) -------------------------------------
  // AnswerSni answers the pending kSniRequest and resumes the handshake (output may follow).
  // Returns an Error, changing nothing, when no request is pending or |answer| is unusable
  // (kUseContext with a null or client Context). kReject fails the session with its error.
  std::optional<Error> AnswerSni(SniAnswer answer);
  // True from kSniRequest until AnswerSni() (or a failure).
  bool sni_pending() const;

  // ---- ALPN callback (ServerContextOptions::alpn_callback) -----------------------------------
  // AnswerAlpn answers the pending kAlpnRequest and resumes the handshake: |protocol| (one
  // the client offered) is selected; nullopt refuses the connection with a fatal
  // no_application_protocol alert (as Node's ALPNCallback returning undefined). Returns an
  // Error, changing nothing, when no request is pending (ERR_TLS_ALPN_NOT_PENDING) or the
  // client did not offer |protocol| (ERR_TLS_ALPN_CALLBACK_INVALID_RESULT).
  std::optional<Error> AnswerAlpn(std::optional<std::string> protocol);
  // True from kAlpnRequest until AnswerAlpn() (or a failure).
  bool alpn_pending() const;

  // ---- External private keys (Credentials::external_key; core/key_operation.cc) ---------
  // CompleteKeyOperation answers the pending kSignRequest (|result|: the signature) or
  // kDecryptRequest (|result|: the raw RSA decryption, as long as the modulus) and resumes
  // the handshake; the bytes are copied. A wrong signature is not detected here: the peer
  // fails its verification. Returns an Error, changing nothing, when no request is pending
  // (ERR_TLS_KEY_OPERATION_NOT_PENDING) or |result| is empty or longer than the key's
  // largest output (ERR_TLS_KEY_OPERATION_INVALID_RESULT). May be called from within the
  // event loop that popped the request or later, on the thread driving the session.
  std::optional<Error> CompleteKeyOperation(std::span<const uint8_t> result);
  // FailKeyOperation answers the pending request with a failure (the signer is unreachable,
  // refused, ...): the handshake fails with ERR_TLS_KEY_OPERATION_FAILED and |message|, and
  // an internal_error alert. Error ERR_TLS_KEY_OPERATION_NOT_PENDING when none waits.
  std::optional<Error> FailKeyOperation(std::string message = {});
  // True from kSignRequest or kDecryptRequest until answered (or a failure).
  bool key_operation_pending() const;

  // ---- 0-RTT anti-replay (ServerContextOptions::early_data_check) --------------------------
  // AnswerEarlyData answers the pending kEarlyDataCheck and resumes the handshake: accept
  // lets BoringSSL take the early data (if the ticket and its age allow it); a refusal
  // rejects it (HandshakeInfo::early_data kRejected, reason "disabled") and the handshake
  // goes on as 1-RTT. Error ERR_TLS_EARLY_DATA_CHECK_NOT_PENDING (nothing changes) when no
  // check waits.
  std::optional<Error> AnswerEarlyData(bool accept);
  // True from kEarlyDataCheck until AnswerEarlyData() (or a failure).
  bool early_data_check_pending() const;

  // True while the handshake waits for the application to answer any pause: SNI, ALPN,
  // verification, an external session lookup, a private-key operation or an early-data check.
  bool pause_pending() const;

  // ExportKeyingMaterial derives |length| bytes from the connection's secrets (RFC 5705 /
  // RFC 8446, 7.5; Node's exportKeyingMaterial). |context| absent and empty differ in
  // TLS 1.2. Error ERR_TLS_EXPORT_KEYING_MATERIAL before the handshake completed, after a
  // failure, or when BoringSSL refuses.
  Result<std::vector<uint8_t>> ExportKeyingMaterial(
      size_t length, std::string_view label,
      std::optional<std::span<const uint8_t>> context = std::nullopt) const;

  // Node's getFinished() / getPeerFinished(): the verify_data of the last Finished message
  // this side sent / received in the handshake (12 bytes with the usual suites). TLS 1.2
  // only: BoringSSL does not expose TLS 1.3's Finished messages (use ChannelBinding
  // ("tls-exporter") there). Empty before the handshake completed, and in TLS 1.3.
  std::vector<uint8_t> finished_message() const;
  std::vector<uint8_t> peer_finished_message() const;
  // ChannelBinding returns the channel binding of |type| (RFC 5056), for an authentication
  // layer above TLS (SCRAM-*-PLUS, GSS-API):
  //  - "tls-unique" (RFC 5929): the first Finished message of the handshake. TLS 1.2 only,
  //    and on a resumed connection only when the extended master secret was used;
  //  - "tls-exporter" (RFC 9266): ExportKeyingMaterial(32, "EXPORTER-Channel-Binding", empty
  //    context). TLS 1.3, or TLS 1.2 with the extended master secret.
  // Error ERR_TLS_CHANNEL_BINDING for another type, before the handshake completed, after a
  // failure, or when |type| is not defined (or not safe) for this connection.
  Result<std::vector<uint8_t>> ChannelBinding(std::string_view type) const;

  // Client, after ERR_TLS_ECH_REJECTED: the ECHConfigList the server sent, authenticated by
  // its certificate for the public name, to connect again with (SessionOptions::
  // ech_config_list). Empty: the server has no ECH now; connect again without it. Empty
  // after any other outcome.
  std::vector<uint8_t> ech_retry_configs() const;

  // ---- Session lifecycle (core/session_lifecycle.cc) -----------------------------------
  // Client: the newest resumable session received (see kNewSession), else nullopt. Server:
  // nullopt.
  std::optional<SavedSession> saved_session() const;
  // Server, SessionCacheMode::kExternal: answers the pending kSessionLookup with the session
  // stored under its ID, or nullopt for a miss (a full handshake follows), and resumes the
  // handshake. Error ERR_TLS_SESSION_LOOKUP_NOT_PENDING (nothing changes) when none waits.
  std::optional<Error> AnswerSessionLookup(std::optional<SavedSession> found);
  bool session_lookup_pending() const;
  // KeyUpdate (TLS 1.3) puts a KeyUpdate in the output now: later records use new keys, and
  // with |request_peer| the peer updates its sending keys too. Error ERR_TLS_KEY_UPDATE when
  // the connection is not TLS 1.3, not established, closing or failed. The peer's key
  // updates are handled (and answered) without any call.
  std::optional<Error> KeyUpdate(bool request_peer = true);
  uint64_t key_updates_sent() const;  // by KeyUpdate() and the context options' budgets
  // Client: the OCSP response the server stapled (DER, not validated; a resumed session
  // keeps its original one), empty if none. Borrowed until the next call on this session.
  std::span<const uint8_t> ocsp_response() const;
  // TLS 1.3 0-RTT bytes sent (client) or received (server) on this connection. Server: the
  // first early_data_bytes() of the plaintext read are the early (replayable) part.
  uint64_t early_data_bytes() const;

 private:
  explicit Session(std::unique_ptr<SessionImpl> impl);
  std::unique_ptr<SessionImpl> impl_;
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_SESSION_H_
