// Session resumption and 0-RTT: saved sessions (client), ticket keys and session caches
// (server). How a Session uses them: session.h; the options: context.h.
//
// Resumption skips certificate verification, as in Node: a resumed session reports the
// authorized / authorization_error of the handshake that created it, carried inside the
// saved session (client) or the ticket / cache entry (server). Two safeguards are ours:
//  - a client offers a saved session only if it carries a checked server certificate, for
//    the name it was verified for, with a result that would pass this context's
//    reject_unauthorized; otherwise it does a full handshake;
//  - a server resumes an unauthorized client only where it would accept one in a full
//    handshake (reject_unauthorized false).
#ifndef SANSIO_TLS_CORE_RESUMPTION_H_
#define SANSIO_TLS_CORE_RESUMPTION_H_

#include <openssl/base.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sansio_tls {

// How a handshake treated TLS 1.3 early data (0-RTT).
enum class EarlyData : uint8_t {
  kNotOffered,  // none was offered (also: not TLS 1.3, no 0-RTT-capable session, disabled)
  kAccepted,    // the server took it: delivered before the handshake completed (replayable!)
  kRejected,    // offered but refused: the server discarded it; the client sent it again as
                // ordinary data right after the handshake (the application need not resend)
};
const char* EarlyDataName(EarlyData e);  // "none", "accepted", "rejected"

// Where a server keeps TLS 1.2 session-ID sessions. Tickets (TLS 1.2 and 1.3) need no
// server state and work in every mode unless *ContextOptions::session_tickets is false.
enum class SessionCacheMode : uint8_t {
  kOff,       // no session IDs are issued
  kInternal,  // an in-memory LRU cache owned by the Context (session_cache_size entries)
  kExternal,  // the application's: EventKind::kNewSession to store, kSessionLookup to find
};

namespace internal {
// The verification result a session carries, so that resuming it reports the original one.
struct AuthInfo {
  bool verified = false;  // a peer certificate was checked (false: none was sent/checked)
  bool authorized = false;
  std::string error;       // authorization_error when !authorized
  std::string servername;  // client: the name the certificate was checked against

  friend bool operator==(const AuthInfo&, const AuthInfo&) = default;
};
struct SavedSessionState;
}  // namespace internal

// SavedSession is one resumable TLS session: a TLS 1.3 ticket, or a TLS 1.2 session ID
// and/or ticket, with its secrets and the verification result of its handshake.
// Immutable and cheap to copy (copies share one reference-counted state); usable from any
// thread. It holds secrets: store the bytes as carefully as a private key. A TLS 1.3
// session should be offered only once (reuse lets observers link the connections).
class SavedSession {
 public:
  // FromBytes parses what ToBytes() produced (in any process running this library). Any
  // other input, including a verification result no handshake produces (e.g. authorized
  // with an error code), is an Error ERR_TLS_INVALID_SESSION; nothing is kept from it.
  static Result<SavedSession> FromBytes(std::span<const uint8_t> bytes);
  // ToBytes serializes the session for storage (a versioned, self-describing format).
  std::vector<uint8_t> ToBytes() const;

  // The TLS 1.2 session ID a server looks it up by (empty for ticket-only sessions).
  std::vector<uint8_t> id() const;
  std::string protocol() const;       // "TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1"
  int64_t time() const;               // creation, unix seconds (the creating session's clock)
  uint32_t timeout() const;           // lifetime in seconds from time()
  bool ExpiredAt(int64_t now) const;  // now outside [time(), time() + timeout())
  bool has_ticket() const;            // client: resumes by ticket
  bool early_data_capable() const;    // the server allowed 0-RTT on this session

  // The verification result of the handshake that made the session.
  bool authorized() const;
  const std::string& authorization_error() const;
  // Client: the name the server certificate was checked against; it is offered only to
  // sessions with the same name (SessionOptions::servername, else host, else "localhost").
  const std::string& servername() const;

  // Borrowed; valid as long as any copy of this SavedSession lives.
  SSL_SESSION* ssl_session() const;

  // Internal: wraps |session| (ownership taken; must not be null) with |auth|.
  static SavedSession Wrap(bssl::UniquePtr<SSL_SESSION> session, internal::AuthInfo auth);
  const internal::AuthInfo& auth() const;

 private:
  explicit SavedSession(std::shared_ptr<const internal::SavedSessionState> state);
  std::shared_ptr<const internal::SavedSessionState> state_;
};

// TicketKeys: the keys that seal and open session tickets (AES-256-GCM, random nonces).
// A server Context uses ServerContextOptions::ticket_keys, or a fresh ring of its own. Share one
// ring between contexts (e.g. across a credential reload) and tickets stay valid; copy keys
// between processes with Get()/Set() to share tickets across a fleet. All methods are
// thread-safe and may run while sessions use the keys.
//
// A ticket embeds the key name; a ticket whose key is gone, or that fails to open, is
// ignored and the connection makes a full handshake. Keys are never rotated by time here
// (the core reads no clock): call Rotate() on the application's schedule, e.g. every
// session_timeout, with window >= 1 so tickets issued just before a rotation still open.
class TicketKeys {
 public:
  static constexpr size_t kKeySize = 48;  // 16-byte name || 32-byte secret
  static constexpr size_t kMaxKeys = 64;
  using Key = std::array<uint8_t, kKeySize>;

  // Create makes a ring holding one fresh random key. |window| is how many previous keys
  // keep opening tickets after Rotate() (at most kMaxKeys - 1).
  static std::shared_ptr<TicketKeys> Create(size_t window = 1);
  ~TicketKeys();
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  // Rotate makes a fresh random key current (it seals from now on); the previous keys keep
  // opening tickets, the oldest beyond |window| are forgotten.
  void Rotate();
  // Get returns the keys, current first. Secret: anyone holding them can open tickets.
  std::vector<Key> Get() const;
  // Set replaces every key: keys[0] seals, all open. Returns an Error (nothing changes) with
  // code ERR_TLS_INVALID_TICKET_KEYS for an empty list, more than kMaxKeys keys or a
  // repeated name. The window applies again from the next Rotate().
  std::optional<Error> Set(std::span<const Key> keys);
  size_t window() const { return window_; }

  // ---- Ticket-key files (core/ticket_key_file.cc; format: docs/fleet.md) ----
  // A key file is text: one key per line, base64 (RFC 4648, padding optional) of 48 or 80
  // bytes; blank lines and lines starting with '#' are ignored; the first key seals, all
  // open. A file that is not such text but exactly 48 or 80 raw bytes is one key as nginx
  // writes it (`openssl rand 80 > ticket.key`, ssl_session_ticket_key). A 48-byte key is
  // used as is (16-byte name || 32-byte secret); an 80-byte key (nginx/HAProxy AES-256:
  // name || 32-byte HMAC key || 32-byte AES key) keeps its name, and its secret is
  // HKDF-SHA256 of the other 64 bytes (info "sansio-tls ticket key"). Only the keys are
  // shared with nginx, not the ticket format: servers of this library open each other's
  // tickets, not nginx's.
  //
  // ParseKeyFile returns the keys of one file's |content|, or an Error
  // ERR_TLS_INVALID_TICKET_KEYS naming |name| (for messages) and the offending line.
  static Result<std::vector<Key>> ParseKeyFile(std::span<const uint8_t> content,
                                               std::string_view name = "ticket key file");
  // LoadFiles reads |paths| in order and Set()s their keys, concatenated: the first key of
  // the first file seals (several nginx files: ssl_session_ticket_key repeated). Call it
  // again to reload after the files changed; sessions in progress are unaffected. On an
  // unreadable or invalid file, or an invalid set (Set()), returns the Error and changes
  // nothing. Reads files: call it outside latency-sensitive paths.
  std::optional<Error> LoadFiles(std::span<const std::string> paths);
  // FromFiles is Create() then LoadFiles(paths).
  static Result<std::shared_ptr<TicketKeys>> FromFiles(std::span<const std::string> paths);

  // Internal (ticket sealing): Seal writes name || nonce || ciphertext || tag to |out|
  // (at most in.size() + kOverhead bytes); Open reverses it. Both return false on failure
  // (Open: unknown key name, tampered or truncated ticket).
  static constexpr size_t kOverhead = 16 + 12 + 16;
  bool Seal(std::span<const uint8_t> in, uint8_t* out, size_t max_out, size_t* out_len) const;
  bool Open(std::span<const uint8_t> in, std::vector<uint8_t>* out) const;

 private:
  struct Ring;
  explicit TicketKeys(size_t window);
  const size_t window_;
  std::unique_ptr<Ring> ring_;
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_RESUMPTION_H_
