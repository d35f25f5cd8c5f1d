// Signer: a thread holding a private key, standing in for an HSM or a key service, for the
// programs that keep their key out of the TLS code (Credentials::external_key):
// remote_signer and echo_server --external-key. Not part of the library.
#ifndef SANSIO_TLS_EXAMPLES_COMMON_SIGNER_H_
#define SANSIO_TLS_EXAMPLES_COMMON_SIGNER_H_

#include <openssl/base.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "core/session.h"
#include "core/testing/key_signer.h"

namespace sansio_tls::examples {

// What the transports hand the result (or a failure: nullopt) to. Any thread may call it.
using KeyAnswer = std::function<void(std::optional<std::vector<uint8_t>>)>;

// Sign() queues a request and returns at once; the signer's thread computes the result and
// calls the answer from itself. Destruction finishes the queued requests, then stops.
class Signer {
 public:
  // |on_done| (optional) runs on the signer thread after each request, with its result.
  explicit Signer(std::shared_ptr<EVP_PKEY> key,
                  std::function<void(const Event&, const std::vector<uint8_t>&)> on_done = {})
      : key_(std::move(key)), on_done_(std::move(on_done)), thread_([this] { Run(); }) {}
  ~Signer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  // Queues |request| (kSignRequest or kDecryptRequest) to be answered through |answer|.
  void Sign(const Event& request, KeyAnswer answer) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.emplace_back(request, std::move(answer));
    }
    wake_.notify_all();
  }
  // Requests answered so far.
  int answered() const {
    std::lock_guard<std::mutex> lock(mu_);
    return answered_;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      auto [request, answer] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      // An HSM or key service would be called here: the message is signed whole (hashed by
      // the signer) by the algorithm the handshake chose.
      std::vector<uint8_t> result = testing::KeyOperationResult(key_.get(), request);
      if (on_done_) on_done_(request, result);
      if (result.empty()) {
        answer(std::nullopt);
      } else {
        answer(std::move(result));
      }
      lock.lock();
      ++answered_;
    }
  }

  std::shared_ptr<EVP_PKEY> key_;
  std::function<void(const Event&, const std::vector<uint8_t>&)> on_done_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::pair<Event, KeyAnswer>> queue_;  // guarded by mu_
  bool stop_ = false;                              // guarded by mu_
  int answered_ = 0;                               // guarded by mu_
  std::thread thread_;
};

}  // namespace sansio_tls::examples

#endif  // SANSIO_TLS_EXAMPLES_COMMON_SIGNER_H_
