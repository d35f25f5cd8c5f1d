#include <cstdio>
#include <vector>

#include "examples/common/cli.h"
#include "examples/common/output.h"
#include "examples/echo_client/echo_client.h"
#include "transports/common/transport_types.h"

namespace sansio_tls::examples::echo_client {

int EndOfConnection(const EchoClientConfig& config, const Session& session,
                    std::optional<Error> failure, bool peer_closed, bool peer_truncated) {
  if (config.session_out) {
    // The newest ticket or session the server sent (TLS 1.3 tickets come after the
    // handshake, so this is taken at the end).
    if (auto saved = session.saved_session()) {
      std::vector<uint8_t> bytes = saved->ToBytes();
      std::FILE* f = std::fopen(config.session_out->c_str(), "wb");
      if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
        PrintEvent("echo_client: cannot write --session-out file " + *config.session_out);
      }
      if (f) std::fclose(f);
    } else {
      PrintEvent("echo_client: the server sent no resumable session");
    }
  }
  if (!failure && peer_truncated) {
    failure = MakeError(transport::kErrTruncated, "the server's stream ended without close_notify");
  }
  bool clean = !failure && peer_closed;
  if (failure) PrintClientFailure(*failure, config.json);
  PrintEnd(clean, config.json);
  return clean ? kExitOk : kExitUncleanEnd;
}

}  // namespace sansio_tls::examples::echo_client
