// The Redis session cache on an Asio io_context (an adapter of hiredis's event hooks to
// Asio descriptors and timers), and the glue answering asio_tls streams' external-cache
// events from it.
#ifndef SANSIO_TLS_STORE_REDIS_ASIO_H_
#define SANSIO_TLS_STORE_REDIS_ASIO_H_

#include <functional>
#include <memory>

#include <asio/io_context.hpp>

#include "store/redis/session_cache.h"
#include "transports/asio/server.h"

namespace sansio_tls::redis {

// MakeAsioCache makes a cache on |io_context|; use and destroy it on the thread running it
// (one cache per io_context when several threads serve).
std::unique_ptr<RedisSessionCache> MakeAsioCache(asio::io_context& io_context, Options options);

// HandleAsioEvent answers |stream|'s external session-cache events from |cache| (call it
// from the server's session_event callback): kSessionLookup is looked up asynchronously and
// answered (answer_session_lookup) unless the stream is gone by then; kNewSession is
// stored; kEarlyDataCheck (ServerContextOptions::early_data_check) accepts the 0-RTT only when
// CheckEarlyData() says its ticket identity is fresh fleet-wide (then |on_early_data_check|,
// if set, is told the verdict). Returns false, doing nothing, for other events. |cache| must
// outlive the calls it has not answered yet (destroying it answers them).
bool HandleAsioEvent(RedisSessionCache& cache, asio_tls::TlsStream& stream, const Event& event,
                     std::function<void(bool fresh)> on_early_data_check = {});

}  // namespace sansio_tls::redis

#endif  // SANSIO_TLS_STORE_REDIS_ASIO_H_
