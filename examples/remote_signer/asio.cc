// remote_signer over Asio: the stream's key_operation_answerer posts the signer thread's
// answer to the stream's executor.
#include <memory>
#include <thread>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "examples/common/asio_util.h"
#include "examples/common/cli.h"
#include "examples/remote_signer/remote_signer.h"
#include "transports/asio/server.h"

namespace sansio_tls::examples::remote_signer {

using namespace std::chrono_literals;

int RunAsio(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx,
            Signer& signer) {
  asio::io_context ioc;
  asio_tls::ServerCallbacks callbacks;
  callbacks.secure_connection = [](asio_tls::TlsStream tls) {
    auto ex = tls.get_executor();
    asio::co_spawn(ex, AsioEcho(std::move(tls), "", 10s), asio::detached);
  };
  callbacks.client_error = [](const asio_tls::ClientErrorInfo& info) {
    Fail("remote_signer: server", info.error);
  };
  callbacks.session_event = [&signer](asio_tls::TlsStream& tls, const Event& e) {
    if (e.kind() == EventKind::kSignRequest || e.kind() == EventKind::kDecryptRequest) {
      signer.Sign(e, tls.key_operation_answerer());  // answered later, from the signer thread
    }
  };
  auto server = asio_tls::Server::Listen(
      ioc, server_ctx, {.host = "127.0.0.1", .port = 0, .handshake_timeout = 10s}, callbacks);
  if (!server.ok()) return Fail("remote_signer: listen", server.error());
  std::shared_ptr<asio_tls::Server> s = server.value();
  int rc = kExitFailure;
  std::thread client([&] {
    rc = RunClient(s->port(), client_ctx);
    asio::post(ioc, [s] { s->Close(); });
  });
  ioc.run();
  client.join();
  return rc;
}

}  // namespace sansio_tls::examples::remote_signer
