// Outcome: the first result a transport's callbacks report in a parity test (later ones are
// ignored), read from the test's thread. Thread-safe.
#ifndef SANSIO_TLS_TESTS_PARITY_OUTCOME_H_
#define SANSIO_TLS_TESTS_PARITY_OUTCOME_H_

#include <chrono>
#include <mutex>
#include <string>
#include <utility>

namespace sansio_tls::parity {

class Outcome {
 public:
  void Set(std::string s) {
    std::lock_guard lock(mu_);
    if (!value_.empty()) return;
    value_ = std::move(s);
    set_at_ = std::chrono::steady_clock::now();
  }
  std::string Get() const {
    std::lock_guard lock(mu_);
    return value_;
  }
  // How long after |start| the result was reported (zero when none was).
  std::chrono::milliseconds Since(std::chrono::steady_clock::time_point start) const {
    std::lock_guard lock(mu_);
    if (value_.empty()) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(set_at_ - start);
  }

 private:
  mutable std::mutex mu_;
  std::string value_;
  std::chrono::steady_clock::time_point set_at_;
};

}  // namespace sansio_tls::parity

#endif  // SANSIO_TLS_TESTS_PARITY_OUTCOME_H_
