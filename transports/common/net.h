// Socket facts every transport needs, without an event loop: the process's SIGPIPE policy
// and socket addresses as SocketAddress.
#ifndef SANSIO_TLS_TRANSPORTS_COMMON_NET_H_
#define SANSIO_TLS_TRANSPORTS_COMMON_NET_H_

#include "transports/common/transport_types.h"

struct sockaddr_storage;

namespace sansio_tls::transport {

// A write to a socket whose peer went away raises SIGPIPE, which ends the process by
// default. What writes without MSG_NOSIGNAL (libuv's streams, hiredis) calls this when it
// is created: SIGPIPE is then ignored, unless the process installed a handler of its own.
// Once per process; thread-safe.
void IgnoreSigpipe();

// |ss| (AF_INET or AF_INET6) as a SocketAddress: numeric address, port and family; empty
// for another family.
SocketAddress AddressOf(const sockaddr_storage& ss);

}  // namespace sansio_tls::transport

#endif  // SANSIO_TLS_TRANSPORTS_COMMON_NET_H_
