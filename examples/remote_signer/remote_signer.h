// remote_signer: a TLS server whose private key never enters the TLS code. The key lives
// with a Signer, a thread of its own standing in for an HSM or a key service; the server's
// context holds only the certificate chain (Credentials::external_key). Each handshake
// pauses with kSignRequest, the request goes to the signer thread, and the transport's
// answerer carries the signature back to the connection's loop. One function per
// transport (asio.cc, posix.cc, uv.cc); each serves one client that sends a line and reads
// its echo, and returns the exit status.
#ifndef SANSIO_TLS_EXAMPLES_REMOTE_SIGNER_REMOTE_SIGNER_H_
#define SANSIO_TLS_EXAMPLES_REMOTE_SIGNER_REMOTE_SIGNER_H_

#include <openssl/base.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/context.h"
#include "core/session.h"

namespace sansio_tls::examples::remote_signer {

// What the transports hand a signature (or a failure: nullopt) to. Any thread may call it.
using Answer = std::function<void(std::optional<std::vector<uint8_t>>)>;

// Signer: one thread holding the private key. Sign() queues a request and returns at once;
// the thread signs and calls the answer from itself. Stops (finishing queued requests) when
// destroyed.
class Signer {
 public:
  explicit Signer(std::shared_ptr<EVP_PKEY> key);
  ~Signer();
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  // Queues |request| (a kSignRequest or kDecryptRequest) to be answered through |answer|.
  void Sign(const Event& request, Answer answer);
  // Requests signed so far.
  int signed_count() const;

 private:
  void Run();

  std::shared_ptr<EVP_PKEY> key_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::pair<Event, Answer>> queue_;  // guarded by mu_
  bool stop_ = false;                           // guarded by mu_
  int signed_ = 0;                              // guarded by mu_
  std::thread thread_;
};

inline constexpr char kLine[] = "signed elsewhere, echoed here\n";

int RunAsio(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx,
            Signer& signer);
int RunPosix(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx,
             Signer& signer);
int RunUv(std::shared_ptr<const Context> server_ctx, std::shared_ptr<const Context> client_ctx,
          Signer& signer);

// The client every transport uses: a blocking POSIX connection on a thread of its own,
// which sends kLine and reads it back. Prints what happened; returns the exit status.
int RunClient(uint16_t port, std::shared_ptr<const Context> client_ctx);

}  // namespace sansio_tls::examples::remote_signer

#endif  // SANSIO_TLS_EXAMPLES_REMOTE_SIGNER_REMOTE_SIGNER_H_
