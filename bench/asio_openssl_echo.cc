// The Asio anchor of //bench:transports: an echo server written the way Asio's own examples
// write one, asio::ssl::stream over the system's OpenSSL 3 (not BoringSSL), one thread, a
// 16 KiB read buffer per connection. Like examples/echo_server it writes "welcome!\n" on each
// secure connection, then echoes; a close_notify from the client is answered with ours.
//
//   asio_openssl_echo KEY.pem CHAIN.pem   (prints "listening on 127.0.0.1:PORT", runs until
//                                          killed or its stdin closes)
#include <unistd.h>

#include <array>
#include <cstdio>
#include <thread>

#include <asio.hpp>
#include <asio/ssl.hpp>

namespace {

using asio::ip::tcp;
using SslStream = asio::ssl::stream<tcp::socket>;

asio::awaitable<void> Serve(SslStream stream) {
  std::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  co_await stream.async_handshake(asio::ssl::stream_base::server, token);
  if (ec) co_return;
  static constexpr char kWelcome[] = "welcome!\n";
  co_await asio::async_write(stream, asio::buffer(kWelcome, sizeof kWelcome - 1), token);
  std::array<char, 16384> buf;
  while (!ec) {
    size_t n = co_await stream.async_read_some(asio::buffer(buf), token);
    if (ec) break;
    co_await asio::async_write(stream, asio::buffer(buf.data(), n), token);
  }
  if (ec == asio::error::eof) {  // the client's close_notify: answer with ours
    co_await stream.async_shutdown(token);
  }
}

asio::awaitable<void> Accept(tcp::acceptor& acceptor, asio::ssl::context& context) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), Serve(SslStream(std::move(socket), context)),
                   asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: asio_openssl_echo KEY.pem CHAIN.pem\n");
    return 2;
  }
  asio::ssl::context context(asio::ssl::context::tls_server);
  context.use_private_key_file(argv[1], asio::ssl::context::pem);
  context.use_certificate_chain_file(argv[2]);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);

  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::printf("listening on 127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  // Ends when stdin closes (the benchmark closes it), as the other servers do.
  std::thread([&io] {
    char c;
    while (read(0, &c, 1) > 0) {
    }
    io.stop();
  }).detach();
  asio::co_spawn(io, Accept(acceptor, context), asio::detached);
  io.run();
  std::_Exit(0);
}
