// Helpers for the fleet tests: echo_server started with --workers, a client connection
// that tells which worker served it, and the server's JSON lines.
#ifndef SANSIO_TLS_TESTS_FLEET_FLEET_TEST_UTIL_H_
#define SANSIO_TLS_TESTS_FLEET_FLEET_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/resumption.h"
#include "tests/interop/interop_util.h"
#include "transports/posix/connection.h"

namespace sansio_tls::fleet_test {

using interop::Process;

// $EXAMPLES_TRANSPORT (set per test target), else asio.
inline std::string Transport() {
  const char* t = std::getenv("EXAMPLES_TRANSPORT");
  return t && *t ? t : "asio";
}

inline size_t CountOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The lines of |text| containing |needle|, in order.
inline std::vector<std::string> LinesWith(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // an incomplete line
    std::string line = text.substr(start, end - start);
    if (line.find(needle) != std::string::npos) out.push_back(line);
    start = end + 1;
  }
  return out;
}

// A fleet: echo_server --workers=N --json on a port of its choosing.
struct Fleet {
  std::unique_ptr<Process> process;
  uint16_t port = 0;
  int workers = 0;

  // The number of "secureConnection" lines so far.
  size_t connections() const { return CountOf(process->out(), "\"event\":\"secureConnection\""); }
  // Waits until |n| lines with |needle| were printed.
  bool WaitFor(const std::string& needle, size_t n) const {
    return process->WaitOutput(
        [&](const std::string& out, const std::string&) { return CountOf(out, needle) >= n; });
  }
  // SIGTERM to the supervising process: it stops its workers; true when all exited with 0.
  bool Stop() {
    process->Kill(SIGTERM);
    return process->Wait() == 0;
  }
};

inline Fleet StartFleet(int workers, std::vector<std::string> flags) {
  Fleet f;
  f.workers = workers;
  std::vector<std::string> argv = {interop::Runfile("examples/echo_server"),
                                   "--transport=" + Transport(), "--port=0", "--json",
                                   "--workers=" + std::to_string(workers)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  f.process = Process::Start(argv);
  if (!f.WaitFor("\"event\":\"listening\"", static_cast<size_t>(workers))) return f;
  std::vector<std::string> lines = LinesWith(f.process->out(), "\"event\":\"listening\"");
  std::smatch m;
  if (std::regex_search(lines.front(), m, std::regex("\"port\":([0-9]+)"))) {
    f.port = static_cast<uint16_t>(std::stoi(m[1]));
  }
  return f;
}

// One client connection's outcome, as the client and the serving worker saw it.
struct Visit {
  bool ok = false;
  std::string error;
  int worker = -1;             // the worker that served it (from its secureConnection line)
  bool reused = false;         // the client's view
  bool server_reused = false;  // the worker's view
  std::optional<SavedSession> session;  // the newest session received
};

// Connects to |fleet| with |client|, offering |offer|; reads "welcome!\n", ends cleanly,
// and finds the worker's report. Connections must not overlap (reports are matched by
// order).
inline Visit Connect(const Fleet& fleet, const std::shared_ptr<const Context>& client,
                     std::optional<SavedSession> offer = std::nullopt) {
  Visit v;
  size_t before = fleet.connections();
  posix::ConnectOptions options;
  options.session.servername = "localhost";
  options.session.session = std::move(offer);
  auto conn = posix::Connect("127.0.0.1", fleet.port, client, options);
  if (!conn.ok()) {
    v.error = conn.error().code + ": " + conn.error().message;
    return v;
  }
  (*conn)->set_timeout(std::chrono::seconds(20));
  std::string got;
  uint8_t buf[64];
  while (got.size() < 9) {
    auto n = (*conn)->Read(buf);
    if (!n.ok() || *n == 0) {
      v.error = n.ok() ? "EOF before welcome" : n.error().code + ": " + n.error().message;
      return v;
    }
    got.append(reinterpret_cast<const char*>(buf), *n);
  }
  v.reused = (*conn)->handshake_info().session_reused;
  v.session = (*conn)->session().saved_session();
  (*conn)->End();
  if (!fleet.WaitFor("\"event\":\"secureConnection\"", before + 1)) {
    v.error = "no secureConnection report";
    return v;
  }
  std::string line = LinesWith(fleet.process->out(), "\"event\":\"secureConnection\"").at(before);
  std::smatch m;
  if (std::regex_search(line, m, std::regex("\"worker\":([0-9]+)"))) v.worker = std::stoi(m[1]);
  v.server_reused = line.find("\"sessionReused\":true") != std::string::npos;
  v.ok = got == "welcome!\n" && v.worker >= 0;
  if (!v.ok) v.error = "unexpected: " + got + " / " + line;
  return v;
}

}  // namespace sansio_tls::fleet_test

#endif  // SANSIO_TLS_TESTS_FLEET_FLEET_TEST_UTIL_H_
