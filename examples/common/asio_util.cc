#include "examples/common/asio_util.h"

#include <memory>
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

namespace {

// Read buffers lent to connections only while they hold data (an idle connection holds
// none). Per thread: a coroutine resumes on the thread of its io_context, and a buffer
// given back elsewhere just joins that thread's spares.
class BorrowedBuffer {
 public:
  static constexpr size_t kSize = 16384;
  BorrowedBuffer() {
    auto& spares = Spares();
    if (spares.empty()) {
      data_ = std::make_unique<char[]>(kSize);
    } else {
      data_ = std::move(spares.back());
      spares.pop_back();
    }
  }
  ~BorrowedBuffer() {
    auto& spares = Spares();
    if (spares.size() < kMaxSpares) spares.push_back(std::move(data_));
  }
  BorrowedBuffer(const BorrowedBuffer&) = delete;
  BorrowedBuffer& operator=(const BorrowedBuffer&) = delete;
  char* data() { return data_.get(); }

 private:
  static constexpr size_t kMaxSpares = 64;
  static std::vector<std::unique_ptr<char[]>>& Spares() {
    thread_local std::vector<std::unique_ptr<char[]>> spares;
    return spares;
  }
  std::unique_ptr<char[]> data_;
};

}  // namespace

asio::awaitable<void> AsioEcho(asio_tls::TlsStream tls, std::string_view welcome,
                               std::chrono::milliseconds end_timeout) {
  auto [wec, wn] = co_await asio::async_write(tls, asio::buffer(welcome), kAsTuple);
  if (wec) co_return;
  for (;;) {
    // Wait with no buffer; borrow one only while there is data to echo.
    auto [ec] = co_await tls.async_wait_readable(kAsTuple);
    if (ec == asio::error::eof) break;
    if (ec) co_return;
    BorrowedBuffer buf;
    auto [e1, n] = co_await tls.async_read_some(asio::buffer(buf.data(), buf.kSize), kAsTuple);
    if (e1 == asio::error::eof) break;
    if (e1) co_return;
    auto [e2, n2] = co_await asio::async_write(tls, asio::buffer(buf.data(), n), kAsTuple);
    if (e2) co_return;
  }
  co_await tls.async_shutdown(end_timeout, kAsTuple);
}

}  // namespace sansio_tls::examples
