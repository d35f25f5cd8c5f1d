// starttls: a small plaintext line protocol that upgrades to TLS on STARTTLS, both ends.
// The conversation is written once (conversation.cc) over a LineChannel; asio.cc and
// posix.cc give it blocking channels, uv.cc runs the same steps from libuv callbacks.
#ifndef SANSIO_TLS_EXAMPLES_STARTTLS_STARTTLS_H_
#define SANSIO_TLS_EXAMPLES_STARTTLS_STARTTLS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"

namespace sansio_tls::examples::starttls {

// Bounds every read, handshake and close.
inline constexpr std::chrono::milliseconds kTimeout{10000};
// The client's expected server name (the ephemeral certificate's).
inline constexpr char kServerName[] = "localhost";

struct StartTlsConfig {
  std::string mode;  // "both" (one process), "server" or "client"
  std::string host;
  uint16_t port = 0;
  std::shared_ptr<const Context> server_context;  // both, server
  std::shared_ptr<const Context> client_context;  // both, client
  std::string root_fingerprint;                   // server: printed for the user
};

int RunAsio(const StartTlsConfig& config);
int RunPosix(const StartTlsConfig& config);
int RunUv(const StartTlsConfig& config);

// ---- the conversation ------------------------------------------------------------------
//   S: 220 starttls-demo ready        (plaintext)
//   C: STARTTLS
//   S: 220 go ahead                   (both sides start TLS on the same socket)
//   C: HELLO                          (inside TLS from here on)
//   S: 250 hello, secure world
//   C: QUIT
//   S: 221 bye                        (then close_notify both ways)
inline constexpr char kGreeting[] = "220 starttls-demo ready";
inline constexpr char kStartTls[] = "STARTTLS";
inline constexpr char kGoAhead[] = "220 go ahead";

// One end's socket, blocking with kTimeout: plaintext lines until Upgrade(), TLS lines after.
class LineChannel {
 public:
  virtual ~LineChannel() = default;
  // The next line without "\r\n"; nullopt on end, error or timeout.
  virtual std::optional<std::string> ReadLine() = 0;
  virtual bool WriteLine(const std::string& line) = 0;
  // Starts TLS on the socket (bytes read past the last line are its first TLS bytes) and
  // completes the handshake: the handshake's facts, or the error.
  virtual Result<HandshakeInfo> Upgrade() = 0;
  // Sends close_notify and waits for the peer's; the error when the close was not clean.
  virtual std::optional<Error> End() = 0;
};

// The server's and the client's side of one conversation; the exit status.
int Serve(LineChannel& channel);
int Converse(LineChannel& channel);

// The server's answer to |line| received inside TLS ("S: ..." printed); |last|: end after it.
struct Answer {
  std::string reply;
  bool last = false;
};
Answer ServerAnswer(const std::string& line);
// The client's next line after the server's |reply| inside TLS ("C: ..." printed); nullopt
// when |reply| ends the conversation (221) or is unexpected (|*error| set).
std::optional<std::string> ClientNext(const std::string& reply, std::string* error);
// The first line the client sends inside TLS, after printing the handshake.
std::string ClientFirst(const HandshakeInfo& info);

// "WHO: LINE" on stdout.
void Say(const char* who, const std::string& line);
// "starttls: WHAT" on stderr; returns kExitFailure.
int Fail(const std::string& what);
// "-- closed cleanly both ways"; returns kExitOk.
int ClosedCleanly();
// The listening line (and in server mode the root's fingerprint).
void PrintListening(const StartTlsConfig& config, uint16_t port);

}  // namespace sansio_tls::examples::starttls

#endif  // SANSIO_TLS_EXAMPLES_STARTTLS_STARTTLS_H_
