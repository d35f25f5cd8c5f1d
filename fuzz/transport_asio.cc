// The Asio transport under the transport fuzz target: asio_tls::Stream over a fake next
// layer (an AsyncReadStream + AsyncWriteStream whose operations complete as Wire and the
// fault script say: stalls, short transfers, connection_reset, broken_pipe, eof), with an
// echo application written the way an Asio user writes one (handshake, a read loop, one
// write at a time, async_shutdown once the peer ended). Asio absorbs EINTR and EAGAIN
// itself, so the fault script's EINTR and EAGAIN become stalls: the operation completes on
// a later turn.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "fuzz/transport_harness.h"
#include "fuzz/transport_targets.h"
#include "transports/asio/stream.h"

namespace sansio_tls::fuzz {
namespace {

// A move-only completion handler of signature void(std::error_code, size_t).
class IoHandler {
 public:
  IoHandler() = default;
  template <typename H>
  explicit IoHandler(H&& h) : impl_(new Impl<std::decay_t<H>>(std::forward<H>(h))) {}
  explicit operator bool() const { return impl_ != nullptr; }
  void operator()(std::error_code ec, size_t n) {
    std::unique_ptr<Base> impl = std::move(impl_);
    impl->Call(ec, n);
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void Call(std::error_code ec, size_t n) = 0;
  };
  template <typename H>
  struct Impl : Base {
    explicit Impl(H&& h) : handler(std::move(h)) {}
    void Call(std::error_code ec, size_t n) override { std::move(handler)(ec, n); }
    H handler;
  };
  std::unique_ptr<Base> impl_;
};

// The fake network stack under the next layer: at most one read and one write in flight.
struct FakeNet {
  asio::io_context* io = nullptr;
  Wire* wire = nullptr;
  Faults* faults = nullptr;
  struct Op {
    asio::mutable_buffer read;  // reads
    asio::const_buffer write;   // writes
    IoHandler handler;
  };
  std::optional<Op> read, write;
  int outstanding = 0;  // started operations whose handler has not run
  int closes = 0;
  bool reset_reported = false;

  void Complete(Op op, std::error_code ec, size_t n) {
    asio::post(*io, [h = std::move(op.handler), ec, n, this]() mutable {
      --outstanding;
      h(ec, n);
    });
  }
  // Completes what the wire allows. A stall from the fault script counts as progress.
  bool Pump() {
    bool moved = false;
    if (read) moved |= PumpRead();
    if (write) moved |= PumpWrite();
    return moved;
  }
  bool PumpRead() {
    Wire& w = *wire;
    if (w.so_error) {
      w.so_error = 0;
      Complete(*std::exchange(read, std::nullopt), asio::error::connection_reset, 0);
      return true;
    }
    if (w.to_server.empty() && !w.reset && !w.client_fin) return false;
    Fault f = faults->Next();
    if (f.kind == FaultKind::kInterrupt || f.kind == FaultKind::kWouldBlock) return true;
    if (!w.to_server.empty()) {
      size_t n = std::min(read->read.size(), w.to_server.size());
      if (f.kind == FaultKind::kShort) n = std::min(n, f.cap);
      std::copy_n(w.to_server.begin(), n, static_cast<uint8_t*>(read->read.data()));
      w.to_server.erase(w.to_server.begin(), w.to_server.begin() + n);
      Complete(*std::exchange(read, std::nullopt), {}, n);
    } else if (w.reset && !reset_reported) {
      reset_reported = true;
      Complete(*std::exchange(read, std::nullopt), asio::error::connection_reset, 0);
    } else {
      Complete(*std::exchange(read, std::nullopt), asio::error::eof, 0);
    }
    return true;
  }
  bool PumpWrite() {
    Wire& w = *wire;
    std::error_code ec;
    if (w.so_error) {
      w.so_error = 0;
      ec = asio::error::connection_reset;
    } else if (w.reset) {
      ec = asio::error::connection_reset;
    } else if (w.client_gone) {
      ec = asio::error::broken_pipe;
    }
    if (ec) {
      Complete(*std::exchange(write, std::nullopt), ec, 0);
      return true;
    }
    if (w.send_room() == 0) return false;
    Fault f = faults->Next();
    if (f.kind == FaultKind::kInterrupt || f.kind == FaultKind::kWouldBlock) return true;
    size_t n = std::min(write->write.size(), w.send_room());
    if (f.kind == FaultKind::kShort) n = std::min(n, f.cap);
    const uint8_t* p = static_cast<const uint8_t*>(write->write.data());
    w.to_client.insert(w.to_client.end(), p, p + n);
    Complete(*std::exchange(write, std::nullopt), {}, n);
    return true;
  }
  // The next layer is destroyed: its operations end with operation_aborted, the socket closes.
  void Close() {
    ++closes;
    wire->server_closed = true;
    wire->server_fin = true;
    if (read) Complete(*std::exchange(read, std::nullopt), asio::error::operation_aborted, 0);
    if (write) Complete(*std::exchange(write, std::nullopt), asio::error::operation_aborted, 0);
  }
};

// The next layer: AsyncReadStream + AsyncWriteStream over FakeNet. Only the first buffer of
// a sequence is used (the stream passes one).
class FakeSocket {
 public:
  using executor_type = asio::io_context::executor_type;
  explicit FakeSocket(FakeNet& net) : net_(&net) {}
  FakeSocket(FakeSocket&& other) noexcept : net_(std::exchange(other.net_, nullptr)) {}
  FakeSocket& operator=(FakeSocket&&) = delete;
  ~FakeSocket() {
    if (net_) net_->Close();
  }
  executor_type get_executor() { return net_->io->get_executor(); }

  template <typename MutableBufferSequence, typename Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, size_t)>(
        [net = net_](auto handler, asio::mutable_buffer b) {
          FUZZ_CHECK(!net->read, "two reads in flight on the next layer");
          ++net->outstanding;
          net->read = FakeNet::Op{b, {}, IoHandler(std::move(handler))};
        },
        token, asio::mutable_buffer(*asio::buffer_sequence_begin(buffers)));
  }
  template <typename ConstBufferSequence, typename Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, size_t)>(
        [net = net_](auto handler, asio::const_buffer b) {
          FUZZ_CHECK(!net->write, "two writes in flight on the next layer");
          ++net->outstanding;
          net->write = FakeNet::Op{{}, b, IoHandler(std::move(handler))};
        },
        token, asio::const_buffer(*asio::buffer_sequence_begin(buffers)));
  }

 private:
  FakeNet* net_;
};

using FakeStream = asio_tls::Stream<FakeSocket>;

class AsioTarget : public Target {
 public:
  AsioTarget(Session session, Wire& wire, Faults& faults, SniAnswer sni) : sni_(std::move(sni)) {
    net_.io = &io_;
    net_.wire = &wire;
    net_.faults = &faults;
    stream_.emplace(FakeSocket(net_), std::move(session));
    stream_->set_event_handler([this](FakeStream& s, const Event& e) {
      if (e.kind() == EventKind::kSniRequest) {
        FUZZ_CHECK(!sni_requested_, "two SNI requests");
        sni_requested_ = true;
        s.answer_sni(sni_);
      }
    });
    ++ops_;
    stream_->async_handshake([this](std::error_code ec) {
      if (Closed(ec)) return;
      if (ec) return Fail(ec);
      handshake_done_ = true;
      Read();
    });
  }
  ~AsioTarget() override {
    stream_.reset();
    io_.restart();
    io_.poll();
    FUZZ_CHECK(ops_ == 0 && net_.outstanding == 0,
               "operations left without completion: %d stream, %d next layer", ops_,
               net_.outstanding);
    FUZZ_CHECK(net_.closes == 1, "the next layer was closed %d times", net_.closes);
  }

  bool Turn() override {
    bool moved = net_.Pump();
    io_.restart();
    moved |= io_.poll() > 0;
    if (stream_ && !done_ && !reading_ && !read_done_ && handshake_done_ && echo.wants_read()) {
      Read();  // the application reads again (it held, or its backlog drained)
      moved = true;
    }
    if (stream_ && done_) {
      stream_.reset();  // the application closes the stream once it ended
      moved = true;
    }
    io_.restart();
    moved |= io_.poll() > 0;
    return moved;
  }
  bool ended() const override { return !stream_; }
  bool ended_clean() const override { return clean_; }
  void SocketErrorNotified() override {}  // the next read or write reports it
  void AppEnd() override {
    if (!stream_ || app_ended_) return;
    app_ended_ = true;
    echo.pending.clear();  // an application that ends drops what it had not written
    if (!writing_) Shutdown();
  }
  size_t buffered_bytes() const override {
    if (!stream_) return echo.pending.size();
    const Session& s = stream_->session();
    return s.pending_output_bytes() + s.pending_write_bytes() + s.readable_bytes() +
           echo.pending.size() + inflight_.size() + transport::kReadChunk;
  }
  bool handshake_done() const override { return handshake_done_; }
  std::string State() const override {
    if (!stream_) return "closed";
    const Session& s = stream_->session();
    char line[512];
    std::snprintf(line, sizeof line,
                  "ops %d (read %d write %d shutdown %d), next layer: read %d (%zu B) write %d; "
                  "session: hs %d failed %d wants_input %d readable %zu out %zu close_sent %d "
                  "peer_closed %d; echo pending %zu hold %d done %d",
                  ops_, reading_, writing_, shutdown_started_, net_.read.has_value(),
                  net_.read ? net_.read->read.size() : 0, net_.write.has_value(),
                  s.handshake_done(), s.failed(), s.wants_input(), s.readable_bytes(),
                  s.pending_output_bytes(), s.close_sent(), s.peer_closed(), echo.pending.size(),
                  echo.hold, done_);
    return line;
  }

 private:
  // Every handler first checks that the stream is still there: after the application closed
  // it, its outstanding operations complete with operation_aborted and touch nothing.
  bool Closed(std::error_code ec) {
    --ops_;
    if (stream_) return false;
    FUZZ_CHECK(ec == asio::error::operation_aborted, "a closed stream completed with %s",
               ec.message().c_str());
    return true;
  }
  void Read() {
    reading_ = true;
    ++ops_;
    stream_->async_read_some(asio::buffer(buf_), [this](std::error_code ec, size_t n) {
      if (Closed(ec)) return;
      reading_ = false;
      FUZZ_CHECK(!read_done_, "a read completed after the end was reported");
      echo.Received({buf_, n});
      if (!app_ended_) echo.pending.append(reinterpret_cast<char*>(buf_), n);
      if (ec == asio::error::eof) {
        read_done_ = true;
        Write();  // what is left of the echo goes first, then our close_notify
        if (!writing_) AppEnd();
        return;
      }
      if (ec) return Fail(ec);
      FUZZ_CHECK(n > 0, "an empty read without an error");
      Write();
      if (echo.wants_read()) Read();
    });
  }
  // One write at a time, from its own buffer: the echo backlog grows while it is in flight.
  void Write() {
    if (writing_ || echo.pending.empty() || app_ended_) return;
    writing_ = true;
    size_t n = std::min<size_t>(echo.pending.size(), 16384);
    inflight_.assign(echo.pending, 0, n);
    echo.pending.erase(0, n);
    ++ops_;
    stream_->async_write_some(asio::buffer(inflight_), [this](std::error_code ec, size_t n) {
      if (Closed(ec)) return;
      writing_ = false;
      FUZZ_CHECK(n <= inflight_.size(), "wrote more than asked");
      // What the stream did not take goes back to the front of the backlog.
      if (!app_ended_) echo.pending.insert(0, inflight_, n);
      inflight_.clear();
      if (ec) return Fail(ec);
      Write();
      if (!writing_ && app_ended_ && !shutdown_started_) Shutdown();
      if (!writing_ && read_done_ && !app_ended_) AppEnd();
    });
  }
  void Shutdown() {
    shutdown_started_ = true;
    ++ops_;
    stream_->async_shutdown(std::chrono::seconds(30), [this](std::error_code ec) {
      if (Closed(ec)) return;
      if (ec) return Fail(ec);
      clean_ = !failed_;  // both close_notify crossed, every echo was written before ours
      done_ = true;
    });
  }
  // An operation failed: the application closes the stream (on the next turn).
  void Fail(std::error_code ec) {
    FUZZ_CHECK(ec != asio::error::operation_aborted, "an operation was aborted while open");
    failed_ = true;
    clean_ = false;
    done_ = true;
  }

  asio::io_context io_;
  FakeNet net_;
  SniAnswer sni_;
  std::optional<FakeStream> stream_;
  uint8_t buf_[8192];
  std::string inflight_;
  int ops_ = 0;
  bool reading_ = false, writing_ = false, read_done_ = false;
  bool handshake_done_ = false, app_ended_ = false, shutdown_started_ = false;
  bool done_ = false, failed_ = false, clean_ = false, sni_requested_ = false;
};

}  // namespace

void RunAsio(Input& script, Faults& faults, RunSetup setup) {
  auto server = Session::Create(setup.server_context, setup.server_options);
  FUZZ_CHECK(server.ok(), "Session::Create failed");
  Wire wire;
  Peer peer(std::move(*setup.client), wire);
  AsioTarget target(std::move(server).value(), wire, faults, std::move(setup.sni_answer));
  RunScript(script, faults, target, peer, wire, setup.compatible);
}

}  // namespace sansio_tls::fuzz
