#include "examples/common/cli.h"

#include <openssl/ssl.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/version.h"
#include "examples/common/output.h"

namespace sansio_tls::examples {
namespace {

constexpr char kExitStatuses[] =
    "Exit status: 0 success; 1 a TLS or connection failure; 2 a bad flag or value.";

// CLI11's help with every flag's default: "--port PORT=8000", "--ca FILE=none ...",
// "--json[=BOOL]=false".
class Formatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* opt) const override {
    const std::string& def = opt->get_default_str();
    if (opt->get_expected_max() == 0) return def.empty() ? "" : "[=BOOL]=" + def;  // a flag
    const bool list = opt->get_expected_max() == CLI::detail::expected_max_vector_size;
    return " " + opt->get_type_name() + "=" + (def.empty() || def == "[]" ? "none" : def) +
           (list ? " ..." : "");
  }
};

}  // namespace

Cli::Cli(std::string name, std::string description, std::string exit_statuses)
    : name_(std::move(name)), app_(std::move(description), name_) {
  app_.formatter(std::make_shared<Formatter>());
  app_.get_formatter()->column_width(34);
  app_.option_defaults()->always_capture_default()->multi_option_policy(
      CLI::MultiOptionPolicy::TakeLast);
  app_.set_version_flag("--version", std::string(name_ + " (sansio-tls) ") + kVersion,
                        "Print the version and exit");
  exit_statuses_ = exit_statuses.empty() ? kExitStatuses : std::move(exit_statuses);
}

void Cli::AddTransport(std::string* transport) {
  app_.add_option("--transport", *transport, "the transport: asio, posix or uv")
      ->type_name("NAME")
      ->check(CLI::IsMember({"asio", "posix", "uv"}).description(""));
}

void Cli::AddHostPort(std::string* host, const std::string& host_help, uint16_t* port,
                      const std::string& port_help) {
  app_.add_option("--host", *host, host_help)->type_name("HOST");
  app_.add_option("--port", *port, port_help)
      ->type_name("PORT")
      ->check(CLI::Range(0, 65535).description(""));
}

CLI::Option* Cli::AddFile(const std::string& name, std::string* path, const std::string& help) {
  return app_.add_option(name, *path, help)
      ->type_name("FILE")
      ->check(CLI::ExistingFile.description(""));
}

CLI::Option* Cli::AddFiles(const std::string& name, std::vector<std::string>* paths,
                           const std::string& help) {
  return app_.add_option(name, *paths, help)
      ->type_name("FILE")
      ->check(CLI::ExistingFile.description(""))
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

CLI::Option* Cli::AddMilliseconds(const std::string& name, std::chrono::milliseconds* value,
                                  const std::string& help) {
  return app_
      .add_option_function<uint64_t>(
          name, [value](uint64_t ms) { *value = std::chrono::milliseconds(ms); }, help)
      ->type_name("MS")
      ->default_str(std::to_string(value->count()))
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 30).description(""));
}

CLI::Option* Cli::AddBool(const std::string& name, bool* value, const std::string& help) {
  has_bool_ = true;
  return app_.add_flag(name, *value, help)->default_str(*value ? "true" : "false");
}

std::optional<int> Cli::Parse(int argc, char** argv) {
  app_.footer((has_bool_ ? "BOOL is true or false (a bare flag is true).\n" : "") + exit_statuses_);
  try {
    app_.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app_.help().c_str(), stdout);
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    std::printf("%s\n", e.what());
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s\nRun with --help for the flags.\n", name_.c_str(), e.what());
    return kExitUsage;
  }
  return std::nullopt;
}

int Cli::Usage(const std::string& what) const {
  std::fprintf(stderr, "%s: %s\n", name_.c_str(), what.c_str());
  return kExitUsage;
}

int Fail(std::string_view what, const Error& e) {
  std::fprintf(stderr, "%.*s: %s: %s\n", static_cast<int>(what.size()), what.data(), e.code.c_str(),
               e.message.c_str());
  return kExitFailure;
}

void TlsFlags::Add(Cli& cli, Role role) {
  CLI::App& app = cli.app();
  const bool server = role == Role::kServer;
  cli.AddFiles("--ca", &ca,
               server ? "CA certificates (PEM) that client certificates are checked against"
                      : "CA certificates (PEM) the server is checked against (the only ones "
                        "trusted)");
  cli.AddFile("--key", &key,
              server ? "private key (PEM); none: an ephemeral self-signed certificate"
                     : "client certificate's private key (PEM)");
  cli.AddFile("--cert", &cert, "certificate chain (PEM), leaf first");
  app.add_option("--passphrase", passphrase,
                 server ? "passphrase of --key (and --pfx, --sni keys)" : "passphrase of --key")
      ->type_name("TEXT");
  app.add_option("--alpn", alpn,
                 server ? "ALPN protocols the server accepts, in preference order"
                        : "ALPN protocols offered")
      ->type_name("a,b,...");
  app.add_option("--npn", npn,
                 server ? "NPN protocols advertised (TLS 1.2)" : "NPN protocols (TLS 1.2)")
      ->type_name("a,b,...");
  for (auto [flag, field] :
       {std::pair{"--min-version", &min_version}, std::pair{"--max-version", &max_version}}) {
    app.add_option(flag, *field,
                   std::string(flag == std::string("--min-version") ? "lowest" : "highest") +
                       " TLS version: 1.2 or 1.3 (also TLSv1.2, TLSv1.3); legacy 1.0 and 1.1"
                       " (TLSv1, TLSv1.1) only with --ciphers naming a CBC suite")
        ->type_name("VERSION")
        ->default_str(flag == std::string("--min-version") ? "1.2" : "1.3")
        ->check(
            CLI::IsMember({"1.0", "1.1", "1.2", "1.3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"})
                .description(""));
  }
  app.add_option("--ciphers", ciphers,
                 "TLS 1.2 and older cipher suites, OpenSSL syntax; default: ECDHE with AEAD only")
      ->type_name("LIST");
  cli.AddBool("--reject-unauthorized", &reject_unauthorized,
              server ? "with --request-cert, refuse clients whose certificate does not verify"
                     : "refuse a server whose certificate or name does not verify");
  app.add_option("--keymat-export", keymat_export,
                 "after each handshake, export LENGTH (1-1024) bytes of keying material under "
                 "LABEL (RFC 5705, no context; openssl's -keymatexport) and report them "
                 "(--json: keyingMaterial)")
      ->type_name("LABEL,LENGTH");
  app.add_option("--groups", groups,
                 "key-exchange groups, most preferred first (X25519,P-256,P-384; Node's "
                 "ecdhCurve); --json reports the one used as group")
      ->type_name("a,b,...")
      ->default_str("default");
  app.add_option("--sigalgs", sigalgs,
                 "signature algorithms accepted from the peer and used to sign, most preferred "
                 "first, by TLS name (ecdsa_secp256r1_sha256,rsa_pss_rsae_sha256,ed25519,...) or "
                 "hex code point; --json reports the peer's as peerSignatureAlgorithm")
      ->type_name("a,b,...")
      ->default_str("default");
  cli.AddBool("--compress-cert", &compress_cert,
              "certificate compression (RFC 8879, brotli and zlib): offered, and used when the "
              "peer offers it");
  cli.AddBool("--channel-binding", &channel_binding,
              "report each handshake's Finished messages and channel bindings (--json: "
              "finished, peerFinished, tlsUnique, tlsExporter)");
  cli.AddBool("--trace", &trace,
              "report every handshake message, alert and ChangeCipherSpec sent or received: "
              "direction, name, length (Node's enableTrace(); --json: trace events)");
  app.add_option("--max-send-fragment", max_send_fragment,
                 "largest plaintext per record we send, 512-16384 (Node's setMaxSendFragment)")
      ->type_name("BYTES")
      ->check(CLI::Range(size_t{512}, size_t{16384}).description(""));
  if (server) {
    app.add_option("--ech-public-name", ech_public_name,
                   "experimental: accept Encrypted Client Hello with a new key whose config "
                   "names NAME publicly (a name the certificate covers); the ECHConfigList is "
                   "printed when listening (--json: echConfigList); reports ech")
        ->type_name("NAME");
  } else {
    app.add_option("--ech-config", ech_config,
                   "experimental: encrypt the ClientHello with this ECHConfigList (hex, as "
                   "echo_server prints it); reports ech")
        ->type_name("HEX");
    cli.AddBool("--ech-grease", &ech_grease,
                "experimental: without --ech-config, send a GREASE ECH extension; reports ech");
  }
}

std::optional<std::string> TlsFlags::Apply(ServerContextOptions* options) {
  return ApplyTo(options);
}

std::optional<std::string> TlsFlags::Apply(ClientContextOptions* options) {
  return ApplyTo(options);
}

template <class Options>
std::optional<std::string> TlsFlags::ApplyTo(Options* options) {
  std::string error;
  for (const std::string& path : ca) {
    auto pem = ReadFile(path, &error);
    if (!pem) return error;
    options->ca_pems.push_back(*pem);
  }
  if (key.empty() != cert.empty()) return "--key and --cert go together";
  if (!key.empty()) {
    auto key_pem = ReadFile(key, &error);
    auto cert_pem = ReadFile(cert, &error);
    if (!key_pem || !cert_pem) return error;
    options->credentials = {
        .key_pem = *key_pem, .passphrase = passphrase, .cert_chain_pem = *cert_pem};
  }
  options->alpn_protocols = SplitCommas(alpn);
  options->npn_protocols = SplitCommas(npn);
  options->reject_unauthorized = reject_unauthorized;
  for (auto [text, field] : {std::pair{&min_version, &options->min_version},
                             std::pair{&max_version, &options->max_version}}) {
    if (text->empty()) continue;  // checked by the flag: 1.0..1.3 or TLSv1..TLSv1.3
    if (*text == "1.0" || *text == "TLSv1") {
      *field = TlsVersion::kTls10;
    } else {
      *field = text->ends_with("1.1")   ? TlsVersion::kTls11
               : text->ends_with("1.2") ? TlsVersion::kTls12
                                        : TlsVersion::kTls13;
    }
  }
  options->ciphers = ciphers;
  options->certificate_compression = compress_cert;
  for (const std::string& g : SplitCommas(groups)) {
    options->ecdh_curve += (options->ecdh_curve.empty() ? "" : ":") + g;
  }
  for (const std::string& name : SplitCommas(sigalgs)) {
    std::optional<uint16_t> alg = SignatureAlgorithmByName(name);
    if (!alg) return "--sigalgs: unknown signature algorithm \"" + name + "\"";
    options->verify_algorithms.push_back(*alg);
    options->signing_algorithms.push_back(*alg);
  }
  HandshakeExtras extras{.channel_binding = channel_binding,
                         .negotiation = !groups.empty() || !sigalgs.empty()};
  extras.ech = !ech_public_name.empty() || !ech_config.empty() || ech_grease;
  if constexpr (requires { options->ech_keys; }) {  // a server's flag
    if (!ech_public_name.empty()) {
      auto key = MakeEchKey(1, ech_public_name);
      if (!key.ok()) return "--ech-public-name: " + key.error().message;
      options->ech_keys = {*key};
      SetListeningEchConfigList(EchConfigList(options->ech_keys));
    }
  }
  if (!ech_config.empty()) {
    if (ech_config.size() % 2 != 0 ||
        ech_config.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      return "--ech-config: expected hex digits";
    }
    ech_config_list.clear();
    for (size_t i = 0; i < ech_config.size(); i += 2) {
      ech_config_list.push_back(
          static_cast<uint8_t>(std::stoul(ech_config.substr(i, 2), nullptr, 16)));
    }
  }
  if constexpr (requires { options->ech_grease; }) options->ech_grease = ech_grease;  // client
  if (!keymat_export.empty()) {
    size_t comma = keymat_export.rfind(',');
    std::string length = comma == std::string::npos ? "" : keymat_export.substr(comma + 1);
    bool digits = !length.empty() && length.size() <= 4 &&
                  length.find_first_not_of("0123456789") == std::string::npos;
    size_t n = digits ? std::stoul(length) : 0;
    if (comma == 0 || n < 1 || n > 1024) {
      return "--keymat-export: expected LABEL,LENGTH with LENGTH 1-1024, got \"" + keymat_export +
             "\"";
    }
    extras.keymat_label = keymat_export.substr(0, comma);
    extras.keymat_length = n;
  }
  SetHandshakeExtras(std::move(extras));
  return std::nullopt;
}

void TlsFlags::ApplySession(SessionOptions* options) const {
  options->trace = trace;
  options->max_send_fragment = max_send_fragment;
}

std::optional<std::string> ReadFile(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path;
    return std::nullopt;
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::optional<uint16_t> SignatureAlgorithmByName(std::string_view name) {
  if (name.starts_with("0x") && name.size() > 2 && name.size() <= 6 &&
      name.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string_view::npos) {
    return static_cast<uint16_t>(std::stoul(std::string(name.substr(2)), nullptr, 16));
  }
  for (uint32_t code = 0; code <= 0xffff; ++code) {
    const char* known = SSL_get_signature_algorithm_name(static_cast<uint16_t>(code), 1);
    if (known && name == known) return static_cast<uint16_t>(code);
  }
  return std::nullopt;
}

std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    out.emplace_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace sansio_tls::examples
