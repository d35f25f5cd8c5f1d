// Authorization as Node reports it, end to end through in-memory pairs: every X509 error
// code produced and reported by the side that checks the certificate (the client checking
// the server's, the server checking the client's), the full server request_cert x
// reject_unauthorized matrix, and the defaults.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/certs/certs_test_util.h"

namespace sansio_tls::certs_test {
namespace {

// |cert| with one byte of its signature flipped: it parses, its key still matches, and no
// issuer's signature verifies over it.
std::string CorruptSignaturePem(const Cert& cert) {
  std::vector<uint8_t> der = cert.der;
  der.back() ^= 0x01;
  const uint8_t* p = der.data();
  bssl::UniquePtr<X509> x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_TRUE(x509);
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  EXPECT_TRUE(PEM_write_bio_X509(bio.get(), x509.get()));
  const uint8_t* data;
  size_t len;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

// Whose certificate is checked.
enum class Checked { kServerCert, kClientCert };

// What the checked side presents and how the checking side judges it.
struct Setup {
  Credentials credentials;               // presented
  std::vector<std::string> ca_pems;      // the checker's trust
  std::vector<std::string> crl_pems;     // the checker's CRLs
  std::optional<int64_t> verify_time;    // the checker's clock
  std::string servername = "localhost";  // client: the name checked
};

struct CodeCase {
  const char* name;
  const char* code;  // expected authorization_error; "" = authorized
  uint8_t alert;     // what the checker sends when it refuses
  bool client_only;  // host-name checks happen on clients only
  std::function<Setup(const Pki& pki, const Pki& stranger, Checked checked)> make;
};

// A good leaf of the kind |checked| presents, customised by |edit|.
Cert LeafFor(const Pki& pki, Checked checked, const std::function<void(CertSpec&)>& edit = {}) {
  CertSpec spec;
  spec.subject = {{"CN", checked == Checked::kServerCert ? "localhost" : "client"}};
  if (checked == Checked::kServerCert) spec.dns_names = {"localhost"};
  spec.ext_key_usage = {checked == Checked::kServerCert ? testing::kServerAuth
                                                        : testing::kClientAuth};
  if (edit) edit(spec);
  return pki.Leaf(spec);
}

Setup Chain(const Pki& pki, const Cert& leaf) {
  return Setup{.credentials = pki.CredentialsFor(leaf), .ca_pems = {pki.root.cert_pem}};
}

const CodeCase kCodeCases[] = {
    {"TrustedChainIsAuthorized", "", 0, false,
     [](const Pki& pki, const Pki&, Checked c) { return Chain(pki, LeafFor(pki, c)); }},
    {"SelfSignedLeaf", "DEPTH_ZERO_SELF_SIGNED_CERT", SSL_AD_UNKNOWN_CA, false,
     [](const Pki& pki, const Pki&, Checked c) {
       CertSpec spec;
       spec.subject = {{"CN", c == Checked::kServerCert ? "localhost" : "client"}};
       spec.dns_names = {"localhost"};
       Cert self = testing::MakeSelfSigned(spec);
       return Setup{.credentials = {.key_pem = self.key_pem, .cert_chain_pem = self.cert_pem},
                    .ca_pems = {pki.root.cert_pem}};
     }},
    {"UntrustedRootSentInTheChain", "SELF_SIGNED_CERT_IN_CHAIN", SSL_AD_UNKNOWN_CA, false,
     [](const Pki& pki, const Pki& stranger, Checked c) {
       Cert leaf = LeafFor(pki, c);
       Setup s = Chain(pki, leaf);
       s.credentials.cert_chain_pem += pki.root.cert_pem;
       s.ca_pems = {stranger.root.cert_pem};
       return s;
     }},
    {"UnknownRoot", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", SSL_AD_UNKNOWN_CA, false,
     [](const Pki& pki, const Pki& stranger, Checked c) {
       Setup s = Chain(pki, LeafFor(pki, c));
       s.ca_pems = {stranger.root.cert_pem};
       return s;
     }},
    {"IntermediateNotSent", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", SSL_AD_UNKNOWN_CA, false,
     [](const Pki& pki, const Pki&, Checked c) {
       Cert leaf = LeafFor(pki, c);
       return Setup{.credentials = {.key_pem = leaf.key_pem, .cert_chain_pem = leaf.cert_pem},
                    .ca_pems = {pki.root.cert_pem}};
     }},
    {"OnlyTheIntermediateTrusted", "UNABLE_TO_GET_ISSUER_CERT", SSL_AD_UNKNOWN_CA, false,
     [](const Pki& pki, const Pki&, Checked c) {
       Cert leaf = LeafFor(pki, c);
       return Setup{.credentials = {.key_pem = leaf.key_pem, .cert_chain_pem = leaf.cert_pem},
                    .ca_pems = {pki.intermediate.cert_pem}};
     }},
    {"Expired", "CERT_HAS_EXPIRED", SSL_AD_CERTIFICATE_EXPIRED, false,
     [](const Pki& pki, const Pki&, Checked c) {
       return Chain(pki, LeafFor(pki, c, [](CertSpec& s) {
                      s.not_before = Now() - 20 * kDay;
                      s.not_after = Now() - 10 * kDay;
                    }));
     }},
    {"ExpiredJudgedWhileItWasValid", "", 0, false,
     [](const Pki& pki, const Pki&, Checked c) {
       Setup s = Chain(pki, LeafFor(pki, c, [](CertSpec& s) {
                         s.not_before = Now() - 20 * kDay;
                         s.not_after = Now() - 10 * kDay;
                       }));
       s.verify_time = Now() - 15 * kDay;
       return s;
     }},
    {"NotYetValid", "CERT_NOT_YET_VALID", SSL_AD_CERTIFICATE_EXPIRED, false,
     [](const Pki& pki, const Pki&, Checked c) {
       return Chain(pki, LeafFor(pki, c, [](CertSpec& s) {
                      s.not_before = Now() + 10 * kDay;
                      s.not_after = Now() + 20 * kDay;
                    }));
     }},
    {"NotYetValidJudgedLater", "", 0, false,
     [](const Pki& pki, const Pki&, Checked c) {
       Setup s = Chain(pki, LeafFor(pki, c, [](CertSpec& s) {
                         s.not_before = Now() + 10 * kDay;
                         s.not_after = Now() + 20 * kDay;
                       }));
       s.verify_time = Now() + 15 * kDay;
       return s;
     }},
    {"ValidJudgedAfterItExpires", "CERT_HAS_EXPIRED", SSL_AD_CERTIFICATE_EXPIRED, false,
     [](const Pki& pki, const Pki&, Checked c) {
       Setup s = Chain(pki, LeafFor(pki, c));  // valid for 30 days from now
       s.verify_time = Now() + 60 * kDay;
       return s;
     }},
    {"RevokedByCrl", "CERT_REVOKED", SSL_AD_CERTIFICATE_REVOKED, false,
     [](const Pki& pki, const Pki&, Checked c) {
       Cert leaf = LeafFor(pki, c);
       Setup s = Chain(pki, leaf);
       s.crl_pems = pki.Crls({leaf});
       return s;
     }},
    {"CrlsListingOtherSerialsAuthorize", "", 0, false,
     [](const Pki& pki, const Pki&, Checked c) {
       Setup s = Chain(pki, LeafFor(pki, c));
       s.crl_pems = pki.Crls({LeafFor(pki, c)});  // another certificate is revoked
       return s;
     }},
    {"CrlMissingForTheIntermediate", "UNABLE_TO_GET_CRL", SSL_AD_BAD_CERTIFICATE, false,
     [](const Pki& pki, const Pki&, Checked c) {
       Setup s = Chain(pki, LeafFor(pki, c));
       s.crl_pems = {testing::MakeCrlPem(pki.intermediate, {})};
       return s;
     }},
    {"CrlOutOfDate", "CRL_HAS_EXPIRED", SSL_AD_BAD_CERTIFICATE, false,
     [](const Pki& pki, const Pki&, Checked c) {
       Setup s = Chain(pki, LeafFor(pki, c));
       s.crl_pems = {
           testing::MakeCrlPem(pki.root, {}, Now() - 20 * kDay, Now() - 10 * kDay),
           testing::MakeCrlPem(pki.intermediate, {}, Now() - 20 * kDay, Now() - 10 * kDay)};
       return s;
     }},
    {"BadSignature", "CERT_SIGNATURE_FAILURE", SSL_AD_BAD_CERTIFICATE, false,
     [](const Pki& pki, const Pki&, Checked c) {
       Cert leaf = LeafFor(pki, c);
       Setup s = Chain(pki, leaf);
       s.credentials.cert_chain_pem = CorruptSignaturePem(leaf) + pki.intermediate.cert_pem;
       return s;
     }},
    {"IssuerIsNotACa", "INVALID_CA", SSL_AD_BAD_CERTIFICATE, false,
     [](const Pki& pki, const Pki&, Checked c) {
       CertSpec fake;
       fake.subject = {{"CN", "not a CA"}};
       fake.key = testing::CachedKey(KeyType::kEcdsaP256, 60);
       Cert issuer = testing::MakeSigned(fake, pki.root);
       CertSpec spec;
       spec.subject = {{"CN", "localhost"}};
       spec.dns_names = {"localhost"};
       spec.key = testing::CachedKey(KeyType::kEcdsaP256, 61);
       (void)c;
       Cert leaf = testing::MakeSigned(spec, issuer);
       return Setup{.credentials = {.key_pem = leaf.key_pem,
                                    .cert_chain_pem = leaf.cert_pem + issuer.cert_pem},
                    .ca_pems = {pki.root.cert_pem}};
     }},
    {"PathLengthExceeded", "PATH_LENGTH_EXCEEDED", SSL_AD_BAD_CERTIFICATE, false,
     [](const Pki& pki, const Pki&, Checked c) {
       CertSpec sub;
       sub.subject = {{"CN", "sub CA below a pathlen:0 CA"}};
       sub.is_ca = true;
       sub.key = testing::CachedKey(KeyType::kEcdsaP256, 62);
       Cert sub_ca = testing::MakeSigned(sub, pki.intermediate);
       CertSpec spec;
       spec.subject = {{"CN", "localhost"}};
       spec.dns_names = {"localhost"};
       spec.key = testing::CachedKey(KeyType::kEcdsaP256, 63);
       (void)c;
       Cert leaf = testing::MakeSigned(spec, sub_ca);
       return Setup{.credentials = {.key_pem = leaf.key_pem,
                                    .cert_chain_pem = leaf.cert_pem + sub_ca.cert_pem +
                                                      pki.intermediate.cert_pem},
                    .ca_pems = {pki.root.cert_pem}};
     }},
    {"WrongExtendedKeyUsage", "INVALID_PURPOSE", SSL_AD_BAD_CERTIFICATE, false,
     [](const Pki& pki, const Pki&, Checked c) {
       return Chain(pki, LeafFor(pki, c, [c](CertSpec& s) {
                      s.ext_key_usage = {c == Checked::kServerCert ? testing::kClientAuth
                                                                   : testing::kServerAuth};
                    }));
     }},
    {"HostNameMismatch", "ERR_TLS_CERT_ALTNAME_INVALID", SSL_AD_BAD_CERTIFICATE, true,
     [](const Pki& pki, const Pki&, Checked c) {
       Setup s = Chain(pki, LeafFor(pki, c));
       s.servername = "other.example";
       return s;
     }},
};

struct Built {
  std::unique_ptr<Pair> pair;
  Side checker;
};

Built Build(const CodeCase& cc, Checked checked, TlsVersion version, bool reject_unauthorized) {
  static const Pki pki("codes");
  static const Pki stranger("stranger", KeyType::kEcdsaP256, 50);
  Setup setup = cc.make(pki, stranger, checked);
  ServerContextOptions server{
      .min_version = version, .max_version = version, .reject_unauthorized = reject_unauthorized};
  ClientContextOptions client{
      .min_version = version, .max_version = version, .reject_unauthorized = reject_unauthorized};
  SessionOptions client_session{.servername = "localhost"};
  SessionOptions server_session;
  if (checked == Checked::kServerCert) {
    server.credentials = setup.credentials;
    client.ca_pems = setup.ca_pems;
    client.crl_pems = setup.crl_pems;
    client_session.servername = setup.servername;
    client_session.verify_time = setup.verify_time;
  } else {
    server.credentials = pki.CredentialsFor(pki.Server());
    server.request_cert = true;
    server.ca_pems = setup.ca_pems;
    server.crl_pems = setup.crl_pems;
    server_session.verify_time = setup.verify_time;
    client.credentials = setup.credentials;
    client.ca_pems = {pki.root.cert_pem};
    client.reject_unauthorized = true;  // the server's certificate is good
  }
  return {MustPair(MustCreate(client), MustCreate(server), client_session, server_session),
          checked == Checked::kServerCert ? Side::kClient : Side::kServer};
}

using CodeParam = std::tuple<size_t, Checked, TlsVersion>;

class AuthorizationCodes : public ::testing::TestWithParam<CodeParam> {};

// Every case in both directions (host names only where clients check them), both versions.
std::vector<CodeParam> AllCodeParams() {
  std::vector<CodeParam> out;
  for (size_t i = 0; i < std::size(kCodeCases); ++i) {
    for (Checked checked : {Checked::kServerCert, Checked::kClientCert}) {
      if (kCodeCases[i].client_only && checked == Checked::kClientCert) continue;
      for (TlsVersion v : {TlsVersion::kTls13, TlsVersion::kTls12}) out.emplace_back(i, checked, v);
    }
  }
  return out;
}

TEST_P(AuthorizationCodes, AreReportedByTheCheckerWhenUnauthorizedPeersAreAccepted) {
  auto [index, checked, version] = GetParam();
  const CodeCase& cc = kCodeCases[index];
  Built b = Build(cc, checked, version, /*reject_unauthorized=*/false);
  ASSERT_TRUE(b.pair);
  ASSERT_TRUE(b.pair->Handshake()) << Summary(*b.pair);
  const Event* done = b.pair->Find(b.checker, EventKind::kHandshakeDone);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->get<HandshakeInfo>().authorization_error, cc.code);
  EXPECT_EQ(done->get<HandshakeInfo>().authorized, std::string(cc.code).empty());
  EXPECT_EQ(b.pair->session(b.checker).authorization_error(), cc.code);
  // The checked side judged a good certificate (or, as a server, asked for none).
  const HandshakeInfo& other = b.pair->session(Other(b.checker)).handshake_info();
  EXPECT_EQ(other.authorized, b.checker == Side::kServer);
  EXPECT_EQ(other.authorization_error, "");
}

TEST_P(AuthorizationCodes, EndTheConnectionWhenRejectUnauthorized) {
  auto [index, checked, version] = GetParam();
  const CodeCase& cc = kCodeCases[index];
  Built b = Build(cc, checked, version, /*reject_unauthorized=*/true);
  ASSERT_TRUE(b.pair);
  b.pair->Pump();
  Session& checker = b.pair->session(b.checker);
  Session& peer = b.pair->session(Other(b.checker));
  if (std::string(cc.code).empty()) {
    EXPECT_FALSE(checker.failed()) << Summary(*b.pair);
    EXPECT_FALSE(peer.failed()) << Summary(*b.pair);
    EXPECT_TRUE(checker.authorized());
    return;
  }
  // The checker never hands the connection to its application.
  EXPECT_EQ(b.pair->Find(b.checker, EventKind::kHandshakeDone), nullptr) << Summary(*b.pair);
  ASSERT_TRUE(checker.failed()) << Summary(*b.pair);
  EXPECT_EQ(checker.error()->code, cc.code);
  EXPECT_FALSE(checker.error()->message.empty());
  EXPECT_EQ(checker.error()->alert, cc.alert);
  EXPECT_FALSE(checker.error()->alert_from_peer);
  EXPECT_EQ(checker.authorization_error(), cc.code);
  // The peer learns why from the alert.
  ASSERT_TRUE(peer.failed()) << Summary(*b.pair);
  EXPECT_EQ(peer.error()->alert, cc.alert);
  EXPECT_TRUE(peer.error()->alert_from_peer);
  if (b.checker == Side::kServer) {
    // Node's rule: the handshake completed before the server refused the client.
    EXPECT_NE(b.pair->Find(Side::kClient, EventKind::kHandshakeDone), nullptr) << Summary(*b.pair);
  }
}

std::string CodeParamName(const ::testing::TestParamInfo<CodeParam>& info) {
  auto [index, checked, version] = info.param;
  return std::string(kCodeCases[index].name) +
         (checked == Checked::kServerCert ? "_ServerCert_" : "_ClientCert_") + VersionName(version);
}

INSTANTIATE_TEST_SUITE_P(All, AuthorizationCodes, ::testing::ValuesIn(AllCodeParams()),
                         CodeParamName);

// ---- The server matrix: request_cert x reject_unauthorized x client certificate ----------

enum class ClientCert { kNone, kGood, kWrongCa, kExpired, kRevoked };

const char* ClientCertName(ClientCert c) {
  switch (c) {
    case ClientCert::kNone:
      return "NoCert";
    case ClientCert::kGood:
      return "GoodCert";
    case ClientCert::kWrongCa:
      return "WrongCa";
    case ClientCert::kExpired:
      return "Expired";
    case ClientCert::kRevoked:
      return "Revoked";
  }
  return "?";
}

struct MatrixExpectation {
  bool server_sees_connection;  // kHandshakeDone on the server
  bool authorized;
  std::string code;
  uint8_t alert;  // sent by the server when it refuses
};

MatrixExpectation Expect(bool request_cert, bool reject, ClientCert cert, TlsVersion version) {
  if (!request_cert) return {true, false, "", 0};  // nothing asked, nothing judged
  std::string code;
  uint8_t alert = 0;
  switch (cert) {
    case ClientCert::kGood:
      return {true, true, "", 0};
    case ClientCert::kNone:
      code = "UNABLE_TO_GET_ISSUER_CERT";
      alert =
          version == TlsVersion::kTls13 ? SSL_AD_CERTIFICATE_REQUIRED : SSL_AD_HANDSHAKE_FAILURE;
      break;
    case ClientCert::kWrongCa:
      code = "UNABLE_TO_GET_ISSUER_CERT_LOCALLY";
      alert = SSL_AD_UNKNOWN_CA;
      break;
    case ClientCert::kExpired:
      code = "CERT_HAS_EXPIRED";
      alert = SSL_AD_CERTIFICATE_EXPIRED;
      break;
    case ClientCert::kRevoked:
      code = "CERT_REVOKED";
      alert = SSL_AD_CERTIFICATE_REVOKED;
      break;
  }
  return {!reject, false, code, alert};
}

using MatrixParam = std::tuple<bool, bool, ClientCert, TlsVersion>;

class ServerMatrix : public ::testing::TestWithParam<MatrixParam> {};

TEST_P(ServerMatrix, CompletesThenReportsOrRefusesAsNodeDoes) {
  auto [request_cert, reject, cert, version] = GetParam();
  static const Pki pki("matrix");
  static const Pki stranger("matrix stranger", KeyType::kEcdsaP256, 50);
  static const Cert revoked = pki.Client();
  static const std::vector<std::string> crls = pki.Crls({revoked});

  ServerContextOptions server{.credentials = pki.CredentialsFor(pki.Server()),
                              .ca_pems = {pki.root.cert_pem},
                              .crl_pems = crls,
                              .min_version = version,
                              .max_version = version,
                              .request_cert = request_cert,
                              .reject_unauthorized = reject};
  ClientContextOptions client{
      .ca_pems = {pki.root.cert_pem}, .min_version = version, .max_version = version};
  switch (cert) {
    case ClientCert::kNone:
      break;
    case ClientCert::kGood:
      client.credentials = pki.CredentialsFor(pki.Client());
      break;
    case ClientCert::kWrongCa:
      client.credentials = stranger.CredentialsFor(stranger.Client());
      break;
    case ClientCert::kExpired: {
      CertSpec spec;
      spec.subject = {{"CN", "client"}};
      spec.not_before = Now() - 20 * kDay;
      spec.not_after = Now() - 10 * kDay;
      client.credentials = pki.CredentialsFor(pki.Leaf(spec));
      break;
    }
    case ClientCert::kRevoked:
      client.credentials = pki.CredentialsFor(revoked);
      break;
  }
  auto pair = MustPair(MustCreate(client), MustCreate(server));
  ASSERT_TRUE(pair);
  pair->Pump();
  // Data the client sends once its own handshake is done must not reach a refused server's
  // application, nor must the server's queued data reach the client.
  pair->Write(Side::kServer, "queued by the server before the verdict");
  pair->Write(Side::kClient, "sent by the client");
  pair->Pump();

  MatrixExpectation want = Expect(request_cert, reject, cert, version);
  Session& s = pair->server();
  SCOPED_TRACE(Summary(*pair));
  // The client always completes its handshake: its server certificate is good, and the
  // server judges the client only after the handshake.
  EXPECT_NE(pair->Find(Side::kClient, EventKind::kHandshakeDone), nullptr);
  EXPECT_TRUE(pair->client().authorized());
  EXPECT_EQ(s.authorized(), want.authorized);
  EXPECT_EQ(s.authorization_error(), want.code);
  EXPECT_EQ(s.peer_certificate().has_value(), request_cert && cert != ClientCert::kNone);
  if (want.server_sees_connection) {
    EXPECT_FALSE(s.failed());
    const Event* done = pair->Find(Side::kServer, EventKind::kHandshakeDone);
    ASSERT_NE(done, nullptr);
    EXPECT_EQ(done->get<HandshakeInfo>().authorized, want.authorized);
    EXPECT_EQ(done->get<HandshakeInfo>().authorization_error, want.code);
    EXPECT_EQ(pair->received(Side::kServer), "sent by the client");
    EXPECT_EQ(pair->received(Side::kClient), "queued by the server before the verdict");
  } else {
    EXPECT_EQ(pair->event_kinds(Side::kServer), std::vector<EventKind>{EventKind::kError});
    EXPECT_FALSE(s.handshake_done());  // refused: the application never had the connection
    ASSERT_TRUE(s.failed());
    EXPECT_EQ(s.error()->code, want.code);
    EXPECT_EQ(s.error()->alert, want.alert);
    EXPECT_FALSE(s.error()->alert_from_peer);
    EXPECT_EQ(pair->received(Side::kServer), "");
    EXPECT_EQ(pair->received(Side::kClient), "");
    ASSERT_TRUE(pair->client().failed());
    EXPECT_EQ(pair->client().error()->alert, want.alert);
    EXPECT_TRUE(pair->client().error()->alert_from_peer);
  }
}

std::string MatrixParamName(const ::testing::TestParamInfo<MatrixParam>& info) {
  auto [request_cert, reject, cert, version] = info.param;
  return std::string(request_cert ? "RequestCert" : "NoRequestCert") +
         (reject ? "_Reject_" : "_Accept_") + ClientCertName(cert) + "_" + VersionName(version);
}

INSTANTIATE_TEST_SUITE_P(
    All, ServerMatrix,
    ::testing::Combine(::testing::Bool(), ::testing::Bool(),
                       ::testing::Values(ClientCert::kNone, ClientCert::kGood, ClientCert::kWrongCa,
                                         ClientCert::kExpired, ClientCert::kRevoked),
                       ::testing::Values(TlsVersion::kTls13, TlsVersion::kTls12)),
    MatrixParamName);

TEST(ServerRefusal, ASessionFromARefusedConnectionNeverResumesIntoAcceptance) {
  // The server completes the handshake before refusing, so a client may hold a session from
  // it; offering that session must end in the same refusal.
  Pki pki("refused resumption");
  Pki stranger("refused resumption stranger", KeyType::kEcdsaP256, 50);
  for (TlsVersion v : {TlsVersion::kTls13, TlsVersion::kTls12}) {
    for (bool with_cert : {true, false}) {
      SCOPED_TRACE(VersionName(v) + (with_cert ? " untrusted cert" : " no cert"));
      auto server = MustCreate(ServerContextOptions{.credentials = pki.CredentialsFor(pki.Server()),
                                                    .ca_pems = {pki.root.cert_pem},
                                                    .min_version = v,
                                                    .max_version = v,
                                                    .request_cert = true});
      ClientContextOptions client_options{
          .ca_pems = {pki.root.cert_pem}, .min_version = v, .max_version = v};
      if (with_cert) client_options.credentials = stranger.CredentialsFor(stranger.Client());
      auto client = MustCreate(client_options);
      auto first = MustPair(client, server);
      first->Pump();
      ASSERT_TRUE(first->server().failed());
      std::optional<SavedSession> saved = first->client().saved_session();
      ASSERT_TRUE(saved.has_value()) << "the completed handshake gave the client a session";
      auto again = MustPair(client, server, {.servername = "localhost", .session = saved});
      again->Pump();
      EXPECT_EQ(again->Find(Side::kServer, EventKind::kHandshakeDone), nullptr) << Summary(*again);
      ASSERT_TRUE(again->server().failed());
      EXPECT_EQ(again->server().error()->code,
                with_cert ? "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" : "UNABLE_TO_GET_ISSUER_CERT");
    }
  }
}

// ---- Defaults -----------------------------------------------------------------------------

TEST(AuthorizationDefaults, AreCurrentNodes) {
  ServerContextOptions s;
  EXPECT_TRUE(s.reject_unauthorized);
  EXPECT_FALSE(s.request_cert);
  EXPECT_FALSE(s.verify_callback);
  EXPECT_FALSE(s.use_system_ca);
  ClientContextOptions c;
  EXPECT_TRUE(c.reject_unauthorized);
  EXPECT_FALSE(c.verify_callback);
  EXPECT_FALSE(c.use_system_ca);
}

TEST(AuthorizationDefaults, AClientRejectsAServerItCannotVerify) {
  Pki pki("defaults");
  auto pair =
      MustPair(MustCreate(ClientContextOptions{}),
               MustCreate(ServerContextOptions{.credentials = pki.CredentialsFor(pki.Server())}));
  ASSERT_TRUE(pair);
  EXPECT_FALSE(pair->Handshake());
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
  EXPECT_EQ(pair->Find(Side::kClient, EventKind::kHandshakeDone), nullptr);
}

TEST(AuthorizationDefaults, TheHostNameFallsBackToHostThenLocalhost) {
  Pki pki("fallback");
  auto server = MustCreate(
      ServerContextOptions{.credentials = pki.CredentialsFor(pki.Server("host.example"))});
  auto client = MustCreate(ClientContextOptions{.ca_pems = {pki.root.cert_pem}});
  struct Case {
    SessionOptions options;
    bool authorized;
  } cases[] = {
      {{.servername = "host.example"}, true},
      {{.host = "host.example"}, true},
      {{.servername = "other.example", .host = "host.example"}, false},  // servername wins
      {{}, false},                                                       // "localhost"
  };
  for (const Case& c : cases) {
    auto pair = MustPair(client, server, c.options);
    ASSERT_TRUE(pair);
    pair->Pump();
    EXPECT_EQ(pair->client().authorized(), c.authorized)
        << c.options.servername << "/" << c.options.host << " " << Summary(*pair);
    if (!c.authorized) {
      EXPECT_EQ(pair->client().authorization_error(), "ERR_TLS_CERT_ALTNAME_INVALID");
    }
  }
  // With no servername and no host, the reason names localhost.
  auto pair = MustPair(client, server, {});
  pair->Pump();
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->message,
            "Host: localhost. is not in the cert's altnames: DNS:host.example, "
            "IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
}

}  // namespace
}  // namespace sansio_tls::certs_test
