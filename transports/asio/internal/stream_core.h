// Internal to the Asio transport: the state a Stream keeps on the heap and the one driver
// loop shared by its operations. Not part of the API.
//
// Each operation (handshake, read, write, shutdown) runs one of the steps every transport
// shares (transports/common/steps.h), which looks at the session and answers what to do next:
// complete, write the pending ciphertext, or read more from the next layer. The blocking path
// runs the step in a plain loop (RunSync); the asynchronous path runs the same step inside an
// asio::async_compose operation (Op below). Either way, the session's events are drained
// right after each call that can produce them.
//
// Concurrency (asynchronous path): Asio allows one read-side operation and one write-side
// operation at a time on a stream, from one strand. Two roles keep them from stepping on
// each other:
//  - input: the operation allowed to read from the next layer. A read or handshake holds it
//    for its whole life; a shutdown or write takes it only when it needs input.
//  - writer: the operation with a write to the next layer in flight; held for that write only.
// An operation that needs a busy role waits in that role's queue (cancellable); releasing a
// role hands it to the oldest waiter, which resumes holding it. No operation waits for a
// role while holding the other, so the two cannot deadlock. A read never waits for the
// writer: if another operation is writing, that one flushes whatever the read produced.
#ifndef SANSIO_TLS_TRANSPORTS_ASIO_INTERNAL_STREAM_CORE_H_
#define SANSIO_TLS_TRANSPORTS_ASIO_INTERNAL_STREAM_CORE_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/basic_stream_socket.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>
#include <asio/write.hpp>

#include "core/session.h"
#include "transports/asio/error.h"
#include "transports/common/driver.h"
#include "transports/common/steps.h"

namespace sansio_tls::asio_tls {

template <typename NextLayer>
class Stream;

// How the peer's side of the stream ended (transports/common/transport_types.h, shared
// with the other transports).
using transport::PeerEnd;
using transport::PeerEndName;

namespace detail {

// Reads take at most transport::Driver::ReadLimit() bytes (transports/common/driver.h): the
// session takes all of them. Sockets read into the per-thread transport::ReadBuffer(); a
// generic next layer reads into the stream's own buffer of transport::kReadChunk bytes.
// Scattered plaintext is gathered up to this size so that it becomes full records.
inline constexpr size_t kGatherSize = 16 * 1024;

// RecvNow reads what |fd| has now without waiting (MSG_DONTWAIT, EINTR retried). Returns the
// byte count; 0 with |ec| == asio::error::eof at the end of the stream, 0 with
// asio::error::would_block when nothing is there, 0 with another error on failure.
size_t RecvNow(int fd, std::span<uint8_t> out, std::error_code& ec);

// WaitReadable polls |fd| for input for at most |timeout| (negative: no limit). Returns true
// when readable (or in error, which the next read reports), false on timeout.
bool WaitReadable(int fd, std::chrono::milliseconds timeout);

template <typename T>
struct IsStreamSocket : std::false_type {};
template <typename Protocol, typename Executor>
struct IsStreamSocket<asio::basic_stream_socket<Protocol, Executor>> : std::true_type {};

// A suspended asynchronous operation waiting for a role.
class Waiter {
 public:
  virtual ~Waiter() = default;
  // Posts the operation to its executor; it resumes with |ec| (success: it holds the role).
  virtual void Resume(std::error_code ec) = 0;
  uint64_t id = 0;
};

// Resumer invokes a suspended composed operation with (ec, n) through its own associated
// executor and allocator.
template <typename Self>
struct Resumer {
  Self self;
  std::error_code ec;
  size_t n = 0;
  void operator()() { self(ec, n); }

  using executor_type = asio::associated_executor_t<Self>;
  executor_type get_executor() const noexcept { return asio::get_associated_executor(self); }
  using allocator_type = asio::associated_allocator_t<Self>;
  allocator_type get_allocator() const noexcept { return asio::get_associated_allocator(self); }
};

template <typename Self>
void PostResume(Self&& self, std::error_code ec, size_t n) {
  asio::post(Resumer<std::decay_t<Self>>{std::forward<Self>(self), ec, n});
}

template <typename Self>
class WaiterOf final : public Waiter {
 public:
  explicit WaiterOf(Self&& self) : self_(std::move(self)) {}
  // Destroyed unresumed only when the stream is destroyed: the operation is abandoned.
  ~WaiterOf() override {
    if (!resumed_) self_.get_cancellation_state().slot().clear();
  }
  void Resume(std::error_code ec) override {
    resumed_ = true;
    PostResume(std::move(self_), ec, 0);
  }

 private:
  Self self_;
  bool resumed_ = false;
};

// A role (input or writer) and the operations waiting for it, oldest first.
class RoleQueue {
 public:
  bool held() const { return held_; }
  bool has_waiters() const { return !waiters_.empty(); }
  // Takes the role if it is free.
  bool TryTake() {
    if (held_) return false;
    held_ = true;
    return true;
  }
  // Hands the role to the oldest waiter (resumed holding it), or frees it.
  void Release() {
    if (waiters_.empty()) {
      held_ = false;
      return;
    }
    std::unique_ptr<Waiter> w = std::move(waiters_.front());
    waiters_.erase(waiters_.begin());
    w->Resume({});
  }
  void Enqueue(std::unique_ptr<Waiter> w) { waiters_.push_back(std::move(w)); }
  // Resumes every waiter (for a queue used only to wait for an event, not a role).
  void ResumeAll() {
    std::vector<std::unique_ptr<Waiter>> all = std::move(waiters_);
    waiters_.clear();
    for (auto& w : all) w->Resume({});
  }
  // Resumes every waiter with operation_aborted (the stream is going away).
  void AbortAll() {
    std::vector<std::unique_ptr<Waiter>> all = std::move(waiters_);
    waiters_.clear();
    for (auto& w : all) w->Resume(asio::error::operation_aborted);
  }
  // Removes waiter |id| and resumes it with operation_aborted (it did not get the role).
  void Cancel(uint64_t id) {
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
      if ((*it)->id != id) continue;
      std::unique_ptr<Waiter> w = std::move(*it);
      waiters_.erase(it);
      w->Resume(asio::error::operation_aborted);
      return;
    }
  }

 private:
  bool held_ = false;
  // Oldest first; rarely more than one. (A vector: an empty deque allocates.)
  std::vector<std::unique_ptr<Waiter>> waiters_;
};

// A step's decision and the roles it may assume (transports/common/steps.h).
using transport::Action;
using transport::Outcome;
using StepContext = transport::Roles;

// Result of one read from the next layer.
enum class ReadResult {
  kProgress,  // bytes were fed, or the end (EOF / error) was recorded: step again
  kAgain,     // nothing there yet (socket): wait for readability
  kAborted,   // the wait or read was cancelled
};

// The heap state of a Stream. Operations keep a pointer to it and a copy of |alive|, which
// the destructor clears: handlers of the next layer's cancelled operations that run after the
// stream is gone see it and touch nothing.
template <typename NextLayer>
class Core {
 public:
  static constexpr bool kIsSocket = IsStreamSocket<NextLayer>::value;

  template <typename Arg>
  Core(Arg&& next_arg, Session s) : next(std::forward<Arg>(next_arg)), io(std::move(s)) {
    // Events the first tick produced (a client's ClientHello trace)
    // stay queued for the first operation: the application sets its handler after this.
    transport::Tick(io.session());
  }
  // Operations waiting for a role complete with operation_aborted (posted); those in the
  // next layer are aborted by its destruction.
  ~Core() {
    *alive = false;
    input.AbortAll();
    writer.AbortAll();
    app.AbortAll();
  }
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  NextLayer next;
  // The session and the state of the stream under it, shared with the other transports.
  // The error_codes below keep Asio's own codes for what the driver records as Errors.
  transport::Driver io;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  std::unique_ptr<uint8_t[]> read_buffer;  // generic next layers: target of async reads
  RoleQueue input, writer;
  uint64_t next_waiter_id = 1;
  std::error_code read_error;   // the next layer's read failure (other than EOF)
  std::error_code write_error;  // the next layer's write failure: output is undeliverable
  // Stream::set_allow_half_open; ended_with_peer: EndsWithPeer() closed this side.
  bool allow_half_open = true;
  bool ended_with_peer = false;
  // Released with the stream (a server's connection count).
  std::shared_ptr<void> owner_token;
  // Stream::lifetime(): allocated on first use, destroyed with the stream's state.
  std::shared_ptr<char> lifetime;
  // The Stream owning this core (kept current by its moves), for the event handler.
  Stream<NextLayer>* owner = nullptr;
  // Events that are not data; see Stream::set_event_handler.
  std::function<void(Stream<NextLayer>&, const Event&)> event_handler;
  // Operations waiting for the application to answer a pause (sni, lookup, verification).
  RoleQueue app;

  Session& s() { return io.session(); }
  const Session& s() const { return io.session(); }

  // The session's sticky error as an error_code.
  std::error_code SessionError() const { return ToErrorCode(*s().error()); }
  // How long a shutdown without a timeout of its own waits for the peer's end: the session's
  // close grace (SessionOptions::close_timeout), counted from our close_notify, which is
  // queued now when the handshake completed; else |fallback|.
  std::chrono::milliseconds CloseGrace(std::chrono::milliseconds fallback) {
    if (!s().handshake_done() || s().failed()) return fallback;
    transport::Tick(s());
    s().Close();  // the shutdown's first step finds it queued
    std::optional<Timestamp> deadline = io.next_deadline();
    if (!deadline) return fallback;
    return std::max(*deadline - transport::WallNow(), std::chrono::milliseconds(1));
  }

  // Node's allowHalfOpen = false: a read about to report the peer's close_notify (|a|) first
  // queues ours after everything written, once; the read then sends it and shuts the sending
  // side before it completes (ReadStep). True when the operation must step again.
  bool EndsWithPeer(const Action& a) {
    if (allow_half_open || ended_with_peer || a.kind != Action::kComplete ||
        a.outcome != Outcome::kPeerClosed || s().close_sent() || s().failed()) {
      return false;
    }
    ended_with_peer = true;
    s().Close();
    DrainEvents();
    return true;
  }

  // How a step's outcome reads in Asio's codes.
  std::error_code OutcomeCode(Outcome outcome) const {
    switch (outcome) {
      case Outcome::kOk:
        return {};
      case Outcome::kSessionError:
        return SessionError();
      case Outcome::kTransportError:
        return write_error ? write_error : read_error;
      case Outcome::kPeerClosed:
        return asio::error::eof;
      case Outcome::kTruncated:
        return read_error ? read_error : make_error_code(errc::truncated);
      case Outcome::kWriteAfterEnd:
        return errc::write_after_end;
      case Outcome::kHandshakeNotDone:
        return errc::handshake_not_done;
      case Outcome::kStalled:
        break;
    }
    return errc::internal;
  }

  // DrainEvents pops the session's events: events other than data and ends go to the event
  // handler (pauses without one get default answers: SNI the default credentials, a session
  // lookup a miss, a verification a rejection).
  void DrainEvents() {
    while (std::optional<Event> e = s().NextEvent()) {
      switch (e->kind()) {
        case EventKind::kPeerClosed:
        case EventKind::kPeerTruncated:
        case EventKind::kHandshakeDone:
        case EventKind::kReadable:
        case EventKind::kError:
          break;  // the operations read the session's state
        default:
          if (event_handler && owner) {
            event_handler(*owner, *e);
          } else {
            transport::DefaultAnswer(s(), *e);
          }
          break;
      }
    }
  }

  // AfterAnswer: the application answered a pause; the waiting operations go on.
  void AfterAnswer() {
    DrainEvents();
    app.ResumeAll();
  }

  // Feed gives ciphertext read from the next layer to the session. Reads take at most
  // io.ReadLimit() bytes, so the session takes all of them and nothing is kept aside; a
  // session taking less would be a bug, reported as errc::internal (never dropped silently).
  void Feed(std::span<const uint8_t> data) {
    transport::Tick(s());
    io.Received(data);
    if (io.input_ended()) read_error = make_error_code(errc::internal);
    AfterInput();
  }

  // EndOfInput records the next layer's end (|ec| is eof or the read error).
  void EndOfInput(std::error_code ec) {
    if (ec == asio::error::eof) {
      io.ReceivedEnd();
    } else {
      read_error = ec;
      io.ReceiveFailed(ErrorFromCode(ec));
    }
    AfterInput();
  }
  void AfterInput() { DrainEvents(); }

  // HalfClose shuts the socket's sending side once our close_notify is out (sockets only).
  void HalfClose() {
    if (!io.ShouldShutdownSend()) return;
    io.ShutdownSent();
    if constexpr (kIsSocket) {
      std::error_code ignored;
      next.shutdown(asio::socket_base::shutdown_send, ignored);
    }
  }

  // ---- Asynchronous next-layer calls ------------------------------------------------
  template <typename Handler>
  void AsyncWrite(Handler&& handler) {
    std::span<const uint8_t> out = io.ToSend();  // borrowed until consumed
    next.async_write_some(asio::buffer(out.data(), out.size()), std::forward<Handler>(handler));
  }
  void OnWritten(std::error_code ec, size_t n) {
    if (n > 0) io.Sent(n);
    if (ec && ec != asio::error::operation_aborted) {
      write_error = ec;
      io.SendFailed(ErrorFromCode(ec));
    }
  }

  // TryReadNow reads what a socket has without waiting; kAgain for generic next layers.
  ReadResult TryReadNow() {
    if constexpr (kIsSocket) {
      std::span<uint8_t> buf = transport::ReadBuffer().first(io.ReadLimit());
      if (buf.empty()) return ReadResult::kAgain;  // NeedInput reports a full session
      std::error_code ec;
      size_t n = RecvNow(next.native_handle(), buf, ec);
      if (ec == asio::error::would_block) return ReadResult::kAgain;
      if (ec) {
        EndOfInput(ec);
      } else {
        Feed(buf.first(n));
      }
      return ReadResult::kProgress;
    } else {
      return ReadResult::kAgain;
    }
  }

  // AsyncRead waits for input: readability of a socket (then TryReadNow reads), or a read
  // into read_buffer for other next layers. Complete with OnRead.
  template <typename Handler>
  void AsyncRead(Handler&& handler) {
    if constexpr (kIsSocket) {
      next.async_wait(asio::socket_base::wait_read, std::forward<Handler>(handler));
    } else {
      if (!read_buffer) read_buffer.reset(new uint8_t[transport::kReadChunk]);
      next.async_read_some(asio::buffer(read_buffer.get(), io.ReadLimit()),
                           std::forward<Handler>(handler));
    }
  }
  ReadResult OnRead(std::error_code ec, size_t n) {
    if (ec == asio::error::operation_aborted) return ReadResult::kAborted;
    if constexpr (kIsSocket) {
      if (ec) {
        EndOfInput(ec);
        return ReadResult::kProgress;
      }
      return TryReadNow();
    } else {
      if (n > 0) Feed({read_buffer.get(), n});
      if (ec) EndOfInput(ec);
      return ReadResult::kProgress;
    }
  }

  // ---- Blocking next-layer calls ----------------------------------------------------
  void SyncWrite() {
    std::span<const uint8_t> out = io.ToSend();
    std::error_code ec;
    size_t n = asio::write(next, asio::buffer(out.data(), out.size()), ec);
    OnWritten(ec, n);
  }
  // SyncRead reads once, blocking until input arrives (sockets: at most |timeout|, negative
  // for no limit; a socket found readable is read by the next call). False on timeout.
  bool SyncRead(std::chrono::milliseconds timeout) {
    if constexpr (kIsSocket) {
      if (TryReadNow() == ReadResult::kProgress) return true;
      return WaitReadable(next.native_handle(), timeout);
    } else {
      std::span<uint8_t> buf = transport::ReadBuffer().first(io.ReadLimit());
      std::error_code ec;
      size_t n = next.read_some(asio::buffer(buf.data(), buf.size()), ec);
      if (n > 0) Feed(buf.first(n));
      if (ec) EndOfInput(ec);
      return true;
    }
  }
};

// ---- Plaintext between buffer sequences and the session -------------------------------

// ReadPlaintext copies the session's plaintext into |buffers|; returns the count.
template <typename MutableBufferSequence>
size_t ReadPlaintext(Session& s, const MutableBufferSequence& buffers) {
  size_t total = 0;
  for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
       ++it) {
    asio::mutable_buffer b = *it;
    if (b.size() == 0) continue;
    size_t n = s.Read({static_cast<uint8_t*>(b.data()), b.size()});
    total += n;
    if (n < b.size()) break;
  }
  return total;
}

// WritePlaintext gives |buffers| to the session (as much as it accepts). One buffer, or a
// first buffer of at least kGatherSize, goes as is; smaller scattered pieces are gathered
// first so that they make full records. Returns the bytes accepted (a prefix of |buffers|).
template <typename ConstBufferSequence>
size_t WritePlaintext(Session& s, const ConstBufferSequence& buffers) {
  size_t total = asio::buffer_size(buffers);
  asio::const_buffer first;
  for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
       ++it) {
    first = *it;
    if (first.size() > 0) break;
  }
  if (first.size() == total || first.size() >= kGatherSize) {
    return s.Write({static_cast<const uint8_t*>(first.data()), first.size()});
  }
  uint8_t gathered[kGatherSize];
  size_t n = asio::buffer_copy(asio::buffer(gathered), buffers);
  return s.Write({gathered, n});
}

// The shared read and write steps (transports/common/steps.h) over buffer sequences.
template <typename C, typename MutableBufferSequence>
Action ReadBuffersStep(C& c, const StepContext& ctx, const MutableBufferSequence& buffers) {
  return transport::ReadStep(c, ctx, [&] { return ReadPlaintext(c.s(), buffers); });
}
template <typename C, typename ConstBufferSequence>
Action WriteBuffersStep(C& c, const StepContext& ctx, const ConstBufferSequence& buffers,
                        std::optional<size_t>& accepted) {
  return transport::WriteStep(
      c, ctx, [&] { return WritePlaintext(c.s(), buffers); }, accepted);
}

// ---- The blocking driver ------------------------------------------------------------------

// RunSync runs |step| to completion with blocking next-layer calls. |timeout| bounds each
// wait for input on sockets (negative: none); on expiry it completes with |timeout_code|.
template <typename C, typename StepFn>
std::pair<std::error_code, size_t> RunSync(
    C& c, StepFn&& step, std::chrono::milliseconds timeout = std::chrono::milliseconds(-1),
    std::error_code timeout_code = {}) {
  const StepContext ctx{.holds_input = true, .can_write = true};
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    Action a = step(ctx);
    switch (a.kind) {
      case Action::kComplete:
        if (c.EndsWithPeer(a)) break;
        return {c.OutcomeCode(a.outcome), a.n};
      case Action::kWrite:
        c.SyncWrite();
        break;
      case Action::kShutdownSend:
        c.HalfClose();
        break;
      case Action::kWaitApp:
        // Nothing else runs while a blocking call waits: the event handler must answer.
        return {ErrorCodeFor(transport::kErrPauseUnanswered), 0};
      case Action::kRead:
      case Action::kYieldInput: {
        std::chrono::milliseconds left(-1);
        if (timeout.count() >= 0) {
          left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
          if (left.count() < 0) return {timeout_code, 0};
        }
        if (!c.SyncRead(left)) return {timeout_code, 0};
        break;
      }
    }
  }
}

// ---- The asynchronous driver ------------------------------------------------------------

// Op runs |Derived|'s Step inside asio::async_compose. Derived provides:
//   Action Step(const StepContext&);
//   static constexpr bool kHasSize;   // completion signature void(ec, size_t) or void(ec)
//   asio cancellation filter via Filter().
template <typename NextLayer, typename Derived>
class Op {
 public:
  explicit Op(Core<NextLayer>* core) : core_(core), alive_(core->alive) {}

  template <typename Self>
  void operator()(Self& self, std::error_code ec = {}, size_t n = 0) {
    if (!*alive_) return Finish(self, asio::error::operation_aborted, 0);
    Core<NextLayer>& c = *core_;
    switch (std::exchange(await_, Await::kNone)) {
      case Await::kNone:  // the initiating call
        self.reset_cancellation_state(Derived::Filter());
        break;
      case Await::kPosted:
        return Deliver(self);
      case Await::kWrite:
        c.OnWritten(ec, n);
        holds_writer_ = false;
        c.writer.Release();
        if (ec == asio::error::operation_aborted) return Finish(self, ec, 0);
        break;
      case Await::kRead:
        if (c.OnRead(ec, n) == ReadResult::kAborted) {
          return Finish(self, asio::error::operation_aborted, 0);
        }
        break;
      case Await::kInput:
        if (ec) return Finish(self, ec, 0);
        holds_input_ = true;
        break;
      case Await::kWriter:
        if (ec) return Finish(self, ec, 0);
        holds_writer_ = true;
        break;
      case Await::kApp:
        if (ec) return Finish(self, ec, 0);
        break;
    }
    Run(self);
  }

 private:
  enum class Await : uint8_t { kNone, kPosted, kWrite, kRead, kInput, kWriter, kApp };

  template <typename Self>
  void Run(Self& self) {
    Core<NextLayer>& c = *core_;
    for (;;) {
      StepContext ctx{.holds_input = holds_input_,
                      .can_write = holds_writer_ || !c.writer.held(),
                      .input_wanted = c.input.has_waiters()};
      Action a = static_cast<Derived*>(this)->Step(ctx);
      switch (a.kind) {
        case Action::kComplete:
          if (c.EndsWithPeer(a)) continue;
          return Finish(self, c.OutcomeCode(a.outcome), a.n);
        case Action::kShutdownSend:
          c.HalfClose();
          continue;
        case Action::kWrite:
          if (!holds_writer_ && !c.writer.TryTake()) return Wait(self, c.writer, Await::kWriter);
          holds_writer_ = true;
          if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none) {
            return Finish(self, asio::error::operation_aborted, 0);
          }
          await_ = Await::kWrite;
          started_ = true;
          return c.AsyncWrite(std::move(self));
        case Action::kWaitApp:
          return Wait(self, c.app, Await::kApp);
        case Action::kYieldInput:
          holds_input_ = false;
          c.input.Release();  // to the waiter; this operation queues behind it
          return Wait(self, c.input, Await::kInput);
        case Action::kRead:
          if (!holds_input_) {
            if (!c.input.TryTake()) return Wait(self, c.input, Await::kInput);
            holds_input_ = true;
            continue;  // step again now that the input role is held
          }
          if (c.TryReadNow() == ReadResult::kProgress) continue;
          if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none) {
            return Finish(self, asio::error::operation_aborted, 0);
          }
          await_ = Await::kRead;
          started_ = true;
          return c.AsyncRead(std::move(self));
      }
    }
  }

  // Wait suspends the operation in |role|'s queue; the operation's cancellation slot (if
  // any) removes it from there.
  template <typename Self>
  void Wait(Self& self, RoleQueue& role, Await what) {
    if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none) {
      return Finish(self, asio::error::operation_aborted, 0);
    }
    Core<NextLayer>& c = *core_;
    uint64_t id = c.next_waiter_id++;
    asio::cancellation_slot slot = self.get_cancellation_state().slot();
    if (slot.is_connected()) {
      slot.assign([alive = alive_, role = &role, id](asio::cancellation_type_t) {
        if (*alive) role->Cancel(id);
      });
    }
    await_ = what;
    started_ = true;
    auto w = std::make_unique<WaiterOf<std::decay_t<Self>>>(std::move(self));
    w->id = id;
    role.Enqueue(std::move(w));
  }

  // Finish completes; when nothing asynchronous happened yet (still inside the initiating
  // call), the completion is posted instead.
  template <typename Self>
  void Finish(Self& self, std::error_code ec, size_t n) {
    result_ec_ = ec;
    result_n_ = n;
    if (!started_) {
      started_ = true;
      await_ = Await::kPosted;
      return PostResume(std::move(self), ec, n);
    }
    Deliver(self);
  }

  // Deliver releases the roles held, then calls the completion handler: an operation the
  // handler starts sees the roles as they now are (a read it issues queues before anything
  // that resumes later).
  template <typename Self>
  void Deliver(Self& self) {
    if (*alive_) {
      if (holds_input_) core_->input.Release();
      if (holds_writer_) core_->writer.Release();
    }
    holds_input_ = holds_writer_ = false;
    if constexpr (Derived::kHasSize) {
      self.complete(result_ec_, result_n_);
    } else {
      self.complete(result_ec_);
    }
  }

 protected:
  Core<NextLayer>* core_;

 private:
  std::shared_ptr<bool> alive_;
  Await await_ = Await::kNone;
  bool started_ = false;  // an asynchronous step was started (completion may be direct)
  bool holds_input_ = false;
  bool holds_writer_ = false;
  std::error_code result_ec_;
  size_t result_n_ = 0;
};

template <typename NextLayer>
class HandshakeOp : public Op<NextLayer, HandshakeOp<NextLayer>> {
 public:
  static constexpr bool kHasSize = false;
  static auto Filter() { return asio::enable_partial_cancellation(); }
  explicit HandshakeOp(Core<NextLayer>* c) : Op<NextLayer, HandshakeOp>(c) {}
  Action Step(const StepContext& ctx) { return transport::HandshakeStep(*this->core_, ctx); }
};

template <typename NextLayer, typename MutableBufferSequence>
class ReadOp : public Op<NextLayer, ReadOp<NextLayer, MutableBufferSequence>> {
 public:
  static constexpr bool kHasSize = true;
  // Cancelling a read loses nothing: ciphertext read so far stays in the session.
  static auto Filter() { return asio::enable_total_cancellation(); }
  ReadOp(Core<NextLayer>* c, const MutableBufferSequence& buffers)
      : Op<NextLayer, ReadOp>(c), buffers_(buffers) {}
  Action Step(const StepContext& ctx) {
    if (asio::buffer_size(buffers_) == 0) return Action::Complete(Outcome::kOk, 0);
    return ReadBuffersStep(*this->core_, ctx, buffers_);
  }

 private:
  MutableBufferSequence buffers_;
};

// Completes when plaintext is readable, taking none (Stream::async_wait_readable): a read
// into no buffer.
template <typename NextLayer>
class WaitReadableOp : public Op<NextLayer, WaitReadableOp<NextLayer>> {
 public:
  static constexpr bool kHasSize = false;
  static auto Filter() { return asio::enable_total_cancellation(); }
  explicit WaitReadableOp(Core<NextLayer>* c) : Op<NextLayer, WaitReadableOp>(c) {}
  Action Step(const StepContext& ctx) {
    return ReadBuffersStep(*this->core_, ctx, asio::mutable_buffer());
  }
};

template <typename NextLayer, typename ConstBufferSequence>
class WriteOp : public Op<NextLayer, WriteOp<NextLayer, ConstBufferSequence>> {
 public:
  static constexpr bool kHasSize = true;
  static auto Filter() { return asio::enable_partial_cancellation(); }
  WriteOp(Core<NextLayer>* c, const ConstBufferSequence& buffers)
      : Op<NextLayer, WriteOp>(c), buffers_(buffers) {}
  Action Step(const StepContext& ctx) {
    if (!accepted_ && asio::buffer_size(buffers_) == 0) return Action::Complete(Outcome::kOk, 0);
    return WriteBuffersStep(*this->core_, ctx, buffers_, accepted_);
  }

 private:
  ConstBufferSequence buffers_;
  std::optional<size_t> accepted_;
};

template <typename NextLayer>
class ShutdownOp : public Op<NextLayer, ShutdownOp<NextLayer>> {
 public:
  static constexpr bool kHasSize = false;
  static auto Filter() { return asio::enable_partial_cancellation(); }
  ShutdownOp(Core<NextLayer>* c, bool send_only)
      : Op<NextLayer, ShutdownOp>(c), send_only_(send_only) {}
  Action Step(const StepContext& ctx) {
    return transport::ShutdownStep(*this->core_, ctx, send_only_, /*discard_unread=*/false,
                                   started_);
  }

 private:
  bool send_only_;
  bool started_ = false;
};

}  // namespace detail
}  // namespace sansio_tls::asio_tls

#endif  // SANSIO_TLS_TRANSPORTS_ASIO_INTERNAL_STREAM_CORE_H_
