// The example programs' libuv transport (--transport=uv): the same behaviour and output as
// their POSIX and Asio code, on transports/uv, one loop on the main thread. Each function
// returns the process exit status. Not part of the library.
#ifndef SANSIO_TLS_EXAMPLES_UV_BACKEND_H_
#define SANSIO_TLS_EXAMPLES_UV_BACKEND_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "core/context.h"
#include "core/session.h"
#include "examples/example_util.h"

namespace sansio_tls::examples::uv_backend {

using examples::EchoClientConfig;  // example_util.h
using examples::EchoServerConfig;

// echo_server: welcome line, echo, Node-style events (see examples/echo_server.cc).
int EchoServer(std::shared_ptr<const Context> context, const EchoServerConfig& config);

// echo_client: stdin to the connection, the connection to stdout (see echo_client.cc).
int EchoClient(std::shared_ptr<const Context> context, const EchoClientConfig& config);

// starttls: --mode=both|server|client (see examples/starttls.cc). |client_options| are used
// in client mode.
int StartTls(const std::string& mode, const std::string& host, uint16_t port,
             const ContextOptions& client_options);

// demo: the loopback part (an echo server and a client on one loop).
int DemoLoopback(std::shared_ptr<const Context> server_ctx,
                 std::shared_ptr<const Context> client_ctx);

}  // namespace sansio_tls::examples::uv_backend

#endif  // SANSIO_TLS_EXAMPLES_UV_BACKEND_H_
