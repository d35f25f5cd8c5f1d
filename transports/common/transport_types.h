// Types and error codes shared by the socket transports (transports/posix, transports/uv):
// how a peer's stream ended, socket addresses, and the server's options and Node-style event
// data. Plain C++ (no socket or event-loop headers); each transport re-exports them in its
// own namespace (posix::ServerOptions, uv_tls::ServerOptions, ...).
#ifndef SANSIO_TLS_TRANSPORTS_COMMON_TRANSPORT_TYPES_H_
#define SANSIO_TLS_TRANSPORTS_COMMON_TRANSPORT_TYPES_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/session.h"

namespace sansio_tls::transport {

// The transports' error codes under their historical names: aliases of the core's errc
// constants (core/error.h), where each is defined once. Besides these: the session's codes
// and errno names such as ECONNRESET and ETIMEDOUT.
inline constexpr std::string_view kErrTruncated = errc::kTruncated;  // no close_notify
inline constexpr std::string_view kErrHandshakeTimeout = errc::kHandshakeTimeout;
inline constexpr std::string_view kErrPauseUnanswered = errc::kPauseUnanswered;
// Connections still open when a closing server's grace period ended.
inline constexpr std::string_view kErrServerClosed = errc::kServerClosed;
// Name resolution failed (Connect, Listen).
inline constexpr std::string_view kErrDnsLookup = errc::kDnsLookup;

// How the peer's side of the stream ended.
enum class PeerEnd {
  kOpen,       // not ended (yet)
  kClean,      // close_notify received
  kTruncated,  // the transport ended (EOF or reset) without close_notify
};
inline const char* PeerEndName(PeerEnd end) {
  switch (end) {
    case PeerEnd::kOpen:
      return "open";
    case PeerEnd::kClean:
      return "clean";
    case PeerEnd::kTruncated:
      return "truncated";
  }
  return "?";
}

// An endpoint of a TCP connection.
struct SocketAddress {
  std::string address;  // numeric, e.g. "127.0.0.1" or "::1"; empty when unknown
  uint16_t port = 0;
  std::string family;  // "IPv4" or "IPv6"; empty when unknown
};

// A server's options (Node's tls.createServer / net.Server options).
struct ServerOptions {
  // Address to listen on: a literal or a name; empty = every address (IPv6 and IPv4).
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (see Server::port())
  int backlog = 511;
  // Most sockets open at once, handshaking ones included; 0 = no limit. Connection N+1 is
  // closed at the TCP level before any TLS byte, with a `drop` event.
  size_t max_connections = 0;
  // A connection that has not completed its handshake this long after accept is closed with
  // clientError ERR_TLS_HANDSHAKE_TIMEOUT (ERR_TLS_PAUSE_UNANSWERED while a pause waits for
  // an answer). <= 0: no limit. Node's default, 120 s.
  std::chrono::milliseconds handshake_timeout{120'000};
  // After this side sent close_notify, how long the peer has to end its side before the
  // socket is closed anyway (the close reports ERR_TLS_SHUTDOWN_TIMEOUT). <= 0: no limit.
  // Both bounds become each session's deadlines (SessionOptions::handshake_timeout and
  // close_timeout, where |session| leaves them unset; transport::AcceptedOptions).
  std::chrono::milliseconds end_timeout{30'000};
  // Node's allowHalfOpen: false (the default) ends our side as soon as the peer ended its
  // own (after the application saw the end), so the connection closes.
  bool allow_half_open = false;
  // SO_REUSEPORT: other sockets (processes or loops) setting it too may listen on the same
  // address and port, and the kernel spreads new connections among them (Linux: by a hash
  // of the client's address and port). Each listener serves only its own connections.
  bool reuse_port = false;
  // Per-connection session options (buffer bounds, verification time).
  SessionOptions session;
};

// What a client's Connect does beyond the Context's options (posix::Connect,
// asio_tls::AsyncConnect; libuv's has its own, with StreamOptions).
struct ConnectOptions {
  // Per-connection session options. servername defaults to the host connected to (the
  // session sends no SNI for an IP literal); host is set to it.
  SessionOptions session;
  // Bound on the TCP connect over every resolved address (name resolution itself is not
  // interruptible). Expiry: ETIMEDOUT (Asio: asio::error::timed_out). <= 0: no limit.
  std::chrono::milliseconds connect_timeout{30'000};
  // Bound on the handshake (when complete_handshake): ERR_TLS_HANDSHAKE_TIMEOUT.
  std::chrono::milliseconds handshake_timeout{120'000};
  // Run the handshake before returning. Off: the connection returns right after the TCP
  // connect, its ClientHello pending; its first use runs the handshake (POSIX: Handshake()
  // or a non-blocking loop's Advance(); Asio: the first read, write or async_handshake).
  bool complete_handshake = true;
};

// A connection refused because of max_connections (Node's `drop` event data).
struct DropInfo {
  SocketAddress local, remote;
};

// A connection that failed before the application got it (Node's `clientError`).
struct ClientErrorInfo {
  Error error;
  SocketAddress local, remote;
};

}  // namespace sansio_tls::transport

#endif  // SANSIO_TLS_TRANSPORTS_COMMON_TRANSPORT_TYPES_H_
