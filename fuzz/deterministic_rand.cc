// Replaces BoringSSL's RAND_bytes for the fuzz binaries (and their replay tests) with
// deterministic per-side streams (see fuzz_support.h). BoringSSL's shared libcrypto and
// libssl call RAND_bytes through the PLT, so this definition in the executable takes their
// place: client/server randoms, key shares (X25519), GREASE, ticket fields and salts all
// become reproducible. Draws made inside libcrypto's private DRBG (ECDSA nonces, EC and RSA
// key generation) stay random; the fixtures use Ed25519 so signatures stay deterministic.
//
// Never link this into anything but fuzz binaries.
#include <openssl/rand.h>

#include <cstring>

#include "fuzz/fuzz_support.h"

namespace sansio_tls::fuzz {
namespace {

constexpr int kStreams = 3;
constexpr uint64_t kStart[kStreams] = {0x636c69656e74ull, 0x736572766572ull, 0x6f74686572ull};
uint64_t g_state[kStreams] = {kStart[0], kStart[1], kStart[2]};
RandomStream g_current = RandomStream::kOther;

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

void ResetRandom() {
  for (int i = 0; i < kStreams; ++i) g_state[i] = kStart[i];
  g_current = RandomStream::kOther;
}

ScopedRandomStream::ScopedRandomStream(RandomStream stream) : previous_(g_current) {
  g_current = stream;
}
ScopedRandomStream::~ScopedRandomStream() { g_current = previous_; }

}  // namespace sansio_tls::fuzz

extern "C" int RAND_bytes(uint8_t* buf, size_t len) {
  uint64_t& state = sansio_tls::fuzz::g_state[static_cast<int>(sansio_tls::fuzz::g_current)];
  while (len > 0) {
    uint64_t r = sansio_tls::fuzz::SplitMix64(state);
    size_t n = len < sizeof r ? len : sizeof r;
    std::memcpy(buf, &r, n);
    buf += n;
    len -= n;
  }
  return 1;
}
