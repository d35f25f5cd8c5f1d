// The transports under the transport fuzz target (fuzz/transports.cc), each on its fake
// socket; see fuzz/transport_harness.h for the script and the invariants.
#ifndef SANSIO_TLS_FUZZ_TRANSPORT_TARGETS_H_
#define SANSIO_TLS_FUZZ_TRANSPORT_TARGETS_H_

#include <memory>

#include "core/session.h"
#include "fuzz/transport_harness.h"

namespace sansio_tls::fuzz {

// Each runs |script| with |server| inside the transport and |client| as the peer.
// |sni_answer|: the application's answer to an SNI request; |compatible|: the
// configurations must complete a handshake.
void RunPosix(Input& script, Faults& faults, std::unique_ptr<Session> server,
              std::unique_ptr<Session> client, SniAnswer sni_answer, bool compatible);
void RunAsio(Input& script, Faults& faults, std::unique_ptr<Session> server,
             std::unique_ptr<Session> client, SniAnswer sni_answer, bool compatible);

}  // namespace sansio_tls::fuzz

#endif  // SANSIO_TLS_FUZZ_TRANSPORT_TARGETS_H_
