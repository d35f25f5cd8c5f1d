// Fuzz target: a real client/server pair driven by a script of operations.
//
// Input: two ClientConfig bytes, two ServerConfig bytes, read-buffer byte, write-buffer
// byte, then
// operations of one opcode byte (low 4 bits: op, bit 4: side) and their arguments:
//   0 Write  side writes U16 bytes (a position-dependent pattern, so order is checkable)
//   1 Move   up to U16 bytes (0: all) of side's output go to the peer in one Feed
//   2 Read   side reads up to U16 bytes
//   3 Close  side calls Close()
//   4 Flip   the byte U16 bytes ahead in side's outgoing stream is XORed with Byte|1
//   5 Eof    side is told its transport ended (FeedEof)
//   6 Drop   U16 bytes of side's output are consumed and never delivered
//   7 Pump   everything moves both ways until nothing moves (bounded)
//   8 KeyUpdate  side calls KeyUpdate(Byte & 1); success only on an established TLS 1.3
//                connection that is not failed
//   9 PeerCert   side's peer_certificate(Byte & 1) is built (it must not crash)
//   (the operations are Driver::RunOps, fuzz/pair_driver.h)
// Then everything is pumped to the end.
//
// Invariants, checked after every operation: each side's SessionChecker rules (event
// order, sticky errors, Feed's contract); the plaintext a side has received is exactly a
// prefix of what the other side's Write() accepted, in order (whatever was flipped, dropped
// or cut); at the end, when no byte was flipped, dropped or cut and the configurations are
// compatible, both handshakes completed, nothing failed, and every accepted byte arrived
// (no hang, nothing lost).
#include "core/session.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/pair_driver.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ResetRandom();
  Input in(data, size);
  uint8_t c0 = in.Byte(), c1 = in.Byte(), s0 = in.Byte(), s1 = in.Byte();
  ClientConfig cc = ClientConfig::From(c0, c1);
  ServerConfig sc = ServerConfig::From(s0, s1);
  size_t read_buffer = (static_cast<size_t>(in.Byte()) + 1) * 256;
  size_t write_buffer = (static_cast<size_t>(in.Byte()) + 1) * 256;

  SessionOptions co = ClientSessionOptions(cc), so = ServerSessionOptions();
  co.max_read_buffer = so.max_read_buffer = read_buffer;
  co.max_write_buffer = so.max_write_buffer = write_buffer;
  auto client = Session::Create(ClientContext(cc), co);
  auto server = Session::Create(ServerContext(sc), so);
  FUZZ_CHECK(client.ok() && server.ok(), "Session::Create failed");
  Driver d(client.value(), server.value());
  d.end(1).checker->set_sni_answer(SniAnswerFor(sc));

  d.RunOps(in, 4096);
  d.Pump();
  if (!d.faulted() && Compatible(cc, sc)) d.CheckCompleted();
  return 0;
}
