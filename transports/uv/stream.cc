#include "transports/uv/stream.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "transports/common/driver.h"
#include "transports/common/net.h"
#include "transports/uv/internal/stream_impl.h"

namespace sansio_tls::uv_tls {

namespace internal {

namespace {

using transport::ReadBuffer;

}  // namespace

Error UvError(int err, const char* what) {
  return MakeError(uv_err_name(err), std::string(what) + ": " + uv_strerror(err));
}

struct StreamImpl::Connecting {
  std::string host;
  uint16_t port = 0;
  int64_t timeout_ms = 0;
  uv_getaddrinfo_t* resolve = nullptr;  // while resolving
  std::vector<sockaddr_storage> addresses;
  size_t next = 0;
  std::optional<Error> last_error;
  bool failed_early = false;  // uv_getaddrinfo refused at once: reported by a 0 ms timer
};

StreamImpl::StreamImpl(uv_loop_t* loop, Session session, const StreamOptions& options,
                       StreamCallbacks callbacks)
    : loop_(loop),
      io_(std::move(session)),
      cb_(std::move(callbacks)),
      allow_half_open_(options.allow_half_open) {
  transport::IgnoreSigpipe();
}

StreamImpl::~StreamImpl() = default;

void StreamImpl::MaybeFree() {
  if (busy_ == 0 && owner_ == nullptr && phase_ == Phase::kClosed && pending_ == 0) delete this;
}

std::unique_ptr<Stream> StreamImpl::Adopt(uv_tcp_t* tcp, Session session,
                                          const StreamOptions& options, StreamCallbacks callbacks) {
  auto* impl = new StreamImpl(tcp->loop, std::move(session), options, std::move(callbacks));
  std::unique_ptr<Stream> stream(new Stream(impl));
  impl->owner_ = stream.get();
  uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp));
  impl->AttachTcp(tcp);
  impl->phase_ = Phase::kOpen;
  uv_tcp_nodelay(tcp, 1);
  // The first turn runs from the loop: the application holds the stream by then.
  impl->StartTimer(TimerKind::kKick, 0);
  return stream;
}

std::unique_ptr<Stream> StreamImpl::StartConnect(uv_loop_t* loop, std::string host, uint16_t port,
                                                 Session session, const ConnectOptions& options,
                                                 StreamCallbacks callbacks) {
  auto* impl = new StreamImpl(loop, std::move(session), options.stream, std::move(callbacks));
  std::unique_ptr<Stream> stream(new Stream(impl));
  impl->owner_ = stream.get();
  impl->connecting_ = std::make_unique<Connecting>();
  Connecting& c = *impl->connecting_;
  c.host = std::move(host);
  c.port = port;
  c.timeout_ms = options.connect_timeout.count();
  if (c.timeout_ms > 0) impl->StartTimer(TimerKind::kConnect, c.timeout_ms);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  auto* req = new uv_getaddrinfo_t;
  req->data = impl;
  std::string service = std::to_string(port);
  int r = uv_getaddrinfo(loop, req, OnResolved, c.host.c_str(), service.c_str(), &hints);
  if (r < 0) {
    // Reported from the loop like every other failure.
    delete req;
    c.last_error = MakeError(kErrDnsLookup, "getaddrinfo " + c.host + ": " + uv_strerror(r));
    c.failed_early = true;
    impl->StartTimer(TimerKind::kConnect, 0);
    return stream;
  }
  ++impl->pending_;
  c.resolve = req;
  return stream;
}

void StreamImpl::AttachTcp(uv_tcp_t* tcp) {
  tcp->data = this;
  tcp_ = tcp;
  ++pending_;  // its close callback
}

// ---- Handles and requests ---------------------------------------------------------------

void StreamImpl::CloseHandle(uv_handle_t* handle) {
  if (!uv_is_closing(handle)) uv_close(handle, OnHandleClosed);
}

void StreamImpl::OnHandleClosed(uv_handle_t* handle) {
  auto* self = static_cast<StreamImpl*>(handle->data);
  Guard guard(self);
  if (handle->type == UV_TCP) {
    delete reinterpret_cast<uv_tcp_t*>(handle);
  } else {
    delete reinterpret_cast<uv_timer_t*>(handle);
  }
  --self->pending_;
  self->AfterPending();
}

void StreamImpl::AfterPending() {
  if (phase_ != Phase::kClosing || pending_ > 0) return;
  phase_ = Phase::kClosed;
  if (server_) server_->StreamClosed(this);
  if (!close_reported_) {
    close_reported_ = true;
    std::optional<Error> error;
    if (close_error_) error = std::move(*close_error_);
    Invoke(&StreamCallbacks::close, error);
  }
}

void StreamImpl::StartTimer(TimerKind kind, int64_t ms) {
  if (!timer_) {
    timer_ = new uv_timer_t;
    uv_timer_init(loop_, timer_);
    timer_->data = this;
    ++pending_;
  }
  timer_kind_ = kind;
  uv_timer_start(timer_, OnTimer, static_cast<uint64_t>(std::max<int64_t>(ms, 0)), 0);
}

void StreamImpl::StopTimer() {
  if (timer_) {
    uv_timer_stop(timer_);
    CloseHandle(reinterpret_cast<uv_handle_t*>(timer_));
    timer_ = nullptr;
  }
  timer_kind_ = TimerKind::kNone;
  armed_.reset();
}

void StreamImpl::Rearm() {
  if (timer_kind_ != TimerKind::kNone && timer_kind_ != TimerKind::kDeadline) return;
  std::optional<Timestamp> next = io_.next_deadline();
  if (!next) {  // no deadline: no timer handle either (an idle stream holds none)
    if (timer_) StopTimer();
    return;
  }
  if (next == armed_) return;
  StartTimer(TimerKind::kDeadline, (*next - transport::WallNow()).count());
  armed_ = next;
}

void StreamImpl::OnTimer(uv_timer_t* timer) {
  auto* self = static_cast<StreamImpl*>(timer->data);
  Guard guard(self);
  switch (self->timer_kind_) {
    case TimerKind::kKick:
      if (self->phase_ != Phase::kOpen) return;
      self->timer_kind_ = TimerKind::kNone;
      self->Pump();  // arms the session's deadline
      return;
    case TimerKind::kConnect: {
      Connecting* c = self->connecting_.get();
      if (c && c->failed_early) {  // an early failure, reported from the loop
        self->CloseNow(c->last_error);
        return;
      }
      self->CloseNow(MakeError("ETIMEDOUT", "connect to " + (c ? c->host : std::string()) +
                                                " timed out after " +
                                                std::to_string(c ? c->timeout_ms : 0) + " ms"));
      return;
    }
    case TimerKind::kDeadline:
      self->armed_.reset();
      self->io_.OnTimer(transport::WallNow());
      // A close grace that ran out closes at once (ERR_TLS_SHUTDOWN_TIMEOUT), without
      // reporting the end it
      // did not see; a handshake past its bound fails the session, which the pump closes.
      if (self->io_.end_timed_out()) {
        self->CloseNow(self->io_.CloseError());
      } else {
        self->Pump();
      }
      return;
    case TimerKind::kNone:
      return;
  }
}

// ---- Connect ------------------------------------------------------------------------------

void StreamImpl::OnResolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* self = static_cast<StreamImpl*>(req->data);
  Guard guard(self);
  delete req;
  --self->pending_;
  Connecting* c = self->connecting_.get();
  if (c) c->resolve = nullptr;
  if (self->phase_ != Phase::kConnecting || !c) {
    if (res) uv_freeaddrinfo(res);
    self->AfterPending();
    return;
  }
  if (status < 0) {
    if (res) uv_freeaddrinfo(res);
    self->CloseNow(MakeError(kErrDnsLookup, "getaddrinfo " + c->host + ": " + uv_strerror(status)));
    return;
  }
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
        ai->ai_addrlen > sizeof(sockaddr_storage)) {
      continue;
    }
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    c->addresses.push_back(ss);
  }
  uv_freeaddrinfo(res);
  if (c->addresses.empty()) {
    self->CloseNow(MakeError(kErrDnsLookup, "getaddrinfo " + c->host + ": no address"));
    return;
  }
  self->TryNextAddress();
}

void StreamImpl::TryNextAddress() {
  Connecting& c = *connecting_;
  while (c.next < c.addresses.size()) {
    const sockaddr_storage& addr = c.addresses[c.next++];
    auto* tcp = new uv_tcp_t;
    uv_tcp_init(loop_, tcp);
    AttachTcp(tcp);
    auto* req = new uv_connect_t;
    req->data = this;
    int r = uv_tcp_connect(req, tcp, reinterpret_cast<const sockaddr*>(&addr), OnConnected);
    if (r == 0) {
      ++pending_;
      return;
    }
    delete req;
    SocketAddress a = transport::AddressOf(addr);
    c.last_error = UvError(r, ("connect " + a.address + ":" + std::to_string(a.port)).c_str());
    CloseHandle(reinterpret_cast<uv_handle_t*>(tcp));
    tcp_ = nullptr;
  }
  CloseNow(c.last_error ? c.last_error : MakeError("ECONNREFUSED", "no address to connect to"));
}

void StreamImpl::OnConnected(uv_connect_t* req, int status) {
  auto* self = static_cast<StreamImpl*>(req->data);
  Guard guard(self);
  delete req;
  --self->pending_;
  if (self->phase_ != Phase::kConnecting) {
    self->AfterPending();
    return;
  }
  if (status < 0) {
    Connecting& c = *self->connecting_;
    SocketAddress a = transport::AddressOf(c.addresses[c.next - 1]);
    c.last_error = UvError(status, ("connect " + a.address + ":" + std::to_string(a.port)).c_str());
    self->CloseHandle(reinterpret_cast<uv_handle_t*>(self->tcp_));
    self->tcp_ = nullptr;
    self->TryNextAddress();
    return;
  }
  self->Opened();
}

void StreamImpl::Opened() {
  connecting_.reset();
  phase_ = Phase::kOpen;
  uv_tcp_nodelay(tcp_, 1);
  StopTimer();  // the connect timeout; Pump arms the session's deadline
  Pump();
}

// ---- The driver loop ----------------------------------------------------------------------

template <typename F, typename... Args>
void StreamImpl::Invoke(F StreamCallbacks::*member, Args&&... args) {
  if (!owner_ || !(cb_.*member)) return;
  ++in_callback_;
  // cb_ stays in place while the callback runs: set_callbacks() is deferred and a destroyed
  // Stream only detaches.
  (cb_.*member)(*owner_, std::forward<Args>(args)...);
  if (--in_callback_ == 0) ApplyPendingCallbacks();
}

void StreamImpl::ApplyPendingCallbacks() {
  if (!next_cb_) return;
  cb_ = std::move(*next_cb_);
  next_cb_.reset();
}

void StreamImpl::SetCallbacks(StreamCallbacks callbacks) {
  if (in_callback_ > 0) {
    next_cb_ = std::make_unique<StreamCallbacks>(std::move(callbacks));
  } else {
    cb_ = std::move(callbacks);
  }
}

void StreamImpl::Pump() {
  if (phase_ != Phase::kOpen) return;
  if (pumping_) {  // from a callback inside this loop: one more pass
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  transport::Tick(io_.session());
  for (;;) {
    pump_again_ = false;
    bool moved = Dispatch();
    if (phase_ != Phase::kOpen) break;
    moved |= Deliver();
    if (phase_ != Phase::kOpen) break;
    moved |= FeedBacklog();
    moved |= Flush();
    if (phase_ != Phase::kOpen) break;
    MaybeShutdown();
    MaybeDrain();
    if (phase_ != Phase::kOpen) break;
    MaybeFinish();
    if (phase_ != Phase::kOpen) break;
    if (moved || pump_again_) continue;
    UpdateReading();  // a failure to start reading asks for one more pass
    if (!pump_again_) break;
  }
  pumping_ = false;
  if (phase_ == Phase::kOpen) Rearm();
}

bool StreamImpl::Dispatch() {
  bool any = false;
  while (phase_ == Phase::kOpen) {
    std::optional<Event> ev = io_.session().NextEvent();
    if (!ev) break;
    any = true;
    switch (ev->kind()) {
      case EventKind::kHandshakeDone:
        if (!secure_reported_) {
          secure_reported_ = true;
          Invoke(&StreamCallbacks::secure, ev->get<HandshakeInfo>());
        }
        break;
      case EventKind::kReadable:
      case EventKind::kPeerClosed:
      case EventKind::kPeerTruncated:
      case EventKind::kError:
        break;  // Deliver() and MaybeFinish() act on the session's state
      case EventKind::kKeyLog:
        if (cb_.key_log) {
          Invoke(&StreamCallbacks::key_log, std::string_view(ev->get<event::KeyLog>().line));
        } else if (server_ && owner_) {
          server_->KeyLog(*owner_, ev->get<event::KeyLog>().line);
        }
        break;
      default:  // pauses, kNewSession, kEarlyData
        if (cb_.session_event && owner_) {
          Invoke(&StreamCallbacks::session_event, *ev);
        } else if (!(server_ && owner_ && server_->SessionEvent(*owner_, *ev))) {
          DefaultAnswer(*ev);
        }
        break;
    }
  }
  return any;
}

void StreamImpl::DefaultAnswer(const Event& event) {
  transport::DefaultAnswer(io_.session(), event);
}

bool StreamImpl::Deliver() {
  if (!io_.session().handshake_done()) return false;
  bool any = false;
  while (phase_ == Phase::kOpen && owner_ && !paused() && io_.session().readable_bytes() > 0) {
    // Borrowed from the session: valid during the callback, Write() included (the
    // contract of Session::PeekPlaintext).
    std::span<const uint8_t> view = io_.session().PeekPlaintext();
    Invoke(&StreamCallbacks::data, view);
    io_.session().ConsumePlaintext(view.size());
    any = true;
  }
  if (phase_ == Phase::kOpen && !end_reported_ && peer_end() != PeerEnd::kOpen &&
      io_.session().readable_bytes() == 0) {
    end_reported_ = true;
    any = true;
    Invoke(&StreamCallbacks::end, peer_end());
    if (!allow_half_open_) end_requested_ = true;  // Node's allowHalfOpen=false
  }
  return any;
}

bool StreamImpl::FeedBacklog() {
  bool any = false;
  if (backlog_pos_ < backlog_.size()) {
    if (io_.session().failed()) {
      backlog_pos_ = backlog_.size();
    } else {
      size_t n =
          io_.session().Write({backlog_.data() + backlog_pos_, backlog_.size() - backlog_pos_});
      backlog_pos_ += n;
      any = n > 0;
    }
    if (backlog_pos_ == backlog_.size()) {
      std::vector<uint8_t>().swap(backlog_);
      backlog_pos_ = 0;
    }
  }
  if (end_requested_ && backlog_.empty() && !io_.session().close_sent() &&
      !io_.session().failed()) {
    io_.session().Close();  // close_notify once the handshake completed and all was written
  }
  return any;
}

bool StreamImpl::Flush() {
  bool moved = false;
  while (phase_ == Phase::kOpen && tcp_ && write_in_flight_ == 0) {
    std::span<const uint8_t> out = io_.ToSend();  // empty once sending failed
    if (out.empty()) break;
    uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(out.data())),
                               static_cast<unsigned int>(out.size()));
    int r = uv_try_write(reinterpret_cast<uv_stream_t*>(tcp_), &buf, 1);
    if (r > 0) {
      io_.Sent(static_cast<size_t>(r));
      moved = true;
      continue;
    }
    if (r == UV_EAGAIN) {
      // The kernel is full: libuv writes the borrowed bytes when it can; they stay valid
      // until ConsumeOutput() in OnWrite.
      auto* req = new uv_write_t;
      req->data = this;
      int w = uv_write(req, reinterpret_cast<uv_stream_t*>(tcp_), &buf, 1, OnWrite);
      if (w == 0) {
        ++pending_;
        write_in_flight_ = out.size();
        break;
      }
      delete req;
      r = w;
    }
    io_.SendFailed(UvError(r, "write"));
    moved = true;
  }
  return moved;
}

void StreamImpl::OnWrite(uv_write_t* req, int status) {
  auto* self = static_cast<StreamImpl*>(req->data);
  Guard guard(self);
  delete req;
  --self->pending_;
  size_t n = self->write_in_flight_;
  self->write_in_flight_ = 0;
  if (self->phase_ != Phase::kOpen) {
    self->AfterPending();
    return;
  }
  if (status < 0) {
    self->io_.SendFailed(UvError(status, "write"));
  } else {
    self->io_.Sent(n);
  }
  self->Pump();
}

void StreamImpl::MaybeShutdown() {
  if (!tcp_ || write_in_flight_ > 0 || !io_.ShouldShutdownSend()) return;
  io_.ShutdownSent();
  auto* req = new uv_shutdown_t;
  req->data = this;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(tcp_), OnShutdown) == 0) {
    ++pending_;
  } else {
    delete req;
    shutdown_done_ = true;
  }
}

void StreamImpl::OnShutdown(uv_shutdown_t* req, int status) {
  (void)status;  // a failed half-close (the peer reset) shows up on the read side
  auto* self = static_cast<StreamImpl*>(req->data);
  Guard guard(self);
  delete req;
  --self->pending_;
  self->shutdown_done_ = true;
  if (self->phase_ != Phase::kOpen) {
    self->AfterPending();
    return;
  }
  self->Pump();
}

void StreamImpl::MaybeDrain() {
  if (!need_drain_ || !backlog_.empty() || write_in_flight_ > 0 ||
      io_.session().pending_output_bytes() > 0 || !io_.session().handshake_done()) {
    return;
  }
  need_drain_ = false;
  Invoke(&StreamCallbacks::drain);
}

void StreamImpl::MaybeFinish() {
  const Session& s = io_.session();
  bool flushed = write_in_flight_ == 0 && s.pending_output_bytes() == 0;
  if (s.failed()) {
    if (flushed || io_.send_broken()) CloseNow(s.error());  // the alert went out
    return;
  }
  if (io_.send_broken()) {
    CloseNow(io_.transport_error());
    return;
  }
  // Both ways ended: the peer's end was delivered and our half-close completed.
  if (end_reported_ && shutdown_done_) CloseNow(io_.CloseError());
}

void StreamImpl::UpdateReading() {
  bool want = tcp_ && io_.ReadLimit() > 0;
  auto* stream = reinterpret_cast<uv_stream_t*>(tcp_);
  if (want && !reading_) {
    int r = uv_read_start(stream, OnAlloc, OnRead);
    if (r == 0) {
      reading_ = true;
    } else {
      io_.ReceiveFailed(UvError(r, "read"));
      pump_again_ = true;
    }
  } else if (!want && reading_) {
    uv_read_stop(stream);
    reading_ = false;
  }
}

void StreamImpl::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  // No more than the session takes now: nothing read is left over (0 makes libuv report
  // UV_ENOBUFS, which OnRead ignores; reading stops in the pump then).
  auto* self = static_cast<StreamImpl*>(handle->data);
  std::span<uint8_t> b = ReadBuffer();
  size_t n = self->phase_ == Phase::kOpen ? self->io_.ReadLimit() : 0;
  *buf = uv_buf_init(reinterpret_cast<char*>(b.data()), static_cast<unsigned int>(n));
}

void StreamImpl::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<StreamImpl*>(stream->data);
  Guard guard(self);
  if (nread == 0 || nread == UV_ENOBUFS || self->phase_ != Phase::kOpen) {
    if (nread == UV_ENOBUFS) self->Pump();  // the session is full: the pump stops reading
    return;
  }
  if (nread > 0) {
    // The read was bounded by the session's capacity: it takes all of it.
    self->io_.Received({reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)});
  } else {
    if (nread == UV_EOF) {
      self->io_.ReceivedEnd();
    } else {
      self->io_.ReceiveFailed(UvError(static_cast<int>(nread), "read"));
    }
    uv_read_stop(stream);
    self->reading_ = false;
  }
  self->Pump();
}

void StreamImpl::CloseNow(std::optional<Error> error) {
  if (phase_ == Phase::kClosing || phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosing;
  if (error) close_error_ = std::make_unique<Error>(std::move(*error));
  StopTimer();
  if (connecting_ && connecting_->resolve) {
    uv_cancel(reinterpret_cast<uv_req_t*>(connecting_->resolve));  // its callback still comes
  }
  if (tcp_) {
    if (reading_) uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
    reading_ = false;
    uv_os_fd_t fd;  // no reset that destroys our last records (transport::DrainUnread)
    if (!io_.input_ended() && !connecting_ &&
        uv_fileno(reinterpret_cast<uv_handle_t*>(tcp_), &fd) == 0) {
      transport::DrainUnread(fd);
    }
    CloseHandle(reinterpret_cast<uv_handle_t*>(tcp_));  // cancels writes, shutdown, connect
    tcp_ = nullptr;
  }
  AfterPending();
}

void StreamImpl::ForceClose(Error error) {
  if (phase_ == Phase::kOpen) {
    end_requested_ = true;
    FeedBacklog();
    Flush();  // best effort: close_notify if the socket takes it now
  }
  CloseNow(std::move(error));
}

void StreamImpl::Detach() {
  owner_ = nullptr;
  CloseNow(std::nullopt);
}

// ---- Application calls --------------------------------------------------------------------

bool StreamImpl::Write(std::span<const uint8_t> data) {
  if (phase_ == Phase::kClosing || phase_ == Phase::kClosed || end_requested_ ||
      io_.session().failed() || io_.session().close_sent()) {
    return false;
  }
  if (backlog_pos_ < backlog_.size()) {
    if (backlog_pos_ > 0) {
      backlog_.erase(backlog_.begin(), backlog_.begin() + static_cast<ptrdiff_t>(backlog_pos_));
      backlog_pos_ = 0;
    }
    backlog_.insert(backlog_.end(), data.begin(), data.end());
  } else {
    size_t n = io_.session().Write(data);
    if (n < data.size()) backlog_.assign(data.begin() + static_cast<ptrdiff_t>(n), data.end());
  }
  bool room = backlog_.empty();
  if (!room) need_drain_ = true;
  // Inside a callback of this stream Pump() only schedules another pass: send now anyway,
  // so that a Write() followed by Destroy() in the same callback is not lost.
  if (pumping_) Flush();
  Pump();
  return room;
}

void StreamImpl::End() {
  if (phase_ == Phase::kClosing || phase_ == Phase::kClosed) return;
  end_requested_ = true;
  Pump();
}

void StreamImpl::Resume() {
  paused_ = false;
  Pump();
}

PeerEnd StreamImpl::peer_end() const { return io_.peer_end(); }

std::optional<Error> StreamImpl::error() const { return io_.error(); }

SocketAddress StreamImpl::local_address() const {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (!tcp_ || uv_tcp_getsockname(tcp_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return transport::AddressOf(ss);
}

SocketAddress StreamImpl::peer_address() const {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (!tcp_ || uv_tcp_getpeername(tcp_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return transport::AddressOf(ss);
}

size_t StreamImpl::buffered_bytes() const {
  return io_.session().pending_output_bytes() + io_.session().pending_write_bytes() +
         io_.session().readable_bytes() + (backlog_.size() - backlog_pos_);
}

}  // namespace internal

// ---- Stream -------------------------------------------------------------------------------

using internal::StreamImpl;

Stream::~Stream() {
  StreamImpl::Guard guard(impl_);
  impl_->Detach();
}

void Stream::set_callbacks(StreamCallbacks callbacks) { impl_->SetCallbacks(std::move(callbacks)); }

bool Stream::Write(std::span<const uint8_t> data) {
  StreamImpl::Guard guard(impl_);
  return impl_->Write(data);
}

void Stream::End() {
  StreamImpl::Guard guard(impl_);
  impl_->End();
}

void Stream::Destroy(std::optional<Error> error) {
  StreamImpl::Guard guard(impl_);
  impl_->CloseNow(std::move(error));
}

void Stream::Pause() { impl_->Pause(); }

void Stream::Resume() {
  StreamImpl::Guard guard(impl_);
  impl_->Resume();
}

bool Stream::paused() const { return impl_->paused(); }

void Stream::Advance() {
  StreamImpl::Guard guard(impl_);
  impl_->Pump();
}

Session& Stream::session() { return impl_->session(); }
const Session& Stream::session() const { return impl_->session(); }
uv_loop_t* Stream::loop() const { return impl_->loop(); }
PeerEnd Stream::peer_end() const { return impl_->peer_end(); }
std::optional<Error> Stream::error() const { return impl_->error(); }
bool Stream::closed() const { return impl_->phase() >= StreamImpl::Phase::kClosing; }
SocketAddress Stream::local_address() const { return impl_->local_address(); }
SocketAddress Stream::peer_address() const { return impl_->peer_address(); }
uint64_t Stream::bytes_sent() const { return impl_->bytes_sent(); }
uint64_t Stream::bytes_received() const { return impl_->bytes_received(); }
size_t Stream::buffered_bytes() const { return impl_->buffered_bytes(); }

// ---- Connect and STARTTLS -----------------------------------------------------------------

Result<std::unique_ptr<Stream>> Connect(uv_loop_t* loop, const std::string& host, uint16_t port,
                                        std::shared_ptr<const Context> context,
                                        ConnectOptions options, StreamCallbacks callbacks) {
  if (!loop) return MakeError("ERR_INVALID_ARG_VALUE", "Connect: loop is null");
  if (!context || context->role() != Role::kClient) {
    return MakeError("ERR_INVALID_ARG_VALUE", "Connect needs a client context");
  }
  // The session first: a bad servername fails before any packet is sent.
  auto session = Session::Create(
      std::move(context),
      transport::WithTimeouts(transport::ClientOptions(options.session, host),
                              options.stream.handshake_timeout, options.stream.end_timeout));
  if (!session.ok()) return session.error();
  return StreamImpl::StartConnect(loop, host, port, std::move(session).value(), options,
                                  std::move(callbacks));
}

Result<std::unique_ptr<Stream>> StartTls(uv_tcp_t* tcp, std::shared_ptr<const Context> context,
                                         SessionOptions session, std::span<const uint8_t> received,
                                         StreamCallbacks callbacks, StreamOptions options) {
  if (!tcp || uv_is_closing(reinterpret_cast<uv_handle_t*>(tcp))) {
    return MakeError("ERR_INVALID_ARG_VALUE", "StartTls: no open TCP handle");
  }
  if (!context) return MakeError("ERR_INVALID_ARG_VALUE", "StartTls: context is null");
  auto s = Session::Create(
      std::move(context), transport::WithNow(transport::WithTimeouts(
                              std::move(session), options.handshake_timeout, options.end_timeout)));
  if (!s.ok()) return s.error();
  if (auto e = transport::FeedReceived(*s, received)) return *std::move(e);
  return StreamImpl::Adopt(tcp, std::move(s).value(), options, std::move(callbacks));
}

}  // namespace sansio_tls::uv_tls
