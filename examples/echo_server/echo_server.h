// echo_server: one function per transport, each in its own file (asio.cc, posix.cc, uv.cc);
// main.cc turns the flags into an EchoServerConfig. Each returns the exit status.
#ifndef SANSIO_TLS_EXAMPLES_ECHO_SERVER_ECHO_SERVER_H_
#define SANSIO_TLS_EXAMPLES_ECHO_SERVER_ECHO_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/context.h"
#include "core/session.h"
#include "examples/common/output.h"
#include "examples/common/signer.h"
#include "store/redis/session_cache.h"

namespace sansio_tls::examples::echo_server {

// How long a closing server (SIGINT/SIGTERM) waits for its connections.
inline constexpr std::chrono::seconds kCloseGrace{5};
// What the server writes first on every secure connection.
inline constexpr char kWelcome[] = "welcome!\n";

struct EchoServerConfig {
  std::shared_ptr<const Context> context;
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  size_t max_connections = 0;  // 0: no limit
  std::chrono::milliseconds handshake_timeout{120'000};
  int threads = 1;          // asio: one io_context per thread
  bool reuse_port = false;  // SO_REUSEPORT (--workers)
  bool json = false;
  std::string fingerprint;       // of an ephemeral certificate, printed when set
  KeyLogFile* keylog = nullptr;  // NSS key-log lines go there when set
  Signer* signer = nullptr;      // --external-key: signs every key request on its thread
  // Per-connection options: --trace (kTrace events printed), --max-send-fragment.
  SessionOptions session;
  // --redis: TLS 1.2 sessions in Redis (the context's session_cache is kExternal).
  std::optional<redis::Options> redis;
};

int RunAsio(const EchoServerConfig& config);
int RunPosix(const EchoServerConfig& config);
int RunUv(const EchoServerConfig& config);

}  // namespace sansio_tls::examples::echo_server

#endif  // SANSIO_TLS_EXAMPLES_ECHO_SERVER_ECHO_SERVER_H_
