// Session lifecycle state: resumption, 0-RTT, key updates, the server session store and
// the session clock. Internal: used by Context and Session (core/session_lifecycle.cc).
#ifndef SANSIO_TLS_CORE_INTERNAL_LIFECYCLE_H_
#define SANSIO_TLS_CORE_INTERNAL_LIFECYCLE_H_

#include <openssl/base.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/internal/buffer.h"
#include "core/resumption.h"

namespace sansio_tls::internal {

// ScopedClock sets, for the calling thread, the time BoringSSL's current-time callback
// reports (session lifetimes, ticket ages) while a Session runs BoringSSL code; nested
// scopes restore the outer value. Without one, or with |now| unset, the callback reports
// the epoch (0): the core reads no clock.
class ScopedClock {
 public:
  explicit ScopedClock(const std::optional<int64_t>& now) : saved_(current_) { current_ = &now; }
  ~ScopedClock() { current_ = saved_; }
  ScopedClock(const ScopedClock&) = delete;
  ScopedClock& operator=(const ScopedClock&) = delete;

  // The time seen by BoringSSL now on this thread (unix seconds). No clock is read: a
  // session never given a time runs at the epoch.
  static int64_t Now() { return current_ && current_->has_value() ? **current_ : 0; }

 private:
  // The innermost live scope's time on this thread; null outside any scope.
  static constinit thread_local const std::optional<int64_t>* current_;
  const std::optional<int64_t>* saved_;
};

// SessionStore: a server's TLS 1.2 sessions by ID, least recently used evicted beyond
// |capacity|. Thread-safe (one mutex; entries are shared immutable SavedSessions).
class SessionStore {
 public:
  explicit SessionStore(size_t capacity) : capacity_(capacity) {}
  void Put(const SavedSession& session);  // keyed by session.id(); empty IDs are ignored
  // Returns the session for |id| (marking it recently used), or nullopt. An entry already
  // expired at |now| is removed and not returned.
  std::optional<SavedSession> Get(std::span<const uint8_t> id, int64_t now);
  size_t size() const;

 private:
  using Entry = std::pair<std::string, SavedSession>;
  struct IdHash {  // lets Get() look up a string_view of the ID without building a string
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator, IdHash, std::equal_to<>> by_id_;
};

// Per-session lifecycle state (in Session::Rare, allocated on first use: every default
// value here means "not used").
struct Lifecycle {
  // ---- Resumption ----
  std::optional<AuthInfo> resumed_auth;  // server: what the ticket carried
  enum class Lookup : uint8_t { kNone, kPending, kAnswered } lookup = Lookup::kNone;
  std::string lookup_id;                      // server, external cache: the ID looked up
  std::optional<SavedSession> lookup_answer;  // the application's answer (nullopt: miss)

  // ---- 0-RTT ----
  bool early_window = false;      // client: BoringSSL takes early data now
  bool early_attempted = false;   // client: the ClientHello offered early data
  bool early_offered = false;     // server: the client's ClientHello offered early data
  bool early_rejected = false;    // client: the server refused it
  bool one_rtt_readable = false;  // server: 1-RTT data arrived with the last early read
  ByteQueue early_sent;           // client: early bytes kept until accepted or re-sent
  uint64_t early_bytes = 0;       // client: early bytes sent; server: received
};

// Key update counters (a member of Session: the default record budget counts every write).
struct KeyUpdateCounters {
  uint64_t bytes_since_update = 0;
  uint64_t records_since_update = 0;
  uint64_t key_updates_sent = 0;
  uint32_t updates_without_data = 0;  // KeyUpdates sent since our last application data
};

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_LIFECYCLE_H_
