// Heap accounting for the benchmarks. This binary defines BoringSSL's allocator hooks
// (OPENSSL_memory_alloc/free/get_size, weak symbols in libcrypto.so: every OPENSSL_malloc
// goes through them) and interposes glibc's malloc family; both forward to glibc and count
// live bytes (malloc_usable_size) and calls. OPENSSL_malloc'd memory is BoringSSL's, the rest
// (our code, through operator new) is ours.
//
// The hooks keep BoringSSL's own behaviour (size prefix, cleanse on free), so timings are
// unchanged but for the counting. Counters are process-wide relaxed atomics; read deltas
// around single-threaded work.
#ifndef SANSIO_TLS_BENCH_HEAP_COUNTER_H_
#define SANSIO_TLS_BENCH_HEAP_COUNTER_H_

#include <cstdint>

namespace sansio_tls::bench {

enum class Owner { kBoringSsl = 0, kOurs = 1 };

struct HeapSnapshot {
  int64_t live_bytes[2];  // indexed by Owner
  uint64_t allocations[2];
  int64_t boringssl() const { return live_bytes[0]; }
  int64_t ours() const { return live_bytes[1]; }
  int64_t total() const { return live_bytes[0] + live_bytes[1]; }
  uint64_t total_allocations() const { return allocations[0] + allocations[1]; }
};

// Returns true when BoringSSL's allocations reach the hooks (false: the dynamic linker did
// not bind them, and BoringSSL's memory counts as ours).
bool InitHeapCounter();

HeapSnapshot TakeHeapSnapshot();

}  // namespace sansio_tls::bench

#endif  // SANSIO_TLS_BENCH_HEAP_COUNTER_H_
