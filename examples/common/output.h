// What the example programs print: human lines, or with --json one JSON object per line
// (nlohmann-json). The JSON events and their fields (Node's names) are a contract that
// tests/interop/examples_test.cc checks; every event is built here. Not part of the library.
#ifndef SANSIO_TLS_EXAMPLES_COMMON_OUTPUT_H_
#define SANSIO_TLS_EXAMPLES_COMMON_OUTPUT_H_

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/session.h"
#include "transports/common/transport_types.h"

namespace sansio_tls::examples {

// Members keep the order they were added in.
using Json = nlohmann::ordered_json;

// |s| as a JSON string; bytes that are not UTF-8 become the Latin-1 code point (U+0000..FF).
Json JsonText(std::string_view s);
// JsonText(s), or null when |s| is empty or equals |none|.
Json JsonTextOrNull(std::string_view s, std::string_view none = {});
// One line of JSON (no newline).
std::string JsonLine(const Json& j);

// Writes all of |data| to |fd| (waiting when it is non-blocking); false on error.
bool WriteAll(int fd, std::string_view data);
// One line on stdout, flushed.
void PrintLine(const std::string& line);
// One line on stderr (the echo client's events; its stdout carries the data).
void PrintEvent(const std::string& line);

// Upper-case hex bytes joined by ':' of the SHA-256 of |der|.
std::string Sha256Fingerprint(std::span<const uint8_t> der);

// What the handshake report adds on request (--keymat-export, --channel-binding); set once
// at start-up, before any connection.
struct HandshakeExtras {
  std::string keymat_label;  // non-empty: export keymat_length bytes under this label
  size_t keymat_length = 0;
  bool channel_binding = false;  // Finished messages, tls-unique, tls-exporter
  bool negotiation = false;      // the key-exchange group and the peer's signature algorithm
  bool ech = false;              // HandshakeInfo::ech ("ech": not_offered, grease, ...)
};
void SetHandshakeExtras(HandshakeExtras extras);
// echo_server --ech-public-name: the ECHConfigList clients need, printed when listening.
void SetListeningEchConfigList(std::vector<uint8_t> list);

// Node's secureConnection/secureConnect facts: {"event":EVENT,"authorized":..,
// "authorizationError":..,"servername":..,"alpnProtocol":..,"npnProtocol":..,"protocol":..,
// "cipher":..,"sessionReused":..,"peerCertificate":{getPeerCertificate()}|null}, then on
// request "keyingMaterial":HEX (exportKeyingMaterial, no context), and "finished",
// "peerFinished" (getFinished()/getPeerFinished(); null in TLS 1.3), "tlsUnique",
// "tlsExporter" (HEX or null when not defined for the connection), "group" and
// "peerSignatureAlgorithm" (names, or null when none), "ech" (not_offered, grease,
// accepted, rejected). Lower-case hex.
Json HandshakeJson(std::string_view event, const Session& session);

// --trace (SessionOptions::trace): one protocol message sent or received,
// {"event":"trace","direction":"sent"|"received","type":"handshake"|"alert"|
// "changeCipherSpec","name":NAME,"length":BYTES}, or "trace: sent|received NAME (TYPE, BYTES
// bytes)". NAME as TraceMessage::name ("ClientHello", "close_notify", ...); BYTES the
// message's length (a handshake message's with its 4-byte header). Server: on stdout (with
// the worker fields, as secureConnection); client: on stderr, as its other events.
Json TraceJson(const TraceMessage& message);
void PrintTrace(const TraceMessage& message, Role who, bool json);

// ---- echo_server: stdout; clientError and drop go to stderr without --json -------------

// Marks this process as worker |index| of echo_server --workers (set once, in the worker,
// before any output): "listening" and "secureConnection" then carry "worker":INDEX and
// "pid":PID (text: a "worker INDEX (pid PID): " prefix on the listening line).
void SetWorker(int index);
// {"event":"earlyDataCheck","fresh":..[,"worker":..,"pid":..]}: a 0-RTT ticket identity
// vetted against the fleet's record (--early-data with --redis); fresh: 0-RTT accepted.
// Text: "early data: fresh|replay (0-RTT accepted|rejected)" on stderr.
void PrintEarlyDataCheck(bool fresh, bool json);

// {"event":"listening","transport":..,"host":..,"port":..[,"fingerprint256":..]
// [,"echConfigList":HEX]}, or "listening on HOST:PORT (TRANSPORT)" [+ "ephemeral certificate
// SHA-256 FP"] [+ "ECH config list HEX"].
void PrintListening(std::string_view transport, const transport::SocketAddress& local,
                    const std::string& fingerprint, bool json);
// HandshakeJson("secureConnection"), or "server connected authorized|unauthorized".
void PrintSecureConnection(const Session& session, bool json);
// {"event":"clientError","code":..,"message":..,"remoteAddress":..,"remotePort":..,
// "remoteFamily":..}, or "clientError from ADDRESS:PORT: CODE: MESSAGE".
void PrintClientError(const transport::ClientErrorInfo& info, bool json);
// {"event":"drop","localAddress":..,..,"remoteFamily":..}, or "drop: ADDRESS:PORT ...".
void PrintDrop(const transport::DropInfo& info, bool json);

// ---- echo_client: stderr ---------------------------------------------------------------

// HandshakeJson("secureConnect"), or "client connected authorized|unauthorized".
void PrintSecureConnect(const Session& session, bool json);
// {"event":"error","code":..,"message":..}, or "echo_client: CODE: MESSAGE".
void PrintClientFailure(const Error& e, bool json);
// {"event":"end","clean":..} (nothing without --json).
void PrintEnd(bool clean, bool json);

// NSS key-log lines appended to a file, one writer at a time (threads may share it).
class KeyLogFile {
 public:
  // Opens |path| for appending; false when it cannot.
  bool Open(const std::string& path);
  bool is_open() const { return file_ != nullptr; }
  void Write(std::string_view line);
  ~KeyLogFile();

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;
};

}  // namespace sansio_tls::examples

#endif  // SANSIO_TLS_EXAMPLES_COMMON_OUTPUT_H_
