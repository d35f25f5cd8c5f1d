#include "bench/heap_counter.h"

#include <malloc.h>
#include <openssl/mem.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
void* __libc_memalign(size_t, size_t);
void* __libc_valloc(size_t);
void* __libc_pvalloc(size_t);
}

namespace sansio_tls::bench {
namespace {

std::atomic<int64_t> g_live[2];
std::atomic<uint64_t> g_calls[2];

inline void Added(int owner, size_t n) {
  g_live[owner].fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  g_calls[owner].fetch_add(1, std::memory_order_relaxed);
}

inline void Removed(int owner, size_t n) {
  g_live[owner].fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
}

constexpr int kBoringSsl = static_cast<int>(Owner::kBoringSsl);
constexpr int kOurs = static_cast<int>(Owner::kOurs);
constexpr size_t kPrefix = 8;  // OPENSSL_malloc's size prefix

}  // namespace

bool InitHeapCounter() {
  int64_t before = g_live[kBoringSsl].load();
  void* probe = OPENSSL_malloc(100);
  bool hooked = g_live[kBoringSsl].load() > before;
  OPENSSL_free(probe);
  return hooked;
}

HeapSnapshot TakeHeapSnapshot() {
  HeapSnapshot s;
  for (int i = 0; i < 2; ++i) {
    s.live_bytes[i] = g_live[i].load(std::memory_order_relaxed);
    s.allocations[i] = g_calls[i].load(std::memory_order_relaxed);
  }
  return s;
}

}  // namespace sansio_tls::bench

using sansio_tls::bench::Added;
using sansio_tls::bench::kBoringSsl;
using sansio_tls::bench::kOurs;
using sansio_tls::bench::kPrefix;
using sansio_tls::bench::Removed;

extern "C" {

// ---- BoringSSL's allocator hooks (weak symbols in libcrypto.so) ----------------------
// These do exactly what OPENSSL_malloc/OPENSSL_free do without hooks in this version: an
// 8-byte size prefix, and the block cleansed before it is freed. Only the counting is added.

void* OPENSSL_memory_alloc(size_t n) {
  if (n + kPrefix < n) return nullptr;
  auto* p = static_cast<uint8_t*>(__libc_malloc(n + kPrefix));
  if (!p) return nullptr;
  std::memcpy(p, &n, sizeof n);
  Added(kBoringSsl, malloc_usable_size(p));
  return p + kPrefix;
}

void OPENSSL_memory_free(void* ptr) {
  if (!ptr) return;
  uint8_t* p = static_cast<uint8_t*>(ptr) - kPrefix;
  size_t n;
  std::memcpy(&n, p, sizeof n);
  Removed(kBoringSsl, malloc_usable_size(p));
  OPENSSL_cleanse(p, n + kPrefix);
  __libc_free(p);
}

size_t OPENSSL_memory_get_size(void* ptr) {
  size_t n;
  std::memcpy(&n, static_cast<uint8_t*>(ptr) - kPrefix, sizeof n);
  return n;
}

// ---- Everything else: glibc's allocator, counted as ours ---------------------------------

void* malloc(size_t n) {
  void* p = __libc_malloc(n);
  if (p) Added(kOurs, malloc_usable_size(p));
  return p;
}

void* calloc(size_t n, size_t size) {
  void* p = __libc_calloc(n, size);
  if (p) Added(kOurs, malloc_usable_size(p));
  return p;
}

void free(void* p) {
  if (!p) return;
  Removed(kOurs, malloc_usable_size(p));
  __libc_free(p);
}

void* realloc(void* p, size_t n) {
  size_t old = p ? malloc_usable_size(p) : 0;
  void* q = __libc_realloc(p, n);
  if (q || n == 0) {
    if (p) Removed(kOurs, old);
    if (q) Added(kOurs, malloc_usable_size(q));
  }
  return q;
}

void* reallocarray(void* p, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(p, total);
}

void* memalign(size_t align, size_t n) {
  void* p = __libc_memalign(align, n);
  if (p) Added(kOurs, malloc_usable_size(p));
  return p;
}

void* aligned_alloc(size_t align, size_t n) { return memalign(align, n); }

int posix_memalign(void** out, size_t align, size_t n) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  void* p = memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(size_t n) {
  void* p = __libc_valloc(n);
  if (p) Added(kOurs, malloc_usable_size(p));
  return p;
}

void* pvalloc(size_t n) {
  void* p = __libc_pvalloc(n);
  if (p) Added(kOurs, malloc_usable_size(p));
  return p;
}

}  // extern "C"
