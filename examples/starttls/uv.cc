// starttls on libuv: the same conversation as conversation.cc, driven by libuv callbacks on
// one loop; uv_tls::StartTls() upgrades the TCP handle.
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "examples/common/cli.h"
#include "examples/common/uv_util.h"
#include "examples/starttls/starttls.h"
#include "transports/uv/stream.h"

namespace sansio_tls::examples::starttls {
namespace {

using uv_tls::PeerEnd;
using uv_tls::Stream;
using uv_tls::StreamCallbacks;

// Deletes |p| from the loop, outside the callback that decided it.
template <typename T>
void DeleteLater(uv_loop_t* loop, T* p) {
  auto* t = new uv_timer_t;
  uv_timer_init(loop, t);
  t->data = p;
  uv_timer_start(
      t,
      [](uv_timer_t* timer) {
        delete static_cast<T*>(timer->data);
        CloseAndDelete(timer);
      },
      0, 0);
}

// Writes a plaintext line on a TCP handle (the bytes are copied; freed when written).
void SendPlain(uv_tcp_t* tcp, const std::string& line) {
  struct Req {
    uv_write_t req;
    std::string data;
  };
  auto* r = new Req{{}, line + "\r\n"};
  r->req.data = r;
  uv_buf_t buf = uv_buf_init(r->data.data(), static_cast<unsigned>(r->data.size()));
  if (uv_write(&r->req, reinterpret_cast<uv_stream_t*>(tcp), &buf, 1,
               [](uv_write_t* req, int) { delete static_cast<Req*>(req->data); }) != 0) {
    delete r;
  }
}

// Splits "\r\n"-terminated lines out of what arrives.
struct Lines {
  std::string buffered;
  // Appends |bytes| and calls |on_line| with each complete line while it returns true.
  template <typename F>
  void Feed(std::string_view bytes, F&& on_line) {
    buffered.append(bytes);
    for (size_t eol; (eol = buffered.find("\r\n")) != std::string::npos;) {
      std::string line = buffered.substr(0, eol);
      buffered.erase(0, eol + 2);
      if (!on_line(line)) return;
    }
  }
};

// A plaintext line reader on a TCP handle (allocated with new). |on_line| gets each line;
// Handover() stops reading and returns the handle plus what was read past the last line
// (the first TLS bytes), for uv_tls::StartTls().
class PlainLines {
 public:
  PlainLines(uv_tcp_t* tcp, std::function<void(PlainLines&, const std::string&)> on_line,
             std::function<void(PlainLines&)> on_end)
      : tcp_(tcp), on_line_(std::move(on_line)), on_end_(std::move(on_end)) {
    tcp_->data = this;
  }
  void Start() {
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(tcp_),
        [](uv_handle_t* h, size_t, uv_buf_t* b) {
          auto* self = static_cast<PlainLines*>(h->data);
          *b = uv_buf_init(self->buf_, sizeof self->buf_);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
          auto* self = static_cast<PlainLines*>(s->data);
          if (n < 0) {
            uv_read_stop(s);
            self->on_end_(*self);
            return;
          }
          self->lines_.Feed({b->base, static_cast<size_t>(n)}, [self](const std::string& l) {
            self->on_line_(*self, l);
            return !self->handed_over_;
          });
        });
  }
  uv_tcp_t* tcp() { return tcp_; }
  // Stops reading; the caller owns the handle from now on.
  std::pair<uv_tcp_t*, std::string> Handover() {
    handed_over_ = true;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
    return {tcp_, std::move(lines_.buffered)};
  }

 private:
  uv_tcp_t* tcp_;
  std::function<void(PlainLines&, const std::string&)> on_line_;
  std::function<void(PlainLines&)> on_end_;
  Lines lines_;
  bool handed_over_ = false;
  char buf_[4096];
};

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string_view Text(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// One server-side conversation; deletes itself when done. |*rc| gets its exit status.
class ServeOne {
 public:
  ServeOne(uv_tcp_t* tcp, std::shared_ptr<const Context> context, int* rc)
      : context_(std::move(context)), rc_(rc) {
    plain_ = std::make_unique<PlainLines>(
        tcp, [this](PlainLines& p, const std::string& line) { OnPlainLine(p, line); },
        [this](PlainLines& p) {
          *rc_ = Fail("server: the client left before STARTTLS");
          uv_loop_t* loop = p.tcp()->loop;
          CloseAndDelete(p.tcp());
          DeleteLater(loop, this);
        });
    Say("S", kGreeting);
    SendPlain(tcp, kGreeting);
    plain_->Start();
  }

 private:
  void OnPlainLine(PlainLines& p, const std::string& line) {
    if (line != kStartTls) {
      SendPlain(p.tcp(), "500 expected STARTTLS");
      return;
    }
    Say("S", kGoAhead);
    SendPlain(p.tcp(), kGoAhead);  // queued before any TLS byte: libuv keeps the order
    auto [tcp, rest] = p.Handover();
    StreamCallbacks cb;
    cb.data = [this](Stream& s, std::span<const uint8_t> bytes) {
      lines_.Feed(Text(bytes), [&](const std::string& l) {
        Answer answer = ServerAnswer(l);
        s.Write(answer.reply + "\r\n");
        if (answer.last) s.End();  // then the client's close_notify closes the stream
        return !answer.last;
      });
    };
    cb.close = [this](Stream&, const std::optional<Error>& error) {
      *rc_ = error ? Fail("server: " + error->code + ": " + error->message) : kExitOk;
      delete this;  // destroys the stream inside its close callback: allowed
    };
    auto started = uv_tls::StartTls(tcp, context_, {}, Bytes(rest), cb);
    if (!started.ok()) {
      *rc_ = Fail("server: " + started.error().message);
      CloseAndDelete(tcp);
      return;
    }
    tls_ = std::move(started).value();
  }

  std::shared_ptr<const Context> context_;
  int* rc_;
  std::unique_ptr<PlainLines> plain_;
  std::unique_ptr<Stream> tls_;
  Lines lines_;
};

// The client side of one conversation; |*rc| and |*done| are set when it ends.
class Client {
 public:
  Client(uv_loop_t* loop, const std::string& host, uint16_t port,
         std::shared_ptr<const Context> context, int* rc, bool* done)
      : host_(host), context_(std::move(context)), rc_(rc), done_(done) {
    auto* tcp = new uv_tcp_t;
    uv_tcp_init(loop, tcp);
    sockaddr_storage addr{};
    if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
        uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
      Finish(Fail("client: --host takes an address literal with --transport=uv"));
      CloseAndDelete(tcp);
      return;
    }
    connect_.data = this;
    plain_ = std::make_unique<PlainLines>(
        tcp, [this](PlainLines& p, const std::string& line) { OnPlainLine(p, line); },
        [this](PlainLines& p) {
          Finish(Fail("client: the server closed before TLS"));
          CloseAndDelete(p.tcp());
        });
    int r = uv_tcp_connect(&connect_, tcp, reinterpret_cast<const sockaddr*>(&addr),
                           [](uv_connect_t* req, int status) {
                             auto* self = static_cast<Client*>(req->data);
                             if (status < 0) {
                               self->Finish(Fail(std::string("client: ") + uv_strerror(status)));
                               CloseAndDelete(self->plain_->tcp());
                               return;
                             }
                             self->plain_->Start();
                           });
    if (r != 0) {
      Finish(Fail(std::string("client: ") + uv_strerror(r)));
      CloseAndDelete(tcp);
    }
  }
  void Reset() { tls_.reset(); }

 private:
  void Finish(int rc) {
    *rc_ = rc;
    *done_ = true;
  }

  void OnPlainLine(PlainLines& p, const std::string& line) {
    if (!greeted_) {
      if (line.rfind("220", 0) != 0) return Finish(Fail("client: no greeting"));
      greeted_ = true;
      Say("C", kStartTls);
      SendPlain(p.tcp(), kStartTls);
      return;
    }
    if (line.rfind("220", 0) != 0) return Finish(Fail("client: STARTTLS refused"));
    auto [tcp, rest] = p.Handover();
    StreamCallbacks cb;
    cb.secure = [](Stream& s, const HandshakeInfo& info) { s.Write(ClientFirst(info) + "\r\n"); };
    cb.data = [this](Stream& s, std::span<const uint8_t> bytes) {
      lines_.Feed(Text(bytes), [&](const std::string& reply) {
        auto next = ClientNext(reply, &error_);
        if (next) {
          s.Write(*next + "\r\n");
        } else {
          got_bye_ = error_.empty();
          s.End();  // 221 bye, or an unexpected reply
        }
        return next.has_value();
      });
    };
    cb.close = [this](Stream& s, const std::optional<Error>& error) {
      if (error) {
        Finish(Fail("client: " + error->code + ": " + error->message));
      } else if (!error_.empty()) {
        Finish(Fail(error_));
      } else if (!got_bye_ || s.peer_end() != PeerEnd::kClean) {
        Finish(Fail("client: the server did not close cleanly"));
      } else {
        Finish(ClosedCleanly());
      }
    };
    auto started = uv_tls::StartTls(tcp, context_, {.servername = kServerName, .host = host_},
                                    Bytes(rest), cb);
    if (!started.ok()) {
      CloseAndDelete(tcp);
      return Finish(Fail("client: " + started.error().message));
    }
    tls_ = std::move(started).value();
  }

  std::string host_;
  std::shared_ptr<const Context> context_;
  int* rc_;
  bool* done_;
  uv_connect_t connect_;
  std::unique_ptr<PlainLines> plain_;
  std::unique_ptr<Stream> tls_;
  Lines lines_;
  std::string error_;
  bool greeted_ = false, got_bye_ = false;
};

// Runs one client until it is done; its exit status.
int RunClient(uv_loop_t* loop, const StartTlsConfig& config, uint16_t port) {
  int rc = kExitFailure;
  bool done = false;
  Client client(loop, config.host, port, config.client_context, &rc, &done);
  while (!done && uv_run(loop, UV_RUN_ONCE)) {
  }
  client.Reset();
  return rc;
}

struct Listener {
  uv_tcp_t* tcp = new uv_tcp_t;
  std::shared_ptr<const Context> context;
  int* server_rc = nullptr;
  bool once = false;
};

}  // namespace

int RunUv(const StartTlsConfig& config) {
  uv_loop_t* loop = uv_default_loop();
  if (config.mode == "client") {
    int rc = RunClient(loop, config, config.port);
    uv_run(loop, UV_RUN_DEFAULT);
    return rc;
  }
  Listener listener;
  int server_rc = kExitFailure;
  listener.context = config.server_context;
  listener.server_rc = &server_rc;
  listener.once = config.mode == "both";
  uv_tcp_init(loop, listener.tcp);
  listener.tcp->data = &listener;
  sockaddr_storage addr{};
  if (uv_ip4_addr(config.host.c_str(), config.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(config.host.c_str(), config.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    CloseAndDelete(listener.tcp);
    uv_run(loop, UV_RUN_DEFAULT);
    return Fail("--host takes an address literal with --transport=uv");
  }
  int r = uv_tcp_bind(listener.tcp, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (r == 0) {
    r = uv_listen(reinterpret_cast<uv_stream_t*>(listener.tcp), 16, [](uv_stream_t* l, int status) {
      auto* self = static_cast<Listener*>(l->data);
      if (status < 0) return;
      auto* conn = new uv_tcp_t;
      uv_tcp_init(l->loop, conn);
      if (uv_accept(l, reinterpret_cast<uv_stream_t*>(conn)) != 0) {
        CloseAndDelete(conn);
        return;
      }
      new ServeOne(conn, self->context, self->server_rc);  // deletes itself
      if (self->once) CloseAndDelete(self->tcp);           // both mode: one client
    });
  }
  if (r != 0) {
    CloseAndDelete(listener.tcp);
    uv_run(loop, UV_RUN_DEFAULT);
    return Fail(std::string("listen: ") + uv_strerror(r));
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener.tcp, reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t bound_port =
      ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  PrintListening(config, bound_port);
  if (config.mode == "server") {
    uv_run(loop, UV_RUN_DEFAULT);  // serves until killed
    return kExitOk;
  }
  int client_rc = RunClient(loop, config, bound_port);
  uv_run(loop, UV_RUN_DEFAULT);  // the server's side ends too (its stream closes)
  uv_loop_close(loop);
  return client_rc != kExitOk ? client_rc : server_rc;
}

}  // namespace sansio_tls::examples::starttls
