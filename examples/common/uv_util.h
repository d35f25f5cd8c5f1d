// What the libuv programs share (echo_server, echo_client, starttls, demo): handle cleanup,
// ownership of server streams, and the echo of one connection. Not part of the library.
#ifndef SANSIO_TLS_EXAMPLES_COMMON_UV_UTIL_H_
#define SANSIO_TLS_EXAMPLES_COMMON_UV_UTIL_H_

#include <uv.h>

#include <memory>
#include <unordered_map>

#include "transports/uv/stream.h"

namespace sansio_tls::examples {

// Closes |h| (allocated with new) and deletes it in its close callback.
template <typename Handle>
void CloseAndDelete(Handle* h) {
  uv_close(reinterpret_cast<uv_handle_t*>(h),
           [](uv_handle_t* handle) { delete reinterpret_cast<Handle*>(handle); });
}

// The streams a server handed over, destroyed in their own close callback.
class StreamSet {
 public:
  uv_tls::Stream* Add(std::unique_ptr<uv_tls::Stream> s) {
    uv_tls::Stream* raw = s.get();
    streams_.emplace(raw, std::move(s));
    return raw;
  }
  void Remove(uv_tls::Stream& s) { streams_.erase(&s); }  // inside its own callback: allowed
  void Clear() { streams_.clear(); }

 private:
  std::unordered_map<uv_tls::Stream*, std::unique_ptr<uv_tls::Stream>> streams_;
};

// The echo of one connection: everything read is written back; a Write() that says "full"
// pauses reading until drain. The stream leaves |set| when it closes.
inline uv_tls::StreamCallbacks UvEchoCallbacks(StreamSet* set) {
  uv_tls::StreamCallbacks cb;
  cb.data = [](uv_tls::Stream& s, std::span<const uint8_t> bytes) {
    if (!s.Write(bytes)) s.Pause();
  };
  cb.drain = [](uv_tls::Stream& s) { s.Resume(); };
  cb.close = [set](uv_tls::Stream& s, const std::optional<Error>&) { set->Remove(s); };
  return cb;
}

}  // namespace sansio_tls::examples

#endif  // SANSIO_TLS_EXAMPLES_COMMON_UV_UTIL_H_
