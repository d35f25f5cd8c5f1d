#include "store/redis/session_cache.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <cstdint>
#include <cstring>

#include "store/redis/internal/async_engine.h"
#include "store/redis/internal/codec.h"

namespace sansio_tls::redis {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace internal {

namespace {

Error Unavailable(const std::string& why) {
  return MakeError("ERR_REDIS_UNAVAILABLE", "Redis session cache unavailable: " + why);
}

}  // namespace

AsyncEngine::AsyncEngine(Options options, std::unique_ptr<Loop> loop)
    : options_(std::move(options)), loop_(std::move(loop)) {
  IgnoreSigpipe();
}

AsyncEngine::~AsyncEngine() {
  closing_ = true;
  loop_->CancelTimer();
  if (ac_) {
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    ac->data = nullptr;  // its callbacks (perhaps deferred by hiredis) no longer reach us
    redisAsyncFree(ac);
  }
  std::map<uint64_t, Pending> left = std::move(pending_);
  for (auto& [seq, p] : left) AnswerFailure(p);
}

bool AsyncEngine::available() const { return !down_ || Clock::now() >= retry_at_; }

void AsyncEngine::Lookup(std::span<const uint8_t> id, RedisSessionCache::LookupDone done) {
  ++stats_.lookups;
  Pending p{Kind::kLookup, {}, {id.begin(), id.end()}, std::move(done), {}};
  Send(std::move(p), {"GETRANGE", SessionKey(options_.key_prefix, id), "0",
                      std::to_string(options_.max_value_size)});
}

void AsyncEngine::Store(const SavedSession& session, int64_t now) {
  std::vector<uint8_t> id = session.id();
  int64_t ttl = TtlMillis(session, now);
  if (id.empty() || ttl <= 0) return;
  std::vector<uint8_t> bytes = session.ToBytes();
  if (bytes.empty() || bytes.size() > options_.max_value_size) {
    ++stats_.store_failures;
    return;
  }
  Send(Pending{Kind::kStore, {}, {}, {}, {}},
       {"SET", SessionKey(options_.key_prefix, id), std::string(bytes.begin(), bytes.end()), "PX",
        std::to_string(ttl)});
}

void AsyncEngine::CheckEarlyData(std::span<const uint8_t> identity, std::chrono::milliseconds ttl,
                                 RedisSessionCache::EarlyDone done) {
  ++stats_.early_checks;
  Pending p{Kind::kEarly, {}, {}, {}, std::move(done)};
  Send(std::move(p), {"SET", EarlyKey(options_.key_prefix, identity), "1", "NX", "PX",
                      std::to_string(std::max<int64_t>(1, ttl.count()))});
}

void AsyncEngine::Send(Pending p, const std::vector<std::string>& argv) {
  if (closing_ || (down_ && Clock::now() < retry_at_) || (!ac_ && !Connect())) {
    ++stats_.unavailable;
    AnswerFailure(p);
    return;
  }
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  uint64_t seq = next_seq_++;
  p.deadline = Clock::now() + options_.timeout;
  if (redisAsyncCommandArgv(ac_, ReplyThunk, reinterpret_cast<void*>(static_cast<uintptr_t>(seq)),
                            static_cast<int>(args.size()), args.data(), lens.data()) != REDIS_OK) {
    ++stats_.unavailable;
    AnswerFailure(p);
    return;
  }
  bool first = pending_.empty();
  pending_.emplace(seq, std::move(p));
  if (first) ArmTimer();
}

bool AsyncEngine::Connect() {
  redisAsyncContext* ac = options_.unix_socket.empty()
                              ? redisAsyncConnect(options_.host.c_str(), options_.port)
                              : redisAsyncConnectUnix(options_.unix_socket.c_str());
  if (!ac) {
    MarkDown("out of memory", false);
    return false;
  }
  if (ac->err) {
    std::string why = ac->errstr;
    redisAsyncFree(ac);
    MarkDown("connect: " + why, false);
    return false;
  }
  ac->data = this;
  if (!loop_->Attach(ac)) {
    redisAsyncFree(ac);
    MarkDown("cannot attach to the event loop", false);
    return false;
  }
  redisAsyncSetConnectCallback(ac, ConnectThunk);
  redisAsyncSetDisconnectCallback(ac, DisconnectThunk);
  ac_ = ac;
  down_ = false;
  return true;
}

void AsyncEngine::AnswerFailure(Pending& p) {
  switch (p.kind) {
    case Kind::kLookup:
      ++stats_.misses;
      if (p.lookup) std::exchange(p.lookup, nullptr)(std::nullopt);
      break;
    case Kind::kStore:
      ++stats_.store_failures;
      break;
    case Kind::kEarly:
      if (p.early) std::exchange(p.early, nullptr)(false);
      break;
  }
}

void AsyncEngine::ReplyThunk(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* self = static_cast<AsyncEngine*>(ac->data);
  if (self) self->OnReply(reinterpret_cast<uintptr_t>(privdata), reply);
}

void AsyncEngine::ConnectThunk(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<AsyncEngine*>(ac->data);
  if (!self || status == REDIS_OK) return;
  // hiredis frees the context after this callback; its commands get null replies first.
  if (self->ac_ == ac) self->ac_ = nullptr;
  self->MarkDown(std::string("connect: ") + ac->errstr, false);
}

void AsyncEngine::DisconnectThunk(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<AsyncEngine*>(ac->data);
  if (!self) return;
  if (self->ac_ == ac) self->ac_ = nullptr;
  if (status != REDIS_OK && !self->closing_) {
    self->MarkDown(std::string("connection lost: ") + (ac->errstr[0] ? ac->errstr : "closed"),
                   false);
  }
}

void AsyncEngine::OnReply(uint64_t seq, void* raw) {
  auto it = pending_.find(seq);
  if (it == pending_.end()) return;  // answered already (timeout)
  Pending p = std::move(it->second);
  pending_.erase(it);
  auto* reply = static_cast<redisReply*>(raw);
  if (!reply) {
    // The connection is going (lost, refused, or freed by us).
    if (!closing_) MarkDown("connection lost", false);
    AnswerFailure(p);
    return;
  }
  MarkUp();
  switch (p.kind) {
    case Kind::kLookup: {
      std::optional<SavedSession> found;
      Verdict v = Verdict::kInvalid;  // anything but a string: e.g. WRONGTYPE
      if (reply->type == REDIS_REPLY_STRING) {
        v = Judge({reinterpret_cast<const uint8_t*>(reply->str), reply->len}, p.id, UnixNow(),
                  options_.max_value_size, &found);
      }
      if (v == Verdict::kHit) {
        ++stats_.hits;
      } else {
        ++stats_.misses;
        if (v == Verdict::kInvalid) ++stats_.invalid;
      }
      if (p.lookup) p.lookup(std::move(found));
      break;
    }
    case Kind::kStore:
      if (reply->type == REDIS_REPLY_STATUS) {
        ++stats_.stores;
      } else {
        ++stats_.store_failures;
      }
      break;
    case Kind::kEarly: {
      bool fresh = reply->type == REDIS_REPLY_STATUS;  // "OK": set now; nil: it existed
      if (fresh) {
        ++stats_.early_fresh;
      } else {
        ++stats_.early_replays;
      }
      if (p.early) p.early(fresh);
      break;
    }
  }
}

void AsyncEngine::ArmTimer() {
  if (pending_.empty()) {
    loop_->CancelTimer();
    return;
  }
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
      pending_.begin()->second.deadline - Clock::now());
  loop_->SetTimer(std::max(wait, std::chrono::milliseconds(0)) + std::chrono::milliseconds(1),
                  [this] { OnTimer(); });
}

void AsyncEngine::OnTimer() {
  Clock::time_point now = Clock::now();
  std::vector<Pending> expired;
  while (!pending_.empty() && pending_.begin()->second.deadline <= now) {
    expired.push_back(std::move(pending_.begin()->second));
    pending_.erase(pending_.begin());
  }
  if (!expired.empty()) {
    stats_.timeouts += expired.size();
    // Slow or stuck: drop the connection (what still waits on it is answered as it goes).
    MarkDown("no answer within " + std::to_string(options_.timeout.count()) + " ms", true);
    for (Pending& p : expired) AnswerFailure(p);
  }
  ArmTimer();
}

void AsyncEngine::MarkDown(const std::string& why, bool free_context) {
  down_ = true;
  retry_at_ = Clock::now() + options_.retry_interval;
  if (!reported_) {
    reported_ = true;
    ++stats_.failures_reported;
    if (options_.on_status) options_.on_status(Unavailable(why));
  }
  if (free_context && ac_) {
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    redisAsyncFree(ac);  // re-enters OnReply with null replies: answered as failures
  }
}

void AsyncEngine::MarkUp() {
  down_ = false;
  if (reported_) {
    reported_ = false;
    if (options_.on_status) options_.on_status(std::nullopt);
  }
}

}  // namespace internal

// ---- RedisSessionCache ----------------------------------------------------------------

RedisSessionCache::RedisSessionCache(std::unique_ptr<internal::AsyncEngine> engine)
    : engine_(std::move(engine)) {}
RedisSessionCache::~RedisSessionCache() = default;

std::unique_ptr<RedisSessionCache> RedisSessionCache::Make(
    std::unique_ptr<internal::AsyncEngine> engine) {
  return std::unique_ptr<RedisSessionCache>(new RedisSessionCache(std::move(engine)));
}

void RedisSessionCache::Lookup(std::span<const uint8_t> id, LookupDone done) {
  engine_->Lookup(id, std::move(done));
}
void RedisSessionCache::Store(const SavedSession& session, int64_t now) {
  engine_->Store(session, now);
}
void RedisSessionCache::CheckEarlyData(std::span<const uint8_t> identity,
                                       std::chrono::milliseconds ttl, EarlyDone done) {
  engine_->CheckEarlyData(identity, ttl, std::move(done));
}
const Stats& RedisSessionCache::stats() const { return engine_->stats(); }
bool RedisSessionCache::available() const { return engine_->available(); }
const Options& RedisSessionCache::options() const { return engine_->options(); }

}  // namespace sansio_tls::redis
