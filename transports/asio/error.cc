#include "transports/asio/error.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/error.hpp>

#include "core/x509/verify_error.h"

namespace sansio_tls::asio_tls {
namespace {

constexpr int kX509Base = 1000;
constexpr int kErrnoBase = 0x8000;
constexpr int kErrnoMax = 0x1000;
constexpr int kReasonBase = 0x10000;
constexpr int kLibShift = 12;
constexpr int kInventedBase = 0x1000000;
constexpr size_t kMaxInvented = 4096;

// The fixed part: BoringSSL reason and errno names to their values, built once.
class FixedCodes {
 public:
  FixedCodes() {
    for (int lib = 1; lib < ERR_NUM_LIBS; ++lib) {
      for (int reason = 1; reason < (1 << kLibShift); ++reason) {
        const char* name = ERR_reason_error_string(ERR_PACK(lib, reason));
        if (!name) continue;
        std::string code = (lib == ERR_LIB_SSL ? "ERR_SSL_" : "ERR_OSSL_") + std::string(name);
        reasons_.emplace(std::move(code), kReasonBase + (lib << kLibShift) + reason);
      }
    }
    for (int e = 1; e < kErrnoMax; ++e) {
      if (const char* name = strerrorname_np(e)) errnos_.emplace(name, kErrnoBase + e);
    }
  }
  int Find(std::string_view code) const {
    std::string key(code);
    if (auto it = reasons_.find(key); it != reasons_.end()) return it->second;
    if (auto it = errnos_.find(key); it != errnos_.end()) return it->second;
    return 0;
  }

 private:
  std::unordered_map<std::string, int> reasons_, errnos_;
};

const FixedCodes& Fixed() {
  static const FixedCodes* fixed = new FixedCodes();  // never destroyed: usable during exit
  return *fixed;
}

// Codes applications invent (CompleteVerification's), interned under a lock.
class Invented {
 public:
  int Intern(std::string_view code) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = index_.find(std::string(code)); it != index_.end()) return it->second;
    if (codes_.size() >= kMaxInvented) return OwnErrorValue(sansio_tls::errc::kUnknownCode);
    int value = kInventedBase + static_cast<int>(codes_.size());
    index_.emplace(code, value);
    codes_.emplace_back(code);
    return value;
  }
  std::string Name(int value) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t i = static_cast<size_t>(value - kInventedBase);
    return i < codes_.size() ? codes_[i] : std::string(sansio_tls::errc::kUnknownCode);
  }

 private:
  std::mutex mu_;
  std::vector<std::string> codes_;
  std::unordered_map<std::string, int> index_;
};

Invented& InventedCodes() {
  static Invented* invented = new Invented();  // never destroyed: usable during exit
  return *invented;
}

std::string CodeOf(int value) {
  if (std::string_view own = OwnErrorCode(value); !own.empty()) return std::string(own);
  if (value > kX509Base && value < kErrnoBase) {
    return std::string(VerifyErrorCode(value - kX509Base));
  }
  if (value > kErrnoBase && value < kErrnoBase + kErrnoMax) {
    const char* name = strerrorname_np(value - kErrnoBase);
    return name ? name : std::string(sansio_tls::errc::kUnknownCode);
  }
  if (value >= kReasonBase && value < kInventedBase) {
    int lib = (value - kReasonBase) >> kLibShift;
    int reason = (value - kReasonBase) & ((1 << kLibShift) - 1);
    const char* name = ERR_reason_error_string(ERR_PACK(lib, reason));
    if (name) return (lib == ERR_LIB_SSL ? "ERR_SSL_" : "ERR_OSSL_") + std::string(name);
  }
  if (value >= kInventedBase) return InventedCodes().Name(value);
  return std::string(sansio_tls::errc::kUnknownCode);
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sansio_tls"; }
  std::string message(int value) const override { return CodeOf(value); }
  std::error_condition default_error_condition(int value) const noexcept override {
    if (value > kErrnoBase && value < kErrnoBase + kErrnoMax) {
      return std::error_condition(value - kErrnoBase, std::generic_category());
    }
    switch (static_cast<errc>(value)) {
      case errc::connection_reset:
        return std::errc::connection_reset;
      case errc::handshake_timeout:
      case errc::shutdown_timeout:
        return std::errc::timed_out;
      default:
        return std::error_condition(value, *this);
    }
  }
};

}  // namespace

const std::error_category& category() {
  static const Category* c = new Category();
  return *c;
}

std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

Error ErrorFromCode(std::error_code ec) {
  if (!ec) return {};
  if (ec.category() == category()) return MakeError(ec.message(), ec.message());
  if (ec.category() == asio::error::get_system_category() ||
      ec.category() == std::system_category() || ec.category() == std::generic_category()) {
    const char* name = strerrorname_np(ec.value());
    return MakeError(name ? name : "E" + std::to_string(ec.value()), ec.message());
  }
  if (ec == asio::error::eof) {
    return MakeError(sansio_tls::errc::kConnectionReset, "the peer ended the connection");
  }
  return MakeError(std::string("ERR_") + ec.category().name() + "_" + std::to_string(ec.value()),
                   ec.message());
}

std::error_code ErrorCodeFor(std::string_view code) {
  if (code.empty()) return {};
  if (int own = OwnErrorValue(code); own != 0) return {own, category()};
  if (auto x509 = VerifyErrorFromCode(code); x509 && *x509 > 0) {
    return {kX509Base + *x509, category()};
  }
  if (int fixed = Fixed().Find(code); fixed != 0) return {fixed, category()};
  return {InventedCodes().Intern(code), category()};
}

}  // namespace sansio_tls::asio_tls
