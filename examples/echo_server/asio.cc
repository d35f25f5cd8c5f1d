// echo_server on Asio: asio_tls::Server on one io_context per thread (--threads), a
// coroutine per connection.
#include "store/redis/asio.h"

#include <csignal>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include "examples/common/asio_util.h"
#include "examples/common/cli.h"
#include "examples/common/output.h"
#include "examples/echo_server/echo_server.h"
#include "transports/asio/server.h"

namespace sansio_tls::examples::echo_server {

using namespace std::chrono_literals;
using asio_tls::TlsStream;

// How long our close_notify waits for the peer's (the POSIX server's end_timeout).
constexpr auto kEndTimeout = 30s;

int RunAsio(const EchoServerConfig& config) {
  const int threads = std::max(1, config.threads);
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  std::vector<asio::io_context*> raw;
  for (int i = 0; i < threads; ++i) {
    iocs.push_back(std::make_unique<asio::io_context>(1));
    raw.push_back(iocs.back().get());
  }
  const bool json = config.json;

  // --redis: one cache per io_context (each is used by its own thread only).
  std::vector<std::unique_ptr<redis::RedisSessionCache>> caches;
  if (config.redis) {
    for (auto* ioc : raw) caches.push_back(redis::MakeAsioCache(*ioc, *config.redis));
  }

  asio_tls::ServerCallbacks callbacks;
  if (!caches.empty()) {
    callbacks.session_event = [&caches, &raw, json](TlsStream& stream, const Event& e) {
      for (size_t i = 0; i < raw.size(); ++i) {
        // The stream's executor may be a strand: compare the io_context it runs on.
        asio::execution_context& ctx = asio::query(stream.get_executor(), asio::execution::context);
        if (&ctx == static_cast<asio::execution_context*>(raw[i])) {
          redis::HandleAsioEvent(*caches[i], stream, e,
                                 [json](bool fresh) { PrintEarlyDataCheck(fresh, json); });
          return;
        }
      }
      if (e.kind() == EventKind::kSessionLookup) stream.answer_session_lookup(std::nullopt);
      if (e.kind() == EventKind::kEarlyDataCheck) stream.answer_early_data(false);
    };
  }
  callbacks.secure_connection = [json](TlsStream tls) {
    PrintSecureConnection(tls.session(), json);
    auto ex = tls.get_executor();
    asio::co_spawn(ex, AsioEcho(std::move(tls), kWelcome, kEndTimeout), asio::detached);
  };
  callbacks.client_error = [json](const asio_tls::ClientErrorInfo& info) {
    PrintClientError({info.error, ToAddress(info.local), ToAddress(info.remote)}, json);
  };
  callbacks.drop = [json](const asio_tls::DropInfo& info) {
    PrintDrop({ToAddress(info.local), ToAddress(info.remote)}, json);
  };
  if (KeyLogFile* keylog = config.keylog) {  // threads share the file: it locks
    callbacks.key_log = [keylog](TlsStream&, std::string_view line) { keylog->Write(line); };
  }
  if (Signer* signer = config.signer) {  // --external-key: answered from the signer thread
    callbacks.session_event = [signer](TlsStream& tls, const Event& e) {
      if (e.kind() == EventKind::kSignRequest || e.kind() == EventKind::kDecryptRequest) {
        signer->Sign(e, tls.key_operation_answerer());
      }
    };
  }
  if (config.session.trace) {  // around whichever handler answers the pauses
    callbacks.session_event = [next = std::move(callbacks.session_event), json](TlsStream& tls,
                                                                                const Event& e) {
      if (e.kind() == EventKind::kTrace) {
        PrintTrace(e.get<TraceMessage>(), Role::kServer, json);
      } else if (next) {
        next(tls, e);
      } else {
        tls.answer_by_default(e);  // what the server answers when no handler is set
      }
    };
  }

  asio_tls::ServerOptions options{.host = config.host,
                                  .port = config.port,
                                  .max_connections = config.max_connections,
                                  .handshake_timeout = config.handshake_timeout,
                                  .reuse_port = config.reuse_port,
                                  .session = config.session};
  auto server = threads == 1 ? asio_tls::Server::Listen(*raw[0], config.context, options, callbacks)
                             : asio_tls::Server::Listen(raw, config.context, options, callbacks);
  if (!server.ok()) {
    return Fail("echo_server", server.error());
  }
  std::shared_ptr<asio_tls::Server> s = server.value();

  // SIGINT/SIGTERM: stop accepting; stop once every connection ended or the grace passed.
  asio::signal_set signals(*raw[0], SIGINT, SIGTERM);
  asio::steady_timer poll(*raw[0]);
  auto deadline = std::chrono::steady_clock::now();
  std::function<void()> check = [&] {
    if (s->connections() == 0 || std::chrono::steady_clock::now() >= deadline) {
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
    deadline = std::chrono::steady_clock::now() + kCloseGrace;
    check();
  });

  PrintListening("asio", ToAddress(s->local_endpoint()), config.fingerprint, json);
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back([ioc = raw[i]] { ioc->run(); });
  raw[0]->run();
  for (auto* ioc : raw) ioc->stop();
  for (auto& t : workers) t.join();
  // Let the listeners' cancelled accepts finish, so that nothing holds the server when the
  // io_contexts go.
  s->Close();
  caches.clear();  // answers what still waits; its descriptors' waits are cancelled
  for (auto* ioc : raw) {
    ioc->restart();
    ioc->poll();
  }
  return kExitOk;
}

}  // namespace sansio_tls::examples::echo_server
