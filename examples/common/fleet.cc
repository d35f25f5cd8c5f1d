#include "examples/common/fleet.h"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "examples/common/output.h"

namespace sansio_tls::examples {
namespace {

sigset_t Signals(std::initializer_list<int> signums) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signums) sigaddset(&set, s);
  return set;
}

void ReportReload(const TicketKeys& keys, const std::optional<Error>& error, bool json) {
  if (json) {
    Json j = error ? Json{{"event", "ticketKeysError"},
                          {"code", JsonText(error->code)},
                          {"message", JsonText(error->message)}}
                   : Json{{"event", "ticketKeys"}, {"keys", keys.Get().size()}};
    PrintLine(JsonLine(j));
  } else if (error) {
    std::fprintf(stderr, "ticket keys not reloaded: %s: %s\n", error->code.c_str(),
                 error->message.c_str());
  } else {
    PrintLine("ticket keys reloaded: " + std::to_string(keys.Get().size()) + " keys");
  }
}

// A socket bound (not listening) to |host|:0 with SO_REUSEPORT: holds a free port that the
// workers' listeners may share. Returns the fd (or -1) and writes the port.
int ReservePort(const std::string& host, uint16_t* port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), "0", &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
      close(fd);
      fd = -1;
      continue;
    }
    *port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  freeaddrinfo(res);
  return fd;
}

}  // namespace

TicketKeyReloader::TicketKeyReloader(std::shared_ptr<TicketKeys> keys,
                                     std::vector<std::string> paths, bool json) {
  sigset_t hup = Signals({SIGHUP});
  pthread_sigmask(SIG_BLOCK, &hup, nullptr);
  thread_ = std::thread([this, keys = std::move(keys), paths = std::move(paths), json, hup] {
    for (;;) {
      int sig = 0;
      if (sigwait(&hup, &sig) != 0) continue;
      if (stop_.load()) return;
      ReportReload(*keys, keys->LoadFiles(paths), json);
    }
  });
}

TicketKeyReloader::~TicketKeyReloader() {
  stop_.store(true);
  pthread_kill(thread_.native_handle(), SIGHUP);  // blocked there: sigwait() takes it
  thread_.join();
}

void PrintSessionStore(const std::optional<Error>& error, bool json) {
  if (json) {
    Json j{{"event", "sessionStore"}, {"available", !error}};
    if (error) {
      j["code"] = JsonText(error->code);
      j["message"] = JsonText(error->message);
    }
    PrintLine(JsonLine(j));
  } else if (error) {
    std::fprintf(stderr, "session store: %s: %s\n", error->code.c_str(), error->message.c_str());
  } else {
    std::fprintf(stderr, "session store: available again\n");
  }
}

bool ParseRedisAddress(const std::string& address, std::string* host, uint16_t* port,
                       std::string* unix_socket) {
  if (address.rfind("unix:", 0) == 0) {
    *unix_socket = address.substr(5);
    return !unix_socket->empty();
  }
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  std::string digits = address.substr(colon + 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 5) {
    return false;
  }
  int p = std::stoi(digits);
  if (p <= 0 || p > 65535) return false;
  *host = address.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  *port = static_cast<uint16_t>(p);
  return true;
}

int RunWorkers(int workers, const std::string& host, uint16_t* port,
               const std::function<int(int index)>& run) {
  int reserved = -1;
  if (*port == 0) {
    reserved = ReservePort(host, port);
    if (reserved < 0) {
      std::fprintf(stderr, "echo_server: cannot find a free port on %s: %s\n", host.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  sigset_t handled = Signals({SIGHUP, SIGINT, SIGTERM, SIGCHLD}), old;
  sigprocmask(SIG_BLOCK, &handled, &old);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = getpid();
  std::vector<pid_t> pids;
  for (int i = 0; i < workers; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);  // the parent is already gone
      if (reserved >= 0) close(reserved);
      sigprocmask(SIG_SETMASK, &old, nullptr);
      SetWorker(i);
      int status = run(i);
      std::fflush(stdout);
      std::fflush(stderr);
      _exit(status);
    }
    if (pid < 0) {
      std::fprintf(stderr, "echo_server: fork: %s\n", std::strerror(errno));
      break;
    }
    pids.push_back(pid);
  }
  auto signal_all = [&](int sig) {
    for (pid_t p : pids)
      if (p > 0) kill(p, sig);
  };
  int result = static_cast<int>(pids.size()) == workers ? 0 : 1;
  bool stopping = result != 0;
  if (stopping) signal_all(SIGTERM);
  size_t running = pids.size();
  while (running > 0) {
    int sig = 0;
    if (sigwait(&handled, &sig) != 0) continue;
    if (sig == SIGHUP) {
      signal_all(SIGHUP);
    } else if (sig == SIGINT || sig == SIGTERM) {
      stopping = true;
      signal_all(sig);
    } else if (sig == SIGCHLD) {
      int status = 0;
      pid_t done;
      while ((done = waitpid(-1, &status, WNOHANG)) > 0) {
        for (pid_t& p : pids) {
          if (p != done) continue;
          p = -1;
          --running;
          int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          if (code != 0 && result == 0) result = code;
          if (!stopping) {  // a worker ended by itself: the fleet stops
            stopping = true;
            if (result == 0) result = 1;
            signal_all(SIGTERM);
          }
        }
      }
    }
  }
  if (reserved >= 0) close(reserved);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  return result;
}

}  // namespace sansio_tls::examples
