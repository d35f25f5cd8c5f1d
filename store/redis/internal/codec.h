// What the Redis caches write and how they judge what they read. Internal to store/redis.
#ifndef SANSIO_TLS_STORE_REDIS_INTERNAL_CODEC_H_
#define SANSIO_TLS_STORE_REDIS_INTERNAL_CODEC_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/resumption.h"

namespace sansio_tls::redis::internal {

// PREFIX "s:" HEX(id): where the session with TLS 1.2 session ID |id| is kept.
std::string SessionKey(const std::string& prefix, std::span<const uint8_t> id);
// PREFIX "e:" HEX(SHA-256(identity)): the record of a 0-RTT ticket identity.
std::string EarlyKey(const std::string& prefix, std::span<const uint8_t> identity);

// What a lookup's value means.
enum class Verdict { kHit, kMiss, kInvalid };
// Judges |value| (read with at most max_size + 1 bytes) for the lookup of |id| at |now|
// (unix seconds): empty is a miss (no such key); a value larger than |max_size|, not a
// SavedSession, saved under another ID, or expired at |now| is invalid. |*out| is set on
// kHit only.
Verdict Judge(std::span<const uint8_t> value, std::span<const uint8_t> id, int64_t now,
              size_t max_size, std::optional<SavedSession>* out);

// Milliseconds |session| has left at |now|; <= 0 when expired (not stored then).
int64_t TtlMillis(const SavedSession& session, int64_t now);

}  // namespace sansio_tls::redis::internal

#endif  // SANSIO_TLS_STORE_REDIS_INTERNAL_CODEC_H_
