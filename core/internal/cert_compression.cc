#include "core/internal/cert_compression.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <openssl/bytestring.h>
#include <openssl/pool.h>
#include <zlib.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sansio_tls::internal {
namespace {

constexpr uint16_t kZlib = 1;
constexpr uint16_t kBrotli = 2;

int BrotliCompressRaw(CBB* out, const uint8_t* in, size_t in_len) {
  size_t len = BrotliEncoderMaxCompressedSize(in_len);
  uint8_t* buf = nullptr;
  if (len == 0 || !CBB_reserve(out, &buf, len)) return 0;
  if (!BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC,
                             in_len, in, &len, buf)) {
    return 0;
  }
  return CBB_did_write(out, len);
}

int BrotliDecompress(SSL* /*ssl*/, CRYPTO_BUFFER** out, size_t uncompressed_len, const uint8_t* in,
                     size_t in_len) {
  if (uncompressed_len > kMaxDecompressedCertificate) return 0;
  uint8_t* data = nullptr;
  bssl::UniquePtr<CRYPTO_BUFFER> buffer(CRYPTO_BUFFER_alloc(&data, uncompressed_len));
  if (!buffer) return 0;
  size_t got = uncompressed_len;
  if (BrotliDecoderDecompress(in_len, in, &got, data) != BROTLI_DECODER_RESULT_SUCCESS ||
      got != uncompressed_len) {
    return 0;  // corrupt, truncated, or longer than announced
  }
  *out = buffer.release();
  return 1;
}

int ZlibCompressRaw(CBB* out, const uint8_t* in, size_t in_len) {
  uLongf len = compressBound(static_cast<uLong>(in_len));
  uint8_t* buf = nullptr;
  if (!CBB_reserve(out, &buf, len)) return 0;
  if (compress2(buf, &len, in, static_cast<uLong>(in_len), Z_BEST_COMPRESSION) != Z_OK) return 0;
  return CBB_did_write(out, len);
}

int ZlibDecompress(SSL* /*ssl*/, CRYPTO_BUFFER** out, size_t uncompressed_len, const uint8_t* in,
                   size_t in_len) {
  if (uncompressed_len > kMaxDecompressedCertificate) return 0;
  uint8_t* data = nullptr;
  bssl::UniquePtr<CRYPTO_BUFFER> buffer(CRYPTO_BUFFER_alloc(&data, uncompressed_len));
  if (!buffer) return 0;
  // uncompress() needs room for one more byte to tell "exactly this long" from "longer".
  std::unique_ptr<uint8_t[]> tmp(new uint8_t[uncompressed_len + 1]);
  uLongf got = static_cast<uLongf>(uncompressed_len + 1);
  if (uncompress(tmp.get(), &got, in, static_cast<uLong>(in_len)) != Z_OK ||
      got != uncompressed_len) {
    return 0;
  }
  std::copy(tmp.get(), tmp.get() + got, data);
  *out = buffer.release();
  return 1;
}

// A server sends the same Certificate message on every handshake with a given chain (and
// staple), and compression is deterministic, yet BoringSSL asks for it anew each time:
// brotli at its default quality costs about 2 ms per call, several times the rest of a
// handshake. Outputs are kept here, process-wide, keyed by algorithm and input; bounded by
// entry count and bytes (oldest first out). Thread-safe.
class CompressedCache {
 public:
  // Appends the cached output for |key| to |out|: 1, or 0 when absent (or CBB failure: -1).
  int Get(const std::string& key, CBB* out) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return 0;
    return CBB_add_bytes(out, reinterpret_cast<const uint8_t*>(it->second.data()),
                         it->second.size())
               ? 1
               : -1;
  }
  void Put(const std::string& key, const uint8_t* data, size_t len) {
    std::lock_guard<std::mutex> lock(mu_);
    if (entries_.count(key)) return;
    while (!order_.empty() &&
           (order_.size() >= kMaxEntries || bytes_ + key.size() + len > kMaxBytes)) {
      auto it = entries_.find(order_.front());
      bytes_ -= it->first.size() + it->second.size();
      entries_.erase(it);
      order_.pop_front();
    }
    entries_.emplace(key, std::string(reinterpret_cast<const char*>(data), len));
    order_.push_back(key);
    bytes_ += key.size() + len;
  }

 private:
  static constexpr size_t kMaxEntries = 64;
  static constexpr size_t kMaxBytes = 4 << 20;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> entries_;
  std::deque<std::string> order_;
  size_t bytes_ = 0;
};

CompressedCache& Cache() {
  static auto* cache = new CompressedCache;  // never destroyed: used until exit
  return *cache;
}

// Compresses with |raw|, through the cache.
int CompressCached(uint16_t alg, int (*raw)(CBB*, const uint8_t*, size_t), CBB* out,
                   const uint8_t* in, size_t in_len) {
  std::string key(reinterpret_cast<const char*>(&alg), sizeof alg);
  key.append(reinterpret_cast<const char*>(in), in_len);
  if (int hit = Cache().Get(key, out); hit != 0) return hit > 0;
  bssl::ScopedCBB tmp;
  if (!CBB_init(tmp.get(), in_len) || !raw(tmp.get(), in, in_len)) return 0;
  Cache().Put(key, CBB_data(tmp.get()), CBB_len(tmp.get()));
  return CBB_add_bytes(out, CBB_data(tmp.get()), CBB_len(tmp.get()));
}

int BrotliCompress(SSL* /*ssl*/, CBB* out, const uint8_t* in, size_t in_len) {
  return CompressCached(kBrotli, BrotliCompressRaw, out, in, in_len);
}
int ZlibCompress(SSL* /*ssl*/, CBB* out, const uint8_t* in, size_t in_len) {
  return CompressCached(kZlib, ZlibCompressRaw, out, in, in_len);
}

}  // namespace

bool AddCertificateCompression(SSL_CTX* ctx) {
  return SSL_CTX_add_cert_compression_alg(ctx, kBrotli, BrotliCompress, BrotliDecompress) &&
         SSL_CTX_add_cert_compression_alg(ctx, kZlib, ZlibCompress, ZlibDecompress);
}

}  // namespace sansio_tls::internal
