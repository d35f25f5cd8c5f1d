// A client that fills the server's pipeline and then goes away, for the transports' server
// tests: the regression scenario of a connection that can make no progress (the POSIX
// server kept such a connection, and its descriptor, forever).
#ifndef SANSIO_TLS_TESTS_COMMON_STUCK_PEER_H_
#define SANSIO_TLS_TESTS_COMMON_STUCK_PEER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/context.h"

namespace sansio_tls::test_stuck_peer {

// How the client leaves once the server has stopped taking its data.
enum class Ending {
  kReset,        // SO_LINGER {1, 0} and close: a TCP reset, with the pipeline full
  kFinThenGone,  // shutdown(SHUT_WR) (a plain FIN, no close_notify), then close unread
  kFinAndDrain,  // flush what was accepted, FIN (no close_notify), then read every echo
};

struct Outcome {
  bool handshake_ok = false;
  std::string error;       // why the client gave up, when it did
  size_t written = 0;      // plaintext bytes the client's session accepted
  std::string echoed;      // kFinAndDrain: everything read back, up to the server's end
  bool clean_end = false;  // kFinAndDrain: the server ended with close_notify
};

// Connects to 127.0.0.1:|port| (servername "localhost", the TLS version |client| allows),
// completes the handshake, writes test_data::Payload bytes without reading until nothing
// moved for |stall| (the server holds it back), then ends as |ending| says. Blocks;
// bounded by about 60 s. Runs on any thread (plain sockets, its own descriptors only).
Outcome WriteWithoutReadingThenLeave(
    uint16_t port, std::shared_ptr<const Context> client, Ending ending,
    std::chrono::milliseconds stall = std::chrono::milliseconds(500));

// A well-behaved client: connects like WriteWithoutReadingThenLeave, writes "hi", reads the
// echo, ends with close_notify and reads until the server's. Returns "" on success, else
// what went wrong.
std::string EchoRoundTrip(uint16_t port, std::shared_ptr<const Context> client);

// Waits until |held| returns 0 (polling every few ms); false after |timeout|.
bool WaitForZero(const std::function<size_t()>& held,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

// The number of this process's open file descriptors (entries of /proc/self/fd).
size_t OpenFds();

}  // namespace sansio_tls::test_stuck_peer

#endif  // SANSIO_TLS_TESTS_COMMON_STUCK_PEER_H_
