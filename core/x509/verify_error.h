// Certificate verification error codes as Node.js reports them.
//
// Node's `authorizationError` / `err.code` is the OpenSSL X509_V_ERR_<NAME>
// constant name without the prefix ("CERT_HAS_EXPIRED", ...). Pure functions,
// no state; safe from any thread.
#ifndef SANSIO_TLS_CORE_X509_VERIFY_ERROR_H_
#define SANSIO_TLS_CORE_X509_VERIFY_ERROR_H_

#include <optional>
#include <string_view>

namespace sansio_tls {

// The codes of ours next to these (ERR_TLS_CERT_ALTNAME_INVALID for a host-name mismatch,
// ERR_TLS_INVALID_PEER_CERTIFICATE for an unparseable certificate) are errc constants in
// core/error.h.

// Maps an X509_V_ERR_* value to its name without the "X509_V_ERR_" prefix,
// e.g. X509_V_ERR_CERT_HAS_EXPIRED -> "CERT_HAS_EXPIRED". Every code BoringSSL
// defines has its own name (Node names only a subset and reports the rest as
// "UNSPECIFIED"). X509_V_OK -> "" (no error); unknown values -> "UNSPECIFIED"
// (which is also the name of X509_V_ERR_UNSPECIFIED). The returned view refers
// to static storage.
std::string_view VerifyErrorCode(int x509_v_err);

// The reverse: "CERT_HAS_EXPIRED" -> X509_V_ERR_CERT_HAS_EXPIRED. Exact,
// case-sensitive match; "" -> X509_V_OK; unknown names -> std::nullopt.
std::optional<int> VerifyErrorFromCode(std::string_view code);

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_X509_VERIFY_ERROR_H_
