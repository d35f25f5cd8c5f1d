// Helpers for the POSIX transport tests: contexts from an in-memory PKI, a Server running
// on its own thread with a thread-safe log of what it reported, payloads and hashes.
#ifndef SANSIO_TLS_TESTS_POSIX_POSIX_TEST_UTIL_H_
#define SANSIO_TLS_TESTS_POSIX_POSIX_TEST_UTIL_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "tests/common/test_contexts.h"
#include "tests/common/test_data.h"
#include "transports/posix/connection.h"
#include "transports/posix/server.h"

namespace sansio_tls::posix::test {

using test_contexts::Contexts;  // tests/common/test_contexts.h
using test_contexts::MakeContexts;

// A connected TCP pair over 127.0.0.1 (client end, server end), both non-blocking with
// TCP_NODELAY. |buffer| > 0 shrinks both ends' SO_SNDBUF/SO_RCVBUF (forces partial writes).
// Below about 16 KiB, loopback TCP crawls (tens of KB/s: window updates wait for timers).
std::pair<UniqueFd, UniqueFd> TcpPair(int buffer = 0);

// Two connections driven without blocking from one thread.
struct LivePair {
  std::unique_ptr<Connection> client, server;
  std::vector<Event> client_events, server_events;
  // Advances both and polls for what they wait for until |done| holds; false on timeout.
  bool DriveUntil(const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Both handshakes completed (or a timeout/failure: false).
  bool Handshake();
};
// A LivePair over TcpPair(|buffer|), client sessions with servername "localhost".
LivePair MakeLivePair(const Contexts& contexts, int buffer = 0);

// Deterministic pseudo-random bytes.
using test_data::Payload;
using test_data::Sha256Hex;
std::span<const uint8_t> Bytes(std::string_view s);

// Echoes everything back, holding at most one read when the peer reads slowly.
class EchoHandler : public ConnectionHandler {
 public:
  void OnData(Connection& conn) override { Pump(conn); }
  void OnWritable(Connection& conn) override { Pump(conn); }

 private:
  void Pump(Connection& conn);
  std::vector<uint8_t> pending_;
  size_t pos_ = 0;
};

// A Server on its own thread. Every report is appended to a log as a short string:
// "secure", "clientError:<code>", "drop", "end:<clean|truncated>", "close:<code|ok>".
class ServerThread {
 public:
  using Factory = std::function<std::unique_ptr<ConnectionHandler>(Connection&)>;
  // Starts listening on 127.0.0.1, port 0. |factory| defaults to an EchoHandler.
  ServerThread(std::shared_ptr<const Context> context, ServerOptions options = {},
               Factory factory = nullptr);
  // Stop(0 ms) unless stopped already.
  ~ServerThread();

  uint16_t port() const { return server_->port(); }
  Server& server() { return *server_; }

  std::vector<std::string> log() const;
  size_t Count(std::string_view entry) const;
  // Waits until |entry| was logged at least |n| times; false on timeout.
  bool WaitFor(std::string_view entry, size_t n = 1,
               std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // Waits until connections() == n; false on timeout.
  bool WaitConnections(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // Close(grace), then joins Run(); returns how long Run() took to return after Close().
  std::chrono::milliseconds Stop(std::chrono::milliseconds grace);
  // The largest Connection::buffered_bytes() seen around any handler call.
  size_t max_buffered() const;

 private:
  class Recorder;
  void Log(std::string entry);
  void Sample(size_t buffered);
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::string> log_;
  size_t max_buffered_ = 0;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  bool stopped_ = false;
};

// Reads with the blocking API until |n| bytes or the end; returns what arrived.
std::string ReadExactly(Connection& conn, size_t n);
// Reads until a clean end (0) or an error; returns the data and sets |end| (nullopt: clean).
std::string ReadToEnd(Connection& conn, std::optional<Error>* end);

}  // namespace sansio_tls::posix::test

#endif  // SANSIO_TLS_TESTS_POSIX_POSIX_TEST_UTIL_H_
