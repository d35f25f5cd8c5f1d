// Fuzz target: the session lifecycle across two connections of one client and one server
// context: resumption (TLS 1.3 tickets, TLS 1.2 tickets and session IDs, internal and
// external caches, expiry), 0-RTT, the verification pause (verify_callback), external
// private keys (signing pauses answered at once, late, never, or with a failure), OCSP
// stapling and key logging, with the saved session optionally damaged between the
// connections.
//
// Input: two ClientConfig bytes, two ServerConfig bytes (fuzz_support.h; here their spare
// bits also choose Encrypted Client Hello: server byte 1 bits 6-7 the server's ECH keys, 0
// none, 1 {A}, 2 {B, then A no longer advertised: rotation}, 3 {B}; client byte 1 bits 6-7
// 0 none, 1 GREASE, 2 config A, 3 config B; public name "localhost"; only where TLS 1.3 is
// allowed; and the config byte 0 bits this target does not otherwise use (chunking,
// eof_at_end, echo serve the lone-session targets) choose the ALPN callback and certificate
// compression: server byte 0 bits 4-5 the server's alpn_callback (replacing its ALPN list)
// and when kAlpnRequest is answered, 0 no callback, 1 at once (or by an Answer operation
// with L1 bit 4), 2 late (only once the script ended), 3 never; bit 6 the answer is a
// refusal (else the client's first protocol); bit 7 the server's certificate_compression
// off; client byte 0 bit 7 the client's certificate_compression off; all zero: as before
// these existed. No callback where the SNI callback may switch contexts), three lifecycle
// bytes, the damage (U16 offset, Byte mode), read-buffer byte, write-buffer byte, then the
// first connection's operations (Driver::RunOps, fuzz/pair_driver.h) up to opcode 15, then
// the second connection's. The second connection offers the session the first one saved.
//   L0: bit 0 session_tickets off; bits 1-2 server session_cache (0, 3 internal, 1 off,
//       2 external); bit 3 early_data; bit 4 the server staples OCSP; bit 5 the client asks
//       (request_ocsp); bit 6 the client insists (require_ocsp); bit 7 key_log
//   L1: bit 0 client verify_callback, bit 1 its answer is accept (else reject); bits 2-3 the
//       same for the server; bit 4 answers wait for an Answer operation; bit 5 the external
//       cache misses; bits 6-7 the second connection's clock: +0, +timeout-1, +timeout, +1 s
//   L2: bits 0-1 session_timeout 300, 1, 2 or 86400 s; bit 2 the second client overrides
//       early_data with bit 3; bits 4-5 the server's key is external (Credentials::
//       external_key) and its signing pauses are answered: 0 no external key, 1 at once (or
//       by an Answer operation with L1 bit 4), 2 late (only once the script ended), 3 never
//       (the handshake bound ends the connection); bit 6 the client's certificate key is
//       external too; bit 7 the answers are failures (FailKeyOperation)
//   damage mode: 0 none; 2 cut the saved bytes at offset; otherwise XOR the byte at offset
//
// Invariants: everything the pair target checks, for both connections; plus: a damaged
// session either fails to parse with ERR_TLS_INVALID_SESSION or is a fault; and, when the
// configurations are compatible and nothing was faulted: both connections complete with
// every byte delivered once and in order (0-RTT data too, accepted or sent again); both
// sides agree on session_reused and on the 0-RTT outcome; only an offered, unexpired
// session resumes; a resumed connection reports the first connection's verification
// result on both sides; 0-RTT is accepted only on a resumed connection; a requested
// staple arrives intact, an unrequested one never; require_ocsp without a staple fails with
// ERR_TLS_OCSP_MISSING; key-log lines appear exactly when key_log is set; a rejected
// verification fails with the application's code; a side whose key request was never
// answered fails with ERR_TLS_PAUSE_UNANSWERED at its handshake bound and no handshake
// completes; one answered with a failure fails with ERR_TLS_KEY_OPERATION_FAILED and its
// peer receives internal_error; answered signatures (at once or late) complete like keys
// held in memory. ECH: a config the server holds is accepted on both sides; one it does not
// hold fails the client with ERR_TLS_ECH_REJECTED carrying exactly the server's retry
// configs (none from a server without ECH), and the server never sees the inner name;
// GREASE and no ECH complete as without it and are reported so. ALPN callback: a client
// offering ALPN pauses the server once (kAlpnRequest with the client's list), never
// otherwise; an answered protocol is the one both sides report (both sides always report the
// same protocol); a refusal fails the server and the client with no_application_protocol;
// a request never answered ends the server at its handshake bound with
// ERR_TLS_PAUSE_UNANSWERED and no handshake completes; an answer the client did not offer is
// refused (ERR_TLS_ALPN_CALLBACK_INVALID_RESULT) and changes nothing. Certificate
// compression on or off, either side, completes exactly as without it (the expectation above
// ignores it); a TLS 1.3 full handshake delivers the server's certificate compressed
// exactly when both sides have it on, and a server receives a compressed client
// certificate only then (SessionOptions::trace shows the messages).
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hpke.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/session.h"
#include "core/testing/key_signer.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/pair_driver.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;

namespace {

const std::string kOcsp = std::string("\x30\x03\x0a\x01\x00", 5) + "fuzz-ocsp-response";
constexpr uint32_t kTimeouts[4] = {300, 1, 2, 86400};

struct Lifecycle {
  bool tickets_off, early_data, staple, request_ocsp, require_ocsp, key_log;
  SessionCacheMode cache;
  bool client_verify, client_accept, server_verify, server_accept, deferred, lookup_miss;
  int clock;  // 0..3, see the header
  uint32_t timeout;
  std::optional<bool> client_early_override;
  int key_mode;  // 0: keys in memory; 1 at once, 2 late, 3 never (see the header)
  bool client_key_external, key_fails;
  // From the config bytes' spare bits (see the header).
  int alpn_mode = 0;  // 0: no alpn_callback; 1 at once, 2 late, 3 never
  bool alpn_refuse = false;
  bool client_offers_alpn = false;
  bool server_compress = true, client_compress = true;
  // The SNI callback may serve AltServerContext() (its own ALPN list, compression on).
  bool sni_switch = false;

  bool alpn_callback() const { return alpn_mode != 0; }
  // True when the ALPN pause, once made, keeps the handshake from completing.
  bool alpn_blocks() const {
    return alpn_callback() && client_offers_alpn && (alpn_refuse || alpn_mode == 3);
  }
  SessionChecker::AlpnAnswer alpn_answer() const {
    if (alpn_mode == 3) return SessionChecker::AlpnAnswer::kNever;
    return alpn_mode == 2 ? SessionChecker::AlpnAnswer::kLate : SessionChecker::AlpnAnswer::kAtOnce;
  }
  // The spare bits of the config bytes (unused by this target's ClientConfig/ServerConfig:
  // their chunking, eof_at_end and echo serve the lone-session targets). The callback is
  // left off where the SNI callback may switch to a context with its own ALPN list.
  void SetConfigBits(uint8_t c0, uint8_t s0, const ClientConfig& cc, const ServerConfig& sc) {
    sni_switch = (sc.sni_mode & 2) && sc.sni_answer != 0;
    alpn_mode = sni_switch ? 0 : (s0 >> 4) & 3;
    alpn_refuse = s0 & 0x40;
    client_offers_alpn = cc.alpn != 0;
    server_compress = !(s0 & 0x80);
    client_compress = !(c0 & 0x80);
  }

  bool external() const { return key_mode != 0; }
  SessionChecker::KeyAnswer key_answer() const {
    if (key_mode == 3) return SessionChecker::KeyAnswer::kNever;
    if (key_fails) return SessionChecker::KeyAnswer::kFail;
    return key_mode == 2 ? SessionChecker::KeyAnswer::kLate : SessionChecker::KeyAnswer::kAtOnce;
  }
  // True when a key request, once made, keeps the handshake from completing.
  bool key_blocks() const { return key_mode == 3 || (external() && key_fails); }

  static Lifecycle From(uint8_t l0, uint8_t l1, uint8_t l2) {
    Lifecycle l;
    l.tickets_off = l0 & 1;
    int cache = (l0 >> 1) & 3;
    l.cache = cache == 1   ? SessionCacheMode::kOff
              : cache == 2 ? SessionCacheMode::kExternal
                           : SessionCacheMode::kInternal;
    l.early_data = l0 & 8;
    l.staple = l0 & 16;
    l.request_ocsp = l0 & 32;
    l.require_ocsp = l0 & 64;
    l.key_log = l0 & 128;
    l.client_verify = l1 & 1;
    l.client_accept = l1 & 2;
    l.server_verify = l1 & 4;
    l.server_accept = l1 & 8;
    l.deferred = l1 & 16;
    l.lookup_miss = l1 & 32;
    l.clock = (l1 >> 6) & 3;
    l.timeout = kTimeouts[l2 & 3];
    if (l2 & 4) l.client_early_override = (l2 & 8) != 0;
    l.key_mode = (l2 >> 4) & 3;
    l.client_key_external = l.external() && (l2 & 64);
    l.key_fails = l2 & 128;
    return l;
  }

  int64_t Advance() const {
    switch (clock) {
      case 1:
        return timeout - 1;
      case 2:
        return timeout;
      case 3:
        return 1;
      default:
        return 0;
    }
  }
};

// The server's external session cache: what kNewSession stored, found by ID.
struct ExternalCache {
  std::vector<SavedSession> sessions;
  bool miss = false;

  std::optional<SavedSession> Find(std::string_view id) const {
    if (miss) return std::nullopt;
    for (auto it = sessions.rbegin(); it != sessions.rend(); ++it) {
      std::vector<uint8_t> sid = it->id();
      if (std::string_view(reinterpret_cast<const char*>(sid.data()), sid.size()) == id) return *it;
    }
    return std::nullopt;
  }
};

// True when connections of these configurations must complete (Compatible, with the
// application's verification answers and the OCSP requirement applied).
bool Expected(ClientConfig cc, ServerConfig sc, const Lifecycle& l) {
  if (l.client_verify) {
    if (!l.client_accept) return false;  // the server always presents a certificate
    cc.reject_unauthorized = false;      // the application's answer is final
  }
  if (l.server_verify && sc.request_cert && cc.with_certificate) {
    if (!l.server_accept) return false;
    sc.reject_unauthorized = false;
  }
  // Only the default credentials staple; SNI may serve others.
  if (l.require_ocsp && (!l.staple || sc.sni_mode != 0)) return false;
  if (l.alpn_callback()) {
    if (l.alpn_blocks()) return false;
    sc.alpn = false;  // the callback replaces the list: it answers one the client offered
  }
  // Certificate compression (either side, on or off) changes nothing here.
  return Compatible(cc, sc);
}

struct Connection {
  std::optional<Session> client, server;
  std::unique_ptr<Driver> driver;
};

// The fixed PKI's keys, for the application's side of external keys.
EVP_PKEY* FixedKey(const std::string& pem) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  FUZZ_CHECK(key != nullptr, "the fixed PKI's key does not parse");
  return key;
}
EVP_PKEY* ServerKey() {
  static EVP_PKEY* key = FixedKey(FixedPki().server_key_pem);
  return key;
}
EVP_PKEY* ClientKey() {
  static EVP_PKEY* key = FixedKey(FixedPki().client_key_pem);
  return key;
}
SessionChecker::Signer SignerWith(EVP_PKEY* key) {
  return [key](const Event& request) { return testing::KeyOperationResult(key, request); };
}

// ---- Encrypted Client Hello ----
// Fixed ECH keys A and B (deterministic: no randomness drawn), public name "localhost".
EchKey FixedEchKey(uint8_t id, uint8_t fill, bool retry) {
  uint8_t secret[32];
  for (uint8_t& b : secret) b = fill;
  bssl::ScopedEVP_HPKE_KEY key;
  FUZZ_CHECK(EVP_HPKE_KEY_init(key.get(), EVP_hpke_x25519_hkdf_sha256(), secret, sizeof secret),
             "fixed ECH key");
  uint8_t* config = nullptr;
  size_t len = 0;
  FUZZ_CHECK(SSL_marshal_ech_config(&config, &len, id, key.get(), "localhost", 0),
             "fixed ECH config");
  EchKey k{std::vector<uint8_t>(secret, secret + sizeof secret),
           std::vector<uint8_t>(config, config + len), retry};
  OPENSSL_free(config);
  return k;
}

struct EchSetup {
  int server = 0;  // 0 none, 1 {A}, 2 {B, A not retried}, 3 {B} (after TLS 1.3 check)
  int client = 0;  // 0 none, 1 GREASE, 2 config A, 3 config B (after TLS 1.3 check)

  static EchSetup From(uint8_t c1, uint8_t s1, const ClientConfig& cc, const ServerConfig& sc) {
    EchSetup e;
    auto tls13 = [](int versions) { return versions != 2; };  // 0, 3 both; 1 TLS 1.3 only
    if (tls13(sc.versions)) e.server = (s1 >> 6) & 3;
    if (tls13(cc.versions)) e.client = (c1 >> 6) & 3;
    return e;
  }
  bool offered() const { return client >= 2; }
  bool server_holds() const {
    return (client == 2 && (server == 1 || server == 2)) ||
           (client == 3 && (server == 2 || server == 3));
  }
  std::vector<EchKey> ServerKeys() const {
    EchKey a = FixedEchKey(1, 0xa1, server == 1), b = FixedEchKey(2, 0xb2, true);
    switch (server) {
      case 1:
        return {a};
      case 2:
        return {b, a};
      case 3:
        return {b};
      default:
        return {};
    }
  }
  std::vector<uint8_t> ClientList() const {
    if (!offered()) return {};
    std::vector<EchKey> one = {client == 2 ? FixedEchKey(1, 0xa1, true)
                                           : FixedEchKey(2, 0xb2, true)};
    return EchConfigList(one);
  }
  // What a rejecting server sends back: its retry configs (none without ECH).
  std::vector<uint8_t> RetryList() const {
    std::vector<EchKey> retry;
    for (const EchKey& k : ServerKeys()) {
      if (k.retry_config) retry.push_back(k);
    }
    return retry.empty() ? std::vector<uint8_t>() : EchConfigList(retry);
  }
};

// The ECH checks of one connection (not faulted).
void CheckEch(Connection& c, const EchSetup& e, const ClientConfig& cc) {
  if (c.driver->faulted()) return;
  Session& client = *c.client;
  Session& server = *c.server;
  std::string inner = kClientNames[cc.name];
  for (char& ch : inner) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!inner.empty() && inner.back() == '.') inner.pop_back();
  if (client.failed() && client.error()->code == errc::kEchRejected) {
    FUZZ_CHECK(e.offered() && !e.server_holds(), "ECH rejected though the server holds the key");
    FUZZ_CHECK(client.ech_retry_configs() == e.RetryList(),
               "the retry configs differ from the server's (%zu bytes)",
               client.ech_retry_configs().size());
    FUZZ_CHECK(client.handshake_info().ech == EchStatus::kRejected, "rejected, not reported");
    if (inner != "localhost") {  // the public name; anything else must stay hidden
      const char* seen = SSL_get_servername(server.ssl(), TLSEXT_NAMETYPE_host_name);
      FUZZ_CHECK(!seen || std::string_view(seen) == "localhost",
                 "a rejected ECH revealed \"%s\" to the server", seen);
      for (const std::string& name : c.driver->end(1).checker->sni_names()) {
        FUZZ_CHECK(name == "localhost", "a rejected ECH revealed \"%s\" to SNI selection",
                   name.c_str());
      }
    }
  }
  if (!client.handshake_done() || !server.handshake_done()) return;
  EchStatus ce = client.handshake_info().ech, se = server.handshake_info().ech;
  if (e.offered()) {
    FUZZ_CHECK(ce == EchStatus::kAccepted && se == EchStatus::kAccepted,
               "ECH offered and completed but %s / %s", EchStatusName(ce).data(),
               EchStatusName(se).data());
  } else if (e.client == 1) {
    FUZZ_CHECK(ce == EchStatus::kGrease, "GREASE reported as %s", EchStatusName(ce).data());
    FUZZ_CHECK(se == (e.server ? EchStatus::kRejected : EchStatus::kNotOffered),
               "the server reported GREASE as %s", EchStatusName(se).data());
  } else {
    FUZZ_CHECK(ce == EchStatus::kNotOffered && se == EchStatus::kNotOffered, "no ECH but %s / %s",
               EchStatusName(ce).data(), EchStatusName(se).data());
  }
}

// The handshake bound given to sessions whose key requests are never answered.
constexpr std::chrono::milliseconds kNeverBound{10'000};

Connection Open(const std::shared_ptr<const Context>& client_ctx,
                const std::shared_ptr<const Context>& server_ctx, SessionOptions co,
                SessionOptions so, const ServerConfig& sc, const Lifecycle& l,
                ExternalCache* cache) {
  Connection c;
  auto client = Session::Create(client_ctx, co);
  auto server = Session::Create(server_ctx, so);
  FUZZ_CHECK(client.ok() && server.ok(), "Session::Create failed");
  c.client = std::move(client.value());
  c.server = std::move(server.value());
  c.driver = std::make_unique<Driver>(*c.client, *c.server);
  SessionChecker& cch = *c.driver->end(0).checker;
  SessionChecker& sch = *c.driver->end(1).checker;
  sch.set_sni_answer(SniAnswerFor(sc));
  if (l.client_verify)
    cch.set_verify_answer(l.client_accept, l.client_accept ? "" : "FUZZ_REJECTED");
  if (l.server_verify) sch.set_verify_answer(l.server_accept, "");
  if (l.cache == SessionCacheMode::kExternal) {
    sch.set_session_lookup([cache](std::string_view id) { return cache->Find(id); });
  }
  cch.set_deferred(l.deferred);
  sch.set_deferred(l.deferred);
  if (l.alpn_callback()) sch.set_alpn_answer(l.alpn_answer(), l.alpn_refuse);
  if (l.external()) sch.set_key_signer(SignerWith(ServerKey()), l.key_answer());
  if (l.client_key_external) cch.set_key_signer(SignerWith(ClientKey()), l.key_answer());
  return c;
}

// The ALPN callback's pause: never answered, the server fails with ERR_TLS_PAUSE_UNANSWERED
// past its handshake bound and neither side completes; refused, the server fails and (nothing
// faulted, the configurations otherwise fit: |fits|) the client receives
// no_application_protocol. Answered: both sides report the protocol answered.
void CheckAlpnOutcome(Connection& c, const Lifecycle& l, bool fits, const ClientConfig& cc) {
  Driver& d = *c.driver;
  SessionChecker& sch = *d.end(1).checker;
  Session& server = *c.server;
  Session& client = *c.client;
  if (!l.alpn_callback()) {
    FUZZ_CHECK(!sch.alpn_requested(), "kAlpnRequest without alpn_callback");
  } else if (!d.faulted()) {
    FUZZ_CHECK(l.client_offers_alpn || !sch.alpn_requested(),
               "kAlpnRequest though the client offers no ALPN");
  }
  if (sch.alpn_requested() && l.alpn_mode == 3 && server.alpn_pending()) {
    server.OnTimer(Timestamp(kFuzzTime * 1000) + kNeverBound + std::chrono::milliseconds(1));
    d.Check(d.end(1));
    FUZZ_CHECK(server.failed() && server.error()->code == errc::kPauseUnanswered,
               "an unanswered ALPN request ended with %s",
               server.failed() ? server.error()->code.c_str() : "no error");
    FUZZ_CHECK(!server.pause_pending() && !server.handshake_done(), "still paused after the bound");
    d.Pump();
    FUZZ_CHECK(!client.handshake_done(),
               "the client completed a handshake whose ALPN request was never answered");
  }
  if (d.faulted()) return;
  if (sch.alpn_requested() && l.alpn_refuse && l.alpn_mode != 3) {
    FUZZ_CHECK(server.failed() && !server.handshake_done(), "a refused ALPN request ended with %s",
               server.failed() ? server.error()->code.c_str() : "no error");
    FUZZ_CHECK(!client.handshake_done() && client.failed() &&
                   (!fits || (client.error()->alert_from_peer && client.error()->alert == 120)),
               "the client of a refused ALPN request ended with %s (alert %d)",
               client.failed() ? client.error()->code.c_str() : "no error",
               client.failed() && client.error()->alert ? int{*client.error()->alert} : -1);
  }
  if (client.handshake_done() && server.handshake_done()) {
    const std::optional<std::string>& ca = client.handshake_info().alpn_protocol;
    const std::optional<std::string>& sa = server.handshake_info().alpn_protocol;
    FUZZ_CHECK(ca == sa, "ALPN: the client reports \"%s\", the server \"%s\"",
               ca.value_or("(none)").c_str(), sa.value_or("(none)").c_str());
    if (sch.alpn_requested()) {
      FUZZ_CHECK(sch.alpn_answered() && *sch.alpn_answered() == sa,
                 "ALPN: \"%s\" answered, \"%s\" negotiated",
                 sch.alpn_answered() ? sch.alpn_answered()->c_str() : "(none)",
                 sa.value_or("(none)").c_str());
      FUZZ_CHECK(sch.alpn_offered() == ClientOptionsFor(cc).alpn_protocols,
                 "the request carried another list");
    }
  }
}

// Certificate compression: a TLS 1.3 client completing a full handshake received its
// server's certificate compressed exactly when both sides have compression on (the serving
// side: AltServerContext() has it on, when the SNI callback may switch to it); a server
// receives a compressed client certificate only when both have it on.
void CheckCompression(Connection& c, const Lifecycle& l) {
  if (c.driver->faulted()) return;
  constexpr uint8_t kCertificate = 11, kCompressedCertificate = 25;
  auto count = [](const std::vector<uint8_t>& types, uint8_t type) {
    return std::count(types.begin(), types.end(), type);
  };
  const bool both = l.server_compress && l.client_compress;
  const auto& server_got = c.driver->end(1).checker->received_handshake_types();
  FUZZ_CHECK(
      both || (l.sni_switch && l.client_compress) || count(server_got, kCompressedCertificate) == 0,
      "the server received a compressed certificate (compression: client %d, server %d)",
      l.client_compress, l.server_compress);
  if (!c.client->handshake_done()) return;
  const HandshakeInfo& ci = c.client->handshake_info();
  const auto& client_got = c.driver->end(0).checker->received_handshake_types();
  if (ci.version != TlsVersion::kTls13 || ci.session_reused) return;
  if (l.sni_switch && l.client_compress) return;  // the serving context is not certain
  FUZZ_CHECK(count(client_got, both ? kCompressedCertificate : kCertificate) == 1 &&
                 count(client_got, both ? kCertificate : kCompressedCertificate) == 0,
             "the server's certificate arrived %s (compression: client %d, server %d)",
             count(client_got, kCompressedCertificate) ? "compressed" : "uncompressed",
             l.client_compress, l.server_compress);
}

// Key requests never answered: past the handshake bound, the side that asked fails with
// ERR_TLS_PAUSE_UNANSWERED, cleanly (nothing pending, its error last), and its peer never
// completes. Requests answered with a failure: ERR_TLS_KEY_OPERATION_FAILED; the peer
// (when nothing was faulted) failed too, by the internal_error alert when it had no reason
// of its own (|expected|: the configurations fit).
void CheckKeyOutcome(Connection& c, const Lifecycle& l, bool expected) {
  if (!l.key_blocks()) return;
  Driver& d = *c.driver;
  for (int i = 0; i < 2; ++i) {
    Session& s = *d.end(i).session;
    if (!d.end(i).checker->key_requested()) continue;
    if (l.key_mode == 3 && s.key_operation_pending()) {
      s.OnTimer(Timestamp(kFuzzTime * 1000) + kNeverBound + std::chrono::milliseconds(1));
      d.Check(d.end(i));
      FUZZ_CHECK(s.failed() && s.error()->code == errc::kPauseUnanswered,
                 "an unanswered key request ended with %s",
                 s.failed() ? s.error()->code.c_str() : "no error");
      FUZZ_CHECK(!s.pause_pending() && !s.handshake_done(), "still paused after the bound");
      d.Pump();
      FUZZ_CHECK(!d.end(1 - i).session->handshake_done(),
                 "the peer completed a handshake whose key request was never answered");
    } else if (l.key_fails && !d.faulted() && s.failed() &&
               s.error()->code == errc::kKeyOperationFailed) {
      const Session& peer = *d.end(1 - i).session;
      FUZZ_CHECK(peer.failed() &&
                     (!expected || (peer.error()->alert_from_peer && peer.error()->alert == 80)),
                 "the peer of a failed key operation ended with %s",
                 peer.failed() ? peer.error()->code.c_str() : "no error");
    }
  }
}

// Answers what waits (deferred answers) and pumps until nothing is pending.
void Finish(Driver& d) {
  for (int i = 0; i < 8; ++i) {
    d.Pump();
    bool answered = d.end(0).checker->AnswerPending();
    answered = d.end(1).checker->AnswerPending() || answered;
    if (!answered) break;
  }
  d.Pump();
}

// Checks that hold for every connection that completed without a fault.
void CheckCompletedLifecycle(Connection& c, const ServerConfig& sc, const Lifecycle& l) {
  c.driver->CheckCompleted();
  const HandshakeInfo& ci = c.client->handshake_info();
  const HandshakeInfo& si = c.server->handshake_info();
  FUZZ_CHECK(ci.session_reused == si.session_reused, "session_reused: client %d, server %d",
             ci.session_reused, si.session_reused);
  FUZZ_CHECK(ci.early_data == si.early_data, "0-RTT: client %s, server %s",
             EarlyDataName(ci.early_data), EarlyDataName(si.early_data));
  FUZZ_CHECK(ci.early_data != EarlyData::kAccepted || ci.session_reused,
             "0-RTT accepted on a full handshake");
  FUZZ_CHECK(ci.early_data != EarlyData::kAccepted || l.early_data,
             "0-RTT accepted though the server does not allow it");
  for (int i = 0; i < 2; ++i) {
    size_t lines = c.driver->end(i).checker->key_log_lines();
    FUZZ_CHECK(l.key_log ? lines > 0 : lines == 0, "%s logged %zu key-log lines (key_log %d)",
               i ? "server" : "client", lines, l.key_log);
  }
  std::span<const uint8_t> ocsp = c.client->ocsp_response();
  std::string got(reinterpret_cast<const char*>(ocsp.data()), ocsp.size());
  if (!(l.request_ocsp || l.require_ocsp)) {
    FUZZ_CHECK(got.empty(), "an OCSP response arrived though none was asked for");
  } else if (l.staple && sc.sni_mode == 0) {
    FUZZ_CHECK(got == kOcsp, "the stapled OCSP response arrived as %zu other bytes", got.size());
  }
}

// The checks of a connection after its script: completion, or the reason it could not.
void CheckEnd(Connection& c, const ClientConfig& cc, const ServerConfig& sc, const Lifecycle& l,
              bool expected, bool ech_fails) {
  CheckKeyOutcome(c, l, expected);
  Lifecycle answered = l;
  answered.alpn_refuse = false;
  answered.alpn_mode = l.alpn_mode == 3 ? 1 : l.alpn_mode;
  CheckAlpnOutcome(c, l, Expected(cc, sc, answered) && !ech_fails, cc);
  CheckCompression(c, l);
  if (c.driver->faulted()) return;
  // An ALPN request answered never or with a refusal keeps the handshake from completing.
  if (l.alpn_blocks() && c.driver->end(1).checker->alpn_requested()) return;
  // A key request answered never or with a failure keeps the handshake from completing.
  if (l.key_blocks() &&
      (c.driver->end(0).checker->key_requested() || c.driver->end(1).checker->key_requested()))
    return;
  if (expected) {
    CheckCompletedLifecycle(c, sc, l);
    return;
  }
  // An ECH the server cannot decrypt fails first (ERR_TLS_ECH_REJECTED, or the public name's
  // certificate check): the reasons below are then not certain.
  if (ech_fails) return;
  // The one refusal whose reason is certain: a missing staple with everything else fine.
  Lifecycle no_require = l;
  no_require.require_ocsp = false;
  if (l.require_ocsp && !l.staple && Expected(cc, sc, no_require)) {
    FUZZ_CHECK(c.client->failed() && c.client->error()->code == "ERR_TLS_OCSP_MISSING",
               "require_ocsp without a staple ended with %s",
               c.client->failed() ? c.client->error()->code.c_str() : "no error");
  }
  // A rejected verification with everything else fine fails with the application's code.
  Lifecycle accepting = l;
  accepting.client_accept = true;
  if (l.client_verify && !l.client_accept && Expected(cc, sc, accepting) &&
      c.driver->end(0).checker->verify_requested()) {
    FUZZ_CHECK(c.client->failed() && c.client->error()->code == "FUZZ_REJECTED",
               "a rejected verification ended with %s",
               c.client->failed() ? c.client->error()->code.c_str() : "no error");
  }
}

// One line per input on stderr (SANSIO_FUZZ_TRACE set): what each connection did.
void Trace(Connection& first, Connection& second, bool offered, bool expected) {
  auto describe = [](Connection& c) {
    const HandshakeInfo& i = c.client->handshake_info();
    std::string s = c.client->handshake_done() ? std::string(i.protocol()) : "no handshake";
    if (c.client->handshake_done()) {
      s += i.session_reused ? " resumed" : " full";
      s += std::string(" 0-RTT=") + EarlyDataName(i.early_data);
      s += " ocsp=" + std::to_string(c.client->ocsp_response().size());
      s += " keylog=" + std::to_string(c.driver->end(0).checker->key_log_lines()) + "/" +
           std::to_string(c.driver->end(1).checker->key_log_lines());
    }
    for (Session* session : {&*c.client, &*c.server}) {
      if (session->failed())
        s += std::string(" ") + (session == &*c.client ? "client" : "server") + "=" +
             session->error()->code;
    }
    if (c.driver->faulted()) s += " faulted";
    return s;
  };
  std::fprintf(stderr, "lifecycle: expected=%d | 1st: %s | offered=%d | 2nd: %s\n", expected,
               describe(first).c_str(), offered, describe(second).c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ResetRandom();
  Input in(data, size);
  uint8_t c0 = in.Byte(), c1 = in.Byte(), s0 = in.Byte(), s1 = in.Byte();
  ClientConfig cc = ClientConfig::From(c0, c1);
  ServerConfig sc = ServerConfig::From(s0, s1);
  EchSetup ech = EchSetup::From(c1, s1, cc, sc);
  uint8_t l0 = in.Byte(), l1 = in.Byte(), l2 = in.Byte();
  Lifecycle l = Lifecycle::From(l0, l1, l2);
  l.SetConfigBits(c0, s0, cc, sc);
  uint16_t damage_at = in.U16();
  uint8_t damage = in.Byte();
  size_t read_buffer = (static_cast<size_t>(in.Byte()) + 1) * 256;
  size_t write_buffer = (static_cast<size_t>(in.Byte()) + 1) * 256;

  // Fresh contexts for every input: caches, ticket keys and 0-RTT state live in them.
  ServerContextOptions sco = ServerOptionsFor(sc);
  ClientContextOptions cco = ClientOptionsFor(cc);
  auto lifecycle = [&l](auto& o) {
    o.session_tickets = !l.tickets_off;
    o.early_data = l.early_data;
    o.key_log = l.key_log;
    o.session_timeout = l.timeout;
  };
  lifecycle(sco);
  lifecycle(cco);
  sco.session_cache = l.cache;
  sco.verify_callback = l.server_verify;
  if (l.staple) sco.credentials.ocsp_response = kOcsp;
  cco.verify_callback = l.client_verify;
  cco.request_ocsp = l.request_ocsp;
  cco.require_ocsp = l.require_ocsp;
  if (l.external()) {
    sco.credentials.key_pem.clear();
    sco.credentials.external_key = "fuzz:server";
  }
  if (l.client_key_external && !cco.credentials.cert_chain_pem.empty()) {
    cco.credentials.key_pem.clear();
    cco.credentials.external_key = "fuzz:client";
  }
  if (l.alpn_callback()) {
    sco.alpn_protocols.clear();
    sco.alpn_callback = true;
  }
  sco.certificate_compression = l.server_compress;
  cco.certificate_compression = l.client_compress;
  sco.ech_keys = ech.ServerKeys();
  cco.ech_grease = ech.client == 1;
  auto server_ctx = BuildContext(sco, Harness::kLifecycle);
  auto client_ctx = BuildContext(cco, Harness::kLifecycle);
  // ECH offered to a server without the key (or TLS 1.3) ends in ERR_TLS_ECH_REJECTED.
  bool expected = Expected(cc, sc, l) && (!ech.offered() || ech.server_holds());

  SessionOptions co = ClientSessionOptions(cc), so = ServerSessionOptions();
  co.max_read_buffer = so.max_read_buffer = read_buffer;
  co.max_write_buffer = so.max_write_buffer = write_buffer;
  co.ech_config_list = ech.ClientList();
  co.trace = so.trace = true;                 // the certificate messages (CheckCompression)
  if (l.key_mode == 3 || l.alpn_mode == 3) {  // the bound that ends what is never answered
    co.now = so.now = Timestamp(kFuzzTime * 1000);
    co.handshake_timeout = so.handshake_timeout = kNeverBound;
  }
  ExternalCache cache;
  cache.miss = l.lookup_miss;

  // ---- First connection --------------------------------------------------------------
  Connection first = Open(client_ctx, server_ctx, co, so, sc, l, &cache);
  first.driver->RunOps(in, 2048, /*stop_op=*/15);
  Finish(*first.driver);
  CheckEnd(first, cc, sc, l, expected, ech.offered() && !ech.server_holds());
  CheckEch(first, ech, cc);
  FUZZ_CHECK(!first.client->handshake_info().session_reused, "the first connection resumed");
  const auto& stored = first.driver->end(1).checker->new_sessions();
  FUZZ_CHECK(stored.empty() || l.cache == SessionCacheMode::kExternal,
             "the server reported %zu new sessions without an external cache", stored.size());
  cache.sessions = stored;
  bool faulted = first.driver->faulted();

  // The saved session, possibly damaged on its way to the second connection.
  std::optional<SavedSession> saved = first.client->saved_session();
  if (!first.driver->faulted() && expected && saved) {
    FUZZ_CHECK(
        saved->servername() == (kClientNames[cc.name][0] ? kClientNames[cc.name] : "localhost"),
        "the saved session is for \"%s\"", saved->servername().c_str());
  }
  if (saved && damage != 0) {
    std::vector<uint8_t> bytes = saved->ToBytes();
    if (damage == 2) {
      bytes.resize(damage_at % (bytes.size() + 1));
    } else {
      bytes[damage_at % bytes.size()] ^= damage;
    }
    Result<SavedSession> parsed = SavedSession::FromBytes(bytes);
    if (std::getenv("SANSIO_FUZZ_TRACE")) {
      std::fprintf(stderr, "lifecycle: damage %u at %zu of %zu: %s\n", damage,
                   damage == 2 ? bytes.size() : damage_at % bytes.size(), saved->ToBytes().size(),
                   parsed.ok() ? "parses" : parsed.error().message.c_str());
    }
    if (parsed.ok()) {
      saved = parsed.value();
      faulted = true;  // it may carry anything now
    } else {
      FUZZ_CHECK(parsed.error().code == "ERR_TLS_INVALID_SESSION",
                 "FromBytes of damaged bytes failed with %s", parsed.error().code.c_str());
      FUZZ_CHECK(!parsed.error().message.empty(), "FromBytes failed without a message");
      saved.reset();
    }
  }

  // ---- Second connection -------------------------------------------------------------
  int64_t now = kFuzzTime + l.Advance();
  co.verify_time = so.verify_time = now;
  co.session = saved;
  if (l.client_early_override) co.early_data = *l.client_early_override;
  if (std::getenv("SANSIO_FUZZ_TRACE")) std::fprintf(stderr, "lifecycle: second connection\n");
  Connection second = Open(client_ctx, server_ctx, co, so, sc, l, &cache);
  second.driver->RunOps(in, 2048);
  Finish(*second.driver);
  if (std::getenv("SANSIO_FUZZ_TRACE")) Trace(first, second, saved.has_value(), expected);
  if (faulted) return 0;
  CheckEnd(second, cc, sc, l, expected, ech.offered() && !ech.server_holds());
  CheckEch(second, ech, cc);
  if (second.driver->faulted() || !expected) return 0;

  const HandshakeInfo& ci = second.client->handshake_info();
  const HandshakeInfo& si = second.server->handshake_info();
  if (ci.session_reused) {
    FUZZ_CHECK(saved.has_value(), "resumed without a session to offer");
    FUZZ_CHECK(!saved->ExpiredAt(now), "resumed an expired session");
    FUZZ_CHECK(ci.protocol() == saved->protocol(), "resumed %s as %s", saved->protocol().c_str(),
               std::string(ci.protocol()).c_str());
    const HandshakeInfo& fci = first.client->handshake_info();
    const HandshakeInfo& fsi = first.server->handshake_info();
    FUZZ_CHECK(ci.authorized == fci.authorized && ci.authorization_error == fci.authorization_error,
               "resumed client reports authorized=%d \"%s\", the first connection %d \"%s\"",
               ci.authorized, ci.authorization_error.c_str(), fci.authorized,
               fci.authorization_error.c_str());
    FUZZ_CHECK(si.authorized == fsi.authorized && si.authorization_error == fsi.authorization_error,
               "resumed server reports authorized=%d \"%s\", the first connection %d \"%s\"",
               si.authorized, si.authorization_error.c_str(), fsi.authorized,
               fsi.authorization_error.c_str());
    FUZZ_CHECK(!second.driver->end(0).checker->verify_requested(),
               "a resumed client asked the application to verify");
  }
  return 0;
}
