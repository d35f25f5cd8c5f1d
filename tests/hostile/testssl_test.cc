// testssl.sh (Debian's testssl.sh, installed by ./bazelw) scans echo_server with its default
// settings on 127.0.0.1 and must report no finding of severity LOW or above, apart from
// findings about the ephemeral test certificate itself (kCertificateFindings).
//
// The scan runs the checks that rate the TLS configuration: protocols (-p), cipher
// categories (-s), forward secrecy (-f), server preference (-P), server defaults (-S) and
// every vulnerability (-U). Left out: client simulation (-c) and the per-cipher listing
// (-e), which only report INFO, and HTTP headers (-h: echo_server does not speak HTTP).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/interop/interop_util.h"

namespace sansio_tls::interop {
namespace {

constexpr char kTestssl[] = "/usr/bin/testssl";
// The scan's bound. On an idle 2-core machine it takes about 1-2 minutes.
constexpr milliseconds kScanTimeout{780'000};

// Findings about echo_server's ephemeral self-signed certificate, not about the TLS
// configuration under test: excluded, each for the reason given.
const std::map<std::string, std::string>& CertificateFindings() {
  static const auto* m = new std::map<std::string, std::string>{
      {"cert_chain_of_trust", "the ephemeral certificate is self-signed: no CA vouches for it"},
      {"cert_expirationStatus", "the ephemeral certificate is valid for 30 days only"},
      {"cert_notAfter", "the ephemeral certificate is valid for 30 days only"},
      {"cert_revocation", "a test certificate names no CRL or OCSP responder"},
  };
  return *m;
}

struct Finding {
  std::string id, severity, finding;
};

// Parses testssl's flat JSON (--jsonfile): an array of objects whose values are strings.
// Returns false on anything else.
class FlatJson {
 public:
  static bool Parse(const std::string& text, std::vector<std::map<std::string, std::string>>* out) {
    FlatJson p(text);
    p.Ws();
    if (!p.Eat('[')) return false;
    p.Ws();
    if (p.Eat(']')) return p.End();
    for (;;) {
      std::map<std::string, std::string> obj;
      if (!p.Object(&obj)) return false;
      out->push_back(std::move(obj));
      p.Ws();
      if (p.Eat(']')) return p.End();
      if (!p.Eat(',')) return false;
      p.Ws();
    }
  }

 private:
  explicit FlatJson(const std::string& s) : s_(s) {}
  void Ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  bool End() {
    Ws();
    return i_ == s_.size();
  }
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (i_ >= s_.size()) return false;
        char e = s_[i_++];
        switch (e) {
          case 'n':
            out->push_back('\n');
            break;
          case 't':
            out->push_back('\t');
            break;
          case 'r':
            out->push_back('\r');
            break;
          case 'b':
            out->push_back('\b');
            break;
          case 'f':
            out->push_back('\f');
            break;
          case 'u':
            if (i_ + 4 > s_.size()) return false;
            out->push_back('?');  // not needed for ids and severities
            i_ += 4;
            break;
          default:
            out->push_back(e);
        }
      } else {
        out->push_back(c);
      }
    }
    return false;
  }
  bool Object(std::map<std::string, std::string>* obj) {
    if (!Eat('{')) return false;
    Ws();
    if (Eat('}')) return true;
    for (;;) {
      std::string k, v;
      Ws();
      if (!String(&k)) return false;
      Ws();
      if (!Eat(':')) return false;
      Ws();
      if (!String(&v)) return false;
      (*obj)[k] = v;
      Ws();
      if (Eat('}')) return true;
      if (!Eat(',')) return false;
    }
  }
  const std::string& s_;
  size_t i_ = 0;
};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Testssl, EchoServerDefaultsHaveNoFindingOfSeverityLowOrAbove) {
  struct stat st;
  ASSERT_EQ(::stat(kTestssl, &st), 0) << kTestssl << " is missing (./bazelw installs testssl.sh)";

  // Default settings: default transport, ephemeral certificate, no flags but the port.
  auto server = Process::Start({Runfile("examples/echo_server"), "--port=0"});
  ASSERT_TRUE(server->WaitOut("ephemeral certificate SHA-256 ", kStartTimeout))
      << server->Describe();
  std::string out = server->out();
  size_t at = out.find("listening on 127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << out;
  std::string port = std::to_string(std::stoi(out.substr(at + 23)));

  std::string json = TempDir() + "/scan.json";
  auto start = std::chrono::steady_clock::now();
  auto scan = Process::Start({kTestssl,
                              "--quiet",
                              "--fast",
                              "--color",
                              "0",
                              "--warnings",
                              "batch",
                              "--nodns",
                              "none",
                              "--ip=127.0.0.1",
                              "--connect-timeout",
                              "20",
                              "--openssl-timeout",
                              "20",
                              "--openssl=/usr/bin/openssl",
                              "-p",
                              "-s",
                              "-f",
                              "-P",
                              "-S",
                              "-U",
                              "--jsonfile",
                              json,
                              "127.0.0.1:" + port});
  std::optional<int> rc = scan->Wait(kScanTimeout);
  auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
          .count();
  ASSERT_TRUE(rc.has_value()) << "testssl did not finish within " << kScanTimeout.count() << " ms\n"
                              << scan->Describe();
  std::printf("testssl: exit %d after %lld s\n", *rc, static_cast<long long>(seconds));
  server->Kill(SIGTERM);
  EXPECT_EQ(server->Wait(), 0) << server->Describe();

  std::vector<std::map<std::string, std::string>> objects;
  std::string text = ReadFile(json);
  ASSERT_TRUE(FlatJson::Parse(text, &objects)) << "unparseable JSON:\n"
                                               << text.substr(0, 2000) << "\n"
                                               << scan->Describe();
  std::map<std::string, Finding> by_id;
  std::vector<Finding> all;
  for (auto& o : objects) {
    ASSERT_TRUE(o.count("id") && o.count("severity") && o.count("finding")) << text.substr(0, 500);
    all.push_back({o["id"], o["severity"], o["finding"]});
    by_id[o["id"]] = all.back();
  }

  // Not vacuous: the scan ran through every group of checks against this server.
  EXPECT_GE(all.size(), 60u) << scan->Describe();
  for (const char* id : {"SSLv2",
                         "SSLv3",
                         "TLS1",
                         "TLS1_1",
                         "TLS1_2",
                         "TLS1_3",
                         "cipherlist_NULL",
                         "cipherlist_AVERAGE",
                         "cipherlist_STRONG",
                         "PFS",
                         "cipher_order",
                         "TLS_extensions",
                         "heartbleed",
                         "CCS",
                         "ticketbleed",
                         "ROBOT",
                         "secure_renego",
                         "secure_client_renego",
                         "CRIME_TLS",
                         "POODLE_SSL",
                         "fallback_SCSV",
                         "SWEET32",
                         "FREAK",
                         "DROWN",
                         "LOGJAM",
                         "BEAST",
                         "LUCKY13",
                         "RC4",
                         "cert_chain_of_trust"}) {
    EXPECT_TRUE(by_id.count(id)) << "the scan reported nothing for " << id;
  }
  EXPECT_EQ(by_id["TLS1_2"].finding, "offered");
  EXPECT_EQ(by_id["TLS1_3"].finding.rfind("offered", 0), 0u) << by_id["TLS1_3"].finding;
  for (const char* id : {"SSLv2", "SSLv3", "TLS1", "TLS1_1"}) {
    EXPECT_EQ(by_id[id].finding, "not offered") << id;
  }
  for (const auto& [id, f] : by_id) {
    if (id == "scanTime" || id == "scanProblem") {
      EXPECT_NE(f.severity, "WARN") << id << ": " << f.finding;  // an interrupted scan
    }
  }

  static const std::set<std::string> kFailing = {"LOW", "MEDIUM", "HIGH", "CRITICAL"};
  size_t excluded = 0;
  for (const Finding& f : all) {
    std::printf("  %-28s %-8s %s\n", f.id.c_str(), f.severity.c_str(), f.finding.c_str());
    if (!kFailing.count(f.severity)) continue;
    if (CertificateFindings().count(f.id)) {
      ++excluded;
      continue;
    }
    ADD_FAILURE() << f.severity << " " << f.id << ": " << f.finding;
  }
  std::printf("testssl: %zu findings, %zu about the test certificate excluded\n", all.size(),
              excluded);
}

}  // namespace
}  // namespace sansio_tls::interop
