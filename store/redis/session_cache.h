// Redis session cache: a fleet's shared TLS 1.2 session-ID cache (and, with
// core 0-RTT anti-replay, its record of early data already accepted), answering a server's
// external session-cache events (SessionCacheMode::kExternal: EventKind::kNewSession,
// kSessionLookup / Session::AnswerSessionLookup) from Redis. Optional: the core and the
// transports do not depend on it. Guarantees and limits: docs/fleet.md.
//
// RedisSessionCache is asynchronous (hiredis's async API) and runs on one event loop: the
// adapters attach it to Asio (store/redis/asio.h) or libuv (store/redis/uv.h). The POSIX
// transport uses BlockingRedisSessionCache (store/redis/blocking.h), same options and
// counters, one bounded blocking round trip per call.
//
// Failure policy, the same in both forms:
//  - every call is answered within Options::timeout: a lookup not answered in time is a
//    miss (the handshake goes on as a full one), a store not acknowledged is dropped;
//  - after a failure (connection refused or lost, a timeout) Redis counts as unavailable for
//    Options::retry_interval: calls are answered at once (lookups miss, stores are dropped),
//    then the next call reconnects;
//  - availability changes are reported once each through Options::on_status (down with the
//    Error, back with nullopt), never per connection;
//  - a value that is not a saved session of this library for the ID asked (garbage, a
//    different ID, expired, larger than Options::max_value_size, a key of another type) is
//    never trusted: it is a miss, counted in Stats::invalid.
#ifndef SANSIO_TLS_STORE_REDIS_SESSION_CACHE_H_
#define SANSIO_TLS_STORE_REDIS_SESSION_CACHE_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/resumption.h"
#include "transports/common/net.h"

struct redisAsyncContext;

namespace sansio_tls::redis {

struct Options {
  // Where Redis listens: |unix_socket| when set, else |host|:|port|.
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string unix_socket;
  // Prefix of every key this cache writes (sessions: PREFIX "s:" HEX(ID); early data:
  // PREFIX "e:" HEX(ticket identity)). Lets fleets share a Redis.
  std::string key_prefix = "sansio-tls:";
  // Bound on each call (connect included): past it a lookup is a miss.
  std::chrono::milliseconds timeout{100};
  // After a failure, Redis is not tried again for this long (calls are answered at once).
  std::chrono::milliseconds retry_interval{1000};
  // Largest value accepted from Redis (a saved TLS 1.2 session is about 2 KiB with a
  // certificate chain of two); larger ones are misses, counted invalid. At most this many
  // bytes (plus one) are read.
  size_t max_value_size = 16 * 1024;
  // Availability changes: an Error when Redis became unavailable (code ERR_REDIS_UNAVAILABLE,
  // the cause in the message), nullopt when it answered again. Called once per change, on
  // the cache's loop thread (blocking form: the calling thread).
  std::function<void(const std::optional<Error>&)> on_status;
};

// What a cache did. Lookups = hits + misses; misses include invalid, timeouts, unavailable.
struct Stats {
  uint64_t lookups = 0, hits = 0, misses = 0;
  uint64_t invalid = 0;      // a value was refused (garbage, wrong ID, expired, too big, type)
  uint64_t timeouts = 0;     // calls not answered within Options::timeout
  uint64_t unavailable = 0;  // calls answered at once because Redis was unavailable
  uint64_t stores = 0, store_failures = 0;
  uint64_t early_checks = 0, early_fresh = 0, early_replays = 0;  // CheckEarlyData
  uint64_t failures_reported = 0;                                 // on_status(Error) calls
};

namespace internal {
class AsyncEngine;
}  // namespace internal

// RedisSessionCache: the asynchronous cache. Create it through an adapter (asio.h, uv.h);
// use it from its loop's thread only. Destroying it answers every call still waiting (as a
// miss) before it returns and disconnects.
class RedisSessionCache {
 public:
  // Called exactly once per Lookup: the session, or nullopt (miss). May be called before
  // Lookup() returns (when Redis is unavailable).
  using LookupDone = std::function<void(std::optional<SavedSession> found)>;
  // Called exactly once per CheckEarlyData: true when this ticket was not seen before by any
  // server sharing the Redis (now recorded), false for a replay or when it cannot be known
  // (Redis unavailable, timeout): accepting 0-RTT needs a positive answer.
  using EarlyDone = std::function<void(bool fresh)>;

  ~RedisSessionCache();
  RedisSessionCache(const RedisSessionCache&) = delete;
  RedisSessionCache& operator=(const RedisSessionCache&) = delete;

  // Looks up the session stored under |id| (event::SessionLookup::session_id).
  void Lookup(std::span<const uint8_t> id, LookupDone done);
  // Stores |session| under its ID (kNewSession), expiring with the session's lifetime as
  // judged at |now| (unix seconds). Sessions without an ID or already expired are skipped.
  void Store(const SavedSession& session, int64_t now);
  // Records |identity| (a 0-RTT ticket identity) for |ttl|, atomically (SET NX): fresh
  // only for the first caller fleet-wide within |ttl|.
  void CheckEarlyData(std::span<const uint8_t> identity, std::chrono::milliseconds ttl,
                      EarlyDone done);

  const Stats& stats() const;
  // False while Redis counts as unavailable (after a failure, for retry_interval).
  bool available() const;
  const Options& options() const;

 private:
  friend class internal::AsyncEngine;
  explicit RedisSessionCache(std::unique_ptr<internal::AsyncEngine> engine);
  std::unique_ptr<internal::AsyncEngine> engine_;

 public:
  // Internal: adapters make caches with this.
  static std::unique_ptr<RedisSessionCache> Make(std::unique_ptr<internal::AsyncEngine> engine);
};

// The wall clock in unix seconds (for Store's |now|).
int64_t UnixNow();

// hiredis writes with write(2): a Redis that went away would raise SIGPIPE. Both cache forms
// call this when created: SIGPIPE is ignored unless the process installed a handler (as
// the libuv transport does too).
using transport::IgnoreSigpipe;

}  // namespace sansio_tls::redis

#endif  // SANSIO_TLS_STORE_REDIS_SESSION_CACHE_H_
