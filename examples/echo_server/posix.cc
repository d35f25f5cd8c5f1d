// echo_server on the POSIX transport: posix::Server's epoll loop on the main thread.
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "examples/common/cli.h"
#include "examples/common/output.h"
#include "examples/common/posix_echo.h"
#include "examples/echo_server/echo_server.h"
#include "store/redis/blocking.h"
#include "transports/common/driver.h"
#include "transports/posix/server.h"

namespace sansio_tls::examples::echo_server {
namespace {

posix::Server* g_server = nullptr;

void OnSignal(int) {
  if (g_server) g_server->Close(kCloseGrace);  // allowed in a signal handler
}

}  // namespace

int RunPosix(const EchoServerConfig& config) {
  const bool json = config.json;
  std::unique_ptr<redis::BlockingRedisSessionCache> cache;
  if (config.redis) {
    cache = std::make_unique<redis::BlockingRedisSessionCache>(*config.redis);
  }

  posix::ServerCallbacks callbacks;
  if (cache) {
    callbacks.session_event = [&cache, json](posix::Connection& conn, const Event& e) {
      redis::HandlePosixEvent(*cache, conn, e,
                              [json](bool fresh) { PrintEarlyDataCheck(fresh, json); });
    };
  }
  callbacks.secure_connection = [json](posix::Connection& conn) {
    PrintSecureConnection(conn.session(), json);
    conn.TryWrite({reinterpret_cast<const uint8_t*>(kWelcome), sizeof kWelcome - 1});
    return std::make_unique<PosixEcho>();
  };
  callbacks.client_error = [json](const posix::ClientErrorInfo& info) {
    PrintClientError(info, json);
  };
  callbacks.drop = [json](const posix::DropInfo& info) { PrintDrop(info, json); };
  if (KeyLogFile* keylog = config.keylog) {
    callbacks.key_log = [keylog](posix::Connection&, std::string_view line) {
      keylog->Write(line);
    };
  }
  posix::Server* server_ptr = nullptr;   // set once listening, before any connection
  if (Signer* signer = config.signer) {  // --external-key: answered from the signer thread
    callbacks.session_event = [signer, &server_ptr](posix::Connection& conn, const Event& e) {
      if (e.kind() == EventKind::kSignRequest || e.kind() == EventKind::kDecryptRequest) {
        signer->Sign(e, server_ptr->KeyOperationAnswerer(conn));
      }
    };
  }

  if (config.session.trace) {  // around whichever handler answers the pauses
    callbacks.session_event = [next = std::move(callbacks.session_event), json](
                                  posix::Connection& conn, const Event& e) {
      if (e.kind() == EventKind::kTrace) {
        PrintTrace(e.get<TraceMessage>(), Role::kServer, json);
      } else if (next) {
        next(conn, e);
      } else {
        transport::DefaultAnswer(conn.session(), e);
      }
    };
  }
  auto server = posix::Server::Listen(config.context,
                                      {.host = config.host,
                                       .port = config.port,
                                       .max_connections = config.max_connections,
                                       .handshake_timeout = config.handshake_timeout,
                                       .reuse_port = config.reuse_port,
                                       .session = config.session},
                                      callbacks);
  if (!server.ok()) {
    return Fail("echo_server", server.error());
  }
  server_ptr = server.value().get();
  g_server = server->get();
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  PrintListening("posix", (*server)->address(), config.fingerprint, json);
  auto run_error = (*server)->Run();  // until Close() and every connection has finished
  g_server = nullptr;
  return run_error ? Fail("echo_server", *run_error) : kExitOk;
}

}  // namespace sansio_tls::examples::echo_server
