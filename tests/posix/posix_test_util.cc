#include "tests/posix/posix_test_util.h"

#include <netinet/in.h>
#include <openssl/sha.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>

namespace sansio_tls::posix::test {

std::pair<UniqueFd, UniqueFd> TcpPair(int buffer) {
  auto listener = TcpListen("127.0.0.1", 0, 1);
  if (!listener.ok()) std::abort();
  uint16_t port = LocalAddress(listener->get()).port;
  auto client = TcpConnect("127.0.0.1", port, std::chrono::seconds(10));
  if (!client.ok()) std::abort();
  if (WaitFd(listener->get(), true, false, Deadline::After(std::chrono::seconds(10))) != 0) {
    std::abort();
  }
  UniqueFd server(accept4(listener->get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!server.valid()) std::abort();
  SetNoDelay(server.get());
  if (buffer > 0) {
    for (int fd : {client->get(), server.get()}) {
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    }
  }
  return {std::move(client).value(), std::move(server)};
}

bool LivePair::DriveUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  Deadline deadline = Deadline::After(timeout);
  for (;;) {
    for (auto [conn, events] :
         {std::pair{client.get(), &client_events}, std::pair{server.get(), &server_events}}) {
      conn->Advance();
      while (auto e = conn->NextEvent()) events->push_back(std::move(*e));
    }
    if (done()) return true;
    if (deadline.expired()) return false;
    pollfd fds[2];
    int n = 0;
    for (Connection* c : {client.get(), server.get()}) {
      Interest in = c->interest();
      fds[n++] = {c->fd(),
                  static_cast<short>((in.want_read ? POLLIN : 0) | (in.want_write ? POLLOUT : 0)),
                  0};
    }
    ::poll(fds, n, 50);
  }
}

bool LivePair::Handshake() {
  bool ok = DriveUntil([&] {
    return (client->session().handshake_done() && server->session().handshake_done()) ||
           client->session().failed() || server->session().failed();
  });
  return ok && !client->session().failed() && !server->session().failed();
}

LivePair MakeLivePair(const Contexts& contexts, int buffer) {
  auto [c, s] = TcpPair(buffer);
  LivePair pair;
  auto client = StartTls(c.release(), contexts.client, {.servername = "localhost"});
  auto server = StartTls(s.release(), contexts.server);
  if (!client.ok() || !server.ok()) std::abort();
  pair.client = std::move(client).value();
  pair.server = std::move(server).value();
  return pair;
}

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void EchoHandler::Pump(Connection& conn) {
  for (;;) {
    if (pos_ < pending_.size()) {
      pos_ += conn.TryWrite({pending_.data() + pos_, pending_.size() - pos_});
      if (pos_ < pending_.size()) return;
      pending_.clear();
      pos_ = 0;
    }
    uint8_t buf[16384];
    size_t n = conn.TryRead(buf);
    if (n == 0) return;
    pending_.assign(buf, buf + n);
  }
}

// Forwards to the application's handler and logs what the server reported.
class ServerThread::Recorder : public ConnectionHandler {
 public:
  Recorder(ServerThread* owner, std::unique_ptr<ConnectionHandler> inner)
      : owner_(owner), inner_(std::move(inner)) {}
  void OnData(Connection& conn) override {
    owner_->Sample(conn.buffered_bytes());
    inner_->OnData(conn);
    owner_->Sample(conn.buffered_bytes());
  }
  void OnWritable(Connection& conn) override {
    inner_->OnWritable(conn);
    owner_->Sample(conn.buffered_bytes());
  }
  void OnEnd(Connection& conn, PeerEnd end) override {
    owner_->Log(std::string("end:") + PeerEndName(end));
    inner_->OnEnd(conn, end);
  }
  void OnClose(Connection& conn, const std::optional<Error>& error) override {
    inner_->OnClose(conn, error);
    owner_->Log("close:" + (error ? error->code : std::string("ok")));
  }

 private:
  ServerThread* owner_;
  std::unique_ptr<ConnectionHandler> inner_;
};

ServerThread::ServerThread(std::shared_ptr<const Context> context, ServerOptions options,
                           Factory factory) {
  if (!factory) factory = [](Connection&) { return std::make_unique<EchoHandler>(); };
  ServerCallbacks callbacks;
  callbacks.secure_connection = [this,
                                 factory](Connection& conn) -> std::unique_ptr<ConnectionHandler> {
    auto inner = factory(conn);
    Log("secure");  // after the factory: a test that waits for it sees what it recorded
    if (!inner) return nullptr;
    return std::make_unique<Recorder>(this, std::move(inner));
  };
  callbacks.client_error = [this](const ClientErrorInfo& info) {
    Log("clientError:" + info.error.code);
  };
  callbacks.drop = [this](const DropInfo&) { Log("drop"); };
  auto server = Server::Listen(std::move(context), std::move(options), std::move(callbacks));
  if (!server.ok()) {
    std::fprintf(stderr, "ServerThread: %s\n", server.error().message.c_str());
    std::abort();
  }
  server_ = std::move(server).value();
  thread_ = std::thread([this] {
    auto err = server_->Run();
    if (err) Log("runError:" + err->code);
    Log("stopped");
  });
}

ServerThread::~ServerThread() {
  if (!stopped_) Stop(std::chrono::milliseconds(1));  // force-close what is left
}

void ServerThread::Log(std::string entry) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back(std::move(entry));
  cv_.notify_all();
}

void ServerThread::Sample(size_t buffered) {
  std::lock_guard<std::mutex> lock(mu_);
  max_buffered_ = std::max(max_buffered_, buffered);
}

size_t ServerThread::max_buffered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_buffered_;
}

std::vector<std::string> ServerThread::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

size_t ServerThread::Count(std::string_view entry) const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(std::count(log_.begin(), log_.end(), entry));
}

bool ServerThread::WaitFor(std::string_view entry, size_t n,
                           std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return static_cast<size_t>(std::count(log_.begin(), log_.end(), entry)) >= n;
  });
}

bool ServerThread::WaitConnections(size_t n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (server_->connections() != n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::chrono::milliseconds ServerThread::Stop(std::chrono::milliseconds grace) {
  auto start = std::chrono::steady_clock::now();
  server_->Close(grace);
  thread_.join();
  stopped_ = true;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

std::string ReadExactly(Connection& conn, size_t n) {
  std::string out;
  uint8_t buf[16384];
  while (out.size() < n) {
    auto r = conn.Read({buf, std::min(sizeof buf, n - out.size())});
    if (!r.ok() || *r == 0) break;
    out.append(reinterpret_cast<char*>(buf), *r);
  }
  return out;
}

std::string ReadToEnd(Connection& conn, std::optional<Error>* end) {
  std::string out;
  uint8_t buf[65536];
  for (;;) {
    auto r = conn.Read(buf);
    if (!r.ok()) {
      *end = r.error();
      return out;
    }
    if (*r == 0) {
      *end = std::nullopt;
      return out;
    }
    out.append(reinterpret_cast<char*>(buf), *r);
  }
}

}  // namespace sansio_tls::posix::test
