// External private keys (Credentials::external_key): the BoringSSL key method that turns
// each signing or decryption into a Session pause. Internal: used by Context and Session
// (core/key_operation.cc).
#ifndef SANSIO_TLS_CORE_INTERNAL_KEY_OPERATION_H_
#define SANSIO_TLS_CORE_INTERNAL_KEY_OPERATION_H_

#include <openssl/base.h>

#include <string>

namespace sansio_tls::internal {

// The method installed with a certificate chain whose key the application holds. Its
// callbacks find the Session owning the SSL and pause it (EventKind::kSignRequest,
// kDecryptRequest); an SSL without a Session fails every operation.
const SSL_PRIVATE_KEY_METHOD* ExternalKeyMethod();

// Records |label| (borrowed: it must outlive |ctx|) as the name of |ctx|'s external key,
// reported as event::SignRequest/DecryptRequest::key_label.
void SetExternalKeyLabel(SSL_CTX* ctx, const std::string* label);

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_KEY_OPERATION_H_
