// demo: the loopback part, one function per transport (asio.cc, posix.cc, uv.cc): an echo
// server on 127.0.0.1 and a client that sends one line, reads the welcome and the echo, and
// closes cleanly both ways. Each returns the exit status.
#ifndef SANSIO_TLS_EXAMPLES_DEMO_DEMO_H_
#define SANSIO_TLS_EXAMPLES_DEMO_DEMO_H_

#include <cstdint>
#include <memory>
#include <string>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"

namespace sansio_tls::examples::demo {

inline constexpr char kWelcome[] = "welcome!\n";
inline constexpr char kLine[] = "hello over TCP\n";
// What the client reads: the welcome, then the echo of its line.
inline constexpr size_t kExpectedBytes = sizeof kWelcome - 1 + sizeof kLine - 1;

int RunAsio(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx);
int RunPosix(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx);
int RunUv(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx);

// The lines every transport prints.
void PrintTitle(const char* transport_and_setup);
void PrintListening(uint16_t port);
void PrintServerSecure(const HandshakeInfo& h);
void PrintServerClientError(const Error& e);
void PrintClientSecure(const HandshakeInfo& h);
// Prints what the client received and how it closed; 0 when it got the welcome and the
// echo and closed cleanly, else 1.
int ClientResult(const std::string& received, bool closed_cleanly);

}  // namespace sansio_tls::examples::demo

#endif  // SANSIO_TLS_EXAMPLES_DEMO_DEMO_H_
