// Credentials and trust, as Context::Create loads them: every key type, encrypted PEM keys,
// chains, PKCS#12, several CAs, CRLs and the system bundle work in a handshake; every
// loading failure is a clear Error of Create naming what was wrong.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pkcs8.h>
#include <openssl/ssl.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "tests/certs/certs_test_util.h"

namespace sansio_tls::certs_test {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good());
}

// A PKCS#12 built directly (the factory always pairs a key with its certificate).
std::vector<uint8_t> RawPkcs12(EVP_PKEY* key, const Cert* cert,
                               const std::vector<const Cert*>& extra, const char* passphrase) {
  bssl::UniquePtr<X509> x509;
  if (cert) x509 = testing::ToX509(*cert);
  bssl::UniquePtr<STACK_OF(X509)> ca(sk_X509_new_null());  // owns its certificates
  for (const Cert* c : extra) sk_X509_push(ca.get(), testing::ToX509(*c).release());
  bssl::UniquePtr<PKCS12> p12(
      PKCS12_create(passphrase, "test", key, x509.get(), ca.get(), 0, 0, 0, 0, 0));
  EXPECT_TRUE(p12);
  uint8_t* der = nullptr;
  int len = i2d_PKCS12(p12.get(), &der);
  EXPECT_GT(len, 0);
  std::vector<uint8_t> out(der, der + len);
  OPENSSL_free(der);
  ERR_clear_error();
  return out;
}

// ---- Credentials that work ------------------------------------------------------------

struct KeyCase {
  const char* name;
  KeyType type;
  TlsVersion version;
};

const KeyCase kKeyCases[] = {
    {"EcdsaP256Tls13", KeyType::kEcdsaP256, TlsVersion::kTls13},
    {"EcdsaP256Tls12", KeyType::kEcdsaP256, TlsVersion::kTls12},
    {"EcdsaP384Tls13", KeyType::kEcdsaP384, TlsVersion::kTls13},
    {"EcdsaP384Tls12", KeyType::kEcdsaP384, TlsVersion::kTls12},
    {"Rsa2048Tls13", KeyType::kRsa2048, TlsVersion::kTls13},
    {"Rsa2048Tls12", KeyType::kRsa2048, TlsVersion::kTls12},
    {"Ed25519Tls13", KeyType::kEd25519, TlsVersion::kTls13},
    {"Ed25519Tls12", KeyType::kEd25519, TlsVersion::kTls12},
};

class KeyTypes : public ::testing::TestWithParam<KeyCase> {};

TEST_P(KeyTypes, AuthenticateBothSides) {
  const KeyCase& c = GetParam();
  Pki pki(std::string("keys ") + c.name, c.type, 80);
  auto server = MustCreate(ServerContextOptions{.credentials = pki.CredentialsFor(pki.Server()),
                                                .ca_pems = {pki.root.cert_pem},
                                                .min_version = c.version,
                                                .max_version = c.version,
                                                .request_cert = true});
  auto client = MustCreate(ClientContextOptions{.credentials = pki.CredentialsFor(pki.Client()),
                                                .ca_pems = {pki.root.cert_pem},
                                                .min_version = c.version,
                                                .max_version = c.version});
  auto pair = MustPair(client, server);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_TRUE(pair->client().authorized()) << pair->client().authorization_error();
  EXPECT_TRUE(pair->server().authorized()) << pair->server().authorization_error();
}

INSTANTIATE_TEST_SUITE_P(All, KeyTypes, ::testing::ValuesIn(kKeyCases),
                         [](const ::testing::TestParamInfo<KeyCase>& info) {
                           return std::string(info.param.name);
                         });

// The server presents |credentials|; a client trusting |pki|'s root checks it.
void ExpectServes(const Credentials& credentials, const Pki& pki, const Cert& leaf,
                  std::vector<std::string> ca_pems = {}) {
  if (ca_pems.empty()) ca_pems = {pki.root.cert_pem};
  auto server = MustCreate(ServerContextOptions{.credentials = credentials});
  ASSERT_TRUE(server);
  auto pair = MustPair(MustCreate(ClientContextOptions{.ca_pems = ca_pems}), server);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_TRUE(pair->client().authorized()) << pair->client().authorization_error();
  ASSERT_TRUE(pair->client().peer_certificate().has_value());
  EXPECT_EQ(pair->client().peer_certificate()->raw, leaf.der);
}

TEST(Credentials, EncryptedPemKeyWithItsPassphrase) {
  Pki pki("encrypted");
  Cert leaf = pki.Server();
  ExpectServes({.key_pem = testing::EncryptedKeyPem(leaf, "correct horse"),
                .passphrase = "correct horse",
                .cert_chain_pem = pki.Chain(leaf)},
               pki, leaf);
}

TEST(Credentials, Pkcs12WithPassphraseServesItsWholeChain) {
  Pki pki("pfx");
  Cert leaf = pki.Server();
  // The client trusts only the root: the intermediate must come from the pfx.
  ExpectServes(
      {.passphrase = "pfx pass", .pfx = testing::MakePkcs12(leaf, {pki.intermediate}, "pfx pass")},
      pki, leaf);
}

TEST(Credentials, Pkcs12WithoutPassphrase) {
  Pki pki("pfx open");
  Cert leaf = pki.Server();
  ExpectServes({.pfx = testing::MakePkcs12(leaf, {pki.intermediate}, "")}, pki, leaf);
}

TEST(Credentials, Pkcs12LeafIsFoundWhereverItSits) {
  Pki pki("pfx order");
  Cert leaf = pki.Server();
  auto pfx = RawPkcs12(leaf.key.get(), nullptr, {&pki.intermediate, &leaf}, "pw");
  ExpectServes({.passphrase = "pw", .pfx = pfx}, pki, leaf);
}

TEST(Credentials, Pkcs12ForAClientCertificate) {
  Pki pki("pfx client");
  Cert client_leaf = pki.Client();
  auto server = MustCreate(ServerContextOptions{.credentials = pki.CredentialsFor(pki.Server()),
                                                .ca_pems = {pki.root.cert_pem},
                                                .request_cert = true});
  auto client = MustCreate(ClientContextOptions{
      .credentials = {.passphrase = "c",
                      .pfx = testing::MakePkcs12(client_leaf, {pki.intermediate}, "c")},
      .ca_pems = {pki.root.cert_pem}});
  auto pair = MustPair(client, server);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_TRUE(pair->server().authorized()) << pair->server().authorization_error();
  EXPECT_EQ(pair->server().peer_certificate()->raw, client_leaf.der);
}

TEST(Credentials, AContextKeepsNoSecretAndShowsThePfxChain) {
  Pki pki("secrets");
  Cert leaf = pki.Server();
  auto ctx = MustCreate(ServerContextOptions{
      .credentials = {.passphrase = "s",
                      .pfx = testing::MakePkcs12(leaf, {pki.intermediate}, "s")}});
  ASSERT_TRUE(ctx);
  const Credentials kept = ctx->server_options()->credentials;
  EXPECT_TRUE(kept.pfx.empty());
  EXPECT_TRUE(kept.passphrase.empty());
  EXPECT_TRUE(kept.key_pem.empty());
  EXPECT_EQ(kept.cert_chain_pem, leaf.cert_pem + pki.intermediate.cert_pem);
}

TEST(Credentials, SniContextsWithDifferentPkcs12ServeTheirOwnLeaves) {
  Pki pki("sni pfx");
  Cert a = pki.Server("a.example"), b = pki.Server("b.example");
  auto server = MustCreate(ServerContextOptions{
      .credentials = pki.CredentialsFor(pki.Server()),
      .sni_contexts = {{.pattern = "a.example",
                        .credentials = {.passphrase = "p",
                                        .pfx = testing::MakePkcs12(a, {pki.intermediate}, "p")}},
                       {.pattern = "b.example",
                        .credentials = {.passphrase = "p",
                                        .pfx = testing::MakePkcs12(b, {pki.intermediate}, "p")}}}});
  auto client = MustCreate(ClientContextOptions{.ca_pems = {pki.root.cert_pem}});
  for (const auto& [name, leaf] :
       {std::pair<std::string, const Cert*>{"a.example", &a}, {"b.example", &b}}) {
    auto pair = MustPair(client, server, {.servername = name});
    ASSERT_TRUE(pair->Handshake()) << name << " " << Summary(*pair);
    EXPECT_TRUE(pair->client().authorized()) << name;
    EXPECT_EQ(pair->client().peer_certificate()->raw, leaf->der) << name;
  }
}

TEST(Trust, SeveralCaPemsAndBundlesInOneString) {
  Pki pki("several cas");
  Pki stranger("several cas stranger", KeyType::kEcdsaP256, 50);
  Cert leaf = pki.Server();
  ExpectServes(pki.CredentialsFor(leaf), pki, leaf, {stranger.root.cert_pem, pki.root.cert_pem});
  ExpectServes(pki.CredentialsFor(leaf), pki, leaf, {stranger.root.cert_pem + pki.root.cert_pem});
}

TEST(Trust, CrlsFromTheWholeChainAuthorizeAGoodCertificate) {
  Pki pki("crl good");
  Cert leaf = pki.Server();
  auto server = MustCreate(ServerContextOptions{.credentials = pki.CredentialsFor(leaf)});
  auto client = MustCreate(
      ClientContextOptions{.ca_pems = {pki.root.cert_pem}, .crl_pems = pki.Crls({pki.Server()})});
  auto pair = MustPair(client, server);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_TRUE(pair->client().authorized());
  // Several CRLs in one string work too.
  std::vector<std::string> crls = pki.Crls({leaf});
  auto revoked = MustPair(MustCreate(ClientContextOptions{.ca_pems = {pki.root.cert_pem},
                                                          .crl_pems = {crls[0] + crls[1]}}),
                          server);
  revoked->Pump();
  ASSERT_TRUE(revoked->client().failed());
  EXPECT_EQ(revoked->client().error()->code, "CERT_REVOKED");
}

TEST(Trust, SystemBundleFromAFile) {
  Pki pki("system bundle");
  Cert leaf = pki.Server();
  std::string path = TempPath("system_bundle.pem");
  WriteFile(path, pki.root.cert_pem);
  auto server = MustCreate(ServerContextOptions{.credentials = pki.CredentialsFor(leaf)});
  auto client = MustCreate(ClientContextOptions{.use_system_ca = true, .system_ca_file = path});
  auto pair = MustPair(client, server);
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
  EXPECT_TRUE(pair->client().authorized());
  // Without the option the same file is not read.
  auto without = MustPair(MustCreate(ClientContextOptions{.system_ca_file = path}), server);
  without->Pump();
  EXPECT_TRUE(without->client().failed());
}

TEST(Trust, SystemBundleChangesAreSeenByLaterContexts) {
  Pki pki("system bundle v2");
  Pki stranger("system bundle stranger", KeyType::kEcdsaP256, 50);
  Cert leaf = pki.Server();
  std::string path = TempPath("system_bundle_v2.pem");
  auto server = MustCreate(ServerContextOptions{.credentials = pki.CredentialsFor(leaf)});
  WriteFile(path, stranger.root.cert_pem);
  auto before = MustPair(
      MustCreate(ClientContextOptions{.use_system_ca = true, .system_ca_file = path}), server);
  before->Pump();
  ASSERT_TRUE(before->client().failed());
  WriteFile(path, stranger.root.cert_pem + pki.root.cert_pem);
  auto after = MustPair(
      MustCreate(ClientContextOptions{.use_system_ca = true, .system_ca_file = path}), server);
  ASSERT_TRUE(after->Handshake()) << Summary(*after);
}

TEST(Trust, DebiansBundleLoadsAndDoesNotTrustOurTestRoot) {
  const std::string debian = ClientContextOptions{}.system_ca_file;
  EXPECT_EQ(ServerContextOptions{}.system_ca_file, debian);
  if (!std::filesystem::exists(debian)) GTEST_SKIP() << debian << " is not installed";
  Pki pki("not public");
  auto client = MustCreate(ClientContextOptions{.use_system_ca = true});
  ASSERT_TRUE(client);
  auto pair = MustPair(
      client, MustCreate(ServerContextOptions{.credentials = pki.CredentialsFor(pki.Server())}));
  pair->Pump();
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
}

// ---- Loading errors -----------------------------------------------------------------------

struct ErrorCase {
  const char* name;
  std::function<void(ServerContextOptions&, const Pki&)> edit;  // on a valid server configuration
  const char* code;
  const char* message_part;  // the message names what was wrong
};

std::string MalformedCertificatePem() {
  return "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
}

const ErrorCase kErrorCases[] = {
    {"KeyIsNotPem", [](auto& o, const Pki&) { o.credentials.key_pem = "not a key"; },
     "ERR_TLS_INVALID_KEY", "private key"},
    {"KeyIsTruncated",
     [](auto& o, const Pki&) { o.credentials.key_pem.resize(o.credentials.key_pem.size() / 2); },
     "ERR_TLS_INVALID_KEY", "private key"},
    {"WrongPassphrase",
     [](auto& o, const Pki& pki) {
       o.credentials.key_pem = testing::EncryptedKeyPem(pki.Server(), "right");
       o.credentials.passphrase = "wrong";
     },
     "ERR_TLS_BAD_PASSPHRASE", "passphrase"},
    {"MissingPassphrase",
     [](auto& o, const Pki& pki) {
       o.credentials.key_pem = testing::EncryptedKeyPem(pki.Server(), "right");
     },
     "ERR_TLS_BAD_PASSPHRASE", "no passphrase"},
    {"KeyDoesNotMatchCertificate",
     [](auto& o, const Pki& pki) { o.credentials.key_pem = pki.intermediate.key_pem; },
     "ERR_TLS_KEY_MISMATCH", "does not match"},
    {"EmptyChain", [](auto& o, const Pki&) { o.credentials.cert_chain_pem = "\n"; },
     "ERR_TLS_INVALID_PEM", "no certificate"},
    {"ChainHoldsOnlyAKey",
     [](auto& o, const Pki&) { o.credentials.cert_chain_pem = o.credentials.key_pem; },
     "ERR_TLS_INVALID_PEM", "no certificate"},
    {"MalformedCertificate",
     [](auto& o, const Pki&) { o.credentials.cert_chain_pem = MalformedCertificatePem(); },
     "ERR_TLS_INVALID_PEM", "certificate"},
    {"MalformedIntermediate",
     [](auto& o, const Pki&) { o.credentials.cert_chain_pem += MalformedCertificatePem(); },
     "ERR_TLS_INVALID_PEM", "after 2 certificate"},
    {"KeyWithoutCertificate", [](auto& o, const Pki&) { o.credentials.cert_chain_pem.clear(); },
     "ERR_TLS_INVALID_CREDENTIALS", "without a certificate"},
    {"CertificateWithoutKey", [](auto& o, const Pki&) { o.credentials.key_pem.clear(); },
     "ERR_TLS_INVALID_CREDENTIALS", "without its private key"},
    {"ServerWithoutCredentials", [](auto& o, const Pki&) { o.credentials = {}; },
     "ERR_TLS_MISSING_CERTIFICATE", "certificate"},
    {"PfxIsGarbage",
     [](auto& o, const Pki&) {
       o.credentials = {.pfx = {0x30, 0x03, 0x02, 0x01, 0x03}};
     },
     "ERR_TLS_INVALID_PFX", "PKCS#12"},
    {"PfxIsTruncated",
     [](auto& o, const Pki& pki) {
       auto pfx = testing::MakePkcs12(pki.Server(), {}, "p");
       pfx.resize(pfx.size() / 2);
       o.credentials = {.passphrase = "p", .pfx = pfx};
     },
     "ERR_TLS_INVALID_PFX", "PKCS#12"},
    {"PfxWrongPassphrase",
     [](auto& o, const Pki& pki) {
       o.credentials = {.passphrase = "wrong",
                        .pfx = testing::MakePkcs12(pki.Server(), {}, "right")};
     },
     "ERR_TLS_BAD_PASSPHRASE", "does not open"},
    {"PfxMissingPassphrase",
     [](auto& o, const Pki& pki) {
       o.credentials = {.pfx = testing::MakePkcs12(pki.Server(), {}, "right")};
     },
     "ERR_TLS_BAD_PASSPHRASE", "none was given"},
    {"PfxPassphraseWithNul",
     [](auto& o, const Pki& pki) {
       o.credentials = {.passphrase = std::string("a\0b", 3),
                        .pfx = testing::MakePkcs12(pki.Server(), {}, "a")};
     },
     "ERR_TLS_BAD_PASSPHRASE", "NUL"},
    {"PfxWithoutKey",
     [](auto& o, const Pki& pki) {
       Cert leaf = pki.Server();
       o.credentials = {.passphrase = "p", .pfx = RawPkcs12(nullptr, &leaf, {}, "p")};
     },
     "ERR_TLS_INVALID_PFX", "no private key"},
    {"PfxWithoutCertificate",
     [](auto& o, const Pki& pki) {
       o.credentials = {.passphrase = "p",
                        .pfx = RawPkcs12(pki.Server().key.get(), nullptr, {}, "p")};
     },
     "ERR_TLS_INVALID_PFX", "no certificate"},
    {"PfxKeyMatchesNoCertificate",
     [](auto& o, const Pki& pki) {
       o.credentials = {
           .passphrase = "p",
           .pfx = RawPkcs12(pki.Server().key.get(), nullptr, {&pki.intermediate}, "p")};
     },
     "ERR_TLS_KEY_MISMATCH", "matches"},
    {"PfxAndPemTogether",
     [](auto& o, const Pki& pki) { o.credentials.pfx = testing::MakePkcs12(pki.Server(), {}, ""); },
     "ERR_TLS_INVALID_CREDENTIALS", "either pfx"},
    {"CaIsNotPem", [](auto& o, const Pki&) { o.ca_pems = {"not a certificate"}; },
     "ERR_TLS_INVALID_CA", "ca[0]"},
    {"SecondCaMalformed",
     [](auto& o, const Pki& pki) {
       o.ca_pems = {pki.root.cert_pem, MalformedCertificatePem()};
     },
     "ERR_TLS_INVALID_CA", "ca[1]"},
    {"CrlIsNotPem", [](auto& o, const Pki&) { o.crl_pems = {"not a CRL"}; }, "ERR_TLS_INVALID_CRL",
     "crl[0]"},
    {"CrlIsACertificate", [](auto& o, const Pki& pki) { o.crl_pems = {pki.root.cert_pem}; },
     "ERR_TLS_INVALID_CRL", "no X509 CRL"},
    {"SecondCrlMalformed",
     [](auto& o, const Pki& pki) {
       o.crl_pems = {testing::MakeCrlPem(pki.root, {}),
                     "-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n"};
     },
     "ERR_TLS_INVALID_CRL", "crl[1]"},
    {"SystemBundleMissing",
     [](auto& o, const Pki&) {
       o.use_system_ca = true;
       o.system_ca_file = "/nonexistent/certs/bundle.pem";
     },
     "ERR_TLS_INVALID_CA", "/nonexistent/certs/bundle.pem"},
    {"SystemBundleEmpty",
     [](auto& o, const Pki&) {
       o.use_system_ca = true;
       o.system_ca_file = TempPath("empty_bundle.pem");
       WriteFile(o.system_ca_file, "");
     },
     "ERR_TLS_INVALID_CA", "no certificate"},
    {"SystemBundleMalformed",
     [](auto& o, const Pki&) {
       o.use_system_ca = true;
       o.system_ca_file = TempPath("malformed_bundle.pem");
       WriteFile(o.system_ca_file, MalformedCertificatePem());
     },
     "ERR_TLS_INVALID_CA", "malformed"},
    {"SniContextWithBadPfx",
     [](auto& o, const Pki&) {
       o.sni_contexts = {{.pattern = "a.example", .credentials = {.pfx = {1, 2, 3}}}};
     },
     "ERR_TLS_INVALID_PFX", "sni_contexts[0]"},
};

class LoadingErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(LoadingErrors, AreClearErrorsOfCreate) {
  const ErrorCase& c = GetParam();
  static const Pki pki("errors");
  Cert leaf = pki.Server();
  ServerContextOptions options{.credentials = pki.CredentialsFor(leaf)};
  c.edit(options, pki);
  auto ctx = Context::Create(options);
  ASSERT_FALSE(ctx.ok()) << "built a context";
  EXPECT_EQ(ctx.error().code, c.code) << ctx.error().message;
  EXPECT_NE(ctx.error().message.find(c.message_part), std::string::npos) << ctx.error().message;
  EXPECT_EQ(ERR_peek_error(), 0u) << "BoringSSL's error queue is left clean";
}

INSTANTIATE_TEST_SUITE_P(All, LoadingErrors, ::testing::ValuesIn(kErrorCases),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace sansio_tls::certs_test
