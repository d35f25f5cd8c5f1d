// The same fault gives the same event and error code on the POSIX, libuv and Asio servers
// (transports/common/driver.h): a handshake that never starts (handshake timeout), a pause
// nobody answers (pause timeout), a client that ends without close_notify (truncation), a
// client that resets while the server closes, and a client that never answers the server's
// close_notify (close grace). Loopback only; each case is bounded.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>

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

enum class Fault {
  kHandshakeTimeout,
  kPauseUnanswered,
  kAlpnPauseUnanswered,
  kTruncation,
  kResetDuringClose,
  kCloseGraceRunsOut
};
const char* FaultName(Fault f) {
  switch (f) {
    case Fault::kHandshakeTimeout:
      return "HandshakeTimeout";
    case Fault::kPauseUnanswered:
      return "PauseUnanswered";
    case Fault::kAlpnPauseUnanswered:
      return "AlpnPauseUnanswered";
    case Fault::kTruncation:
      return "Truncation";
    case Fault::kResetDuringClose:
      return "ResetDuringClose";
    case Fault::kCloseGraceRunsOut:
      return "CloseGraceRunsOut";
  }
  return "?";
}

// What each fault must produce on every transport: the callback and the code.
std::string Expected(Fault f) {
  switch (f) {
    case Fault::kHandshakeTimeout:
      return "clientError:ERR_TLS_HANDSHAKE_TIMEOUT";
    case Fault::kPauseUnanswered:
    case Fault::kAlpnPauseUnanswered:
      return "clientError:ERR_TLS_PAUSE_UNANSWERED";
    case Fault::kTruncation:
      return "close:ERR_TLS_TRUNCATED";
    case Fault::kResetDuringClose:
      return "close:ECONNRESET";
    case Fault::kCloseGraceRunsOut:
      return "close:ERR_TLS_SHUTDOWN_TIMEOUT";
  }
  return "?";
}

constexpr milliseconds kHandshakeTimeout{300};
// The close grace in the case that tests it (the others keep the default, 30 s, so that a
// loaded machine cannot make it fire first).
constexpr milliseconds kEndTimeout{300};

transport::ServerOptions Options(Fault fault = Fault::kHandshakeTimeout) {
  transport::ServerOptions o;
  o.handshake_timeout = kHandshakeTimeout;
  if (fault == Fault::kCloseGraceRunsOut) o.end_timeout = kEndTimeout;
  return o;
}

Contexts FaultContexts(Fault fault) {
  // kPauseUnanswered: the SNI callback is on, so the client's name pauses the handshake
  // (kSniRequest) and the server's session_event never answers. kAlpnPauseUnanswered: the
  // ALPN callback is on and the client offers ALPN (kAlpnRequest), likewise unanswered.
  bool pause = fault == Fault::kPauseUnanswered;
  bool alpn = fault == Fault::kAlpnPauseUnanswered;
  return MakeContexts(
      std::nullopt,
      [pause, alpn](auto& s) {
        s.sni_callback = pause;
        s.alpn_callback = alpn;
      },
      [alpn](auto& c) {
        if (alpn) c.alpn_protocols = {"h2", "http/1.1"};
      });
}

// Waits until |fd| reports the end (EOF or error); bounded.
void WaitForEnd(int fd) {
  char buf[4096];
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    if (::recv(fd, buf, sizeof buf, 0) <= 0) return;
  }
}

// The client side of |fault|, against 127.0.0.1:|port|. Blocks; bounded.
void RunClient(Fault fault, uint16_t port, std::shared_ptr<const Context> client) {
  if (fault == Fault::kHandshakeTimeout) {  // connects and says nothing
    auto fd = posix::TcpConnect("127.0.0.1", port, std::chrono::seconds(5));
    ASSERT_TRUE(fd.ok());
    WaitForEnd(fd.value().get());
    return;
  }
  posix::ConnectOptions o;
  o.handshake_timeout = std::chrono::seconds(10);
  o.session.servername = fault == Fault::kPauseUnanswered ? "pause.example" : "localhost";
  auto conn = posix::Connect("127.0.0.1", port, client, o);
  if (fault == Fault::kPauseUnanswered || fault == Fault::kAlpnPauseUnanswered) {
    EXPECT_FALSE(conn.ok());  // the server gives up on the handshake
    return;
  }
  ASSERT_TRUE(conn.ok()) << conn.error().message;
  posix::Connection& c = *conn.value();
  if (fault == Fault::kTruncation) {
    ::shutdown(c.fd(), SHUT_WR);  // a FIN without close_notify
    WaitForEnd(c.fd());
    return;
  }
  // kResetDuringClose: wait for the server's close_notify, then reset instead of answering.
  // kCloseGraceRunsOut: wait for it, then neither answer nor end until the server closes.
  c.set_timeout(std::chrono::seconds(10));
  uint8_t buf[256];
  auto r = c.Read(buf);
  EXPECT_TRUE(r.ok() && r.value() == 0) << (r.ok() ? "data" : r.error().code);
  if (fault == Fault::kCloseGraceRunsOut) {  // the server's FIN came too: just stay silent
    std::this_thread::sleep_for(kEndTimeout + std::chrono::seconds(1));
    return;
  }
  linger l{1, 0};
  ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  conn.value().reset();  // close() with SO_LINGER {1, 0}: a reset
}

using parity::Outcome;

// The cases where the server ends its side right after the handshake.
bool ServerEnds(Fault fault) {
  return fault == Fault::kResetDuringClose || fault == Fault::kCloseGraceRunsOut;
}

// What a transport reported, and how long after its server started listening.
struct Ran {
  std::string text;
  milliseconds after{0};
};

std::string CloseText(const std::optional<Error>& e) { return "close:" + (e ? e->code : "ok"); }

// ---- POSIX ------------------------------------------------------------------------------

class PosixHandler : public posix::ConnectionHandler {
 public:
  explicit PosixHandler(Outcome* out) : out_(out) {}
  void OnData(posix::Connection& conn) override {
    uint8_t buf[4096];
    while (conn.TryRead(buf) > 0) {
    }
  }
  void OnClose(posix::Connection&, const std::optional<Error>& error) override {
    out_->Set(CloseText(error));
  }

 private:
  Outcome* out_;
};

Ran RunPosix(Fault fault) {
  Contexts ctx = FaultContexts(fault);
  Outcome out;
  posix::ServerCallbacks cb;
  cb.secure_connection = [&](posix::Connection& conn) {
    if (ServerEnds(fault)) conn.TryEnd();
    return std::make_unique<PosixHandler>(&out);
  };
  cb.client_error = [&](const transport::ClientErrorInfo& i) {
    out.Set("clientError:" + i.error.code);
  };
  cb.session_event = [](posix::Connection&, const Event&) {};  // never answers
  auto server = posix::Server::Listen(ctx.server, Options(fault), std::move(cb));
  EXPECT_TRUE(server.ok());
  if (!server.ok()) return {"listen failed"};
  auto start = std::chrono::steady_clock::now();
  std::thread loop([&] { server.value()->Run(); });
  RunClient(fault, server.value()->port(), ctx.client);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (out.Get().empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  server.value()->Close(milliseconds(1));
  loop.join();
  return {out.Get(), out.Since(start)};
}

// ---- libuv ------------------------------------------------------------------------------

Ran RunUv(Fault fault) {
  Contexts ctx = FaultContexts(fault);
  Outcome out;
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<std::unique_ptr<uv_tls::Stream>> streams;
  uv_tls::ServerCallbacks cb;
  cb.secure_connection = [&](std::unique_ptr<uv_tls::Stream> s) {
    uv_tls::StreamCallbacks scb;
    scb.close = [&](uv_tls::Stream&, const std::optional<Error>& e) { out.Set(CloseText(e)); };
    s->set_callbacks(std::move(scb));
    if (ServerEnds(fault)) s->End();
    streams.push_back(std::move(s));
  };
  cb.client_error = [&](const transport::ClientErrorInfo& i) {
    out.Set("clientError:" + i.error.code);
  };
  cb.session_event = [](uv_tls::Stream&, const Event&) {};  // never answers
  Ran result;
  {
    auto server = uv_tls::Server::Listen(&loop, ctx.server, Options(fault), std::move(cb));
    EXPECT_TRUE(server.ok());
    if (!server.ok()) return {"listen failed"};
    auto start = std::chrono::steady_clock::now();
    std::atomic<bool> done{false};
    std::thread client([&] {
      RunClient(fault, server.value()->port(), ctx.client);
      done = true;
    });
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while ((!done || out.Get().empty()) && std::chrono::steady_clock::now() < until) {
      uv_run(&loop, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(milliseconds(1));
    }
    client.join();
    result = {out.Get(), out.Since(start)};
    streams.clear();
    server.value()->Close(milliseconds(1));
    for (int i = 0; i < 1000 && uv_loop_alive(&loop); ++i) uv_run(&loop, UV_RUN_NOWAIT);
  }
  for (int i = 0; i < 1000 && uv_loop_alive(&loop); ++i) uv_run(&loop, UV_RUN_NOWAIT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
  return result;
}

// ---- Asio -------------------------------------------------------------------------------

Ran RunAsio(Fault fault) {
  Contexts ctx = FaultContexts(fault);
  Outcome out;
  asio::io_context ioc;
  asio_tls::ServerOptions o;
  o.handshake_timeout = kHandshakeTimeout;
  o.end_timeout = Options(fault).end_timeout;
  asio_tls::ServerCallbacks cb;
  auto code = [](std::error_code ec) {
    return ec == asio::error::eof ? std::string("ok") : asio_tls::ErrorFromCode(ec).code;
  };
  cb.secure_connection = [&](asio_tls::TlsStream stream) {
    auto s = std::make_shared<asio_tls::TlsStream>(std::move(stream));
    if (ServerEnds(fault)) {  // waits for the peer's end as long as the close grace
      s->async_shutdown([&, s](std::error_code ec) { out.Set("close:" + code(ec)); });
      return;
    }
    auto buf = std::make_shared<std::vector<uint8_t>>(4096);
    auto read = std::make_shared<std::function<void()>>();
    *read = [&, s, buf, read] {
      s->async_read_some(asio::buffer(*buf), [&, s, buf, read](std::error_code ec, size_t) {
        if (ec) {
          out.Set("close:" + code(ec));
          *read = nullptr;  // breaks the cycle
          return;
        }
        (*read)();
      });
    };
    (*read)();
  };
  cb.client_error = [&](const asio_tls::ClientErrorInfo& i) {
    out.Set("clientError:" + i.error.code);
  };
  cb.session_event = [](asio_tls::TlsStream&, const Event&) {};  // never answers
  auto server = asio_tls::Server::Listen(ioc, ctx.server, o, std::move(cb));
  EXPECT_TRUE(server.ok());
  if (!server.ok()) return {"listen failed"};
  auto start = std::chrono::steady_clock::now();
  std::atomic<bool> done{false};
  std::thread client([&] {
    RunClient(fault, server.value()->port(), ctx.client);
    done = true;
  });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((!done || out.Get().empty()) && std::chrono::steady_clock::now() < until) {
    ioc.run_for(milliseconds(5));
    if (ioc.stopped()) ioc.restart();
  }
  client.join();
  server.value()->Close();
  ioc.run_for(milliseconds(50));
  return {out.Get(), out.Since(start)};
}

// ---- ALPN chosen by the application, on every transport --------------------------------

// Connects a client offering {"h2", "http/1.1"}; returns the protocol it got (or the error).
std::string AlpnClient(uint16_t port, std::shared_ptr<const Context> client) {
  posix::ConnectOptions o;
  o.handshake_timeout = std::chrono::seconds(10);
  o.session.servername = "localhost";
  auto conn = posix::Connect("127.0.0.1", port, client, o);
  if (!conn.ok()) return "error:" + conn.error().code;
  std::string got = conn.value()->handshake_info().alpn_protocol.value_or("none");
  conn.value()->set_timeout(std::chrono::seconds(5));
  conn.value()->End();
  return got;
}

Contexts AlpnContexts() {
  return MakeContexts(
      std::nullopt, [](auto& s) { s.alpn_callback = true; },
      [](auto& c) {
        c.alpn_protocols = {"h2", "http/1.1"};
      });
}

TEST(AlpnAnswered, Posix) {
  Contexts ctx = AlpnContexts();
  posix::ServerCallbacks cb;
  Outcome out;
  cb.secure_connection = [&](posix::Connection&) { return std::make_unique<PosixHandler>(&out); };
  cb.session_event = [](posix::Connection& conn, const Event& e) {
    if (e.kind() != EventKind::kAlpnRequest) return;
    EXPECT_EQ(e.get<event::AlpnRequest>().protocols, (std::vector<std::string>{"h2", "http/1.1"}));
    EXPECT_FALSE(conn.session().AnswerAlpn("http/1.1").has_value());
    conn.Advance();
  };
  auto server = posix::Server::Listen(ctx.server, Options(), std::move(cb));
  ASSERT_TRUE(server.ok());
  std::thread loop([&] { server.value()->Run(); });
  EXPECT_EQ(AlpnClient(server.value()->port(), ctx.client), "http/1.1");
  server.value()->Close(milliseconds(100));
  loop.join();
}

TEST(AlpnAnswered, Uv) {
  Contexts ctx = AlpnContexts();
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<std::unique_ptr<uv_tls::Stream>> streams;
  uv_tls::ServerCallbacks cb;
  cb.secure_connection = [&](std::unique_ptr<uv_tls::Stream> s) {
    s->End();
    streams.push_back(std::move(s));
  };
  cb.session_event = [](uv_tls::Stream& s, const Event& e) {
    if (e.kind() != EventKind::kAlpnRequest) return;
    EXPECT_FALSE(s.session().AnswerAlpn("h2").has_value());
    s.Advance();
  };
  {
    auto server = uv_tls::Server::Listen(&loop, ctx.server, Options(), std::move(cb));
    ASSERT_TRUE(server.ok());
    std::atomic<bool> done{false};
    std::string got;
    std::thread client([&] {
      got = AlpnClient(server.value()->port(), ctx.client);
      done = true;
    });
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done && std::chrono::steady_clock::now() < until) {
      uv_run(&loop, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(milliseconds(1));
    }
    client.join();
    EXPECT_EQ(got, "h2");
    streams.clear();
    server.value()->Close(milliseconds(1));
    for (int i = 0; i < 1000 && uv_loop_alive(&loop); ++i) uv_run(&loop, UV_RUN_NOWAIT);
  }
  for (int i = 0; i < 1000 && uv_loop_alive(&loop); ++i) uv_run(&loop, UV_RUN_NOWAIT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(AlpnAnswered, Asio) {
  Contexts ctx = AlpnContexts();
  asio::io_context ioc;
  asio_tls::ServerOptions o;
  o.handshake_timeout = kHandshakeTimeout * 10;
  asio_tls::ServerCallbacks cb;
  cb.secure_connection = [](asio_tls::TlsStream stream) {
    auto s = std::make_shared<asio_tls::TlsStream>(std::move(stream));
    s->async_shutdown(std::chrono::seconds(5), [s](std::error_code) {});
  };
  cb.session_event = [](asio_tls::TlsStream& stream, const Event& e) {
    if (e.kind() != EventKind::kAlpnRequest) return;
    EXPECT_FALSE(stream.answer_alpn("http/1.1").has_value());
  };
  auto server = asio_tls::Server::Listen(ioc, ctx.server, o, std::move(cb));
  ASSERT_TRUE(server.ok());
  std::atomic<bool> done{false};
  std::string got;
  std::thread client([&] {
    got = AlpnClient(server.value()->port(), ctx.client);
    done = true;
  });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done && std::chrono::steady_clock::now() < until) {
    ioc.run_for(milliseconds(5));
    if (ioc.stopped()) ioc.restart();
  }
  client.join();
  EXPECT_EQ(got, "http/1.1");
  server.value()->Close();
  ioc.run_for(milliseconds(50));
}

// The event and code, and for the handshake bound its timing: every transport runs it as
// the session's deadline, counted from accept, so none reports it before kHandshakeTimeout
// (the client connects right after the server starts) and each reports it soon after.
void Check(Fault fault, const Ran& ran) {
  EXPECT_EQ(ran.text, Expected(fault));
  if (fault == Fault::kHandshakeTimeout || fault == Fault::kPauseUnanswered ||
      fault == Fault::kAlpnPauseUnanswered) {
    // (The sessions' clock counts whole milliseconds: the bound may end up to 1 ms early.)
    EXPECT_GE(ran.after, kHandshakeTimeout - milliseconds(1)) << "the handshake bound fired early";
    EXPECT_LT(ran.after, kHandshakeTimeout + std::chrono::seconds(5))
        << "the handshake bound did not fire";
  }
  if (fault == Fault::kCloseGraceRunsOut) {  // counted from the server's close_notify
    EXPECT_GE(ran.after, kEndTimeout - milliseconds(1)) << "the close grace ended early";
    EXPECT_LT(ran.after, kEndTimeout + std::chrono::seconds(5)) << "the close grace did not end";
  }
}

class FaultParity : public ::testing::TestWithParam<Fault> {};

TEST_P(FaultParity, PosixReportsTheCommonEventAndCode) { Check(GetParam(), RunPosix(GetParam())); }
TEST_P(FaultParity, UvReportsTheCommonEventAndCode) { Check(GetParam(), RunUv(GetParam())); }
TEST_P(FaultParity, AsioReportsTheCommonEventAndCode) { Check(GetParam(), RunAsio(GetParam())); }

INSTANTIATE_TEST_SUITE_P(Faults, FaultParity,
                         ::testing::Values(Fault::kHandshakeTimeout, Fault::kPauseUnanswered,
                                           Fault::kAlpnPauseUnanswered, Fault::kTruncation,
                                           Fault::kResetDuringClose, Fault::kCloseGraceRunsOut),
                         [](const ::testing::TestParamInfo<Fault>& i) {
                           return std::string(FaultName(i.param));
                         });

}  // namespace
}  // namespace sansio_tls
