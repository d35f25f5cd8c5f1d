#include "store/redis/asio.h"

#include <hiredis/async.h>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include "store/redis/internal/async_engine.h"

namespace sansio_tls::redis {
namespace {

// hiredis's event hooks on an Asio descriptor wrapping the connection's socket (released,
// never closed, by us: hiredis owns the fd). Kept alive by the waits in flight.
struct AsioEvents : std::enable_shared_from_this<AsioEvents> {
  AsioEvents(asio::io_context& ioc, int fd, redisAsyncContext* c) : sd(ioc, fd), ac(c) {}
  asio::posix::stream_descriptor sd;
  redisAsyncContext* ac;  // null after hiredis's cleanup
  bool want_read = false, want_write = false, read_waiting = false, write_waiting = false;

  void WaitRead() {
    if (read_waiting || !ac || !want_read) return;
    read_waiting = true;
    sd.async_wait(asio::posix::stream_descriptor::wait_read,
                  [self = shared_from_this()](std::error_code ec) {
                    self->read_waiting = false;
                    if (ec || !self->ac || !self->want_read) return;
                    redisAsyncHandleRead(self->ac);
                    self->WaitRead();
                  });
  }
  void WaitWrite() {
    if (write_waiting || !ac || !want_write) return;
    write_waiting = true;
    sd.async_wait(asio::posix::stream_descriptor::wait_write,
                  [self = shared_from_this()](std::error_code ec) {
                    self->write_waiting = false;
                    if (ec || !self->ac || !self->want_write) return;
                    redisAsyncHandleWrite(self->ac);
                    self->WaitWrite();
                  });
  }

  static AsioEvents& Of(void* data) { return **static_cast<std::shared_ptr<AsioEvents>*>(data); }
  static void AddRead(void* d) {
    Of(d).want_read = true;
    Of(d).WaitRead();
  }
  static void DelRead(void* d) { Of(d).want_read = false; }
  static void AddWrite(void* d) {
    Of(d).want_write = true;
    Of(d).WaitWrite();
  }
  static void DelWrite(void* d) { Of(d).want_write = false; }
  static void Cleanup(void* d) {
    auto* holder = static_cast<std::shared_ptr<AsioEvents>*>(d);
    AsioEvents& e = **holder;
    e.ac = nullptr;
    std::error_code ignored;
    e.sd.cancel(ignored);
    e.sd.release();
    delete holder;  // the waits in flight hold it until they complete
  }
};

class AsioLoop : public internal::Loop {
 public:
  explicit AsioLoop(asio::io_context& ioc) : ioc_(ioc), timer_(std::make_shared<Timer>(ioc)) {}
  ~AsioLoop() override { CancelTimer(); }

  bool Attach(redisAsyncContext* ac) override {
    if (ac->ev.data) return false;
    auto* holder =
        new std::shared_ptr<AsioEvents>(std::make_shared<AsioEvents>(ioc_, ac->c.fd, ac));
    ac->ev.data = holder;
    ac->ev.addRead = AsioEvents::AddRead;
    ac->ev.delRead = AsioEvents::DelRead;
    ac->ev.addWrite = AsioEvents::AddWrite;
    ac->ev.delWrite = AsioEvents::DelWrite;
    ac->ev.cleanup = AsioEvents::Cleanup;
    return true;
  }
  void SetTimer(std::chrono::milliseconds delay, std::function<void()> fire) override {
    uint64_t gen = ++timer_->generation;
    timer_->fire = std::move(fire);
    timer_->timer.expires_after(delay);
    timer_->timer.async_wait([t = timer_, gen](std::error_code ec) {
      if (ec || gen != t->generation || !t->fire) return;
      std::exchange(t->fire, nullptr)();
    });
  }
  void CancelTimer() override {
    ++timer_->generation;
    timer_->fire = nullptr;
    timer_->timer.cancel();
  }

 private:
  struct Timer {
    explicit Timer(asio::io_context& ioc) : timer(ioc) {}
    asio::steady_timer timer;
    std::function<void()> fire;
    uint64_t generation = 0;
  };
  asio::io_context& ioc_;
  std::shared_ptr<Timer> timer_;
};

}  // namespace

std::unique_ptr<RedisSessionCache> MakeAsioCache(asio::io_context& io_context, Options options) {
  return RedisSessionCache::Make(std::make_unique<internal::AsyncEngine>(
      std::move(options), std::make_unique<AsioLoop>(io_context)));
}

bool HandleAsioEvent(RedisSessionCache& cache, asio_tls::TlsStream& stream, const Event& event,
                     std::function<void(bool fresh)> on_early_data_check) {
  if (const auto* saved = event.get_if<SavedSession>()) {
    cache.Store(*saved, UnixNow());
    return true;
  }
  if (event.kind() != EventKind::kSessionLookup && event.kind() != EventKind::kEarlyDataCheck) {
    return false;
  }
  std::weak_ptr<void> alive = stream.lifetime();
  asio_tls::TlsStream* s = &stream;  // not moved while its handshake waits for the answer
  if (const auto* check = event.get_if<event::EarlyDataCheck>()) {
    cache.CheckEarlyData(check->identity, check->window,
                         [alive, s, observe = std::move(on_early_data_check)](bool fresh) {
                           if (alive.expired()) return;
                           if (observe) observe(fresh);
                           s->answer_early_data(fresh);
                         });
    return true;
  }
  cache.Lookup(event.get<event::SessionLookup>().session_id,
               [alive, s](std::optional<SavedSession> found) {
                 if (alive.expired()) return;
                 s->answer_session_lookup(std::move(found));
               });
  return true;
}

}  // namespace sansio_tls::redis
