#include "transports/posix/server.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace sansio_tls::posix {

namespace {

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr int kMaxAcceptsPerWake = 64;
// Rounds of Advance + events one connection gets per turn, so a fast peer cannot starve
// the others; the rest waits for the next turn of the loop.
constexpr int kMaxRoundsPerTurn = 32;
// How long accepting pauses when the process is out of descriptors or memory.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

}  // namespace

struct Server::Entry {
  enum class State { kHandshaking, kEstablished };
  uint64_t id = 0;
  std::unique_ptr<Connection> conn;
  std::unique_ptr<ConnectionHandler> handler;  // set at secureConnection
  State state = State::kHandshaking;
  SocketAddress remote;     // captured at accept(): a reset socket no longer knows it
  uint32_t registered = 0;  // epoll events registered (0: not in the epoll set)
  bool client_error_sent = false;
  std::optional<Timestamp> armed;  // its place in deadlines_
  bool end_reported = false;       // OnEnd delivered
  bool ended = false;              // our side ended by the server
  bool servicing = false;
  bool dirty = false;
};

Result<std::unique_ptr<Server>> Server::Listen(std::shared_ptr<const Context> context,
                                               ServerOptions options, ServerCallbacks callbacks) {
  if (auto error = transport::ServerArgsError(context.get(), bool(callbacks.secure_connection))) {
    return *std::move(error);
  }
  std::unique_ptr<Server> s(new Server());
  s->options_ = std::move(options);
  s->callbacks_ = std::move(callbacks);
  s->context_ = std::move(context);

  auto fd =
      TcpListen(s->options_.host, s->options_.port, s->options_.backlog, s->options_.reuse_port);
  if (!fd.ok()) return fd.error();
  s->listen_fd_ = std::move(fd).value();
  s->local_ = LocalAddress(s->listen_fd_.get());

  s->epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!s->epoll_fd_.valid()) return ErrnoError(errno, "epoll_create1");
  s->wake_fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!s->wake_fd_.valid()) return ErrnoError(errno, "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenId;
  if (epoll_ctl(s->epoll_fd_.get(), EPOLL_CTL_ADD, s->listen_fd_.get(), &ev) != 0) {
    return ErrnoError(errno, "epoll_ctl");
  }
  ev.data.u64 = kWakeId;
  if (epoll_ctl(s->epoll_fd_.get(), EPOLL_CTL_ADD, s->wake_fd_.get(), &ev) != 0) {
    return ErrnoError(errno, "epoll_ctl");
  }
  return s;
}

Server::~Server() {
  entries_.clear();  // each Connection closes its socket
  connections_.store(0, std::memory_order_relaxed);
}

std::shared_ptr<const Context> Server::context() const {
  std::lock_guard<std::mutex> lock(context_mu_);
  return context_;
}

bool Server::SetContext(std::shared_ptr<const Context> context) {
  if (!context || context->role() != Role::kServer) return false;
  std::lock_guard<std::mutex> lock(context_mu_);
  context_ = std::move(context);
  return true;
}

void Server::Close(std::chrono::milliseconds grace) {
  if (!close_called_.exchange(true)) {
    close_grace_ms_.store(grace.count());
    close_requested_.store(true);
  }
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_.get(), &one, sizeof one);  // async-signal-safe
  (void)ignored;
}

// ---- Loop -----------------------------------------------------------------------------

std::optional<Error> Server::Run() {
  if (running_) return MakeError("ERR_SERVER_ALREADY_RUNNING", "Run() was called twice");
  running_ = true;
  epoll_event events[64];
  for (;;) {
    if (close_requested_.load() && !closing_) BeginClose();
    if (closing_ && entries_.empty()) return std::nullopt;
    if (closing_ && close_deadline_ && Clock::now() >= *close_deadline_) {
      ForceCloseAll();
      return std::nullopt;
    }
    ExpireTimers();
    if (accept_paused_ && !closing_ && Clock::now() >= accept_paused_until_) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenId;
      if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, listen_fd_.get(), &ev) == 0) {
        accept_paused_ = false;
      }
    }
    int n = epoll_wait(epoll_fd_.get(), events, 64, deferred_.empty() ? NextTimeoutMs() : 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[i].data.u64;
      if (id == kListenId) {
        if (!closing_) Accept();
      } else if (id == kWakeId) {
        uint64_t count;
        ssize_t ignored = ::read(wake_fd_.get(), &count, sizeof count);
        (void)ignored;
        RunTasks();
      } else if (auto it = entries_.find(id); it != entries_.end()) {
        if (events[i].events & EPOLLERR) it->second->conn->CheckSocket();
        Service(*it->second);
      }
    }
    // Connections whose turn ended early, then those a callback used while another one was
    // being serviced.
    dirty_.insert(dirty_.end(), deferred_.begin(), deferred_.end());
    deferred_.clear();
    while (!dirty_.empty()) {
      std::vector<uint64_t> dirty;
      dirty.swap(dirty_);
      for (uint64_t id : dirty) {
        if (auto it = entries_.find(id); it != entries_.end() && it->second->dirty) {
          Service(*it->second);
        }
      }
    }
  }
}

void Server::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    tasks_.push_back(std::move(task));
  }
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_.get(), &one, sizeof one);
  (void)ignored;
}

void Server::RunTasks() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    tasks.swap(tasks_);
  }
  for (auto& task : tasks) task();
}

std::function<void(std::optional<std::vector<uint8_t>>)> Server::KeyOperationAnswerer(
    Connection& conn) {
  uint64_t id = 0;
  for (const auto& [entry_id, entry] : entries_) {
    if (entry->conn.get() == &conn) id = entry_id;
  }
  return [this, id](std::optional<std::vector<uint8_t>> result) {
    Post([this, id, result = std::move(result)] {
      auto it = entries_.find(id);
      if (it == entries_.end()) return;  // gone meanwhile
      Connection& c = *it->second->conn;
      if (result) {
        c.session().CompleteKeyOperation(*result);
      } else {
        c.session().FailKeyOperation("the signer failed");
      }
      c.Advance();
    });
  };
}

int Server::NextTimeoutMs() const {
  std::optional<Clock::time_point> next;
  auto consider = [&](Clock::time_point t) {
    if (!next || t < *next) next = t;
  };
  if (!deadlines_.empty()) {
    // Session deadlines are on the wall clock the sessions are given.
    consider(Clock::now() + (deadlines_.begin()->first - transport::WallNow()));
  }
  if (closing_ && close_deadline_) consider(*close_deadline_);
  if (accept_paused_ && !closing_) consider(accept_paused_until_);
  if (!next) return -1;
  return Deadline::At(*next).PollTimeoutMs();
}

void Server::Rearm(Entry& e) {
  std::optional<Timestamp> next = e.conn->next_deadline();
  if (next == e.armed) return;
  if (e.armed) deadlines_.erase({*e.armed, e.id});
  e.armed = next;
  if (next) deadlines_.emplace(*next, e.id);
}

void Server::ExpireTimers() {
  Timestamp now = transport::WallNow();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    uint64_t id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    Entry& e = *it->second;
    e.armed.reset();
    e.conn->OnTimer(now);
    // A handshake past its bound is a clientError; a close grace that ran out closes the
    // connection (ERR_TLS_SHUTDOWN_TIMEOUT) without reporting the end it did not see.
    if (e.state == Entry::State::kHandshaking && e.conn->session().failed()) {
      ClientError(e, *e.conn->session().error());
      Destroy(id, std::nullopt);
    } else if (e.conn->done()) {
      Destroy(id, std::nullopt);
    } else {
      Service(e);
    }
  }
}

void Server::Accept() {
  for (int i = 0; i < kMaxAcceptsPerWake; ++i) {
    int fd = accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered: the pending connection would wake us again at once. Pause.
        epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, listen_fd_.get(), nullptr);
        accept_paused_ = true;
        accept_paused_until_ = Clock::now() + kAcceptPause;
        return;
      }
      continue;  // ECONNABORTED, EPROTO, EPERM...: that connection is gone, the next may not be
    }
    UniqueFd sock(fd);
    if (options_.max_connections > 0 && connections() >= options_.max_connections) {
      DropInfo info{LocalAddress(fd), PeerAddress(fd)};
      sock.reset();  // before any TLS byte
      if (callbacks_.drop) callbacks_.drop(info);
      continue;
    }
    SocketAddress remote = PeerAddress(fd);
    auto session = Session::Create(context(), transport::AcceptedOptions(options_));
    if (!session.ok()) {
      ClientErrorInfo info{session.error(), LocalAddress(fd), remote};
      sock.reset();
      if (callbacks_.client_error) callbacks_.client_error(info);
      continue;
    }
    auto entry = std::make_unique<Entry>();
    Entry& e = *entry;
    e.id = next_id_++;
    e.remote = std::move(remote);
    e.conn = Connection::Adopt(std::move(sock), std::move(session).value());
    uint64_t id = e.id;
    e.conn->set_advance_hook([this, id, &e] {
      if (e.servicing || e.dirty) return;
      e.dirty = true;
      dirty_.push_back(id);
    });
    entries_.emplace(id, std::move(entry));
    connections_.fetch_add(1, std::memory_order_relaxed);
    Service(e);  // the ClientHello often arrives with the connection
  }
}

void Server::Service(Entry& e) {
  uint64_t id = e.id;
  e.servicing = true;
  bool more = true;
  for (int round = 0; more && round < kMaxRoundsPerTurn; ++round) {
    e.conn->Advance();
    more = Dispatch(e);
  }
  e.servicing = false;
  e.dirty = false;
  if (more) {  // its turn is over; continue after the others had theirs
    e.dirty = true;
    deferred_.push_back(id);
  }
  if (e.conn->done()) {
    Destroy(id, std::nullopt);
    return;
  }
  Rearm(e);
  UpdateInterest(e);
}

bool Server::Dispatch(Entry& e) {
  bool any = false;
  Connection& conn = *e.conn;
  while (auto ev = conn.NextEvent()) {
    any = true;
    switch (ev->kind()) {
      case EventKind::kHandshakeDone:
        if (e.state != Entry::State::kHandshaking) break;
        e.state = Entry::State::kEstablished;
        e.handler = callbacks_.secure_connection(conn);
        if (!e.handler) {
          conn.TryEnd();  // refused by the application
        } else if (conn.session().readable_bytes() > 0) {
          e.handler->OnData(conn);  // early data, or data that came with the handshake
        }
        break;
      case EventKind::kEarlyData:
        break;  // buffered in the session; the handler reads it after secureConnection
      case EventKind::kSniRequest:
      case EventKind::kAlpnRequest:
      case EventKind::kSessionLookup:
      case EventKind::kEarlyDataCheck:
      case EventKind::kVerifyRequested:
      case EventKind::kSignRequest:
      case EventKind::kDecryptRequest:
      case EventKind::kNewSession:
        if (callbacks_.session_event) {
          callbacks_.session_event(conn, *ev);
        } else {
          transport::DefaultAnswer(conn.session(), *ev);
        }
        break;
      case EventKind::kKeyLog:
        if (callbacks_.key_log) callbacks_.key_log(conn, ev->get<event::KeyLog>().line);
        break;
      case EventKind::kTrace:
        if (callbacks_.session_event) callbacks_.session_event(conn, *ev);
        break;
      case EventKind::kReadable:
        if (e.handler) {
          e.handler->OnData(conn);
        } else {  // nobody reads: discard, so the close can proceed
          uint8_t sink[4096];
          while (conn.TryRead(sink) > 0) {
          }
        }
        break;
      case EventKind::kPeerClosed:
      case EventKind::kPeerTruncated:
        break;  // reported below, once the plaintext before it was read
      case EventKind::kError:
        if (e.state == Entry::State::kHandshaking) ClientError(e, ev->get<Error>());
        break;
      default:
        break;
    }
  }
  if (e.handler && conn.TakeWritable()) {
    any = true;
    e.handler->OnWritable(conn);
  }
  // Node's 'end': after the peer's last byte was read. Then, unless half-open connections
  // are allowed, our side ends too, once the handler's writes were all accepted.
  if (e.state == Entry::State::kEstablished && conn.peer_end() != PeerEnd::kOpen &&
      conn.session().readable_bytes() == 0) {
    if (!e.end_reported) {
      e.end_reported = true;
      any = true;
      if (e.handler) e.handler->OnEnd(conn, conn.peer_end());
    }
    if (!e.ended && (!options_.allow_half_open || !e.handler) && !conn.write_blocked()) {
      e.ended = true;
      any = true;
      conn.TryEnd();
    }
  }
  return any;
}

void Server::UpdateInterest(Entry& e) {
  Interest in = e.conn->interest();
  uint32_t want =
      (in.want_read ? uint32_t{EPOLLIN} : 0u) | (in.want_write ? uint32_t{EPOLLOUT} : 0u);
  // A connection that waits for nothing (the application holds its plaintext unread)
  // stays in the set edge-triggered: EPOLLERR/EPOLLHUP arrive once, not over and over, and
  // a reset meanwhile still reaches it (CheckSocket) instead of leaving it parked forever.
  if (want == 0) want = EPOLLET;
  if (want == e.registered) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = e.id;
  epoll_ctl(epoll_fd_.get(), e.registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, e.conn->fd(), &ev);
  e.registered = want;
}

void Server::ClientError(Entry& e, const Error& error) {
  if (e.client_error_sent || e.state != Entry::State::kHandshaking) return;
  e.client_error_sent = true;
  if (callbacks_.client_error) {
    callbacks_.client_error(ClientErrorInfo{error, e.conn->local_address(), e.remote});
  }
}

void Server::Destroy(uint64_t id, const std::optional<Error>& error) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  std::unique_ptr<Entry> entry = std::move(it->second);
  entries_.erase(it);
  Entry& e = *entry;
  if (e.armed) deadlines_.erase({*e.armed, id});
  if (e.registered != 0) epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, e.conn->fd(), nullptr);
  e.registered = 0;
  e.conn->set_advance_hook(nullptr);
  if (e.handler) {
    std::optional<Error> reported = error ? error : e.conn->close_error();
    e.handler->OnClose(*e.conn, reported);
  }
  e.conn->Close();
  connections_.fetch_sub(1, std::memory_order_relaxed);
}

void Server::BeginClose() {
  closing_ = true;
  int64_t grace = close_grace_ms_.load();
  if (grace > 0) close_deadline_ = Clock::now() + std::chrono::milliseconds(grace);
  if (listen_fd_.valid()) {
    if (!accept_paused_) epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, listen_fd_.get(), nullptr);
    listen_fd_.reset();
  }
}

void Server::ForceCloseAll() {
  Error closed = MakeError(kErrServerClosed, "the server closed and its grace period ended");
  std::vector<uint64_t> ids;
  ids.reserve(entries_.size());
  for (auto& [id, e] : entries_) ids.push_back(id);
  for (uint64_t id : ids) {
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    Entry& e = *it->second;
    if (e.state == Entry::State::kHandshaking) {
      ClientError(e, closed);
      Destroy(id, std::nullopt);
    } else {
      e.servicing = true;  // no dirty marks from here on
      e.conn->TryEnd();    // best effort: close_notify if the socket takes it now
      Destroy(id, closed);
    }
  }
}

}  // namespace sansio_tls::posix
