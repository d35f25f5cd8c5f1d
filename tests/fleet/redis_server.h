// A real redis-server (Debian's package, installed by ./bazelw) for the fleet tests: on a
// Unix socket in a fresh directory under TEST_TMPDIR, no persistence, stopped by its PID.
#ifndef SANSIO_TLS_TESTS_FLEET_REDIS_SERVER_H_
#define SANSIO_TLS_TESTS_FLEET_REDIS_SERVER_H_

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/interop/interop_util.h"

namespace sansio_tls::fleet_test {

class RedisServer {
 public:
  // Starts redis-server and waits until it answers PING (bounded); check ok().
  // The socket lives in a fresh directory under /tmp: TEST_TMPDIR paths are longer than a
  // Unix socket address allows (108 bytes).
  RedisServer() : dir_(MakeDir()), socket_(dir_ + "/redis.sock") { Start(); }
  ~RedisServer() {
    Resume();
    Stop();
    ::unlink(socket_.c_str());
    ::rmdir(dir_.c_str());
  }

  bool ok() const { return process_ != nullptr; }
  const std::string& socket() const { return socket_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  // SIGKILL: gone at once, connections reset.
  void Kill() {
    if (!process_) return;
    process_->Kill(SIGKILL);
    process_->Wait();
    process_.reset();
  }
  // A new redis-server on the same socket (empty).
  void Restart() {
    Kill();
    Start();
  }
  // SIGSTOP / SIGCONT: a Redis that accepts nothing and answers nothing, then resumes.
  void Pause() {
    if (process_) ::kill(pid(), SIGSTOP);
  }
  void Resume() {
    if (process_) ::kill(pid(), SIGCONT);
  }

  // One command on a connection of its own; the reply (freed by the caller with
  // freeReplyObject), or null.
  redisReply* Command(const std::vector<std::string>& argv) const {
    timeval tv{2, 0};
    redisContext* c = redisConnectUnixWithTimeout(socket_.c_str(), tv);
    if (!c || c->err) {
      if (c) redisFree(c);
      return nullptr;
    }
    redisSetTimeout(c, tv);
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const std::string& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    void* r = redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data());
    redisFree(c);
    return static_cast<redisReply*>(r);
  }
  // The command's integer reply (-999 when there is none).
  long long Integer(const std::vector<std::string>& argv) const {
    redisReply* r = Command(argv);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -999;
    if (r) freeReplyObject(r);
    return v;
  }
  bool Ok(const std::vector<std::string>& argv) const {
    redisReply* r = Command(argv);
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (r) freeReplyObject(r);
    return ok;
  }

 private:
  static std::string MakeDir() {
    char templ[] = "/tmp/sansio-redis-XXXXXX";
    const char* dir = ::mkdtemp(templ);
    EXPECT_NE(dir, nullptr);
    return dir ? dir : "/tmp";
  }
  void Start() {
    process_ =
        interop::Process::Start({"/usr/bin/redis-server", "--port", "0", "--unixsocket", socket_,
                                 "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                                 "--dir", dir_, "--daemonize", "no", "--loglevel", "warning"});
    // Ready when it answers; polled (redis-server prints nothing at this log level).
    for (int i = 0; i < 500; ++i) {
      if (Ok({"PING"})) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "redis-server did not start: " << process_->Describe();
    Stop();
  }
  void Stop() {
    if (!process_) return;
    process_->Kill(SIGTERM);
    process_->Wait();
    process_.reset();
  }

  std::string dir_, socket_;
  std::unique_ptr<interop::Process> process_;
};

}  // namespace sansio_tls::fleet_test

#endif  // SANSIO_TLS_TESTS_FLEET_REDIS_SERVER_H_
