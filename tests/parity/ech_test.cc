// Encrypted Client Hello (experimental) through the POSIX, libuv and Asio servers: the
// transports carry it unchanged. A POSIX client offering the server's config is accepted and
// the server application sees the inner name; one offering a config the server does not hold
// fails with ERR_TLS_ECH_REJECTED and gets the server's retry configs, the server never
// learning the inner name. Loopback only; each case is bounded.
#include "core/ech.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>

#include "core/testing/cert_factory.h"
#include "tests/parity/outcome.h"
#include "transports/asio/server.h"
#include "transports/posix/connection.h"
#include "transports/posix/server.h"
#include "transports/uv/server.h"
#include "transports/uv/stream.h"

namespace sansio_tls {
namespace {

using std::chrono::milliseconds;

constexpr char kPublic[] = "public.example";
constexpr char kSecret[] = "secret.example";

struct EchSetup {
  testing::TestPki pki = testing::MakeTestPki();
  std::vector<EchKey> keys;
  std::shared_ptr<const Context> server, client;
};

EchSetup MakeSetup() {
  EchSetup s;
  auto cert_for = [&](const char* name) {
    testing::CertSpec spec;
    spec.subject = {{"CN", name}};
    spec.dns_names = {name};
    testing::Cert c = testing::MakeSigned(spec, s.pki.intermediate);
    return Credentials{.key_pem = c.key_pem,
                       .cert_chain_pem = c.cert_pem + s.pki.intermediate.cert_pem};
  };
  s.keys = {MakeEchKey(1, kPublic).value()};
  ServerContextOptions so{.credentials = cert_for(kPublic)};
  so.sni_contexts = {{.pattern = kSecret, .credentials = cert_for(kSecret)}};
  so.ech_keys = s.keys;
  s.server = Context::Create(so).value();
  s.client = Context::Create(ClientContextOptions{.ca_pems = {s.pki.root.cert_pem}}).value();
  return s;
}

using parity::Outcome;

std::string Secure(const HandshakeInfo& h) {
  return "secure:" + h.servername + ":" + std::string(EchStatusName(h.ech));
}

// The client: "accepted:<servername>", or "error:<code>:<retry config bytes>".
std::string Client(uint16_t port, const EchSetup& s, std::vector<uint8_t> list) {
  posix::ConnectOptions o;
  o.handshake_timeout = std::chrono::seconds(10);
  o.session.servername = kSecret;
  o.session.ech_config_list = std::move(list);
  o.complete_handshake = false;
  auto conn = posix::Connect("127.0.0.1", port, s.client, o);
  if (!conn.ok()) return "connect:" + conn.error().code;
  conn.value()->set_timeout(std::chrono::seconds(10));
  auto info = conn.value()->Handshake();
  if (!info.ok()) {
    return "error:" + info.error().code + ":" +
           std::to_string(conn.value()->session().ech_retry_configs().size());
  }
  std::string out = std::string(EchStatusName(info->ech)) + ":" + info->servername;
  conn.value()->End();
  return out;
}

template <typename Step, typename Done>
void Until(Step step, Done done) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done() && std::chrono::steady_clock::now() < until) step();
}

class Idle : public posix::ConnectionHandler {
 public:
  void OnData(posix::Connection& conn) override {
    uint8_t buf[4096];
    while (conn.TryRead(buf) > 0) {
    }
  }
};

// Runs the server of |transport| and one client with |list|; returns {client, server}.
std::pair<std::string, std::string> RunWith(const std::string& transport, const EchSetup& s,
                                            std::vector<uint8_t> list) {
  Outcome out;
  std::string client;
  auto client_error = [&](const Error& e) {
    EXPECT_EQ(e.message.find(kSecret), std::string::npos) << e.message;
    out.Set("clientError:" + e.code);
  };
  if (transport == "posix") {
    posix::ServerCallbacks cb;
    cb.secure_connection = [&](posix::Connection& conn) {
      out.Set(Secure(conn.handshake_info()));
      return std::make_unique<Idle>();
    };
    cb.client_error = [&](const transport::ClientErrorInfo& i) { client_error(i.error); };
    auto server = posix::Server::Listen(s.server, {}, std::move(cb));
    EXPECT_TRUE(server.ok());
    std::thread loop([&] { server.value()->Run(); });
    client = Client(server.value()->port(), s, list);
    Until([] { std::this_thread::sleep_for(milliseconds(5)); }, [&] { return !out.Get().empty(); });
    server.value()->Close(milliseconds(100));
    loop.join();
  } else if (transport == "uv") {
    uv_loop_t loop;
    uv_loop_init(&loop);
    std::vector<std::unique_ptr<uv_tls::Stream>> streams;
    uv_tls::ServerCallbacks cb;
    cb.secure_connection = [&](std::unique_ptr<uv_tls::Stream> st) {
      out.Set(Secure(st->handshake_info()));
      st->End();
      streams.push_back(std::move(st));
    };
    cb.client_error = [&](const transport::ClientErrorInfo& i) { client_error(i.error); };
    {
      auto server = uv_tls::Server::Listen(&loop, s.server, {}, std::move(cb));
      EXPECT_TRUE(server.ok());
      std::atomic<bool> done{false};
      std::thread t([&] {
        client = Client(server.value()->port(), s, list);
        done = true;
      });
      Until(
          [&] {
            uv_run(&loop, UV_RUN_NOWAIT);
            std::this_thread::sleep_for(milliseconds(1));
          },
          [&] { return done && !out.Get().empty(); });
      t.join();
      streams.clear();
      server.value()->Close(milliseconds(1));
      for (int i = 0; i < 1000 && uv_loop_alive(&loop); ++i) uv_run(&loop, UV_RUN_NOWAIT);
    }
    for (int i = 0; i < 1000 && uv_loop_alive(&loop); ++i) uv_run(&loop, UV_RUN_NOWAIT);
    EXPECT_EQ(uv_loop_close(&loop), 0);
  } else {
    asio::io_context ioc;
    asio_tls::ServerCallbacks cb;
    cb.secure_connection = [&](asio_tls::TlsStream stream) {
      out.Set(Secure(stream.handshake_info()));
      auto st = std::make_shared<asio_tls::TlsStream>(std::move(stream));
      st->async_shutdown(std::chrono::seconds(5), [st](std::error_code) {});
    };
    cb.client_error = [&](const asio_tls::ClientErrorInfo& i) { client_error(i.error); };
    auto server = asio_tls::Server::Listen(ioc, s.server, {}, std::move(cb));
    EXPECT_TRUE(server.ok());
    std::atomic<bool> done{false};
    std::thread t([&] {
      client = Client(server.value()->port(), s, list);
      done = true;
    });
    Until(
        [&] {
          ioc.run_for(milliseconds(5));
          if (ioc.stopped()) ioc.restart();
        },
        [&] { return done && !out.Get().empty(); });
    t.join();
    server.value()->Close();
    ioc.run_for(milliseconds(50));
  }
  return {client, out.Get()};
}

class EchParity : public ::testing::TestWithParam<std::string> {};

TEST_P(EchParity, AcceptedServesTheInnerName) {
  EchSetup s = MakeSetup();
  auto [client, server] = RunWith(GetParam(), s, EchConfigList(s.keys));
  EXPECT_EQ(client, std::string("accepted:") + kSecret);
  EXPECT_EQ(server, std::string("secure:") + kSecret + ":accepted");
}

TEST_P(EchParity, AWrongConfigIsRejectedWithRetryConfigs) {
  EchSetup s = MakeSetup();
  std::vector<EchKey> stale = {MakeEchKey(1, kPublic).value()};
  auto [client, server] = RunWith(GetParam(), s, EchConfigList(stale));
  EXPECT_EQ(client, "error:ERR_TLS_ECH_REJECTED:" + std::to_string(EchConfigList(s.keys).size()));
  // The client finishes the outer handshake before its ech_required alert, so a server may
  // report the connection secure (for the public name) before the alert ends it; either
  // way it never learns the inner name.
  EXPECT_TRUE(server == std::string("secure:") + kPublic + ":rejected" ||
              server.rfind("clientError:", 0) == 0)
      << server;
  EXPECT_EQ(server.find(kSecret), std::string::npos) << server;
}

INSTANTIATE_TEST_SUITE_P(Transports, EchParity, ::testing::Values("posix", "uv", "asio"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sansio_tls
