#include "examples/uv_backend.h"

#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/testing/cert_factory.h"
#include "examples/example_util.h"
#include "transports/uv/server.h"
#include "transports/uv/stream.h"

namespace sansio_tls::examples::uv_backend {
namespace {

using uv_tls::PeerEnd;
using uv_tls::Stream;
using uv_tls::StreamCallbacks;
using namespace std::chrono_literals;

// echo_server: how long a closing server waits for its connections (as the POSIX one).
constexpr auto kCloseGrace = 5s;

template <typename Handle>
void CloseAndDelete(Handle* h) {
  uv_close(reinterpret_cast<uv_handle_t*>(h),
           [](uv_handle_t* handle) { delete reinterpret_cast<Handle*>(handle); });
}

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

// Streams the program owns, destroyed in their close callback.
class StreamSet {
 public:
  Stream* Add(std::unique_ptr<Stream> s) {
    Stream* raw = s.get();
    streams_.emplace(raw, std::move(s));
    return raw;
  }
  void Remove(Stream& s) { streams_.erase(&s); }  // inside its own callback: allowed
  void Clear() { streams_.clear(); }

 private:
  std::unordered_map<Stream*, std::unique_ptr<Stream>> streams_;
};

// Echo with backpressure: a Write() that says "full" pauses reading until drain.
StreamCallbacks EchoCallbacks(StreamSet* set) {
  StreamCallbacks cb;
  cb.data = [](Stream& s, std::span<const uint8_t> bytes) {
    if (!s.Write(bytes)) s.Pause();
  };
  cb.drain = [](Stream& s) { s.Resume(); };
  cb.close = [set](Stream& s, const std::optional<Error>&) { set->Remove(s); };
  return cb;
}

}  // namespace

// ---- echo_server ------------------------------------------------------------------------

int EchoServer(std::shared_ptr<const Context> context, const EchoServerConfig& config) {
  uv_loop_t* loop = uv_default_loop();
  const bool json = config.json;
  StreamSet streams;
  std::unique_ptr<uv_tls::Server> server;
  uv_signal_t* signals[2] = {new uv_signal_t, new uv_signal_t};

  uv_tls::ServerCallbacks callbacks;
  callbacks.secure_connection = [&](std::unique_ptr<Stream> stream) {
    if (json) {
      PrintLine(HandshakeJson("secureConnection", stream->session()));
    } else {
      PrintLine(std::string("server connected ") +
                (stream->handshake_info().authorized ? "authorized" : "unauthorized"));
    }
    Stream* s = streams.Add(std::move(stream));
    s->set_callbacks(EchoCallbacks(&streams));
    s->Write("welcome!\n");
  };
  callbacks.client_error = [json](const uv_tls::ClientErrorInfo& info) {
    PrintClientError(info, json);
  };
  callbacks.drop = [json](const uv_tls::DropInfo& info) { PrintDrop(info, json); };
  if (std::FILE* keylog = config.keylog) {
    callbacks.key_log = [keylog](Stream&, std::string_view line) {
      std::fprintf(keylog, "%.*s\n", static_cast<int>(line.size()), line.data());
      std::fflush(keylog);
    };
  }
  // After SIGINT/SIGTERM: every connection is gone (or was forced after the grace period).
  callbacks.close = [&] {
    for (uv_signal_t* sig : signals) {
      uv_signal_stop(sig);
      CloseAndDelete(sig);
    }
  };

  uv_tls::ServerOptions options{.host = config.host,
                                .port = config.port,
                                .max_connections = config.max_connections,
                                .handshake_timeout = config.handshake_timeout};
  auto listening = uv_tls::Server::Listen(loop, context, options, callbacks);
  if (!listening.ok()) {
    std::fprintf(stderr, "echo_server: %s: %s\n", listening.error().code.c_str(),
                 listening.error().message.c_str());
    for (uv_signal_t* sig : signals) delete sig;
    return 2;
  }
  server = std::move(listening).value();

  int signums[2] = {SIGINT, SIGTERM};
  for (int i = 0; i < 2; ++i) {
    uv_signal_init(loop, signals[i]);
    signals[i]->data = &server;
    uv_signal_start(
        signals[i],
        [](uv_signal_t* sig, int) {
          auto* s = static_cast<std::unique_ptr<uv_tls::Server>*>(sig->data);
          (*s)->Close(kCloseGrace);
        },
        signums[i]);
  }

  uv_tls::SocketAddress local = server->address();
  if (json) {
    std::string line = "{\"event\":\"listening\",\"transport\":\"uv\",\"host\":" +
                       JsonString(local.address) + ",\"port\":" + std::to_string(local.port);
    if (!config.fingerprint.empty()) line += ",\"fingerprint256\":" + JsonString(config.fingerprint);
    PrintLine(line + "}");
  } else {
    PrintLine("listening on " + local.address + ":" + std::to_string(local.port) + " (uv)");
    if (!config.fingerprint.empty()) PrintLine("ephemeral certificate SHA-256 " + config.fingerprint);
  }
  uv_run(loop, UV_RUN_DEFAULT);  // until the signals' handles closed and the server is done
  server.reset();
  streams.Clear();
  uv_run(loop, UV_RUN_DEFAULT);  // their handles close
  uv_loop_close(loop);
  return 0;
}

// ---- echo_client ------------------------------------------------------------------------

namespace {

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
  uv_async_t* handle() { return async_; }

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

 public:
  // The loop is done with the current chunk (written, or the connection is gone).
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    has_pending_ = taken_ = false;
    cv_.notify_all();
  }

 private:
  std::function<void(std::string)> on_chunk_;
  uv_async_t* async_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  bool has_pending_ = false, taken_ = false, stop_ = false;
};

}  // namespace

int EchoClient(std::shared_ptr<const Context> context, const EchoClientConfig& config) {
  uv_loop_t* loop = uv_default_loop();
  const bool json = config.json;
  bool secure = false, done = false, end_on_ticket = false;
  std::optional<Error> failure;
  std::unique_ptr<Stream> stream;
  uv_timer_t* ticket_timer = nullptr;
  auto ticket_deadline = std::chrono::steady_clock::now();
  // Never destroyed (its thread may outlive main's return); its async handle stays open.
  StdinReader* stdin_reader = nullptr;
  bool chunk_held = false;  // a stdin chunk is waiting for drain

  auto end_now = [&] {
    if (stream) stream->End();
  };
  // End once a resumable session arrived (BoringSSL ignores TLS 1.3 tickets that arrive after
  // our close_notify), the peer ended, or 2 s passed.
  std::function<void()> end_after_ticket = [&] {
    bool ready = !stream || stream->session().saved_session() ||
                 stream->peer_end() != PeerEnd::kOpen ||
                 std::chrono::steady_clock::now() >= ticket_deadline;
    if (ready) {
      if (ticket_timer) {
        CloseAndDelete(ticket_timer);
        ticket_timer = nullptr;
      }
      end_now();
    }
  };
  auto on_chunk = [&](std::string chunk) {
    if (!stream || stream->closed()) {
      stdin_reader->Release();
      return;
    }
    if (chunk.empty()) {  // stdin ended
      stdin_reader->Release();
      if (config.session_out) {
        end_on_ticket = true;
        ticket_deadline = std::chrono::steady_clock::now() + 2s;
        ticket_timer = new uv_timer_t;
        uv_timer_init(loop, ticket_timer);
        ticket_timer->data = &end_after_ticket;
        uv_timer_start(
            ticket_timer,
            [](uv_timer_t* t) { (*static_cast<std::function<void()>*>(t->data))(); }, 20, 20);
        end_after_ticket();
      } else {
        end_now();
      }
      return;
    }
    if (stream->Write(chunk)) {
      stdin_reader->Release();
    } else {
      chunk_held = true;  // released on drain: one chunk in flight
    }
  };
  stdin_reader = new StdinReader(loop, on_chunk);
  (void)end_on_ticket;

  StreamCallbacks cb;
  cb.secure = [&](Stream& s, const HandshakeInfo& info) {
    secure = true;
    if (json) {
      PrintEvent(HandshakeJson("secureConnect", s.session()));
    } else {
      PrintEvent(std::string("client connected ") + (info.authorized ? "authorized" : "unauthorized"));
    }
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
  uv_tls::ConnectOptions options;
  options.session = config.session;
  options.stream.end_timeout = config.end_timeout;
  auto connected = uv_tls::Connect(loop, config.host, config.port, context, options, cb);
  if (!connected.ok()) {
    ReportClientError(connected.error(), json);
    return 1;
  }
  stream = std::move(connected).value();
  while (!done) uv_run(loop, UV_RUN_ONCE);

  if (!secure) {
    ReportClientError(failure ? *failure : MakeError("ERR_TLS_INTERNAL", "closed before secure"), json);
    return 1;
  }
  if (config.session_out) {
    // The newest ticket or session the server sent (TLS 1.3 tickets come after the
    // handshake, so this is taken at the end).
    if (auto saved = stream->session().saved_session()) {
      std::vector<uint8_t> bytes = saved->ToBytes();
      std::FILE* f = std::fopen(config.session_out->c_str(), "wb");
      if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
        PrintEvent("echo_client: cannot write --session-out file " + *config.session_out);
      }
      if (f) std::fclose(f);
    } else {
      PrintEvent("echo_client: the server sent no resumable session");
    }
  }
  bool clean = !failure && stream->peer_end() == PeerEnd::kClean;
  if (failure) ReportClientError(*failure, json);
  if (json) {
    PrintEvent(std::string("{\"event\":\"end\",\"clean\":") + (clean ? "true" : "false") + "}");
  }
  return clean ? 0 : 3;
}

// ---- starttls ---------------------------------------------------------------------------

namespace {

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

// A plaintext line reader on a TCP handle (allocated with new). |on_line| gets each line
// without "\r\n"; Handover() stops reading and returns the handle plus what was read past
// the last line (the first TLS bytes), for StartTls().
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
          self->buffered_.append(b->base, static_cast<size_t>(n));
          self->Lines();
        });
  }
  uv_tcp_t* tcp() { return tcp_; }
  // Stops reading; the caller owns the handle from now on.
  std::pair<uv_tcp_t*, std::string> Handover() {
    handed_over_ = true;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
    return {tcp_, std::move(buffered_)};
  }
  bool handed_over() const { return handed_over_; }

 private:
  void Lines() {
    for (size_t eol; !handed_over_ && (eol = buffered_.find("\r\n")) != std::string::npos;) {
      std::string line = buffered_.substr(0, eol);
      buffered_.erase(0, eol + 2);
      on_line_(*this, line);
    }
  }
  uv_tcp_t* tcp_;
  std::function<void(PlainLines&, const std::string&)> on_line_;
  std::function<void(PlainLines&)> on_end_;
  std::string buffered_;
  bool handed_over_ = false;
  char buf_[4096];
};

// Line splitting inside TLS.
struct TlsLines {
  std::string buffered;
  template <typename F>
  void Feed(std::span<const uint8_t> bytes, F&& on_line) {
    buffered.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    for (size_t eol; (eol = buffered.find("\r\n")) != std::string::npos;) {
      std::string line = buffered.substr(0, eol);
      buffered.erase(0, eol + 2);
      on_line(line);
    }
  }
};

// One server-side conversation; deletes itself when done. |rc| gets its result.
class ServeOne {
 public:
  ServeOne(uv_tcp_t* tcp, std::shared_ptr<const Context> context, int* rc)
      : context_(std::move(context)), rc_(rc) {
    plain_ = std::make_unique<PlainLines>(
        tcp, [this](PlainLines& p, const std::string& line) { OnPlainLine(p, line); },
        [this](PlainLines& p) {
          *rc_ = StartTlsFail("server: the client left before STARTTLS");
          uv_loop_t* loop = p.tcp()->loop;
          CloseAndDelete(p.tcp());
          DeleteLater(loop, this);
        });
    Say("S", "220 starttls-demo ready");
    SendPlain(tcp, "220 starttls-demo ready");
    plain_->Start();
  }

 private:
  void OnPlainLine(PlainLines& p, const std::string& line) {
    if (line != "STARTTLS") {
      SendPlain(p.tcp(), "500 expected STARTTLS");
      return;
    }
    Say("S", "220 go ahead");
    SendPlain(p.tcp(), "220 go ahead");  // queued before any TLS byte: libuv keeps the order
    auto [tcp, rest] = p.Handover();
    StreamCallbacks cb;
    cb.data = [this](Stream& s, std::span<const uint8_t> bytes) {
      lines_.Feed(bytes, [&](const std::string& l) {
        if (l == "HELLO") {
          Say("S", "250 hello, secure world (TLS)");
          s.Write("250 hello, secure world\r\n");
        } else if (l == "QUIT") {
          Say("S", "221 bye (TLS)");
          s.Write("221 bye\r\n");
          s.End();  // then the client's close_notify closes the stream
        } else {
          s.Write("500 unknown command\r\n");
        }
      });
    };
    cb.close = [this](Stream&, const std::optional<Error>& error) {
      *rc_ = error ? StartTlsFail("server: " + error->code + ": " + error->message) : 0;
      delete this;  // destroys the stream inside its close callback: allowed
    };
    auto started = uv_tls::StartTls(tcp, context_, {},
                                    {reinterpret_cast<const uint8_t*>(rest.data()), rest.size()},
                                    cb);
    if (!started.ok()) {
      *rc_ = StartTlsFail("server: " + started.error().message);
      CloseAndDelete(tcp);
      return;
    }
    tls_ = std::move(started).value();
  }

  std::shared_ptr<const Context> context_;
  int* rc_;
  std::unique_ptr<PlainLines> plain_;
  std::unique_ptr<Stream> tls_;
  TlsLines lines_;
};

// The client side of one conversation.
class Client {
 public:
  Client(uv_loop_t* loop, const std::string& host, uint16_t port,
         std::shared_ptr<const Context> context, std::string servername, int* rc, bool* done)
      : host_(host), context_(std::move(context)), servername_(std::move(servername)), rc_(rc),
        done_(done) {
    auto* tcp = new uv_tcp_t;
    uv_tcp_init(loop, tcp);
    sockaddr_storage addr{};
    if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
        uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
      Finish(StartTlsFail("client: --host takes an address literal with --transport=uv"));
      CloseAndDelete(tcp);
      return;
    }
    connect_.data = this;
    plain_ = std::make_unique<PlainLines>(
        tcp, [this](PlainLines& p, const std::string& line) { OnPlainLine(p, line); },
        [this](PlainLines& p) {
          Finish(StartTlsFail("client: the server closed before TLS"));
          CloseAndDelete(p.tcp());
        });
    int r = uv_tcp_connect(&connect_, tcp, reinterpret_cast<const sockaddr*>(&addr),
                           [](uv_connect_t* req, int status) {
                             auto* self = static_cast<Client*>(req->data);
                             if (status < 0) {
                               self->Finish(StartTlsFail(std::string("client: ") + uv_strerror(status)));
                               CloseAndDelete(self->plain_->tcp());
                               return;
                             }
                             self->plain_->Start();
                           });
    if (r != 0) {
      Finish(StartTlsFail(std::string("client: ") + uv_strerror(r)));
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
      if (line.rfind("220", 0) != 0) return Finish(StartTlsFail("client: no greeting"));
      greeted_ = true;
      Say("C", "STARTTLS");
      SendPlain(p.tcp(), "STARTTLS");
      return;
    }
    if (line.rfind("220", 0) != 0) return Finish(StartTlsFail("client: STARTTLS refused"));
    auto [tcp, rest] = p.Handover();
    StreamCallbacks cb;
    cb.secure = [](Stream& s, const HandshakeInfo& info) {
      PrintLine("-- TLS established: " + info.protocol + " " + info.cipher + ", " +
                (info.authorized ? "authorized" : "unauthorized " + info.authorization_error));
      Say("C", "HELLO (TLS)");
      s.Write("HELLO\r\n");
    };
    cb.data = [this](Stream& s, std::span<const uint8_t> bytes) {
      lines_.Feed(bytes, [&](const std::string& l) {
        if (l.rfind("250", 0) == 0) {
          Say("C", "QUIT (TLS)");
          s.Write("QUIT\r\n");
        } else if (l.rfind("221", 0) == 0) {
          got_bye_ = true;
          s.End();
        }
      });
    };
    cb.close = [this](Stream& s, const std::optional<Error>& error) {
      if (error) {
        Finish(StartTlsFail("client: " + error->code + ": " + error->message));
      } else if (!got_bye_ || s.peer_end() != PeerEnd::kClean) {
        Finish(StartTlsFail("client: the server did not close cleanly"));
      } else {
        PrintLine("-- closed cleanly both ways");
        Finish(0);
      }
    };
    auto started = uv_tls::StartTls(tcp, context_, {.servername = servername_, .host = host_},
                                    {reinterpret_cast<const uint8_t*>(rest.data()), rest.size()},
                                    cb);
    if (!started.ok()) {
      CloseAndDelete(tcp);
      return Finish(StartTlsFail("client: " + started.error().message));
    }
    tls_ = std::move(started).value();
  }

  std::string host_;
  std::shared_ptr<const Context> context_;
  std::string servername_;
  int* rc_;
  bool* done_;
  uv_connect_t connect_;
  std::unique_ptr<PlainLines> plain_;
  std::unique_ptr<Stream> tls_;
  TlsLines lines_;
  bool greeted_ = false, got_bye_ = false;
};

struct Listener {
  uv_tcp_t* tcp = new uv_tcp_t;
  std::shared_ptr<const Context> context;
  int* server_rc = nullptr;
  bool once = false;
};

}  // namespace

int StartTls(const std::string& mode, const std::string& host, uint16_t port,
             const ContextOptions& client_options) {
  uv_loop_t* loop = uv_default_loop();
  if (mode == "client") {
    auto ctx = Context::Create(client_options);
    if (!ctx.ok()) return StartTlsFail(ctx.error().message);
    int rc = 1;
    bool done = false;
    Client client(loop, host, port, *ctx, "localhost", &rc, &done);
    while (!done && uv_run(loop, UV_RUN_ONCE)) {
    }
    client.Reset();
    uv_run(loop, UV_RUN_DEFAULT);
    return rc;
  }
  if (mode != "both" && mode != "server") return StartTlsFail("--mode takes both, server or client");
  // The server side: an ephemeral PKI (both mode: the client trusts its root).
  testing::TestPki pki = testing::MakeTestPki();
  auto server_ctx = Context::Create({.role = Role::kServer,
                                     .credentials = {.key_pem = pki.server.key_pem,
                                                     .cert_chain_pem = pki.server_chain_pem()}});
  if (!server_ctx.ok()) return StartTlsFail(server_ctx.error().message);

  Listener listener;
  int server_rc = 1;
  listener.context = *server_ctx;
  listener.server_rc = &server_rc;
  listener.once = mode == "both";
  uv_tcp_init(loop, listener.tcp);
  listener.tcp->data = &listener;
  sockaddr_storage addr{};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    CloseAndDelete(listener.tcp);
    uv_run(loop, UV_RUN_DEFAULT);
    return StartTlsFail("--host takes an address literal with --transport=uv");
  }
  int r = uv_tcp_bind(listener.tcp, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (r == 0) {
    r = uv_listen(reinterpret_cast<uv_stream_t*>(listener.tcp), 16,
                  [](uv_stream_t* l, int status) {
                    auto* self = static_cast<Listener*>(l->data);
                    if (status < 0) return;
                    auto* conn = new uv_tcp_t;
                    uv_tcp_init(l->loop, conn);
                    if (uv_accept(l, reinterpret_cast<uv_stream_t*>(conn)) != 0) {
                      CloseAndDelete(conn);
                      return;
                    }
                    new ServeOne(conn, self->context, self->server_rc);  // deletes itself
                    if (self->once) CloseAndDelete(self->tcp);  // both mode: one client
                  });
  }
  if (r != 0) {
    CloseAndDelete(listener.tcp);
    uv_run(loop, UV_RUN_DEFAULT);
    return StartTlsFail(std::string("listen: ") + uv_strerror(r));
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener.tcp, reinterpret_cast<sockaddr*>(&bound), &len);
  uint16_t bound_port = ntohs(bound.ss_family == AF_INET
                                  ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                  : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  PrintLine("listening on " + host + ":" + std::to_string(bound_port) +
            " (plaintext until STARTTLS)");
  if (mode == "server") {
    PrintLine("root CA SHA-256 " + Sha256Fingerprint(pki.root.der) +
              " (clients: --reject-unauthorized=false)");
    uv_run(loop, UV_RUN_DEFAULT);  // serves until killed
    return 0;
  }
  auto client_ctx = Context::Create({.role = Role::kClient, .ca_pems = {pki.root.cert_pem}});
  if (!client_ctx.ok()) return StartTlsFail(client_ctx.error().message);
  int client_rc = 1;
  bool client_done = false;
  {
    Client client(loop, host, bound_port, *client_ctx, "localhost", &client_rc, &client_done);
    while (!client_done && uv_run(loop, UV_RUN_ONCE)) {
    }
    client.Reset();
  }
  uv_run(loop, UV_RUN_DEFAULT);  // the server's side ends too (its stream closes)
  uv_loop_close(loop);
  return client_rc != 0 ? client_rc : server_rc;
}

// ---- demo ---------------------------------------------------------------------------------

int DemoLoopback(std::shared_ptr<const Context> server_ctx,
                 std::shared_ptr<const Context> client_ctx) {
  std::printf("\nthe same over loopback TCP (libuv transport, server and client on one "
              "loop):\n");
  std::fflush(stdout);
  uv_loop_t* loop = uv_default_loop();
  StreamSet streams;
  uv_tls::ServerCallbacks callbacks;
  callbacks.secure_connection = [&](std::unique_ptr<Stream> stream) {
    const HandshakeInfo& h = stream->handshake_info();
    std::printf("  [server] secureConnection: %s %s, servername=%s\n", h.protocol.c_str(),
                h.cipher.c_str(), h.servername.c_str());
    Stream* s = streams.Add(std::move(stream));
    s->set_callbacks(EchoCallbacks(&streams));
    s->Write("welcome!\n");
  };
  callbacks.client_error = [](const uv_tls::ClientErrorInfo& info) {
    std::printf("  [server] clientError: %s\n", info.error.code.c_str());
  };
  auto server = uv_tls::Server::Listen(loop, server_ctx, {.host = "127.0.0.1", .port = 0},
                                       callbacks);
  if (!server.ok()) {
    std::fprintf(stderr, "demo: listen: %s: %s\n", server.error().code.c_str(),
                 server.error().message.c_str());
    return 1;
  }
  std::printf("  [server] listening on 127.0.0.1:%u\n", (*server)->port());

  static const std::string line = "hello over TCP\n";
  std::string got;
  bool closed = false;
  std::optional<Error> close_error;
  StreamCallbacks cb;
  cb.secure = [](Stream& s, const HandshakeInfo& info) {
    std::printf("  [client] secureConnect: %s, %s\n", info.protocol.c_str(),
                info.authorized ? "authorized" : "unauthorized");
    s.Write(line);
  };
  cb.data = [&](Stream& s, std::span<const uint8_t> bytes) {
    got.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (got.size() >= 9 + line.size()) {  // "welcome!\n" + the echo
      std::printf("  [client] received: %s", got.c_str());
      s.End();  // our close_notify, then the server's answer to it
    }
  };
  cb.close = [&](Stream& s, const std::optional<Error>& error) {
    closed = true;
    close_error = error;
    bool clean = !error && s.peer_end() == PeerEnd::kClean;
    std::printf("  [client] %s\n", clean ? "closed cleanly both ways" : "did not close cleanly");
    (*server)->Close(std::chrono::seconds(5));
  };
  uv_tls::ConnectOptions options;
  options.session.servername = "localhost";
  auto client = uv_tls::Connect(loop, "127.0.0.1", (*server)->port(), client_ctx, options, cb);
  if (!client.ok()) {
    std::fprintf(stderr, "demo: connect: %s\n", client.error().message.c_str());
    return 1;
  }
  while (!closed && uv_run(loop, UV_RUN_ONCE)) {
  }
  int rc = got == "welcome!\n" + line && closed && !close_error ? 0 : 1;
  client->reset();
  uv_run(loop, UV_RUN_DEFAULT);  // the server's connections end, then its listener closes
  server->reset();
  streams.Clear();
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return rc;
}

}  // namespace sansio_tls::examples::uv_backend
