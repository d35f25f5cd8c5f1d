// echo_client on Asio: the connection on an io_context, stdin on a thread handing it one
// chunk at a time.
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "examples/common/asio_util.h"
#include "examples/common/cli.h"
#include "examples/common/output.h"
#include "examples/echo_client/echo_client.h"
#include "transports/asio/connect.h"
#include "transports/asio/error.h"

namespace sansio_tls::examples::echo_client {
namespace {

using asio_tls::TlsStream;
using namespace std::chrono_literals;

// The connection once established: one reader (the connection to stdout) and one sender
// (stdin chunks, then our close_notify) at a time, on the io_context's thread.
class ClientConnection {
 public:
  ClientConnection(TlsStream tls, std::chrono::milliseconds end_timeout)
      : tls_(std::move(tls)), end_timeout_(end_timeout) {}

  TlsStream& tls() { return tls_; }
  const std::optional<Error>& failure() const { return failure_; }

  void StartReading() {
    tls_.async_read_some(asio::buffer(buf_), [this](std::error_code ec, size_t n) {
      if (n > 0) WriteAll(STDOUT_FILENO, {buf_, n});
      if (!ec) return StartReading();
      if (ec == asio::error::eof) return End();  // like Node's default allowHalfOpen=false
      if (ec == asio_tls::errc::truncated) {
        return Fail(
            MakeError(transport::kErrTruncated, "the server's stream ended without close_notify"));
      }
      Fail(ErrorOf(&tls_, ec));
    });
  }

  // Queues |chunk|; |done| runs once it was written (or failed).
  void Send(std::string chunk, std::function<void()> done) {
    queue_.push_back({std::move(chunk), std::move(done)});
    Pump();
  }
  // Sends close_notify after what is queued, and waits (bounded) for the server's.
  void End() {
    end_requested_ = true;
    Pump();
  }
  // End, once a resumable session arrived, the peer ended, or |wait| passed.
  void EndAfterTicket(std::chrono::milliseconds wait) {
    if (!timer_) {
      timer_.emplace(tls_.get_executor());
      ticket_deadline_ = std::chrono::steady_clock::now() + wait;
    }
    if (tls_.session().saved_session() || tls_.peer_end() != asio_tls::PeerEnd::kOpen || closed_ ||
        std::chrono::steady_clock::now() >= ticket_deadline_) {
      return End();
    }
    timer_->expires_after(20ms);
    timer_->async_wait([this, wait](std::error_code) { EndAfterTicket(wait); });
  }

 private:
  struct Chunk {
    std::string data;
    std::function<void()> done;
  };

  void Pump() {
    if (sending_) return;
    if (!queue_.empty()) {
      sending_ = true;
      asio::async_write(tls_, asio::buffer(queue_.front().data),
                        [this](std::error_code ec, size_t) {
                          sending_ = false;
                          Chunk c = std::move(queue_.front());
                          queue_.pop_front();
                          if (ec && !closed_) Fail(ErrorOf(&tls_, ec));
                          c.done();
                          Pump();
                        });
      return;
    }
    if (!end_requested_ || end_started_ || closed_) return;
    end_started_ = true;
    sending_ = true;
    tls_.async_shutdown(end_timeout_, [this](std::error_code ec) {
      sending_ = false;
      if (ec == asio_tls::errc::shutdown_timeout) {
        Fail(MakeError(errc::kShutdownTimeout, "the server did not close within the end timeout"));
      } else if (ec) {
        Fail(ErrorOf(&tls_, ec));
      }
      Close();
    });
  }

  void Fail(Error e) {
    if (!failure_) failure_ = std::move(e);
    Close();
  }
  void Close() {
    if (closed_) return;
    closed_ = true;
    std::error_code ignored;
    tls_.next_layer().close(ignored);  // outstanding operations end (aborted)
  }

  TlsStream tls_;
  std::chrono::milliseconds end_timeout_;
  char buf_[16384];
  std::deque<Chunk> queue_;
  std::optional<asio::steady_timer> timer_;
  std::chrono::steady_clock::time_point ticket_deadline_;
  bool sending_ = false, end_requested_ = false, end_started_ = false, closed_ = false;
  std::optional<Error> failure_;
};

}  // namespace

int RunAsio(const EchoClientConfig& config) {
  // Never destroyed: the stdin thread may still be blocked in read() when main returns, and
  // the process exits with it.
  auto* ioc = new asio::io_context(1);
  asio_tls::ConnectOptions options;
  options.session = config.session;
  options.complete_handshake = false;  // run below, once the trace's handler is in place
  std::error_code connect_ec;
  std::optional<TlsStream> connected;
  asio_tls::AsyncConnect(ioc->get_executor(), config.host, config.port, config.context, options,
                         [&](std::error_code ec, TlsStream tls) {
                           connect_ec = ec;
                           connected.emplace(std::move(tls));
                         });
  ioc->run();
  ioc->restart();
  if (!connect_ec && config.session.trace) {
    // The client's context asks for no answers (no verify callback, no external key).
    connected->set_event_handler([json = config.json](TlsStream&, const Event& e) {
      if (e.kind() == EventKind::kTrace) PrintTrace(e.get<TraceMessage>(), Role::kClient, json);
    });
  }
  if (!connect_ec) {
    connected->async_handshake(options.handshake_timeout,
                               [&](std::error_code ec) { connect_ec = ec; });
    ioc->run();
    ioc->restart();
  }
  if (connect_ec) {
    PrintClientFailure(ErrorOf(connected ? &*connected : nullptr, connect_ec), config.json);
    return kExitFailure;
  }
  PrintSecureConnect(connected->session(), config.json);

  auto conn = std::make_shared<ClientConnection>(std::move(*connected), config.end_timeout);
  conn->StartReading();
  // stdin on a thread (it may be a file, which epoll cannot watch); one chunk in flight.
  const bool want_ticket = config.session_out.has_value();
  std::thread([ioc, conn, want_ticket] {
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        asio::post(*ioc, [conn, want_ticket] {
          if (want_ticket) {
            conn->EndAfterTicket(kTicketWait);
          } else {
            conn->End();
          }
        });
        return;
      }
      std::mutex mu;
      std::condition_variable cv;
      bool written = false;
      asio::post(*ioc, [&, conn, chunk = std::string(buf, static_cast<size_t>(n))]() mutable {
        conn->Send(std::move(chunk), [&] {
          std::lock_guard<std::mutex> lock(mu);
          written = true;
          cv.notify_one();
        });
      });
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return written; });
    }
  }).detach();
  // Until the reader and the sender are both done (the socket closed or both ends closed).
  ioc->run();

  TlsStream& tls = conn->tls();
  return EndOfConnection(config, tls.session(), conn->failure(),
                         tls.peer_end() == asio_tls::PeerEnd::kClean,
                         tls.peer_end() == asio_tls::PeerEnd::kTruncated);
}

}  // namespace sansio_tls::examples::echo_client
