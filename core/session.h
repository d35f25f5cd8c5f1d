// Session: one TLS connection, client or server, with no I/O of its own (Node's SecurePair).
//
// The caller moves bytes: ciphertext received from the network goes in with Feed() (and
// FeedEof() when the transport ends), ciphertext to send is borrowed with PendingOutput()
// and released with ConsumeOutput(). Plaintext goes in with Write() and comes out with
// Read(). After any call, NextEvent() yields what happened, in order.
//
// A Session never opens a socket, starts a thread, reads a clock or calls into the
// application: BoringSSL's callbacks only record facts and queue events. It is not
// thread-safe; use one session from one thread at a time.
#ifndef SANSIO_TLS_CORE_SESSION_H_
#define SANSIO_TLS_CORE_SESSION_H_

#include <openssl/base.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "core/internal/bio.h"
#include "core/internal/buffer.h"

namespace sansio_tls {

// What the handshake settled. Strings are empty when the value does not apply, except the
// negotiated protocols, which are "none" when nothing was negotiated (Node's convention).
struct HandshakeInfo {
  bool authorized = false;          // the peer's certificate verified (and, client, its name)
  std::string authorization_error;  // Error code when !authorized and a certificate was checked
  std::string protocol;             // "TLSv1.2" / "TLSv1.3"
  std::string cipher;               // standard name, e.g. "TLS_AES_128_GCM_SHA256"
  std::string servername;           // SNI: what the client sent (server) or asked for (client)
  std::string alpn_protocol = "none";
  std::string npn_protocol = "none";
  bool session_reused = false;
};

enum class EventKind {
  kHandshakeDone,  // |handshake| is set; plaintext may flow both ways now
  kReadable,       // plaintext became available: Read() until it returns 0
  kPeerClosed,     // the peer sent close_notify: a clean end of its data
  kPeerTruncated,  // the transport ended without close_notify: the peer's data may be cut short
  kError,          // fatal; |error| is set; the session is dead (pending alert can be flushed)
};

struct Event {
  EventKind kind;
  HandshakeInfo handshake;  // kHandshakeDone
  Error error;              // kError
};

const char* EventKindName(EventKind kind);

// Per-connection options.
struct SessionOptions {
  // Client: the name sent as SNI (not sent for IP literals) and checked against the server's
  // certificate. Server: unused (the client's SNI is reported in HandshakeInfo::servername).
  std::string servername;
  // Client: the host connected to, checked when |servername| is empty ("localhost" if both are).
  std::string host;
  // Time (unix seconds) at which certificate validity is judged. Unset: the wall clock,
  // read by BoringSSL. Tests set it to check expiry without waiting.
  std::optional<int64_t> verify_time;
  // Bound on plaintext accepted by Write() but not yet handed out as ciphertext (queued
  // before the handshake, or encrypted and not yet consumed). Write() accepts less when full.
  size_t max_write_buffer = 64 * 1024;
  // Bound on received plaintext not yet Read(). Feed() takes less when full.
  size_t max_read_buffer = 64 * 1024;
};

class Session : private internal::BioEndpoint {
 public:
  // Creates a session for |context|'s role. The session holds a reference to |context|.
  // Returns an Error only for invalid |options| (e.g. a malformed servername).
  static Result<std::unique_ptr<Session>> Create(std::shared_ptr<const Context> context,
                                                 SessionOptions options = {});
  ~Session() override;
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

  // ---- Ciphertext out ------------------------------------------------------------------
  // PendingOutput borrows the oldest contiguous run of ciphertext waiting to be sent (empty
  // when none). The bytes stay valid and unchanged until ConsumeOutput() releases them, even
  // across other calls on this session, so an asynchronous write needs no copy. Send the
  // bytes in order; call again after ConsumeOutput() for the next run.
  std::span<const uint8_t> PendingOutput() const;
  // ConsumeOutput releases the first |n| bytes of PendingOutput() (n <= its size).
  void ConsumeOutput(size_t n);
  // Total ciphertext waiting to be sent (possibly spanning several runs).
  size_t pending_output_bytes() const { return output_.size(); }

  // ---- Plaintext -----------------------------------------------------------------------
  // Write queues |data| to be encrypted and sent; before the handshake completes it is held
  // and sent in order once it does. Returns how much was accepted (bounded by
  // SessionOptions::max_write_buffer); 0 once the session has failed or Close() was called.
  size_t Write(std::span<const uint8_t> data);
  // Read copies received plaintext into |out|; returns the number of bytes copied (0 when
  // none is buffered). Reading makes room: the session may then take more input.
  size_t Read(std::span<uint8_t> out);
  size_t readable_bytes() const { return plaintext_in_.size(); }

  // Close starts a clean close: once everything written so far has been encrypted, a
  // close_notify follows it. The peer may keep sending until it closes too (half-close).
  void Close();

  // ---- Events and state ----------------------------------------------------------------
  // NextEvent pops the oldest unread event, or nullopt when there is none.
  std::optional<Event> NextEvent();

  Role role() const { return context_->role(); }
  bool handshake_done() const { return handshake_done_; }
  bool failed() const { return error_.has_value(); }
  // The sticky fatal error, if any.
  const std::optional<Error>& error() const { return error_; }
  bool peer_closed() const { return peer_closed_; }    // close_notify or EOF received
  bool close_sent() const { return close_sent_; }      // our close_notify is in the output
  // True when nothing more will happen: failed or closed both ways, and output flushed.
  bool finished() const;

  // Valid after kHandshakeDone (default values before).
  const HandshakeInfo& handshake_info() const { return info_; }
  bool authorized() const { return info_.authorized; }
  const std::string& authorization_error() const { return info_.authorization_error; }

  // Borrowed; for advanced use (extra BoringSSL queries). Do not drive I/O through it.
  SSL* ssl() const { return ssl_; }

 private:
  friend struct SessionCallbacks;
  Session(std::shared_ptr<const Context> context, SessionOptions options);

  bool Init();
  void Drive();
  void DriveHandshake();
  void OnHandshakeDone();
  void FlushPendingWrites();
  void ReadRecords();
  void MaybeSendClose();
  size_t WriteNow(std::span<const uint8_t> data);
  void Fail(Error error);
  Error ErrorFromSsl(int ssl_error, const char* during);
  void Push(Event event);
  size_t write_room() const;

  // Verification, called from BoringSSL's custom-verify callback; returns an
  // ssl_verify_result_t.
  int VerifyPeer(uint8_t* out_alert);

  // internal::BioEndpoint
  size_t ReadCiphertext(std::span<uint8_t> out) override;
  bool AtEof() const override;
  void WriteCiphertext(std::span<const uint8_t> data) override;

  std::shared_ptr<const Context> context_;
  SessionOptions options_;
  SSL* ssl_ = nullptr;

  internal::ByteQueue input_;         // ciphertext taken but not yet read by BoringSSL
  std::span<const uint8_t> feed_;     // the Feed() argument, read in place during Feed()
  internal::ChunkQueue output_;       // ciphertext written by BoringSSL, not yet consumed
  internal::ByteQueue pending_write_;  // plaintext accepted before the handshake completed
  internal::ByteQueue plaintext_in_;  // decrypted, not yet Read()
  std::vector<Event> events_;          // unread events start at events_head_
  size_t events_head_ = 0;

  HandshakeInfo info_;
  std::optional<Error> error_;
  bool verify_done_ = false;
  bool verify_rejected_ = false;      // our verifier ended the handshake
  std::string hostname_reason_;       // why the host-name check failed
  bool eof_ = false;
  bool handshake_done_ = false;
  bool peer_closed_ = false;
  bool close_requested_ = false;
  bool close_sent_ = false;
  bool in_drive_ = false;
  std::optional<uint8_t> alert_sent_, alert_received_;
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_SESSION_H_
