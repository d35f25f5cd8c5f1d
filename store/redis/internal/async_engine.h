// The asynchronous Redis client behind RedisSessionCache: hiredis's async context on an
// event loop given by an adapter, per-call deadlines, the unavailable state and its reports.
// Internal to store/redis; one loop thread.
#ifndef SANSIO_TLS_STORE_REDIS_INTERNAL_ASYNC_ENGINE_H_
#define SANSIO_TLS_STORE_REDIS_INTERNAL_ASYNC_ENGINE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/redis/session_cache.h"

struct redisAsyncContext;

namespace sansio_tls::redis::internal {

// What the engine needs from an event loop (one per adapter).
class Loop {
 public:
  virtual ~Loop() = default;
  // Installs hiredis's event hooks (ac->ev) for |ac| on the loop. False on failure.
  virtual bool Attach(redisAsyncContext* ac) = 0;
  // One timer: |fire| runs once, on the loop, |delay| from now; a new call replaces the
  // previous one. Cancel() drops it; after the Loop is destroyed it never runs.
  virtual void SetTimer(std::chrono::milliseconds delay, std::function<void()> fire) = 0;
  virtual void CancelTimer() = 0;
};

class AsyncEngine {
 public:
  AsyncEngine(Options options, std::unique_ptr<Loop> loop);
  ~AsyncEngine();  // answers what waits (misses), frees the connection

  void Lookup(std::span<const uint8_t> id, RedisSessionCache::LookupDone done);
  void Store(const SavedSession& session, int64_t now);
  void CheckEarlyData(std::span<const uint8_t> identity, std::chrono::milliseconds ttl,
                      RedisSessionCache::EarlyDone done);

  const Stats& stats() const { return stats_; }
  const Options& options() const { return options_; }
  bool available() const;

 private:
  using Clock = std::chrono::steady_clock;
  enum class Kind : uint8_t { kLookup, kStore, kEarly };
  struct Pending {
    Kind kind;
    Clock::time_point deadline;
    std::vector<uint8_t> id;  // kLookup: the session ID
    RedisSessionCache::LookupDone lookup;
    RedisSessionCache::EarlyDone early;
  };

  // Sends |argv| for |p|, or answers |p| at once when Redis is unavailable.
  void Send(Pending p, const std::vector<std::string>& argv);
  bool Connect();  // false: failed at once (reported)
  // Answers |p| as a failure (miss / dropped / not fresh).
  void AnswerFailure(Pending& p);
  void OnReply(uint64_t seq, void* reply);  // a redisReply, null when the connection went
  void OnTimer();
  void ArmTimer();
  // Redis failed: answers nothing itself; unavailable for retry_interval, reported once.
  void MarkDown(const std::string& why, bool free_context);
  void MarkUp();

  static void ReplyThunk(redisAsyncContext* ac, void* reply, void* privdata);
  static void ConnectThunk(const redisAsyncContext* ac, int status);
  static void DisconnectThunk(const redisAsyncContext* ac, int status);

  Options options_;
  std::unique_ptr<Loop> loop_;
  Stats stats_;
  redisAsyncContext* ac_ = nullptr;
  bool down_ = false;      // unavailable until retry_at_
  bool reported_ = false;  // a failure was reported and no recovery since
  bool closing_ = false;
  Clock::time_point retry_at_{};
  uint64_t next_seq_ = 1;
  std::map<uint64_t, Pending> pending_;  // by sequence; one timeout, so also by deadline
};

}  // namespace sansio_tls::redis::internal

#endif  // SANSIO_TLS_STORE_REDIS_INTERNAL_ASYNC_ENGINE_H_
