// Context: configuration shared by many sessions (Node's SecureContext + server/client options).
#ifndef SANSIO_TLS_CORE_CONTEXT_H_
#define SANSIO_TLS_CORE_CONTEXT_H_

#include <openssl/base.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ech.h"
#include "core/error.h"
#include "core/resumption.h"

namespace sansio_tls {

namespace internal {
struct Negotiation;
class SessionStore;
}  // namespace internal

enum class Role { kClient, kServer };

// Protocol versions (the wire values). The default range is TLS 1.2 to 1.3. TLS 1.0 and 1.1
// (RFC 8996 deprecates both) are only negotiated when ContextOptions::min_version is set to
// them explicitly, as Node's minVersion 'TLSv1'; see ContextOptions::min_version for the risk.
enum class TlsVersion : uint16_t {
  kTls10 = 0x0301,  // reported as "TLSv1"
  kTls11 = 0x0302,  // "TLSv1.1"
  kTls12 = 0x0303,  // "TLSv1.2"
  kTls13 = 0x0304,  // "TLSv1.3"
};

// Node's name of |v|: "TLSv1", "TLSv1.1", "TLSv1.2" or "TLSv1.3" ("" for any other value);
// static, NUL-terminated storage.
std::string_view TlsVersionName(TlsVersion v);

// Credentials: a private key with its certificate chain (PEM).
struct Credentials {
  std::string key_pem;         // PKCS#8 or traditional PEM, possibly encrypted
  std::string passphrase;      // for an encrypted key_pem and for pfx; ignored otherwise
  std::string cert_chain_pem;  // leaf first, then intermediates
  // PKCS#12 (DER) holding the key and chain instead of key_pem + cert_chain_pem (giving both
  // is an error). Its extra certificates extend our chain; unlike Node they are not trusted.
  // A Context keeps no secret: it clears key_pem, passphrase and pfx, and for a pfx fills
  // cert_chain_pem with the chain loaded from it.
  std::vector<uint8_t> pfx;
  std::string ocsp_response;  // server: DER OCSPResponse stapled for clients asking; empty: none
  // The private key is held by the application (an HSM, a remote signer), not by this
  // library: give the chain in cert_chain_pem and no key_pem, passphrase or pfx. The value
  // is the application's name for the key (any string, e.g. an HSM handle), reported as
  // event::SignRequest::key_label with each request. Every operation with the key pauses the
  // handshake with EventKind::kSignRequest (or kDecryptRequest: TLS 1.2 RSA key exchange) until
  // Session::CompleteKeyOperation() or FailKeyOperation(). The key's type and size are read
  // from the leaf certificate; that the application's key matches it is not checked (a
  // wrong signature fails at the peer). docs/credentials.md.
  std::optional<std::string> external_key;
};

// PskIdentity: what a client answers ContextOptions::psk_client_callback with.
struct PskIdentity {
  std::string identity;      // 0..128 bytes, no NUL byte; sent to the server in the clear
  std::vector<uint8_t> key;  // the pre-shared key, 1..256 bytes
};

// SniContext: credentials a server presents to clients asking for names matching |pattern|
// (Node's server.addContext). Pattern rules: core/negotiation/sni_matcher.h (`*` within one
// label, ASCII case-insensitive, trailing dot ignored, most recently added wins).
struct SniContext {
  std::string pattern;               // e.g. "example.com", "*.example.com"
  Credentials credentials;           // required
  std::vector<std::string> ca_pems;  // verify client certificates on these connections (own
                                     // list: the default's ca_pems are not inherited)
};

// The TLS 1.2 cipher suites used when ContextOptions::ciphers is empty, in server preference
// order: ECDHE key exchange with AEAD encryption only (AES-GCM, ChaCha20-Poly1305), Mozilla's
// "intermediate" TLS 1.2 list. No CBC (Lucky13, padding oracles), no static RSA key exchange
// (no forward secrecy), no 3DES, RC4 or SHA-1 MACs. Every TLS 1.2 client of the last decade
// supports one of these.
inline constexpr char kDefaultCiphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// ContextOptions configures a Context. Defaults are the secure ones.
struct ContextOptions {
  Role role = Role::kClient;

  // Our own certificate: required for a server, optional for a client
  // (presented when the server asks for one).
  Credentials credentials;

  // Trusted CA certificates (PEM, each string may hold several). Used to verify the peer.
  std::vector<std::string> ca_pems;
  // Certificate revocation lists (PEM, each string may hold several). When any is given,
  // every certificate of the peer's chain needs a current CRL from its issuer (Node's
  // CRL_CHECK | CRL_CHECK_ALL): a listed serial is CERT_REVOKED, none UNABLE_TO_GET_CRL.
  std::vector<std::string> crl_pems;
  // Also trust the system CA bundle: the PEM file |system_ca_file|, read by Create (parsed
  // once per file version, process-wide). Off: only |ca_pems| are trusted.
  bool use_system_ca = false;
  std::string system_ca_file = "/etc/ssl/certs/ca-certificates.crt";  // Debian's bundle
  // Pause every certificate verification with EventKind::kVerifyRequested until
  // Session::CompleteVerification(); the application's answer is final (reject_unauthorized
  // no longer applies to a certificate it judged). Off: our verdict stands.
  bool verify_callback = false;

  // TLS 1.2 cipher suites, OpenSSL syntax ("ECDHE-ECDSA-AES128-GCM-SHA256:..."), most
  // preferred first. Empty: kDefaultCiphers (ECDHE with AEAD only: forward secrecy, no CBC,
  // so no Lucky13-style padding oracles; see docs/security.md). Any other list replaces it,
  // which is how a user widens it on purpose (e.g. for TLS 1.2 clients without AES-GCM or
  // ChaCha20). TLS 1.3 suites are not configurable in this BoringSSL (all three are AEAD).
  std::string ciphers;
  // Server: choose the cipher suite by our order, not the client's (Node's honorCipherOrder,
  // SSL_OP_CIPHER_SERVER_PREFERENCE). On by default, unlike Node, so a client cannot pick
  // the weakest suite we accept. Client: unused.
  bool honor_cipher_order = true;
  // Certificate compression (RFC 8879) with brotli and zlib: a client offers it, a server
  // compresses its certificate chain when the client offers it (TLS 1.3), and either side
  // accepts a compressed chain (decompressed to at most 1 MiB). On by default.
  bool certificate_compression = true;
  // Key-exchange groups, most preferred first, colon-separated BoringSSL names (Node's
  // ecdhCurve): "X25519:P-256:P-384". Empty keeps BoringSSL's defaults. An unknown name is
  // an Error ERR_TLS_INVALID_ECDH_CURVE of Create.
  std::string ecdh_curve;
  // Signature algorithms as IANA SignatureScheme code points (0x0804 = rsa_pss_rsae_sha256),
  // most preferred first. |verify_algorithms|: what the peer may sign with; empty: our
  // defaults (BoringSSL's plus Ed25519). |signing_algorithms|: what we may sign with;
  // empty: BoringSSL's defaults. An unknown code point is an Error ERR_TLS_INVALID_SIGALGS.
  std::vector<uint16_t> verify_algorithms;
  std::vector<uint16_t> signing_algorithms;

  // The versions this side negotiates, min_version <= max_version (else Create fails with
  // ERR_TLS_INVALID_PROTOCOL_VERSION). The default floor is TLS 1.2 and stays there unless
  // lowered here on purpose. TLS 1.0/1.1 (kTls10, kTls11) are legacy, for peers that cannot
  // be upgraded: they have no AEAD suites, only CBC with HMAC-SHA1 (MAC-then-encrypt: Lucky13
  // style padding oracles; TLS 1.0 also BEAST) and sign handshakes with MD5+SHA-1.
  // kDefaultCiphers holds TLS 1.2 suites only, so a lower
  // min_version also needs |ciphers| naming a suite those versions can use (e.g.
  // "ECDHE-RSA-AES128-SHA"), which then also applies to TLS 1.2 peers; Create refuses a
  // min_version below TLS 1.2 without one (ERR_TLS_INVALID_CIPHERS). docs/security.md.
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;

  // Server: ask the client for a certificate. Client: unused.
  bool request_cert = false;
  // Client: a server certificate that fails verification ends the handshake.
  // Server (with request_cert): an unauthorized client is refused before the application
  // sees the connection. Node's default is true on both sides, and so is ours.
  bool reject_unauthorized = true;

  // Server: further certificate chains beside |credentials| (Node's arrays of key and cert),
  // e.g. RSA beside ECDSA. Per connection the server presents the first of |credentials|,
  // then these in order, whose key can sign with an algorithm the client offers (its
  // signature_algorithms; a client that sends none gets |credentials|). They serve the
  // default credentials only: an SNI match presents its own entry. Invalid entries are
  // errors of Create that name them; a client setting any is ERR_TLS_INVALID_CONFIG.
  std::vector<Credentials> alternative_credentials;

  // Server: SNI contexts in the order added; a later match wins. Invalid patterns and
  // credentials are errors of Create that name the entry. No match or no SNI: |credentials|.
  // A matched entry changes only the credentials and client CAs; all else stays as here.
  std::vector<SniContext> sni_contexts;
  // Server: a client name matching no |sni_contexts| entry pauses the handshake with
  // EventKind::kSniRequest until Session::AnswerSni(). Clients sending no SNI never pause.
  bool sni_callback = false;
  // ALPN protocols, most preferred first (entries 1..255 bytes). Server: its order wins; no
  // overlap with a client's list is a fatal no_application_protocol alert. Empty: no ALPN.
  std::vector<std::string> alpn_protocols;
  // Server: choose the ALPN protocol per connection (Node's ALPNCallback). A client offering
  // ALPN pauses the handshake with EventKind::kAlpnRequest (event::AlpnRequest: its list, in
  // its order, and its SNI name, if any) until Session::AnswerAlpn(); one
  // not offering ALPN never pauses. Exclusive with |alpn_protocols|, as in Node
  // (ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS).
  bool alpn_callback = false;
  // NPN protocols (TLS 1.2 only). Server: advertised in this order. Client: picks the first
  // advertised one it lists; with no overlap it sends its first and reports none
  // negotiated (HandshakeInfo::npn_protocol nullopt). Empty: off.
  std::vector<std::string> npn_protocols;

  // ---- TLS 1.2 pre-shared keys (RFC 4279, 5489; Node's pskCallback / pskIdentityHint) ----
  // A PSK cipher suite (PSK-*, ECDHE-PSK-*) authenticates both sides by the shared key
  // instead of certificates: the peer is then authorized without one (no certificate, no
  // host-name check), as in Node, and HandshakeInfo::psk_identity names the identity used.
  // TLS 1.3 does not use these keys (a TLS 1.3 handshake still authenticates by
  // certificate): a PSK-only deployment sets max_version to kTls12. With a callback set and
  // |ciphers| empty, the suites are kDefaultCiphers then ECDHE-PSK-CHACHA20-POLY1305 (the one
  // PSK suite with forward secrecy and AEAD); a |ciphers| list must name PSK suites itself.
  // The callbacks run synchronously inside Session::Feed/Start on the thread driving that
  // session (several sessions may call them at once from several threads) and must not call
  // into the session. Setting the other role's callback is ERR_TLS_INVALID_CONFIG.
  //
  // Client: given the server's identity hint ("" when it sent none), the identity and key to
  // use; nullopt, or an identity or key out of bounds, ends the handshake
  // (ERR_SSL_PSK_IDENTITY_NOT_FOUND).
  std::function<std::optional<PskIdentity>(std::string_view hint)> psk_client_callback;
  // Server: given the identity the client sent, its key (1..256 bytes); nullopt: unknown
  // identity, the handshake ends with an unknown_psk_identity alert. A server with this
  // callback may have no |credentials|; it then serves PSK suites only.
  std::function<std::optional<std::vector<uint8_t>>(std::string_view identity)> psk_server_callback;
  // Server: the identity hint sent to clients choosing a PSK suite (at most 128 bytes, no NUL
  // byte); empty: none. Needs |psk_server_callback|.
  std::string psk_identity_hint;

  // ---- Session lifecycle (core/resumption.h, core/session_lifecycle.cc) ----
  // Lifetime in seconds of new sessions (TLS 1.2 IDs and tickets, TLS 1.3 tickets), judged
  // by the session clock (SessionOptions::verify_time). Node's default. At least 1.
  uint32_t session_timeout = 300;
  // Issue (server) and offer (client) session tickets. Off: TLS 1.2 resumes by session ID
  // only and TLS 1.3 does not resume.
  bool session_tickets = true;
  // Server: the keys sealing tickets; null: a fresh random ring of this context's own.
  std::shared_ptr<TicketKeys> ticket_keys;
  // Server: where TLS 1.2 session-ID sessions live.
  SessionCacheMode session_cache = SessionCacheMode::kInternal;
  // Server, kInternal: most sessions kept (least recently used evicted first).
  size_t session_cache_size = 20 * 1024;
  // TLS 1.3 0-RTT. Replayable: an attacker can deliver the same early data twice (or to
  // two servers); enable it only for requests that are safe to repeat. Server: accept early
  // data and issue tickets allowing it. Client: when resuming a session that allows it,
  // send data written before the handshake completes as early data. SessionOptions can
  // override it per connection.
  bool early_data = false;
  // Server, with early_data: every ClientHello offering 0-RTT pauses the handshake with
  // EventKind::kEarlyDataCheck (event::EarlyDataCheck: the ticket identity the early data
  // is bound to, and how long to remember it) until Session::AnswerEarlyData(accept). A
  // refusal rejects the early data and the handshake goes on as 1-RTT (the client sends the
  // data again after it). For anti-replay across servers: accept only an identity no server
  // has seen within the window (store/redis, docs/fleet.md). Off: 0-RTT is accepted
  // whenever BoringSSL would (a replay to another server, or within its own process, goes
  // unnoticed).
  bool early_data_check = false;
  // TLS 1.3: a session sends a KeyUpdate once this much was sent under one key, whichever
  // comes first (checked after each write; 0 turns a budget off). The record default is
  // AES-GCM's confidentiality limit (RFC 8446, 5.5).
  uint64_t key_update_after_bytes = 0;
  uint64_t key_update_after_records = uint64_t{1} << 24;
  // Report the TLS secrets as NSS key-log lines (EventKind::kKeyLog), e.g. for Wireshark.
  // Anyone with the lines can decrypt the traffic: debugging only.
  bool key_log = false;
  // Client: ask the server to staple an OCSP response (Session::ocsp_response()).
  bool request_ocsp = false;
  // Client: fail the handshake (ERR_TLS_OCSP_MISSING) when none is stapled; implies
  // request_ocsp. The response's content is not validated here.
  bool require_ocsp = false;

  // ---- Encrypted Client Hello (EXPERIMENTAL, draft 13; core/ech.h, docs/ech.md) ----
  // Server: the ECH keys, most preferred first (MakeEchKey). Several keys rotate: a client
  // holding any of their configs is accepted; one holding none gets the retry configs and
  // connects again. At least one must be a retry config; needs TLS 1.3 (max_version). The
  // inner ClientHello, once decrypted, is what SNI selection, the SNI callback and
  // HandshakeInfo::servername see; when it cannot be decrypted, the outer one (the public
  // name). Invalid keys: ERR_TLS_INVALID_ECH_CONFIG. The Context keeps no private key.
  std::vector<EchKey> ech_keys;
  // Client: without an ECHConfigList (SessionOptions::ech_config_list), send a GREASE ECH
  // extension, so that connections with and without ECH look alike.
  bool ech_grease = false;
};

// Context is immutable once built and shared by reference count across sessions and
// threads. It owns the SSL_CTX and the trust store.
class Context {
 public:
  // Create validates |options| and builds the context. On failure the Error names what was
  // wrong (code ERR_TLS_INVALID_CONFIG or a more specific ERR_* code) and nothing is built.
  static Result<std::shared_ptr<const Context>> Create(const ContextOptions& options);

  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const ContextOptions& options() const { return options_; }
  Role role() const { return options_.role; }

  // Borrowed; lives as long as this Context.
  SSL_CTX* ssl_ctx() const { return ssl_ctx_; }
  X509_STORE* trust_store() const { return store_; }

  // Server: the SNI context serving |servername| (sni_contexts rules, one hash lookup for
  // exact names), or null when the default credentials serve it.
  std::shared_ptr<const Context> ContextForServername(std::string_view servername) const;

 private:
  friend struct NegotiationCallbacks;
  friend struct LifecycleCallbacks;
  Context() = default;
  // Validates and installs SNI contexts, ALPN and NPN (core/negotiation_context.cc); called
  // by Create. Forgets the SNI contexts' private keys.
  std::optional<Error> SetUpNegotiation();
  // Installs resumption, 0-RTT, key log, OCSP and the session clock
  // (core/session_lifecycle.cc); called by Create before SetUpNegotiation.
  std::optional<Error> SetUpLifecycle();

  ContextOptions options_;
  SSL_CTX* ssl_ctx_ = nullptr;
  X509_STORE* store_ = nullptr;
  std::shared_ptr<internal::SessionStore> session_store_;     // server, SessionCacheMode::kInternal
  std::shared_ptr<const internal::Negotiation> negotiation_;  // set by SetUpNegotiation
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_CONTEXT_H_
