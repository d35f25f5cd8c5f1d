#include "tests/uv/uv_test_util.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace sansio_tls::uv_tls::test {

std::string ErrorText(const std::optional<Error>& e) {
  return e ? e->code + ": " + e->message : std::string("(none)");
}

namespace {

struct Delayed {
  uv_timer_t timer;
  std::function<void()> fn;
};

}  // namespace

void After(uv_loop_t* loop, milliseconds delay, std::function<void()> fn) {
  auto* d = new Delayed{{}, std::move(fn)};
  uv_timer_init(loop, &d->timer);
  d->timer.data = d;
  uv_timer_start(
      &d->timer,
      [](uv_timer_t* t) {
        auto* d = static_cast<Delayed*>(t->data);
        d->fn();
        uv_close(reinterpret_cast<uv_handle_t*>(t),
                 [](uv_handle_t* h) { delete static_cast<Delayed*>(h->data); });
      },
      static_cast<uint64_t>(delay.count()), 0);
}

bool RunUntil(uv_loop_t* loop, const std::function<bool()>& done, milliseconds timeout) {
  auto* tick = new uv_timer_t;
  uv_timer_init(loop, tick);
  uv_timer_start(
      tick, [](uv_timer_t*) {}, 10, 10);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok = false;
  for (;;) {
    if (done()) {
      ok = true;
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) break;
    uv_run(loop, UV_RUN_ONCE);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(tick),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  return ok;
}

void LoopTest::TearDown() {
  // Everything the test created is destroyed by now; their handles close on the loop.
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (uv_loop_alive(&loop_) && std::chrono::steady_clock::now() < deadline) {
    uv_run(&loop_, UV_RUN_NOWAIT);
  }
  EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open";
}

StreamCallbacks Recording(StreamLog* log) {
  StreamCallbacks cb;
  cb.secure = [log](Stream&, const HandshakeInfo& info) {
    log->secure = true;
    log->info = info;
  };
  cb.data = [log](Stream&, std::span<const uint8_t> bytes) {
    log->data.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  };
  cb.end = [log](Stream&, PeerEnd end) { log->end = end; };
  cb.drain = [log](Stream&) { ++log->drains; };
  cb.close = [log](Stream&, const std::optional<Error>& error) {
    log->closed = true;
    log->close_error = error;
  };
  return cb;
}

// ---- EchoServer ---------------------------------------------------------------------------

EchoServer::EchoServer(uv_loop_t* loop, std::shared_ptr<const Context> context,
                       ServerOptions options, OnSecure on_secure)
    : on_secure_(std::move(on_secure)) {
  ServerCallbacks cb;
  cb.secure_connection = [this](std::unique_ptr<Stream> stream) { Adopt(std::move(stream)); };
  cb.client_error = [this](const ClientErrorInfo& info) {
    log_.push_back("clientError:" + info.error.code);
  };
  cb.drop = [this](const DropInfo&) { log_.push_back("drop"); };
  cb.close = [this] { log_.push_back("serverClose"); };
  cb.session_event = [this](Stream& s, const Event& e) {
    if (extra_.session_event) {
      extra_.session_event(s, e);
    } else if (e.kind() == EventKind::kSniRequest) {
      s.session().AnswerSni(SniAnswer::UseDefault());
    } else if (e.kind() == EventKind::kVerifyRequested) {
      s.session().CompleteVerification(false);
    } else if (e.kind() == EventKind::kSessionLookup) {
      s.session().AnswerSessionLookup(std::nullopt);
    }
  };
  cb.key_log = [this](Stream& s, std::string_view line) {
    if (extra_.key_log) extra_.key_log(s, line);
  };
  auto server = Server::Listen(loop, std::move(context), std::move(options), std::move(cb));
  if (!server.ok()) {
    std::fprintf(stderr, "EchoServer: %s\n", server.error().message.c_str());
    std::abort();
  }
  server_ = std::move(server).value();
}

EchoServer::~EchoServer() {
  server_.reset();
  streams_.clear();
}

void EchoServer::Adopt(std::unique_ptr<Stream> stream) {
  Stream* raw = stream.get();
  StreamCallbacks cb;
  cb.data = [this](Stream& s, std::span<const uint8_t> bytes) {
    if (!s.Write(bytes)) s.Pause();  // held back until drain
    max_buffered_ = std::max(max_buffered_, s.buffered_bytes());
  };
  cb.drain = [this](Stream& s) {
    s.Resume();
    max_buffered_ = std::max(max_buffered_, s.buffered_bytes());
  };
  cb.end = [this](Stream&, PeerEnd end) { log_.push_back(std::string("end:") + PeerEndName(end)); };
  cb.close = [this](Stream& s, const std::optional<Error>& error) {
    log_.push_back("close:" + (error ? error->code : std::string("ok")));
    auto it = std::find_if(streams_.begin(), streams_.end(),
                           [&](const std::unique_ptr<Stream>& p) { return p.get() == &s; });
    if (it != streams_.end()) streams_.erase(it);  // destroyed inside its own callback
  };
  raw->set_callbacks(std::move(cb));
  streams_.push_back(std::move(stream));
  log_.push_back("secure");
  if (on_secure_) on_secure_(*raw);
}

size_t EchoServer::Count(std::string_view entry) const {
  return static_cast<size_t>(std::count(log_.begin(), log_.end(), entry));
}

size_t EchoServer::open_streams() const { return streams_.size(); }

// ---- RawClient ----------------------------------------------------------------------------

struct RawClient::Impl {
  RawClient* owner;
  uv_tcp_t tcp;
  uv_connect_t connect;
  bool closing = false;
  char buf[65536];

  void Close() {
    if (closing) return;
    closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp),
             [](uv_handle_t* h) { delete static_cast<Impl*>(h->data); });
  }
};

RawClient::RawClient(uv_loop_t* loop, uint16_t port) : impl_(new Impl{this, {}, {}}) {
  uv_tcp_init(loop, &impl_->tcp);
  impl_->tcp.data = impl_;
  impl_->connect.data = impl_;
  sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", port, &addr);
  uv_tcp_connect(&impl_->connect, &impl_->tcp, reinterpret_cast<const sockaddr*>(&addr),
                 [](uv_connect_t* req, int status) {
                   auto* impl = static_cast<Impl*>(req->data);
                   if (status < 0 || impl->closing) {
                     if (impl->owner) impl->owner->eof_ = true;
                     return;
                   }
                   if (impl->owner) impl->owner->connected_ = true;
                   uv_read_start(
                       reinterpret_cast<uv_stream_t*>(&impl->tcp),
                       [](uv_handle_t* h, size_t, uv_buf_t* b) {
                         auto* impl = static_cast<Impl*>(h->data);
                         *b = uv_buf_init(impl->buf, sizeof impl->buf);
                       },
                       [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
                         auto* impl = static_cast<Impl*>(s->data);
                         if (n > 0 && impl->owner) {
                           impl->owner->received_.append(b->base, static_cast<size_t>(n));
                         } else if (n < 0) {
                           uv_read_stop(s);
                           if (impl->owner) impl->owner->eof_ = true;
                         }
                       });
                 });
}

RawClient::~RawClient() {
  impl_->owner = nullptr;
  impl_->Close();
}

void RawClient::Send(std::string data) {
  struct W {
    uv_write_t req;
    std::string data;
  };
  auto* w = new W{{}, std::move(data)};
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  w->req.data = w;
  if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&impl_->tcp), &buf, 1,
               [](uv_write_t* req, int) { delete static_cast<W*>(req->data); }) != 0) {
    delete w;
  }
}

}  // namespace sansio_tls::uv_tls::test
