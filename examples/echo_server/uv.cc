// echo_server on libuv: uv_tls::Server on the default loop, on the main thread.
#include "store/redis/uv.h"

#include <uv.h>

#include <csignal>
#include <memory>

#include "examples/common/cli.h"
#include "examples/common/output.h"
#include "examples/common/uv_util.h"
#include "examples/echo_server/echo_server.h"
#include "transports/common/driver.h"
#include "transports/uv/server.h"
#include "transports/uv/stream.h"

namespace sansio_tls::examples::echo_server {

int RunUv(const EchoServerConfig& config) {
  uv_loop_t* loop = uv_default_loop();
  const bool json = config.json;
  StreamSet streams;
  std::unique_ptr<uv_tls::Server> server;
  uv_signal_t* signals[2] = {new uv_signal_t, new uv_signal_t};

  std::unique_ptr<redis::RedisSessionCache> cache;
  if (config.redis) cache = redis::MakeUvCache(loop, *config.redis);

  uv_tls::ServerCallbacks callbacks;
  if (cache) {
    callbacks.session_event = [&cache, json](uv_tls::Stream& stream, const Event& e) {
      redis::HandleUvEvent(*cache, stream, e,
                           [json](bool fresh) { PrintEarlyDataCheck(fresh, json); });
    };
  }
  callbacks.secure_connection = [&](std::unique_ptr<uv_tls::Stream> stream) {
    PrintSecureConnection(stream->session(), json);
    uv_tls::Stream* s = streams.Add(std::move(stream));
    s->set_callbacks(UvEchoCallbacks(&streams));
    s->Write(kWelcome);
  };
  callbacks.client_error = [json](const uv_tls::ClientErrorInfo& info) {
    PrintClientError(info, json);
  };
  callbacks.drop = [json](const uv_tls::DropInfo& info) { PrintDrop(info, json); };
  if (KeyLogFile* keylog = config.keylog) {
    callbacks.key_log = [keylog](uv_tls::Stream&, std::string_view line) { keylog->Write(line); };
  }
  if (Signer* signer = config.signer) {  // --external-key: answered from the signer thread
    callbacks.session_event = [signer, &server](uv_tls::Stream& stream, const Event& e) {
      if (e.kind() == EventKind::kSignRequest || e.kind() == EventKind::kDecryptRequest) {
        signer->Sign(e, server->KeyOperationAnswerer(stream));
      }
    };
  }
  if (config.session.trace) {  // around whichever handler answers the pauses
    callbacks.session_event = [next = std::move(callbacks.session_event), json](
                                  uv_tls::Stream& stream, const Event& e) {
      if (e.kind() == EventKind::kTrace) {
        PrintTrace(e.get<TraceMessage>(), Role::kServer, json);
      } else if (next) {
        next(stream, e);
      } else {
        transport::DefaultAnswer(stream.session(), e);
      }
    };
  }
  // After SIGINT/SIGTERM: every connection is gone (or was forced after the grace period).
  callbacks.close = [&] {
    cache.reset();  // its handles close as the loop ends
    for (uv_signal_t* sig : signals) {
      uv_signal_stop(sig);
      CloseAndDelete(sig);
    }
  };

  auto listening = uv_tls::Server::Listen(loop, config.context,
                                          {.host = config.host,
                                           .port = config.port,
                                           .max_connections = config.max_connections,
                                           .handshake_timeout = config.handshake_timeout,
                                           .reuse_port = config.reuse_port,
                                           .session = config.session},
                                          callbacks);
  if (!listening.ok()) {
    for (uv_signal_t* sig : signals) delete sig;
    cache.reset();
    uv_run(loop, UV_RUN_DEFAULT);
    return Fail("echo_server", listening.error());
  }
  server = std::move(listening).value();

  int signums[2] = {SIGINT, SIGTERM};
  for (int i = 0; i < 2; ++i) {
    uv_signal_init(loop, signals[i]);
    signals[i]->data = &server;
    uv_signal_start(
        signals[i],
        [](uv_signal_t* sig, int) {
          (*static_cast<std::unique_ptr<uv_tls::Server>*>(sig->data))->Close(kCloseGrace);
        },
        signums[i]);
  }

  PrintListening("uv", server->address(), config.fingerprint, json);
  uv_run(loop, UV_RUN_DEFAULT);  // until the signals' handles closed and the server is done
  server.reset();
  streams.Clear();
  uv_run(loop, UV_RUN_DEFAULT);  // their handles close
  uv_loop_close(loop);
  return kExitOk;
}

}  // namespace sansio_tls::examples::echo_server
