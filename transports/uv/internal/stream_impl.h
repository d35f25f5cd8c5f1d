// StreamImpl: the state behind a uv_tls::Stream. Internal: shared by stream.cc and server.cc.
//
// It lives on the heap apart from the Stream the application holds: the Stream can go at
// any time (even inside a callback), while the libuv handles and requests still refer to
// this object until their callbacks ran. It frees itself once it is detached from its
// Stream, closed, every handle/request callback came back, and no call of its is on the
// stack.
#ifndef SANSIO_TLS_TRANSPORTS_UV_INTERNAL_STREAM_IMPL_H_
#define SANSIO_TLS_TRANSPORTS_UV_INTERNAL_STREAM_IMPL_H_

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/session.h"
#include "transports/common/driver.h"
#include "transports/uv/stream.h"

namespace sansio_tls::uv_tls::internal {

// What a server provides to the streams it accepted (transports/uv/server.cc). Shared with
// them, so it outlives the Server object if they do.
class ServerLink {
 public:
  virtual ~ServerLink() = default;
  // Fallbacks for streams without their own session_event / key_log callback. True when
  // the server handled the event.
  virtual bool SessionEvent(Stream& stream, const Event& event) = 0;
  virtual bool KeyLog(Stream& stream, std::string_view line) = 0;
  // The stream's socket closed (before its close callback).
  virtual void StreamClosed(StreamImpl* impl) = 0;
};

// An Error for a libuv error number: code = its name ("ECONNREFUSED"), message = "what: text".
Error UvError(int err, const char* what);

class StreamImpl {
 public:
  enum class Phase : uint8_t { kConnecting, kOpen, kClosing, kClosed };

  // A stream on a connected handle (owned from now on, allocated with new). |tcp|'s reads
  // are stopped and its data pointer replaced.
  // The first turn runs from the loop (never inside this call).
  static std::unique_ptr<Stream> Adopt(uv_tcp_t* tcp, Session session, const StreamOptions& options,
                                       StreamCallbacks callbacks);
  // A stream that connects first (Connect()).
  static std::unique_ptr<Stream> StartConnect(uv_loop_t* loop, std::string host, uint16_t port,
                                              Session session, const ConnectOptions& options,
                                              StreamCallbacks callbacks);

  // Entry guard: every libuv callback and public call holds one; the last one out frees a
  // detached, finished stream.
  class Guard {
   public:
    explicit Guard(StreamImpl* s) : s_(s) { ++s_->busy_; }
    ~Guard() {
      if (--s_->busy_ == 0) s_->MaybeFree();
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    StreamImpl* s_;
  };

  // ---- Called by Stream ----
  void Detach();  // the application's Stream is gone
  void SetCallbacks(StreamCallbacks callbacks);
  bool Write(std::span<const uint8_t> data);
  void End();
  void CloseNow(std::optional<Error> error);
  void Pause() { paused_ = true; }
  void Resume();
  void Pump();

  // ---- Called by Server ----
  void set_server(std::shared_ptr<ServerLink> server) { server_ = std::move(server); }
  // Closes with close_notify when the socket takes it at once, then closes with |error|.
  void ForceClose(Error error);

  // ---- State ----
  Session& session() { return io_.session(); }
  const Session& session() const { return io_.session(); }
  uv_loop_t* loop() const { return loop_; }
  bool paused() const { return paused_ || !cb_.data; }
  Phase phase() const { return phase_; }
  PeerEnd peer_end() const;
  std::optional<Error> error() const;
  SocketAddress local_address() const;
  SocketAddress peer_address() const;
  uint64_t bytes_sent() const { return io_.bytes_sent(); }
  uint64_t bytes_received() const { return io_.bytes_received(); }
  size_t buffered_bytes() const;

 private:
  // kDeadline: the session's next deadline (transport::Driver::next_deadline).
  enum class TimerKind : uint8_t { kNone, kKick, kConnect, kDeadline };

  StreamImpl(uv_loop_t* loop, Session session, const StreamOptions& options,
             StreamCallbacks callbacks);
  ~StreamImpl();
  void MaybeFree();

  // libuv callbacks (data pointers carry |this|).
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnShutdown(uv_shutdown_t* req, int status);
  static void OnTimer(uv_timer_t* timer);
  static void OnHandleClosed(uv_handle_t* handle);
  static void OnResolved(uv_getaddrinfo_t* req, int status, struct addrinfo* res);
  static void OnConnected(uv_connect_t* req, int status);

  void AttachTcp(uv_tcp_t* tcp);
  void TryNextAddress();
  void Opened();  // TCP is connected: the session starts
  void StartTimer(TimerKind kind, int64_t ms);
  void StopTimer();
  void Rearm();  // the timer at the session's next deadline, unless another kind runs
  void CloseHandle(uv_handle_t* handle);
  void AfterPending();

  // One pass each; true when something moved.
  bool Dispatch();
  bool Deliver();
  bool FeedBacklog();
  bool Flush();
  void MaybeShutdown();
  void UpdateReading();
  void MaybeDrain();
  void MaybeFinish();
  void DefaultAnswer(const Event& event);

  // Runs an application callback: none once detached; set_callbacks inside it is deferred.
  template <typename F, typename... Args>
  void Invoke(F StreamCallbacks::*member, Args&&... args);
  void ApplyPendingCallbacks();

  uv_loop_t* loop_;
  Stream* owner_ = nullptr;  // the application's Stream; null once detached
  transport::Driver io_;     // the session and the state of the socket under it
  StreamCallbacks cb_;
  std::unique_ptr<StreamCallbacks> next_cb_;  // set_callbacks during a callback
  std::shared_ptr<ServerLink> server_;
  bool allow_half_open_;

  uv_tcp_t* tcp_ = nullptr;      // heap; null before TCP exists and once its close began
  uv_timer_t* timer_ = nullptr;  // heap; only while a deadline runs
  TimerKind timer_kind_ = TimerKind::kNone;
  std::optional<Timestamp> armed_;  // the deadline a kDeadline timer is set for

  // Connect: resolution and attempts (freed once connected).
  struct Connecting;
  std::unique_ptr<Connecting> connecting_;

  std::vector<uint8_t> backlog_;  // written by the application, not yet taken by Write()
  size_t backlog_pos_ = 0;
  size_t write_in_flight_ = 0;  // bytes of PendingOutput() handed to uv_write
  // Rare: on the heap, so that an idle stream does not carry an empty Error.
  std::unique_ptr<Error> close_error_;  // what `close` reports
  int pending_ = 0;                     // handles and requests whose callbacks have not come back
  int busy_ = 0;                        // Guards on the stack
  int in_callback_ = 0;
  Phase phase_ = Phase::kConnecting;
  bool reading_ = false;
  bool shutdown_done_ = false;  // the half-close (io_.ShutdownSent()) completed
  bool end_requested_ = false;
  bool end_reported_ = false;
  bool secure_reported_ = false;
  bool need_drain_ = false;
  bool paused_ = false;
  bool pumping_ = false, pump_again_ = false;
  bool close_reported_ = false;
};

}  // namespace sansio_tls::uv_tls::internal

#endif  // SANSIO_TLS_TRANSPORTS_UV_INTERNAL_STREAM_IMPL_H_
