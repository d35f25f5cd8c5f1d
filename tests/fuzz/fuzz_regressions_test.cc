// Bugs found by the fuzz targets, each pinned by a test that failed before its fix.
#include <gtest/gtest.h>

#include <string>

#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls {
namespace {

// fuzz/corpus/credentials/regress-nul-passphrase: BoringSSL decrypted a key encrypted with
// "pass" when given "pass\0", so a wrong passphrase loaded the key.
TEST(FuzzRegressions, PassphraseWithNulByteDoesNotDecryptTheKey) {
  testing::Cert cert = testing::MakeSelfSigned({});
  for (const std::string& wrong :
       {std::string("pass\0", 5), std::string("pass\0x", 6), std::string("\0pass", 5)}) {
    ServerContextOptions options;
    options.credentials = {testing::EncryptedKeyPem(cert, "pass"), wrong, cert.cert_pem};
    auto ctx = Context::Create(options);
    ASSERT_FALSE(ctx.ok()) << "passphrase of " << wrong.size() << " bytes loaded the key";
    EXPECT_EQ(ctx.error().code, "ERR_TLS_BAD_PASSPHRASE");
    EXPECT_EQ(ctx.error().message, "the passphrase contains a NUL byte");
  }
  ServerContextOptions right;
  right.credentials = {testing::EncryptedKeyPem(cert, "pass"), "pass", cert.cert_pem};
  EXPECT_TRUE(Context::Create(right).ok());
}

// The passphrase of an unencrypted key is ignored, NUL bytes included.
TEST(FuzzRegressions, PassphraseOfAnUnencryptedKeyIsIgnoredEvenWithNul) {
  testing::Cert cert = testing::MakeSelfSigned({});
  ServerContextOptions options;
  options.credentials = {cert.key_pem, std::string("a\0b", 3), cert.cert_pem};
  EXPECT_TRUE(Context::Create(options).ok());
}

// fuzz/corpus/credentials/regress-pfx-passphrase-not-utf8: a passphrase that is not UTF-8
// cannot open a PKCS#12 (BoringSSL converts it to BMPString); it was reported as an
// unreadable bundle (ERR_TLS_INVALID_PFX) instead of a bad passphrase.
TEST(FuzzRegressions, PfxPassphraseThatIsNotUtf8IsABadPassphrase) {
  testing::Cert cert = testing::MakeSelfSigned({});
  ServerContextOptions options;
  options.credentials.pfx = testing::MakePkcs12(cert, {}, "pass");
  options.credentials.passphrase = "pa\x80ss";
  auto ctx = Context::Create(options);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().code, "ERR_TLS_BAD_PASSPHRASE") << ctx.error().message;
  options.credentials.passphrase = "pass";
  EXPECT_TRUE(Context::Create(options).ok());
}

// fuzz/corpus/pair/regress-too-many-key-updates: KeyUpdate() called many times in a row
// made the peer's BoringSSL abort (TOO_MANY_KEY_UPDATES, more than 32 without application
// data). Now the 17th update in a row is refused and the connection stays up; data resets
// the count.
TEST(FuzzRegressions, KeyUpdatesInARowAreBoundedSoThePeerNeverAborts) {
  testing::TestPki pki = testing::MakeTestPki();
  ServerContextOptions server{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()}};
  ClientContextOptions client{.ca_pems = {pki.root.cert_pem}};
  auto pair = testing::Pair::Create(Context::Create(client).value(),
                                    Context::Create(server).value(), {.servername = "localhost"});
  ASSERT_TRUE(pair.ok());
  testing::Pair& p = *pair.value();
  ASSERT_TRUE(p.Handshake());
  for (int round = 0; round < 3; ++round) {
    for (testing::Side side : {testing::Side::kClient, testing::Side::kServer}) {
      for (int i = 0; i < 16; ++i) {
        EXPECT_FALSE(p.session(side).KeyUpdate(true)) << "update " << i;
        p.Pump();
      }
      std::optional<Error> refused = p.session(side).KeyUpdate(true);
      ASSERT_TRUE(refused);
      EXPECT_EQ(refused->code, "ERR_TLS_KEY_UPDATE");
    }
    ASSERT_FALSE(p.client().failed()) << p.EventSummary(testing::Side::kClient);
    ASSERT_FALSE(p.server().failed()) << p.EventSummary(testing::Side::kServer);
    p.Write(testing::Side::kClient, "ping");
    p.Write(testing::Side::kServer, "pong");
    p.Pump();
  }
  EXPECT_EQ(p.received(testing::Side::kServer), "pingpingping");
  EXPECT_EQ(p.received(testing::Side::kClient), "pongpongpong");
}

// fuzz/corpus/pair/regress-pump-leaves-output: reading can make a session write (here the
// server answers a KeyUpdate it had held behind a full receive buffer). Pair::Pump stopped
// as soon as no byte moved, even when its own reads had just produced output, so that
// output was never delivered.
TEST(FuzzRegressions, PumpDeliversOutputProducedWhileReading) {
  testing::TestPki pki = testing::MakeTestPki();
  ServerContextOptions server{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()}};
  ClientContextOptions client{.ca_pems = {pki.root.cert_pem}};
  auto pair =
      testing::Pair::Create(Context::Create(client).value(), Context::Create(server).value(),
                            {.servername = "localhost"}, {.max_read_buffer = 1024});
  ASSERT_TRUE(pair.ok());
  testing::Pair& p = *pair.value();
  ASSERT_TRUE(p.Handshake());
  p.set_auto_read(false);
  p.Write(testing::Side::kClient, std::string(8192, 'x'));
  ASSERT_FALSE(p.client().KeyUpdate(/*request_peer=*/true));
  p.Pump();  // the server holds the KeyUpdate behind 1 KiB of unread plaintext
  p.set_auto_read(true);
  p.Pump();
  EXPECT_EQ(p.received(testing::Side::kServer), std::string(8192, 'x'));
  EXPECT_EQ(p.server().pending_output_bytes(), 0u)
      << "the server's KeyUpdate reply was not delivered";
  EXPECT_EQ(p.client().pending_output_bytes(), 0u);
  EXPECT_FALSE(p.client().failed());
  EXPECT_FALSE(p.server().failed());
}

}  // namespace
}  // namespace sansio_tls
