// The driver of the pair-shaped fuzz targets (pair, lifecycle): a client and a server
// Session joined by hand, moved by a script of operations, with the plaintext each side
// receives checked against what the other side wrote (a position-dependent pattern, so
// order, loss and duplication all show).
#ifndef SANSIO_TLS_FUZZ_PAIR_DRIVER_H_
#define SANSIO_TLS_FUZZ_PAIR_DRIVER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/session.h"
#include "fuzz/fuzz_support.h"

namespace sansio_tls::fuzz {

struct End {
  int index;  // 0: client, 1: server
  Session* session;
  SessionChecker* checker;
  uint64_t written = 0;     // plaintext accepted by Write()
  uint64_t received = 0;    // plaintext Read() by this side (all checked against the pattern)
  uint64_t out_offset = 0;  // ciphertext bytes this side has put on the wire
  std::vector<std::pair<uint64_t, uint8_t>> flips;  // absolute offsets in the outgoing stream
  bool eof = false;
};

class Driver {
 public:
  // Borrows both sessions; they must outlive the driver.
  Driver(Session& client, Session& server);
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  End& end(int i) { return ends_[i]; }
  // True once a byte was flipped, dropped or an EOF injected: failures are then allowed.
  bool faulted() const { return faulted_; }

  void Write(End& e, size_t n);
  // Moves up to |limit| bytes (0: the whole pending run) from |from| to the other side.
  size_t Move(End& from, size_t limit);
  void Read(End& e, size_t limit);
  void Drop(End& from, size_t limit);
  void Eof(End& e);
  // Moves and reads until nothing moves (bounded; not settling is a failure).
  void Pump();
  void Check(End& e);

  // Runs operations from |in| until it is empty, |max_ops| ran, or (when |stop_op| >= 0)
  // the opcode |stop_op| is read. Opcodes (low 4 bits; bit 4: side) and their arguments:
  //   0 Write U16  1 Move U16  2 Read U16  3 Close  4 Flip U16 Byte  5 Eof  6 Drop U16
  //   7 Pump  8 KeyUpdate Byte  9 PeerCert Byte  10 Answer (the side's pending request)
  void RunOps(Input& in, int max_ops, int stop_op = -1);

  // The end-of-script checks for a pair that had no fault and compatible configurations:
  // neither side failed, both completed their handshake, every accepted byte arrived, and
  // no output is left after pumping.
  void CheckCompleted();

 private:
  size_t PendingOutput() const;
  size_t ReadEverything(End& e);
  void Received(End& e, std::span<const uint8_t> data);

  SessionChecker client_checker_, server_checker_;
  End ends_[2];
  bool faulted_ = false;
  std::vector<uint8_t> scratch_;
};

}  // namespace sansio_tls::fuzz

#endif  // SANSIO_TLS_FUZZ_PAIR_DRIVER_H_
