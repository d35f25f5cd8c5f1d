// remote_signer: a TLS server whose private key never enters the TLS code. The key lives
// with a Signer, a thread of its own standing in for an HSM or a key service; the server's
// context holds only the certificate chain (Credentials::external_key). Each handshake
// pauses with kSignRequest, the request goes to the signer thread, and the transport's
// answerer carries the signature back to the connection's loop. One function per
// transport (asio.cc, posix.cc, uv.cc); each serves one client that sends a line and reads
// its echo, and returns the exit status.
#ifndef SANSIO_TLS_EXAMPLES_REMOTE_SIGNER_REMOTE_SIGNER_H_
#define SANSIO_TLS_EXAMPLES_REMOTE_SIGNER_REMOTE_SIGNER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "core/context.h"
#include "core/session.h"
#include "examples/common/signer.h"

namespace sansio_tls::examples::remote_signer {

using examples::Signer;

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
