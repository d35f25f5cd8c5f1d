// EventQueue: a Session's unread events, in order. Internal: not part of the public API.
//
// Most events carry nothing but their kind (kReadable once per received burst during bulk
// transfer, kPeerClosed, ...) or a payload the Session still holds when the event is popped
// (kHandshakeDone: handshake_info(); kError: error()). Those are queued as one byte in a
// small inline ring: no heap call per event. Events with a payload of their own (a
// SavedSession, a key-log line, ...) and entries beyond the ring go to a side store,
// allocated on first use and freed once drained, so an idle session holds no event storage.
#ifndef SANSIO_TLS_CORE_INTERNAL_EVENT_QUEUE_H_
#define SANSIO_TLS_CORE_INTERNAL_EVENT_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace sansio_tls {
class Event;
enum class EventKind;
}  // namespace sansio_tls

namespace sansio_tls::internal {

class EventQueue {
 public:
  EventQueue();
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  bool empty() const { return count_ == 0 && !spill_; }

  // PushKind queues an event of |kind| whose payload the Session supplies when it is popped.
  void PushKind(EventKind kind);
  // Push queues |event| with its payload.
  void Push(Event event);
  // Pop removes the oldest event; returns false when there is none. One queued by Push() is
  // emplaced in |out|; for one queued by PushKind(), |out| is left empty and |*kind| set.
  bool Pop(std::optional<Event>& out, EventKind* kind);

 private:
  struct Spill;
  static constexpr uint8_t kStored = 0x80;  // entry flag: the payload is in spill_->events
  static constexpr size_t kRing = 8;

  void Append(uint8_t entry);

  uint8_t ring_[kRing];
  uint8_t head_ = 0, count_ = 0;
  std::unique_ptr<Spill> spill_;  // entries after the ring's, and stored payloads
};

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_EVENT_QUEUE_H_
