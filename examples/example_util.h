// Helpers shared by the example programs: flags, files, JSON lines, handshake summaries.
// Not part of the library.
#ifndef SANSIO_TLS_EXAMPLES_EXAMPLE_UTIL_H_
#define SANSIO_TLS_EXAMPLES_EXAMPLE_UTIL_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"
#include "transports/common/transport_types.h"

namespace sansio_tls::examples {

// Flags: --name=value, --name value (for names declared as taking a value) and --name
// (booleans, also --name=true|false). Every flag may repeat; Get() returns the last value.
class Flags {
 public:
  Flags(std::set<std::string> valued, std::set<std::string> boolean)
      : valued_(std::move(valued)), boolean_(std::move(boolean)) {}
  // Returns an error message for an unknown flag, a missing value or a stray argument.
  std::optional<std::string> Parse(int argc, char** argv);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> Get(const std::string& name) const;
  std::string GetOr(const std::string& name, std::string fallback) const;
  std::vector<std::string> GetAll(const std::string& name) const;
  // A boolean flag: absent -> |fallback|; "--x" or "--x=true" -> true; "--x=false" -> false.
  // An unparsable value is reported by Parse().
  bool GetBool(const std::string& name, bool fallback) const;

 private:
  std::set<std::string> valued_, boolean_;
  std::map<std::string, std::vector<std::string>> values_;
};

// Reads a whole file; nullopt (with |error| set) when it cannot.
std::optional<std::string> ReadFile(const std::string& path, std::string* error);
// Parses "1.2" / "1.3" (also "TLSv1.2" / "TLSv1.3").
std::optional<TlsVersion> ParseVersion(std::string_view text);
// Parses a decimal in [0, max].
std::optional<uint64_t> ParseUint(std::string_view text, uint64_t max);
// Splits "a,b,c" on commas (empty input: no items).
std::vector<std::string> SplitCommas(std::string_view text);

// |s| as a JSON string literal (quotes included); invalid UTF-8 bytes become \u00XX.
std::string JsonString(std::string_view s);
// A JSON string, or null when |s| is empty (or equals |none|).
std::string JsonStringOrNull(std::string_view s, std::string_view none = {});

// The peer's leaf certificate as Node's getPeerCertificate() JSON object, or "null".
std::string PeerCertificateJson(const Session& session);

// Node's secureConnection/secureConnect facts as one JSON object line:
// {"event":EVENT,"authorized":..,"authorizationError":..,"servername":..,"alpnProtocol":..,
//  "npnProtocol":..,"protocol":..,"cipher":..,"sessionReused":..,"peerCertificate":..}
std::string HandshakeJson(std::string_view event, const Session& session);

// Upper-case hex bytes joined by ':' of the SHA-256 of |der|.
std::string Sha256Fingerprint(std::span<const uint8_t> der);

// Writes all of |data| to |fd| (waiting when it is non-blocking); false on error.
bool WriteAll(int fd, std::string_view data);
// Prints one line to stdout and flushes it.
void PrintLine(const std::string& line);
// Writes one line to stderr (the echo client's events go there; its stdout is the data).
void PrintEvent(const std::string& line);

// Error{code, message} without an alert.
Error MakeError(std::string code, std::string message);
// The echo client's failure: a JSON "error" event with |json|, else "echo_client: CODE: ...".
void ReportClientError(const Error& e, bool json);
// "PREFIXAddress":..,"PREFIXPort":..,"PREFIXFamily":.. (members of a JSON object).
std::string AddressJson(std::string_view address, uint16_t port, std::string_view family,
                        const char* prefix);
std::string AddressJson(const transport::SocketAddress& a, const char* prefix);
// echo_server's clientError and drop events (POSIX and uv servers): a JSON line on stdout
// with |json|, else a line on stderr.
void PrintClientError(const transport::ClientErrorInfo& info, bool json);
void PrintDrop(const transport::DropInfo& info, bool json);
// starttls: "WHO: LINE" on stdout; Fail prints "starttls: WHAT" on stderr and returns 1.
void Say(const char* who, const std::string& line);
int StartTlsFail(const std::string& what);

// The settings of the echo_server and echo_client programs, whatever the transport.
struct EchoServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  size_t max_connections = 0;
  std::chrono::milliseconds handshake_timeout{120'000};
  int threads = 1;              // Asio: io_contexts, one per thread (SO_REUSEPORT when > 1)
  bool json = false;
  std::string fingerprint;      // of an ephemeral certificate, printed when set
  std::FILE* keylog = nullptr;  // NSS key-log lines are appended when set
};
struct EchoClientConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  SessionOptions session;
  std::chrono::milliseconds end_timeout{10'000};
  bool json = false;
  std::optional<std::string> session_out;  // file for the newest resumable session
};

}  // namespace sansio_tls::examples

#endif  // SANSIO_TLS_EXAMPLES_EXAMPLE_UTIL_H_
