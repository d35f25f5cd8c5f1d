#include "core/resumption.h"

#include <openssl/aead.h>
#include <openssl/bytestring.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "core/internal/lifecycle.h"
#include "core/internal/pem.h"

namespace sansio_tls {

namespace internal {
struct SavedSessionState {
  bssl::UniquePtr<SSL_SESSION> session;
  AuthInfo auth;
};
}  // namespace internal

namespace {

// ToBytes format: magic, version, flags (bit 0 verified, bit 1 authorized), u16-prefixed
// authorization_error, u16-prefixed servername, u32-prefixed SSL_SESSION_to_bytes.
constexpr uint8_t kMagic[4] = {'S', 'T', 'L', 'S'};
constexpr uint8_t kFormatVersion = 1;
constexpr size_t kMaxField = 1024;

Error InvalidSession(std::string why) {
  return Error{"ERR_TLS_INVALID_SESSION", "not a saved TLS session: " + std::move(why),
               std::nullopt, false};
}

// SSL_SESSION_from_bytes needs an SSL_CTX for its certificate pool and X.509 method; every
// Context uses TLS_with_buffers_method and the shared pool, so one process-wide CTX serves.
const SSL_CTX* ParsingContext() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_with_buffers_method());
    SSL_CTX_set0_buffer_pool(c, internal::SharedBufferPool());
    return c;
  }();
  return ctx;
}

}  // namespace

const char* EarlyDataName(EarlyData e) {
  switch (e) {
    case EarlyData::kNotOffered:
      return "none";
    case EarlyData::kAccepted:
      return "accepted";
    case EarlyData::kRejected:
      return "rejected";
  }
  return "?";
}

// ---- SavedSession -------------------------------------------------------------------

SavedSession::SavedSession(std::shared_ptr<const internal::SavedSessionState> state)
    : state_(std::move(state)) {}

SavedSession SavedSession::Wrap(bssl::UniquePtr<SSL_SESSION> session, internal::AuthInfo auth) {
  auto state = std::make_shared<internal::SavedSessionState>();
  state->session = std::move(session);
  state->auth = std::move(auth);
  return SavedSession(std::move(state));
}

Result<SavedSession> SavedSession::FromBytes(std::span<const uint8_t> bytes) {
  CBS in, magic, error, name, body;
  CBS_init(&in, bytes.data(), bytes.size());
  uint8_t version = 0, flags = 0;
  uint32_t body_len = 0;
  if (!CBS_get_bytes(&in, &magic, sizeof kMagic) ||
      std::memcmp(CBS_data(&magic), kMagic, sizeof kMagic) != 0) {
    return InvalidSession("bad magic");
  }
  if (!CBS_get_u8(&in, &version) || version != kFormatVersion) {
    return InvalidSession("unsupported format version");
  }
  if (!CBS_get_u8(&in, &flags) || (flags & ~3u) != 0 || !CBS_get_u16_length_prefixed(&in, &error) ||
      CBS_len(&error) > kMaxField || !CBS_get_u16_length_prefixed(&in, &name) ||
      CBS_len(&name) > kMaxField || !CBS_get_u32(&in, &body_len) ||
      !CBS_get_bytes(&in, &body, body_len) || CBS_len(&in) != 0) {
    return InvalidSession("malformed");
  }
  bssl::UniquePtr<SSL_SESSION> session(
      SSL_SESSION_from_bytes(CBS_data(&body), CBS_len(&body), ParsingContext()));
  ERR_clear_error();
  if (!session) return InvalidSession("BoringSSL could not parse the session");
  if (!SSL_SESSION_is_resumable(session.get())) return InvalidSession("session is not resumable");
  internal::AuthInfo auth;
  auth.verified = flags & 1;
  auth.authorized = flags & 2;
  auth.error.assign(reinterpret_cast<const char*>(CBS_data(&error)), CBS_len(&error));
  // A verdict no handshake can produce: authorized without a checked certificate or with an
  // error, or a checked and refused certificate without a code.
  if (auth.authorized ? (!auth.verified || !auth.error.empty())
                      : (auth.verified && auth.error.empty())) {
    return InvalidSession("inconsistent verification result");
  }
  auth.servername.assign(reinterpret_cast<const char*>(CBS_data(&name)), CBS_len(&name));
  return Wrap(std::move(session), std::move(auth));
}

std::vector<uint8_t> SavedSession::ToBytes() const {
  uint8_t* der = nullptr;
  size_t der_len = 0;
  if (!SSL_SESSION_to_bytes(state_->session.get(), &der, &der_len)) {
    ERR_clear_error();
    return {};
  }
  const internal::AuthInfo& a = state_->auth;
  size_t error_len = std::min(a.error.size(), kMaxField);
  size_t name_len = std::min(a.servername.size(), kMaxField);
  // Sized once and filled through a cursor: GCC 12 at -O2 warns (-Wstringop-overflow, a
  // false positive) on vector::insert into reserve()d storage, as this was written before.
  std::vector<uint8_t> out(sizeof kMagic + 2 + 2 + error_len + 2 + name_len + 4 + der_len);
  uint8_t* p = out.data();
  auto put = [&p](const void* bytes, size_t n) {
    if (n != 0) std::memcpy(p, bytes, n);
    p += n;
  };
  auto put_be = [&p](uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) *p++ = static_cast<uint8_t>(v >> (8 * i));
  };
  put(kMagic, sizeof kMagic);
  put_be(kFormatVersion, 1);
  put_be((a.verified ? 1 : 0) | (a.authorized ? 2 : 0), 1);
  put_be(error_len, 2);
  put(a.error.data(), error_len);
  put_be(name_len, 2);
  put(a.servername.data(), name_len);
  put_be(der_len, 4);
  put(der, der_len);
  OPENSSL_cleanse(der, der_len);
  OPENSSL_free(der);
  return out;
}

std::vector<uint8_t> SavedSession::id() const {
  unsigned len = 0;
  const uint8_t* p = SSL_SESSION_get_id(state_->session.get(), &len);
  return std::vector<uint8_t>(p, p + len);
}

std::string SavedSession::protocol() const {
  return SSL_SESSION_get_version(state_->session.get());
}

int64_t SavedSession::time() const {
  return static_cast<int64_t>(SSL_SESSION_get_time(state_->session.get()));
}

uint32_t SavedSession::timeout() const { return SSL_SESSION_get_timeout(state_->session.get()); }

bool SavedSession::ExpiredAt(int64_t now) const {
  int64_t t = time();
  return now < t || now - t >= static_cast<int64_t>(timeout());
}

bool SavedSession::has_ticket() const { return SSL_SESSION_has_ticket(state_->session.get()); }

bool SavedSession::early_data_capable() const {
  return SSL_SESSION_early_data_capable(state_->session.get());
}

bool SavedSession::authorized() const { return state_->auth.authorized; }
const std::string& SavedSession::authorization_error() const { return state_->auth.error; }
const std::string& SavedSession::servername() const { return state_->auth.servername; }
SSL_SESSION* SavedSession::ssl_session() const { return state_->session.get(); }
const internal::AuthInfo& SavedSession::auth() const { return state_->auth; }

// ---- TicketKeys ---------------------------------------------------------------------

namespace {

constexpr size_t kNameSize = 16;
constexpr size_t kSecretSize = 32;
constexpr size_t kNonceSize = 12;

struct SealingKey {
  std::array<uint8_t, kNameSize> name{};
  std::array<uint8_t, kSecretSize> secret{};
  bssl::ScopedEVP_AEAD_CTX aead;  // const use is thread-safe

  ~SealingKey() { OPENSSL_cleanse(secret.data(), secret.size()); }
};

std::shared_ptr<const SealingKey> MakeKey(const TicketKeys::Key& bytes) {
  auto k = std::make_shared<SealingKey>();
  std::memcpy(k->name.data(), bytes.data(), kNameSize);
  std::memcpy(k->secret.data(), bytes.data() + kNameSize, kSecretSize);
  if (!EVP_AEAD_CTX_init(k->aead.get(), EVP_aead_aes_256_gcm(), k->secret.data(), kSecretSize,
                         EVP_AEAD_DEFAULT_TAG_LENGTH, nullptr)) {
    ERR_clear_error();
    return nullptr;
  }
  return k;
}

TicketKeys::Key RandomKey() {
  TicketKeys::Key k;
  RAND_bytes(k.data(), k.size());
  return k;
}

}  // namespace

struct TicketKeys::Ring {
  mutable std::shared_mutex mu;
  std::vector<std::shared_ptr<const SealingKey>> keys;  // current first; guarded by mu

  std::shared_ptr<const SealingKey> Current() const {
    std::shared_lock lock(mu);
    return keys.empty() ? nullptr : keys.front();
  }
  std::shared_ptr<const SealingKey> Find(const uint8_t* name) const {
    std::shared_lock lock(mu);
    for (const auto& k : keys)
      if (CRYPTO_memcmp(k->name.data(), name, kNameSize) == 0) return k;
    return nullptr;
  }
};

TicketKeys::TicketKeys(size_t window)
    : window_(std::min(window, kMaxKeys - 1)), ring_(std::make_unique<Ring>()) {}

TicketKeys::~TicketKeys() = default;

std::shared_ptr<TicketKeys> TicketKeys::Create(size_t window) {
  std::shared_ptr<TicketKeys> t(new TicketKeys(window));
  t->ring_->keys.push_back(MakeKey(RandomKey()));
  return t;
}

void TicketKeys::Rotate() {
  Key fresh = RandomKey();
  auto key = MakeKey(fresh);
  OPENSSL_cleanse(fresh.data(), fresh.size());
  std::unique_lock lock(ring_->mu);
  ring_->keys.insert(ring_->keys.begin(), std::move(key));
  if (ring_->keys.size() > window_ + 1) ring_->keys.resize(window_ + 1);
}

std::vector<TicketKeys::Key> TicketKeys::Get() const {
  std::shared_lock lock(ring_->mu);
  std::vector<Key> out;
  for (const auto& k : ring_->keys) {
    Key b;
    std::memcpy(b.data(), k->name.data(), kNameSize);
    std::memcpy(b.data() + kNameSize, k->secret.data(), kSecretSize);
    out.push_back(b);
  }
  return out;
}

std::optional<Error> TicketKeys::Set(std::span<const Key> keys) {
  auto invalid = [](std::string m) {
    return Error{"ERR_TLS_INVALID_TICKET_KEYS", std::move(m), std::nullopt, false};
  };
  if (keys.empty()) return invalid("at least one ticket key is needed");
  if (keys.size() > kMaxKeys) {
    return invalid("at most " + std::to_string(kMaxKeys) + " ticket keys are kept");
  }
  std::vector<std::shared_ptr<const SealingKey>> built;
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (std::memcmp(keys[i].data(), keys[j].data(), kNameSize) == 0) {
        return invalid("ticket keys " + std::to_string(j) + " and " + std::to_string(i) +
                       " have the same name");
      }
    }
    auto k = MakeKey(keys[i]);
    if (!k) return invalid("ticket key " + std::to_string(i) + " was refused by the cipher");
    built.push_back(std::move(k));
  }
  std::unique_lock lock(ring_->mu);
  ring_->keys = std::move(built);
  return std::nullopt;
}

bool TicketKeys::Seal(std::span<const uint8_t> in, uint8_t* out, size_t max_out,
                      size_t* out_len) const {
  auto key = ring_->Current();
  if (!key || max_out < in.size() + kOverhead) return false;
  std::memcpy(out, key->name.data(), kNameSize);
  uint8_t* nonce = out + kNameSize;
  RAND_bytes(nonce, kNonceSize);
  size_t sealed = 0;
  if (!EVP_AEAD_CTX_seal(key->aead.get(), nonce + kNonceSize, &sealed,
                         max_out - kNameSize - kNonceSize, nonce, kNonceSize, in.data(), in.size(),
                         out, kNameSize)) {
    ERR_clear_error();
    return false;
  }
  *out_len = kNameSize + kNonceSize + sealed;
  return true;
}

bool TicketKeys::Open(std::span<const uint8_t> in, std::vector<uint8_t>* out) const {
  if (in.size() < kOverhead) return false;
  auto key = ring_->Find(in.data());
  if (!key) return false;
  const uint8_t* nonce = in.data() + kNameSize;
  std::span<const uint8_t> sealed = in.subspan(kNameSize + kNonceSize);
  out->resize(sealed.size());
  size_t n = 0;
  if (!EVP_AEAD_CTX_open(key->aead.get(), out->data(), &n, out->size(), nonce, kNonceSize,
                         sealed.data(), sealed.size(), in.data(), kNameSize)) {
    ERR_clear_error();
    out->clear();
    return false;
  }
  out->resize(n);
  return true;
}

// ---- internal::ScopedClock / SessionStore -------------------------------------------

namespace internal {

constinit thread_local const std::optional<int64_t>* ScopedClock::current_ = nullptr;

void SessionStore::Put(const SavedSession& session) {
  std::vector<uint8_t> raw = session.id();
  if (raw.empty() || capacity_ == 0) return;
  std::string id(raw.begin(), raw.end());
  std::lock_guard lock(mu_);
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    lru_.erase(it->second);
    by_id_.erase(it);
  }
  lru_.emplace_front(id, session);
  by_id_[id] = lru_.begin();
  while (lru_.size() > capacity_) {
    by_id_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

std::optional<SavedSession> SessionStore::Get(std::span<const uint8_t> id, int64_t now) {
  std::string_view key(reinterpret_cast<const char*>(id.data()), id.size());
  std::lock_guard lock(mu_);
  auto it = by_id_.find(key);
  if (it == by_id_.end()) return std::nullopt;
  if (it->second->second.ExpiredAt(now)) {
    lru_.erase(it->second);
    by_id_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return lru_.front().second;
}

size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace internal
}  // namespace sansio_tls
