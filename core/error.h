// Errors reported by the library: a typed kind to switch on, a stable code in Node's
// spelling for display and parity, a human message, and the TLS alert involved.
#ifndef SANSIO_TLS_CORE_ERROR_H_
#define SANSIO_TLS_CORE_ERROR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sansio_tls {

// ErrorKind classifies every Error; programs switch on it. The set is closed: a new code
// always falls in one of these.
enum class ErrorKind : uint8_t {
  kConfiguration = 1,  // options, credentials or arguments refused (ERR_TLS_INVALID_*,
                       // ERR_INVALID_ARG_VALUE, ...): nothing was sent; or our own
                       // external key could not be used (ERR_TLS_KEY_OPERATION_FAILED:
                       // the application's signer failed mid-handshake)
  kCertificate,        // the peer's certificate failed verification (X509 names such as
                       // CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID, an application's
                       // CompleteVerification code, a required OCSP staple missing)
  kProtocol,           // this side found the peer's TLS wrong or unacceptable and failed
                       // the connection (ERR_SSL_* not caused by a peer alert), usually
                       // sending an alert
  kPeerAlert,          // the peer sent a fatal alert (ERR_SSL_*ALERT*, alert_from_peer)
  kTransport,          // the byte stream ended or failed under TLS: ECONNRESET,
                       // ERR_TLS_TRUNCATED, EPIPE and other errno names, ERR_DNS_LOOKUP
  kTimeout,            // a deadline passed (handshake, shutdown, an unanswered pause, I/O)
  kMisuse,             // a call the API does not allow in this state (an answer with
                       // nothing pending, a write after end)
  kInternal,           // a broken invariant of the library: a bug
};

// "configuration", "certificate", "protocol", "peer_alert", "transport", "timeout",
// "misuse", "internal".
std::string_view ErrorKindName(ErrorKind kind);

// The library's own codes, one definition each: X(constant, code string, kind). Append
// only: a code's position is its value in the Asio error category (1-based). The
// macro's parameters are (NAME, CODE, KIND).
#define SANSIO_TLS_OWN_ERROR_CODES(X)                                                   \
  X(kInvalidArgValue, "ERR_INVALID_ARG_VALUE", kConfiguration)                          \
  X(kInvalidConfig, "ERR_TLS_INVALID_CONFIG", kConfiguration)                           \
  X(kInvalidCa, "ERR_TLS_INVALID_CA", kConfiguration)                                   \
  X(kInvalidCrl, "ERR_TLS_INVALID_CRL", kConfiguration)                                 \
  X(kInvalidPem, "ERR_TLS_INVALID_PEM", kConfiguration)                                 \
  X(kInvalidPfx, "ERR_TLS_INVALID_PFX", kConfiguration)                                 \
  X(kInvalidKey, "ERR_TLS_INVALID_KEY", kConfiguration)                                 \
  X(kBadPassphrase, "ERR_TLS_BAD_PASSPHRASE", kConfiguration)                           \
  X(kInvalidCredentials, "ERR_TLS_INVALID_CREDENTIALS", kConfiguration)                 \
  X(kKeyMismatch, "ERR_TLS_KEY_MISMATCH", kConfiguration)                               \
  X(kMissingCertificate, "ERR_TLS_MISSING_CERTIFICATE", kConfiguration)                 \
  X(kInvalidCiphers, "ERR_TLS_INVALID_CIPHERS", kConfiguration)                         \
  X(kInvalidProtocolVersion, "ERR_TLS_INVALID_PROTOCOL_VERSION", kConfiguration)        \
  X(kInvalidProtocolList, "ERR_TLS_INVALID_PROTOCOL_LIST", kConfiguration)              \
  X(kInvalidSniPattern, "ERR_TLS_INVALID_SNI_PATTERN", kConfiguration)                  \
  X(kInvalidTicketKeys, "ERR_TLS_INVALID_TICKET_KEYS", kConfiguration)                  \
  X(kInvalidSession, "ERR_TLS_INVALID_SESSION", kConfiguration)                         \
  X(kHostnameMismatch, "ERR_TLS_CERT_ALTNAME_INVALID", kCertificate)                    \
  X(kInvalidPeerCertificate, "ERR_TLS_INVALID_PEER_CERTIFICATE", kCertificate)          \
  X(kOcspMissing, "ERR_TLS_OCSP_MISSING", kCertificate)                                 \
  X(kCertRejected, "CERT_REJECTED", kCertificate)                                       \
  X(kUnspecifiedVerifyError, "UNSPECIFIED", kCertificate)                               \
  X(kSniRejected, "ERR_TLS_SNI_REJECTED", kProtocol)                                    \
  X(kKeyUpdate, "ERR_TLS_KEY_UPDATE", kProtocol)                                        \
  X(kConnectionReset, "ECONNRESET", kTransport)                                         \
  X(kTruncated, "ERR_TLS_TRUNCATED", kTransport)                                        \
  X(kDnsLookup, "ERR_DNS_LOOKUP", kTransport)                                           \
  X(kServerClosed, "ERR_TLS_SERVER_CLOSED", kTransport)                                 \
  X(kHandshakeTimeout, "ERR_TLS_HANDSHAKE_TIMEOUT", kTimeout)                           \
  X(kShutdownTimeout, "ERR_TLS_SHUTDOWN_TIMEOUT", kTimeout)                             \
  X(kPauseUnanswered, "ERR_TLS_PAUSE_UNANSWERED", kTimeout)                             \
  X(kTimedOut, "ETIMEDOUT", kTimeout)                                                   \
  X(kPaused, "ERR_TLS_PAUSED", kMisuse)                                                 \
  X(kSniNotPending, "ERR_TLS_SNI_NOT_PENDING", kMisuse)                                 \
  X(kVerifyNotPending, "ERR_TLS_VERIFY_NOT_PENDING", kMisuse)                           \
  X(kSessionLookupNotPending, "ERR_TLS_SESSION_LOOKUP_NOT_PENDING", kMisuse)            \
  X(kEarlyDataCheckNotPending, "ERR_TLS_EARLY_DATA_CHECK_NOT_PENDING", kMisuse)         \
  X(kWriteAfterEnd, "ERR_STREAM_WRITE_AFTER_END", kMisuse)                              \
  X(kHandshakeNotDone, "ERR_TLS_HANDSHAKE_NOT_DONE", kMisuse)                           \
  X(kServerAlreadyRunning, "ERR_SERVER_ALREADY_RUNNING", kMisuse)                       \
  X(kBadFileDescriptor, "EBADF", kMisuse)                                               \
  X(kInternal, "ERR_TLS_INTERNAL", kInternal)                                           \
  X(kUnknownCode, "ERR_TLS_UNKNOWN_CODE", kInternal)                                    \
  X(kInvalidEcdhCurve, "ERR_TLS_INVALID_ECDH_CURVE", kConfiguration)                    \
  X(kInvalidSigalgs, "ERR_TLS_INVALID_SIGALGS", kConfiguration)                         \
  X(kExportKeyingMaterial, "ERR_TLS_EXPORT_KEYING_MATERIAL", kMisuse)                   \
  X(kChannelBinding, "ERR_TLS_CHANNEL_BINDING", kMisuse)                                \
  X(kOutOfRange, "ERR_OUT_OF_RANGE", kConfiguration)                                    \
  X(kAlpnCallbackWithProtocols, "ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS", kConfiguration) \
  X(kAlpnCallbackInvalidResult, "ERR_TLS_ALPN_CALLBACK_INVALID_RESULT", kMisuse)        \
  X(kAlpnNotPending, "ERR_TLS_ALPN_NOT_PENDING", kMisuse)                               \
  X(kOcspRejected, "ERR_TLS_OCSP_REJECTED", kCertificate)                               \
  X(kKeyOperationNotPending, "ERR_TLS_KEY_OPERATION_NOT_PENDING", kMisuse)              \
  X(kKeyOperationInvalidResult, "ERR_TLS_KEY_OPERATION_INVALID_RESULT", kMisuse)        \
  X(kKeyOperationFailed, "ERR_TLS_KEY_OPERATION_FAILED", kConfiguration)                \
  X(kInvalidEchConfig, "ERR_TLS_INVALID_ECH_CONFIG", kConfiguration)                    \
  X(kEchRejected, "ERR_TLS_ECH_REJECTED", kProtocol)

// errc::kX is the code string of one of the library's own errors, e.g.
// errc::kHandshakeTimeout == "ERR_TLS_HANDSHAKE_TIMEOUT". Compare with Error::code.
namespace errc {
#define SANSIO_TLS_X(NAME, CODE, KIND) inline constexpr std::string_view NAME = CODE;
SANSIO_TLS_OWN_ERROR_CODES(SANSIO_TLS_X)
#undef SANSIO_TLS_X
}  // namespace errc

// OwnErrorValue is |code|'s 1-based position among the library's own codes (a stable
// number, e.g. for an error_code category), 0 when |code| is not one of them.
constexpr int OwnErrorValue(std::string_view code) {
  int value = 1;
  for (std::string_view own : {
#define SANSIO_TLS_X(NAME, CODE, KIND) std::string_view(CODE),
           SANSIO_TLS_OWN_ERROR_CODES(SANSIO_TLS_X)
#undef SANSIO_TLS_X
       }) {
    if (own == code) return value;
    ++value;
  }
  return 0;
}

// OwnErrorCode is the code string of OwnErrorValue |value|, "" when out of range.
std::string_view OwnErrorCode(int value);

// ClassifyError is the kind of |code|: the library's own codes by the table above;
// X509_V_ERR names (CERT_HAS_EXPIRED, ...) kCertificate; ERR_SSL_*/ERR_OSSL_* kPeerAlert
// when |alert_from_peer| else kProtocol; other E<NAME> errno names kTransport; anything
// else (an application's CompleteVerification code) kCertificate when |verification|,
// else kInternal.
ErrorKind ClassifyError(std::string_view code, bool alert_from_peer, bool verification = false);

// Error is what failed and why. Callers switch on kind() and compare |code| with the
// errc constants or Node's codes; never with |message|.
//
// Codes follow Node.js:
//  - certificate verification: the X509_V_ERR_<NAME> name without the prefix
//    (`DEPTH_ZERO_SELF_SIGNED_CERT`, `CERT_HAS_EXPIRED`, ...), and
//    `ERR_TLS_CERT_ALTNAME_INVALID` for a host-name mismatch;
//  - TLS protocol failures: `ERR_SSL_<BoringSSL reason>` (`ERR_SSL_WRONG_VERSION_NUMBER`,
//    `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA` when the peer sent that alert, ...);
//  - `ECONNRESET`: the transport ended (EOF) before the handshake completed;
//  - the errc constants above for everything else of ours.
struct Error {
  std::string code;
  std::string message;
  // The fatal alert this side sent, or the one received from the peer, if any.
  std::optional<uint8_t> alert;
  bool alert_from_peer = false;
  // True when the code is a certificate verdict (so an application's own code counts as
  // kCertificate).
  bool verification = false;

  ErrorKind kind() const { return ClassifyError(code, alert_from_peer, verification); }
  friend bool operator==(const Error&, const Error&) = default;
};

// MakeError is the Error of |code| with |message|, no alert.
inline Error MakeError(std::string_view code, std::string message) {
  return Error{std::string(code), std::move(message), std::nullopt, false, false};
}

// Result holds a value or an Error. Used by calls that can fail.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  // value() and error() must only be called when ok() resp. !ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_ERROR_H_
