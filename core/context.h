// Context: configuration shared by many sessions (Node's SecureContext + server/client options).
#ifndef SANSIO_TLS_CORE_CONTEXT_H_
#define SANSIO_TLS_CORE_CONTEXT_H_

#include <openssl/base.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ech.h"
#include "core/error.h"
#include "core/resumption.h"

namespace sansio_tls {

namespace internal {
struct ContextConfig;
struct Negotiation;
class SessionStore;
}  // namespace internal

enum class Role { kClient, kServer };

// Protocol versions (the wire values). The default range is TLS 1.2 to 1.3. TLS 1.0 and 1.1
// (RFC 8996 deprecates both) are only negotiated when min_version (ServerContextOptions,
// ClientContextOptions) is set to them explicitly, as Node's minVersion 'TLSv1'; see min_version's
// comment there for the risk.
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

// PskIdentity: what a client answers ClientContextOptions::psk_client_callback with.
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

// The TLS 1.2 cipher suites used when the options' |ciphers| is empty, in server preference
// order: ECDHE key exchange with AEAD encryption only (AES-GCM, ChaCha20-Poly1305), Mozilla's
// "intermediate" TLS 1.2 list. No CBC (Lucky13, padding oracles), no static RSA key exchange
// (no forward secrecy), no 3DES, RC4 or SHA-1 MACs. Every TLS 1.2 client of the last decade
// supports one of these.
inline constexpr char kDefaultCiphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The options of a Context, one struct per role (Node's tls.createServer and tls.connect
// options), so that an option of the other role cannot be set: ServerContextOptions for a
// server, ClientContextOptions for a client, each given to Context::Create. Fields both
// roles share have the same name, type, order and default in both. Defaults are the secure
// ones.
//
// Options both roles share, in the order both structs declare them:
//  - credentials: our certificate chain and key (server: required unless a PSK callback is
//    set; client: optional, presented when the server asks for one).
//  - ca_pems: trusted CA certificates (PEM, each string may hold several), to verify the peer.
//  - crl_pems: certificate revocation lists (PEM). When any is given, every certificate of the
//    peer's chain needs a current CRL from its issuer (Node's CRL_CHECK | CRL_CHECK_ALL): a
//    listed serial is CERT_REVOKED, none UNABLE_TO_GET_CRL.
//  - use_system_ca, system_ca_file: also trust the system CA bundle, the PEM file
//    system_ca_file, read by Create (parsed once per file version, process-wide). Off: only
//    ca_pems are trusted.
//  - verify_callback: pause every certificate verification with EventKind::kVerifyRequested
//    until Session::CompleteVerification(); the application's answer is final
//    (reject_unauthorized no longer applies to a certificate it judged). Off: our verdict.
//  - ciphers: TLS 1.2 cipher suites, OpenSSL syntax ("ECDHE-ECDSA-AES128-GCM-SHA256:..."),
//    most preferred first. Empty: kDefaultCiphers (ECDHE with AEAD only: forward secrecy, no
//    CBC, so no Lucky13-style padding oracles; docs/security.md). Any other list replaces it,
//    which is how a user widens it on purpose. TLS 1.3 suites are not configurable in this
//    BoringSSL (all three are AEAD).
//  - certificate_compression: RFC 8879 with brotli and zlib. A client offers it, a server
//    compresses its chain when the client offers it (TLS 1.3), and either side accepts a
//    compressed chain (decompressed to at most 1 MiB). On by default.
//  - ecdh_curve: key-exchange groups, most preferred first, colon-separated BoringSSL names
//    (Node's ecdhCurve): "X25519:P-256:P-384". Empty keeps BoringSSL's defaults. An unknown
//    name is an Error ERR_TLS_INVALID_ECDH_CURVE of Create.
//  - verify_algorithms, signing_algorithms: signature algorithms as IANA SignatureScheme code
//    points (0x0804 = rsa_pss_rsae_sha256), most preferred first: what the peer may sign with
//    (empty: BoringSSL's defaults plus Ed25519) and what we may sign with (empty: BoringSSL's
//    defaults). An unknown code point is an Error ERR_TLS_INVALID_SIGALGS.
//  - min_version, max_version: the versions negotiated, min_version <= max_version (else
//    ERR_TLS_INVALID_PROTOCOL_VERSION). The floor stays TLS 1.2 unless lowered here on
//    purpose. TLS 1.0/1.1 are legacy, for peers that cannot be upgraded: no AEAD suites, only
//    CBC with HMAC-SHA1 (Lucky13-style padding oracles; TLS 1.0 also BEAST) and MD5+SHA-1
//    handshake signatures. kDefaultCiphers holds TLS 1.2 suites only, so a lower min_version
//    also needs |ciphers| naming a suite those versions can use (e.g. "ECDHE-RSA-AES128-SHA"),
//    which then also applies to TLS 1.2 peers; Create refuses one without
//    (ERR_TLS_INVALID_CIPHERS). docs/security.md.
//  - reject_unauthorized: whether a peer certificate failing verification ends the handshake
//    (role-specific meaning below). Node's default is true on both sides, and so is ours.
//  - alpn_protocols: ALPN protocols, most preferred first (entries 1..255 bytes). Empty: none.
//  - npn_protocols: NPN protocols (TLS 1.2 only). Empty: off.
//  - session_timeout: lifetime in seconds of new sessions (TLS 1.2 IDs and tickets, TLS 1.3
//    tickets), judged by the session clock (SessionOptions::verify_time). Node's default. >= 1.
//  - session_tickets: issue (server) and offer (client) session tickets. Off: TLS 1.2 resumes
//    by session ID only and TLS 1.3 does not resume.
//  - early_data: TLS 1.3 0-RTT. Replayable: an attacker can deliver the same early data twice
//    (or to two servers); enable it only for requests that are safe to repeat. Server: accept
//    early data and issue tickets allowing it. Client: when resuming a session that allows it,
//    send data written before the handshake completes as early data. SessionOptions::early_data
//    overrides it per connection.
//  - key_update_after_bytes, key_update_after_records: TLS 1.3: a session sends a KeyUpdate
//    once this much was sent under one key, whichever comes first (checked after each write;
//    0 turns a budget off). The record default is AES-GCM's confidentiality limit (RFC 8446,
//    5.5).
//  - key_log: report the TLS secrets as NSS key-log lines (EventKind::kKeyLog), e.g. for
//    Wireshark. Anyone with the lines can decrypt the traffic: debugging only.

// ServerContextOptions configures a server Context (Node's tls.createServer options).
struct ServerContextOptions {
  // Our certificate chain and key: required, unless |psk_server_callback| is set (then, with
  // none, the server serves PSK suites only: ERR_TLS_MISSING_CERTIFICATE otherwise).
  Credentials credentials;
  std::vector<std::string> ca_pems;  // verify client certificates (request_cert) with these
  std::vector<std::string> crl_pems;
  bool use_system_ca = false;
  std::string system_ca_file = "/etc/ssl/certs/ca-certificates.crt";  // Debian's bundle
  bool verify_callback = false;
  std::string ciphers;
  // Choose the cipher suite by our order, not the client's (Node's honorCipherOrder,
  // SSL_OP_CIPHER_SERVER_PREFERENCE). On by default, unlike Node, so a client cannot pick the
  // weakest suite we accept.
  bool honor_cipher_order = true;
  bool certificate_compression = true;
  std::string ecdh_curve;
  std::vector<uint16_t> verify_algorithms;
  std::vector<uint16_t> signing_algorithms;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // Ask the client for a certificate (verified against |ca_pems|).
  bool request_cert = false;
  // With request_cert: a client whose certificate fails verification (or who sends none) is
  // refused before the application sees the connection. Off: it connects, unauthorized, with
  // HandshakeInfo::authorization_error saying why.
  bool reject_unauthorized = true;
  // Further certificate chains beside |credentials| (Node's arrays of key and cert), e.g. RSA
  // beside ECDSA. Per connection the server presents the first of |credentials|, then these in
  // order, whose key can sign with an algorithm the client offers (its signature_algorithms;
  // a client that sends none gets |credentials|). They serve the default credentials only: an
  // SNI match presents its own entry. Invalid entries are errors of Create that name them.
  std::vector<Credentials> alternative_credentials;
  // SNI contexts in the order added; a later match wins. Invalid patterns and credentials are
  // errors of Create that name the entry. No match or no SNI: |credentials|. A matched entry
  // changes only the credentials and client CAs; all else stays as here.
  std::vector<SniContext> sni_contexts;
  // A client name matching no |sni_contexts| entry pauses the handshake with
  // EventKind::kSniRequest until Session::AnswerSni(). Clients sending no SNI never pause.
  bool sni_callback = false;
  // Our order wins; no overlap with a client's list is a fatal no_application_protocol alert.
  std::vector<std::string> alpn_protocols;
  // Choose the ALPN protocol per connection (Node's ALPNCallback). A client offering ALPN
  // pauses the handshake with EventKind::kAlpnRequest (event::AlpnRequest: its list, in its
  // order, and its SNI name, if any) until Session::AnswerAlpn(); one not offering ALPN never
  // pauses. Exclusive with |alpn_protocols|, as in Node
  // (ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS).
  bool alpn_callback = false;
  std::vector<std::string> npn_protocols;  // advertised in this order
  // TLS 1.2 pre-shared keys (RFC 4279, 5489; Node's pskCallback). A PSK cipher suite (PSK-*,
  // ECDHE-PSK-*) authenticates both sides by the shared key instead of certificates: the
  // client is then authorized without one, and HandshakeInfo::psk_identity names the identity
  // used. TLS 1.3 does not use these keys: a PSK-only deployment sets max_version to kTls12.
  // With the callback set and |ciphers| empty, the suites are kDefaultCiphers then
  // ECDHE-PSK-CHACHA20-POLY1305 (the one PSK suite with forward secrecy and AEAD); a
  // |ciphers| list must name PSK suites itself. Given the identity the client sent, the
  // callback returns its key (1..256 bytes); nullopt: unknown identity, the handshake ends
  // with an unknown_psk_identity alert. It runs synchronously inside Session::Feed on the
  // thread driving that session (several sessions may call it at once from several threads)
  // and must not call into the session.
  std::function<std::optional<std::vector<uint8_t>>(std::string_view identity)> psk_server_callback;
  // The identity hint sent to clients choosing a PSK suite (Node's pskIdentityHint; at most
  // 128 bytes, no NUL byte); empty: none. Needs |psk_server_callback| (ERR_TLS_INVALID_CONFIG).
  std::string psk_identity_hint;
  uint32_t session_timeout = 300;
  bool session_tickets = true;
  // The keys sealing tickets (core/resumption.h); null: a fresh random ring of this
  // context's own.
  std::shared_ptr<TicketKeys> ticket_keys;
  // Where TLS 1.2 session-ID sessions live.
  SessionCacheMode session_cache = SessionCacheMode::kInternal;
  // kInternal: most sessions kept (least recently used evicted first).
  size_t session_cache_size = 20 * 1024;
  bool early_data = false;
  // With early_data: every ClientHello offering 0-RTT pauses the handshake with
  // EventKind::kEarlyDataCheck (event::EarlyDataCheck: the ticket identity the early data is
  // bound to, and how long to remember it) until Session::AnswerEarlyData(accept). A refusal
  // rejects the early data and the handshake goes on as 1-RTT (the client sends the data
  // again after it). For anti-replay across servers: accept only an identity no server has
  // seen within the window (store/redis, docs/fleet.md). Off: 0-RTT is accepted whenever
  // BoringSSL would (a replay to another server, or within its own process, goes unnoticed).
  bool early_data_check = false;
  uint64_t key_update_after_bytes = 0;
  uint64_t key_update_after_records = uint64_t{1} << 24;
  bool key_log = false;
  // Encrypted Client Hello (EXPERIMENTAL, draft 13; core/ech.h, docs/ech.md): the ECH keys,
  // most preferred first (MakeEchKey). Several keys rotate: a client holding any of their
  // configs is accepted; one holding none gets the retry configs and connects again. At least
  // one must be a retry config; needs TLS 1.3 (max_version). The inner ClientHello, once
  // decrypted, is what SNI selection, the SNI callback and HandshakeInfo::servername see;
  // when it cannot be decrypted, the outer one (the public name). Invalid keys:
  // ERR_TLS_INVALID_ECH_CONFIG. The Context keeps no private key.
  std::vector<EchKey> ech_keys;
};

// ClientContextOptions configures a client Context (Node's tls.connect options; the
// per-connection ones, such as the server name, are SessionOptions).
struct ClientContextOptions {
  // Our certificate chain and key, presented when the server asks for one; empty: none.
  Credentials credentials;
  std::vector<std::string> ca_pems;  // verify the server's certificate with these
  std::vector<std::string> crl_pems;
  bool use_system_ca = false;
  std::string system_ca_file = "/etc/ssl/certs/ca-certificates.crt";  // Debian's bundle
  bool verify_callback = false;
  std::string ciphers;
  bool certificate_compression = true;
  std::string ecdh_curve;
  std::vector<uint16_t> verify_algorithms;
  std::vector<uint16_t> signing_algorithms;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // A server certificate that fails verification (or a host name it does not match) ends the
  // handshake. Off: the handshake completes, unauthorized, with
  // HandshakeInfo::authorization_error saying why.
  bool reject_unauthorized = true;
  std::vector<std::string> alpn_protocols;  // offered in this order
  // Picks the first protocol the server advertises that it lists; with no overlap it sends
  // its first and reports none negotiated (HandshakeInfo::npn_protocol nullopt).
  std::vector<std::string> npn_protocols;
  // TLS 1.2 pre-shared keys (RFC 4279, 5489; Node's pskCallback): given the server's
  // identity hint ("" when it sent none), the identity and key to use; nullopt, or an
  // identity or key out of bounds, ends the handshake (ERR_SSL_PSK_IDENTITY_NOT_FOUND). A
  // PSK suite authenticates the server by the key: it is authorized without a certificate
  // and no host-name check applies (unlike Node, checkServerIdentity need not be replaced).
  // The cipher-suite rules are ServerContextOptions::psk_server_callback's. It runs
  // synchronously inside Session::Feed/Start on the thread driving that session and must not
  // call into the session.
  std::function<std::optional<PskIdentity>(std::string_view hint)> psk_client_callback;
  uint32_t session_timeout = 300;
  bool session_tickets = true;
  bool early_data = false;
  uint64_t key_update_after_bytes = 0;
  uint64_t key_update_after_records = uint64_t{1} << 24;
  bool key_log = false;
  // Ask the server to staple an OCSP response (Session::ocsp_response()).
  bool request_ocsp = false;
  // Fail the handshake (ERR_TLS_OCSP_MISSING) when none is stapled; implies request_ocsp.
  // The response's content is not validated here.
  bool require_ocsp = false;
  // Encrypted Client Hello (EXPERIMENTAL; docs/ech.md): without an ECHConfigList
  // (SessionOptions::ech_config_list), send a GREASE ECH extension, so that connections with
  // and without ECH look alike.
  bool ech_grease = false;
};

// Context is immutable once built (but for one internal hook, EnableKeyLogHook) and shared by
// reference count across sessions and threads. It owns the SSL_CTX and the trust store.
class Context {
 public:
  // Create validates |options| and builds the context. On failure the Error names what was
  // wrong (code ERR_TLS_INVALID_CONFIG or a more specific ERR_* code) and nothing is built.
  // The Context keeps no secret: not the private keys, passphrases or PKCS#12 data of any
  // Credentials in |options|, nor the ECH private keys (the caller's copy is left as it is).
  static Result<std::shared_ptr<const Context>> Create(const ServerContextOptions& options);
  static Result<std::shared_ptr<const Context>> Create(const ClientContextOptions& options);

  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Role role() const { return role_; }
  // A copy of the options this Context was built from, as kept (no secrets; a pfx's chain in
  // credentials.cert_chain_pem); nullopt for a Context of the other role. Returned by value:
  // keep the optional (auto kept = ctx->server_options();) before taking references into it.
  std::optional<ServerContextOptions> server_options() const;
  std::optional<ClientContextOptions> client_options() const;
  // The core's own view of the options (core/internal/context_config.h), not for applications.
  const internal::ContextConfig& config() const { return *config_; }

  // Borrowed; lives as long as this Context.
  SSL_CTX* ssl_ctx() const { return ssl_ctx_; }
  X509_STORE* trust_store() const { return store_; }

  // Server: the SNI context serving |servername| (sni_contexts rules, one hash lookup for
  // exact names), or null when the default credentials serve it.
  std::shared_ptr<const Context> ContextForServername(std::string_view servername) const;

 private:
  friend struct NegotiationCallbacks;
  friend struct LifecycleCallbacks;
  Context();
  // Both Create overloads: |options| copied into a ContextConfig of |role|, then built.
  template <class Options>
  static Result<std::shared_ptr<const Context>> CreateFor(const Options& options, Role role);
  // What CreateFor and the SNI and alternative-chain contexts run.
  static Result<std::shared_ptr<const Context>> CreateFromConfig(
      const internal::ContextConfig& config);
  // Validates and installs SNI contexts, ALPN and NPN (core/negotiation_context.cc); called
  // by Create. Forgets the SNI contexts' private keys.
  std::optional<Error> SetUpNegotiation();
  // Installs resumption, 0-RTT, key log, OCSP and the session clock
  // (core/session_lifecycle.cc); called by Create before SetUpNegotiation.
  std::optional<Error> SetUpLifecycle();
  // A session whose own context has key_log is switching to this one (SNI): BoringSSL reports
  // secrets through the SSL_CTX switched to, so this installs the key-log hook on ssl_ctx_,
  // once (core/session_lifecycle.cc). Sessions listening on this context still log nothing
  // unless it has key_log. A server context without key_log has no hook otherwise: BoringSSL
  // would format every handshake's lines only for them to be dropped. The store is a single
  // aligned pointer write into the SSL_CTX, which other threads' handshakes may be reading (as
  // Node's enableKeylogCallback does on a shared SSL_CTX).
  void EnableKeyLogHook() const;

  Role role_ = Role::kClient;
  std::unique_ptr<internal::ContextConfig> config_;  // never null
  SSL_CTX* ssl_ctx_ = nullptr;
  X509_STORE* store_ = nullptr;
  std::shared_ptr<internal::SessionStore> session_store_;     // server, SessionCacheMode::kInternal
  std::shared_ptr<const internal::Negotiation> negotiation_;  // set by SetUpNegotiation
  mutable std::once_flag key_log_hook_;                       // EnableKeyLogHook
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_CONTEXT_H_
