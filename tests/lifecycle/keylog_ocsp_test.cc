// Key log lines (NSS format, one per secret, with the client random) and OCSP stapling
// (stapled, read back, required) over the in-memory pair.
#include <gtest/gtest.h>
#include <openssl/aead.h>
#include <openssl/digest.h>
#include <openssl/hkdf.h>
#include <openssl/ssl.h>

#include <map>
#include <sstream>

#include "tests/lifecycle/lifecycle_test_util.h"

namespace sansio_tls {
namespace {

using namespace lifecycle_test;  // NOLINT

auto KeyLogOn = [](auto& o) { o.key_log = true; };

std::string Hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

std::vector<uint8_t> Unhex(const std::string& s) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(std::stoi(s.substr(i, 2), nullptr, 16));
  return out;
}

struct KeyLogLine {
  std::string label, random, secret;
};

// Parses |side|'s kKeyLog lines; each must be "LABEL <hex> <hex>".
std::vector<KeyLogLine> KeyLog(const Pair& pair, Side side) {
  std::vector<KeyLogLine> out;
  for (const Event& e : pair.events(side)) {
    if (e.kind() != EventKind::kKeyLog) continue;
    EXPECT_EQ(e.get<event::KeyLog>().line.find('\n'), std::string::npos);
    std::istringstream in(e.get<event::KeyLog>().line);
    KeyLogLine l;
    std::string extra;
    in >> l.label >> l.random >> l.secret;
    EXPECT_FALSE(in >> extra) << e.get<event::KeyLog>().line;
    EXPECT_EQ(l.random.find_first_not_of("0123456789abcdef"), std::string::npos)
        << e.get<event::KeyLog>().line;
    EXPECT_EQ(l.secret.find_first_not_of("0123456789abcdef"), std::string::npos)
        << e.get<event::KeyLog>().line;
    out.push_back(l);
  }
  return out;
}

std::string ClientRandomHex(Session& s) {
  uint8_t random[32];
  EXPECT_EQ(SSL_get_client_random(s.ssl(), random, sizeof random), 32u);
  return Hex(random, sizeof random);
}

// HKDF-Expand-Label(secret, label, "", length) of RFC 8446, 7.1.
std::vector<uint8_t> ExpandLabel(const EVP_MD* md, const std::vector<uint8_t>& secret,
                                 const std::string& label, size_t length) {
  std::string full = "tls13 " + label;
  std::vector<uint8_t> info = {static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length),
                               static_cast<uint8_t>(full.size())};
  info.insert(info.end(), full.begin(), full.end());
  info.push_back(0);
  std::vector<uint8_t> out(length);
  EXPECT_TRUE(
      HKDF_expand(out.data(), length, md, secret.data(), secret.size(), info.data(), info.size()));
  return out;
}

TEST(KeyLog, Tls13LogsEachSecretOnceWithTheClientRandomAndTheSecretsDecryptTraffic) {
  auto pair = MakePair(Client(TlsVersion::kTls13, KeyLogOn), Server(TlsVersion::kTls13, KeyLogOn),
                       At(Now()));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  pair->Pump();
  ASSERT_EQ(pair->client().handshake_info().cipher, "TLS_AES_128_GCM_SHA256");
  const std::string random = ClientRandomHex(pair->client());
  std::map<std::string, std::string> client_secrets, server_secrets;
  for (Side side : {Side::kClient, Side::kServer}) {
    auto& secrets = side == Side::kClient ? client_secrets : server_secrets;
    for (const KeyLogLine& l : KeyLog(*pair, side)) {
      EXPECT_EQ(l.random, random) << l.label;
      EXPECT_EQ(l.secret.size(), 64u) << l.label;  // SHA-256 secrets
      EXPECT_TRUE(secrets.emplace(l.label, l.secret).second) << "twice: " << l.label;
    }
  }
  for (const char* label :
       {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}) {
    EXPECT_TRUE(client_secrets.count(label)) << label;
  }
  EXPECT_EQ(client_secrets.size(), 5u);
  EXPECT_EQ(client_secrets, server_secrets);  // both ends log the same secrets

  // The logged client traffic secret opens the client's first application record.
  ASSERT_EQ(pair->client().Write(Bytes("logged secret works")), 19u);
  std::span<const uint8_t> wire = pair->client().PendingOutput();
  ASSERT_GE(wire.size(), 5u + 19 + 1 + 16);
  ASSERT_EQ(wire[0], 23);  // TLS 1.3 records all look like application data
  size_t len = (size_t{wire[3]} << 8) | wire[4];
  ASSERT_EQ(wire.size(), 5 + len);
  std::vector<uint8_t> secret = Unhex(client_secrets["CLIENT_TRAFFIC_SECRET_0"]);
  std::vector<uint8_t> key = ExpandLabel(EVP_sha256(), secret, "key", 16);
  std::vector<uint8_t> iv = ExpandLabel(EVP_sha256(), secret, "iv", 12);  // XOR seq 0
  bssl::ScopedEVP_AEAD_CTX aead;
  ASSERT_TRUE(EVP_AEAD_CTX_init(aead.get(), EVP_aead_aes_128_gcm(), key.data(), key.size(),
                                EVP_AEAD_DEFAULT_TAG_LENGTH, nullptr));
  std::vector<uint8_t> plain(len);
  size_t n = 0;
  ASSERT_TRUE(EVP_AEAD_CTX_open(aead.get(), plain.data(), &n, plain.size(), iv.data(), iv.size(),
                                wire.data() + 5, len, wire.data(), 5));
  ASSERT_EQ(n, 20u);
  EXPECT_EQ(std::string(plain.begin(), plain.begin() + 19), "logged secret works");
  EXPECT_EQ(plain[19], 23);  // inner content type
}

TEST(KeyLog, Tls12LogsTheMasterSecretOnce) {
  auto pair = MakePair(Client(TlsVersion::kTls12, KeyLogOn), Server(TlsVersion::kTls12, KeyLogOn),
                       At(Now()));
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  const std::string random = ClientRandomHex(pair->client());
  uint8_t master[48];
  ASSERT_EQ(
      SSL_SESSION_get_master_key(SSL_get_session(pair->client().ssl()), master, sizeof master),
      48u);
  for (Side side : {Side::kClient, Side::kServer}) {
    std::vector<KeyLogLine> lines = KeyLog(*pair, side);
    ASSERT_EQ(lines.size(), 1u) << testing::SideName(side);
    EXPECT_EQ(lines[0].label, "CLIENT_RANDOM");
    EXPECT_EQ(lines[0].random, random);
    EXPECT_EQ(lines[0].secret, Hex(master, sizeof master));
  }
}

TEST(KeyLog, IsOffUnlessConfigured) {
  auto pair = MakePair(Client(TlsVersion::kTls13), Server(TlsVersion::kTls13, KeyLogOn), At(Now()));
  ASSERT_TRUE(pair->Handshake());
  EXPECT_EQ(Count(*pair, Side::kClient, EventKind::kKeyLog), 0u);
  EXPECT_EQ(Count(*pair, Side::kServer, EventKind::kKeyLog), 5u);
}

TEST(KeyLog, FollowsTheListeningContextAcrossAnSniCallbackSwitch) {
  // The server asked for key logging; the SNI callback answers with a context that did not.
  auto server = Server(TlsVersion::kTls13, [](auto& o) {
    o.key_log = true;
    o.sni_callback = true;
  });
  auto chosen = Server(TlsVersion::kTls13);
  SessionOptions client_options = At(Now());
  client_options.servername = "other.example";
  client_options.host = "localhost";
  auto client = Client(TlsVersion::kTls13, [](auto& o) { o.reject_unauthorized = false; });
  auto pair = MakePair(client, server, client_options);
  pair->Pump();
  ASSERT_TRUE(pair->server().sni_pending()) << Summary(*pair);
  EXPECT_EQ(pair->server().AnswerSni(SniAnswer::Use(chosen)), std::nullopt);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_EQ(Count(*pair, Side::kServer, EventKind::kKeyLog), 5u) << Summary(*pair);

  // And the converse: a listening context without key_log never logs, whatever it switches to.
  auto quiet = Server(TlsVersion::kTls13, [](auto& o) { o.sni_callback = true; });
  auto logging = Server(TlsVersion::kTls13, KeyLogOn);
  auto pair2 = MakePair(client, quiet, client_options);
  pair2->Pump();
  ASSERT_TRUE(pair2->server().sni_pending());
  EXPECT_EQ(pair2->server().AnswerSni(SniAnswer::Use(logging)), std::nullopt);
  ASSERT_TRUE(pair2->Handshake()) << Summary(*pair2);
  EXPECT_EQ(Count(*pair2, Side::kServer, EventKind::kKeyLog), 0u);
}

// ---- OCSP stapling ------------------------------------------------------------------

// Any bytes: the core carries the response, it does not validate it.
const std::string kOcsp = std::string("\x30\x03\x0a\x01\x00", 5) + "fake-ocsp-response";

class Ocsp : public ::testing::TestWithParam<TlsVersion> {};

TEST_P(Ocsp, TheServersStapleReachesAClientThatAsks) {
  auto server = Server(GetParam(), [](auto& o) { o.credentials.ocsp_response = kOcsp; });
  auto asking = Client(GetParam(), [](auto& o) { o.request_ocsp = true; });
  auto pair = Connect(asking, server, Now());
  ASSERT_TRUE(pair);
  std::span<const uint8_t> got = pair->client().ocsp_response();
  EXPECT_EQ(std::string(got.begin(), got.end()), kOcsp);

  auto silent = Connect(Client(GetParam()), server, Now());
  ASSERT_TRUE(silent);
  EXPECT_TRUE(silent->client().ocsp_response().empty());  // not asked, not sent
}

TEST_P(Ocsp, ARequiredStapleThatIsMissingFailsTheHandshake) {
  auto server = Server(GetParam());
  auto strict = Client(GetParam(), [](auto& o) { o.require_ocsp = true; });
  auto pair = MakePair(strict, server, At(Now()));
  EXPECT_FALSE(pair->Handshake());
  ASSERT_TRUE(pair->client().failed()) << Summary(*pair);
  EXPECT_EQ(pair->client().error()->code, "ERR_TLS_OCSP_MISSING");
  EXPECT_EQ(pair->client().error()->alert, SSL_AD_BAD_CERTIFICATE_STATUS_RESPONSE);
  EXPECT_FALSE(pair->Find(Side::kClient, EventKind::kHandshakeDone));
  // A refused handshake leaves nothing to resume (TLS 1.2 made a session before the check).
  EXPECT_FALSE(pair->client().saved_session().has_value());
  EXPECT_EQ(Count(*pair, Side::kClient, EventKind::kNewSession), 0u);
  ASSERT_TRUE(pair->server().failed()) << Summary(*pair);
  EXPECT_EQ(pair->server().error()->alert, SSL_AD_BAD_CERTIFICATE_STATUS_RESPONSE);
  EXPECT_TRUE(pair->server().error()->alert_from_peer);
}

TEST_P(Ocsp, ARequiredStapleIsReadBackAndKeptByAResumedSession) {
  auto server = Server(GetParam(), [](auto& o) { o.credentials.ocsp_response = kOcsp; });
  auto strict = Client(GetParam(), [](auto& o) { o.require_ocsp = true; });
  auto first = Connect(strict, server, Now());
  ASSERT_TRUE(first);
  std::vector<SavedSession> saved = NewSessions(*first, Side::kClient);
  ASSERT_FALSE(saved.empty());
  auto resumed = Connect(strict, server, Now() + 1, saved.back());
  ASSERT_TRUE(resumed);
  EXPECT_TRUE(resumed->client().handshake_info().session_reused);
  std::span<const uint8_t> got = resumed->client().ocsp_response();
  EXPECT_EQ(std::string(got.begin(), got.end()), kOcsp);
}

INSTANTIATE_TEST_SUITE_P(Versions, Ocsp, ::testing::Values(TlsVersion::kTls13, TlsVersion::kTls12),
                         [](const auto& info) {
                           return std::string(info.param == TlsVersion::kTls13 ? "Tls13" : "Tls12");
                         });

}  // namespace
}  // namespace sansio_tls
