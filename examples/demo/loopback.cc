#include <cstdio>

#include "examples/common/cli.h"
#include "examples/demo/demo.h"

namespace sansio_tls::examples::demo {

void PrintTitle(const char* transport_and_setup) {
  std::printf("\nthe same over loopback TCP (%s):\n", transport_and_setup);
}

void PrintListening(uint16_t port) { std::printf("  [server] listening on 127.0.0.1:%u\n", port); }

void PrintServerSecure(const HandshakeInfo& h) {
  std::printf("  [server] secureConnection: %s %s, servername=%s\n",
              std::string(h.protocol()).c_str(), std::string(h.cipher).c_str(),
              h.servername.c_str());
}

void PrintServerClientError(const Error& e) {
  std::printf("  [server] clientError: %s\n", e.code.c_str());
}

void PrintClientSecure(const HandshakeInfo& h) {
  std::printf("  [client] secureConnect: %s, %s\n", std::string(h.protocol()).c_str(),
              h.authorized ? "authorized" : "unauthorized");
}

int ClientResult(const std::string& received, bool closed_cleanly) {
  std::printf("  [client] received: %s", received.c_str());
  std::printf("  [client] %s\n",
              closed_cleanly ? "closed cleanly both ways" : "did not close cleanly");
  std::fflush(stdout);
  return received == std::string(kWelcome) + kLine && closed_cleanly ? kExitOk : kExitFailure;
}

}  // namespace sansio_tls::examples::demo
