#include "core/testing/cert_factory.h"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/pkcs8.h>
#include <openssl/stack.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace sansio_tls::testing {
namespace {

constexpr int64_t kDay = 24 * 60 * 60;

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

std::vector<uint8_t> Bytes(const ASN1_STRING* str) {
  const uint8_t* data = ASN1_STRING_get0_data(str);
  return std::vector<uint8_t>(data, data + ASN1_STRING_length(str));
}

std::string Text(const ASN1_STRING* str) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(str)),
                     ASN1_STRING_length(str));
}

std::vector<uint8_t> IntegerBytes(const ASN1_INTEGER* integer) {
  bssl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(integer, nullptr));
  std::vector<uint8_t> out(BN_num_bytes(bn.get()));
  BN_bn2bin(bn.get(), out.data());
  return out;
}

bssl::UniquePtr<BIO> MemBio(const std::string& s) {
  return bssl::UniquePtr<BIO>(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

struct VerifyOptions {
  std::vector<Cert> trusted = {};
  std::vector<Cert> untrusted = {};
  std::string crl_pem = {};  // when set, the leaf is checked against it
  int purpose = 0;           // X509_PURPOSE_*, 0 = none
  std::string host = {};     // expected host name, empty = none
};

// Runs X509_verify_cert at the current time; returns X509_V_OK or the error.
int VerifyError(const Cert& leaf, const VerifyOptions& options) {
  bssl::UniquePtr<X509_STORE> store(X509_STORE_new());
  for (const Cert& cert : options.trusted) {
    EXPECT_TRUE(X509_STORE_add_cert(store.get(), ToX509(cert).get()));
  }
  if (!options.crl_pem.empty()) {
    bssl::UniquePtr<BIO> bio = MemBio(options.crl_pem);
    bssl::UniquePtr<X509_CRL> crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    EXPECT_NE(crl, nullptr);
    EXPECT_TRUE(X509_STORE_add_crl(store.get(), crl.get()));
    X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK);
  }
  bssl::UniquePtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  for (const Cert& cert : options.untrusted) {
    EXPECT_TRUE(bssl::PushToStack(untrusted.get(), ToX509(cert)));
  }
  bssl::UniquePtr<X509> leaf_x509 = ToX509(leaf);
  bssl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  EXPECT_TRUE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf_x509.get(), untrusted.get()));
  if (options.purpose != 0) {
    EXPECT_TRUE(X509_STORE_CTX_set_purpose(ctx.get(), options.purpose));
  }
  if (!options.host.empty()) {
    EXPECT_TRUE(X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx.get()),
                                            options.host.data(), options.host.size()));
  }
  const int ok = X509_verify_cert(ctx.get());
  const int error = X509_STORE_CTX_get_error(ctx.get());
  EXPECT_EQ(ok == 1, error == X509_V_OK) << X509_verify_cert_error_string(error);
  ERR_clear_error();
  return error;
}

// Reads |x509|'s subjectAltName back as (type, text) pairs; IPs as raw bytes.
std::vector<std::pair<int, std::string>> SubjectAltNames(const X509* x509, int* critical) {
  std::vector<std::pair<int, std::string>> out;
  bssl::UniquePtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x509, NID_subject_alt_name, critical, nullptr)));
  if (!names) return out;
  for (const GENERAL_NAME* name : names.get()) {
    int type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    out.emplace_back(type, Text(value));
  }
  return out;
}

std::string IpBytes(std::initializer_list<uint8_t> bytes) {
  return std::string(bytes.begin(), bytes.end());
}

int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* userdata) {
  const auto* passphrase = static_cast<const std::string*>(userdata);
  if (static_cast<int>(passphrase->size()) > size) return 0;
  std::memcpy(buf, passphrase->data(), passphrase->size());
  return static_cast<int>(passphrase->size());
}

bssl::UniquePtr<EVP_PKEY> ReadKey(const std::string& pem, std::string passphrase) {
  bssl::UniquePtr<BIO> bio = MemBio(pem);
  bssl::UniquePtr<EVP_PKEY> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, PassphraseCallback, &passphrase));
  ERR_clear_error();
  return key;
}

// --- Key types ---------------------------------------------------------------

class KeyTypeTest : public ::testing::TestWithParam<KeyType> {};

int ExpectedPkeyId(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256:
    case KeyType::kEcdsaP384:
      return EVP_PKEY_EC;
    case KeyType::kRsa2048:
      return EVP_PKEY_RSA;
    case KeyType::kEd25519:
      return EVP_PKEY_ED25519;
  }
  return -1;
}

int ExpectedBits(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256:
      return 256;
    case KeyType::kEcdsaP384:
      return 384;
    case KeyType::kRsa2048:
      return 2048;
    case KeyType::kEd25519:
      return 253;
  }
  return -1;
}

TEST_P(KeyTypeTest, SelfSignedCertHasKeyOfThatTypeAndVerifies) {
  CertSpec spec;
  spec.key_type = GetParam();
  const Cert cert = MakeSelfSigned(spec);
  ASSERT_NE(cert.key, nullptr);
  EXPECT_EQ(EVP_PKEY_id(cert.key.get()), ExpectedPkeyId(GetParam()));
  EXPECT_EQ(EVP_PKEY_bits(cert.key.get()), ExpectedBits(GetParam()));

  bssl::UniquePtr<X509> x509 = ToX509(cert);
  bssl::UniquePtr<EVP_PKEY> pub(X509_get_pubkey(x509.get()));
  EXPECT_EQ(EVP_PKEY_cmp(pub.get(), cert.key.get()), 1);
  EXPECT_EQ(X509_verify(x509.get(), pub.get()), 1);

  // The unencrypted PKCS#8 PEM reads back as the same key.
  EXPECT_NE(cert.key_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  bssl::UniquePtr<EVP_PKEY> parsed = ReadKey(cert.key_pem, "");
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(EVP_PKEY_cmp(parsed.get(), cert.key.get()), 1);

  // Trusted directly, a self-signed leaf verifies; untrusted, it does not.
  EXPECT_EQ(VerifyError(cert, {.trusted = {cert}}), X509_V_OK);
  EXPECT_EQ(VerifyError(cert, {}), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
}

TEST_P(KeyTypeTest, TestPkiChainVerifies) {
  const TestPki pki = MakeTestPki(GetParam());
  EXPECT_EQ(EVP_PKEY_id(pki.server.key.get()), ExpectedPkeyId(GetParam()));
  EXPECT_EQ(VerifyError(pki.server, {.trusted = {pki.root},
                                     .untrusted = {pki.intermediate},
                                     .purpose = X509_PURPOSE_SSL_SERVER,
                                     .host = "localhost"}),
            X509_V_OK);
  EXPECT_EQ(VerifyError(pki.client, {.trusted = {pki.root},
                                     .untrusted = {pki.intermediate},
                                     .purpose = X509_PURPOSE_SSL_CLIENT}),
            X509_V_OK);
  // EKUs are enforced: the client cert is no server cert, and vice versa.
  EXPECT_EQ(VerifyError(pki.client, {.trusted = {pki.root},
                                     .untrusted = {pki.intermediate},
                                     .purpose = X509_PURPOSE_SSL_SERVER}),
            X509_V_ERR_INVALID_PURPOSE);
  EXPECT_EQ(VerifyError(pki.server, {.trusted = {pki.root},
                                     .untrusted = {pki.intermediate},
                                     .purpose = X509_PURPOSE_SSL_CLIENT}),
            X509_V_ERR_INVALID_PURPOSE);
  // Missing intermediate, wrong host.
  EXPECT_EQ(VerifyError(pki.server, {.trusted = {pki.root}}),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_EQ(
      VerifyError(pki.server,
                  {.trusted = {pki.root}, .untrusted = {pki.intermediate}, .host = "example.com"}),
      X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST_P(KeyTypeTest, CrlSignedByKeyVerifies) {
  const TestPki pki = MakeTestPki(GetParam());
  const std::string pem = MakeCrlPem(pki.intermediate, {pki.server.serial});
  bssl::UniquePtr<BIO> bio = MemBio(pem);
  bssl::UniquePtr<X509_CRL> crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_NE(crl, nullptr);
  EXPECT_EQ(X509_CRL_verify(crl.get(), pki.intermediate.key.get()), 1);
}

INSTANTIATE_TEST_SUITE_P(AllKeyTypes, KeyTypeTest,
                         ::testing::Values(KeyType::kEcdsaP256, KeyType::kEcdsaP384,
                                           KeyType::kRsa2048, KeyType::kEd25519),
                         [](const ::testing::TestParamInfo<KeyType>& param_info) {
                           switch (param_info.param) {
                             case KeyType::kEcdsaP256:
                               return "EcdsaP256";
                             case KeyType::kEcdsaP384:
                               return "EcdsaP384";
                             case KeyType::kRsa2048:
                               return "Rsa2048";
                             case KeyType::kEd25519:
                               return "Ed25519";
                           }
                           return "Unknown";
                         });

// --- Keys --------------------------------------------------------------------

TEST(CachedKeyTest, SameKeyPerTypeAndSlot) {
  const auto a = CachedKey(KeyType::kEcdsaP256);
  const auto b = CachedKey(KeyType::kEcdsaP256, 0);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(CachedKey(KeyType::kEcdsaP256, 1).get(), a.get());
  EXPECT_NE(CachedKey(KeyType::kEcdsaP384, 0).get(), a.get());
  EXPECT_NE(EVP_PKEY_cmp(GenerateKey(KeyType::kEcdsaP256).get(), a.get()), 1);
}

TEST(CachedKeyTest, ThreadSafe) {
  constexpr int kThreads = 4;
  std::vector<std::shared_ptr<EVP_PKEY>> keys(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&keys, i] { keys[i] = CachedKey(KeyType::kEd25519, 42); });
  }
  for (auto& t : threads) t.join();
  for (const auto& key : keys) EXPECT_EQ(key.get(), keys[0].get());
}

// --- Certificate contents ----------------------------------------------------

TEST(CertFactoryTest, SubjectAltNamesReadBack) {
  CertSpec spec;
  spec.dns_names = {"example.com", "*.example.com"};
  spec.ip_addresses = {"192.0.2.7", "2001:db8::1"};
  spec.emails = {"user@example.com"};
  spec.uris = {"spiffe://example.com/service"};
  const Cert cert = MakeSelfSigned(spec);
  bssl::UniquePtr<X509> x509 = ToX509(cert);

  int critical = -1;
  const auto names = SubjectAltNames(x509.get(), &critical);
  EXPECT_EQ(critical, 0);
  const std::vector<std::pair<int, std::string>> expected = {
      {GEN_DNS, "example.com"},
      {GEN_DNS, "*.example.com"},
      {GEN_IPADD, IpBytes({192, 0, 2, 7})},
      {GEN_IPADD, IpBytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})},
      {GEN_EMAIL, "user@example.com"},
      {GEN_URI, "spiffe://example.com/service"},
  };
  EXPECT_EQ(names, expected);

  // BoringSSL's own matchers agree, wildcard included.
  EXPECT_EQ(X509_check_host(x509.get(), "www.example.com", 15, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(x509.get(), "a.b.example.com", 15, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(x509.get(), "2001:db8::1", 0), 1);
  EXPECT_EQ(X509_check_email(x509.get(), "user@example.com", 16, 0), 1);
}

TEST(CertFactoryTest, NoSanExtensionWithoutNamesAndCriticalWithEmptySubject) {
  const Cert plain = MakeSelfSigned({});
  int critical = -1;
  EXPECT_TRUE(SubjectAltNames(ToX509(plain).get(), &critical).empty());
  EXPECT_EQ(critical, -1);  // absent

  CertSpec spec;
  spec.subject = {};
  spec.dns_names = {"only-san.example"};
  const Cert cert = MakeSelfSigned(spec);
  bssl::UniquePtr<X509> x509 = ToX509(cert);
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(x509.get())), 0);
  EXPECT_EQ(SubjectAltNames(x509.get(), &critical).size(), 1u);
  EXPECT_EQ(critical, 1);
}

TEST(CertFactoryTest, SubjectKeepsOrderRepeatsAndOids) {
  CertSpec spec;
  spec.subject = {{"C", "DE"},
                  {"O", "Example"},
                  {"OU", "One"},
                  {"OU", "Two"},
                  {"2.5.4.5", "SN-42"},  // serialNumber by OID
                  {"emailAddress", "ca@example.com"},
                  {"CN", "Zoë"}};
  const Cert cert = MakeSelfSigned(spec);
  bssl::UniquePtr<X509> x509 = ToX509(cert);
  const X509_NAME* name = X509_get_subject_name(x509.get());
  ASSERT_EQ(X509_NAME_entry_count(name), 7);
  const int nids[] = {NID_countryName,
                      NID_organizationName,
                      NID_organizationalUnitName,
                      NID_organizationalUnitName,
                      NID_serialNumber,
                      NID_pkcs9_emailAddress,
                      NID_commonName};
  for (int i = 0; i < 7; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    EXPECT_EQ(OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry)), nids[i]) << i;
    if (nids[i] == NID_commonName) {
      // Non-ASCII text is stored as UTF8String.
      EXPECT_EQ(ASN1_STRING_type(X509_NAME_ENTRY_get_data(entry)), V_ASN1_UTF8STRING);
    }
    EXPECT_EQ(Text(X509_NAME_ENTRY_get_data(entry)), spec.subject[i].second) << i;
  }
  // Self-signed: issuer == subject.
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(x509.get()), name), 0);
}

TEST(CertFactoryTest, ValidityReadsBack) {
  CertSpec spec;
  spec.not_before = 1'600'000'000;  // 2020-09-13, UTCTime
  spec.not_after = 2'900'000'000;   // 2061-11-24, GeneralizedTime
  bssl::UniquePtr<X509> x509 = ToX509(MakeSelfSigned(spec));
  EXPECT_EQ(ToUnixTime(X509_get0_notBefore(x509.get())), spec.not_before);
  EXPECT_EQ(ToUnixTime(X509_get0_notAfter(x509.get())), spec.not_after);

  const int64_t before = Now();
  bssl::UniquePtr<X509> defaults = ToX509(MakeSelfSigned({}));
  const int64_t after = Now();
  const int64_t not_before = ToUnixTime(X509_get0_notBefore(defaults.get()));
  const int64_t not_after = ToUnixTime(X509_get0_notAfter(defaults.get()));
  EXPECT_GE(not_before, before - 3600);
  EXPECT_LE(not_before, after - 3600);
  EXPECT_GE(not_after, before + 30 * kDay);
  EXPECT_LE(not_after, after + 30 * kDay);
}

TEST(CertFactoryTest, ExpiredAndNotYetValidFailVerification) {
  const TestPki pki = MakeTestPki();
  CertSpec spec;
  spec.dns_names = {"localhost"};
  spec.not_before = Now() - 10 * kDay;
  spec.not_after = Now() - kDay;
  const Cert expired = MakeSigned(spec, pki.intermediate);
  EXPECT_EQ(VerifyError(expired, {.trusted = {pki.root}, .untrusted = {pki.intermediate}}),
            X509_V_ERR_CERT_HAS_EXPIRED);

  spec.not_before = Now() + kDay;
  spec.not_after = Now() + 10 * kDay;
  const Cert future = MakeSigned(spec, pki.intermediate);
  EXPECT_EQ(VerifyError(future, {.trusted = {pki.root}, .untrusted = {pki.intermediate}}),
            X509_V_ERR_CERT_NOT_YET_VALID);
}

TEST(CertFactoryTest, CaExtensionsAndKeyIdentifiers) {
  const TestPki pki = MakeTestPki();
  bssl::UniquePtr<X509> root = ToX509(pki.root);
  bssl::UniquePtr<X509> intermediate = ToX509(pki.intermediate);
  bssl::UniquePtr<X509> server = ToX509(pki.server);

  int critical = -1;
  bssl::UniquePtr<BASIC_CONSTRAINTS> bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(intermediate.get(), NID_basic_constraints, &critical, nullptr)));
  ASSERT_NE(bc, nullptr);
  EXPECT_TRUE(bc->ca);
  EXPECT_EQ(critical, 1);
  EXPECT_EQ(X509_get_pathlen(intermediate.get()), 0);
  EXPECT_EQ(X509_get_pathlen(root.get()), -1);
  EXPECT_TRUE(X509_check_ca(root.get()));
  EXPECT_FALSE(X509_check_ca(server.get()));

  bssl::UniquePtr<ASN1_BIT_STRING> ku(static_cast<ASN1_BIT_STRING*>(
      X509_get_ext_d2i(root.get(), NID_key_usage, &critical, nullptr)));
  ASSERT_NE(ku, nullptr);
  EXPECT_EQ(critical, 1);
  EXPECT_TRUE(ASN1_BIT_STRING_get_bit(ku.get(), 5));   // keyCertSign
  EXPECT_TRUE(ASN1_BIT_STRING_get_bit(ku.get(), 6));   // cRLSign
  EXPECT_FALSE(ASN1_BIT_STRING_get_bit(ku.get(), 0));  // digitalSignature
  EXPECT_EQ(X509_get_ext_d2i(server.get(), NID_key_usage, &critical, nullptr), nullptr);

  // Each certificate's authorityKeyIdentifier is its issuer's subjectKeyIdentifier.
  auto akid_of = [](X509* x509) {
    bssl::UniquePtr<AUTHORITY_KEYID> akid(static_cast<AUTHORITY_KEYID*>(
        X509_get_ext_d2i(x509, NID_authority_key_identifier, nullptr, nullptr)));
    return akid && akid->keyid ? Bytes(akid->keyid) : std::vector<uint8_t>();
  };
  const ASN1_OCTET_STRING* root_skid = X509_get0_subject_key_id(root.get());
  const ASN1_OCTET_STRING* intermediate_skid = X509_get0_subject_key_id(intermediate.get());
  ASSERT_NE(root_skid, nullptr);
  ASSERT_NE(intermediate_skid, nullptr);
  ASSERT_NE(X509_get0_subject_key_id(server.get()), nullptr);
  EXPECT_EQ(Bytes(root_skid).size(), 20u);
  EXPECT_NE(Bytes(root_skid), Bytes(intermediate_skid));
  EXPECT_EQ(akid_of(root.get()), Bytes(root_skid));
  EXPECT_EQ(akid_of(intermediate.get()), Bytes(root_skid));
  EXPECT_EQ(akid_of(server.get()), Bytes(intermediate_skid));
  EXPECT_EQ(
      X509_NAME_cmp(X509_get_issuer_name(server.get()), X509_get_subject_name(intermediate.get())),
      0);
}

TEST(CertFactoryTest, PathLengthIsEnforced) {
  const TestPki pki = MakeTestPki();
  // The intermediate has pathlen 0, so a CA below it must not verify.
  CertSpec sub_ca;
  sub_ca.subject = {{"CN", "sub CA"}};
  sub_ca.is_ca = true;
  const Cert sub = MakeSigned(sub_ca, pki.intermediate);
  const Cert leaf = MakeSigned({}, sub);
  EXPECT_EQ(VerifyError(leaf, {.trusted = {pki.root}, .untrusted = {pki.intermediate, sub}}),
            X509_V_ERR_PATH_LENGTH_EXCEEDED);
}

TEST(CertFactoryTest, NonCaCannotIssue) {
  const TestPki pki = MakeTestPki();
  const Cert leaf = MakeSigned({}, pki.server);
  EXPECT_EQ(VerifyError(leaf, {.trusted = {pki.root}, .untrusted = {pki.intermediate, pki.server}}),
            X509_V_ERR_INVALID_CA);
}

TEST(CertFactoryTest, ExtKeyUsageAndAuthorityInfoAccessReadBack) {
  CertSpec spec;
  spec.ext_key_usage = {kServerAuth, kClientAuth, "1.3.6.1.5.5.7.3.9"};
  spec.ocsp_url = "http://ocsp.example.com/";
  spec.ca_issuers_url = "http://ca.example.com/ca.der";
  bssl::UniquePtr<X509> x509 = ToX509(MakeSelfSigned(spec));

  bssl::UniquePtr<EXTENDED_KEY_USAGE> eku(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(x509.get(), NID_ext_key_usage, nullptr, nullptr)));
  ASSERT_NE(eku, nullptr);
  ASSERT_EQ(sk_ASN1_OBJECT_num(eku.get()), 3u);
  EXPECT_EQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), 0)), NID_server_auth);
  EXPECT_EQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), 1)), NID_client_auth);
  EXPECT_EQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), 2)), NID_OCSP_sign);

  bssl::UniquePtr<AUTHORITY_INFO_ACCESS> aia(static_cast<AUTHORITY_INFO_ACCESS*>(
      X509_get_ext_d2i(x509.get(), NID_info_access, nullptr, nullptr)));
  ASSERT_NE(aia, nullptr);
  ASSERT_EQ(sk_ACCESS_DESCRIPTION_num(aia.get()), 2u);
  const ACCESS_DESCRIPTION* ocsp = sk_ACCESS_DESCRIPTION_value(aia.get(), 0);
  const ACCESS_DESCRIPTION* issuers = sk_ACCESS_DESCRIPTION_value(aia.get(), 1);
  EXPECT_EQ(OBJ_obj2nid(ocsp->method), NID_ad_OCSP);
  EXPECT_EQ(ocsp->location->type, GEN_URI);
  EXPECT_EQ(Text(ocsp->location->d.uniformResourceIdentifier), spec.ocsp_url);
  EXPECT_EQ(OBJ_obj2nid(issuers->method), NID_ad_ca_issuers);
  EXPECT_EQ(Text(issuers->location->d.uniformResourceIdentifier), spec.ca_issuers_url);

  // Neither extension without input.
  bssl::UniquePtr<X509> plain = ToX509(MakeSelfSigned({}));
  EXPECT_EQ(X509_get_ext_d2i(plain.get(), NID_ext_key_usage, nullptr, nullptr), nullptr);
  EXPECT_EQ(X509_get_ext_d2i(plain.get(), NID_info_access, nullptr, nullptr), nullptr);
}

TEST(CertFactoryTest, SerialNumbers) {
  CertSpec spec;
  spec.serial = {0x01, 0x02, 0x03, 0xff};
  const Cert explicit_serial = MakeSelfSigned(spec);
  EXPECT_EQ(explicit_serial.serial, spec.serial);
  EXPECT_EQ(IntegerBytes(X509_get0_serialNumber(ToX509(explicit_serial).get())), spec.serial);

  const Cert a = MakeSelfSigned({});
  const Cert b = MakeSelfSigned({});
  ASSERT_EQ(a.serial.size(), 16u);
  EXPECT_EQ(a.serial[0] & 0x80, 0);
  EXPECT_NE(a.serial[0], 0);
  EXPECT_NE(a.serial, b.serial);
  EXPECT_EQ(IntegerBytes(X509_get0_serialNumber(ToX509(a).get())), a.serial);
}

TEST(CertFactoryTest, PemMatchesDer) {
  const Cert cert = MakeSelfSigned({});
  bssl::UniquePtr<BIO> bio = MemBio(cert.cert_pem);
  bssl::UniquePtr<X509> x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_NE(x509, nullptr);
  EXPECT_EQ(X509_cmp(x509.get(), ToX509(cert).get()), 0);
  EXPECT_EQ(cert.cert_pem.rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
}

TEST(CertFactoryTest, ChainPems) {
  const TestPki pki = MakeTestPki();
  EXPECT_EQ(pki.server_chain_pem(), pki.server.cert_pem + pki.intermediate.cert_pem);
  EXPECT_EQ(pki.client_chain_pem(), pki.client.cert_pem + pki.intermediate.cert_pem);
  // Cached keys: the same identities across calls, fresh certificates.
  const TestPki again = MakeTestPki();
  EXPECT_EQ(again.server.key.get(), pki.server.key.get());
  EXPECT_NE(again.server.der, pki.server.der);
  bssl::UniquePtr<X509> client = ToX509(pki.client);
  const X509_NAME* name = X509_get_subject_name(client.get());
  const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  ASSERT_GE(index, 0);
  EXPECT_EQ(Text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index))), "client");
}

// --- Encrypted keys, PKCS#12, CRLs ------------------------------------------

TEST(CertFactoryTest, EncryptedKeyPem) {
  const Cert cert = MakeSelfSigned({});
  const std::string pem = EncryptedKeyPem(cert, "correct horse");
  EXPECT_EQ(pem.rfind("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 0), 0u);
  EXPECT_EQ(pem.find("BEGIN PRIVATE KEY"), std::string::npos);

  bssl::UniquePtr<EVP_PKEY> key = ReadKey(pem, "correct horse");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_cmp(key.get(), cert.key.get()), 1);
  EXPECT_EQ(ReadKey(pem, "wrong horse"), nullptr);
  EXPECT_EQ(ReadKey(pem, ""), nullptr);
}

TEST(CertFactoryTest, Pkcs12ParsesBack) {
  const TestPki pki = MakeTestPki();
  const std::vector<uint8_t> der =
      MakePkcs12(pki.server, {pki.intermediate, pki.root}, "p12 secret");

  // PKCS12_get_key_and_certs.
  {
    CBS cbs;
    CBS_init(&cbs, der.data(), der.size());
    EVP_PKEY* raw_key = nullptr;
    bssl::UniquePtr<STACK_OF(X509)> certs(sk_X509_new_null());
    ASSERT_TRUE(PKCS12_get_key_and_certs(&raw_key, certs.get(), &cbs, "p12 secret"));
    bssl::UniquePtr<EVP_PKEY> key(raw_key);
    EXPECT_EQ(EVP_PKEY_cmp(key.get(), pki.server.key.get()), 1);
    ASSERT_EQ(sk_X509_num(certs.get()), 3u);
    EXPECT_EQ(X509_cmp(sk_X509_value(certs.get(), 0), ToX509(pki.server).get()), 0);
  }
  // d2i_PKCS12 + PKCS12_parse.
  {
    const uint8_t* p = der.data();
    bssl::UniquePtr<PKCS12> p12(d2i_PKCS12(nullptr, &p, der.size()));
    ASSERT_NE(p12, nullptr);
    EXPECT_TRUE(PKCS12_verify_mac(p12.get(), "p12 secret", -1));
    EXPECT_FALSE(PKCS12_verify_mac(p12.get(), "nope", -1));
    EVP_PKEY* raw_key = nullptr;
    X509* raw_cert = nullptr;
    STACK_OF(X509)* raw_ca = nullptr;
    ASSERT_TRUE(PKCS12_parse(p12.get(), "p12 secret", &raw_key, &raw_cert, &raw_ca));
    bssl::UniquePtr<EVP_PKEY> key(raw_key);
    bssl::UniquePtr<X509> cert(raw_cert);
    bssl::UniquePtr<STACK_OF(X509)> ca(raw_ca);
    EXPECT_EQ(EVP_PKEY_cmp(key.get(), pki.server.key.get()), 1);
    EXPECT_EQ(X509_cmp(cert.get(), ToX509(pki.server).get()), 0);
    EXPECT_EQ(sk_X509_num(ca.get()), 2u);
  }
  // Wrong passphrase.
  {
    CBS cbs;
    CBS_init(&cbs, der.data(), der.size());
    EVP_PKEY* raw_key = nullptr;
    bssl::UniquePtr<STACK_OF(X509)> certs(sk_X509_new_null());
    EXPECT_FALSE(PKCS12_get_key_and_certs(&raw_key, certs.get(), &cbs, "wrong"));
    EXPECT_EQ(raw_key, nullptr);
    ERR_clear_error();
  }
}

TEST(CertFactoryTest, CrlListsSerialsAndRevokes) {
  const TestPki pki = MakeTestPki();
  const std::vector<uint8_t> other = {0x12, 0x34};
  const int64_t this_update = Now() - 2 * 3600;
  const int64_t next_update = Now() + 3 * kDay;
  const std::string pem =
      MakeCrlPem(pki.intermediate, {pki.server.serial, other}, this_update, next_update);
  EXPECT_EQ(pem.rfind("-----BEGIN X509 CRL-----\n", 0), 0u);

  bssl::UniquePtr<BIO> bio = MemBio(pem);
  bssl::UniquePtr<X509_CRL> crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_NE(crl, nullptr);
  EXPECT_EQ(X509_CRL_get_version(crl.get()), X509_CRL_VERSION_2);
  EXPECT_EQ(ToUnixTime(X509_CRL_get0_lastUpdate(crl.get())), this_update);
  EXPECT_EQ(ToUnixTime(X509_CRL_get0_nextUpdate(crl.get())), next_update);
  bssl::UniquePtr<X509> intermediate = ToX509(pki.intermediate);
  EXPECT_EQ(
      X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(intermediate.get())), 0);

  std::vector<std::vector<uint8_t>> listed;
  for (const X509_REVOKED* revoked : X509_CRL_get_REVOKED(crl.get())) {
    listed.push_back(IntegerBytes(X509_REVOKED_get0_serialNumber(revoked)));
  }
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_NE(std::find(listed.begin(), listed.end(), pki.server.serial), listed.end());
  EXPECT_NE(std::find(listed.begin(), listed.end(), other), listed.end());

  // With CRL checking the revoked server fails and the client still verifies.
  const VerifyOptions options = {
      .trusted = {pki.root}, .untrusted = {pki.intermediate}, .crl_pem = pem};
  EXPECT_EQ(VerifyError(pki.server, options), X509_V_ERR_CERT_REVOKED);
  EXPECT_EQ(VerifyError(pki.client, options), X509_V_OK);
  // An empty CRL revokes nothing.
  EXPECT_EQ(VerifyError(pki.server, {.trusted = {pki.root},
                                     .untrusted = {pki.intermediate},
                                     .crl_pem = MakeCrlPem(pki.intermediate, {})}),
            X509_V_OK);
}

// --- Failure contract --------------------------------------------------------

TEST(CertFactoryDeathTest, AbortsWithReason) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  CertSpec bad_ip;
  bad_ip.ip_addresses = {"not-an-ip"};
  EXPECT_DEATH(MakeSelfSigned(bad_ip), "parsing IP address \"not-an-ip\"");

  const Cert a = MakeSelfSigned({});
  Cert mismatched = MakeSelfSigned({});
  mismatched.key = a.key;
  EXPECT_DEATH(MakeSigned({}, mismatched), "issuer key does not match");
}

}  // namespace
}  // namespace sansio_tls::testing
