// demo over libuv: the server and the client on one loop.
#include <uv.h>

#include <memory>
#include <optional>
#include <string>

#include "examples/common/cli.h"
#include "examples/common/uv_util.h"
#include "examples/demo/demo.h"
#include "transports/uv/server.h"
#include "transports/uv/stream.h"

namespace sansio_tls::examples::demo {

int RunUv(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx) {
  PrintTitle("libuv transport, server and client on one loop");
  uv_loop_t* loop = uv_default_loop();
  StreamSet streams;
  uv_tls::ServerCallbacks callbacks;
  callbacks.secure_connection = [&](std::unique_ptr<uv_tls::Stream> stream) {
    PrintServerSecure(stream->handshake_info());
    uv_tls::Stream* s = streams.Add(std::move(stream));
    s->set_callbacks(UvEchoCallbacks(&streams));
    s->Write(kWelcome);
  };
  callbacks.client_error = [](const uv_tls::ClientErrorInfo& info) {
    PrintServerClientError(info.error);
  };
  auto server =
      uv_tls::Server::Listen(loop, server_ctx, {.host = "127.0.0.1", .port = 0}, callbacks);
  if (!server.ok()) return Fail("demo: listen", server.error());
  PrintListening((*server)->port());

  std::string got;
  bool closed = false;
  int rc = 1;
  uv_tls::StreamCallbacks cb;
  cb.secure = [](uv_tls::Stream& s, const HandshakeInfo& info) {
    PrintClientSecure(info);
    s.Write(kLine);
  };
  cb.data = [&](uv_tls::Stream& s, std::span<const uint8_t> bytes) {
    got.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (got.size() >= kExpectedBytes) s.End();  // our close_notify, then the server's answer
  };
  cb.close = [&](uv_tls::Stream& s, const std::optional<Error>& error) {
    closed = true;
    rc = ClientResult(got, !error && s.peer_end() == uv_tls::PeerEnd::kClean);
    (*server)->Close(std::chrono::seconds(5));
  };
  uv_tls::ConnectOptions options;
  options.session.servername = "localhost";
  auto client = uv_tls::Connect(loop, "127.0.0.1", (*server)->port(), client_ctx, options, cb);
  if (!client.ok()) return Fail("demo: connect", client.error());
  while (!closed && uv_run(loop, UV_RUN_ONCE)) {
  }
  client->reset();
  uv_run(loop, UV_RUN_DEFAULT);  // the server's connections end, then its listener closes
  server->reset();
  streams.Clear();
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return rc;
}

}  // namespace sansio_tls::examples::demo
