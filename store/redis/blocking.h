// The Redis session cache in blocking form, for the POSIX transport (and any thread that
// may wait): each call is one round trip to Redis bounded by Options::timeout (connect
// included), with the same failure policy, counters and reports as RedisSessionCache
// (session_cache.h). A call that fails on a connection made earlier (other than by a timeout)
// is retried once on a fresh one: a Redis restart while the cache was idle is no outage.
// Thread-safe (one connection, one call at a time).
#ifndef SANSIO_TLS_STORE_REDIS_BLOCKING_H_
#define SANSIO_TLS_STORE_REDIS_BLOCKING_H_

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <span>

#include "store/redis/session_cache.h"
#include "transports/posix/connection.h"

struct redisContext;

namespace sansio_tls::redis {

class BlockingRedisSessionCache {
 public:
  explicit BlockingRedisSessionCache(Options options);
  ~BlockingRedisSessionCache();
  BlockingRedisSessionCache(const BlockingRedisSessionCache&) = delete;
  BlockingRedisSessionCache& operator=(const BlockingRedisSessionCache&) = delete;

  // The session stored under |id|, or nullopt (miss, invalid value, Redis unavailable).
  std::optional<SavedSession> Lookup(std::span<const uint8_t> id);
  // Stores |session| under its ID, expiring with its lifetime at |now| (unix seconds).
  void Store(const SavedSession& session, int64_t now);
  // True when |identity| was not recorded before within |ttl| (now recorded); false for a
  // replay or when Redis cannot tell.
  bool CheckEarlyData(std::span<const uint8_t> identity, std::chrono::milliseconds ttl);

  Stats stats() const;
  bool available() const;
  const Options& options() const { return options_; }

 private:
  using Clock = std::chrono::steady_clock;
  // One command; null when Redis is unavailable or failed (then marked down). The reply is
  // freed by the caller (freeReplyObject).
  void* Command(const std::vector<std::string>& argv);
  // Opens c_; false (marked down) when Redis cannot be reached.
  bool Connect();
  void MarkDown(const std::string& why);
  void MarkUp();

  const Options options_;
  mutable std::mutex mu_;
  redisContext* c_ = nullptr;
  Stats stats_;
  bool down_ = false, reported_ = false;
  Clock::time_point retry_at_{};
};

// HandlePosixEvent answers |conn|'s external session-cache events from |cache| (call it from
// posix::ServerCallbacks::session_event): kSessionLookup is answered before it returns
// (holding the loop at most Options::timeout), kNewSession is stored;
// kEarlyDataCheck accepts the 0-RTT only when CheckEarlyData() says its ticket identity is
// fresh fleet-wide (|on_early_data_check|, if set, is told the verdict). Returns false,
// doing nothing, for other events.
bool HandlePosixEvent(BlockingRedisSessionCache& cache, posix::Connection& conn, const Event& event,
                      std::function<void(bool fresh)> on_early_data_check = {});

}  // namespace sansio_tls::redis

#endif  // SANSIO_TLS_STORE_REDIS_BLOCKING_H_
