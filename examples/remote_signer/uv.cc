// remote_signer over libuv: Server::KeyOperationAnswerer wakes the loop with the signer
// thread's answer.
#include <uv.h>

#include <atomic>
#include <memory>
#include <thread>

#include "examples/common/cli.h"
#include "examples/common/uv_util.h"
#include "examples/remote_signer/remote_signer.h"
#include "transports/uv/server.h"

namespace sansio_tls::examples::remote_signer {

int RunUv(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx,
          Signer& signer) {
  uv_loop_t* loop = uv_default_loop();
  StreamSet streams;
  uv_tls::Server* server_ptr = nullptr;
  uv_tls::ServerCallbacks callbacks;
  callbacks.secure_connection = [&](std::unique_ptr<uv_tls::Stream> stream) {
    uv_tls::Stream* s = streams.Add(std::move(stream));
    s->set_callbacks(UvEchoCallbacks(&streams));
  };
  callbacks.client_error = [](const uv_tls::ClientErrorInfo& info) {
    Fail("remote_signer: server", info.error);
  };
  callbacks.session_event = [&](uv_tls::Stream& stream, const Event& e) {
    if (e.kind() == EventKind::kSignRequest || e.kind() == EventKind::kDecryptRequest) {
      signer.Sign(e, server_ptr->KeyOperationAnswerer(stream));  // answered from the signer
    }
  };
  auto server = uv_tls::Server::Listen(
      loop, server_ctx,
      {.host = "127.0.0.1", .port = 0, .handshake_timeout = std::chrono::seconds(10)}, callbacks);
  if (!server.ok()) return Fail("remote_signer: listen", server.error());
  server_ptr = server->get();
  // The client thread's end wakes the loop, which then closes the server.
  std::atomic<int> rc{kExitFailure};
  auto* done = new uv_async_t;
  uv_async_init(loop, done, [](uv_async_t* a) {
    static_cast<uv_tls::Server*>(a->data)->Close(std::chrono::seconds(5));
    CloseAndDelete(a);
  });
  done->data = server_ptr;
  std::thread client([&] {
    rc = RunClient((*server)->port(), client_ctx);
    uv_async_send(done);
  });
  uv_run(loop, UV_RUN_DEFAULT);
  client.join();
  server->reset();
  streams.Clear();
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return rc;
}

}  // namespace sansio_tls::examples::remote_signer
