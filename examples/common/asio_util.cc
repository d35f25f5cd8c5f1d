#include "examples/common/asio_util.h"

#include <vector>

#include <asio/write.hpp>

#include "transports/asio/error.h"

namespace sansio_tls::examples {

transport::SocketAddress ToAddress(const asio::ip::tcp::endpoint& endpoint) {
  return {endpoint.address().to_string(), endpoint.port(),
          endpoint.address().is_v4() ? "IPv4" : "IPv6"};
}

Error ErrorOf(const asio_tls::TlsStream* tls, std::error_code ec) {
  if (tls && tls->valid() && tls->error()) return *tls->error();
  return asio_tls::ErrorFromCode(ec);
}

asio::awaitable<void> AsioEcho(asio_tls::TlsStream tls, std::string_view welcome,
                               std::chrono::milliseconds end_timeout) {
  auto [wec, wn] = co_await asio::async_write(tls, asio::buffer(welcome), kAsTuple);
  if (wec) co_return;
  std::vector<char> buf(16384);
  for (;;) {
    auto [ec, n] = co_await tls.async_read_some(asio::buffer(buf), kAsTuple);
    if (ec == asio::error::eof) break;
    if (ec) co_return;
    auto [e2, n2] = co_await asio::async_write(tls, asio::buffer(buf.data(), n), kAsTuple);
    if (e2) co_return;
  }
  co_await tls.async_shutdown(end_timeout, kAsTuple);
}

}  // namespace sansio_tls::examples
