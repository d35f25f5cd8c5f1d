#include "transports/uv/server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "transports/common/driver.h"
#include "transports/common/net.h"
#include "transports/uv/internal/stream_impl.h"

namespace sansio_tls::uv_tls {

using internal::StreamImpl;

namespace {

SocketAddress SockName(const uv_tcp_t* tcp, bool peer) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  int r = peer ? uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&ss), &len)
               : uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&ss), &len);
  if (r != 0) return {};
  return transport::AddressOf(ss);
}

void DeleteTcp(uv_handle_t* handle) { delete reinterpret_cast<uv_tcp_t*>(handle); }

// The address to bind: a literal, "" (every address, IPv6 and IPv4), or a name resolved now.
Result<sockaddr_storage> BindAddress(uv_loop_t* loop, const std::string& host, uint16_t port) {
  sockaddr_storage ss{};
  std::string literal = host.empty() ? "::" : host;
  if (uv_ip4_addr(literal.c_str(), port, reinterpret_cast<sockaddr_in*>(&ss)) == 0) return ss;
  if (uv_ip6_addr(literal.c_str(), port, reinterpret_cast<sockaddr_in6*>(&ss)) == 0) return ss;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  uv_getaddrinfo_t req;
  int r = uv_getaddrinfo(loop, &req, nullptr, host.c_str(), nullptr, &hints);  // synchronous
  if (r != 0) return MakeError(kErrDnsLookup, "getaddrinfo " + host + ": " + uv_strerror(r));
  bool found = false;
  for (addrinfo* ai = req.addrinfo; ai && !found; ai = ai->ai_next) {
    if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) && ai->ai_addrlen <= sizeof ss) {
      std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
      found = true;
    }
  }
  uv_freeaddrinfo(req.addrinfo);
  if (!found) return MakeError(kErrDnsLookup, "getaddrinfo " + host + ": no address");
  if (ss.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
  }
  return ss;
}

}  // namespace

// The server's state. Shared with the streams it accepted (their fallbacks and the
// connection count), and kept alive by itself while its handles are open.
class Server::State : public internal::ServerLink, public std::enable_shared_from_this<State> {
 public:
  struct Handshaking {
    std::unique_ptr<Stream> stream;
    SocketAddress local, remote;  // captured at accept: a reset socket no longer knows them
    uint64_t serial = 0;          // this accept's number (a freed StreamImpl's address recurs)
  };

  uv_loop_t* loop = nullptr;
  ServerOptions options;
  ServerCallbacks callbacks;
  std::shared_ptr<const Context> context;
  uv_tcp_t* listener = nullptr;  // null once its close began
  uv_timer_t* grace = nullptr;   // while Close()'s grace period runs
  SocketAddress local;
  std::unordered_map<StreamImpl*, Handshaking> handshaking;
  std::unordered_set<StreamImpl*> live;  // accepted, socket not yet closed
  uint64_t accepted = 0;                 // accepts so far (Handshaking::serial)
  std::shared_ptr<State> self;           // while handles are open
  int handles = 0;
  bool closing = false;
  bool listener_closed = false;
  bool close_reported = false;
  bool detached = false;  // the Server object is gone: no more callbacks

  // ---- internal::ServerLink ----
  bool SessionEvent(Stream& stream, const Event& event) override {
    if (detached || !callbacks.session_event) return false;
    callbacks.session_event(stream, event);
    return true;
  }
  bool KeyLog(Stream& stream, std::string_view line) override {
    if (detached || !callbacks.key_log) return false;
    callbacks.key_log(stream, line);
    return true;
  }
  void StreamClosed(StreamImpl* impl) override {
    live.erase(impl);
    MaybeReportClosed();
  }

  static void OnConnection(uv_stream_t* server, int status) {
    auto* s = static_cast<State*>(server->data);
    std::shared_ptr<State> keep = s->shared_from_this();
    if (status < 0 || s->closing) return;
    s->Accept();
  }

  void Accept() {
    auto* tcp = new uv_tcp_t;
    uv_tcp_init(loop, tcp);
    if (uv_accept(reinterpret_cast<uv_stream_t*>(listener), reinterpret_cast<uv_stream_t*>(tcp)) !=
        0) {
      uv_close(reinterpret_cast<uv_handle_t*>(tcp), DeleteTcp);
      return;
    }
    SocketAddress here = SockName(tcp, false), remote = SockName(tcp, true);
    if (options.max_connections > 0 && live.size() >= options.max_connections) {
      uv_close(reinterpret_cast<uv_handle_t*>(tcp), DeleteTcp);  // before any TLS byte
      if (!detached && callbacks.drop) callbacks.drop(DropInfo{here, remote});
      return;
    }
    auto session = Session::Create(context, transport::AcceptedOptions(options));
    if (!session.ok()) {
      uv_close(reinterpret_cast<uv_handle_t*>(tcp), DeleteTcp);
      if (!detached && callbacks.client_error) {
        callbacks.client_error(ClientErrorInfo{session.error(), here, remote});
      }
      return;
    }
    // The stream's callbacks during the handshake are the server's; the State outlives the
    // stream (the stream holds it as its ServerLink).
    StreamCallbacks cb;
    cb.secure = [this](Stream& stream, const HandshakeInfo&) { OnSecure(stream); };
    cb.close = [this](Stream& stream, const std::optional<Error>& error) {
      OnHandshakeClose(stream, error);
    };
    StreamOptions so{.handshake_timeout = options.handshake_timeout,
                     .end_timeout = options.end_timeout,
                     .allow_half_open = options.allow_half_open};
    std::unique_ptr<Stream> stream =
        StreamImpl::Adopt(tcp, std::move(session).value(), so, std::move(cb));
    StreamImpl* impl = ImplOf(*stream);
    impl->set_server(shared_from_this());
    live.insert(impl);
    handshaking.emplace(impl, Handshaking{std::move(stream), here, remote, ++accepted});
  }

  void OnSecure(Stream& stream) {
    auto it = handshaking.find(ImplOf(stream));
    if (it == handshaking.end()) return;
    std::unique_ptr<Stream> owned = std::move(it->second.stream);
    handshaking.erase(it);
    owned->set_callbacks({});  // the application's own callbacks replace the server's
    if (detached || !callbacks.secure_connection) return;  // |owned| closes
    callbacks.secure_connection(std::move(owned));
  }

  void OnHandshakeClose(Stream& stream, const std::optional<Error>& error) {
    auto it = handshaking.find(ImplOf(stream));
    if (it == handshaking.end()) return;
    Handshaking h = std::move(it->second);
    handshaking.erase(it);
    if (error && !detached && callbacks.client_error) {
      callbacks.client_error(ClientErrorInfo{*error, h.local, h.remote});
    }
    // h.stream is destroyed here, inside its own close callback (allowed).
  }

  void BeginClose(std::chrono::milliseconds grace_period) {
    if (closing) return;
    closing = true;
    if (listener) {
      uv_close(reinterpret_cast<uv_handle_t*>(listener), OnListenerClosed);
      listener = nullptr;
    }
    if (grace_period.count() > 0) {
      grace = new uv_timer_t;
      uv_timer_init(loop, grace);
      grace->data = this;
      ++handles;
      uv_timer_start(grace, OnGrace, static_cast<uint64_t>(grace_period.count()), 0);
    }
    MaybeReportClosed();
  }

  static void OnListenerClosed(uv_handle_t* handle) {
    auto* s = static_cast<State*>(handle->data);
    std::shared_ptr<State> keep = s->shared_from_this();
    delete reinterpret_cast<uv_tcp_t*>(handle);
    s->listener_closed = true;
    s->HandleClosed();
    s->MaybeReportClosed();
  }

  static void OnGraceClosed(uv_handle_t* handle) {
    auto* s = static_cast<State*>(handle->data);
    std::shared_ptr<State> keep = s->shared_from_this();
    delete reinterpret_cast<uv_timer_t*>(handle);
    s->HandleClosed();
  }

  void StopGrace() {
    if (!grace) return;
    uv_timer_stop(grace);
    uv_close(reinterpret_cast<uv_handle_t*>(grace), OnGraceClosed);
    grace = nullptr;
  }

  void HandleClosed() {
    if (--handles == 0) self.reset();  // the caller holds a reference for the rest of the call
  }

  static void OnGrace(uv_timer_t* timer) {
    auto* s = static_cast<State*>(timer->data);
    std::shared_ptr<State> keep = s->shared_from_this();
    s->StopGrace();
    s->ForceCloseAll();
  }

  void ForceCloseAll() {
    Error closed = MakeError(kErrServerClosed, "the server closed and its grace period ended");
    std::unordered_map<StreamImpl*, Handshaking> hs = std::move(handshaking);
    handshaking.clear();
    for (auto& [impl, h] : hs) {
      if (!detached && callbacks.client_error) {
        callbacks.client_error(ClientErrorInfo{closed, h.local, h.remote});
      }
      h.stream.reset();  // closes without callbacks
    }
    std::vector<StreamImpl*> rest(live.begin(), live.end());
    for (StreamImpl* impl : rest) {
      if (!live.count(impl)) continue;
      StreamImpl::Guard guard(impl);
      impl->ForceClose(closed);
    }
  }

  void MaybeReportClosed() {
    if (!closing || close_reported || !live.empty() || !listener_closed) return;
    close_reported = true;
    StopGrace();
    if (!detached && callbacks.close) callbacks.close();
  }

  static StreamImpl* ImplOf(Stream& stream) { return Server::ImplOf(stream); }
};

Result<std::unique_ptr<Server>> Server::Listen(uv_loop_t* loop,
                                               std::shared_ptr<const Context> context,
                                               ServerOptions options, ServerCallbacks callbacks) {
  if (!loop) return MakeError("ERR_INVALID_ARG_VALUE", "Server::Listen: loop is null");
  if (auto error = transport::ServerArgsError(context.get(), bool(callbacks.secure_connection))) {
    return *std::move(error);
  }
  auto addr = BindAddress(loop, options.host, options.port);
  if (!addr.ok()) return addr.error();
  transport::IgnoreSigpipe();  // libuv writes with write(2)

  auto state = std::make_shared<State>();
  state->loop = loop;
  state->options = std::move(options);
  state->callbacks = std::move(callbacks);
  state->context = std::move(context);
  state->listener = new uv_tcp_t;
  // With reuse_port the socket is made now (libuv 1.44 has no UV_TCP_REUSEPORT) so that
  // SO_REUSEPORT is set before the bind.
  int r = state->options.reuse_port ? uv_tcp_init_ex(loop, state->listener, addr->ss_family)
                                    : uv_tcp_init(loop, state->listener);
  if (r != 0) {  // no handle was made: nothing to close
    delete state->listener;
    state->listener = nullptr;
    return internal::UvError(r, "listen");
  }
  state->listener->data = state.get();
  state->handles = 1;
  state->self = state;
  if (state->options.reuse_port) {
    uv_os_fd_t fd;
    int one = 1;
    r = uv_fileno(reinterpret_cast<uv_handle_t*>(state->listener), &fd);
    if (r == 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      r = uv_translate_sys_error(errno);
    }
  }
  if (r == 0) r = uv_tcp_bind(state->listener, reinterpret_cast<const sockaddr*>(&*addr), 0);
  if (r == 0) {
    r = uv_listen(reinterpret_cast<uv_stream_t*>(state->listener), state->options.backlog,
                  State::OnConnection);
  }
  if (r != 0) {
    state->detached = true;
    state->closing = true;
    state->close_reported = true;
    uv_close(reinterpret_cast<uv_handle_t*>(state->listener), State::OnListenerClosed);
    state->listener = nullptr;
    return internal::UvError(r, "listen");
  }
  state->local = SockName(state->listener, false);
  return std::unique_ptr<Server>(new Server(std::move(state)));
}

Server::~Server() {
  std::shared_ptr<State> s = state_;
  s->detached = true;
  if (!s->closing) {
    s->closing = true;
    s->close_reported = true;
    if (s->listener) {
      uv_close(reinterpret_cast<uv_handle_t*>(s->listener), State::OnListenerClosed);
      s->listener = nullptr;
    }
  }
  s->StopGrace();
  // Handshaking connections close without callbacks (this also ends their reference to the
  // state once their handles closed).
  std::unordered_map<StreamImpl*, State::Handshaking> hs = std::move(s->handshaking);
  s->handshaking.clear();
  hs.clear();
}

uint16_t Server::port() const { return state_->local.port; }
SocketAddress Server::address() const { return state_->local; }
size_t Server::connections() const { return state_->live.size(); }

void Server::Close(std::chrono::milliseconds grace) {
  std::shared_ptr<State> keep = state_;
  keep->BeginClose(grace);
}

bool Server::SetContext(std::shared_ptr<const Context> context) {
  if (!context || context->role() != Role::kServer) return false;
  state_->context = std::move(context);
  return true;
}

namespace {

// One deferred key-operation answer: an async handle (woken from any thread once), the
// answer, and which handshaking stream it is for.
struct KeyAnswer {
  uv_async_t async;
  std::mutex mu;
  std::optional<std::vector<uint8_t>> result;  // guarded by mu; nullopt: a failure
  std::atomic<bool> used{false};
  std::function<void(KeyAnswer*)> deliver;  // on the loop thread
};

}  // namespace

std::function<void(std::optional<std::vector<uint8_t>>)> Server::KeyOperationAnswerer(
    Stream& stream) {
  StreamImpl* impl = ImplOf(stream);
  auto it = state_->handshaking.find(impl);
  uint64_t serial = it == state_->handshaking.end() ? 0 : it->second.serial;
  auto* answer = new KeyAnswer;
  answer->deliver = [weak = std::weak_ptr<State>(state_), impl, serial](KeyAnswer* a) {
    std::shared_ptr<State> s = weak.lock();
    if (!s) return;
    auto found = s->handshaking.find(impl);
    if (found == s->handshaking.end() || found->second.serial != serial) return;  // gone
    Stream& target = *found->second.stream;
    std::optional<std::vector<uint8_t>> result;
    {
      std::lock_guard<std::mutex> lock(a->mu);
      result = std::move(a->result);
    }
    if (result) {
      target.session().CompleteKeyOperation(*result);
    } else {
      target.session().FailKeyOperation("the signer failed");
    }
    target.Advance();
  };
  uv_async_init(state_->loop, &answer->async, [](uv_async_t* handle) {
    auto* a = static_cast<KeyAnswer*>(handle->data);
    a->deliver(a);
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* h) { delete static_cast<KeyAnswer*>(h->data); });
  });
  answer->async.data = answer;
  uv_unref(reinterpret_cast<uv_handle_t*>(&answer->async));  // waiting keeps no loop alive
  return [answer](std::optional<std::vector<uint8_t>> result) {
    if (answer->used.exchange(true)) return;  // once
    {
      std::lock_guard<std::mutex> lock(answer->mu);
      answer->result = std::move(result);
    }
    uv_async_send(&answer->async);
  };
}

}  // namespace sansio_tls::uv_tls
