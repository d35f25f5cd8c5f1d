// starttls on the POSIX transport: blocking sockets; posix::StartTls() upgrades the socket.
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <string>
#include <thread>

#include "examples/common/cli.h"
#include "examples/starttls/starttls.h"
#include "transports/posix/connection.h"
#include "transports/posix/socket.h"

namespace sansio_tls::examples::starttls {
namespace {

class PosixChannel : public LineChannel {
 public:
  // |fd| is a connected socket (owned).
  PosixChannel(posix::UniqueFd fd, std::shared_ptr<const Context> context, SessionOptions session)
      : fd_(std::move(fd)), context_(std::move(context)), session_(std::move(session)) {}

  std::optional<std::string> ReadLine() override {
    posix::Deadline deadline = posix::Deadline::After(kTimeout);
    for (;;) {
      if (size_t eol = buffered_.find("\r\n"); eol != std::string::npos) {
        std::string line = buffered_.substr(0, eol);
        buffered_.erase(0, eol + 2);
        return line;
      }
      char buf[4096];
      std::span<uint8_t> out{reinterpret_cast<uint8_t*>(buf), sizeof buf};
      if (conn_) {  // TLS: blocking with the connection's timeout
        auto r = conn_->Read(out);
        if (!r.ok() || *r == 0) return std::nullopt;
        buffered_.append(buf, *r);
        continue;
      }
      if (posix::WaitFd(fd_.get(), true, false, deadline) != 0) return std::nullopt;
      auto r = posix::RecvSome(fd_.get(), out);
      if (r.eof || (r.err != 0 && r.err != EAGAIN)) return std::nullopt;
      buffered_.append(buf, r.bytes);
    }
  }

  bool WriteLine(const std::string& line) override {
    std::string data = line + "\r\n";
    std::span<const uint8_t> bytes{reinterpret_cast<const uint8_t*>(data.data()), data.size()};
    if (conn_) return conn_->Write(bytes).ok();
    posix::Deadline deadline = posix::Deadline::After(kTimeout);
    while (!bytes.empty()) {
      auto r = posix::SendSome(fd_.get(), bytes);
      bytes = bytes.subspan(r.bytes);
      if (r.err == EAGAIN && posix::WaitFd(fd_.get(), false, true, deadline) == 0) continue;
      if (r.err != 0) return false;
    }
    return true;
  }

  Result<HandshakeInfo> Upgrade() override {
    auto conn =
        posix::StartTls(fd_.get(), context_, session_,
                        {reinterpret_cast<const uint8_t*>(buffered_.data()), buffered_.size()});
    if (!conn.ok()) return conn.error();
    buffered_.clear();
    fd_.release();  // the connection owns it now
    conn_ = std::move(conn).value();
    conn_->set_timeout(kTimeout);
    return conn_->Handshake();
  }

  std::optional<Error> End() override {
    if (auto e = conn_->End()) return e;
    uint8_t sink[256];
    for (;;) {  // until the peer's close_notify
      auto r = conn_->Read(sink);
      if (!r.ok()) return r.error();
      if (*r == 0) return std::nullopt;
    }
  }

 private:
  posix::UniqueFd fd_;
  std::shared_ptr<const Context> context_;
  SessionOptions session_;
  std::string buffered_;  // read past the last line
  std::unique_ptr<posix::Connection> conn_;
};

int RunClient(const StartTlsConfig& config, uint16_t port) {
  auto fd = posix::TcpConnect(config.host, port, kTimeout);
  if (!fd.ok()) return Fail("client: " + fd.error().message);
  PosixChannel channel(std::move(*fd), config.client_context,
                       {.servername = kServerName, .host = config.host});
  return Converse(channel);
}

}  // namespace

int RunPosix(const StartTlsConfig& config) {
  if (config.mode == "client") return RunClient(config, config.port);
  auto listener = posix::TcpListen(config.host, config.port, 16);
  if (!listener.ok()) return Fail(listener.error().message);
  uint16_t bound = posix::LocalAddress(listener->get()).port;
  PrintListening(config, bound);

  auto accept_one = [&]() -> posix::UniqueFd {
    if (posix::WaitFd(listener->get(), true, false, posix::Deadline::Never()) != 0) return {};
    return posix::UniqueFd(accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  };
  auto serve = [&](posix::UniqueFd fd) {
    if (!fd.valid()) return Fail("accept failed");
    PosixChannel channel(std::move(fd), config.server_context, {});
    return Serve(channel);
  };
  if (config.mode == "server") {
    for (;;) {  // until killed
      posix::UniqueFd fd = accept_one();
      if (!fd.valid()) return Fail("accept failed");
      serve(std::move(fd));
    }
  }
  int server_rc = kExitFailure;
  std::thread server([&] { server_rc = serve(accept_one()); });
  int client_rc = RunClient(config, bound);
  server.join();
  return client_rc != kExitOk ? client_rc : server_rc;
}

}  // namespace sansio_tls::examples::starttls
