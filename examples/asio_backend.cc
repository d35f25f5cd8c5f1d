#include "examples/asio_backend.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "core/testing/cert_factory.h"
#include "examples/example_util.h"
#include "transports/asio/connect.h"
#include "transports/asio/server.h"

namespace sansio_tls::examples::asio_backend {
namespace {

using asio::ip::tcp;
using asio_tls::TlsStream;
using namespace std::chrono_literals;

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);
// echo_server: how long a closing server waits for its connections (as the POSIX one).
constexpr auto kCloseGrace = 5s;
// echo_server: how long our close_notify waits for the peer's (the POSIX end_timeout).
constexpr auto kEndTimeout = 30s;

std::string Family(const tcp::endpoint& e) { return e.address().is_v4() ? "IPv4" : "IPv6"; }

std::string AddressJson(const tcp::endpoint& e, const char* prefix) {
  return examples::AddressJson(e.address().to_string(), e.port(), Family(e), prefix);
}

// The Error behind a failed operation: the session's (message and alert), else the code's.
Error ErrorOf(const TlsStream* tls, std::error_code ec) {
  if (tls && tls->valid() && tls->error()) return *tls->error();
  return asio_tls::ErrorFromCode(ec);
}

// ---- echo_server ------------------------------------------------------------------------

// Writes the welcome line, echoes until the peer's close_notify, then ends our side (Node's
// allowHalfOpen=false). A truncated end or an error just closes.
asio::awaitable<void> EchoConnection(TlsStream tls) {
  static const std::string welcome = "welcome!\n";
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
  co_await tls.async_shutdown(kEndTimeout, kAsTuple);
}

}  // namespace

int EchoServer(std::shared_ptr<const Context> context, const EchoServerConfig& config) {
  const int threads = std::max(1, config.threads);
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  std::vector<asio::io_context*> raw;
  for (int i = 0; i < threads; ++i) {
    iocs.push_back(std::make_unique<asio::io_context>(1));
    raw.push_back(iocs.back().get());
  }
  const bool json = config.json;

  asio_tls::ServerCallbacks callbacks;
  callbacks.secure_connection = [json](TlsStream tls) {
    if (json) {
      PrintLine(HandshakeJson("secureConnection", tls.session()));
    } else {
      PrintLine(std::string("server connected ") +
                (tls.authorized() ? "authorized" : "unauthorized"));
    }
    auto ex = tls.get_executor();
    asio::co_spawn(ex, EchoConnection(std::move(tls)), asio::detached);
  };
  callbacks.client_error = [json](const asio_tls::ClientErrorInfo& info) {
    if (json) {
      PrintLine("{\"event\":\"clientError\",\"code\":" + JsonString(info.error.code) +
                ",\"message\":" + JsonString(info.error.message) + "," +
                AddressJson(info.remote, "remote") + "}");
    } else {
      std::fprintf(stderr, "clientError from %s:%u: %s: %s\n",
                   info.remote.address().to_string().c_str(), info.remote.port(),
                   info.error.code.c_str(), info.error.message.c_str());
    }
  };
  callbacks.drop = [json](const asio_tls::DropInfo& info) {
    if (json) {
      PrintLine("{\"event\":\"drop\"," + AddressJson(info.local, "local") + "," +
                AddressJson(info.remote, "remote") + "}");
    } else {
      std::fprintf(stderr, "drop: %s:%u (max connections reached)\n",
                   info.remote.address().to_string().c_str(), info.remote.port());
    }
  };
  if (std::FILE* keylog = config.keylog) {
    auto mu = std::make_shared<std::mutex>();  // threads share the file
    callbacks.key_log = [keylog, mu](TlsStream&, std::string_view line) {
      std::lock_guard<std::mutex> lock(*mu);
      std::fprintf(keylog, "%.*s\n", static_cast<int>(line.size()), line.data());
      std::fflush(keylog);
    };
  }

  asio_tls::ServerOptions options{.host = config.host,
                                  .port = config.port,
                                  .max_connections = config.max_connections,
                                  .handshake_timeout = config.handshake_timeout};
  auto server = threads == 1 ? asio_tls::Server::Listen(*raw[0], context, options, callbacks)
                             : asio_tls::Server::Listen(raw, context, options, callbacks);
  if (!server.ok()) {
    std::fprintf(stderr, "echo_server: %s: %s\n", server.error().code.c_str(),
                 server.error().message.c_str());
    return 2;
  }
  std::shared_ptr<asio_tls::Server> s = server.value();

  // SIGINT/SIGTERM: stop accepting; stop once every connection ended or the grace passed.
  asio::signal_set signals(*raw[0], SIGINT, SIGTERM);
  asio::steady_timer poll(*raw[0]);
  auto deadline = std::make_shared<std::chrono::steady_clock::time_point>();
  std::function<void()> check = [&] {
    if (s->connections() == 0 || std::chrono::steady_clock::now() >= *deadline) {
      for (auto* ioc : raw) ioc->stop();
      return;
    }
    poll.expires_after(20ms);
    poll.async_wait([&](std::error_code ec) {
      if (!ec) check();
    });
  };
  signals.async_wait([&](std::error_code ec, int) {
    if (ec) return;
    s->Close();
    *deadline = std::chrono::steady_clock::now() + kCloseGrace;
    check();
  });

  const tcp::endpoint& local = s->local_endpoint();
  const std::string address = local.address().to_string();
  if (json) {
    std::string line = "{\"event\":\"listening\",\"transport\":\"asio\",\"host\":" +
                       JsonString(address) + ",\"port\":" + std::to_string(local.port());
    if (!config.fingerprint.empty()) line += ",\"fingerprint256\":" + JsonString(config.fingerprint);
    PrintLine(line + "}");
  } else {
    PrintLine("listening on " + address + ":" + std::to_string(local.port()) + " (asio)");
    if (!config.fingerprint.empty()) PrintLine("ephemeral certificate SHA-256 " + config.fingerprint);
  }

  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back([ioc = raw[i]] { ioc->run(); });
  raw[0]->run();
  for (auto* ioc : raw) ioc->stop();
  for (auto& t : workers) t.join();
  // Let the listeners' cancelled accepts finish, so that nothing holds the server when the
  // io_contexts go.
  s->Close();
  for (auto* ioc : raw) {
    ioc->restart();
    ioc->poll();
  }
  return 0;
}

// ---- echo_client ------------------------------------------------------------------------

namespace {

// The client's connection once established: one reader (the connection to stdout) and one
// sender (stdin chunks, then our close_notify) at a time, on the io_context's thread.
class ClientConnection {
 public:
  ClientConnection(TlsStream tls, std::chrono::milliseconds end_timeout)
      : tls_(std::move(tls)), end_timeout_(end_timeout) {}

  TlsStream& tls() { return tls_; }
  const std::optional<Error>& failure() const { return failure_; }

  void StartReading() {
    tls_.async_read_some(asio::buffer(buf_), [this](std::error_code ec, size_t n) {
      if (n > 0) WriteAll(STDOUT_FILENO, {buf_, n});
      if (!ec) return StartReading();
      if (ec == asio::error::eof) return End();  // like Node's default allowHalfOpen=false
      if (ec == asio_tls::errc::truncated) {
        return Fail(MakeError("ERR_TLS_TRUNCATED", "the server's stream ended without close_notify"));
      }
      Fail(ErrorOf(&tls_, ec));
    });
  }

  // Queues |chunk|; |done| runs once it was written (or failed).
  void Send(std::string chunk, std::function<void()> done) {
    queue_.push_back({std::move(chunk), std::move(done)});
    Pump();
  }
  // Sends close_notify after what is queued, and waits (bounded) for the server's.
  void End() {
    end_requested_ = true;
    Pump();
  }
  // End, once a resumable session arrived (BoringSSL ignores TLS 1.3 tickets that arrive
  // after our close_notify), the peer ended, or |wait| passed.
  void EndAfterTicket(std::chrono::milliseconds wait) {
    if (!timer_) {
      timer_.emplace(tls_.get_executor());
      ticket_deadline_ = std::chrono::steady_clock::now() + wait;
    }
    if (tls_.session().saved_session() || tls_.peer_end() != asio_tls::PeerEnd::kOpen ||
        closed_ || std::chrono::steady_clock::now() >= ticket_deadline_) {
      return End();
    }
    timer_->expires_after(20ms);
    timer_->async_wait([this, wait](std::error_code) { EndAfterTicket(wait); });
  }

 private:
  struct Chunk {
    std::string data;
    std::function<void()> done;
  };

  void Pump() {
    if (sending_) return;
    if (!queue_.empty()) {
      sending_ = true;
      asio::async_write(tls_, asio::buffer(queue_.front().data), [this](std::error_code ec, size_t) {
        sending_ = false;
        Chunk c = std::move(queue_.front());
        queue_.pop_front();
        if (ec && !closed_) Fail(ErrorOf(&tls_, ec));
        c.done();
        Pump();
      });
      return;
    }
    if (!end_requested_ || end_started_ || closed_) return;
    end_started_ = true;
    sending_ = true;
    tls_.async_shutdown(end_timeout_, [this](std::error_code ec) {
      sending_ = false;
      if (ec == asio_tls::errc::shutdown_timeout) {
        Fail(MakeError("ETIMEDOUT", "the server did not close within the end timeout"));
      } else if (ec) {
        Fail(ErrorOf(&tls_, ec));
      }
      Close();
    });
  }

  void Fail(Error e) {
    if (!failure_) failure_ = std::move(e);
    Close();
  }
  void Close() {
    if (closed_) return;
    closed_ = true;
    std::error_code ignored;
    tls_.next_layer().close(ignored);  // outstanding operations end (aborted)
  }

  TlsStream tls_;
  std::chrono::milliseconds end_timeout_;
  char buf_[16384];
  std::deque<Chunk> queue_;
  std::optional<asio::steady_timer> timer_;
  std::chrono::steady_clock::time_point ticket_deadline_;
  bool sending_ = false, end_requested_ = false, end_started_ = false, closed_ = false;
  std::optional<Error> failure_;
};

}  // namespace

int EchoClient(std::shared_ptr<const Context> context, const EchoClientConfig& config) {
  // Never destroyed: the stdin thread may still be blocked in read() when main returns, and
  // the process exits with it.
  auto* ioc = new asio::io_context(1);
  asio_tls::ConnectOptions options;
  options.session = config.session;
  std::error_code connect_ec;
  std::optional<TlsStream> connected;
  asio_tls::AsyncConnect(ioc->get_executor(), config.host, config.port, context, options,
                         [&](std::error_code ec, TlsStream tls) {
                           connect_ec = ec;
                           connected.emplace(std::move(tls));
                         });
  ioc->run();
  ioc->restart();
  if (connect_ec) {
    ReportClientError(ErrorOf(connected ? &*connected : nullptr, connect_ec), config.json);
    return 1;
  }
  if (config.json) {
    PrintEvent(HandshakeJson("secureConnect", connected->session()));
  } else {
    PrintEvent(std::string("client connected ") +
               (connected->authorized() ? "authorized" : "unauthorized"));
  }

  auto conn = std::make_shared<ClientConnection>(std::move(*connected), config.end_timeout);
  conn->StartReading();
  // stdin on a thread (it may be a file, which epoll cannot watch); one chunk in flight.
  const bool want_ticket = config.session_out.has_value();
  std::thread([ioc, conn, want_ticket] {
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        asio::post(*ioc, [conn, want_ticket] {
          if (want_ticket) {
            conn->EndAfterTicket(std::chrono::milliseconds(2000));
          } else {
            conn->End();
          }
        });
        return;
      }
      std::mutex mu;
      std::condition_variable cv;
      bool written = false;
      asio::post(*ioc, [&, conn, chunk = std::string(buf, static_cast<size_t>(n))]() mutable {
        conn->Send(std::move(chunk), [&] {
          std::lock_guard<std::mutex> lock(mu);
          written = true;
          cv.notify_one();
        });
      });
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return written; });
    }
  }).detach();
  // Until the reader and the sender are both done (the socket closed or both ends closed).
  ioc->run();

  TlsStream& tls = conn->tls();
  if (config.session_out) {
    // The newest ticket or session the server sent (TLS 1.3 tickets come after the
    // handshake, so this is taken at the end).
    if (auto saved = tls.session().saved_session()) {
      std::vector<uint8_t> bytes = saved->ToBytes();
      std::FILE* f = std::fopen(config.session_out->c_str(), "wb");
      if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
        PrintEvent("echo_client: cannot write --session-out file " + *config.session_out);
      }
      if (f) std::fclose(f);
    } else {
      PrintEvent("echo_client: the server sent no resumable session");
    }
  }
  std::optional<Error> failure = conn->failure();
  if (!failure && tls.peer_end() == asio_tls::PeerEnd::kTruncated) {
    failure = MakeError("ERR_TLS_TRUNCATED", "the server's stream ended without close_notify");
  }
  bool clean = !failure && tls.peer_end() == asio_tls::PeerEnd::kClean;
  if (failure) ReportClientError(*failure, config.json);
  if (config.json) {
    PrintEvent(std::string("{\"event\":\"end\",\"clean\":") + (clean ? "true" : "false") + "}");
  }
  return clean ? 0 : 3;
}

// ---- starttls ---------------------------------------------------------------------------

namespace {

// Reads one "\r\n"-terminated line from |stream| (plaintext socket or TLS) through
// |buffered|, which keeps what was read past it. nullopt on error or end.
template <typename SyncStream>
std::optional<std::string> ReadLine(SyncStream& stream, std::string& buffered) {
  std::error_code ec;
  size_t n = asio::read_until(stream, asio::dynamic_buffer(buffered), "\r\n", ec);
  if (ec) return std::nullopt;
  std::string line = buffered.substr(0, n - 2);
  buffered.erase(0, n);
  return line;
}

template <typename SyncStream>
bool SendLine(SyncStream& stream, const std::string& line) {
  std::string data = line + "\r\n";
  std::error_code ec;
  asio::write(stream, asio::buffer(data), ec);
  return !ec;
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

int ServeOne(tcp::socket socket, std::shared_ptr<const Context> context) {
  Say("S", "220 starttls-demo ready");
  if (!SendLine(socket, "220 starttls-demo ready")) return StartTlsFail("server: send failed");
  std::string buffered;
  auto cmd = ReadLine(socket, buffered);
  if (!cmd || *cmd != "STARTTLS") return StartTlsFail("server: expected STARTTLS");
  Say("S", "220 go ahead");
  if (!SendLine(socket, "220 go ahead")) return StartTlsFail("server: send failed");
  TlsStream tls(std::move(socket), context);
  tls.prime_input(Bytes(buffered));  // the client's first TLS bytes, if already read
  buffered.clear();
  std::error_code ec;
  tls.handshake(ec);
  if (ec) return StartTlsFail("server handshake: " + ec.message());
  while (auto line = ReadLine(tls, buffered)) {
    if (*line == "HELLO") {
      Say("S", "250 hello, secure world (TLS)");
      SendLine(tls, "250 hello, secure world");
    } else if (*line == "QUIT") {
      Say("S", "221 bye (TLS)");
      SendLine(tls, "221 bye");
      break;
    } else {
      SendLine(tls, "500 unknown command");
    }
  }
  tls.shutdown(10s, ec);  // until the client's close_notify
  if (ec) return StartTlsFail("server end: " + ec.message());
  return 0;
}

int RunClient(asio::io_context& ioc, const std::string& host, uint16_t port,
              std::shared_ptr<const Context> context, const std::string& servername) {
  tcp::socket socket(ioc);
  std::error_code ec;
  tcp::resolver resolver(ioc);
  asio::connect(socket, resolver.resolve(host, std::to_string(port), ec), ec);
  if (ec) return StartTlsFail("client: " + ec.message());
  std::string buffered;
  auto greeting = ReadLine(socket, buffered);
  if (!greeting || greeting->rfind("220", 0) != 0) return StartTlsFail("client: no greeting");
  Say("C", "STARTTLS");
  if (!SendLine(socket, "STARTTLS")) return StartTlsFail("client: send failed");
  auto go = ReadLine(socket, buffered);
  if (!go || go->rfind("220", 0) != 0) return StartTlsFail("client: STARTTLS refused");
  TlsStream tls(std::move(socket), context, {.servername = servername, .host = host});
  tls.prime_input(Bytes(buffered));
  buffered.clear();
  tls.handshake(ec);
  if (ec) {
    Error e = ErrorOf(&tls, ec);
    return StartTlsFail("client handshake: " + e.code + ": " + e.message);
  }
  const HandshakeInfo& info = tls.handshake_info();
  PrintLine("-- TLS established: " + info.protocol + " " + info.cipher + ", " +
            (info.authorized ? "authorized" : "unauthorized " + info.authorization_error));
  Say("C", "HELLO (TLS)");
  SendLine(tls, "HELLO");
  auto reply = ReadLine(tls, buffered);
  if (!reply || reply->rfind("250", 0) != 0) return StartTlsFail("client: no reply to HELLO");
  Say("C", "QUIT (TLS)");
  SendLine(tls, "QUIT");
  auto bye = ReadLine(tls, buffered);
  if (!bye || bye->rfind("221", 0) != 0) return StartTlsFail("client: no reply to QUIT");
  tls.shutdown(10s, ec);
  if (ec) return StartTlsFail("client: the server did not close cleanly: " + ec.message());
  PrintLine("-- closed cleanly both ways");
  return 0;
}

}  // namespace

int StartTls(const std::string& mode, const std::string& host, uint16_t port,
             const ContextOptions& client_options) {
  asio::io_context ioc;
  if (mode == "client") {
    auto ctx = Context::Create(client_options);
    if (!ctx.ok()) return StartTlsFail(ctx.error().message);
    return RunClient(ioc, host, port, *ctx, "localhost");
  }
  // The server side: an ephemeral PKI (both mode: the client trusts its root).
  testing::TestPki pki = testing::MakeTestPki();
  auto server_ctx = Context::Create({.role = Role::kServer,
                                     .credentials = {.key_pem = pki.server.key_pem,
                                                     .cert_chain_pem = pki.server_chain_pem()}});
  if (!server_ctx.ok()) return StartTlsFail(server_ctx.error().message);
  std::error_code ec;
  tcp::acceptor acceptor(ioc);
  tcp::endpoint ep(asio::ip::make_address(host, ec), port);
  if (ec) return StartTlsFail("--host takes an address literal with --transport=asio");
  acceptor.open(ep.protocol(), ec);
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(16, ec);
  if (ec) return StartTlsFail("listen: " + ec.message());
  uint16_t bound = acceptor.local_endpoint().port();
  PrintLine("listening on " + host + ":" + std::to_string(bound) + " (plaintext until STARTTLS)");

  if (mode == "server") {
    PrintLine("root CA SHA-256 " + Sha256Fingerprint(pki.root.der) +
              " (clients: --reject-unauthorized=false)");
    for (;;) {
      tcp::socket s(ioc);
      acceptor.accept(s, ec);
      if (ec) return StartTlsFail("accept failed");
      ServeOne(std::move(s), *server_ctx);
    }
  }
  if (mode != "both") return StartTlsFail("--mode takes both, server or client");

  auto client_ctx = Context::Create({.role = Role::kClient, .ca_pems = {pki.root.cert_pem}});
  if (!client_ctx.ok()) return StartTlsFail(client_ctx.error().message);
  int server_rc = 1;
  std::thread server([&] {
    asio::io_context server_ioc;
    tcp::socket s(server_ioc);
    std::error_code aec;
    acceptor.accept(s, aec);
    server_rc = aec ? StartTlsFail("accept failed") : ServeOne(std::move(s), *server_ctx);
  });
  int client_rc = RunClient(ioc, host, bound, *client_ctx, "localhost");
  server.join();
  return client_rc != 0 ? client_rc : server_rc;
}

// ---- demo ---------------------------------------------------------------------------------

int DemoLoopback(std::shared_ptr<const Context> server_ctx,
                 std::shared_ptr<const Context> client_ctx) {
  std::printf("\nthe same over loopback TCP (Asio transport, server and client on one "
              "io_context):\n");
  asio::io_context ioc;
  asio_tls::ServerCallbacks callbacks;
  callbacks.secure_connection = [](TlsStream tls) {
    const HandshakeInfo& h = tls.handshake_info();
    std::printf("  [server] secureConnection: %s %s, servername=%s\n", h.protocol.c_str(),
                h.cipher.c_str(), h.servername.c_str());
    auto ex = tls.get_executor();
    asio::co_spawn(ex, EchoConnection(std::move(tls)), asio::detached);
  };
  callbacks.client_error = [](const asio_tls::ClientErrorInfo& info) {
    std::printf("  [server] clientError: %s\n", info.error.code.c_str());
  };
  auto server = asio_tls::Server::Listen(ioc, server_ctx, {.host = "127.0.0.1", .port = 0},
                                         callbacks);
  if (!server.ok()) {
    std::fprintf(stderr, "demo: listen: %s: %s\n", server.error().code.c_str(),
                 server.error().message.c_str());
    return 1;
  }
  std::shared_ptr<asio_tls::Server> s = server.value();
  std::printf("  [server] listening on 127.0.0.1:%u\n", s->port());

  int rc = 1;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        asio_tls::ConnectOptions options;  // named: see AsyncConnect about GCC 12
        options.session.servername = "localhost";
        auto ex = co_await asio::this_coro::executor;
        auto [ec, tls] = co_await asio_tls::AsyncConnect(ex, "127.0.0.1", s->port(), client_ctx,
                                                         options, kAsTuple);
        if (ec) {
          Error e = ErrorOf(&tls, ec);
          std::fprintf(stderr, "demo: connect: %s: %s\n", e.code.c_str(), e.message.c_str());
          s->Close();
          co_return;
        }
        std::printf("  [client] secureConnect: %s, %s\n", tls.protocol().c_str(),
                    tls.authorized() ? "authorized" : "unauthorized");
        static const std::string line = "hello over TCP\n";
        std::string got;
        co_await asio::async_write(tls, asio::buffer(line), kAsTuple);
        while (got.size() < 9 + line.size()) {  // "welcome!\n" + the echo
          char buf[256];
          auto [rec, n] = co_await tls.async_read_some(asio::buffer(buf), kAsTuple);
          if (rec) break;
          got.append(buf, n);
        }
        std::printf("  [client] received: %s", got.c_str());
        // Our close_notify, then the server's answer to it.
        auto [sec] = co_await tls.async_shutdown(10s, kAsTuple);
        bool closed = !sec;
        std::printf("  [client] %s\n",
                    closed ? "closed cleanly both ways" : "did not close cleanly");
        rc = got == "welcome!\n" + line && closed ? 0 : 1;
        s->Close();
      },
      asio::detached);
  ioc.run();
  return rc;
}

}  // namespace sansio_tls::examples::asio_backend
