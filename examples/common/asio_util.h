// What the Asio programs share (echo_server, echo_client, starttls, demo): the error of a
// failed operation, and the echo of one connection. Not part of the library.
#ifndef SANSIO_TLS_EXAMPLES_COMMON_ASIO_UTIL_H_
#define SANSIO_TLS_EXAMPLES_COMMON_ASIO_UTIL_H_

#include <chrono>
#include <string_view>
#include <system_error>

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include "core/error.h"
#include "transports/asio/server.h"
#include "transports/common/transport_types.h"

namespace sansio_tls::examples {

inline constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

// |endpoint| as a printable address ("IPv4"/"IPv6").
transport::SocketAddress ToAddress(const asio::ip::tcp::endpoint& endpoint);

// The Error behind a failed operation: the session's (message and alert), else the code's.
// |tls| may be null.
Error ErrorOf(const asio_tls::TlsStream* tls, std::error_code ec);

// Writes |welcome|, echoes until the peer's close_notify, then ends our side (Node's
// allowHalfOpen=false), waiting up to |end_timeout| for the peer's. A truncated end or an
// error just closes. |welcome| must outlive the coroutine.
asio::awaitable<void> AsioEcho(asio_tls::TlsStream tls, std::string_view welcome,
                               std::chrono::milliseconds end_timeout);

}  // namespace sansio_tls::examples

#endif  // SANSIO_TLS_EXAMPLES_COMMON_ASIO_UTIL_H_
