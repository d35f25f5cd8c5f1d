// The echo of one connection on the POSIX transport (echo_server and demo): everything read
// is written back, holding at most one read's worth when the peer reads slowly.
#ifndef SANSIO_TLS_EXAMPLES_COMMON_POSIX_ECHO_H_
#define SANSIO_TLS_EXAMPLES_COMMON_POSIX_ECHO_H_

#include <cstdint>
#include <vector>

#include "transports/posix/server.h"

namespace sansio_tls::examples {

class PosixEcho : public posix::ConnectionHandler {
 public:
  void OnData(posix::Connection& conn) override { Pump(conn); }
  void OnWritable(posix::Connection& conn) override { Pump(conn); }

 private:
  void Pump(posix::Connection& conn) {
    for (;;) {
      if (pos_ < pending_.size()) {
        pos_ += conn.TryWrite({pending_.data() + pos_, pending_.size() - pos_});
        if (pos_ < pending_.size()) return;  // OnWritable resumes
        pending_.clear();
        pos_ = 0;
      }
      uint8_t buf[16384];
      size_t n = conn.TryRead(buf);
      if (n == 0) return;
      pending_.assign(buf, buf + n);
    }
  }
  std::vector<uint8_t> pending_;
  size_t pos_ = 0;
};

}  // namespace sansio_tls::examples

#endif  // SANSIO_TLS_EXAMPLES_COMMON_POSIX_ECHO_H_
