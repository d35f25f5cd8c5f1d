// The transports under the transport fuzz target (fuzz/transports.cc), each on its fake
// socket; see fuzz/transport_harness.h for the script and the invariants.
#ifndef SANSIO_TLS_FUZZ_TRANSPORT_TARGETS_H_
#define SANSIO_TLS_FUZZ_TRANSPORT_TARGETS_H_

#include <memory>

#include "core/context.h"
#include "core/session.h"
#include "fuzz/transport_harness.h"

namespace sansio_tls::fuzz {

// What every transport's run gets: the server's session, made inside the transport,
// the client as the peer, the application's answer to an SNI request, and whether the
// configurations must complete a handshake.
struct RunSetup {
  std::shared_ptr<const Context> server_context;
  SessionOptions server_options;
  std::optional<Session> client;
  SniAnswer sni_answer;
  bool compatible = false;
};

// Each runs |script| on its transport.
void RunPosix(Input& script, Faults& faults, RunSetup setup);
void RunAsio(Input& script, Faults& faults, RunSetup setup);
void RunUv(Input& script, Faults& faults, RunSetup setup);

}  // namespace sansio_tls::fuzz

#endif  // SANSIO_TLS_FUZZ_TRANSPORT_TARGETS_H_
