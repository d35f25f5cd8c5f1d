// External private keys (Credentials::external_key): each signature or RSA decryption
// BoringSSL needs becomes a pause of the Session (kSignRequest, kDecryptRequest) until the
// application answers with CompleteKeyOperation() or FailKeyOperation().
//
// BoringSSL's SSL_PRIVATE_KEY_METHOD: |sign|/|decrypt| queue the request and answer
// ssl_private_key_retry, so SSL_do_handshake stops with SSL_ERROR_WANT_PRIVATE_KEY_OPERATION;
// every later SSL_do_handshake (more input arriving meanwhile, the answer) calls |complete|,
// which stays at retry until the application answered.
#include "core/internal/key_operation.h"

#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/ssl.h>

#include <cstring>

#include "core/internal/session_impl.h"
#include "core/internal/session_rare.h"
#include "core/session.h"

namespace sansio_tls {

namespace {

int LabelIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

struct KeyOperationCallbacks {
  static ssl_private_key_result_t Sign(SSL* ssl, uint8_t* /*out*/, size_t* /*out_len*/,
                                       size_t max_out, uint16_t algorithm, const uint8_t* in,
                                       size_t in_len) {
    SessionImpl* s = SessionImpl::FromSsl(ssl);
    if (!s) return ssl_private_key_failure;
    return static_cast<ssl_private_key_result_t>(
        s->StartKeyOperation(EventKind::kSignRequest, algorithm, {in, in_len}, max_out));
  }
  static ssl_private_key_result_t Decrypt(SSL* ssl, uint8_t* /*out*/, size_t* /*out_len*/,
                                          size_t max_out, const uint8_t* in, size_t in_len) {
    SessionImpl* s = SessionImpl::FromSsl(ssl);
    if (!s) return ssl_private_key_failure;
    return static_cast<ssl_private_key_result_t>(
        s->StartKeyOperation(EventKind::kDecryptRequest, 0, {in, in_len}, max_out));
  }
  static ssl_private_key_result_t Complete(SSL* ssl, uint8_t* out, size_t* out_len,
                                           size_t max_out) {
    SessionImpl* s = SessionImpl::FromSsl(ssl);
    if (!s) return ssl_private_key_failure;
    return static_cast<ssl_private_key_result_t>(s->FinishKeyOperation(out, out_len, max_out));
  }
};

const SSL_PRIVATE_KEY_METHOD* internal::ExternalKeyMethod() {
  static const SSL_PRIVATE_KEY_METHOD method = {
      KeyOperationCallbacks::Sign, KeyOperationCallbacks::Decrypt, KeyOperationCallbacks::Complete};
  return &method;
}

void internal::SetExternalKeyLabel(SSL_CTX* ctx, const std::string* label) {
  SSL_CTX_set_ex_data(ctx, LabelIndex(), const_cast<std::string*>(label));
}

int SessionImpl::StartKeyOperation(EventKind kind, uint16_t algorithm,
                                   std::span<const uint8_t> input, size_t max_out) {
  Rare& r = rare();
  r.key_op = Rare::KeyOpState::kPending;
  r.key_op_max = max_out;
  // The serving SSL_CTX: after an SNI or chain choice, that entry's.
  std::string label;
  if (const auto* l =
          static_cast<const std::string*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl_), LabelIndex())))
    label = *l;
  std::vector<uint8_t> bytes(input.begin(), input.end());
  if (kind == EventKind::kSignRequest) {
    Push(event::SignRequest{algorithm, std::move(label), std::move(bytes)});
  } else {
    Push(event::DecryptRequest{std::move(label), std::move(bytes)});
  }
  return ssl_private_key_retry;
}

int SessionImpl::FinishKeyOperation(uint8_t* out, size_t* out_len, size_t max_out) {
  if (!rare_) return ssl_private_key_failure;
  Rare& r = *rare_;
  switch (r.key_op) {
    case Rare::KeyOpState::kPending:
      return ssl_private_key_retry;
    case Rare::KeyOpState::kAnswered: {
      if (r.key_op_result.size() > max_out) return ssl_private_key_failure;  // checked before
      std::memcpy(out, r.key_op_result.data(), r.key_op_result.size());
      *out_len = r.key_op_result.size();
      OPENSSL_cleanse(r.key_op_result.data(), r.key_op_result.size());  // a decryption's secret
      std::vector<uint8_t>().swap(r.key_op_result);
      r.key_op = Rare::KeyOpState::kNone;
      return ssl_private_key_success;
    }
    case Rare::KeyOpState::kNone:
    case Rare::KeyOpState::kFailed:
      break;
  }
  return ssl_private_key_failure;
}

std::optional<Error> SessionImpl::KeyOperationError() {
  if (!rare_ || rare_->key_op != Rare::KeyOpState::kFailed) return std::nullopt;
  // BoringSSL fails the handshake without an alert: tell the peer.
  if (!alert_sent_) SSL_send_fatal_alert(ssl_, SSL_AD_INTERNAL_ERROR);
  ERR_clear_error();
  std::string message = rare_->key_op_failure.empty()
                            ? "the application failed the private-key operation"
                            : "the private-key operation failed: " + rare_->key_op_failure;
  return MakeError(errc::kKeyOperationFailed, std::move(message));
}

std::optional<Error> SessionImpl::CompleteKeyOperation(std::span<const uint8_t> result) {
  if (!key_operation_pending()) {
    return MakeError(errc::kKeyOperationNotPending,
                     "CompleteKeyOperation: no kSignRequest or kDecryptRequest is waiting");
  }
  Rare& r = *rare_;
  if (result.empty() || result.size() > r.key_op_max) {
    return MakeError(errc::kKeyOperationInvalidResult,
                     "CompleteKeyOperation: " + std::to_string(result.size()) +
                         " bytes answered, the key's output is 1 to " +
                         std::to_string(r.key_op_max));
  }
  r.key_op = Rare::KeyOpState::kAnswered;
  r.key_op_result.assign(result.begin(), result.end());
  Drive();
  return std::nullopt;
}

std::optional<Error> SessionImpl::FailKeyOperation(std::string message) {
  if (!key_operation_pending()) {
    return MakeError(errc::kKeyOperationNotPending,
                     "FailKeyOperation: no kSignRequest or kDecryptRequest is waiting");
  }
  rare_->key_op = Rare::KeyOpState::kFailed;
  rare_->key_op_failure = std::move(message);
  Drive();
  return std::nullopt;
}

bool SessionImpl::key_operation_pending() const {
  return rare_ && rare_->key_op == Rare::KeyOpState::kPending && !failed();
}

}  // namespace sansio_tls
