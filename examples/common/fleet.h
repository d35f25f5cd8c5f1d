// Running an example server as one of a fleet: ticket-key files reloaded on SIGHUP, and
// worker processes sharing one port (SO_REUSEPORT). Not part of the library.
#ifndef SANSIO_TLS_EXAMPLES_COMMON_FLEET_H_
#define SANSIO_TLS_EXAMPLES_COMMON_FLEET_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/resumption.h"

namespace sansio_tls::examples {

// TicketKeyReloader reloads |keys| from |paths| (TicketKeys::LoadFiles) on every SIGHUP
// and prints {"event":"ticketKeys","keys":N} (or "ticket keys reloaded: N keys"), or
// {"event":"ticketKeysError","code":..,"message":..} when the files are bad (the previous
// keys stay). It blocks SIGHUP in the calling thread and waits for it on a thread of its
// own: construct it before starting any other thread, which inherit the blocked mask.
class TicketKeyReloader {
 public:
  TicketKeyReloader(std::shared_ptr<TicketKeys> keys, std::vector<std::string> paths, bool json);
  ~TicketKeyReloader();  // stops and joins the thread
  TicketKeyReloader(const TicketKeyReloader&) = delete;
  TicketKeyReloader& operator=(const TicketKeyReloader&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// RunWorkers forks |workers| processes that each call |run|(index) (0-based) and exit with
// its status, all listening on |host|:|*port| with SO_REUSEPORT. With *port 0 a free port is
// chosen first (and written to *port) so that every worker shares it. The calling process
// serves nothing: it forwards SIGHUP, SIGINT and SIGTERM to the workers, waits for them,
// and returns 0 when all exited with 0, else the first failing status. A worker ending on
// its own makes the others stop (SIGTERM). Workers get SIGTERM if the parent dies. Call it
// before starting any thread.
// Prints a Redis session store's availability change (redis::Options::on_status):
// {"event":"sessionStore","available":false,"code":..,"message":..} or
// {"event":"sessionStore","available":true} (text: on stderr).
void PrintSessionStore(const std::optional<Error>& error, bool json);

// Parses --redis: "unix:PATH" or "HOST:PORT". False on a malformed address.
bool ParseRedisAddress(const std::string& address, std::string* host, uint16_t* port,
                       std::string* unix_socket);

int RunWorkers(int workers, const std::string& host, uint16_t* port,
               const std::function<int(int index)>& run);

}  // namespace sansio_tls::examples

#endif  // SANSIO_TLS_EXAMPLES_COMMON_FLEET_H_
