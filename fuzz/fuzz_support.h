// Shared pieces of the fuzz targets: an input reader, deterministic randomness, fixed
// credentials and contexts, and the session invariants every target checks.
//
// Everything here is deterministic across processes: keys are derived from fixed seeds,
// certificates have fixed serials and validity, BoringSSL's clock is fixed, and RAND_bytes
// is replaced (deterministic_rand.cc) by per-side streams reset for every input. So a byte
// stream recorded from one side of a pair (fuzz/gen_corpus.cc) replays into a lone session
// of the other side exactly, handshake included, and every crash reproduces.
#ifndef SANSIO_TLS_FUZZ_FUZZ_SUPPORT_H_
#define SANSIO_TLS_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"

// FUZZ_CHECK aborts with a message when |cond| is false: libFuzzer reports it as a crash,
// the replay test as a failure.
#define FUZZ_CHECK(cond, ...)                                                            \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                 \
      std::fprintf(stderr, "\n");                                                        \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

namespace sansio_tls::fuzz {

// ---- Input --------------------------------------------------------------------------

// Input reads a fuzz input front to back. Reads past the end yield zeros / empty spans,
// so a target never has to check lengths.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data, size) {}
  bool empty() const { return data_.empty(); }
  size_t remaining() const { return data_.size(); }
  uint8_t Byte();
  uint16_t U16();                           // big-endian
  std::span<const uint8_t> Take(size_t n);  // up to n bytes
  std::span<const uint8_t> Rest();
  // A string of Byte() bytes (0..255).
  std::string ShortString();
  // Splits the rest at the first occurrence of |sep| (consumed); everything if absent.
  std::span<const uint8_t> Until(std::string_view sep);

 private:
  std::span<const uint8_t> data_;
};

// Fragment sizes for feeding a byte stream: whole, one byte at a time, or pseudo-random
// sizes from |seed| (1..max).
class Chunker {
 public:
  enum class Mode : uint8_t { kWhole = 0, kOneByte = 1, kRandom = 2, kSmall = 3 };
  Chunker(Mode mode, uint64_t seed) : mode_(mode), state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  size_t Next(size_t available);

 private:
  Mode mode_;
  uint64_t state_;
};

// ---- Determinism --------------------------------------------------------------------

// Streams of the replaced RAND_bytes: each side of a connection draws from its own, so a
// lone session sees the same numbers as in a recorded pair.
enum class RandomStream { kClient = 0, kServer = 1, kOther = 2 };
// Resets every stream to its start. Call at the start of each input.
void ResetRandom();
// While alive, RAND_bytes draws from |stream|.
class ScopedRandomStream {
 public:
  explicit ScopedRandomStream(RandomStream stream);
  ~ScopedRandomStream();
  ScopedRandomStream(const ScopedRandomStream&) = delete;
  ScopedRandomStream& operator=(const ScopedRandomStream&) = delete;

 private:
  RandomStream previous_;
};

// The fixed time every session judges certificates at (2026-01-01), and BoringSSL's clock.
inline constexpr int64_t kFuzzTime = 1767225600;

// ---- Fixtures -----------------------------------------------------------------------

// PEM and DER of the fixed test PKI: an Ed25519 root and leaves it signed: "localhost"
// (DNS:localhost, IP:127.0.0.1), "*.example.com", "sni.test" and a client ("client").
// Keys are derived from fixed seeds at run time (never stored in the repository).
struct Pki {
  std::string root_pem;
  std::string server_cert_pem, server_key_pem;  // localhost
  std::string wild_cert_pem, wild_key_pem;      // *.example.com
  std::string sni_cert_pem, sni_key_pem;        // sni.test
  std::string client_cert_pem, client_key_pem;
  std::vector<uint8_t> root_der, server_der, client_der;
};
const Pki& FixedPki();

// Server configuration from a fuzz input's first two bytes.
struct ServerConfig {
  int versions = 0;  // 0, 3: TLS 1.2-1.3; 1: TLS 1.3 only; 2: TLS 1.2 only
  bool request_cert = false;
  bool reject_unauthorized = false;
  Chunker::Mode chunking = Chunker::Mode::kWhole;
  bool eof_at_end = false;
  bool echo = false;  // write back what is read, then Close()
  // 0: no SNI contexts; 1: contexts "*.example.com" and "sni.test"; 2: sni_callback only;
  // 3: contexts and sni_callback.
  int sni_mode = 0;
  bool alpn = false;  // alpn_protocols {"h2", "http/1.1"}
  bool npn = false;   // npn_protocols {"http/1.1", "spdy/3"}
  // Answer to kSniRequest: 0 UseDefault, 1 and 3 Use(AltServerContext()), 2 Reject.
  int sni_answer = 0;
  static ServerConfig From(uint8_t b0, uint8_t b1);
  std::vector<uint8_t> ToBytes() const;
};

inline constexpr const char* kClientNames[8] = {"localhost",  "wrong.example", "a.example.com",
                                                "sni.test",   "127.0.0.1",     "",
                                                "LOCALHOST.", "b.example.com"};

struct ClientConfig {
  int versions = 0;  // as ServerConfig
  bool with_certificate = false;
  bool reject_unauthorized = false;
  Chunker::Mode chunking = Chunker::Mode::kWhole;
  bool eof_at_end = false;
  // 0: no ALPN; 1: {"h2", "http/1.1"}; 2: {"foo"}; 3: {"http/1.1"}.
  int alpn = 0;
  bool npn = false;  // npn_protocols {"http/1.1"}
  int name = 0;      // servername: kClientNames[name]
  static ClientConfig From(uint8_t b0, uint8_t b1);
  std::vector<uint8_t> ToBytes() const;
};

// The options a configuration stands for (credentials from FixedPki()).
ServerContextOptions ServerOptionsFor(const ServerConfig& config);
ClientContextOptions ClientOptionsFor(const ClientConfig& config);

// What the harness changes in a context built by BuildContext. Both: peers' Ed25519
// signatures are accepted. kStateless also fixes BoringSSL's clock (kFuzzTime) and turns the
// server's session cache off with fixed ticket keys, so no state is carried between inputs
// (contexts can be kept for the process). kLifecycle leaves the session clock
// (SessionOptions::verify_time), caches and ticket keys as configured: build its contexts
// anew for every input.
enum class Harness { kStateless, kLifecycle };
template <class Options>
std::shared_ptr<const Context> BuildContext(const Options& options, Harness harness);

// Contexts built once per configuration (Harness::kStateless) and kept for the process.
std::shared_ptr<const Context> ServerContext(const ServerConfig& config);
std::shared_ptr<const Context> ClientContext(const ClientConfig& config);
// The server context an SNI callback answer switches to: "*.example.com", ALPN {"http/1.1"}.
std::shared_ptr<const Context> AltServerContext();
SniAnswer SniAnswerFor(const ServerConfig& config);
// SessionOptions with the fixed verify time.
SessionOptions ClientSessionOptions(const ClientConfig& config);
SessionOptions ServerSessionOptions();
// True when a pair of these configurations must complete its handshake (versions overlap,
// certificates and names acceptable, ALPN overlap, SNI not rejected).
bool Compatible(const ClientConfig& client, const ServerConfig& server);

// ---- Invariants ---------------------------------------------------------------------

// SessionChecker pops a session's events and checks the rules every session obeys:
// kHandshakeDone at most once and before any kReadable; kSniRequest at most once, before
// kHandshakeDone, with a name, while sni_pending(); kError at most once, last, with a
// code, matching error() and failed(); at most one kPeerClosed/kPeerTruncated and no
// kReadable after it; a fatal error is sticky (same error, Write() accepts nothing, Feed()
// swallows everything, wants_input() false). Lifecycle events: kVerifyRequested at most
// once, before kHandshakeDone, while verify_pending(), only when a verify answer is set;
// kSessionLookup on a server before kHandshakeDone, while session_lookup_pending(), only
// when a lookup is set; kSignRequest/kDecryptRequest before kHandshakeDone, with input,
// while key_operation_pending(), only when a signer is set; kAlpnRequest at most once, on a
// server, before kHandshakeDone, with the client's protocols, while alpn_pending(), only when
// an ALPN answer is set (an unoffered answer is refused and changes nothing; a second answer
// is refused); kEarlyData on a server before
// kHandshakeDone; kNewSession carries a
// session whose ToBytes() survives FromBytes(); kKeyLog lines look like NSS key-log lines.
class SessionChecker {
 public:
  explicit SessionChecker(Session& session) : session_(session) {}
  // Answers kSniRequest with |answer| as soon as it is drained (server sessions only).
  void set_sni_answer(SniAnswer answer) { sni_answer_ = std::move(answer); }
  // Answers kVerifyRequested with CompleteVerification(accept, code).
  void set_verify_answer(bool accept, std::string code) {
    verify_answer_ = std::make_pair(accept, std::move(code));
  }
  // Answers kSessionLookup with lookup(id) (server, SessionCacheMode::kExternal).
  using Lookup = std::function<std::optional<SavedSession>(std::string_view id)>;
  void set_session_lookup(Lookup lookup) { lookup_ = std::move(lookup); }
  // Deferred: requests wait until AnswerPending() instead of being answered when drained.
  void set_deferred(bool deferred) { deferred_ = deferred; }
  // External keys (Credentials::external_key): how kSignRequest and kDecryptRequest are
  // answered. kAtOnce: signer(request) when drained (or by AnswerPending() when deferred);
  // kLate: only by AnswerPending(); kNever: never; kFail: FailKeyOperation, when kAtOnce
  // would answer. Without a signer a key request is a failed check.
  enum class KeyAnswer { kAtOnce, kLate, kNever, kFail };
  using Signer = std::function<std::vector<uint8_t>(const Event& request)>;
  void set_key_signer(Signer signer, KeyAnswer answer) {
    signer_ = std::move(signer);
    key_answer_ = answer;
  }
  // True once a kSignRequest or kDecryptRequest was drained.
  bool key_requested() const { return key_requested_; }
  // ALPN callback (ServerContextOptions::alpn_callback, server): how kAlpnRequest is answered.
  // kAtOnce: when drained (or by AnswerPending() when deferred); kLate: only by
  // AnswerPending(); kNever: never. |refuse|: AnswerAlpn(nullopt), else the client's first
  // offered protocol. Without this a kAlpnRequest is a failed check.
  enum class AlpnAnswer { kAtOnce, kLate, kNever };
  void set_alpn_answer(AlpnAnswer when, bool refuse) {
    alpn_answer_ = when;
    alpn_refuse_ = refuse;
  }
  // True once a kAlpnRequest was drained; the protocols it carried; what was answered
  // (nullopt: a refusal, or no answer yet).
  bool alpn_requested() const { return alpn_requested_; }
  const std::vector<std::string>& alpn_offered() const { return alpn_offered_; }
  const std::optional<std::string>& alpn_answered() const { return alpn_answered_; }
  // With SessionOptions::trace: the types of the handshake messages received, in order.
  const std::vector<uint8_t>& received_handshake_types() const { return received_types_; }
  // The names kSniRequest events carried.
  const std::vector<std::string>& sni_names() const { return sni_names_; }
  // Answers whatever request is pending (SNI, verification, session lookup) with the
  // configured answer. Returns true if one was answered.
  bool AnswerPending();
  // Drains events and checks them; returns how many were popped.
  size_t Drain();
  // Reads all buffered plaintext into |out| (when non-null), draining events as it goes.
  void ReadAll(std::string* out);
  // Checks the sticky-error rules (call any time; cheap).
  void CheckSticky();
  bool handshake_done() const { return handshake_done_; }
  bool errored() const { return error_.has_value(); }
  bool closed() const { return closed_; }
  bool verify_requested() const { return verify_requested_; }
  size_t key_log_lines() const { return key_log_lines_; }
  bool early_data_event() const { return early_data_event_; }
  // Sessions from kNewSession, in order.
  const std::vector<SavedSession>& new_sessions() const { return new_sessions_; }

 private:
  Session& session_;
  bool handshake_done_ = false;
  bool closed_ = false;
  bool sni_requested_ = false;
  bool verify_requested_ = false;
  bool early_data_event_ = false;
  bool deferred_ = false;
  bool key_requested_ = false;
  std::optional<AlpnAnswer> alpn_answer_;
  bool alpn_refuse_ = false;
  bool alpn_requested_ = false;
  std::vector<std::string> alpn_offered_;
  std::optional<std::string> alpn_answered_;
  std::vector<uint8_t> received_types_;
  std::vector<std::string> sni_names_;
  Signer signer_;
  KeyAnswer key_answer_ = KeyAnswer::kAtOnce;
  std::optional<Event> key_request_;  // the pending key request
  size_t key_log_lines_ = 0;
  std::optional<Error> error_;
  std::optional<SniAnswer> sni_answer_;
  std::optional<std::pair<bool, std::string>> verify_answer_;
  Lookup lookup_;
  std::string lookup_id_;  // the session ID of the pending kSessionLookup
  std::vector<SavedSession> new_sessions_;
};

// Feeds |data| to |session| in fragments from |chunker|, consuming output (discarded) and
// reading plaintext (appended to |plaintext| when non-null) as it goes, checking
// invariants. Returns false if the session stopped taking input for good.
bool FeedAll(Session& session, SessionChecker& checker, std::span<const uint8_t> data,
             Chunker& chunker, std::string* plaintext);

// Discards all pending output of |session|.
void DiscardOutput(Session& session);

}  // namespace sansio_tls::fuzz

#endif  // SANSIO_TLS_FUZZ_FUZZ_SUPPORT_H_
