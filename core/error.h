// Errors reported by the core: a stable code, a human message, and the TLS alert involved.
#ifndef SANSIO_TLS_CORE_ERROR_H_
#define SANSIO_TLS_CORE_ERROR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sansio_tls {

// Error is what failed and why. Callers branch on |code|, never on |message|.
//
// Codes follow Node.js:
//  - certificate verification: the X509_V_ERR_<NAME> name without the prefix
//    (`DEPTH_ZERO_SELF_SIGNED_CERT`, `CERT_HAS_EXPIRED`, ...), and
//    `ERR_TLS_CERT_ALTNAME_INVALID` for a host-name mismatch;
//  - TLS protocol failures: `ERR_SSL_<BoringSSL reason>` (`ERR_SSL_WRONG_VERSION_NUMBER`,
//    `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA` when the peer sent that alert, ...);
//  - `ECONNRESET`: the transport ended (EOF) before the handshake completed;
//  - `ERR_TLS_*` / `ERR_INVALID_ARG_VALUE`: misuse and configuration errors.
struct Error {
  std::string code;
  std::string message;
  // The fatal alert this side sent, or the one received from the peer, if any.
  std::optional<uint8_t> alert;
  bool alert_from_peer = false;

  friend bool operator==(const Error&, const Error&) = default;
};

// Result holds a value or an Error. Used by configuration calls that can fail.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit by design

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
