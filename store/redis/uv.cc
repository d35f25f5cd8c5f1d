#include "store/redis/uv.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>

#include "store/redis/internal/async_engine.h"

namespace sansio_tls::redis {
namespace {

class UvLoop : public internal::Loop {
 public:
  explicit UvLoop(uv_loop_t* loop) : loop_(loop), timer_(new Timer) {
    uv_timer_init(loop, &timer_->handle);
    timer_->handle.data = timer_;
  }
  ~UvLoop() override {
    uv_timer_stop(&timer_->handle);
    timer_->fire = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_->handle),
             [](uv_handle_t* h) { delete static_cast<Timer*>(h->data); });
  }
  bool Attach(redisAsyncContext* ac) override { return redisLibuvAttach(ac, loop_) == REDIS_OK; }
  void SetTimer(std::chrono::milliseconds delay, std::function<void()> fire) override {
    timer_->fire = std::move(fire);
    uv_timer_start(
        &timer_->handle,
        [](uv_timer_t* h) {
          auto* t = static_cast<Timer*>(h->data);
          if (t->fire) std::exchange(t->fire, nullptr)();
        },
        static_cast<uint64_t>(delay.count()), 0);
  }
  void CancelTimer() override {
    uv_timer_stop(&timer_->handle);
    timer_->fire = nullptr;
  }

 private:
  struct Timer {
    uv_timer_t handle;
    std::function<void()> fire;
  };
  uv_loop_t* loop_;
  Timer* timer_;  // freed in its close callback
};

}  // namespace

std::unique_ptr<RedisSessionCache> MakeUvCache(uv_loop_t* loop, Options options) {
  return RedisSessionCache::Make(
      std::make_unique<internal::AsyncEngine>(std::move(options), std::make_unique<UvLoop>(loop)));
}

bool HandleUvEvent(RedisSessionCache& cache, uv_tls::Stream& stream, const Event& event,
                   std::function<void(bool fresh)> on_early_data_check) {
  if (const auto* saved = event.get_if<SavedSession>()) {
    cache.Store(*saved, UnixNow());
    return true;
  }
  if (event.kind() != EventKind::kSessionLookup && event.kind() != EventKind::kEarlyDataCheck) {
    return false;
  }
  std::weak_ptr<void> alive = stream.lifetime();
  uv_tls::Stream* s = &stream;
  // Answered at once (Redis unavailable): inside the stream's own callback, which goes on
  // by itself; later: Advance() carries the handshake on.
  auto inside = std::make_shared<bool>(true);
  if (const auto* check = event.get_if<event::EarlyDataCheck>()) {
    cache.CheckEarlyData(check->identity, check->window,
                         [alive, s, inside, observe = std::move(on_early_data_check)](bool fresh) {
                           if (alive.expired()) return;
                           if (observe) observe(fresh);
                           s->session().AnswerEarlyData(fresh);
                           if (!*inside) s->Advance();
                         });
    *inside = false;
    return true;
  }
  cache.Lookup(event.get<event::SessionLookup>().session_id,
               [alive, s, inside](std::optional<SavedSession> found) {
                 if (alive.expired()) return;
                 s->session().AnswerSessionLookup(std::move(found));
                 if (!*inside) s->Advance();
               });
  *inside = false;
  return true;
}

}  // namespace sansio_tls::redis
