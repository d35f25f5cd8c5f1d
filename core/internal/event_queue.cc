#include "core/internal/event_queue.h"

#include <utility>
#include <vector>

#include "core/session.h"

namespace sansio_tls::internal {

struct EventQueue::Spill {
  std::vector<uint8_t> entries;  // queued after the ring's entries, oldest at entries_head
  size_t entries_head = 0;
  std::vector<Event> events;  // payloads of kStored entries, oldest at events_head
  size_t events_head = 0;

  bool has_entries() const { return entries_head < entries.size(); }
  bool empty() const { return !has_entries() && events_head == events.size(); }
};

EventQueue::EventQueue() = default;
EventQueue::~EventQueue() = default;

void EventQueue::Append(uint8_t entry) {
  // The ring holds the oldest entries; once an entry spilled, later ones follow it there.
  if (count_ < kRing && !(spill_ && spill_->has_entries())) {
    ring_[(head_ + count_) % kRing] = entry;
    ++count_;
    return;
  }
  if (!spill_) spill_ = std::make_unique<Spill>();
  spill_->entries.push_back(entry);
}

void EventQueue::PushKind(EventKind kind) { Append(static_cast<uint8_t>(kind)); }

void EventQueue::Push(Event event) {
  if (!spill_) spill_ = std::make_unique<Spill>();
  if (spill_->events.empty()) spill_->events.reserve(4);
  uint8_t entry = static_cast<uint8_t>(event.kind()) | kStored;
  spill_->events.push_back(std::move(event));
  Append(entry);
}

bool EventQueue::Pop(std::optional<Event>& out, EventKind* kind) {
  uint8_t entry;
  if (count_ > 0) {
    entry = ring_[head_];
    head_ = static_cast<uint8_t>((head_ + 1) % kRing);
    --count_;
  } else if (spill_ && spill_->has_entries()) {
    entry = spill_->entries[spill_->entries_head++];
  } else {
    return false;
  }
  if (entry & kStored) {
    out.emplace(std::move(spill_->events[spill_->events_head++]));
  } else {
    *kind = static_cast<EventKind>(entry);
  }
  if (spill_ && spill_->empty()) spill_.reset();  // idle sessions hold no event storage
  return true;
}

}  // namespace sansio_tls::internal
