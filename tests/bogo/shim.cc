// BoGo shim: BoringSSL's TLS test runner drives our public API through this program.
//
// Protocol (../shared/bogo/README.md): the runner passes flags; for each of 1 + resume-count
// connections we connect to 127.0.0.1 / ::1 on -port, send the 8-byte little-endian
// -shim-id, then speak TLS as client or (-server) server with a sans-IO Session over a
// blocking socket, echoing every plaintext byte XOR 0xff until the peer closes. Exit 0: the
// test passed (stderr empty); 1: failure (stderr holds our error code); 89: a flag or
// feature this shim does not implement.
//
// Written against core/context.h, core/session.h and core/resumption.h only: no raw SSL*.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/base64.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "core/resumption.h"
#include "core/session.h"

namespace sansio_tls::bogo {
namespace {

constexpr int kExitUnimplemented = 89;

// Flags the runner may pass that take no value (reference/test_config.cc, BoolFlag).
const std::set<std::string>& BoolFlags() {
  static const std::set<std::string> k = {"-ipv6",
                                          "-server",
                                          "-dtls",
                                          "-quic",
                                          "-fallback-scsv",
                                          "-enable-ech-grease",
                                          "-expect-ech-accept",
                                          "-expect-no-ech-name-override",
                                          "-expect-no-ech-retry-configs",
                                          "-require-any-client-certificate",
                                          "-false-start",
                                          "-async",
                                          "-write-different-record-sizes",
                                          "-cbc-record-splitting",
                                          "-partial-write",
                                          "-no-tls13",
                                          "-no-tls12",
                                          "-no-tls11",
                                          "-no-tls1",
                                          "-no-ticket",
                                          "-enable-channel-id",
                                          "-shim-writes-first",
                                          "-decline-alpn",
                                          "-reject-alpn",
                                          "-select-empty-alpn",
                                          "-defer-alps",
                                          "-alps-use-new-codepoint",
                                          "-expect-session-miss",
                                          "-expect-extended-master-secret",
                                          "-enable-ocsp-stapling",
                                          "-enable-signed-cert-timestamps",
                                          "-implicit-handshake",
                                          "-use-early-callback",
                                          "-fail-early-callback",
                                          "-install-ddos-callback",
                                          "-fail-ddos-callback",
                                          "-fail-cert-callback",
                                          "-handshake-never-done",
                                          "-use-export-context",
                                          "-tls-unique",
                                          "-expect-ticket-renewal",
                                          "-expect-no-session",
                                          "-expect-ticket-supports-early-data",
                                          "-expect-accept-early-data",
                                          "-expect-reject-early-data",
                                          "-expect-no-offer-early-data",
                                          "-use-ticket-callback",
                                          "-renew-ticket",
                                          "-enable-early-data",
                                          "-check-close-notify",
                                          "-shim-shuts-down",
                                          "-verify-fail",
                                          "-verify-peer",
                                          "-verify-peer-if-no-obc",
                                          "-expect-verify-result",
                                          "-renegotiate-once",
                                          "-renegotiate-freely",
                                          "-renegotiate-ignore",
                                          "-renegotiate-explicit",
                                          "-forbid-renegotiation-after-handshake",
                                          "-use-old-client-cert-callback",
                                          "-send-alert",
                                          "-peek-then-read",
                                          "-enable-grease",
                                          "-permute-extensions",
                                          "-use-exporter-between-reads",
                                          "-retain-only-sha256-client-cert",
                                          "-expect-sha256-client-cert",
                                          "-read-with-unfinished-write",
                                          "-expect-secure-renegotiation",
                                          "-expect-no-secure-renegotiation",
                                          "-expect-session-id",
                                          "-expect-no-session-id",
                                          "-no-op-extra-handshake",
                                          "-handshake-twice",
                                          "-allow-unknown-alpn-protos",
                                          "-use-custom-verify-callback",
                                          "-allow-false-start-without-alpn",
                                          "-handoff",
                                          "-handshake-hints",
                                          "-allow-hint-mismatch",
                                          "-use-ocsp-callback",
                                          "-set-ocsp-in-callback",
                                          "-decline-ocsp-callback",
                                          "-fail-ocsp-callback",
                                          "-install-cert-compression-algs",
                                          "-reverify-on-resume",
                                          "-ignore-rsa-key-usage",
                                          "-expect-key-usage-invalid",
                                          "-is-handshaker-supported",
                                          "-handshaker-resume",
                                          "-jdk11-workaround",
                                          "-server-preference",
                                          "-export-traffic-secrets",
                                          "-key-update",
                                          "-expect-delegated-credential-used",
                                          "-expect-hrr",
                                          "-expect-no-hrr",
                                          "-wait-for-debugger",
                                          "-fips-202205",
                                          "-wpa-202304",
                                          "-peek-then-read"};
  return k;
}

// Flags this shim implements (or for which doing nothing is the right behaviour: -async is
// BoringSSL's non-blocking BIO mode, which a sans-IO session is already in;
// -use-old-client-cert-callback and -use-ocsp-callback pick which BoringSSL callback hands
// over a certificate or OCSP response that our options hand over up front; -peek-then-read
// is how Echo() always reads: PeekPlaintext(), then ConsumePlaintext()). Any other flag
// makes the test unimplemented.
const std::set<std::string>& SupportedFlags() {
  static const std::set<std::string> k = {"-port",
                                          "-shim-id",
                                          "-ipv6",
                                          "-server",
                                          "-key-file",
                                          "-cert-file",
                                          "-trust-cert",
                                          "-resume-count",
                                          "-async",
                                          "-implicit-handshake",
                                          "-use-custom-verify-callback",
                                          "-verify-fail",
                                          "-verify-peer",
                                          "-require-any-client-certificate",
                                          "-expect-verify-result",
                                          "-expect-no-hrr",
                                          "-expect-hrr",
                                          "-expect-session-id",
                                          "-expect-no-session-id",
                                          "-expect-ticket-renewal",
                                          "-expect-no-session",
                                          "-expect-session-miss",
                                          "-host-name",
                                          "-expect-server-name",
                                          "-advertise-alpn",
                                          "-select-alpn",
                                          "-expect-alpn",
                                          "-max-version",
                                          "-min-version",
                                          "-no-tls13",
                                          "-no-tls12",
                                          "-no-tls11",
                                          "-no-tls1",
                                          "-shim-writes-first",
                                          "-shim-shuts-down",
                                          "-check-close-notify",
                                          "-cipher",
                                          "-ocsp-response",
                                          "-enable-ocsp-stapling",
                                          "-expect-ocsp-response",
                                          "-export-keying-material",
                                          "-export-label",
                                          "-export-context",
                                          "-use-export-context",
                                          "-curves",
                                          "-expect-curve-id",
                                          "-expect-peer-signature-algorithm",
                                          "-no-ticket",
                                          "-key-update",
                                          "-resumption-delay",
                                          "-expect-version",
                                          "-expect-total-renegotiations",
                                          "-advertise-npn",
                                          "-select-next-proto",
                                          "-expect-next-proto",
                                          "-expect-cipher-aes",
                                          "-expect-cipher-no-aes",
                                          "-expect-cipher",
                                          "-read-size",
                                          "-server-preference",
                                          "-use-ocsp-callback",
                                          "-set-ocsp-in-callback",
                                          "-decline-ocsp-callback",
                                          "-fail-ocsp-callback",
                                          "-use-old-client-cert-callback",
                                          "-enable-early-data",
                                          "-expect-ticket-supports-early-data",
                                          "-expect-accept-early-data",
                                          "-expect-reject-early-data",
                                          "-expect-no-offer-early-data",
                                          "-expect-early-data-reason",
                                          "-verify-prefs",
                                          "-signing-prefs",
                                          "-is-handshaker-supported",
                                          "-tls-unique",
                                          "-expect-extended-master-secret",
                                          "-fips-202205",
                                          "-wpa-202304",
                                          "-peek-then-read",
                                          "-psk",
                                          "-psk-identity"};
  return k;
}

// One connection's flags (BoringSSL's TestConfig): unprefixed flags apply to every
// connection, -on-initial-/-on-resume-/-on-retry- ones to that connection only.
struct Config {
  std::map<std::string, std::vector<std::string>> values;

  bool Has(const std::string& f) const { return values.count(f) > 0; }
  std::string Str(const std::string& f) const {
    auto it = values.find(f);
    return it == values.end() || it->second.empty() ? std::string() : it->second.back();
  }
  int Int(const std::string& f, int def = 0) const {
    return Has(f) ? std::atoi(Str(f).c_str()) : def;
  }
  std::vector<int> Ints(const std::string& f) const {
    std::vector<int> out;
    auto it = values.find(f);
    if (it != values.end())
      for (const auto& v : it->second) out.push_back(std::atoi(v.c_str()));
    return out;
  }
};

[[noreturn]] void Unimplemented(const std::string& what) {
  fprintf(stderr, "unimplemented: %s\n", what.c_str());
  exit(kExitUnimplemented);
}

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "%s\n", what.c_str());
  exit(1);
}

[[noreturn]] void FailWithError(const Error& e) {
  // The runner matches ErrorMap values (our codes) as substrings of this line.
  fprintf(stderr, "error %s: %s\n", e.code.c_str(), e.message.c_str());
  exit(1);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DecodeBase64(const std::string& in) {
  size_t len = 0;
  if (!EVP_DecodedLength(&len, in.size())) Fail("bad base64");
  std::string out(len, '\0');
  if (!EVP_DecodeBase64(reinterpret_cast<uint8_t*>(out.data()), &len, out.size(),
                        reinterpret_cast<const uint8_t*>(in.data()), in.size())) {
    Fail("bad base64");
  }
  out.resize(len);
  return out;
}

// A wire-format protocol list (length-prefixed entries) as a list of names.
std::vector<std::string> ParseWireList(const std::string& wire) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < wire.size()) {
    size_t n = static_cast<uint8_t>(wire[i++]);
    if (n == 0 || i + n > wire.size()) Unimplemented("malformed protocol list");
    out.push_back(wire.substr(i, n));
    i += n;
  }
  return out;
}

bool ParseArgs(int argc, char** argv, Config* initial, Config* resume, Config* retry) {
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    bool skip = false;
    auto strip = [&name](const std::string& prefix) {
      if (name.rfind(prefix + "-", 0) == 0) {
        name = name.substr(prefix.size());
        return true;
      }
      return false;
    };
    if (!strip("-on-shim") && strip("-on-handshaker")) skip = true;
    Config* only = nullptr;
    if (strip("-on-initial"))
      only = initial;
    else if (strip("-on-resume"))
      only = resume;
    else if (strip("-on-retry"))
      only = retry;
    std::string value;
    if (!BoolFlags().count(name)) {
      if (i + 1 >= argc) {
        fprintf(stderr, "missing value for %s\n", name.c_str());
        return false;
      }
      value = argv[++i];
    }
    if (skip) continue;
    for (Config* c : {initial, resume, retry}) {
      if (only && c != only) continue;
      c->values[name].push_back(value);
    }
  }
  return true;
}

void CheckSupported(const Config& c) {
  for (const auto& [name, v] : c.values) {
    if (!SupportedFlags().count(name)) Unimplemented("flag " + name);
  }
}

// Names of BoGo's group code points as *ContextOptions::ecdh_curve spells them.
std::string GroupName(int id) {
  switch (id) {
    case 21:
      return "P-224";
    case 23:
      return "P-256";
    case 24:
      return "P-384";
    case 25:
      return "P-521";
    case 29:
      return "X25519";
  }
  Unimplemented("group " + std::to_string(id));
}

// Everything the shim keeps between connections of one test.
struct State {
  std::shared_ptr<const Context> context;
  std::string context_key;  // the flags the context was built from
  std::shared_ptr<TicketKeys> ticket_keys = TicketKeys::Create();
  std::optional<SavedSession> client_session;  // client: offered on the next connection
  std::map<std::vector<uint8_t>, SavedSession> server_cache;  // server, kExternal cache
  int64_t clock = static_cast<int64_t>(time(nullptr));
};

// The options |c| asks for, of the role it names (-server): Options is ServerContextOptions
// or ClientContextOptions. |*key| identifies them, so that a context is rebuilt only when they
// change.
template <class Options>
Options BuildContextOptions(const Config& c, State& state, std::string* key) {
  Options o;
  constexpr bool server = std::is_same_v<Options, ServerContextOptions>;
  bool request_cert = false;
  std::ostringstream k;
  if (c.Has("-key-file") || c.Has("-cert-file")) {
    o.credentials.key_pem = ReadFile(c.Str("-key-file"));
    o.credentials.cert_chain_pem = ReadFile(c.Str("-cert-file"));
    k << "cred=" << c.Str("-key-file") << "," << c.Str("-cert-file") << ";";
  }
  // BoringSSL's legacy OCSP callback (-use-ocsp-callback) is where its server staples
  // (-set-ocsp-in-callback) or declines to (-decline-ocsp-callback); ours staples the
  // configured response, so declining is configuring none. On a client the callback only
  // accepts, or fails (-fail-ocsp-callback): our client judges the response where it judges
  // the certificate, at kVerifyRequested. A server's OCSP callback cannot fail in our API.
  if (server && c.Has("-fail-ocsp-callback")) Unimplemented("server OCSP callback failing");
  bool staple = !(server && c.Has("-use-ocsp-callback") && c.Has("-decline-ocsp-callback"));
  if (c.Has("-ocsp-response") && staple) {
    if (!server) Unimplemented("client OCSP response");
    o.credentials.ocsp_response = DecodeBase64(c.Str("-ocsp-response"));
    k << "ocsp=" << c.Str("-ocsp-response") << ";";
  }
  // BoringSSL's shim verifies with a callback that accepts any certificate, or none with
  // -verify-fail. A failure ends the handshake only in SSL_VERIFY_PEER mode (client:
  // -verify-peer; server: either flag); otherwise it is only reported ("soft fail").
  bool hard = c.Has("-verify-peer") || (server && c.Has("-require-any-client-certificate"));
  bool soft_fail = c.Has("-verify-fail") && !hard;
  if (soft_fail) {
    // Our own verifier with nothing trusted: the certificate fails verification, and
    // reject_unauthorized false lets the handshake go on with authorized false.
    o.verify_callback = false;
    o.reject_unauthorized = false;
  } else {
    if (!c.Str("-trust-cert").empty()) o.ca_pems.push_back(ReadFile(c.Str("-trust-cert")));
    o.verify_callback = true;  // answered in Connection: accept, or reject (-verify-fail)
    o.reject_unauthorized = true;
  }
  if constexpr (server) {
    request_cert = o.request_cert =
        c.Has("-verify-peer") || c.Has("-require-any-client-certificate");
    // -verify-peer overrides -require-any-client-certificate's FAIL_IF_NO_PEER_CERT, as in
    // BoringSSL's shim; reject_unauthorized refuses a client that sent no certificate.
    o.reject_unauthorized = c.Has("-require-any-client-certificate") && !c.Has("-verify-peer");
  }
  k << "verify=" << soft_fail << ";";
  // Versions: BoringSSL's defaults are TLS 1.0 to 1.3, which BoGo assumes; ours start at
  // TLS 1.2, so the shim lowers the floor explicitly. As in BoringSSL, -no-tls* flags
  // remove versions from the bottom, and the first one removed above an enabled version
  // ends the range.
  int min = c.Int("-min-version", 0x0301), max = c.Int("-max-version", 0x0304);
  if (min < 0x0301 || max > 0x0304 || min > max) Unimplemented("version range outside TLS 1.0-1.3");
  const std::pair<int, const char*> kVersions[] = {
      {0x0301, "-no-tls1"}, {0x0302, "-no-tls11"}, {0x0303, "-no-tls12"}, {0x0304, "-no-tls13"}};
  int lo = 0, hi = 0;
  for (auto [v, flag] : kVersions) {
    if (v < min || v > max) continue;
    if (c.Has(flag)) {
      if (lo) break;
      continue;
    }
    if (!lo) lo = v;
    hi = v;
  }
  if (!lo) Unimplemented("no version left");
  o.min_version = static_cast<TlsVersion>(lo);
  o.max_version = static_cast<TlsVersion>(hi);
  k << "ver=" << static_cast<int>(o.min_version) << "-" << static_cast<int>(o.max_version) << ";";
  // BoGo assumes BoringSSL's own defaults ("ALL", the client's order); ours are narrower
  // (docs/security.md), so the shim asks for BoringSSL's unless a test names a list.
  o.ciphers = "ALL";
  bool server_order = false;
  if (c.Has("-cipher")) {
    o.ciphers = c.Str("-cipher");
    server_order = server;  // as BoringSSL's shim does with -cipher
  }
  if (c.Has("-server-preference")) server_order = true;
  if constexpr (server) o.honor_cipher_order = server_order;
  k << "cipher=" << o.ciphers << ";order=" << server_order << ";";
  for (int g : c.Ints("-curves")) {
    if (!o.ecdh_curve.empty()) o.ecdh_curve += ":";
    o.ecdh_curve += GroupName(g);
  }
  k << "curves=" << o.ecdh_curve << ";";
  for (int a : c.Ints("-verify-prefs")) o.verify_algorithms.push_back(static_cast<uint16_t>(a));
  for (int a : c.Ints("-signing-prefs")) o.signing_algorithms.push_back(static_cast<uint16_t>(a));
  // BoringSSL's compliance policies (SSL_set_compliance_policy, which Debian's BoringSSL
  // lacks) restrict versions, TLS 1.2 suites, groups and signature algorithms; the shim
  // asks for the same restrictions through our options. TLS 1.3 suites are not
  // configurable here, so the policies' TLS 1.3 suite limits are not (expected_failures).
  if (c.Has("-fips-202205") || c.Has("-wpa-202304")) {
    bool wpa = c.Has("-wpa-202304");
    o.min_version = std::max(o.min_version, TlsVersion::kTls12);
    if (o.max_version < o.min_version) Unimplemented("no version left under the policy");
    o.ciphers = wpa ? "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"
                    : "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
    o.ecdh_curve = wpa ? "P-384" : "P-256:P-384";
    std::vector<uint16_t> sigalgs =
        wpa ? std::vector<uint16_t>{0x0503, 0x0805, 0x0806, 0x0501, 0x0601}
            : std::vector<uint16_t>{0x0403, 0x0503, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601};
    o.verify_algorithms = o.signing_algorithms = sigalgs;
    k << "policy=" << (wpa ? "wpa" : "fips") << ";";
  }
  for (auto a : o.verify_algorithms) k << "vp=" << a << ";";
  for (auto a : o.signing_algorithms) k << "sp=" << a << ";";
  if (c.Has("-advertise-alpn")) {
    if (server) Unimplemented("server -advertise-alpn");
    o.alpn_protocols = ParseWireList(c.Str("-advertise-alpn"));
  }
  if (c.Has("-select-alpn")) {
    if (!server) Unimplemented("client -select-alpn");
    if (c.Str("-select-alpn").empty()) Unimplemented("selecting an empty ALPN protocol");
    o.alpn_protocols = {c.Str("-select-alpn")};
  }
  for (const auto& p : o.alpn_protocols) k << "alpn=" << p << ";";
  if (c.Has("-advertise-npn")) {
    if (!server) Unimplemented("client -advertise-npn");
    o.npn_protocols = ParseWireList(c.Str("-advertise-npn"));
  }
  if (c.Has("-select-next-proto")) {
    if (server) Unimplemented("server -select-next-proto");
    o.npn_protocols = {c.Str("-select-next-proto")};
  }
  for (const auto& p : o.npn_protocols) k << "npn=" << p << ";";
  if (c.Has("-no-ticket")) {
    o.session_tickets = false;
    k << "noticket;";
  }
  if constexpr (server) {
    o.ticket_keys = state.ticket_keys;
    o.session_cache = SessionCacheMode::kExternal;
  }
  if (c.Has("-enable-early-data")) {
    o.early_data = true;
    k << "early;";
  }
  // TLS 1.2 PSK (-psk KEY, -psk-identity ID), as BoringSSL's shim: the server sends ID as
  // its hint and knows KEY under ID only; the client expects the hint ID (none without
  // -psk-identity) and answers ID with KEY.
  if (c.Has("-psk")) {
    std::string psk = c.Str("-psk"), identity = c.Str("-psk-identity");
    std::vector<uint8_t> key(psk.begin(), psk.end());
    if constexpr (server) {
      o.psk_identity_hint = identity;
      o.psk_server_callback = [identity, key](std::string_view id) {
        if (id != identity) fprintf(stderr, "Client PSK identity did not match.\n");
        return id == identity ? std::optional(key) : std::nullopt;
      };
    } else {
      o.psk_client_callback = [identity, key](std::string_view hint) {
        if (hint != identity) {
          fprintf(stderr, "Server PSK hint did not match.\n");
          return std::optional<PskIdentity>();
        }
        return std::optional(PskIdentity{identity, key});
      };
    }
    k << "psk=" << psk << "," << identity << ";";
  }
  // A server staples whenever it has a response; the flag matters to clients only.
  if constexpr (!server) o.request_ocsp = c.Has("-enable-ocsp-stapling");
  k << "role=" << server << ";verify=" << request_cert << o.reject_unauthorized << ";";
  *key = k.str();
  return o;
}

// Builds state.context from |c| unless the current one was built from the same options. A
// new server context still resumes the old one's sessions: the ticket keys are shared
// (State::ticket_keys) and the session-ID cache is ours (kExternal).
template <class Options>
void UpdateContext(const Config& c, State& state) {
  std::string key;
  Options o = BuildContextOptions<Options>(c, state, &key);
  if (state.context && key == state.context_key) return;
  auto ctx = Context::Create(o);
  if (!ctx.ok() && ctx.error().code == errc::kInvalidCiphers && !c.Has("-min-version") &&
      o.min_version < TlsVersion::kTls12 && o.max_version >= TlsVersion::kTls12) {
    // BoringSSL keeps its TLS 1.0 floor under a -cipher list of TLS 1.2 suites only,
    // which ours refuses as useless; the versions those suites allow remain.
    o.min_version = TlsVersion::kTls12;
    ctx = Context::Create(o);
  }
  if (!ctx.ok()) FailWithError(ctx.error());
  state.context = ctx.value();
  state.context_key = key;
}

// One TLS connection over a connected, blocking socket.
class Connection {
 public:
  Connection(int fd, const Config& c, const Config& retry, State& state, bool is_resume)
      : fd_(fd),
        c_(&c),
        retry_(retry),
        state_(state),
        is_resume_(is_resume),
        server_(c.Has("-server")) {}

  void Run() {
    SessionOptions so;
    so.verify_time = state_.clock;
    if (!server_) {
      so.host = "test";  // the only SAN of the runner's certificates
      so.servername = c_->Str("-host-name");
      if (is_resume_ && state_.client_session) so.session = state_.client_session;
    }
    if (c_->Has("-enable-early-data")) so.early_data = true;
    auto created = Session::Create(state_.context, so);
    if (!created.ok()) FailWithError(created.error());
    s_ = std::move(created.value());
    // Written before the handshake completes: early data where 0-RTT is on, else held.
    early_write_ = c_->Has("-shim-writes-first") &&
                   (c_->Has("-implicit-handshake") || (!server_ && c_->Has("-enable-early-data")));
    if (early_write_) Write("hello");
    for (;;) {
      Flush();
      ProcessEvents();
      Flush();
      if (done_) break;
      if (server_ && !handshake_seen_ && s_->pending_write_bytes() > 0) {
        // We echoed 0-RTT data, which our Session holds until the handshake completes: the
        // runner may be waiting for it as half-RTT data, which our API does not offer.
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 3000) == 0)
          Unimplemented("half-RTT data (server writes before the client's Finished)");
      }
      uint8_t buf[16384];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        size_t off = 0;
        while (off < static_cast<size_t>(n)) {
          size_t taken = s_->Feed({buf + off, static_cast<size_t>(n) - off});
          off += taken;
          if (off < static_cast<size_t>(n)) {
            ProcessEvents();  // reads plaintext, making room
            Flush();
            if (done_) break;
            if (taken == 0 && !s_->wants_input()) Fail("the session takes no input");
          }
        }
      } else {
        s_->FeedEof();
      }
    }
    Finish();
  }

 private:
  void Flush() {
    for (;;) {
      auto out = s_->PendingOutput();
      if (out.empty()) return;
      ssize_t n = send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // The runner went away; what we still wanted to say cannot matter to it.
        if (s_->failed()) FailWithError(*s_->error());
        Fail(std::string("send: ") + strerror(errno));
      }
      s_->ConsumeOutput(static_cast<size_t>(n));
    }
  }

  // Best effort: sends what output is pending, ignoring a runner that stopped reading.
  void FlushQuietly() {
    for (;;) {
      auto out = s_->PendingOutput();
      if (out.empty()) return;
      ssize_t n = send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      s_->ConsumeOutput(static_cast<size_t>(n));
    }
  }

  void Write(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      size_t n =
          s_->Write({reinterpret_cast<const uint8_t*>(data.data()) + off, data.size() - off});
      if (n == 0) {
        if (s_->failed()) FailWithError(*s_->error());
        if (s_->pending_output_bytes() == 0) Fail("write refused");
        Flush();
      }
      off += n;
    }
  }

  void ProcessEvents() {
    while (auto ev = s_->NextEvent()) {
      switch (ev->kind()) {
        case EventKind::kAlpnRequest:  // the shim never sets alpn_callback
          Fail("unexpected kAlpnRequest");
          break;
        case EventKind::kTrace:  // nor trace
          break;
        case EventKind::kSignRequest:  // nor external keys
        case EventKind::kDecryptRequest:
          Fail("unexpected key operation request");
        case EventKind::kEarlyDataCheck:  // nor early_data_check
          Fail("unexpected kEarlyDataCheck");
          break;
        case EventKind::kVerifyRequested:
          verified_ = true;
          if (!server_ && c_->Has("-fail-ocsp-callback")) {
            if (auto e = s_->CompleteVerification(false, std::string(errc::kOcspRejected))) {
              FailWithError(*e);
            }
            break;
          }
          if (auto e = s_->CompleteVerification(!c_->Has("-verify-fail"), "CERT_REJECTED")) {
            FailWithError(*e);
          }
          break;
        case EventKind::kHandshakeDone:
          OnHandshake(ev->get<HandshakeInfo>());
          break;
        case EventKind::kReadable:
        case EventKind::kEarlyData:
          Echo();
          break;
        case EventKind::kPeerClosed:
          Echo();
          done_ = true;
          break;
        case EventKind::kPeerTruncated:
          Echo();
          if (c_->Has("-check-close-notify"))
            Fail("kPeerTruncated: the peer closed without close_notify");
          done_ = true;
          break;
        case EventKind::kError:
          FlushQuietly();  // the alert, if any, goes to the runner first
          FailWithError(ev->get<Error>());
        case EventKind::kNewSession:
          if (server_) {
            state_.server_cache.insert_or_assign(ev->get<SavedSession>().id(),
                                                 ev->get<SavedSession>());
            ++server_sessions_;
          } else {
            state_.client_session = ev->get<SavedSession>();
            ++client_sessions_;
          }
          break;
        case EventKind::kSessionLookup: {
          auto it = state_.server_cache.find(ev->get<event::SessionLookup>().session_id);
          std::optional<SavedSession> found;
          if (it != state_.server_cache.end()) found = it->second;
          if (auto e = s_->AnswerSessionLookup(found)) FailWithError(*e);
          break;
        }
        case EventKind::kSniRequest:
        case EventKind::kKeyLog:
          break;
      }
    }
  }

  void Echo() {
    for (;;) {
      auto view = s_->PeekPlaintext();
      if (view.empty()) return;
      size_t chunk = view.size();
      if (c_->Has("-read-size")) chunk = std::min<size_t>(chunk, c_->Int("-read-size"));
      std::string out(reinterpret_cast<const char*>(view.data()), chunk);
      s_->ConsumePlaintext(chunk);
      if (c_->Has("-expect-reject-early-data") && is_resume_ && !server_ && !handshake_seen_) {
        Fail("unexpectedly received data instead of 0-RTT reject");
      }
      if (c_->Has("-key-update")) {
        if (auto e = s_->KeyUpdate(false)) FailWithError(*e);
      }
      for (char& ch : out) ch = static_cast<char>(ch ^ 0xff);
      if (!s_->close_sent()) Write(out);
    }
  }

  void OnHandshake(const HandshakeInfo& h) {
    handshake_seen_ = true;
    if (!server_ && h.early_data == EarlyData::kRejected) {
      // BoringSSL's client reports the rejection, then goes on under the retry flags; ours
      // resends the early data itself, which puts the same bytes on the wire.
      if (!c_->Has("-expect-reject-early-data")) Fail("unexpected early data rejection");
      c_ = &retry_;
    }
    auto mismatch = [](const std::string& what, const std::string& got, const std::string& want) {
      Fail(what + " mismatch: got \"" + got + "\", want \"" + want + "\"");
    };
    bool expect_resume = is_resume_ && !c_->Has("-expect-session-miss");
    if (h.session_reused != expect_resume) {
      Fail(std::string("session unexpectedly was") + (h.session_reused ? "" : " not") + " reused");
    }
    int version = h.version ? static_cast<int>(*h.version) : 0;
    version_ = version;
    reused_ = h.session_reused;
    if (c_->Has("-expect-version") && c_->Int("-expect-version") != version) {
      mismatch("version", std::string(h.protocol()), c_->Str("-expect-version"));
    }
    if (c_->Has("-expect-extended-master-secret") && !h.extended_master_secret)
      Fail("did not negotiate extended master secret, but wanted to");
    if (c_->Has("-expect-hrr") && !h.hello_retry_request)
      Fail("no HelloRetryRequest, but wanted one");
    if (c_->Has("-expect-no-hrr") && h.hello_retry_request)
      Fail("HelloRetryRequest, but wanted none");
    if (c_->Has("-expect-server-name") && h.servername != c_->Str("-expect-server-name")) {
      mismatch("servername", h.servername, c_->Str("-expect-server-name"));
    }
    std::string want_alpn = server_ ? c_->Str("-select-alpn") : c_->Str("-expect-alpn");
    std::string got_alpn = h.alpn_protocol.value_or("");
    if (got_alpn != want_alpn) mismatch("ALPN", got_alpn, want_alpn);
    if (c_->Has("-expect-next-proto") &&
        h.npn_protocol.value_or("") != c_->Str("-expect-next-proto")) {
      mismatch("NPN", h.npn_protocol.value_or(""), c_->Str("-expect-next-proto"));
    }
    if (c_->Has("-expect-curve-id") && c_->Int("-expect-curve-id") != h.group_id) {
      mismatch("group", std::to_string(h.group_id), c_->Str("-expect-curve-id"));
    }
    if (c_->Has("-expect-peer-signature-algorithm") &&
        c_->Int("-expect-peer-signature-algorithm") != h.peer_signature_algorithm) {
      mismatch("peer signature algorithm", std::to_string(h.peer_signature_algorithm),
               c_->Str("-expect-peer-signature-algorithm"));
    }
    if (c_->Has("-expect-cipher") || c_->Has("-expect-cipher-aes") ||
        c_->Has("-expect-cipher-no-aes")) {
      Unimplemented("cipher code point checks");  // HandshakeInfo names the cipher only
    }
    // BoringSSL's verify result is X509_V_OK when no certificate was verified.
    if (c_->Has("-expect-verify-result") && s_->peer_certificate()) {
      bool want = !c_->Has("-verify-fail");
      if (h.authorized != want) {
        Fail(std::string("authorized is ") + (h.authorized ? "true" : "false") + " (" +
             h.authorization_error + ")");
      }
    }
    // A client always gets the runner's certificate; a server one only when it asked.
    bool cert_expected = !server_ || c_->Has("-require-any-client-certificate");
    if (c_->Has("-psk")) {
      if (s_->peer_certificate()) Fail("received a peer certificate on a PSK cipher");
    } else if (cert_expected && !h.session_reused && !s_->peer_certificate()) {
      Fail("received no peer certificate but expected one");
    }
    if (c_->Has("-expect-ocsp-response")) {
      std::string want = DecodeBase64(c_->Str("-expect-ocsp-response"));
      auto got = s_->ocsp_response();
      if (std::string(got.begin(), got.end()) != want) Fail("OCSP response mismatch");
    }
    if (c_->Has("-expect-accept-early-data") && h.early_data != EarlyData::kAccepted) {
      Fail(std::string("early data was not accepted: ") + EarlyDataName(h.early_data));
    }
    if (c_->Has("-expect-reject-early-data") && h.early_data == EarlyData::kAccepted) {
      Fail("early data was accepted, but we expected the opposite");
    }
    if (c_->Has("-expect-early-data-reason")) {
      // The runner's BoringSSL renamed "accepted" to "accept"; the other names are the same.
      std::string want = c_->Str("-expect-early-data-reason");
      if (want == "accept") want = "accepted";
      if (h.early_data_reason != want) {
        mismatch("early data reason", std::string(h.early_data_reason), want);
      }
    }
    if (c_->Has("-expect-no-offer-early-data") && is_resume_ && !server_ &&
        h.early_data != EarlyData::kNotOffered) {
      Fail("client unexpectedly offered early data");
    }
    if (c_->Has("-expect-total-renegotiations") && c_->Int("-expect-total-renegotiations") != 0) {
      Unimplemented("renegotiation");
    }

    if (c_->Has("-export-keying-material")) {
      std::string context = c_->Str("-export-context");
      std::optional<std::span<const uint8_t>> ctx;
      if (c_->Has("-use-export-context")) {
        ctx = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(context.data()),
                                       context.size());
      }
      auto km = s_->ExportKeyingMaterial(c_->Int("-export-keying-material"),
                                         c_->Str("-export-label"), ctx);
      if (!km.ok()) FailWithError(km.error());
      Write(std::string(km->begin(), km->end()));
    }
    if (c_->Has("-tls-unique")) {
      auto unique = s_->ChannelBinding("tls-unique");
      if (!unique.ok()) Fail("failed to get tls-unique");
      if (unique->size() != 12) Fail("expected 12 bytes of tls-unique");
      Write(std::string(unique->begin(), unique->end()));
    }
    if (c_->Has("-shim-writes-first") && !early_write_) Write("hello");
    if (c_->Has("-shim-shuts-down")) {
      s_->Close();
    }
  }

  void Finish() {
    if (!handshake_seen_) Fail("the connection ended before the handshake completed");
    // The server's TLS 1.2 session (kNewSession follows kHandshakeDone).
    if (!is_resume_) {
      if (c_->Has("-expect-session-id") && server_sessions_ == 0)
        Fail("session was not cached on the server");
      if (c_->Has("-expect-no-session-id") && server_sessions_ > 0)
        Fail("session was unexpectedly cached on the server");
    }
    // TLS 1.2 sessions arrive in the handshake (kNewSession follows kHandshakeDone).
    if (!server_ && version_ < 0x0304) {
      bool expect_new =
          !c_->Has("-expect-no-session") && (!reused_ || c_->Has("-expect-ticket-renewal"));
      if (expect_new != (client_sessions_ > 0)) {
        Fail(std::string("new session was") + (client_sessions_ ? "" : " not") +
             " cached, but we expected the opposite");
      }
    }
    if (!server_ && version_ >= 0x0304) {
      bool expect_new = !c_->Has("-expect-no-session") && !c_->Has("-shim-shuts-down");
      if (expect_new != (client_sessions_ > 0)) {
        Fail(std::string("new session was") + (client_sessions_ ? "" : " not") +
             " cached, but we expected the opposite");
      }
      if (expect_new && c_->Has("-expect-ticket-supports-early-data") !=
                            state_.client_session->early_data_capable()) {
        Fail("new session's early-data support is not what was expected");
      }
    }
    if (!s_->close_sent()) s_->Close();
    Flush();
  }

  int fd_;
  const Config* c_;  // the connection's flags; the retry flags after a 0-RTT rejection
  const Config& retry_;
  bool early_write_ = false;
  State& state_;
  bool is_resume_;
  bool server_;
  std::optional<Session> s_;
  bool done_ = false;
  bool handshake_seen_ = false;
  bool verified_ = false;
  int version_ = 0;
  bool reused_ = false;
  int server_sessions_ = 0;
  int client_sessions_ = 0;
};

int Connect(const Config& c) {
  bool v6 = c.Has("-ipv6");
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Fail("socket failed");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int port = c.Int("-port");
  int r;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    a.sin6_addr = in6addr_loopback;
    r = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (r != 0) Fail(std::string("connect: ") + strerror(errno));
  uint64_t id = std::strtoull(c.Str("-shim-id").c_str(), nullptr, 10);
  uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(id >> (8 * i));
  if (send(fd, le, sizeof le, MSG_NOSIGNAL) != 8) Fail("cannot send the shim ID");
  return fd;
}

int Main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Config initial, resume, retry;
  if (!ParseArgs(argc, argv, &initial, &resume, &retry)) return 1;
  if (initial.Has("-is-handshaker-supported")) {
    printf("No\n");
    return 0;
  }
  if (initial.Has("-dtls") || initial.Has("-quic")) Unimplemented("DTLS and QUIC");
  CheckSupported(initial);
  CheckSupported(resume);
  CheckSupported(retry);
  State state;
  int count = initial.Int("-resume-count") + 1;
  for (int i = 0; i < count; ++i) {
    const Config& c = i == 0 ? initial : resume;
    if (i > 0 && !c.Has("-server") && !state.client_session) Fail("no session to offer");
    if (c.Has("-server")) {
      UpdateContext<ServerContextOptions>(c, state);
    } else {
      UpdateContext<ClientContextOptions>(c, state);
    }
    int fd = Connect(c);
    Connection conn(fd, c, retry, state, i > 0);
    conn.Run();
    shutdown(fd, SHUT_WR);
    close(fd);
    if (c.Has("-resumption-delay")) state.clock += c.Int("-resumption-delay");
  }
  return 0;
}

}  // namespace
}  // namespace sansio_tls::bogo

int main(int argc, char** argv) { return sansio_tls::bogo::Main(argc, argv); }
