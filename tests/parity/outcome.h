// Outcome: the first result a transport's callbacks report in a parity test (later ones are
// ignored), read from the test's thread. Thread-safe.
#ifndef SANSIO_TLS_TESTS_PARITY_OUTCOME_H_
#define SANSIO_TLS_TESTS_PARITY_OUTCOME_H_

#include <mutex>
#include <string>
#include <utility>

namespace sansio_tls::parity {

class Outcome {
 public:
  void Set(std::string s) {
    std::lock_guard lock(mu_);
    if (value_.empty()) value_ = std::move(s);
  }
  std::string Get() const {
    std::lock_guard lock(mu_);
    return value_;
  }

 private:
  mutable std::mutex mu_;
  std::string value_;
};

}  // namespace sansio_tls::parity

#endif  // SANSIO_TLS_TESTS_PARITY_OUTCOME_H_
