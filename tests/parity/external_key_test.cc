// External private keys (Credentials::external_key) on the POSIX, libuv and Asio servers:
// a kSignRequest answered in the event handler, answered later from another thread (POSIX
// and libuv: Server::KeyOperationAnswerer; Asio: TlsStream::key_operation_answerer), left
// to the default answer (no handler: a failure, ERR_TLS_KEY_OPERATION_FAILED), and never answered
// (the handshake bound: ERR_TLS_PAUSE_UNANSWERED); and a POSIX client whose certificate key is
// external. Loopback only; each case is bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>

#include "core/testing/key_signer.h"
#include "tests/common/test_contexts.h"
#include "tests/parity/outcome.h"
#include "transports/asio/server.h"
#include "transports/posix/connection.h"
#include "transports/posix/server.h"
#include "transports/uv/server.h"
#include "transports/uv/stream.h"

namespace sansio_tls {
namespace {

using std::chrono::milliseconds;
using test_contexts::Contexts;
using test_contexts::MakeContexts;

enum class Mode { kInHandler, kLater, kNoHandler, kNeverAnswered };

std::string Expected(Mode m) {
  switch (m) {
    case Mode::kInHandler:
    case Mode::kLater:
      return "secure";
    case Mode::kNoHandler:
      return "clientError:ERR_TLS_KEY_OPERATION_FAILED";
    case Mode::kNeverAnswered:
      return "clientError:ERR_TLS_PAUSE_UNANSWERED";
  }
  return "?";
}

transport::ServerOptions Options(Mode m) {
  transport::ServerOptions o;
  o.handshake_timeout = m == Mode::kNeverAnswered ? milliseconds(300) : milliseconds(10'000);
  return o;
}

// The server's key is "hsm:server", held by the test (contexts.pki.server.key).
Contexts ExternalContexts() {
  return MakeContexts(std::nullopt, [](auto& s) {
    s.credentials.key_pem.clear();
    s.credentials.external_key = "hsm:server";
  });
}

using parity::Outcome;

// Connects and completes (or fails) the handshake; returns "ok" or "error:<code>".
std::string Client(uint16_t port, std::shared_ptr<const Context> client) {
  posix::ConnectOptions o;
  o.handshake_timeout = std::chrono::seconds(15);
  o.session.servername = "localhost";
  auto conn = posix::Connect("127.0.0.1", port, client, o);
  if (!conn.ok()) return "error:" + conn.error().code;
  conn.value()->set_timeout(std::chrono::seconds(5));
  conn.value()->End();
  return "ok";
}

// Runs |step| until |done| or 20 s pass.
template <typename Step, typename Done>
void Until(Step step, Done done) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done() && std::chrono::steady_clock::now() < until) step();
}

// ---- POSIX ------------------------------------------------------------------------------

class Idle : public posix::ConnectionHandler {
 public:
  void OnData(posix::Connection& conn) override {
    uint8_t buf[4096];
    while (conn.TryRead(buf) > 0) {
    }
  }
};

std::string RunPosix(Mode mode) {
  Contexts ctx = ExternalContexts();
  Outcome out;
  posix::ServerCallbacks cb;
  cb.secure_connection = [&](posix::Connection&) {
    out.Set("secure");
    return std::make_unique<Idle>();
  };
  cb.client_error = [&](const transport::ClientErrorInfo& i) {
    out.Set("clientError:" + i.error.code);
  };
  EVP_PKEY* key = ctx.pki.server.key.get();
  if (mode == Mode::kInHandler) {
    cb.session_event = [key](posix::Connection& conn, const Event& e) {
      if (e.kind() != EventKind::kSignRequest) return;
      EXPECT_EQ(e.get<event::SignRequest>().key_label, "hsm:server");
      EXPECT_FALSE(testing::AnswerKeyOperation(conn.session(), e, key).has_value());
      conn.Advance();
    };
  } else if (mode == Mode::kNeverAnswered) {
    cb.session_event = [](posix::Connection&, const Event&) {};
  }
  std::vector<std::thread> signers;  // kLater: one signing thread per request
  posix::Server* srv = nullptr;
  if (mode == Mode::kLater) {
    cb.session_event = [&signers, &srv, key](posix::Connection& conn, const Event& e) {
      if (e.kind() != EventKind::kSignRequest) return;
      signers.emplace_back([answer = srv->KeyOperationAnswerer(conn), e, key] {
        answer(testing::KeyOperationResult(key, e));
      });
    };
  }
  auto server = posix::Server::Listen(ctx.server, Options(mode), std::move(cb));
  EXPECT_TRUE(server.ok());
  if (!server.ok()) return "listen failed";
  srv = server.value().get();
  std::thread loop([&] { server.value()->Run(); });
  std::string client = Client(server.value()->port(), ctx.client);
  EXPECT_EQ(client == "ok", Expected(mode) == "secure") << client;
  Until([] { std::this_thread::sleep_for(milliseconds(5)); }, [&] { return !out.Get().empty(); });
  server.value()->Close(milliseconds(100));
  loop.join();
  for (std::thread& t : signers) t.join();
  return out.Get();
}

// ---- libuv ------------------------------------------------------------------------------

std::string RunUv(Mode mode) {
  Contexts ctx = ExternalContexts();
  Outcome out;
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<std::unique_ptr<uv_tls::Stream>> streams;
  uv_tls::ServerCallbacks cb;
  cb.secure_connection = [&](std::unique_ptr<uv_tls::Stream> s) {
    out.Set("secure");
    s->End();
    streams.push_back(std::move(s));
  };
  cb.client_error = [&](const transport::ClientErrorInfo& i) {
    out.Set("clientError:" + i.error.code);
  };
  EVP_PKEY* key = ctx.pki.server.key.get();
  std::vector<std::thread> signers;  // kLater: one signing thread per request
  uv_tls::Server* srv = nullptr;
  if (mode == Mode::kInHandler) {
    cb.session_event = [key](uv_tls::Stream& s, const Event& e) {
      if (e.kind() != EventKind::kSignRequest) return;
      EXPECT_EQ(e.get<event::SignRequest>().key_label, "hsm:server");
      EXPECT_FALSE(testing::AnswerKeyOperation(s.session(), e, key).has_value());
      s.Advance();
    };
  } else if (mode == Mode::kLater) {
    cb.session_event = [&signers, &srv, key](uv_tls::Stream& s, const Event& e) {
      if (e.kind() != EventKind::kSignRequest) return;
      signers.emplace_back([answer = srv->KeyOperationAnswerer(s), e, key] {
        answer(testing::KeyOperationResult(key, e));
      });
    };
  } else if (mode == Mode::kNeverAnswered) {
    cb.session_event = [](uv_tls::Stream&, const Event&) {};
  }
  std::string result;
  {
    auto server = uv_tls::Server::Listen(&loop, ctx.server, Options(mode), std::move(cb));
    EXPECT_TRUE(server.ok());
    if (!server.ok()) return "listen failed";
    srv = server.value().get();
    std::atomic<bool> done{false};
    std::string client;
    std::thread client_thread([&] {
      client = Client(server.value()->port(), ctx.client);
      done = true;
    });
    Until(
        [&] {
          uv_run(&loop, UV_RUN_NOWAIT);
          std::this_thread::sleep_for(milliseconds(1));
        },
        [&] { return done && !out.Get().empty(); });
    client_thread.join();
    for (std::thread& t : signers) t.join();
    EXPECT_EQ(client == "ok", Expected(mode) == "secure") << client;
    result = out.Get();
    streams.clear();
    server.value()->Close(milliseconds(1));
    for (int i = 0; i < 1000 && uv_loop_alive(&loop); ++i) uv_run(&loop, UV_RUN_NOWAIT);
  }
  for (int i = 0; i < 1000 && uv_loop_alive(&loop); ++i) uv_run(&loop, UV_RUN_NOWAIT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
  return result;
}

// ---- Asio -------------------------------------------------------------------------------

std::string RunAsio(Mode mode) {
  Contexts ctx = ExternalContexts();
  Outcome out;
  asio::io_context ioc;
  asio_tls::ServerCallbacks cb;
  cb.secure_connection = [&](asio_tls::TlsStream stream) {
    out.Set("secure");
    auto s = std::make_shared<asio_tls::TlsStream>(std::move(stream));
    s->async_shutdown(std::chrono::seconds(5), [s](std::error_code) {});
  };
  cb.client_error = [&](const asio_tls::ClientErrorInfo& i) {
    out.Set("clientError:" + i.error.code);
  };
  EVP_PKEY* key = ctx.pki.server.key.get();
  std::vector<std::thread> signers;  // kLater: one signing thread per request
  if (mode == Mode::kInHandler) {
    cb.session_event = [key](asio_tls::TlsStream& stream, const Event& e) {
      if (e.kind() != EventKind::kSignRequest) return;
      EXPECT_EQ(e.get<event::SignRequest>().key_label, "hsm:server");
      auto result = testing::KeyOperationResult(key, e);
      EXPECT_FALSE(stream.complete_key_operation(result).has_value());
    };
  } else if (mode == Mode::kLater) {
    cb.session_event = [&signers, key](asio_tls::TlsStream& stream, const Event& e) {
      if (e.kind() != EventKind::kSignRequest) return;
      signers.emplace_back([answer = stream.key_operation_answerer(), e, key] {
        answer(testing::KeyOperationResult(key, e));
      });
    };
  } else if (mode == Mode::kNeverAnswered) {
    cb.session_event = [](asio_tls::TlsStream&, const Event&) {};
  }
  asio_tls::ServerOptions o;
  o.handshake_timeout = Options(mode).handshake_timeout;
  auto server = asio_tls::Server::Listen(ioc, ctx.server, o, std::move(cb));
  EXPECT_TRUE(server.ok());
  if (!server.ok()) return "listen failed";
  std::atomic<bool> done{false};
  std::string client;
  std::thread client_thread([&] {
    client = Client(server.value()->port(), ctx.client);
    done = true;
  });
  Until(
      [&] {
        ioc.run_for(milliseconds(5));
        if (ioc.stopped()) ioc.restart();
      },
      [&] { return done && !out.Get().empty(); });
  client_thread.join();
  for (std::thread& t : signers) t.join();
  EXPECT_EQ(client == "ok", Expected(mode) == "secure") << client;
  server.value()->Close();
  ioc.run_for(milliseconds(50));
  return out.Get();
}

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kInHandler:
      return "InHandler";
    case Mode::kLater:
      return "Later";
    case Mode::kNoHandler:
      return "NoHandler";
    case Mode::kNeverAnswered:
      return "NeverAnswered";
  }
  return "?";
}

class ExternalKeyParity : public ::testing::TestWithParam<Mode> {};

TEST_P(ExternalKeyParity, Posix) { EXPECT_EQ(RunPosix(GetParam()), Expected(GetParam())); }
TEST_P(ExternalKeyParity, Uv) { EXPECT_EQ(RunUv(GetParam()), Expected(GetParam())); }
TEST_P(ExternalKeyParity, Asio) { EXPECT_EQ(RunAsio(GetParam()), Expected(GetParam())); }

INSTANTIATE_TEST_SUITE_P(Modes, ExternalKeyParity,
                         ::testing::Values(Mode::kInHandler, Mode::kLater, Mode::kNoHandler,
                                           Mode::kNeverAnswered),
                         [](const auto& info) { return std::string(ModeName(info.param)); });

// A POSIX client whose certificate key is external answers through its event hook.
TEST(ExternalClientKey, PosixClientSignsThroughItsEventHook) {
  Contexts ctx = MakeContexts();  // for its PKI
  ServerContextOptions server{.credentials = {.key_pem = ctx.pki.server.key_pem,
                                              .cert_chain_pem = ctx.pki.server_chain_pem()},
                              .ca_pems = {ctx.pki.root.cert_pem},
                              .request_cert = true};
  ClientContextOptions client{.credentials = {.cert_chain_pem = ctx.pki.client_chain_pem()},
                              .ca_pems = {ctx.pki.root.cert_pem}};
  client.credentials.external_key = "token:client";
  auto server_ctx = Context::Create(server);
  auto client_ctx = Context::Create(client);
  ASSERT_TRUE(server_ctx.ok() && client_ctx.ok());
  Outcome out;
  posix::ServerCallbacks cb;
  cb.secure_connection = [&](posix::Connection& conn) {
    out.Set(conn.session().authorized() ? "authorized" : "unauthorized");
    return std::make_unique<Idle>();
  };
  cb.client_error = [&](const transport::ClientErrorInfo& i) {
    out.Set("clientError:" + i.error.code);
  };
  auto srv = posix::Server::Listen(server_ctx.value(), Options(Mode::kInHandler), std::move(cb));
  ASSERT_TRUE(srv.ok());
  std::thread loop([&] { srv.value()->Run(); });
  posix::ConnectOptions o;
  o.session.servername = "localhost";
  o.complete_handshake = false;
  auto conn = posix::Connect("127.0.0.1", srv.value()->port(), client_ctx.value(), o);
  ASSERT_TRUE(conn.ok());
  int signed_requests = 0;
  EVP_PKEY* key = ctx.pki.client.key.get();
  conn.value()->set_event_hook([&](posix::Connection& c, const Event& e) {
    if (e.kind() != EventKind::kSignRequest) return;
    ++signed_requests;
    EXPECT_EQ(e.get<event::SignRequest>().key_label, "token:client");
    EXPECT_FALSE(testing::AnswerKeyOperation(c.session(), e, key).has_value());
  });
  conn.value()->set_timeout(std::chrono::seconds(10));
  auto info = conn.value()->Handshake();
  EXPECT_TRUE(info.ok()) << (info.ok() ? "" : info.error().code);
  EXPECT_EQ(signed_requests, 1);
  conn.value()->End();
  Until([] { std::this_thread::sleep_for(milliseconds(5)); }, [&] { return !out.Get().empty(); });
  EXPECT_EQ(out.Get(), "authorized");
  srv.value()->Close(milliseconds(100));
  loop.join();
}

}  // namespace
}  // namespace sansio_tls
