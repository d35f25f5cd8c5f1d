// Peer certificate verification and the peer certificate object: the Session parts
// declared in session.h (VerifyPeer, CompleteVerification, peer_certificate).
//
// Our verdict (ComputeVerdict): the chain against the trust store (verify_store(): the SNI
// context's or the context's; CRLs as configured; at the session clock:
// SessionOptions::verify_time, else set_now()), then, on a client whose chain verified, the host
// name (servername, else host, else "localhost").
//
// What happens with it, as in Node:
//  - Client: reject_unauthorized turns a bad verdict into a failed handshake at once,
//    inside BoringSSL's verify callback (alert matching the error; no kHandshakeDone).
//  - Server (request_cert): the handshake always completes; a missing certificate is
//    UNABLE_TO_GET_ISSUER_CERT; with reject_unauthorized an unauthorized client is refused
//    in OnHandshakeDone, before kHandshakeDone, so the application never sees it. Node
//    closes such a socket silently; we also send a fatal alert matching the error
//    (certificate_required / handshake_failure for a missing certificate), so the client
//    learns why. Completing first is the spec's rule; it also matches what a TLS 1.3 client
//    observes anyway (its handshake ends before the server judges its certificate). A
//    ticket issued meanwhile carries the unauthorized verdict, which resumption refuses
//    under reject_unauthorized (Session::AcceptResumption).
//  - A certificate of the peer's chain that does not parse fails the handshake at once
//    (errc::kInvalidPeerCertificate, decode_error alert) on both sides, whatever the options,
//    as in OpenSSL: there is nothing to judge, and verify_callback is not asked.
//  - verify_callback: the verdict is shown to the application (kVerifyRequested) and its
//    answer is final on both sides: accept authorizes the peer, reject fails the handshake
//    at once (no ticket can carry a rejected certificate). BoringSSL calls the verify
//    callback again after each retry; verify_state_ answers those calls.
#include <openssl/err.h>
#include <openssl/pool.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <span>
#include <string>
#include <vector>

#include "core/internal/context_config.h"
#include "core/internal/session_impl.h"
#include "core/internal/session_rare.h"
#include "core/session.h"
#include "core/x509/hostname.h"
#include "core/x509/peer_certificate.h"
#include "core/x509/verify_error.h"

namespace sansio_tls {
namespace {

// The alert sent when a certificate is rejected with |code| (an X509 name or ours).
uint8_t AlertForCode(const std::string& code) {
  if (code == errc::kOcspRejected || code == errc::kOcspMissing) {
    return SSL_AD_BAD_CERTIFICATE_STATUS_RESPONSE;
  }
  std::optional<int> x509_err = VerifyErrorFromCode(code);
  switch (x509_err.value_or(X509_V_ERR_UNSPECIFIED)) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return SSL_AD_CERTIFICATE_EXPIRED;
    case X509_V_ERR_CERT_REVOKED:
      return SSL_AD_CERTIFICATE_REVOKED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
      return SSL_AD_UNKNOWN_CA;
    default:
      return SSL_AD_BAD_CERTIFICATE;  // also the host-name mismatch and the application's codes
  }
}

std::span<const uint8_t> Der(const CRYPTO_BUFFER* b) {
  return {CRYPTO_BUFFER_data(b), CRYPTO_BUFFER_len(b)};
}

bool SelfIssued(X509* x) { return X509_check_issued(x, x) == X509_V_OK; }

// Extends |ders| (leaf first, as the peer sent it) with the issuers |store| holds beyond
// the last certificate of the leaf's issuer path, up to a self-issued root: what Node's
// getPeerCertificate(true) adds from the trust store. Bounded by kMaxIssuerChainLength.
void AppendTrustedIssuers(X509_STORE* store, std::vector<std::vector<uint8_t>>* ders) {
  std::vector<bssl::UniquePtr<X509>> sent;
  for (const auto& d : *ders) {
    const uint8_t* p = d.data();
    sent.emplace_back(d2i_X509(nullptr, &p, static_cast<long>(d.size())));
    if (!sent.back()) {
      ERR_clear_error();
      return;  // ParsePeerCertificate reports the unparsable chain
    }
  }
  // The issuer path within what was sent, as ParsePeerCertificate links it.
  std::vector<bool> used(sent.size(), false);
  used[0] = true;
  X509* current = sent[0].get();
  size_t length = 1;
  for (;;) {
    if (SelfIssued(current)) return;  // a root ends the path
    size_t next = sent.size();
    for (size_t j = 0; j < sent.size() && next == sent.size(); ++j) {
      if (!used[j] && X509_check_issued(sent[j].get(), current) == X509_V_OK) next = j;
    }
    if (next == sent.size()) break;
    used[next] = true;
    current = sent[next].get();
    ++length;
  }
  bssl::UniquePtr<X509_STORE_CTX> sctx(X509_STORE_CTX_new());
  if (!sctx || !X509_STORE_CTX_init(sctx.get(), store, current, nullptr)) {
    ERR_clear_error();
    return;
  }
  bssl::UniquePtr<X509> owned;  // keeps |current| alive once it comes from the store
  while (length < kMaxIssuerChainLength && !SelfIssued(current)) {
    X509* issuer = nullptr;
    if (X509_STORE_CTX_get1_issuer(&issuer, sctx.get(), current) != 1 || issuer == nullptr) break;
    owned.reset(issuer);
    uint8_t* der = nullptr;
    int len = i2d_X509(issuer, &der);
    if (len <= 0) break;
    ders->emplace_back(der, der + len);
    OPENSSL_free(der);
    current = issuer;
    ++length;
  }
  ERR_clear_error();
}

}  // namespace

bool SessionImpl::ComputeVerdict() {
  verify_done_ = true;
  int x509_err = X509_V_ERR_UNSPECIFIED;
  const STACK_OF(CRYPTO_BUFFER)* chain = SSL_get0_peer_certificates(ssl_);
  size_t n = chain ? sk_CRYPTO_BUFFER_num(chain) : 0;
  bssl::UniquePtr<X509> leaf;
  if (n > 0) leaf.reset(X509_parse_from_buffer(sk_CRYPTO_BUFFER_value(chain, 0)));
  if (n > 0 && !leaf) {
    ERR_clear_error();
    return false;
  }
  if (leaf) {
    bssl::UniquePtr<STACK_OF(X509)> intermediates(sk_X509_new_null());
    for (size_t i = 1; i < n && intermediates; ++i) {
      X509* x = X509_parse_from_buffer(sk_CRYPTO_BUFFER_value(chain, i));
      if (!x) {
        ERR_clear_error();
        return false;
      }
      if (!sk_X509_push(intermediates.get(), x)) X509_free(x);
    }
    bssl::UniquePtr<X509_STORE_CTX> sctx(X509_STORE_CTX_new());
    if (sctx && intermediates &&
        X509_STORE_CTX_init(sctx.get(), verify_store(), leaf.get(), intermediates.get())) {
      X509_STORE_CTX_set_default(sctx.get(), role() == Role::kClient ? "ssl_server" : "ssl_client");
      // The session's clock, never BoringSSL's own (the epoch when no time was given).
      X509_STORE_CTX_set_time(sctx.get(), 0, clock_.value_or(0));
      x509_err =
          X509_verify_cert(sctx.get()) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(sctx.get());
      // Node runs OpenSSL 3, which names a lone untrusted leaf with an unknown issuer
      // UNABLE_TO_VERIFY_LEAF_SIGNATURE; BoringSSL's verifier (of OpenSSL 1.0.2 lineage)
      // says UNABLE_TO_GET_ISSUER_CERT_LOCALLY at depth 0.
      if (x509_err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY &&
          X509_STORE_CTX_get_error_depth(sctx.get()) == 0) {
        x509_err = X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
      }
    }
  }
  ERR_clear_error();

  info_.authorized = x509_err == X509_V_OK;
  info_.authorization_error =
      info_.authorized ? std::string() : std::string(VerifyErrorCode(x509_err));

  if (info_.authorized && role() == Role::kClient) {
    std::string name = !options_.servername.empty() ? options_.servername
                       : !options_.host.empty()     ? options_.host
                                                    : std::string("localhost");
    // ECH rejected: this handshake only authenticates the public name (and the retry
    // configs); it never completes (ERR_TLS_ECH_REJECTED).
    const char* ech_name = nullptr;
    size_t ech_name_len = 0;
    SSL_get0_ech_name_override(ssl_, &ech_name, &ech_name_len);
    if (ech_name_len > 0) name.assign(ech_name, ech_name_len);
    HostnameCheck check = CheckServerIdentityX509(name, leaf.get());  // authorized: |leaf| parsed
    if (!check.ok) {
      info_.authorized = false;
      info_.authorization_error = std::string(errc::kHostnameMismatch);
      rare().hostname_reason = std::move(check.reason);
    }
  }
  return true;
}

int SessionImpl::VerifyPeer(uint8_t* out_alert) {
  switch (verify_state_) {
    case VerifyState::kPending:
      return ssl_verify_retry;
    case VerifyState::kAccepted:
      return ssl_verify_ok;
    case VerifyState::kRejected:
      *out_alert = AlertForCode(info_.authorization_error);
      verify_rejected_ = true;
      return ssl_verify_invalid;
    case VerifyState::kNone:
      break;
  }
  if (!ComputeVerdict()) {
    info_.authorized = false;
    info_.authorization_error = std::string(errc::kInvalidPeerCertificate);
    *out_alert = SSL_AD_DECODE_ERROR;
    verify_rejected_ = true;
    return ssl_verify_invalid;
  }
  const internal::ContextConfig& o = context_->config();
  if (role() == Role::kClient) {
    // ECH rejected: this handshake only authenticates the retry configs, which are trusted
    // only from a server proven for the public name, whatever reject_unauthorized or a
    // verify_callback would say.
    const char* ech_name = nullptr;
    size_t ech_name_len = 0;
    SSL_get0_ech_name_override(ssl_, &ech_name, &ech_name_len);
    if (ech_name_len > 0) {
      if (info_.authorized) return ssl_verify_ok;
      *out_alert = AlertForCode(info_.authorization_error);
      verify_rejected_ = true;
      return ssl_verify_invalid;
    }
  }
  if (o.verify_callback) {
    verify_state_ = VerifyState::kPending;
    Push(event::VerifyRequested{info_.authorized, info_.authorization_error});
    return ssl_verify_retry;
  }
  // A server judges its client once the handshake completes (RefuseUnauthorizedClient).
  if (info_.authorized || !o.reject_unauthorized || role() == Role::kServer) return ssl_verify_ok;
  *out_alert = AlertForCode(info_.authorization_error);
  verify_rejected_ = true;
  return ssl_verify_invalid;
}

bool SessionImpl::RefuseUnauthorizedClient() {
  const internal::ContextConfig& o = context_->config();
  bool missing = !verify_done_;  // also a resumed session created without a certificate
  if (missing) {
    info_.authorized = false;
    info_.authorization_error = std::string(VerifyErrorCode(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT));
  }
  if (info_.authorized || !o.reject_unauthorized) return false;
  uint8_t alert = !missing                              ? AlertForCode(info_.authorization_error)
                  : SSL_version(ssl_) >= TLS1_3_VERSION ? SSL_AD_CERTIFICATE_REQUIRED
                                                        : SSL_AD_HANDSHAKE_FAILURE;
  ERR_clear_error();
  SSL_send_fatal_alert(ssl_, alert);
  ERR_clear_error();
  Fail(MakeError(info_.authorization_error,
                 missing ? "the client sent no certificate"
                         : "client certificate refused: " + VerifyFailureMessage()));
  return true;
}

std::string SessionImpl::VerifyFailureMessage() const {
  const std::string& code = info_.authorization_error;
  if (verify_state_ == VerifyState::kRejected) {
    return "the application rejected the peer certificate (" + code + ")";
  }
  if (code == errc::kInvalidPeerCertificate) {
    return "the peer sent a certificate that cannot be parsed (malformed DER)";
  }
  if (code == errc::kHostnameMismatch && rare_ && !rare_->hostname_reason.empty()) {
    return rare_->hostname_reason;
  }
  return "certificate verification failed: " + code;
}

std::optional<Error> SessionImpl::CompleteVerification(bool accept, std::string code) {
  if (verify_state_ != VerifyState::kPending || failed()) {
    return MakeError("ERR_TLS_VERIFY_NOT_PENDING",
                     "CompleteVerification: no kVerifyRequested is waiting for an answer");
  }
  if (accept) {
    verify_state_ = VerifyState::kAccepted;
    info_.authorized = true;
    info_.authorization_error.clear();
    if (rare_) rare_->hostname_reason.clear();
  } else {
    verify_state_ = VerifyState::kRejected;
    info_.authorized = false;
    info_.authorization_error = code.empty() ? std::string("CERT_REJECTED") : std::move(code);
  }
  Drive();
  return std::nullopt;
}

bool SessionImpl::verify_pending() const {
  return verify_state_ == VerifyState::kPending && !failed();
}

std::optional<PeerCertificate> SessionImpl::peer_certificate(bool detailed) const {
  const STACK_OF(CRYPTO_BUFFER)* chain = SSL_get0_peer_certificates(ssl_);
  size_t n = chain ? sk_CRYPTO_BUFFER_num(chain) : 0;
  if (n == 0) return std::nullopt;
  if (!detailed) return ParsePeerCertificate(Der(sk_CRYPTO_BUFFER_value(chain, 0)));
  std::vector<std::vector<uint8_t>> ders;
  ders.reserve(n + 2);
  for (size_t i = 0; i < n; ++i) {
    std::span<const uint8_t> d = Der(sk_CRYPTO_BUFFER_value(chain, i));
    ders.emplace_back(d.begin(), d.end());
  }
  AppendTrustedIssuers(verify_store(), &ders);
  return ParsePeerCertificate(ders, true);
}

}  // namespace sansio_tls
