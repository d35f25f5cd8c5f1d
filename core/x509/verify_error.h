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

// Code reported when the host name does not match the certificate
// (Node's checkServerIdentity error code).
inline constexpr std::string_view kHostnameMismatch = "ERR_TLS_CERT_ALTNAME_INVALID";

// Code reported when a certificate the peer sent cannot be parsed (DER): the handshake
// fails with a decode_error alert whatever reject_unauthorized says, as OpenSSL (and so
// Node) does; the application is not asked (there is nothing it could judge).
inline constexpr std::string_view kInvalidPeerCertificate = "ERR_TLS_INVALID_PEER_CERTIFICATE";

// Code for an unknown verification error.
inline constexpr std::string_view kUnspecifiedVerifyError = "UNSPECIFIED";

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
