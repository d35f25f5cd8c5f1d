#include "core/internal/cert_compression.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <openssl/bytestring.h>
#include <openssl/pool.h>
#include <zlib.h>

#include <cstdint>
#include <memory>

namespace sansio_tls::internal {
namespace {

constexpr uint16_t kZlib = 1;
constexpr uint16_t kBrotli = 2;

int BrotliCompress(SSL* /*ssl*/, CBB* out, const uint8_t* in, size_t in_len) {
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

int ZlibCompress(SSL* /*ssl*/, CBB* out, const uint8_t* in, size_t in_len) {
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

}  // namespace

bool AddCertificateCompression(SSL_CTX* ctx) {
  return SSL_CTX_add_cert_compression_alg(ctx, kBrotli, BrotliCompress, BrotliDecompress) &&
         SSL_CTX_add_cert_compression_alg(ctx, kZlib, ZlibCompress, ZlibDecompress);
}

}  // namespace sansio_tls::internal
