// Test data shared by the test suites: deterministic payloads and their SHA-256, so a test
// can check that every byte of a large transfer arrived, in order.
#ifndef SANSIO_TLS_TESTS_COMMON_TEST_DATA_H_
#define SANSIO_TLS_TESTS_COMMON_TEST_DATA_H_

#include <openssl/sha.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sansio_tls::test_data {

// |n| pseudo-random bytes, the same for the same |seed| (a 32-bit LCG's high bytes).
inline std::string Payload(size_t n, uint32_t seed = 7) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// SHA-256 of |data|: raw 32 bytes, or lowercase hex.
inline std::string Sha256(std::string_view data) {
  uint8_t out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}
inline std::string Sha256Hex(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : Sha256(data)) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace sansio_tls::test_data

#endif  // SANSIO_TLS_TESTS_COMMON_TEST_DATA_H_
