// Fuzz target: the transports themselves, each over a fake socket (fuzz/transport_harness.h).
//
// Input: transport byte (% 3: 0 POSIX, 1 Asio, 2 libuv), two ClientConfig bytes, two ServerConfig
// bytes, a length byte L, L * 4 bytes of fault script (one byte per I/O call of the fake
// socket: EINTR, spurious EAGAIN, short transfer, or as asked), then the operation script
// (RunScript in fuzz/transport_harness.h).
#include "core/session.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/transport_harness.h"
#include "fuzz/transport_targets.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ResetRandom();
  Input in(data, size);
  uint8_t transport = in.Byte();
  uint8_t c0 = in.Byte(), c1 = in.Byte(), s0 = in.Byte(), s1 = in.Byte();
  ClientConfig cc = ClientConfig::From(c0, c1);
  ServerConfig sc = ServerConfig::From(s0, s1);
  std::span<const uint8_t> fault_bytes = in.Take(static_cast<size_t>(in.Byte()) * 4);
  Faults faults(Input(fault_bytes.data(), fault_bytes.size()));

  auto client = Session::Create(ClientContext(cc), ClientSessionOptions(cc));
  FUZZ_CHECK(client.ok(), "Session::Create failed");
  RunSetup setup{ServerContext(sc), ServerSessionOptions(), std::move(client).value(),
                 SniAnswerFor(sc), Compatible(cc, sc)};
  switch (transport % 3) {
    case 0:
      RunPosix(in, faults, std::move(setup));
      break;
    case 1:
      RunAsio(in, faults, std::move(setup));
      break;
    default:
      RunUv(in, faults, std::move(setup));
      break;
  }
  return 0;
}
