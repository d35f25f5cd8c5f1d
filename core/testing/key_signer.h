// What a signer does with a private key, for tests of external keys
// (Credentials::external_key) and for applications that hold a software key elsewhere (a
// signing thread, a key server): the operations behind EventKind::kSignRequest and
// kDecryptRequest, done with BoringSSL.
#ifndef SANSIO_TLS_CORE_TESTING_KEY_SIGNER_H_
#define SANSIO_TLS_CORE_TESTING_KEY_SIGNER_H_

#include <openssl/base.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/session.h"

namespace sansio_tls::testing {

// SignMessage signs |input| (the message, hashed here) with |key| by the IANA
// SignatureScheme |algorithm| (RSA PKCS#1 v1.5, RSA-PSS with salt = hash length, ECDSA with
// the key's own curve, Ed25519). Empty when |key| cannot make that signature.
std::vector<uint8_t> SignMessage(EVP_PKEY* key, uint16_t algorithm, std::span<const uint8_t> input);

// RawRsaDecrypt is the RSA decryption of |input| with no padding removed (as
// kDecryptRequest asks); empty for a non-RSA key or an input out of range.
std::vector<uint8_t> RawRsaDecrypt(EVP_PKEY* key, std::span<const uint8_t> input);

// KeyOperationResult is what to answer |request| (a kSignRequest or kDecryptRequest) with.
std::vector<uint8_t> KeyOperationResult(EVP_PKEY* key, const Event& request);

// AnswerKeyOperation computes the result of |request| with |key| and answers it on
// |session| (Session::CompleteKeyOperation), or fails it when |key| cannot.
std::optional<Error> AnswerKeyOperation(Session& session, const Event& request, EVP_PKEY* key);

}  // namespace sansio_tls::testing

#endif  // SANSIO_TLS_CORE_TESTING_KEY_SIGNER_H_
