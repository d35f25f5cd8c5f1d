#include "transports/asio/error.h"

#include <cstddef>
#include <cstring>
#include <mutex>

#include <asio/error.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace sansio_tls::asio_tls {
namespace {

constexpr size_t kMaxCodes = 4096;
constexpr char kUnknownCode[] = "ERR_TLS_UNKNOWN_CODE";

// Interned code strings: value i is codes_[i]. Entries are never removed; lookups copy the
// string under the lock.
class CodeTable {
 public:
  CodeTable() {
    codes_.emplace_back("");  // 0: success
    // Fixed values, in errc order.
    for (const char* c : {"ERR_TLS_TRUNCATED", "ERR_TLS_HANDSHAKE_TIMEOUT",
                          "ERR_TLS_SHUTDOWN_TIMEOUT", "ECONNRESET",
                          "ERR_TLS_CERT_ALTNAME_INVALID", "ERR_STREAM_WRITE_AFTER_END",
                          "ERR_TLS_HANDSHAKE_NOT_DONE", "ERR_TLS_INTERNAL", kUnknownCode}) {
      Add(c);
    }
  }

  int Intern(std::string_view code) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(std::string(code));
    if (it != index_.end()) return it->second;
    if (codes_.size() >= kMaxCodes) return index_.at(kUnknownCode);
    return Add(std::string(code));
  }

  std::string Name(int value) {
    std::lock_guard<std::mutex> lock(mu_);
    if (value < 0 || static_cast<size_t>(value) >= codes_.size()) return kUnknownCode;
    return codes_[static_cast<size_t>(value)];
  }

 private:
  int Add(std::string code) {
    int value = static_cast<int>(codes_.size());
    index_.emplace(code, value);
    codes_.push_back(std::move(code));
    return value;
  }

  std::mutex mu_;
  std::vector<std::string> codes_;
  std::unordered_map<std::string, int> index_;
};

CodeTable& Table() {
  static CodeTable* table = new CodeTable();  // never destroyed: usable during exit
  return *table;
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sansio_tls"; }
  std::string message(int value) const override { return Table().Name(value); }
  std::error_condition default_error_condition(int value) const noexcept override {
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
  if (ec.category() == category()) return Error{ec.message(), ec.message(), std::nullopt, false};
  if (ec.category() == asio::error::get_system_category() ||
      ec.category() == std::system_category() || ec.category() == std::generic_category()) {
    const char* name = strerrorname_np(ec.value());
    return Error{name ? name : "E" + std::to_string(ec.value()), ec.message(), std::nullopt, false};
  }
  if (ec == asio::error::eof) {
    return Error{"ECONNRESET", "the peer ended the connection", std::nullopt, false};
  }
  return Error{std::string("ERR_") + ec.category().name() + "_" + std::to_string(ec.value()),
               ec.message(), std::nullopt, false};
}

std::error_code ErrorCodeFor(std::string_view code) {
  if (code.empty()) return {};
  return {Table().Intern(code), category()};
}

}  // namespace sansio_tls::asio_tls
