// The libuv transport on 127.0.0.1, one loop: the server echoes, the client sends a message,
// reads it back and ends; the loop must then run out of work (every handle closed).
#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "check.h"
#include "sansio_tls/transports/uv/server.h"
#include "sansio_tls/transports/uv/stream.h"

int main() {
  using namespace sansio_tls;
  Contexts ctx = MakeContexts();
  uv_loop_t loop;
  CHECK(uv_loop_init(&loop) == 0, "uv_loop_init");

  std::vector<std::unique_ptr<uv_tls::Stream>> accepted;
  uv_tls::ServerCallbacks server_cb;
  server_cb.secure_connection = [&](std::unique_ptr<uv_tls::Stream> s) {
    s->set_callbacks(
        {.data = [](uv_tls::Stream& self, std::span<const uint8_t> bytes) { self.Write(bytes); }});
    accepted.push_back(std::move(s));
  };
  auto server =
      uv_tls::Server::Listen(&loop, ctx.server, {.host = "127.0.0.1", .port = 0}, server_cb);
  CHECK(server.ok(), server.error().message);

  const std::string message = "hello over libuv";
  std::string echoed;
  bool closed = false;
  std::optional<Error> close_error;
  uv_tls::StreamCallbacks client_cb;
  client_cb.secure = [&](uv_tls::Stream& s, const HandshakeInfo&) { s.Write(message); };
  client_cb.data = [&](uv_tls::Stream& s, std::span<const uint8_t> bytes) {
    echoed.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (echoed.size() >= message.size()) s.End();
  };
  client_cb.close = [&](uv_tls::Stream&, const std::optional<Error>& error) {
    closed = true;
    close_error = error;
    server.value()->Close(std::chrono::seconds(5));
  };
  uv_tls::ConnectOptions options;
  options.session.servername = "localhost";
  auto client =
      uv_tls::Connect(&loop, "127.0.0.1", server.value()->port(), ctx.client, options, client_cb);
  CHECK(client.ok(), client.error().message);

  // Bounded: a timer stops the loop after 20 s if the exchange hangs.
  uv_timer_t deadline;
  uv_timer_init(&loop, &deadline);
  uv_timer_start(
      &deadline, [](uv_timer_t* t) { uv_stop(t->loop); }, 20'000, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&deadline));
  uv_run(&loop, UV_RUN_DEFAULT);

  CHECK(closed, "the client did not close within 20 s");
  CHECK(!close_error, close_error ? close_error->message : "");
  CHECK(echoed == message, echoed);
  client.value().reset();
  accepted.clear();
  server.value().reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0, "a handle is still open");
  std::printf("uv: handshake and echo over 127.0.0.1 ok\n");
  return 0;
}
