// Error kinds: every code the library produces falls in one ErrorKind a program can switch
// on; the code strings keep Node's spelling. Classified from tables, and from real failures
// of in-memory pairs (no sockets).
#include "core/error.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls {
namespace {

using testing::Pair;
using testing::Side;

TEST(ErrorKind, OwnCodesAreUniqueNodeSpelledAndClassified) {
  std::set<std::string_view> seen;
#define SANSIO_TLS_X(NAME, CODE, KIND)                                   \
  EXPECT_TRUE(seen.insert(errc::NAME).second) << CODE;                   \
  EXPECT_EQ(ClassifyError(errc::NAME, false), ErrorKind::KIND) << CODE;  \
  EXPECT_EQ(MakeError(errc::NAME, "m").kind(), ErrorKind::KIND) << CODE; \
  EXPECT_EQ(OwnErrorCode(OwnErrorValue(CODE)), CODE);
  SANSIO_TLS_OWN_ERROR_CODES(SANSIO_TLS_X)
#undef SANSIO_TLS_X
  EXPECT_EQ(errc::kHostnameMismatch, "ERR_TLS_CERT_ALTNAME_INVALID");
  EXPECT_EQ(errc::kHandshakeTimeout, "ERR_TLS_HANDSHAKE_TIMEOUT");
  EXPECT_EQ(errc::kTruncated, "ERR_TLS_TRUNCATED");
  EXPECT_EQ(errc::kConnectionReset, "ECONNRESET");
}

TEST(ErrorKind, CodesFromOutsideTheTableAreClassifiedByTheirShape) {
  EXPECT_EQ(ClassifyError("CERT_HAS_EXPIRED", false), ErrorKind::kCertificate);
  EXPECT_EQ(ClassifyError("DEPTH_ZERO_SELF_SIGNED_CERT", false), ErrorKind::kCertificate);
  EXPECT_EQ(ClassifyError("ERR_SSL_WRONG_VERSION_NUMBER", false), ErrorKind::kProtocol);
  EXPECT_EQ(ClassifyError("ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", true), ErrorKind::kPeerAlert);
  EXPECT_EQ(ClassifyError("ERR_OSSL_DECODE_ERROR", false), ErrorKind::kProtocol);
  EXPECT_EQ(ClassifyError("EPIPE", false), ErrorKind::kTransport);
  EXPECT_EQ(ClassifyError("ECONNREFUSED", false), ErrorKind::kTransport);
  EXPECT_EQ(ClassifyError("MY_POLICY", false, /*verification=*/true), ErrorKind::kCertificate);
  EXPECT_EQ(ClassifyError("MY_POLICY", false), ErrorKind::kInternal);
  EXPECT_EQ(ClassifyError("", false), ErrorKind::kInternal);
  EXPECT_EQ(ErrorKindName(ErrorKind::kPeerAlert), "peer_alert");
  EXPECT_EQ(ErrorKindName(ErrorKind::kConfiguration), "configuration");
}

struct Fixture {
  testing::TestPki pki = testing::MakeTestPki();
  std::shared_ptr<const Context> Server(bool request_cert = false) {
    ServerContextOptions o{
        .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()},
        .ca_pems = {pki.root.cert_pem}};
    o.request_cert = request_cert;
    auto c = Context::Create(o);
    EXPECT_TRUE(c.ok());
    return c.ok() ? c.value() : nullptr;
  }
  std::shared_ptr<const Context> Client(std::vector<std::string> cas) {
    auto c = Context::Create(ClientContextOptions{.ca_pems = std::move(cas)});
    EXPECT_TRUE(c.ok());
    return c.ok() ? c.value() : nullptr;
  }
};

TEST(ErrorKind, ABadCredentialIsConfiguration) {
  auto c = Context::Create(
      ServerContextOptions{.credentials = {.key_pem = "not a key", .cert_chain_pem = "x"}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind(), ErrorKind::kConfiguration) << c.error().code;
}

TEST(ErrorKind, AnUntrustedServerIsCertificateForTheClientAndPeerAlertForTheServer) {
  Fixture f;
  auto pair = Pair::Create(f.Client({}), f.Server(), {.servername = "localhost"});  // trusts none
  ASSERT_TRUE(pair.ok());
  EXPECT_FALSE((*pair)->Handshake());
  ASSERT_TRUE((*pair)->client().error());
  EXPECT_EQ((*pair)->client().error()->kind(), ErrorKind::kCertificate)
      << (*pair)->client().error()->code;
  ASSERT_TRUE((*pair)->server().error());
  EXPECT_TRUE((*pair)->server().error()->alert_from_peer);
  EXPECT_EQ((*pair)->server().error()->kind(), ErrorKind::kPeerAlert)
      << (*pair)->server().error()->code;
}

TEST(ErrorKind, AHostNameMismatchIsCertificate) {
  Fixture f;
  auto pair =
      Pair::Create(f.Client({f.pki.root.cert_pem}), f.Server(), {.servername = "example.com"});
  ASSERT_TRUE(pair.ok());
  EXPECT_FALSE((*pair)->Handshake());
  ASSERT_TRUE((*pair)->client().error());
  EXPECT_EQ((*pair)->client().error()->code, errc::kHostnameMismatch);
  EXPECT_EQ((*pair)->client().error()->kind(), ErrorKind::kCertificate);
}

TEST(ErrorKind, GarbageIsProtocolAndAnEarlyEndIsTransport) {
  Fixture f;
  auto server = Session::Create(f.Server(), {});
  ASSERT_TRUE(server.ok());
  const std::string junk(64, '*');
  server->Feed({reinterpret_cast<const uint8_t*>(junk.data()), junk.size()});
  ASSERT_TRUE(server->error());
  EXPECT_EQ(server->error()->kind(), ErrorKind::kProtocol) << server->error()->code;

  auto quiet = Session::Create(f.Server(), {});
  ASSERT_TRUE(quiet.ok());
  quiet->FeedEof();
  ASSERT_TRUE(quiet->error());
  EXPECT_EQ(quiet->error()->code, errc::kConnectionReset);
  EXPECT_EQ(quiet->error()->kind(), ErrorKind::kTransport);
}

TEST(ErrorKind, AnAnswerWithNothingPendingIsMisuse) {
  Fixture f;
  auto server = Session::Create(f.Server(), {});
  ASSERT_TRUE(server.ok());
  auto e = server->CompleteVerification(true);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kMisuse) << e->code;
}

TEST(ErrorKind, AnApplicationsVerificationCodeIsCertificate) {
  Fixture f;
  auto client_ctx = Context::Create(
      ClientContextOptions{.ca_pems = {f.pki.root.cert_pem}, .verify_callback = true});
  ASSERT_TRUE(client_ctx.ok()) << client_ctx.error().message;
  auto pair = Pair::Create(client_ctx.value(), f.Server(), {.servername = "localhost"});
  ASSERT_TRUE(pair.ok());
  (*pair)->Pump();
  ASSERT_TRUE((*pair)->client().verify_pending());
  EXPECT_EQ((*pair)->client().CompleteVerification(false, "ERR_PINNED_KEY_MISMATCH"), std::nullopt);
  (*pair)->Pump();
  ASSERT_TRUE((*pair)->client().error());
  EXPECT_EQ((*pair)->client().error()->code, "ERR_PINNED_KEY_MISMATCH");
  EXPECT_EQ((*pair)->client().error()->kind(), ErrorKind::kCertificate);
}

}  // namespace
}  // namespace sansio_tls
