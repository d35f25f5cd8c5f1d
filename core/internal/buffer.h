// Byte buffers of the session. Internal: not part of the public API.
//
// Both release their memory when they become empty, so an idle session holds no buffer
// (record-sized blocks go back to a small per-thread cache, RecordBlocks).
#ifndef SANSIO_TLS_CORE_INTERNAL_BUFFER_H_
#define SANSIO_TLS_CORE_INTERNAL_BUFFER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

namespace sansio_tls::internal {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// Record-sized blocks: one TLS record with its overhead fits.
inline constexpr size_t kRecordBlockSize = 17 * 1024;

// RecordBlocks reuses record-sized blocks within a thread. Sending or receiving a record
// allocates a block that is freed once drained (so idle sessions hold none); keeping the
// last few freed blocks turns that malloc/free pair per record into a pointer move. At most
// kSpare blocks per thread are kept, freed when the thread exits.
class RecordBlocks {
 public:
  static std::unique_ptr<uint8_t[]> Take() {
    Spares& s = spares();
    if (s.count > 0) return std::move(s.blocks[--s.count]);
    return std::unique_ptr<uint8_t[]>(new uint8_t[kRecordBlockSize]);
  }
  // |block| must hold kRecordBlockSize bytes (from Take() or new[]).
  static void Give(std::unique_ptr<uint8_t[]> block) {
    Spares& s = spares();
    if (block && s.count < kSpare) s.blocks[s.count++] = std::move(block);
  }

 private:
  // None under AddressSanitizer, which must see every block freed (a stale PendingOutput()
  // span then faults instead of reading another session's bytes).
  static constexpr size_t kSpare = kAddressSanitizer ? 0 : 2;
  struct Spares {
    std::unique_ptr<uint8_t[]> blocks[kSpare + 1];  // + 1: no zero-length array
    size_t count = 0;
  };
  static Spares& spares() {
    thread_local Spares s;
    return s;
  }
};

// ByteQueue is a contiguous FIFO of bytes. Appending may move the stored bytes, so spans
// returned by data() are valid only until the next mutating call.
class ByteQueue {
 public:
  size_t size() const { return tail_ - head_; }
  bool empty() const { return tail_ == head_; }
  std::span<const uint8_t> data() const { return {buf_.get() + head_, size()}; }

  void Append(std::span<const uint8_t> bytes) {
    if (bytes.empty()) return;
    std::memcpy(PrepareAppend(bytes.size()).data(), bytes.data(), bytes.size());
    Commit(bytes.size());
  }
  // PrepareAppend returns writable space of at least |n| bytes after the stored ones; Commit
  // makes the first |n| of them part of the queue.
  std::span<uint8_t> PrepareAppend(size_t n) {
    if (cap_ - tail_ < n) Reserve(n);
    return {buf_.get() + tail_, cap_ - tail_};
  }
  void Commit(size_t n) { tail_ += n; }

  // Copies up to |out.size()| bytes out and consumes them; returns the count.
  size_t Take(std::span<uint8_t> out) {
    size_t n = std::min(out.size(), size());
    if (n) std::memcpy(out.data(), buf_.get() + head_, n);
    Consume(n);
    return n;
  }
  void Consume(size_t n) {
    head_ += n;
    if (head_ == tail_) Release();
  }
  void Release() {
    Free(std::move(buf_), cap_);
    cap_ = head_ = tail_ = 0;
  }

 private:
  void Reserve(size_t n) {
    size_t used = size();
    if (head_ > 0 && cap_ - used >= n && used <= cap_ / 2) {
      std::memmove(buf_.get(), buf_.get() + head_, used);  // compact in place
    } else {
      size_t new_cap = std::max({used + n, cap_ * 2, size_t{1024}});
      if (new_cap > kRecordBlockSize / 2 && new_cap <= kRecordBlockSize) new_cap = kRecordBlockSize;
      std::unique_ptr<uint8_t[]> grown = new_cap == kRecordBlockSize
                                             ? RecordBlocks::Take()
                                             : std::unique_ptr<uint8_t[]>(new uint8_t[new_cap]);
      if (used) std::memcpy(grown.get(), buf_.get() + head_, used);
      Free(std::move(buf_), cap_);
      buf_ = std::move(grown);
      cap_ = new_cap;
    }
    head_ = 0;
    tail_ = used;
  }

  static void Free(std::unique_ptr<uint8_t[]> buf, size_t cap) {
    if (cap == kRecordBlockSize) RecordBlocks::Give(std::move(buf));
  }

  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_ = 0, head_ = 0, tail_ = 0;
};

// ChunkQueue is a FIFO of bytes in fixed chunks. Bytes never move once appended, so the
// span returned by Front() stays valid until those bytes are consumed, whatever is appended
// meanwhile. This is what lets a transport write asynchronously without copying. The first
// chunk is held inline: the usual burst (one record, then consumed) makes no heap call
// beyond the per-thread block cache.
class ChunkQueue {
 public:
  // One TLS record with its overhead fits in a chunk.
  static constexpr size_t kChunkSize = kRecordBlockSize;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  std::span<const uint8_t> Front() const {
    if (!front_.data) return {};
    return {front_.data.get() + front_.head, front_.tail - front_.head};
  }

  void Append(std::span<const uint8_t> bytes) {
    if (bytes.empty()) return;
    Chunk& last = rest_.empty() ? front_ : rest_.back();
    if (last.data && last.cap - last.tail >= bytes.size()) {  // the usual case: it fits
      std::memcpy(last.data.get() + last.tail, bytes.data(), bytes.size());
      last.tail += bytes.size();
      size_ += bytes.size();
      return;
    }
    AppendChunks(bytes);
  }

  // Consumes |n| bytes from the front; |n| must not exceed Front().size().
  void Consume(size_t n) {
    if (n == 0) return;
    front_.head += n;
    size_ -= n;
    if (front_.head == front_.tail) {
      if (front_.cap == kChunkSize) RecordBlocks::Give(std::move(front_.data));
      if (rest_.empty()) {
        front_ = Chunk{};
      } else {
        NextChunk();
      }
    }
  }

 private:
  struct Chunk {
    std::unique_ptr<uint8_t[]> data;  // null: no chunk
    size_t cap = 0, head = 0, tail = 0;
  };

  // Append, when |bytes| does not fit in the last chunk: fills it, then new chunks.
  [[gnu::noinline]] void AppendChunks(std::span<const uint8_t> bytes) {
    size_ += bytes.size();
    while (!bytes.empty()) {
      Chunk* last = !front_.data ? nullptr : rest_.empty() ? &front_ : &rest_.back();
      if (!last || last->tail == last->cap) {
        size_t cap = std::max(kChunkSize, bytes.size());
        Chunk fresh{
            cap == kChunkSize ? RecordBlocks::Take() : std::unique_ptr<uint8_t[]>(new uint8_t[cap]),
            cap, 0, 0};
        if (!last) {
          front_ = std::move(fresh);
          last = &front_;
        } else {
          rest_.push_back(std::move(fresh));
          last = &rest_.back();
        }
      }
      size_t n = std::min(bytes.size(), last->cap - last->tail);
      std::memcpy(last->data.get() + last->tail, bytes.data(), n);
      last->tail += n;
      bytes = bytes.subspan(n);
    }
  }

  // Consume, when the front chunk is drained and another follows: it becomes the front.
  [[gnu::noinline]] void NextChunk() {
    front_ = std::move(rest_.front());
    rest_.erase(rest_.begin());
    if (rest_.empty()) std::vector<Chunk>().swap(rest_);
  }
  Chunk front_;              // the oldest chunk
  std::vector<Chunk> rest_;  // the chunks after it, in order
  size_t size_ = 0;
};

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_BUFFER_H_
