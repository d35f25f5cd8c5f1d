// SNI contexts, the SNI callback pause, ALPN and NPN: the Context and Session parts declared
// in context.h and session.h.
//
// SNI selection runs in BoringSSL's early select-certificate callback, before resumption is
// decided. A chosen context is applied with SSL_set_SSL_CTX (its certificate chain, key and
// client-CA names) plus its own session id context; the session then verifies client
// certificates against that context's trust store (Session::verify_store). The SSL_CTX-level
// ALPN/NPN callbacks of the serving context then apply, so the serving context's lists do:
// an SNI context copies the server's options, an answered Context brings its own. They are
// installed only with a non-empty list, so NPN still works beside an ALPN-offering client
// when the serving context has no ALPN list (ALPN, once selected, takes precedence).
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <string>
#include <unordered_map>

#include "core/context.h"
#include "core/internal/context_config.h"
#include "core/internal/negotiation.h"
#include "core/internal/pem.h"
#include "core/internal/session_impl.h"
#include "core/internal/session_rare.h"
#include "core/negotiation/protocol_list.h"
#include "core/negotiation/sni_matcher.h"
#include "core/session.h"

namespace sansio_tls {
namespace {

// Feeds a length-prefixed field, so ("ab","c") and ("a","bc") hash differently.
void HashField(SHA256_CTX* sha, std::string_view field) {
  uint64_t n = field.size();
  SHA256_Update(sha, &n, sizeof n);
  SHA256_Update(sha, field.data(), field.size());
}

// Identifies a server's certificate chain and client-certificate CAs (no secrets).
std::array<uint8_t, SHA256_DIGEST_LENGTH> PublicDigest(const Credentials& credentials,
                                                       const std::vector<std::string>& ca_pems) {
  SHA256_CTX sha;
  SHA256_Init(&sha);
  HashField(&sha, "sansio_tls sni session id context");
  HashField(&sha, credentials.cert_chain_pem);
  HashField(&sha, std::string_view(reinterpret_cast<const char*>(credentials.pfx.data()),
                                   credentials.pfx.size()));
  for (const std::string& ca : ca_pems) HashField(&sha, ca);
  std::array<uint8_t, SHA256_DIGEST_LENGTH> out;
  SHA256_Final(out.data(), &sha);
  return out;
}

// Identifies an SNI entry's whole configuration, so identical entries share one Context.
std::string EntryKey(const SniContext& entry) {
  SHA256_CTX sha;
  SHA256_Init(&sha);
  auto pub = PublicDigest(entry.credentials, entry.ca_pems);
  SHA256_Update(&sha, pub.data(), pub.size());
  HashField(&sha, entry.credentials.key_pem);
  HashField(&sha, entry.credentials.passphrase);
  HashField(&sha, entry.credentials.external_key ? "external:" + *entry.credentials.external_key
                                                 : std::string("in memory"));
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256_Final(reinterpret_cast<uint8_t*>(out.data()), &sha);
  return out;
}

// True when a key of |key_type| can make a signature of SignatureScheme |alg| (RFC 8446
// 4.2.3; TLS 1.2's ecdsa schemes do not bind the curve).
bool KeySigns(int key_type, uint16_t alg) {
  switch (key_type) {
    case EVP_PKEY_EC:
      return alg == 0x0403 || alg == 0x0503 || alg == 0x0603;
    case EVP_PKEY_RSA:
      return alg == 0x0401 || alg == 0x0501 || alg == 0x0601 || (alg >= 0x0804 && alg <= 0x0806);
    case EVP_PKEY_ED25519:
      return alg == 0x0807;
    default:
      return false;
  }
}

// The key type of the leaf of |chain_pem| (EVP_PKEY_EC, ...), 0 when it has none. (Not
// SSL_CTX_get0_certificate: on a buffers-only SSL_CTX it builds an X509 nobody frees.)
int KeyType(const std::string& chain_pem) {
  auto certs = internal::ParseCertificates(chain_pem);
  if (!certs.ok() || certs->empty()) return 0;
  bssl::UniquePtr<EVP_PKEY> key(X509_get_pubkey(certs->front().get()));
  ERR_clear_error();
  return key ? EVP_PKEY_id(key.get()) : 0;
}

}  // namespace

// Static trampolines from BoringSSL's negotiation callbacks to the Session owning the SSL, or
// (ALPN, NPN advertisement) to the serving Context passed as |arg|. A missing Session (an SSL
// made from ssl_ctx() outside this library) gets neutral answers.
struct NegotiationCallbacks {
  // Serves |s| with |chosen|'s credentials and session id context.
  static bool Switch(const SessionImpl& s, const Context& chosen) {
    // Secrets are reported through the SSL_CTX switched to: the session's own key_log
    // decides (LifecycleCallbacks::KeyLog), whatever |chosen| was built with.
    if (s.context_->config().key_log) chosen.EnableKeyLogHook();
    const auto& sid = chosen.negotiation_->sni_session_id_context;
    SSL* ssl = s.ssl();
    return SSL_set_SSL_CTX(ssl, chosen.ssl_ctx()) &&
           SSL_set_session_id_context(ssl, sid.data(), sid.size());
  }

  // The alternative chain of |serving| to present to the client of |hello|, or null for
  // |serving|'s own credentials (alternative_credentials rules).
  static const Context* ChainFor(const Context& serving, const SSL_CLIENT_HELLO* hello) {
    if (!serving.negotiation_ || serving.negotiation_->chains.size() < 2) return nullptr;
    const uint8_t* data = nullptr;
    size_t len = 0;
    if (!SSL_early_callback_ctx_extension_get(hello, TLSEXT_TYPE_signature_algorithms, &data,
                                              &len) ||
        len < 2) {
      return nullptr;
    }
    size_t list = std::min(len - 2, static_cast<size_t>(data[0]) << 8 | data[1]);
    for (const internal::Negotiation::Chain& chain : serving.negotiation_->chains) {
      for (size_t i = 0; i + 1 < list; i += 2) {
        uint16_t alg = static_cast<uint16_t>(data[2 + i] << 8 | data[3 + i]);
        if (KeySigns(chain.key_type, alg)) return chain.context.get();
      }
    }
    return nullptr;  // nothing fits: our first choice (the handshake fails as it must)
  }

  // alpn_callback: the application's answer (Session::AnswerAlpn), pointed to in the
  // client's list |in| (BoringSSL copies it). A refusal or no answer is fatal
  // (no_application_protocol).
  static int AlpnAnswer(SSL* ssl, const uint8_t** out, uint8_t* out_len,
                        std::span<const uint8_t> in) {
    SessionImpl* s = SessionImpl::FromSsl(ssl);
    if (!s || !s->rare_ || s->rare_->alpn_state != SessionImpl::Rare::AlpnState::kAnswered ||
        !s->rare_->alpn_choice) {
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    const std::string& want = *s->rare_->alpn_choice;
    for (size_t i = 0; i < in.size();) {
      size_t n = in[i];
      if (i + 1 + n > in.size()) break;
      if (n == want.size() && std::equal(want.begin(), want.end(), in.begin() + i + 1)) {
        *out = in.data() + i + 1;
        *out_len = static_cast<uint8_t>(n);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + n;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }

  static ssl_select_cert_result_t OnSelectCertificate(const SSL_CLIENT_HELLO* hello) {
    SessionImpl* s = SessionImpl::FromSsl(hello->ssl);
    return s ? static_cast<ssl_select_cert_result_t>(s->SelectCertificate(hello))
             : ssl_select_cert_success;
  }

  // Server ALPN (|arg|: the serving Context): the server's order wins; no overlap is fatal
  // (no_application_protocol).
  static int OnAlpn(SSL* ssl, const uint8_t** out, uint8_t* out_len, const uint8_t* in,
                    unsigned in_len, void* arg) {
    if (static_cast<const Context*>(arg)->config().alpn_callback) {
      return AlpnAnswer(ssl, out, out_len, {in, in_len});
    }
    const std::vector<std::string>& prefs =
        static_cast<const Context*>(arg)->config().alpn_protocols;
    if (prefs.empty()) return SSL_TLSEXT_ERR_NOACK;
    std::optional<size_t> i = SelectAlpn(prefs, {in, in_len});
    if (!i) return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = reinterpret_cast<const uint8_t*>(prefs[*i].data());  // lives as long as the Context
    *out_len = static_cast<uint8_t>(prefs[*i].size());
    return SSL_TLSEXT_ERR_OK;
  }

  // Server NPN (|arg|: the serving Context): advertise its list (BoringSSL offers NPN only
  // below TLS 1.3).
  static int OnNpnAdvertise(SSL* ssl, const uint8_t** out, unsigned* out_len, void* arg) {
    if (SessionImpl* s = SessionImpl::FromSsl(ssl)) s->npn_called_ = true;
    const auto& negotiation = static_cast<const Context*>(arg)->negotiation_;
    if (!negotiation || negotiation->npn_wire.empty()) return SSL_TLSEXT_ERR_NOACK;
    const std::vector<uint8_t>& wire = negotiation->npn_wire;
    *out = wire.data();
    *out_len = static_cast<unsigned>(wire.size());
    return SSL_TLSEXT_ERR_OK;
  }

  // Client NPN: the first advertised protocol we list; no overlap sends our first choice
  // and the session reports none negotiated (Node's semantics, see protocol_list.h).
  static int OnNpnSelect(SSL* ssl, uint8_t** out, uint8_t* out_len, const uint8_t* in,
                         unsigned in_len, void* /*arg*/) {
    SessionImpl* s = SessionImpl::FromSsl(ssl);
    if (!s) return SSL_TLSEXT_ERR_ALERT_FATAL;
    s->npn_called_ = true;
    const std::vector<std::string>& prefs = s->context_->config().npn_protocols;
    NpnChoice choice = SelectNpn(prefs, {in, in_len});
    for (const std::string& p : prefs) {
      if (p == choice.send) {
        // BoringSSL copies the protocol; |prefs| lives as long as the Context anyway.
        *out = const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(p.data()));
        *out_len = static_cast<uint8_t>(p.size());
        s->npn_no_overlap_ = !choice.overlapped;
        return SSL_TLSEXT_ERR_OK;
      }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // no list: unreachable, the callback needs one
  }
};

// ---- Context ------------------------------------------------------------------------

std::optional<Error> Context::SetUpNegotiation() {
  // The entries are moved out while sub-contexts copy the remaining options (so 10,000
  // entries are not copied 10,000 times), and always put back with their secrets wiped.
  internal::ContextConfig& config = *config_;
  std::vector<SniContext> entries = std::move(config.sni_contexts);
  config.sni_contexts.clear();
  struct Restore {
    internal::ContextConfig& config;
    std::vector<SniContext>& entries;
    ~Restore() {
      for (SniContext& e : entries) internal::WipeSecrets(e.credentials);
      config.sni_contexts = std::move(entries);
    }
  } restore{config, entries};

  const internal::ContextConfig& o = config;
  auto n = std::make_shared<internal::Negotiation>();

  std::vector<uint8_t> alpn_wire, npn_wire;
  if (std::string m = EncodeProtocolList(o.alpn_protocols, &alpn_wire); !m.empty()) {
    return MakeError("ERR_TLS_INVALID_PROTOCOL_LIST", "alpn_protocols: " + m);
  }
  if (std::string m = EncodeProtocolList(o.npn_protocols, &npn_wire); !m.empty()) {
    return MakeError("ERR_TLS_INVALID_PROTOCOL_LIST", "npn_protocols: " + m);
  }

  if (o.role == Role::kClient) {
    // SSL_CTX_set_alpn_protos returns 0 on success.
    if (!alpn_wire.empty() &&
        SSL_CTX_set_alpn_protos(ssl_ctx_, alpn_wire.data(),
                                static_cast<unsigned>(alpn_wire.size())) != 0) {
      ERR_clear_error();
      return MakeError("ERR_TLS_INVALID_PROTOCOL_LIST", "BoringSSL refused alpn_protocols");
    }
    if (!npn_wire.empty()) {
      SSL_CTX_set_next_proto_select_cb(ssl_ctx_, NegotiationCallbacks::OnNpnSelect, nullptr);
    }
    negotiation_ = std::move(n);
    return std::nullopt;
  }

  if (o.alpn_callback && !o.alpn_protocols.empty()) {
    return MakeError(errc::kAlpnCallbackWithProtocols,
                     "alpn_callback and alpn_protocols cannot be used together (the callback "
                     "chooses)");
  }
  if (!alpn_wire.empty() || o.alpn_callback) {
    SSL_CTX_set_alpn_select_cb(ssl_ctx_, NegotiationCallbacks::OnAlpn, this);
  }
  if (!npn_wire.empty()) {
    SSL_CTX_set_next_protos_advertised_cb(ssl_ctx_, NegotiationCallbacks::OnNpnAdvertise, this);
  }
  n->npn_wire = std::move(npn_wire);
  n->sni_session_id_context = PublicDigest(o.credentials, o.ca_pems);

  std::unordered_map<std::string, std::shared_ptr<const Context>> by_entry;
  for (size_t i = 0; i < entries.size(); ++i) {
    const SniContext& e = entries[i];
    const std::string where = "sni_contexts[" + std::to_string(i) + "]";
    if (std::string m = ValidateSniPattern(e.pattern); !m.empty()) {
      return MakeError("ERR_TLS_INVALID_SNI_PATTERN", where + ": " + m);
    }
    std::shared_ptr<const Context>& sub = by_entry[EntryKey(e)];
    if (!sub) {
      internal::ContextConfig sub_options = o;  // |entries| were moved out: no nested copies
      sub_options.credentials = e.credentials;
      sub_options.ca_pems = e.ca_pems;
      sub_options.sni_callback = false;
      sub_options.ech_keys.clear();  // ECH is settled on the session's own context
      auto built = Context::CreateFromConfig(sub_options);
      internal::WipeSecrets(sub_options.credentials);
      if (!built.ok()) {
        // The pattern passed validation: only [A-Za-z0-9-._*], safe to print.
        return MakeError(built.error().code,
                         where + " (\"" + e.pattern + "\"): " + built.error().message);
      }
      sub = std::move(built).value();
    }
    n->sni.Add(e.pattern, sub);  // validated above: cannot fail
  }
  if (!o.alternative_credentials.empty()) {
    n->chains.push_back({KeyType(o.credentials.cert_chain_pem), nullptr});
    for (size_t i = 0; i < o.alternative_credentials.size(); ++i) {
      internal::ContextConfig alt_options = o;  // |entries| were moved out: no nested copies
      alt_options.credentials = o.alternative_credentials[i];
      alt_options.alternative_credentials.clear();
      alt_options.sni_callback = false;
      alt_options.ech_keys.clear();
      auto built = Context::CreateFromConfig(alt_options);
      internal::WipeSecrets(alt_options.credentials);
      if (!built.ok()) {
        return MakeError(built.error().code, "alternative_credentials[" + std::to_string(i) +
                                                 "]: " + built.error().message);
      }
      n->chains.push_back(
          {KeyType((*built)->config().credentials.cert_chain_pem), std::move(built).value()});
      // Like the default credentials, the Context keeps no private key.
      internal::WipeSecrets(config.alternative_credentials[i]);
    }
  }
  if (!n->sni.empty() || o.sni_callback || !n->chains.empty() || o.alpn_callback ||
      !o.ech_keys.empty() || o.early_data_check) {
    SSL_CTX_set_select_certificate_cb(ssl_ctx_, NegotiationCallbacks::OnSelectCertificate);
  }
  negotiation_ = std::move(n);
  return std::nullopt;
}

std::shared_ptr<const Context> Context::ContextForServername(std::string_view servername) const {
  if (!negotiation_ || negotiation_->sni.empty()) return nullptr;
  const std::shared_ptr<const Context>* hit = negotiation_->sni.Lookup(servername);
  return hit ? *hit : nullptr;
}

// ---- Session ------------------------------------------------------------------------

int SessionImpl::SelectCertificate(const SSL_CLIENT_HELLO* hello) {
  // ECH (server with keys): BoringSSL decrypted the inner ClientHello before this callback,
  // and |hello| and SSL_get_servername are the inner one's; otherwise the outer one's.
  if (!context_->config().ech_keys.empty()) {
    const uint8_t* ech = nullptr;
    size_t ech_len = 0;
    info_.ech = SSL_ech_accepted(ssl_) ? EchStatus::kAccepted
                : SSL_early_callback_ctx_extension_get(hello, TLSEXT_TYPE_encrypted_client_hello,
                                                       &ech, &ech_len)
                    ? EchStatus::kRejected
                    : EchStatus::kNotOffered;
  }
  switch (sni_state_) {
    case SniState::kPending:
      return ssl_select_cert_retry;
    case SniState::kAnswered:
      break;
    case SniState::kNone: {
      const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
      if (name == nullptr || *name == '\0') break;  // no name: the default credentials
      std::shared_ptr<const Context> chosen = context_->ContextForServername(name);
      if (!chosen && context_->config().sni_callback) {
        sni_state_ = SniState::kPending;
        Push(event::SniRequest{name});
        return ssl_select_cert_retry;
      }
      sni_state_ = SniState::kAnswered;
      if (chosen) rare().sni_context = std::move(chosen);
      break;
    }
  }
  // alpn_callback: the application chooses the protocol before the handshake goes on.
  if (context_->config().alpn_callback) {
    Rare& r = rare();
    if (r.alpn_state == Rare::AlpnState::kPending) return ssl_select_cert_retry;
    const uint8_t* data = nullptr;
    size_t len = 0;
    if (r.alpn_state == Rare::AlpnState::kNone &&
        SSL_early_callback_ctx_extension_get(
            hello, TLSEXT_TYPE_application_layer_protocol_negotiation, &data, &len) &&
        len >= 2) {
      auto offered = DecodeProtocolList({data + 2, len - 2});
      if (!offered || offered->empty()) return ssl_select_cert_error;  // malformed
      r.alpn_state = Rare::AlpnState::kPending;
      r.alpn_offered = *offered;
      const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
      Push(event::AlpnRequest{std::move(*offered), name ? name : ""});
      return ssl_select_cert_retry;
    }
  }
  // early_data_check: the application vets the 0-RTT ticket before BoringSSL decides.
  if (context_->config().early_data_check) {
    if (rare_ && rare_->early_check == Rare::EarlyCheck::kPending) return ssl_select_cert_retry;
    if (!rare_ || rare_->early_check == Rare::EarlyCheck::kNone) {
      if (std::optional<std::string> identity = EarlyDataIdentity(hello)) {
        rare().early_check = Rare::EarlyCheck::kPending;
        Push(event::EarlyDataCheck{std::vector<uint8_t>(identity->begin(), identity->end()),
                                   std::chrono::seconds(context_->config().session_timeout)});
        return ssl_select_cert_retry;
      }
    }
  }
  const Context* chosen = rare_ ? rare_->sni_context.get() : nullptr;
  // The default credentials serve: one of their chains, by what the client can verify.
  if (!chosen) chosen = NegotiationCallbacks::ChainFor(*context_, hello);
  if (!chosen) return ssl_select_cert_success;
  return NegotiationCallbacks::Switch(*this, *chosen) ? ssl_select_cert_success
                                                      : ssl_select_cert_error;
}

std::optional<Error> SessionImpl::AnswerSni(SniAnswer answer) {
  if (sni_state_ != SniState::kPending || failed()) {
    return Error{"ERR_TLS_SNI_NOT_PENDING", "AnswerSni: no kSniRequest is waiting for an answer",
                 std::nullopt, false};
  }
  switch (answer.kind) {
    case SniAnswer::Kind::kUseContext:
      if (!answer.context || answer.context->role() != Role::kServer) {
        return Error{"ERR_INVALID_ARG_VALUE",
                     "AnswerSni: kUseContext needs a server Context (with credentials)",
                     std::nullopt, false};
      }
      rare().sni_context = std::move(answer.context);
      break;
    case SniAnswer::Kind::kUseDefault:
      if (rare_) rare_->sni_context = nullptr;
      break;
    case SniAnswer::Kind::kReject: {
      sni_state_ = SniState::kAnswered;
      Error error = std::move(answer.error);
      if (error.code.empty()) error.code = "ERR_TLS_SNI_REJECTED";
      error.alert = error.alert.value_or(SSL_AD_UNRECOGNIZED_NAME);
      error.alert_from_peer = false;
      ERR_clear_error();
      SSL_send_fatal_alert(ssl_, *error.alert);
      ERR_clear_error();
      Fail(std::move(error));
      return std::nullopt;
    }
  }
  sni_state_ = SniState::kAnswered;
  Drive();
  return std::nullopt;
}

bool SessionImpl::sni_pending() const { return sni_state_ == SniState::kPending && !failed(); }

std::optional<Error> SessionImpl::AnswerAlpn(std::optional<std::string> protocol) {
  if (!alpn_pending()) {
    return MakeError(errc::kAlpnNotPending, "AnswerAlpn: no kAlpnRequest is waiting for an answer");
  }
  Rare& r = rare();
  if (protocol &&
      std::find(r.alpn_offered.begin(), r.alpn_offered.end(), *protocol) == r.alpn_offered.end()) {
    return MakeError(errc::kAlpnCallbackInvalidResult,
                     "AnswerAlpn: the client did not offer the protocol answered");
  }
  r.alpn_state = Rare::AlpnState::kAnswered;
  r.alpn_choice = std::move(protocol);
  std::vector<std::string>().swap(r.alpn_offered);
  Drive();
  return std::nullopt;
}

std::optional<std::string> SessionImpl::EarlyDataIdentity(const SSL_CLIENT_HELLO* hello) const {
  if (!options_.early_data.value_or(context_->config().early_data)) return std::nullopt;
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!SSL_early_callback_ctx_extension_get(hello, TLSEXT_TYPE_early_data, &data, &len) ||
      !SSL_early_callback_ctx_extension_get(hello, TLSEXT_TYPE_pre_shared_key, &data, &len)) {
    return std::nullopt;
  }
  // PreSharedKeyExtension (RFC 8446, 4.2.11): identities<7..2^16-1>, each
  // opaque identity<1..2^16-1> || uint32 obfuscated_ticket_age. 0-RTT uses the first.
  CBS ext, identities, identity;
  uint32_t age = 0;
  CBS_init(&ext, data, len);
  if (!CBS_get_u16_length_prefixed(&ext, &identities) ||
      !CBS_get_u16_length_prefixed(&identities, &identity) || CBS_len(&identity) == 0 ||
      !CBS_get_u32(&identities, &age)) {
    return std::nullopt;  // malformed: BoringSSL refuses it on its own
  }
  return std::string(reinterpret_cast<const char*>(CBS_data(&identity)), CBS_len(&identity));
}

std::optional<Error> SessionImpl::AnswerEarlyData(bool accept) {
  if (!early_data_check_pending()) {
    return MakeError(errc::kEarlyDataCheckNotPending,
                     "AnswerEarlyData: no kEarlyDataCheck is waiting for an answer");
  }
  rare_->early_check = Rare::EarlyCheck::kAnswered;
  if (!accept) SSL_set_early_data_enabled(ssl_, 0);
  Drive();
  return std::nullopt;
}

bool SessionImpl::early_data_check_pending() const {
  return rare_ && rare_->early_check == Rare::EarlyCheck::kPending && !failed();
}

bool SessionImpl::alpn_pending() const {
  return rare_ && rare_->alpn_state == Rare::AlpnState::kPending && !failed();
}

bool SessionImpl::pause_pending() const {
  return sni_pending() || alpn_pending() || verify_pending() || session_lookup_pending() ||
         key_operation_pending() || early_data_check_pending();
}

X509_STORE* SessionImpl::verify_store() const {
  const Context* chosen = rare_ ? rare_->sni_context.get() : nullptr;
  return (chosen ? chosen : context_.get())->trust_store();
}

std::optional<std::string> SessionImpl::NegotiatedNpn() const {
  if (role() == Role::kClient && npn_no_overlap_) return std::nullopt;
  const uint8_t* data = nullptr;
  unsigned len = 0;
  SSL_get0_next_proto_negotiated(ssl_, &data, &len);
  if (data == nullptr || len == 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(data), len);
}

}  // namespace sansio_tls
