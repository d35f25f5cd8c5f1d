// The example programs' command lines, on CLI11: every program answers -h/--help (each flag
// with its default, and the exit statuses), --version (sansio_tls::kVersion), and reports a
// bad flag or value on stderr with exit status 2. Not part of the library.
#ifndef SANSIO_TLS_EXAMPLES_COMMON_CLI_H_
#define SANSIO_TLS_EXAMPLES_COMMON_CLI_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"

namespace sansio_tls::examples {

// Exit statuses shared by every example program.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // a TLS or connection failure
inline constexpr int kExitUsage = 2;    // a bad flag or value, an unreadable file

// Prints "WHAT: CODE: MESSAGE" on stderr (WHAT: "echo_server", "demo: listen"); returns
// kExitFailure.
int Fail(std::string_view what, const Error& e);

// One program's flags. Options may repeat: the last value counts, except for list options
// (--ca, --sni), which collect every occurrence.
class Cli {
 public:
  // |exit_statuses| replaces the default "Exit status" lines of --help (0, 1, 2 above).
  Cli(std::string name, std::string description, std::string exit_statuses = {});

  CLI::App& app() { return app_; }
  const std::string& name() const { return name_; }

  // --transport=asio|posix|uv; |*transport| holds the default (asio).
  void AddTransport(std::string* transport);
  // --host and --port; |*host| and |*port| hold the defaults.
  void AddHostPort(std::string* host, const std::string& host_help, uint16_t* port,
                   const std::string& port_help);
  // An existing file's path; AddFiles: repeatable, every occurrence kept.
  CLI::Option* AddFile(const std::string& name, std::string* path, const std::string& help);
  CLI::Option* AddFiles(const std::string& name, std::vector<std::string>* paths,
                        const std::string& help);
  // A duration in whole milliseconds, 0 to 2^30; |*value| holds the default.
  CLI::Option* AddMilliseconds(const std::string& name, std::chrono::milliseconds* value,
                               const std::string& help);
  // A boolean flag: bare means true; also NAME=true|false. |*value| holds the default.
  CLI::Option* AddBool(const std::string& name, bool* value, const std::string& help);

  // Parses argv. nullopt: the program goes on. Otherwise the program exits with the value:
  // 0 after --help or --version (printed on stdout), 2 after a usage error (on stderr).
  std::optional<int> Parse(int argc, char** argv);
  // Prints "NAME: WHAT" on stderr; returns kExitUsage.
  int Usage(const std::string& what) const;

 private:
  std::string name_;
  CLI::App app_;
  std::string exit_statuses_;
  bool has_bool_ = false;
};

// The TLS flags echo_server and echo_client share (--ca, --key, --cert, --passphrase,
// --alpn, --npn, --min-version, --max-version, --ciphers, --reject-unauthorized,
// --keymat-export, --channel-binding, --groups, --sigalgs, --compress-cert, --trace,
// --max-send-fragment, --ech-public-name (server), --ech-config and --ech-grease (client)).
struct TlsFlags {
  std::vector<std::string> ca;
  std::string key, cert, passphrase, alpn, npn, min_version, max_version, ciphers;
  bool reject_unauthorized = true;
  std::string keymat_export;     // --keymat-export LABEL,LENGTH
  bool channel_binding = false;  // --channel-binding
  std::string groups;            // --groups a,b,... (*ContextOptions::ecdh_curve)
  std::string sigalgs;           // --sigalgs a,b,... (verify and signing algorithms)
  bool compress_cert = true;     // --compress-cert (*ContextOptions::certificate_compression)
  // Encrypted Client Hello (experimental). Server: --ech-public-name NAME generates a key
  // and reports its ECHConfigList when listening. Client: --ech-config HEX (an
  // ECHConfigList), --ech-grease. Either adds "ech" to the handshake report.
  std::string ech_public_name, ech_config;
  bool ech_grease = false;
  std::vector<uint8_t> ech_config_list;  // client: --ech-config decoded by Apply()
  bool trace = false;                    // --trace (SessionOptions::trace)
  size_t max_send_fragment = 16384;      // --max-send-fragment, 512..16384

  // Declares the flags; |role| picks the help texts.
  void Add(Cli& cli, Role role);
  // Reads the files and fills |*options| (and the handshake report's extras, output.h); an
  // error message (a usage error) on failure.
  // --ech-config is decoded into |ech_config_list| (for SessionOptions::ech_config_list).
  std::optional<std::string> Apply(ServerContextOptions* options);
  std::optional<std::string> Apply(ClientContextOptions* options);
  // The per-connection flags: --trace and --max-send-fragment.
  void ApplySession(SessionOptions* options) const;

 private:
  template <class Options>
  std::optional<std::string> ApplyTo(Options* options);
};

// Reads a whole file; nullopt (with |*error| set) when it cannot.
std::optional<std::string> ReadFile(const std::string& path, std::string* error);
// "a,b,c" split on commas (empty input: no items).
std::vector<std::string> SplitCommas(std::string_view text);

// The IANA code point of a TLS signature scheme named as BoringSSL names it
// ("ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256", "ed25519") or given as "0x0403".
std::optional<uint16_t> SignatureAlgorithmByName(std::string_view name);

}  // namespace sansio_tls::examples

#endif  // SANSIO_TLS_EXAMPLES_COMMON_CLI_H_
