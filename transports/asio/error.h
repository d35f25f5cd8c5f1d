// Errors of the Asio transport as std::error_code (asio::error_code in standalone Asio).
//
// The category "sansio_tls" carries the core's Error codes (core/error.h): an error_code's
// message() is the code string itself ("CERT_HAS_EXPIRED", "ERR_SSL_WRONG_VERSION_NUMBER",
// "ECONNRESET", ...), so `ec.message()` reads like Node's `err.code`. The human message and
// the alert stay on the Error, readable from Stream::error(). Values are fixed by the code,
// whatever the order codes are met in:
//   1..999            the library's own codes (errc constants; OwnErrorValue in core/error.h)
//   1000 + n          X509_V_ERR n by its name ("CERT_HAS_EXPIRED")
//   0x8000 + errno    errno names ("EPIPE")
//   0x10000 + (lib << 12) + reason   BoringSSL reasons ("ERR_SSL_<reason>", "ERR_OSSL_<reason>")
// Only a code an application invents (CompleteVerification's) gets a value when first seen,
// at 0x1000000 and above.
//
// Transport failures keep Asio's own codes: asio::error::eof for the peer's clean end
// (close_notify) after the handshake, asio::error::operation_aborted for a cancelled
// operation, system errors (connection_reset, broken_pipe, ...) from the socket.
#ifndef SANSIO_TLS_TRANSPORTS_ASIO_ERROR_H_
#define SANSIO_TLS_TRANSPORTS_ASIO_ERROR_H_

#include <string>
#include <string_view>
#include <system_error>

#include "core/error.h"

namespace sansio_tls::asio_tls {

// The transport's codes as an enum (their values are the core's OwnErrorValue).
enum class errc {
  // "ERR_TLS_TRUNCATED": the transport ended without close_notify after the handshake (the
  // peer's data may be cut short). Same code as the POSIX transport.
  truncated = OwnErrorValue(sansio_tls::errc::kTruncated),
  // "ERR_TLS_HANDSHAKE_TIMEOUT": the handshake did not complete in time (Node's code).
  handshake_timeout = OwnErrorValue(sansio_tls::errc::kHandshakeTimeout),
  // "ERR_TLS_SHUTDOWN_TIMEOUT": the peer's close_notify did not arrive (or ours could not be
  // sent) before the shutdown's deadline.
  shutdown_timeout = OwnErrorValue(sansio_tls::errc::kShutdownTimeout),
  // "ECONNRESET": the transport ended before the handshake completed (the core's code).
  connection_reset = OwnErrorValue(sansio_tls::errc::kConnectionReset),
  // "ERR_TLS_CERT_ALTNAME_INVALID": the server's certificate does not match the host name.
  hostname_mismatch = OwnErrorValue(sansio_tls::errc::kHostnameMismatch),
  // "ERR_STREAM_WRITE_AFTER_END": write after shutdown started (Node's code).
  write_after_end = OwnErrorValue(sansio_tls::errc::kWriteAfterEnd),
  // "ERR_TLS_HANDSHAKE_NOT_DONE": shutdown of a stream whose handshake never completed.
  handshake_not_done = OwnErrorValue(sansio_tls::errc::kHandshakeNotDone),
  // "ERR_TLS_INTERNAL": an invariant of the transport broke (a bug); the stream is unusable.
  internal = OwnErrorValue(sansio_tls::errc::kInternal),
};

// The category of every code above and of every core Error code. name() is "sansio_tls".
// default_error_condition maps ECONNRESET to std::errc::connection_reset and the timeouts to
// std::errc::timed_out; other codes have no portable equivalent.
const std::error_category& category();

std::error_code make_error_code(errc e);

// ErrorCodeFor returns the error_code whose message() is |code| (an Error::code). Empty
// |code| gives a success code. Thread-safe. At most a few thousand codes invented by
// applications are kept; beyond that new ones share the value of "ERR_TLS_UNKNOWN_CODE".
std::error_code ErrorCodeFor(std::string_view code);

// The error_code of |e| (its code; the message and alert stay on |e|).
inline std::error_code ToErrorCode(const Error& e) { return ErrorCodeFor(e.code); }

// ErrorFromCode is the Error for |ec|: this category's code string; a system error's errno
// name ("ECONNREFUSED"); the peer's end (asio::error::eof) as "ECONNRESET"; anything else
// "ERR_<category>_<value>". The message is ec.message() ("" for success).
Error ErrorFromCode(std::error_code ec);

}  // namespace sansio_tls::asio_tls

template <>
struct std::is_error_code_enum<sansio_tls::asio_tls::errc> : std::true_type {};

#endif  // SANSIO_TLS_TRANSPORTS_ASIO_ERROR_H_
