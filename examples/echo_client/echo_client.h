// echo_client: one function per transport, each in its own file (asio.cc, posix.cc, uv.cc);
// main.cc turns the flags into an EchoClientConfig; end.cc is how every run ends. Each
// returns the exit status.
#ifndef SANSIO_TLS_EXAMPLES_ECHO_CLIENT_ECHO_CLIENT_H_
#define SANSIO_TLS_EXAMPLES_ECHO_CLIENT_ECHO_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"

namespace sansio_tls::examples::echo_client {

// Exit status after the handshake: the connection did not end cleanly (truncated, reset,
// timeout). 1 is a connect, handshake or authorization failure (kExitFailure).
inline constexpr int kExitUncleanEnd = 3;
// With --session-out, how long the end of stdin waits for the server's session ticket
// (BoringSSL ignores TLS 1.3 tickets that arrive after our close_notify).
inline constexpr std::chrono::milliseconds kTicketWait{2000};

struct EchoClientConfig {
  std::shared_ptr<const Context> context;
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  SessionOptions session;
  std::chrono::milliseconds end_timeout{10'000};  // for the server's close_notify
  bool json = false;
  std::optional<std::string> session_out;  // file for the newest resumable session
};

int RunAsio(const EchoClientConfig& config);
int RunPosix(const EchoClientConfig& config);
int RunUv(const EchoClientConfig& config);

// How an established connection ends, whatever the transport: writes --session-out, reports
// |failure| (a stream that ended without close_notify is ERR_TLS_TRUNCATED) and the end
// event. Returns 0 for a clean end (close_notify received, no failure), else kExitUncleanEnd.
int EndOfConnection(const EchoClientConfig& config, const Session& session,
                    std::optional<Error> failure, bool peer_closed, bool peer_truncated);

}  // namespace sansio_tls::examples::echo_client

#endif  // SANSIO_TLS_EXAMPLES_ECHO_CLIENT_ECHO_CLIENT_H_
