// Helpers for the libuv transport tests: a loop fixture whose teardown asserts that every
// handle closed, bounded loop runs, contexts from an in-memory PKI, a recording echo server,
// a plain TCP client, payloads and hashes. Everything runs on the test's thread.
#ifndef SANSIO_TLS_TESTS_UV_UV_TEST_UTIL_H_
#define SANSIO_TLS_TESTS_UV_UV_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "tests/common/test_contexts.h"
#include "tests/common/test_data.h"
#include "transports/uv/server.h"
#include "transports/uv/stream.h"

namespace sansio_tls::uv_tls::test {

using std::chrono::milliseconds;

// Bound on any wait of a test (a loaded 2-core machine).
inline constexpr milliseconds kWait{20000};

using test_contexts::Contexts;  // tests/common/test_contexts.h
using test_contexts::MakeContexts;

using test_data::Payload;
using test_data::Sha256Hex;
std::string ErrorText(const std::optional<Error>& e);

// Runs |loop| until |done| holds (true) or |timeout| passed (false). A 10 ms tick keeps the
// loop from blocking while nothing else is pending.
bool RunUntil(uv_loop_t* loop, const std::function<bool()>& done, milliseconds timeout = kWait);
// Runs |fn| on |loop| after |delay| (a one-shot timer that frees itself).
void After(uv_loop_t* loop, milliseconds delay, std::function<void()> fn);

// A fixture owning a loop. TearDown runs the loop until every handle closed and expects
// uv_loop_close() to succeed: a test that leaks a handle fails.
class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }
  void TearDown() override;
  bool RunUntil(const std::function<bool()>& done, milliseconds timeout = kWait) {
    return test::RunUntil(&loop_, done, timeout);
  }
  uv_loop_t* loop() { return &loop_; }

  uv_loop_t loop_;
};

// What a stream reported, for assertions.
struct StreamLog {
  bool secure = false;
  HandshakeInfo info;
  std::string data;
  std::optional<PeerEnd> end;
  bool closed = false;
  std::optional<Error> close_error;
  size_t drains = 0;
};
// Callbacks recording into |log| (which must outlive the stream).
StreamCallbacks Recording(StreamLog* log);

// A uv Server whose connections echo everything back with backpressure (pause while a
// Write returned false, resume on drain). Logs, in order: "secure", "clientError:<code>",
// "drop", "end:<clean|truncated>", "close:<code|ok>", "serverClose".
class EchoServer {
 public:
  using OnSecure = std::function<void(Stream& stream)>;
  EchoServer(uv_loop_t* loop, std::shared_ptr<const Context> context, ServerOptions options = {},
             OnSecure on_secure = nullptr);
  ~EchoServer();

  uint16_t port() const { return server_->port(); }
  Server& server() { return *server_; }
  // Destroys the Server object (established streams stay, owned here).
  void DestroyServer() { server_.reset(); }
  const std::vector<std::string>& log() const { return log_; }
  size_t Count(std::string_view entry) const;
  size_t open_streams() const;
  // The largest Stream::buffered_bytes() seen after any callback.
  size_t max_buffered() const { return max_buffered_; }
  // Callbacks for the Server (tests add session_event/key_log before constructing).
  ServerCallbacks& extra() { return extra_; }

 private:
  void Adopt(std::unique_ptr<Stream> stream);
  std::vector<std::string> log_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::unique_ptr<Server> server_;
  ServerCallbacks extra_;
  OnSecure on_secure_;
  size_t max_buffered_ = 0;
};

// A plain TCP client (no TLS) recording what it receives and when the server closed.
class RawClient {
 public:
  RawClient(uv_loop_t* loop, uint16_t port);
  ~RawClient();
  bool connected() const { return connected_; }
  bool closed_by_peer() const { return eof_; }  // EOF or reset
  const std::string& received() const { return received_; }
  void Send(std::string data);

 private:
  struct Impl;
  Impl* impl_;  // frees itself in its close callback
  bool connected_ = false, eof_ = false;
  std::string received_;
};

}  // namespace sansio_tls::uv_tls::test

#endif  // SANSIO_TLS_TESTS_UV_UV_TEST_UTIL_H_
