// echo_client on libuv: uv_tls::Connect on the default loop; stdin on a thread handing the
// loop one chunk at a time.
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "examples/common/cli.h"
#include "examples/common/output.h"
#include "examples/common/uv_util.h"
#include "examples/echo_client/echo_client.h"
#include "transports/common/driver.h"
#include "transports/uv/stream.h"

namespace sansio_tls::examples::echo_client {
namespace {

using uv_tls::PeerEnd;
using uv_tls::Stream;

// Stdin on a thread (it may be a file, which libuv cannot poll), handed to the loop one
// chunk at a time through a uv_async_t: the thread waits until the loop took its chunk.
class StdinReader {
 public:
  // |on_chunk| runs on the loop with each chunk, then once with an empty string at EOF.
  StdinReader(uv_loop_t* loop, std::function<void(std::string)> on_chunk)
      : on_chunk_(std::move(on_chunk)) {
    async_ = new uv_async_t;
    uv_async_init(loop, async_, [](uv_async_t* a) { static_cast<StdinReader*>(a->data)->Take(); });
    async_->data = this;
  }
  // The thread is detached: it may stay blocked in read() until the process exits.
  void Start() {
    std::thread([this] {
      char buf[16384];
      for (;;) {
        ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        std::string chunk = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
        std::unique_lock<std::mutex> lock(mu_);
        pending_ = std::move(chunk);
        has_pending_ = true;
        uv_async_send(async_);
        cv_.wait(lock, [&] { return !has_pending_ || stop_; });
        if (n <= 0 || stop_) return;
      }
    }).detach();
  }
  // Stops handing chunks; the thread returns after its current read (never deleted: it may
  // still touch this object).
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  // The loop is done with the current chunk (written, or the connection is gone).
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    has_pending_ = taken_ = false;
    cv_.notify_all();
  }

 private:
  void Take() {
    std::string chunk;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!has_pending_ || taken_ || stop_) return;  // async sends coalesce
      taken_ = true;
      chunk = std::move(pending_);
    }
    on_chunk_(std::move(chunk));
  }

  std::function<void(std::string)> on_chunk_;
  uv_async_t* async_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  bool has_pending_ = false, taken_ = false, stop_ = false;
};

}  // namespace

int RunUv(const EchoClientConfig& config) {
  uv_loop_t* loop = uv_default_loop();
  const bool json = config.json;
  bool secure = false, done = false;
  std::optional<Error> failure;
  std::unique_ptr<Stream> stream;
  uv_timer_t* ticket_timer = nullptr;
  auto ticket_deadline = std::chrono::steady_clock::now();
  // Never destroyed (its thread may outlive main's return); its async handle stays open.
  StdinReader* stdin_reader = nullptr;
  bool chunk_held = false;  // a stdin chunk is waiting for drain

  // With --session-out: end once a resumable session arrived, the peer ended, or the wait
  // passed.
  std::function<void()> end_after_ticket = [&] {
    bool ready = !stream || stream->session().saved_session() ||
                 stream->peer_end() != PeerEnd::kOpen ||
                 std::chrono::steady_clock::now() >= ticket_deadline;
    if (ready) {
      if (ticket_timer) {
        CloseAndDelete(ticket_timer);
        ticket_timer = nullptr;
      }
      if (stream) stream->End();
    }
  };
  auto on_chunk = [&](std::string chunk) {
    if (!stream || stream->closed()) {
      stdin_reader->Release();
      return;
    }
    if (chunk.empty()) {  // stdin ended
      stdin_reader->Release();
      if (!config.session_out) {
        stream->End();
        return;
      }
      ticket_deadline = std::chrono::steady_clock::now() + kTicketWait;
      ticket_timer = new uv_timer_t;
      uv_timer_init(loop, ticket_timer);
      ticket_timer->data = &end_after_ticket;
      uv_timer_start(
          ticket_timer, [](uv_timer_t* t) { (*static_cast<std::function<void()>*>(t->data))(); },
          20, 20);
      end_after_ticket();
      return;
    }
    if (stream->Write(chunk)) {
      stdin_reader->Release();
    } else {
      chunk_held = true;  // released on drain: one chunk in flight
    }
  };
  stdin_reader = new StdinReader(loop, on_chunk);

  uv_tls::StreamCallbacks cb;
  cb.secure = [&](Stream& s, const HandshakeInfo&) {
    secure = true;
    PrintSecureConnect(s.session(), json);
    stdin_reader->Start();
  };
  cb.data = [](Stream&, std::span<const uint8_t> bytes) {
    WriteAll(STDOUT_FILENO, {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  };
  cb.drain = [&](Stream&) {
    if (chunk_held) {
      chunk_held = false;
      stdin_reader->Release();
    }
  };
  cb.close = [&](Stream&, const std::optional<Error>& error) {
    failure = error;
    done = true;
    stdin_reader->Stop();
    if (ticket_timer) {
      CloseAndDelete(ticket_timer);
      ticket_timer = nullptr;
    }
  };
  if (config.session.trace) {
    // The client's context asks for no answers (no verify callback, no external key).
    cb.session_event = [json](Stream& s, const Event& e) {
      if (e.kind() == EventKind::kTrace) {
        PrintTrace(e.get<TraceMessage>(), Role::kClient, json);
      } else {
        transport::DefaultAnswer(s.session(), e);
      }
    };
  }
  uv_tls::ConnectOptions options;
  options.session = config.session;
  options.stream.end_timeout = config.end_timeout;
  auto connected = uv_tls::Connect(loop, config.host, config.port, config.context, options, cb);
  if (!connected.ok()) {
    PrintClientFailure(connected.error(), json);
    return kExitFailure;
  }
  stream = std::move(connected).value();
  while (!done) uv_run(loop, UV_RUN_ONCE);

  if (!secure) {
    PrintClientFailure(failure ? *failure : MakeError(errc::kInternal, "closed before secure"),
                       json);
    return kExitFailure;
  }
  return EndOfConnection(config, stream->session(), failure, stream->peer_end() == PeerEnd::kClean,
                         stream->peer_end() == PeerEnd::kTruncated);
}

}  // namespace sansio_tls::examples::echo_client
