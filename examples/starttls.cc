// starttls: a small plaintext line protocol that upgrades to TLS on STARTTLS, both ends.
//
//   S: 220 starttls-demo ready        (plaintext)
//   C: STARTTLS
//   S: 220 go ahead                   (both sides start TLS on the same socket)
//   C: HELLO                          (inside TLS from here on)
//   S: 250 hello, secure world
//   C: QUIT
//   S: 221 bye                        (then close_notify both ways)
//
//   starttls                              both ends in one process over 127.0.0.1
//   starttls --mode=server [--port=8025]  a server with an ephemeral certificate
//   starttls --mode=client --port=N [--host=127.0.0.1] [--ca=F] [--reject-unauthorized=B]
// Bytes a line reader read past "STARTTLS"/"220 go ahead" are handed to StartTls(): they
// are the first TLS bytes. --transport=asio (the default; examples/asio_backend.cc), posix,
// or uv (examples/uv_backend.cc).
#include <sys/socket.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "examples/asio_backend.h"
#include "examples/example_util.h"
#include "examples/uv_backend.h"
#include "transports/posix/connection.h"
#include "transports/posix/socket.h"

using namespace sansio_tls;
using namespace sansio_tls::examples;
using std::chrono::milliseconds;

namespace {

constexpr auto kTimeout = milliseconds(10000);

// A line reader over a plaintext socket that keeps what it read past the line.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // Returns the next line without "\r\n", or nullopt on EOF, error or timeout.
  std::optional<std::string> Next() {
    posix::Deadline deadline = posix::Deadline::After(kTimeout);
    for (;;) {
      if (size_t eol = buffered_.find("\r\n"); eol != std::string::npos) {
        std::string line = buffered_.substr(0, eol);
        buffered_.erase(0, eol + 2);
        return line;
      }
      if (posix::WaitFd(fd_, true, false, deadline) != 0) return std::nullopt;
      char buf[4096];
      auto r = posix::RecvSome(fd_, {reinterpret_cast<uint8_t*>(buf), sizeof buf});
      if (r.eof || (r.err != 0 && r.err != EAGAIN)) return std::nullopt;
      buffered_.append(buf, r.bytes);
    }
  }
  // Bytes read past the last line.
  std::span<const uint8_t> rest() const {
    return {reinterpret_cast<const uint8_t*>(buffered_.data()), buffered_.size()};
  }

 private:
  int fd_;
  std::string buffered_;
};

bool SendPlain(int fd, const std::string& line) {
  std::string data = line + "\r\n";
  size_t off = 0;
  posix::Deadline deadline = posix::Deadline::After(kTimeout);
  while (off < data.size()) {
    auto r = posix::SendSome(fd, {reinterpret_cast<const uint8_t*>(data.data()) + off,
                                  data.size() - off});
    off += r.bytes;
    if (r.err == EAGAIN && posix::WaitFd(fd, false, true, deadline) == 0) continue;
    if (r.err != 0) return false;
  }
  return true;
}

bool SendTls(posix::Connection& conn, const std::string& line) {
  std::string data = line + "\r\n";
  return conn.Write({reinterpret_cast<const uint8_t*>(data.data()), data.size()}).ok();
}

// Reads one "\r\n"-terminated line from a TLS connection (bounded by its timeout).
std::optional<std::string> ReadTlsLine(posix::Connection& conn, std::string& buffered) {
  for (;;) {
    if (size_t eol = buffered.find("\r\n"); eol != std::string::npos) {
      std::string line = buffered.substr(0, eol);
      buffered.erase(0, eol + 2);
      return line;
    }
    uint8_t buf[1024];
    auto r = conn.Read(buf);
    if (!r.ok() || *r == 0) return std::nullopt;
    buffered.append(reinterpret_cast<char*>(buf), *r);
  }
}

// Serves one client on |fd| (a connected socket, owned).
int ServeOne(posix::UniqueFd fd, std::shared_ptr<const Context> context) {
  Say("S", "220 starttls-demo ready");
  if (!SendPlain(fd.get(), "220 starttls-demo ready")) return StartTlsFail("server: send failed");
  LineReader reader(fd.get());
  auto cmd = reader.Next();
  if (!cmd || *cmd != "STARTTLS") return StartTlsFail("server: expected STARTTLS");
  Say("S", "220 go ahead");
  if (!SendPlain(fd.get(), "220 go ahead")) return StartTlsFail("server: send failed");
  auto conn = posix::StartTls(fd.get(), context, {}, reader.rest());
  if (!conn.ok()) return StartTlsFail("server: " + conn.error().message);
  fd.release();  // the connection owns it now
  (*conn)->set_timeout(kTimeout);
  auto info = (*conn)->Handshake();
  if (!info.ok()) return StartTlsFail("server handshake: " + info.error().code);
  std::string buffered;
  while (auto line = ReadTlsLine(**conn, buffered)) {
    if (*line == "HELLO") {
      Say("S", "250 hello, secure world (TLS)");
      SendTls(**conn, "250 hello, secure world");
    } else if (*line == "QUIT") {
      Say("S", "221 bye (TLS)");
      SendTls(**conn, "221 bye");
      break;
    } else {
      SendTls(**conn, "500 unknown command");
    }
  }
  if (auto e = (*conn)->End()) return StartTlsFail("server end: " + e->code);
  uint8_t sink[256];
  while (true) {  // until the client's close_notify
    auto r = (*conn)->Read(sink);
    if (!r.ok() || *r == 0) break;
  }
  return 0;
}

int RunClient(const std::string& host, uint16_t port, std::shared_ptr<const Context> context,
              const std::string& servername) {
  auto fd = posix::TcpConnect(host, port, kTimeout);
  if (!fd.ok()) return StartTlsFail("client: " + fd.error().message);
  LineReader reader(fd->get());
  auto greeting = reader.Next();
  if (!greeting || greeting->rfind("220", 0) != 0) return StartTlsFail("client: no greeting");
  Say("C", "STARTTLS");
  if (!SendPlain(fd->get(), "STARTTLS")) return StartTlsFail("client: send failed");
  auto go = reader.Next();
  if (!go || go->rfind("220", 0) != 0) return StartTlsFail("client: STARTTLS refused");
  auto conn = posix::StartTls(fd->get(), context, {.servername = servername, .host = host},
                              reader.rest());
  if (!conn.ok()) return StartTlsFail("client: " + conn.error().message);
  fd->release();
  (*conn)->set_timeout(kTimeout);
  auto info = (*conn)->Handshake();
  if (!info.ok()) {
    return StartTlsFail("client handshake: " + info.error().code + ": " + info.error().message);
  }
  PrintLine("-- TLS established: " + info->protocol + " " + info->cipher + ", " +
            (info->authorized ? "authorized" : "unauthorized " + info->authorization_error));
  std::string buffered;
  Say("C", "HELLO (TLS)");
  SendTls(**conn, "HELLO");
  auto reply = ReadTlsLine(**conn, buffered);
  if (!reply || reply->rfind("250", 0) != 0) return StartTlsFail("client: no reply to HELLO");
  Say("C", "QUIT (TLS)");
  SendTls(**conn, "QUIT");
  auto bye = ReadTlsLine(**conn, buffered);
  if (!bye || bye->rfind("221", 0) != 0) return StartTlsFail("client: no reply to QUIT");
  if (auto e = (*conn)->End()) return StartTlsFail("client end: " + e->code);
  uint8_t sink[256];
  auto r = (*conn)->Read(sink);
  if (!r.ok() || *r != 0) return StartTlsFail("client: the server did not close cleanly");
  PrintLine("-- closed cleanly both ways");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags({"mode", "host", "port", "ca", "transport"}, {"reject-unauthorized"});
  if (auto err = flags.Parse(argc, argv)) return StartTlsFail(*err);
  std::string mode = flags.GetOr("mode", "both");
  std::string host = flags.GetOr("host", "127.0.0.1");
  auto port = ParseUint(flags.GetOr("port", mode == "server" ? "8025" : "0"), 65535);
  if (!port) return StartTlsFail("--port takes 0..65535");
  std::string transport = flags.GetOr("transport", "asio");
  if (transport != "posix" && transport != "asio" && transport != "uv") {
    return StartTlsFail("--transport takes asio, posix or uv");
  }

  if (mode == "client") {
    ContextOptions options{.role = Role::kClient,
                           .reject_unauthorized = flags.GetBool("reject-unauthorized", true)};
    std::string error;
    for (const std::string& path : flags.GetAll("ca")) {
      auto pem = ReadFile(path, &error);
      if (!pem) return StartTlsFail(error);
      options.ca_pems.push_back(*pem);
    }
    if (transport == "asio") {
      return asio_backend::StartTls(mode, host, static_cast<uint16_t>(*port), options);
    }
    if (transport == "uv") {
      return uv_backend::StartTls(mode, host, static_cast<uint16_t>(*port), options);
    }
    auto ctx = Context::Create(options);
    if (!ctx.ok()) return StartTlsFail(ctx.error().message);
    return RunClient(host, static_cast<uint16_t>(*port), *ctx, "localhost");
  }

  if (transport == "asio") {
    return asio_backend::StartTls(mode, host, static_cast<uint16_t>(*port), {});
  }
  if (transport == "uv") {
    return uv_backend::StartTls(mode, host, static_cast<uint16_t>(*port), {});
  }
  // The server side: an ephemeral PKI (both mode: the client trusts its root).
  testing::TestPki pki = testing::MakeTestPki();
  auto server_ctx = Context::Create({.role = Role::kServer,
                                     .credentials = {.key_pem = pki.server.key_pem,
                                                     .cert_chain_pem = pki.server_chain_pem()}});
  if (!server_ctx.ok()) return StartTlsFail(server_ctx.error().message);
  auto listener = posix::TcpListen(host, static_cast<uint16_t>(*port), 16);
  if (!listener.ok()) return StartTlsFail(listener.error().message);
  uint16_t bound = posix::LocalAddress(listener->get()).port;
  PrintLine("listening on " + host + ":" + std::to_string(bound) + " (plaintext until STARTTLS)");

  auto accept_one = [&]() -> posix::UniqueFd {
    if (posix::WaitFd(listener->get(), true, false, posix::Deadline::Never()) != 0) return {};
    return posix::UniqueFd(accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  };
  if (mode == "server") {
    PrintLine("root CA SHA-256 " + Sha256Fingerprint(pki.root.der) +
              " (clients: --reject-unauthorized=false)");
    for (;;) {
      posix::UniqueFd fd = accept_one();
      if (!fd.valid()) return StartTlsFail("accept failed");
      ServeOne(std::move(fd), *server_ctx);
    }
  }
  if (mode != "both") return StartTlsFail("--mode takes both, server or client");

  auto client_ctx = Context::Create({.role = Role::kClient, .ca_pems = {pki.root.cert_pem}});
  if (!client_ctx.ok()) return StartTlsFail(client_ctx.error().message);
  int server_rc = 1;
  std::thread server([&] {
    posix::UniqueFd fd = accept_one();
    server_rc = fd.valid() ? ServeOne(std::move(fd), *server_ctx) : StartTlsFail("accept failed");
  });
  int client_rc = RunClient(host, bound, *client_ctx, "localhost");
  server.join();
  return client_rc != 0 ? client_rc : server_rc;
}
