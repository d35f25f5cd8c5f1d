#include "store/redis/blocking.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include "store/redis/internal/codec.h"

namespace sansio_tls::redis {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

BlockingRedisSessionCache::BlockingRedisSessionCache(Options options)
    : options_(std::move(options)) {
  IgnoreSigpipe();
}

BlockingRedisSessionCache::~BlockingRedisSessionCache() {
  if (c_) redisFree(c_);
}

Stats BlockingRedisSessionCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool BlockingRedisSessionCache::available() const {
  std::lock_guard lock(mu_);
  return !down_ || Clock::now() >= retry_at_;
}

void BlockingRedisSessionCache::MarkDown(const std::string& why) {
  if (c_) {
    redisFree(c_);
    c_ = nullptr;
  }
  down_ = true;
  retry_at_ = Clock::now() + options_.retry_interval;
  if (!reported_) {
    reported_ = true;
    ++stats_.failures_reported;
    if (options_.on_status) {
      options_.on_status(
          MakeError("ERR_REDIS_UNAVAILABLE", "Redis session cache unavailable: " + why));
    }
  }
}

void BlockingRedisSessionCache::MarkUp() {
  down_ = false;
  if (reported_) {
    reported_ = false;
    if (options_.on_status) options_.on_status(std::nullopt);
  }
}

bool BlockingRedisSessionCache::Connect() {
  timeval tv = ToTimeval(options_.timeout);
  c_ = options_.unix_socket.empty()
           ? redisConnectWithTimeout(options_.host.c_str(), options_.port, tv)
           : redisConnectUnixWithTimeout(options_.unix_socket.c_str(), tv);
  if (!c_ || c_->err) {
    std::string why = c_ ? c_->errstr : "out of memory";
    ++stats_.unavailable;
    MarkDown("connect: " + why);
    return false;
  }
  redisSetTimeout(c_, tv);
  return true;
}

void* BlockingRedisSessionCache::Command(const std::vector<std::string>& argv) {
  if (down_ && Clock::now() < retry_at_) {
    ++stats_.unavailable;
    return nullptr;
  }
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  // A link made earlier may have gone stale while unused (Redis restarted meanwhile): a
  // failure on it other than a timeout gets one fresh connection and one retry before Redis
  // counts as down. (A timeout is not retried: it already cost the whole bound.)
  for (bool retried = false;; retried = true) {
    bool fresh = c_ == nullptr;
    if (fresh && !Connect()) return nullptr;
    void* reply = redisCommandArgv(c_, static_cast<int>(args.size()), args.data(), lens.data());
    if (reply) {
      MarkUp();
      return reply;
    }
    bool timeout = c_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    if (!fresh && !timeout && !retried) {
      redisFree(c_);
      c_ = nullptr;
      continue;
    }
    if (timeout) ++stats_.timeouts;
    MarkDown(timeout ? "no answer within " + std::to_string(options_.timeout.count()) + " ms"
                     : std::string(c_->errstr));
    return nullptr;
  }
}

std::optional<SavedSession> BlockingRedisSessionCache::Lookup(std::span<const uint8_t> id) {
  std::lock_guard lock(mu_);
  ++stats_.lookups;
  auto* reply =
      static_cast<redisReply*>(Command({"GETRANGE", internal::SessionKey(options_.key_prefix, id),
                                        "0", std::to_string(options_.max_value_size)}));
  if (!reply) {
    ++stats_.misses;
    return std::nullopt;
  }
  std::optional<SavedSession> found;
  internal::Verdict v = internal::Verdict::kInvalid;
  if (reply->type == REDIS_REPLY_STRING) {
    v = internal::Judge({reinterpret_cast<const uint8_t*>(reply->str), reply->len}, id, UnixNow(),
                        options_.max_value_size, &found);
  }
  freeReplyObject(reply);
  if (v == internal::Verdict::kHit) {
    ++stats_.hits;
  } else {
    ++stats_.misses;
    if (v == internal::Verdict::kInvalid) ++stats_.invalid;
  }
  return found;
}

void BlockingRedisSessionCache::Store(const SavedSession& session, int64_t now) {
  std::vector<uint8_t> id = session.id();
  int64_t ttl = internal::TtlMillis(session, now);
  if (id.empty() || ttl <= 0) return;
  std::vector<uint8_t> bytes = session.ToBytes();
  std::lock_guard lock(mu_);
  if (bytes.empty() || bytes.size() > options_.max_value_size) {
    ++stats_.store_failures;
    return;
  }
  auto* reply = static_cast<redisReply*>(
      Command({"SET", internal::SessionKey(options_.key_prefix, id),
               std::string(bytes.begin(), bytes.end()), "PX", std::to_string(ttl)}));
  if (reply && reply->type == REDIS_REPLY_STATUS) {
    ++stats_.stores;
  } else {
    ++stats_.store_failures;
  }
  if (reply) freeReplyObject(reply);
}

bool BlockingRedisSessionCache::CheckEarlyData(std::span<const uint8_t> identity,
                                               std::chrono::milliseconds ttl) {
  std::lock_guard lock(mu_);
  ++stats_.early_checks;
  auto* reply = static_cast<redisReply*>(
      Command({"SET", internal::EarlyKey(options_.key_prefix, identity), "1", "NX", "PX",
               std::to_string(std::max<int64_t>(1, ttl.count()))}));
  bool fresh = reply && reply->type == REDIS_REPLY_STATUS;
  if (reply) {
    if (fresh) {
      ++stats_.early_fresh;
    } else {
      ++stats_.early_replays;
    }
    freeReplyObject(reply);
  }
  return fresh;
}

bool HandlePosixEvent(BlockingRedisSessionCache& cache, posix::Connection& conn, const Event& event,
                      std::function<void(bool fresh)> on_early_data_check) {
  if (const auto* saved = event.get_if<SavedSession>()) {
    cache.Store(*saved, UnixNow());
    return true;
  }
  if (const auto* check = event.get_if<event::EarlyDataCheck>()) {
    bool fresh = cache.CheckEarlyData(check->identity, check->window);
    if (on_early_data_check) on_early_data_check(fresh);
    conn.session().AnswerEarlyData(fresh);
    return true;
  }
  if (event.kind() != EventKind::kSessionLookup) return false;
  conn.session().AnswerSessionLookup(cache.Lookup(event.get<event::SessionLookup>().session_id));
  return true;
}

}  // namespace sansio_tls::redis
