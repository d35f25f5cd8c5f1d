// remote_signer over the POSIX transport: Server::KeyOperationAnswerer hands the signer
// thread's answer to the Run() thread.
#include <memory>
#include <thread>

#include "examples/common/cli.h"
#include "examples/common/posix_echo.h"
#include "examples/remote_signer/remote_signer.h"
#include "transports/posix/server.h"

namespace sansio_tls::examples::remote_signer {

int RunPosix(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx,
             Signer& signer) {
  posix::Server* server_ptr = nullptr;
  posix::ServerCallbacks callbacks;
  callbacks.secure_connection = [](posix::Connection&) { return std::make_unique<PosixEcho>(); };
  callbacks.client_error = [](const posix::ClientErrorInfo& info) {
    Fail("remote_signer: server", info.error);
  };
  callbacks.session_event = [&](posix::Connection& conn, const Event& e) {
    if (e.kind() == EventKind::kSignRequest || e.kind() == EventKind::kDecryptRequest) {
      signer.Sign(e, server_ptr->KeyOperationAnswerer(conn));  // answered from the signer
    }
  };
  auto server = posix::Server::Listen(
      server_ctx, {.host = "127.0.0.1", .port = 0, .handshake_timeout = std::chrono::seconds(10)},
      callbacks);
  if (!server) return Fail("remote_signer: listen", server.error());
  server_ptr = server->get();
  std::thread loop([&] { (*server)->Run(); });
  int rc = RunClient((*server)->port(), client_ctx);
  (*server)->Close(std::chrono::seconds(5));
  loop.join();
  return rc;
}

}  // namespace sansio_tls::examples::remote_signer
