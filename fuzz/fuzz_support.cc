#include "fuzz/fuzz_support.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <mutex>

#if defined(SANSIO_FUZZ_LIBFUZZER)
#include <unistd.h>
#endif

#include <cctype>

#include "core/testing/cert_factory.h"

namespace sansio_tls::fuzz {

// ---- Input --------------------------------------------------------------------------

uint8_t Input::Byte() {
  if (data_.empty()) return 0;
  uint8_t b = data_[0];
  data_ = data_.subspan(1);
  return b;
}

uint16_t Input::U16() {
  uint16_t hi = Byte();
  return static_cast<uint16_t>(hi << 8 | Byte());
}

std::span<const uint8_t> Input::Take(size_t n) {
  n = std::min(n, data_.size());
  auto out = data_.first(n);
  data_ = data_.subspan(n);
  return out;
}

std::span<const uint8_t> Input::Rest() { return Take(data_.size()); }

std::string Input::ShortString() {
  auto s = Take(Byte());
  return std::string(s.begin(), s.end());
}

std::span<const uint8_t> Input::Until(std::string_view sep) {
  auto it = std::search(data_.begin(), data_.end(), sep.begin(), sep.end());
  size_t n = static_cast<size_t>(it - data_.begin());
  auto out = data_.first(n);
  data_ = data_.subspan(std::min(data_.size(), n + sep.size()));
  return out;
}

size_t Chunker::Next(size_t available) {
  if (available == 0) return 0;
  switch (mode_) {
    case Mode::kWhole:
      return available;
    case Mode::kOneByte:
      return 1;
    case Mode::kRandom:
    case Mode::kSmall: {
      state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
      size_t max = mode_ == Mode::kRandom ? 2048 : 7;
      return std::min(available, 1 + static_cast<size_t>((state_ >> 33) % max));
    }
  }
  return available;
}

// ---- Fixtures -----------------------------------------------------------------------

namespace {

std::shared_ptr<EVP_PKEY> DerivedEd25519Key(const char* label) {
  uint8_t seed[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(label), std::strlen(label), seed);
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed, 32);
  FUZZ_CHECK(key != nullptr, "Ed25519 key from seed");
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

Pki BuildPki() {
  ScopedRandomStream stream(RandomStream::kOther);
  constexpr int64_t kNotBefore = 1700000000, kNotAfter = 1900000000;
  testing::CertSpec root_spec;
  root_spec.subject = {{"O", "sansio-tls fuzz"}, {"CN", "sansio-tls fuzz root"}};
  root_spec.is_ca = true;
  root_spec.key = DerivedEd25519Key("sansio-tls fuzz root key");
  root_spec.not_before = kNotBefore;
  root_spec.not_after = kNotAfter;
  root_spec.serial = {0x01};
  testing::Cert root = testing::MakeSelfSigned(root_spec);

  auto leaf = [&](const char* cn, std::vector<std::string> dns, std::vector<std::string> ips,
                  const char* eku, const char* key_label, uint8_t serial) {
    testing::CertSpec spec;
    spec.subject = {{"CN", cn}};
    spec.dns_names = std::move(dns);
    spec.ip_addresses = std::move(ips);
    spec.ext_key_usage = {eku};
    spec.key = DerivedEd25519Key(key_label);
    spec.not_before = kNotBefore;
    spec.not_after = kNotAfter;
    spec.serial = {serial};
    return testing::MakeSigned(spec, root);
  };
  testing::Cert server = leaf("localhost", {"localhost"}, {"127.0.0.1"}, testing::kServerAuth,
                              "sansio-tls fuzz server key", 2);
  testing::Cert wild = leaf("*.example.com", {"*.example.com"}, {}, testing::kServerAuth,
                            "sansio-tls fuzz wildcard key", 3);
  testing::Cert sni =
      leaf("sni.test", {"sni.test"}, {}, testing::kServerAuth, "sansio-tls fuzz sni key", 4);
  testing::Cert client =
      leaf("client", {}, {}, testing::kClientAuth, "sansio-tls fuzz client key", 5);
  Pki pki;
  pki.root_pem = root.cert_pem;
  pki.server_cert_pem = server.cert_pem;
  pki.server_key_pem = server.key_pem;
  pki.wild_cert_pem = wild.cert_pem;
  pki.wild_key_pem = wild.key_pem;
  pki.sni_cert_pem = sni.cert_pem;
  pki.sni_key_pem = sni.key_pem;
  pki.client_cert_pem = client.cert_pem;
  pki.client_key_pem = client.key_pem;
  pki.root_der = root.der;
  pki.server_der = server.der;
  pki.client_der = client.der;
  return pki;
}

void FixedTime(const SSL*, timeval* out) {
  out->tv_sec = kFuzzTime;
  out->tv_usec = 0;
}

void ApplyVersions(auto& o, int versions) {
  if (versions == 1) o.min_version = TlsVersion::kTls13;
  if (versions == 2) o.max_version = TlsVersion::kTls12;
}

// Harness settings on top of the options (see the header).
void Tweak(const std::shared_ptr<const Context>& ctx, Harness harness) {
  SSL_CTX* ssl_ctx = ctx->ssl_ctx();
  if (harness == Harness::kStateless) {
    SSL_CTX_set_current_time_cb(ssl_ctx, FixedTime);
    if (ctx->role() == Role::kServer) {
      SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
      uint8_t keys[48];
      for (size_t i = 0; i < sizeof keys; ++i) keys[i] = static_cast<uint8_t>(i * 7 + 1);
      FUZZ_CHECK(SSL_CTX_set_tlsext_ticket_keys(ssl_ctx, keys, sizeof keys), "ticket keys");
    }
  }
  // Peers' Ed25519 signatures (server and client certificates) are accepted.
  static const uint16_t kPrefs[] = {
      SSL_SIGN_ED25519,          SSL_SIGN_ECDSA_SECP256R1_SHA256, SSL_SIGN_RSA_PSS_RSAE_SHA256,
      SSL_SIGN_RSA_PKCS1_SHA256, SSL_SIGN_ECDSA_SECP384R1_SHA384, SSL_SIGN_RSA_PSS_RSAE_SHA384,
      SSL_SIGN_RSA_PKCS1_SHA384, SSL_SIGN_RSA_PSS_RSAE_SHA512,    SSL_SIGN_RSA_PKCS1_SHA512};
  FUZZ_CHECK(SSL_CTX_set_verify_algorithm_prefs(ssl_ctx, kPrefs, std::size(kPrefs)),
             "verify prefs");
}

int Norm(int versions) { return versions == 3 ? 0 : versions; }

const std::vector<std::string> kClientAlpn[] = {{}, {"h2", "http/1.1"}, {"foo"}, {"http/1.1"}};

}  // namespace

template <class Options>
std::shared_ptr<const Context> BuildContext(const Options& options, Harness harness) {
  ScopedRandomStream stream(RandomStream::kOther);
  auto ctx = Context::Create(options);
  FUZZ_CHECK(ctx.ok(), "fixture context: %s", ctx.ok() ? "" : ctx.error().message.c_str());
  Tweak(ctx.value(), harness);
  return ctx.value();
}
template std::shared_ptr<const Context> BuildContext(const ServerContextOptions&, Harness);
template std::shared_ptr<const Context> BuildContext(const ClientContextOptions&, Harness);

const Pki& FixedPki() {
  static const Pki* pki = new Pki(BuildPki());
  return *pki;
}

ServerConfig ServerConfig::From(uint8_t b0, uint8_t b1) {
  ServerConfig c;
  c.versions = b0 & 3;
  c.request_cert = b0 & 4;
  c.reject_unauthorized = b0 & 8;
  c.chunking = static_cast<Chunker::Mode>((b0 >> 4) & 3);
  c.eof_at_end = b0 & 0x40;
  c.echo = b0 & 0x80;
  c.sni_mode = b1 & 3;
  c.alpn = b1 & 4;
  c.npn = b1 & 8;
  c.sni_answer = (b1 >> 4) & 3;
  return c;
}

std::vector<uint8_t> ServerConfig::ToBytes() const {
  return {static_cast<uint8_t>(versions | request_cert << 2 | reject_unauthorized << 3 |
                               static_cast<int>(chunking) << 4 | eof_at_end << 6 | echo << 7),
          static_cast<uint8_t>(sni_mode | alpn << 2 | npn << 3 | sni_answer << 4)};
}

ClientConfig ClientConfig::From(uint8_t b0, uint8_t b1) {
  ClientConfig c;
  c.versions = b0 & 3;
  c.with_certificate = b0 & 4;
  c.reject_unauthorized = b0 & 8;
  c.chunking = static_cast<Chunker::Mode>((b0 >> 4) & 3);
  c.eof_at_end = b0 & 0x40;
  c.alpn = b1 & 3;
  c.npn = b1 & 4;
  c.name = (b1 >> 3) & 7;
  return c;
}

std::vector<uint8_t> ClientConfig::ToBytes() const {
  return {static_cast<uint8_t>(versions | with_certificate << 2 | reject_unauthorized << 3 |
                               static_cast<int>(chunking) << 4 | eof_at_end << 6),
          static_cast<uint8_t>(alpn | npn << 2 | name << 3)};
}

ServerContextOptions ServerOptionsFor(const ServerConfig& config) {
  const Pki& pki = FixedPki();
  ServerContextOptions o;
  o.credentials = {pki.server_key_pem, "", pki.server_cert_pem};
  o.ca_pems = {pki.root_pem};
  o.request_cert = config.request_cert;
  o.reject_unauthorized = config.reject_unauthorized;
  ApplyVersions(o, config.versions);
  if (config.sni_mode & 1) {
    o.sni_contexts = {{"*.example.com", {pki.wild_key_pem, "", pki.wild_cert_pem}, {pki.root_pem}},
                      {"sni.test", {pki.sni_key_pem, "", pki.sni_cert_pem}, {pki.root_pem}}};
  }
  o.sni_callback = config.sni_mode & 2;
  if (config.alpn) o.alpn_protocols = {"h2", "http/1.1"};
  if (config.npn) o.npn_protocols = {"http/1.1", "spdy/3"};
  return o;
}

std::shared_ptr<const Context> ServerContext(const ServerConfig& config) {
  static auto* cache = new std::map<int, std::shared_ptr<const Context>>();
  int key = Norm(config.versions) | config.request_cert << 2 | config.reject_unauthorized << 3 |
            config.sni_mode << 4 | config.alpn << 6 | config.npn << 7;
  auto& slot = (*cache)[key];
  if (!slot) slot = BuildContext(ServerOptionsFor(config), Harness::kStateless);
  return slot;
}

std::shared_ptr<const Context> AltServerContext() {
  static const std::shared_ptr<const Context>* alt = [] {
    const Pki& pki = FixedPki();
    ServerContextOptions o;
    o.credentials = {pki.wild_key_pem, "", pki.wild_cert_pem};
    o.ca_pems = {pki.root_pem};
    o.alpn_protocols = {"http/1.1"};
    return new std::shared_ptr<const Context>(BuildContext(o, Harness::kStateless));
  }();
  return *alt;
}

SniAnswer SniAnswerFor(const ServerConfig& config) {
  switch (config.sni_answer) {
    case 0:
      return SniAnswer::UseDefault();
    case 2:
      return SniAnswer::Reject("fuzz: rejected");
    default:
      return SniAnswer::Use(AltServerContext());
  }
}

ClientContextOptions ClientOptionsFor(const ClientConfig& config) {
  const Pki& pki = FixedPki();
  ClientContextOptions o;
  if (config.with_certificate) o.credentials = {pki.client_key_pem, "", pki.client_cert_pem};
  o.ca_pems = {pki.root_pem};
  o.reject_unauthorized = config.reject_unauthorized;
  ApplyVersions(o, config.versions);
  o.alpn_protocols = kClientAlpn[config.alpn];
  if (config.npn) o.npn_protocols = {"http/1.1"};
  return o;
}

std::shared_ptr<const Context> ClientContext(const ClientConfig& config) {
  static auto* cache = new std::map<int, std::shared_ptr<const Context>>();
  int key = Norm(config.versions) | config.with_certificate << 2 | config.reject_unauthorized << 3 |
            config.alpn << 4 | config.npn << 6;
  auto& slot = (*cache)[key];
  if (!slot) slot = BuildContext(ClientOptionsFor(config), Harness::kStateless);
  return slot;
}

SessionOptions ClientSessionOptions(const ClientConfig& config) {
  SessionOptions o;
  o.servername = kClientNames[config.name];
  o.verify_time = kFuzzTime;
  return o;
}

SessionOptions ServerSessionOptions() {
  SessionOptions o;
  o.verify_time = kFuzzTime;
  return o;
}

bool Compatible(const ClientConfig& c, const ServerConfig& s) {
  int cv = Norm(c.versions), sv = Norm(s.versions);
  if ((cv == 1 && sv == 2) || (cv == 2 && sv == 1)) return false;
  if (s.request_cert && s.reject_unauthorized && !c.with_certificate) return false;
  // Which certificate and ALPN list serve the connection.
  enum { kDefault, kWild, kSniTest } served = kDefault;
  std::vector<std::string> server_alpn;
  if (s.alpn) server_alpn = {"h2", "http/1.1"};
  std::string name = kClientNames[c.name];
  if (!name.empty() && name != "127.0.0.1") {  // sent as SNI
    std::string norm = name;
    for (char& ch : norm) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (norm.back() == '.') norm.pop_back();
    bool matched = false;
    if (s.sni_mode & 1) {
      if (norm == "a.example.com" || norm == "b.example.com") {
        served = kWild;
        matched = true;
      } else if (norm == "sni.test") {
        served = kSniTest;
        matched = true;
      }
    }
    if (!matched && (s.sni_mode & 2)) {
      if (s.sni_answer == 2) return false;
      if (s.sni_answer != 0) {
        served = kWild;
        server_alpn = {"http/1.1"};
      }
    }
  }
  if (c.reject_unauthorized) {
    std::string checked = name.empty() ? "localhost" : name;
    bool ok = false;
    switch (served) {
      case kDefault:
        ok = checked == "localhost" || checked == "LOCALHOST." || checked == "127.0.0.1";
        break;
      case kWild:
        ok = checked == "a.example.com" || checked == "b.example.com";
        break;
      case kSniTest:
        ok = checked == "sni.test";
        break;
    }
    if (!ok) return false;
  }
  const std::vector<std::string>& client_alpn = kClientAlpn[c.alpn];
  if (!client_alpn.empty() && !server_alpn.empty()) {
    bool overlap = false;
    for (const auto& p : client_alpn)
      overlap =
          overlap || std::find(server_alpn.begin(), server_alpn.end(), p) != server_alpn.end();
    if (!overlap) return false;
  }
  return true;
}

// ---- Invariants ---------------------------------------------------------------------

size_t SessionChecker::Drain() {
  size_t n = 0;
  while (std::optional<Event> e = session_.NextEvent()) {
    ++n;
    const char* name = EventKindName(e->kind());
    FUZZ_CHECK(!error_, "event %s after kError", name);
    switch (e->kind()) {
      case EventKind::kHandshakeDone: {
        FUZZ_CHECK(!handshake_done_, "second kHandshakeDone");
        FUZZ_CHECK(session_.handshake_done(), "kHandshakeDone but !handshake_done()");
        const HandshakeInfo& h = e->get<HandshakeInfo>();
        FUZZ_CHECK(h.version == TlsVersion::kTls12 || h.version == TlsVersion::kTls13,
                   "protocol \"%s\"", std::string(h.protocol()).c_str());
        FUZZ_CHECK(!h.cipher.empty(), "no cipher");
        FUZZ_CHECK(!(h.alpn_protocol && h.alpn_protocol->empty()) &&
                       !(h.npn_protocol && h.npn_protocol->empty()),
                   "a negotiated protocol is empty instead of absent");
        // A server that asked for no certificate reports unauthorized without a code.
        FUZZ_CHECK(h.authorized
                       ? h.authorization_error.empty()
                       : (session_.role() == Role::kServer || !h.authorization_error.empty()),
                   "authorized=%d with error \"%s\"", h.authorized, h.authorization_error.c_str());
        handshake_done_ = true;
        break;
      }
      case EventKind::kReadable:
        FUZZ_CHECK(handshake_done_, "kReadable before kHandshakeDone");
        FUZZ_CHECK(!closed_, "kReadable after the peer closed");
        break;
      case EventKind::kPeerClosed:
      case EventKind::kPeerTruncated:
        FUZZ_CHECK(!closed_, "second close event %s", name);
        FUZZ_CHECK(session_.peer_closed(), "%s but !peer_closed()", name);
        closed_ = true;
        break;
      case EventKind::kSniRequest: {
        FUZZ_CHECK(session_.role() == Role::kServer, "kSniRequest on a client");
        FUZZ_CHECK(!sni_requested_ && !handshake_done_, "kSniRequest twice or after the handshake");
        FUZZ_CHECK(!e->get<event::SniRequest>().servername.empty(), "kSniRequest without a name");
        sni_requested_ = true;
        sni_names_.push_back(e->get<event::SniRequest>().servername);
        if (session_.failed()) break;
        FUZZ_CHECK(session_.sni_pending(), "kSniRequest but !sni_pending()");
        if (!deferred_) AnswerPending();
        break;
      }
      case EventKind::kAlpnRequest:
        FUZZ_CHECK(alpn_answer_.has_value(), "kAlpnRequest without alpn_callback");
        FUZZ_CHECK(session_.role() == Role::kServer, "kAlpnRequest on a client");
        FUZZ_CHECK(!alpn_requested_ && !handshake_done_,
                   "kAlpnRequest twice or after the handshake");
        FUZZ_CHECK(!e->get<event::AlpnRequest>().protocols.empty(),
                   "kAlpnRequest without protocols");
        alpn_requested_ = true;
        alpn_offered_ = e->get<event::AlpnRequest>().protocols;
        if (session_.failed()) break;
        FUZZ_CHECK(session_.alpn_pending() && session_.pause_pending(),
                   "kAlpnRequest but !alpn_pending()");
        if (!deferred_ && *alpn_answer_ == AlpnAnswer::kAtOnce) AnswerPending();
        break;
      case EventKind::kSignRequest:
      case EventKind::kDecryptRequest:
        FUZZ_CHECK(signer_ != nullptr, "%s without an external key", name);
        FUZZ_CHECK(!handshake_done_, "%s after the handshake", name);
        if (const auto* sign = e->get_if<event::SignRequest>()) {
          FUZZ_CHECK(!sign->input.empty(), "%s without input", name);
          FUZZ_CHECK(sign->signature_algorithm != 0, "kSignRequest without an algorithm");
        } else {
          FUZZ_CHECK(!e->get<event::DecryptRequest>().input.empty(), "%s without input", name);
        }
        key_requested_ = true;
        if (session_.failed()) break;
        FUZZ_CHECK(session_.key_operation_pending() && session_.pause_pending(),
                   "%s but !key_operation_pending()", name);
        key_request_ = *e;
        if (!deferred_ && (key_answer_ == KeyAnswer::kAtOnce || key_answer_ == KeyAnswer::kFail))
          AnswerPending();
        break;
      case EventKind::kTrace:
        FUZZ_CHECK(!e->get<TraceMessage>().name.empty(), "a trace message without a name");
        if (!e->get<TraceMessage>().sent && e->get<TraceMessage>().content_type == 22) {
          received_types_.push_back(e->get<TraceMessage>().type);
        }
        break;
      case EventKind::kEarlyDataCheck:
        FUZZ_CHECK(false, "kEarlyDataCheck: no fuzz configuration sets early_data_check");
        break;
      case EventKind::kVerifyRequested:
        FUZZ_CHECK(verify_answer_.has_value(), "kVerifyRequested without verify_callback");
        FUZZ_CHECK(!verify_requested_ && !handshake_done_,
                   "kVerifyRequested twice or after the handshake");
        FUZZ_CHECK(e->get<event::VerifyRequested>().authorized ==
                       e->get<event::VerifyRequested>().authorization_error.empty(),
                   "kVerifyRequested: authorized=%d with error \"%s\"",
                   e->get<event::VerifyRequested>().authorized,
                   e->get<event::VerifyRequested>().authorization_error.c_str());
        verify_requested_ = true;
        if (session_.failed()) break;
        FUZZ_CHECK(session_.verify_pending(), "kVerifyRequested but !verify_pending()");
        FUZZ_CHECK(session_.peer_certificate().has_value(),
                   "%s: kVerifyRequested without a peer certificate (offered a session: %d, "
                   "authorization_error \"%s\")",
                   session_.role() == Role::kServer ? "server" : "client",
                   SSL_session_reused(session_.ssl()),
                   e->get<HandshakeInfo>().authorization_error.c_str());
        if (!deferred_) AnswerPending();
        break;
      case EventKind::kSessionLookup:
        FUZZ_CHECK(lookup_ && session_.role() == Role::kServer,
                   "kSessionLookup without an external cache");
        FUZZ_CHECK(!handshake_done_, "kSessionLookup after the handshake");
        if (session_.failed()) break;
        FUZZ_CHECK(session_.session_lookup_pending(),
                   "kSessionLookup but !session_lookup_pending()");
        lookup_id_.assign(e->get<event::SessionLookup>().session_id.begin(),
                          e->get<event::SessionLookup>().session_id.end());
        if (!deferred_) AnswerPending();
        break;
      case EventKind::kEarlyData:
        FUZZ_CHECK(session_.role() == Role::kServer, "kEarlyData on a client");
        FUZZ_CHECK(!handshake_done_, "kEarlyData after kHandshakeDone");
        FUZZ_CHECK(session_.early_data_bytes() > 0, "kEarlyData with no early bytes counted");
        early_data_event_ = true;
        break;
      case EventKind::kNewSession: {
        FUZZ_CHECK(e->get_if<SavedSession>() != nullptr, "kNewSession without a session");
        std::vector<uint8_t> bytes = e->get_if<SavedSession>()->ToBytes();
        Result<SavedSession> back = SavedSession::FromBytes(bytes);
        FUZZ_CHECK(back.ok(), "kNewSession: FromBytes(ToBytes()) failed: %s",
                   back.ok() ? "" : back.error().message.c_str());
        FUZZ_CHECK(back.value().ToBytes() == bytes, "kNewSession: ToBytes() does not round-trip");
        FUZZ_CHECK(e->get_if<SavedSession>()->protocol() == "TLSv1.2" ||
                       e->get_if<SavedSession>()->protocol() == "TLSv1.3",
                   "kNewSession: protocol \"%s\"", e->get_if<SavedSession>()->protocol().c_str());
        if (session_.role() == Role::kClient) {
          FUZZ_CHECK(session_.saved_session().has_value(), "kNewSession but no saved_session()");
        } else {
          FUZZ_CHECK(!e->get_if<SavedSession>()->id().empty(),
                     "server kNewSession without a session ID");
        }
        new_sessions_.push_back(*e->get_if<SavedSession>());
        break;
      }
      case EventKind::kKeyLog: {
        // "LABEL <64 hex: client random> <hex secret>"
        const std::string& line = e->get<event::KeyLog>().line;
        size_t a = line.find(' '), b = line.rfind(' ');
        FUZZ_CHECK(a != std::string::npos && b == a + 65 && b + 1 < line.size() &&
                       line.find('\n') == std::string::npos &&
                       line.find_first_not_of("0123456789abcdefABCDEF", a + 1) == b &&
                       line.find_first_not_of("0123456789abcdefABCDEF", b + 1) == std::string::npos,
                   "kKeyLog line \"%s\"", line.c_str());
        ++key_log_lines_;
        break;
      }
      case EventKind::kError:
        FUZZ_CHECK(!e->get<Error>().code.empty(), "kError without a code (message \"%s\")",
                   e->get<Error>().message.c_str());
        FUZZ_CHECK(session_.failed() && session_.error() && *session_.error() == e->get<Error>(),
                   "kError %s does not match error()", e->get<Error>().code.c_str());
        error_ = e->get<Error>();
        break;
    }
  }
  return n;
}

bool SessionChecker::AnswerPending() {
  if (session_.sni_pending() && sni_answer_) {
    std::optional<Error> refused = session_.AnswerSni(*sni_answer_);
    FUZZ_CHECK(!refused, "AnswerSni refused: %s", refused->message.c_str());
    FUZZ_CHECK(!session_.sni_pending(), "still sni_pending() after AnswerSni");
    std::optional<Error> again = session_.AnswerSni(SniAnswer::UseDefault());
    FUZZ_CHECK(again && again->code == "ERR_TLS_SNI_NOT_PENDING",
               "a second AnswerSni was accepted");
    return true;
  }
  if (session_.verify_pending() && verify_answer_) {
    std::optional<Error> refused =
        session_.CompleteVerification(verify_answer_->first, verify_answer_->second);
    FUZZ_CHECK(!refused, "CompleteVerification refused: %s", refused->message.c_str());
    FUZZ_CHECK(!session_.verify_pending(), "still verify_pending() after CompleteVerification");
    std::optional<Error> again = session_.CompleteVerification(true);
    FUZZ_CHECK(again && again->code == "ERR_TLS_VERIFY_NOT_PENDING",
               "a second CompleteVerification was accepted");
    if (!verify_answer_->first) {
      std::string code = verify_answer_->second.empty() ? "CERT_REJECTED" : verify_answer_->second;
      FUZZ_CHECK(session_.failed() && session_.error()->code == code,
                 "a rejected verification did not fail the session with %s", code.c_str());
    }
    return true;
  }
  if (session_.key_operation_pending() && signer_ && key_request_ &&
      key_answer_ != KeyAnswer::kNever) {
    std::optional<Error> refused;
    if (key_answer_ == KeyAnswer::kFail) {
      refused = session_.FailKeyOperation("fuzz: the signer failed");
      FUZZ_CHECK(session_.failed() && session_.error()->code == errc::kKeyOperationFailed,
                 "a failed key operation ended with %s",
                 session_.failed() ? session_.error()->code.c_str() : "no error");
    } else {
      std::vector<uint8_t> result = signer_(*key_request_);
      FUZZ_CHECK(!result.empty(), "the fuzz signer could not answer");
      refused = session_.CompleteKeyOperation(result);
    }
    FUZZ_CHECK(!refused, "the key operation answer was refused: %s", refused->message.c_str());
    FUZZ_CHECK(!session_.key_operation_pending(), "still key_operation_pending() after the answer");
    std::optional<Error> again = session_.FailKeyOperation();
    FUZZ_CHECK(again && again->code == errc::kKeyOperationNotPending,
               "a second key operation answer was accepted");
    key_request_.reset();
    return true;
  }
  if (session_.alpn_pending() && alpn_answer_ && *alpn_answer_ != AlpnAnswer::kNever) {
    const std::string kNotOffered = "fuzz/not-offered";
    if (std::find(alpn_offered_.begin(), alpn_offered_.end(), kNotOffered) == alpn_offered_.end()) {
      std::optional<Error> invalid = session_.AnswerAlpn(kNotOffered);
      FUZZ_CHECK(invalid && invalid->code == errc::kAlpnCallbackInvalidResult,
                 "AnswerAlpn accepted a protocol the client did not offer");
      FUZZ_CHECK(session_.alpn_pending(), "a refused AnswerAlpn ended the pause");
    }
    std::optional<std::string> choice;
    if (!alpn_refuse_) choice = alpn_offered_.front();
    std::optional<Error> refused = session_.AnswerAlpn(choice);
    FUZZ_CHECK(!refused, "AnswerAlpn refused: %s", refused->message.c_str());
    FUZZ_CHECK(!session_.alpn_pending(), "still alpn_pending() after AnswerAlpn");
    std::optional<Error> again = session_.AnswerAlpn(std::nullopt);
    FUZZ_CHECK(again && again->code == errc::kAlpnNotPending, "a second AnswerAlpn was accepted");
    alpn_answered_ = std::move(choice);
    return true;
  }
  if (session_.session_lookup_pending() && lookup_) {
    std::optional<Error> refused = session_.AnswerSessionLookup(lookup_(lookup_id_));
    FUZZ_CHECK(!refused, "AnswerSessionLookup refused: %s", refused->message.c_str());
    FUZZ_CHECK(!session_.session_lookup_pending(),
               "still session_lookup_pending() after the answer");
    std::optional<Error> again = session_.AnswerSessionLookup(std::nullopt);
    FUZZ_CHECK(again && again->code == "ERR_TLS_SESSION_LOOKUP_NOT_PENDING",
               "a second AnswerSessionLookup was accepted");
    return true;
  }
  return false;
}

void SessionChecker::ReadAll(std::string* out) {
  uint8_t buf[4096];
  for (;;) {
    Drain();
    size_t before = session_.readable_bytes();
    size_t n = session_.Read(buf);
    FUZZ_CHECK(n <= sizeof buf && n <= before, "Read returned %zu of %zu buffered", n, before);
    if (n == 0) break;
    if (out) out->append(reinterpret_cast<char*>(buf), n);
  }
  Drain();
}

void SessionChecker::CheckSticky() {
  Drain();
  if (session_.failed() && !error_) {
    FUZZ_CHECK(false, "failed() without a kError event (%s)", session_.error()->code.c_str());
  }
  if (!error_) return;
  FUZZ_CHECK(session_.error() && *session_.error() == *error_, "error changed after kError");
  FUZZ_CHECK(!session_.wants_input(), "wants_input() after a fatal error");
  const uint8_t probe[1] = {0x17};
  FUZZ_CHECK(session_.Write(probe) == 0, "Write accepted data after a fatal error");
  FUZZ_CHECK(session_.Feed(probe) == 1, "Feed did not swallow input after a fatal error");
  FUZZ_CHECK(session_.NextEvent() == std::nullopt, "event after a fatal error");
  FUZZ_CHECK(*session_.error() == *error_, "error changed after kError");
}

void DiscardOutput(Session& session) {
  size_t total = session.pending_output_bytes(), seen = 0;
  for (;;) {
    std::span<const uint8_t> out = session.PendingOutput();
    if (out.empty()) break;
    seen += out.size();
    session.ConsumeOutput(out.size());
  }
  FUZZ_CHECK(seen == total, "pending_output_bytes %zu but runs add up to %zu", total, seen);
  FUZZ_CHECK(session.pending_output_bytes() == 0, "output left after consuming every run");
}

bool FeedAll(Session& session, SessionChecker& checker, std::span<const uint8_t> data,
             Chunker& chunker, std::string* plaintext) {
  int idle_rounds = 0;
  while (!data.empty()) {
    size_t n = chunker.Next(data.size());
    size_t taken = session.Feed(data.first(n));
    FUZZ_CHECK(taken <= n, "Feed took %zu of %zu", taken, n);
    if (taken < n) {
      FUZZ_CHECK(!session.wants_input(), "Feed took %zu of %zu but wants_input()", taken, n);
    }
    checker.Drain();
    DiscardOutput(session);
    checker.ReadAll(plaintext);
    checker.CheckSticky();
    data = data.subspan(taken);
    if (taken == 0) {
      // Nothing was taken: reading must have made room, or the session is stuck.
      FUZZ_CHECK(++idle_rounds < 2, "Feed takes nothing even after Read() drained everything");
    } else {
      idle_rounds = 0;
    }
  }
  return !session.failed() && !session.peer_closed();
}

}  // namespace sansio_tls::fuzz

#if defined(SANSIO_FUZZ_LIBFUZZER)
// `./bazelw run //fuzz:NAME --config=fuzz -- ARGS` starts the binary in its runfiles tree;
// move back to where the command was typed so corpus paths and crash artifacts are
// relative to it.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY")) {
    if (chdir(dir) != 0) std::perror("chdir BUILD_WORKING_DIRECTORY");
  }
  return 0;
}
#endif
