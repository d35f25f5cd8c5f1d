// The libuv transport under the transport fuzz target: uv_tls::Stream on a real socket in a
// real loop, with the other end driven by the harness. libuv owns the
// system calls (it retries EINTR and waits out EAGAIN itself), so here the fault script
// shapes what the stream sees through the kernel: short transfers (the peer writes in
// pieces of the script's sizes; small socket buffers), stalls (a turn in which the network
// moves nothing), backpressure (the peer stops reading: Wire::window), and the peer's FIN,
// reset (closing with unread input) and close.
#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "fuzz/transport_harness.h"
#include "fuzz/transport_targets.h"
#include "transports/uv/stream.h"

namespace sansio_tls::fuzz {
namespace {

// A connected pair of stream sockets: [server end, peer end]. A Unix socket pair rather
// than loopback TCP: the kernel delivers in the sender's call, so a turn that moves nothing
// really means that nothing can move. A reset is the peer closing with unread input (the
// server then reads ECONNRESET), as with TCP. Small buffers make backpressure and short
// transfers come quickly; the peer end is non-blocking.
std::pair<int, int> SocketPair() {
  int fds[2];
  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0, "socketpair: %s",
             std::strerror(errno));
  int small = 8192;
  for (int fd : fds) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  }
  fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
  return {fds[0], fds[1]};
}

bool FdOpen(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

class UvTarget : public Target {
 public:
  UvTarget(RunSetup& setup, Wire& wire, Faults& faults) : wire_(wire), faults_(faults) {
    FUZZ_CHECK(uv_loop_init(&loop_) == 0, "uv_loop_init");
    auto [server_fd, peer_fd] = SocketPair();
    server_fd_ = server_fd;
    peer_fd_ = peer_fd;
    auto* tcp = new uv_tcp_t;
    FUZZ_CHECK(uv_tcp_init(&loop_, tcp) == 0 && uv_tcp_open(tcp, server_fd_) == 0, "uv_tcp_open");
    sni_ = setup.sni_answer;
    uv_tls::StreamCallbacks cb;
    cb.secure = [this](uv_tls::Stream&, const HandshakeInfo&) {
      FUZZ_CHECK(!handshake_done_, "secure twice");
      handshake_done_ = true;
      ++callbacks_;
    };
    cb.data = [this](uv_tls::Stream& s, std::span<const uint8_t> bytes) {
      ++callbacks_;
      FUZZ_CHECK(!end_seen_, "data after end");
      echo.Received(bytes);
      if (app_ended_) return;
      // Node's echo: write back; when the stream is full, pause until drain.
      if (!s.Write(bytes)) {
        paused_by_write_ = true;
        s.Pause();
      }
    };
    cb.drain = [this](uv_tls::Stream& s) {
      ++callbacks_;
      paused_by_write_ = false;
      if (!echo.hold) s.Resume();
    };
    cb.end = [this](uv_tls::Stream&, uv_tls::PeerEnd end) {
      ++callbacks_;
      FUZZ_CHECK(!end_seen_ && end != uv_tls::PeerEnd::kOpen, "end twice or open");
      end_seen_ = true;
    };
    cb.session_event = [this](uv_tls::Stream& s, const Event& e) {
      ++callbacks_;
      if (e.kind() == EventKind::kSniRequest) {
        s.session().AnswerSni(sni_);
        s.Advance();
      }
    };
    cb.close = [this](uv_tls::Stream&, const std::optional<Error>& error) {
      ++callbacks_;
      ++closes_;
      FUZZ_CHECK(closes_ == 1, "close reported %d times", closes_);
      clean_ = !error.has_value();
      if (clean_) {
        FUZZ_CHECK(
            stream_->peer_end() == uv_tls::PeerEnd::kClean && stream_->session().close_sent(),
            "a clean close without close_notify both ways");
      }
      stream_.reset();  // allowed inside its own callback
    };
    auto stream =
        uv_tls::StartTls(tcp, setup.server_context, setup.server_options, {}, std::move(cb));
    FUZZ_CHECK(stream.ok(), "StartTls: %s", stream.ok() ? "" : stream.error().code.c_str());
    stream_ = std::move(stream).value();
  }
  ~UvTarget() override {
    stream_.reset();
    for (int i = 0; i < 100 && uv_run(&loop_, UV_RUN_NOWAIT) != 0; ++i) {
    }
    FUZZ_CHECK(uv_loop_close(&loop_) == 0, "handles left open in the loop");
    FUZZ_CHECK(!FdOpen(server_fd_), "the server's socket is still open");
    if (peer_fd_ >= 0) close(peer_fd_);
  }

  bool Turn() override { return Pass(); }
  bool ended() const override { return closes_ == 1 && !stream_; }
  bool ended_clean() const override { return clean_; }
  void SocketErrorNotified() override {}  // libuv meets the reset at its next read or write
  void AppEnd() override {
    if (!stream_ || app_ended_) return;
    app_ended_ = true;
    stream_->End();
  }
  size_t buffered_bytes() const override { return stream_ ? stream_->buffered_bytes() : 0; }
  bool handshake_done() const override { return handshake_done_; }
  std::string State() const override {
    if (!stream_) return closes_ ? "closed" : "destroyed without close";
    const Session& s = stream_->session();
    char line[512];
    int inq = -1, outq = -1;
    ioctl(server_fd_, SIOCINQ, &inq);
    if (peer_fd_ >= 0) ioctl(peer_fd_, SIOCOUTQ, &outq);
    std::snprintf(line, sizeof line,
                  "kernel: server in %d, peer out %d; wire: to_server %zu fin %d reset %d gone %d "
                  "to_client %zu room %zu; stream "
                  "closed %d paused %d; session: hs %d failed %d wants_input %d readable %zu "
                  "out %zu close_sent %d peer_closed %d; end seen %d",
                  inq, outq, wire_.to_server.size(), wire_.client_fin, wire_.reset,
                  wire_.client_gone, wire_.to_client.size(), wire_.send_room(), stream_->closed(),
                  stream_->paused(), s.handshake_done(), s.failed(), s.wants_input(),
                  s.readable_bytes(), s.pending_output_bytes(), s.close_sent(), s.peer_closed(),
                  end_seen_);
    return line;
  }

 private:
  // One turn: the network moves, the loop runs what is ready, a closed socket is noticed.
  bool Pass() {
    bool moved = Network();
    uint64_t before = callbacks_;
    uint64_t io = stream_ ? stream_->bytes_sent() + stream_->bytes_received() : 0;
    uv_run(&loop_, UV_RUN_NOWAIT);
    moved |= callbacks_ != before;
    if (stream_) moved |= stream_->bytes_sent() + stream_->bytes_received() != io;
    if (!stream_ && closes_ == 1 && !wire_.server_closed) {
      // The handle closes in the loop: the socket is gone once its close callback ran.
      for (int i = 0; i < 4; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
      if (!FdOpen(server_fd_)) {
        wire_.server_closed = true;
        moved = true;
      }
    }
    moved |= Network();
    return moved;
  }
  // The peer's socket: sends what the client flushed (in the script's pieces), reads what
  // the server sent while the client has room, and carries out FIN, reset and close.
  bool Network() {
    bool moved = false;
    if (echo.hold != paused_by_hold_ && stream_ && !stream_->closed()) {
      paused_by_hold_ = echo.hold;
      if (echo.hold) {
        stream_->Pause();
      } else if (!paused_by_write_) {
        stream_->Resume();
      }
      moved = true;
    }
    if (peer_fd_ < 0) return moved;
    if (wire_.reset && !peer_reset_) {
      // Unread input at close: the server's next read is ECONNRESET.
      uint8_t unread = 0;
      send(server_fd_, &unread, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      close(peer_fd_);
      peer_fd_ = -1;
      peer_reset_ = true;
      wire_.to_server.clear();
      return true;
    }
    while (!wire_.to_server.empty()) {
      Fault f = faults_.Next();
      if (f.kind == FaultKind::kInterrupt || f.kind == FaultKind::kWouldBlock) {
        moved = true;  // a stall: this turn sends nothing more
        break;
      }
      uint8_t chunk[16384];
      size_t n = std::min(wire_.to_server.size(), sizeof chunk);
      if (f.kind == FaultKind::kShort) n = std::min(n, f.cap);
      std::copy_n(wire_.to_server.begin(), n, chunk);
      ssize_t w = send(peer_fd_, chunk, n, MSG_NOSIGNAL);
      if (w <= 0) break;  // EAGAIN (the server is not reading), or the server is gone
      wire_.to_server.erase(wire_.to_server.begin(), wire_.to_server.begin() + w);
      moved = true;
    }
    if (wire_.to_server.empty() && wire_.client_fin && !peer_fin_) {
      peer_fin_ = true;
      if (wire_.client_gone) {
        close(peer_fd_);
        peer_fd_ = -1;
        return true;
      }
      shutdown(peer_fd_, SHUT_WR);
      moved = true;
    }
    while (!wire_.server_fin && wire_.send_room() > 0) {
      uint8_t buf[16384];
      ssize_t r = recv(peer_fd_, buf, std::min(sizeof buf, wire_.send_room()), 0);
      if (r > 0) {
        wire_.to_client.insert(wire_.to_client.end(), buf, buf + r);
        moved = true;
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        wire_.server_fin = true;
        moved = true;
      } else {
        break;
      }
    }
    return moved;
  }

  Wire& wire_;
  Faults& faults_;
  uv_loop_t loop_;
  int server_fd_ = -1, peer_fd_ = -1;
  SniAnswer sni_;
  std::unique_ptr<uv_tls::Stream> stream_;
  uint64_t callbacks_ = 0;
  int closes_ = 0;
  bool handshake_done_ = false, end_seen_ = false, app_ended_ = false, clean_ = false;
  bool peer_reset_ = false, peer_fin_ = false, paused_by_hold_ = false, paused_by_write_ = false;
};

}  // namespace

void RunUv(Input& script, Faults& faults, RunSetup setup) {
  Wire wire;
  Peer peer(std::move(*setup.client), wire);
  UvTarget target(setup, wire, faults);
  RunScript(script, faults, target, peer, wire, setup.compatible);
}

}  // namespace sansio_tls::fuzz
