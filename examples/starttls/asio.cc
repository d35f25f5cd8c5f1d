// starttls on Asio: blocking (synchronous) Asio calls; the plaintext socket becomes the
// TLS stream's next layer.
#include <optional>
#include <string>
#include <thread>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include "examples/common/asio_util.h"
#include "examples/common/cli.h"
#include "examples/starttls/starttls.h"
#include "transports/asio/server.h"

namespace sansio_tls::examples::starttls {
namespace {

using asio::ip::tcp;

class AsioChannel : public LineChannel {
 public:
  AsioChannel(tcp::socket socket, std::shared_ptr<const Context> context, SessionOptions session)
      : socket_(std::move(socket)), context_(std::move(context)), session_(std::move(session)) {}

  std::optional<std::string> ReadLine() override {
    return tls_ ? ReadLineFrom(*tls_) : ReadLineFrom(socket_);
  }
  bool WriteLine(const std::string& line) override {
    std::string data = line + "\r\n";
    std::error_code ec;
    if (tls_) {
      asio::write(*tls_, asio::buffer(data), ec);
    } else {
      asio::write(socket_, asio::buffer(data), ec);
    }
    return !ec;
  }
  Result<HandshakeInfo> Upgrade() override {
    tls_.emplace(std::move(socket_), context_, session_);
    // The peer's first TLS bytes, if the line reader already read them.
    std::error_code ec;
    tls_->prime_input({reinterpret_cast<const uint8_t*>(buffered_.data()), buffered_.size()}, ec);
    buffered_.clear();
    if (!ec) tls_->handshake(ec);
    if (ec) return ErrorOf(&*tls_, ec);
    return tls_->handshake_info();
  }
  std::optional<Error> End() override {
    std::error_code ec;
    tls_->shutdown(kTimeout, ec);  // until the peer's close_notify
    if (ec) return ErrorOf(&*tls_, ec);
    return std::nullopt;
  }

 private:
  template <typename SyncStream>
  std::optional<std::string> ReadLineFrom(SyncStream& stream) {
    std::error_code ec;
    size_t n = asio::read_until(stream, asio::dynamic_buffer(buffered_), "\r\n", ec);
    if (ec) return std::nullopt;
    std::string line = buffered_.substr(0, n - 2);
    buffered_.erase(0, n);
    return line;
  }

  tcp::socket socket_;
  std::shared_ptr<const Context> context_;
  SessionOptions session_;
  std::string buffered_;  // read past the last line
  std::optional<asio_tls::TlsStream> tls_;
};

int RunClient(asio::io_context& ioc, const StartTlsConfig& config, uint16_t port) {
  tcp::socket socket(ioc);
  std::error_code ec;
  tcp::resolver resolver(ioc);
  asio::connect(socket, resolver.resolve(config.host, std::to_string(port), ec), ec);
  if (ec) return Fail("client: " + ec.message());
  AsioChannel channel(std::move(socket), config.client_context,
                      {.servername = kServerName, .host = config.host});
  return Converse(channel);
}

}  // namespace

int RunAsio(const StartTlsConfig& config) {
  asio::io_context ioc;
  if (config.mode == "client") return RunClient(ioc, config, config.port);
  std::error_code ec;
  tcp::acceptor acceptor(ioc);
  tcp::endpoint ep(asio::ip::make_address(config.host, ec), config.port);
  if (ec) return Fail("--host takes an address literal with --transport=asio");
  acceptor.open(ep.protocol(), ec);
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(16, ec);
  if (ec) return Fail("listen: " + ec.message());
  PrintListening(config, acceptor.local_endpoint().port());

  auto serve = [&](tcp::socket socket) {
    AsioChannel channel(std::move(socket), config.server_context, {});
    return Serve(channel);
  };
  if (config.mode == "server") {
    for (;;) {  // until killed
      tcp::socket socket(ioc);
      acceptor.accept(socket, ec);
      if (ec) return Fail("accept failed");
      serve(std::move(socket));
    }
  }
  int server_rc = kExitFailure;
  std::thread server([&] {
    asio::io_context server_ioc;
    tcp::socket socket(server_ioc);
    std::error_code aec;
    acceptor.accept(socket, aec);
    server_rc = aec ? Fail("accept failed") : serve(std::move(socket));
  });
  int client_rc = RunClient(ioc, config, acceptor.local_endpoint().port());
  server.join();
  return client_rc != kExitOk ? client_rc : server_rc;
}

}  // namespace sansio_tls::examples::starttls
