// Internal to the Asio transport: run an asynchronous operation under a deadline.
#ifndef SANSIO_TLS_TRANSPORTS_ASIO_INTERNAL_TIMEOUT_H_
#define SANSIO_TLS_TRANSPORTS_ASIO_INTERNAL_TIMEOUT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <system_error>
#include <utility>

#include <asio/basic_waitable_timer.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>

namespace sansio_tls::asio_tls::detail {

// TimeoutOp starts |initiation(handler)| with a handler bound to a cancellation slot of its
// own. That slot is emitted (terminal) when |timeout| passes, and relays the caller's own
// cancellation (a |timeout| <= 0 arms no timer). An operation that then ends with operation_aborted
// is reported with |timeout_code| if the deadline caused it. The timer runs on |executor|; its
// handler runs on the operation's associated executor, so no state is touched from two threads.
template <typename Executor, typename Initiation>
class TimeoutOp {
 public:
  TimeoutOp(const Executor& executor, std::chrono::steady_clock::duration timeout,
            std::function<std::error_code()> timeout_code, Initiation initiation)
      : executor_(executor),
        timeout_(timeout),
        timeout_code_(timeout_code),
        initiation_(std::move(initiation)) {}

  template <typename Self>
  void operator()(Self& self) {
    self.reset_cancellation_state(asio::enable_total_cancellation());
    if (timeout_ <= timeout_.zero()) {  // no deadline: the operation as it is
      Initiation initiation = std::move(initiation_);
      initiation(std::move(self));
      return;
    }
    // Not the handler's allocator: the state outlives the completion until the timer's
    // handler has run.
    state_ = std::make_shared<State>(executor_);
    std::shared_ptr<State> st = state_;
    asio::cancellation_slot slot = self.get_cancellation_state().slot();
    if (slot.is_connected()) {
      slot.assign([st](asio::cancellation_type_t type) { st->signal.emit(type); });
    }
    if (timeout_ > timeout_.zero()) {
      st->timer.expires_after(timeout_);
      st->timer.async_wait(asio::bind_executor(self.get_executor(), [st](std::error_code ec) {
        if (ec || st->done) return;
        st->fired = true;
        st->signal.emit(asio::cancellation_type::terminal);
      }));
    }
    Initiation initiation = std::move(initiation_);
    initiation(asio::bind_cancellation_slot(st->signal.slot(), std::move(self)));
  }

  template <typename Self, typename... Args>
  void operator()(Self& self, std::error_code ec, Args&&... args) {
    std::shared_ptr<State> st = std::move(state_);
    if (!st) return self.complete(ec, std::forward<Args>(args)...);  // no deadline was armed
    st->done = true;
    st->timer.cancel();
    if (st->fired && ec == asio::error::operation_aborted) ec = timeout_code_();
    st.reset();
    self.complete(ec, std::forward<Args>(args)...);
  }

 private:
  struct State {
    explicit State(const Executor& ex) : timer(ex) {}
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, Executor>
        timer;
    asio::cancellation_signal signal;
    bool fired = false;  // the deadline cancelled the operation
    bool done = false;   // the operation completed
  };

  Executor executor_;
  std::chrono::steady_clock::duration timeout_;
  std::function<std::error_code()> timeout_code_;  // asked when the deadline cancelled it
  Initiation initiation_;
  std::shared_ptr<State> state_;
};

// AsyncWithTimeout runs |initiation| (callable with a completion handler) under |timeout|;
// see TimeoutOp. Signature is the operation's completion signature (error_code first).
template <typename Signature, typename Executor, typename Initiation, typename Token>
auto AsyncWithTimeout(const Executor& executor, std::chrono::steady_clock::duration timeout,
                      std::function<std::error_code()> timeout_code, Initiation&& initiation,
                      Token&& token) {
  return asio::async_compose<Token, Signature>(
      TimeoutOp<Executor, std::decay_t<Initiation>>(executor, timeout, std::move(timeout_code),
                                                    std::forward<Initiation>(initiation)),
      token, executor);
}
template <typename Signature, typename Executor, typename Initiation, typename Token>
auto AsyncWithTimeout(const Executor& executor, std::chrono::steady_clock::duration timeout,
                      std::error_code timeout_code, Initiation&& initiation, Token&& token) {
  return AsyncWithTimeout<Signature>(
      executor, timeout, [timeout_code] { return timeout_code; },
      std::forward<Initiation>(initiation), std::forward<Token>(token));
}

}  // namespace sansio_tls::asio_tls::detail

#endif  // SANSIO_TLS_TRANSPORTS_ASIO_INTERNAL_TIMEOUT_H_
