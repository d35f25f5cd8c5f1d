// The Redis session cache on a libuv loop (hiredis's libuv adapter), and the glue answering
// uv_tls streams' external-cache events from it.
#ifndef SANSIO_TLS_STORE_REDIS_UV_H_
#define SANSIO_TLS_STORE_REDIS_UV_H_

#include <uv.h>

#include <functional>
#include <memory>

#include "store/redis/session_cache.h"
#include "transports/uv/stream.h"

namespace sansio_tls::redis {

// MakeUvCache makes a cache running on |loop|; use and destroy it on the loop's thread.
// It holds handles on |loop| until destroyed (then they close on the loop's next turn).
std::unique_ptr<RedisSessionCache> MakeUvCache(uv_loop_t* loop, Options options);

// HandleUvEvent answers |stream|'s external session-cache events from |cache| (call it from
// the server's session_event callback): kSessionLookup is looked up asynchronously and
// answered (then stream.Advance()) unless the stream is gone by then; kNewSession is
// stored; kEarlyDataCheck (ServerContextOptions::early_data_check) accepts the 0-RTT only when
// CheckEarlyData() says its ticket identity is fresh fleet-wide (then |on_early_data_check|,
// if set, is told the verdict). Returns false, doing nothing, for other events. |cache| must
// outlive the calls it has not answered yet (destroying it answers them).
bool HandleUvEvent(RedisSessionCache& cache, uv_tls::Stream& stream, const Event& event,
                   std::function<void(bool fresh)> on_early_data_check = {});

}  // namespace sansio_tls::redis

#endif  // SANSIO_TLS_STORE_REDIS_UV_H_
