#include "core/testing/cert_factory.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/cipher.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/pkcs8.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/stack.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>

namespace sansio_tls::testing {
namespace {

constexpr int64_t kHour = 60 * 60;
constexpr int64_t kDay = 24 * kHour;

// Prints |what| and BoringSSL's error queue, then aborts: a test helper never
// hands back a half-built object.
[[noreturn]] void Fatal(const std::string& what) {
  std::fprintf(stderr, "sansio_tls::testing cert factory: %s failed\n", what.c_str());
  ERR_print_errors_fp(stderr);
  std::fflush(stderr);
  std::abort();
}

void Check(bool ok, const std::string& what) {
  if (!ok) Fatal(what);
}

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

std::shared_ptr<EVP_PKEY> Share(bssl::UniquePtr<EVP_PKEY> key) {
  return std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
}

std::string BioContents(const BIO* bio) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  Check(BIO_mem_contents(bio, &data, &len), "BIO_mem_contents");
  return std::string(reinterpret_cast<const char*>(data), len);
}

bssl::UniquePtr<BIO> NewMemBio() {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  Check(bio != nullptr, "BIO_new");
  return bio;
}

bssl::UniquePtr<ASN1_TIME> MakeTime(int64_t unix_seconds) {
  bssl::UniquePtr<ASN1_TIME> t(ASN1_TIME_set(nullptr, static_cast<time_t>(unix_seconds)));
  Check(t != nullptr, "ASN1_TIME_set(" + std::to_string(unix_seconds) + ")");
  return t;
}

// |bytes| is an unsigned big-endian magnitude.
bssl::UniquePtr<ASN1_INTEGER> BytesToInteger(const std::vector<uint8_t>& bytes) {
  bssl::UniquePtr<BIGNUM> bn(BN_bin2bn(bytes.data(), bytes.size(), nullptr));
  Check(bn != nullptr, "BN_bin2bn");
  bssl::UniquePtr<ASN1_INTEGER> integer(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  Check(integer != nullptr, "BN_to_ASN1_INTEGER");
  return integer;
}

std::vector<uint8_t> IntegerToBytes(const ASN1_INTEGER* integer) {
  bssl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(integer, nullptr));
  Check(bn != nullptr, "ASN1_INTEGER_to_BN");
  std::vector<uint8_t> out(BN_num_bytes(bn.get()));
  BN_bn2bin(bn.get(), out.data());
  if (out.empty()) out.push_back(0);  // serial zero
  return out;
}

std::vector<uint8_t> RandomSerial() {
  std::vector<uint8_t> serial(16);
  RAND_bytes(serial.data(), serial.size());
  serial[0] &= 0x7f;                  // positive without a sign byte
  if (serial[0] == 0) serial[0] = 1;  // always 16 bytes
  return serial;
}

const EVP_MD* DigestFor(const EVP_PKEY* key) {
  switch (EVP_PKEY_id(key)) {
    case EVP_PKEY_ED25519:
      return nullptr;  // Ed25519 signs the message itself
    case EVP_PKEY_RSA:
      return EVP_sha256();
    case EVP_PKEY_EC: {
      const int bits = EVP_PKEY_bits(key);
      if (bits > 384) return EVP_sha512();
      if (bits > 256) return EVP_sha384();
      return EVP_sha256();
    }
    default:
      Fatal("choosing a signature digest (unsupported key type " +
            std::to_string(EVP_PKEY_id(key)) + ")");
  }
}

// Parses a Cert that is to act as an issuer and checks that its key matches.
bssl::UniquePtr<X509> IssuerX509(const Cert& issuer) {
  Check(issuer.key != nullptr, "issuer check (issuer has no key)");
  bssl::UniquePtr<X509> x509 = ToX509(issuer);
  Check(X509_check_private_key(x509.get(), issuer.key.get()),
        "issuer check (issuer key does not match its certificate)");
  return x509;
}

// subjectKeyIdentifier method 1 of RFC 5280: SHA-1 of the subjectPublicKey bits.
bssl::UniquePtr<ASN1_OCTET_STRING> ComputeKeyId(const X509* x509) {
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(x509);
  Check(bits != nullptr, "X509_get0_pubkey_bitstr");
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1(ASN1_STRING_get0_data(bits), ASN1_STRING_length(bits), digest);
  bssl::UniquePtr<ASN1_OCTET_STRING> id(ASN1_OCTET_STRING_new());
  Check(id && ASN1_OCTET_STRING_set(id.get(), digest, sizeof(digest)), "subject key id");
  return id;
}

// |issuer|'s subjectKeyIdentifier, or one computed from its key if absent.
bssl::UniquePtr<AUTHORITY_KEYID> MakeAkid(X509* issuer) {
  bssl::UniquePtr<AUTHORITY_KEYID> akid(AUTHORITY_KEYID_new());
  Check(akid != nullptr, "AUTHORITY_KEYID_new");
  if (const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(issuer)) {
    akid->keyid = ASN1_OCTET_STRING_dup(skid);
  } else {
    akid->keyid = ComputeKeyId(issuer).release();
  }
  Check(akid->keyid != nullptr, "authority key id");
  return akid;
}

bssl::UniquePtr<X509_NAME> MakeName(const std::vector<std::pair<std::string, std::string>>& rdns) {
  bssl::UniquePtr<X509_NAME> name(X509_NAME_new());
  Check(name != nullptr, "X509_NAME_new");
  for (const auto& [field, value] : rdns) {
    Check(X509_NAME_add_entry_by_txt(name.get(), field.c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const uint8_t*>(value.data()),
                                     static_cast<int>(value.size()), /*loc=*/-1,
                                     /*set=*/0),
          "adding subject attribute " + field + "=" + value);
  }
  return name;
}

bssl::UniquePtr<GENERAL_NAME> MakeIa5GeneralName(int type, const std::string& value) {
  bssl::UniquePtr<ASN1_IA5STRING> str(ASN1_IA5STRING_new());
  Check(str && ASN1_STRING_set(str.get(), value.data(), static_cast<int>(value.size())),
        "IA5String " + value);
  bssl::UniquePtr<GENERAL_NAME> name(GENERAL_NAME_new());
  Check(name != nullptr, "GENERAL_NAME_new");
  GENERAL_NAME_set0_value(name.get(), type, str.release());
  return name;
}

bssl::UniquePtr<GENERAL_NAME> MakeIpGeneralName(const std::string& ip) {
  bssl::UniquePtr<ASN1_OCTET_STRING> bytes(a2i_IPADDRESS(ip.c_str()));
  Check(bytes != nullptr, "parsing IP address \"" + ip + "\"");
  bssl::UniquePtr<GENERAL_NAME> name(GENERAL_NAME_new());
  Check(name != nullptr, "GENERAL_NAME_new");
  GENERAL_NAME_set0_value(name.get(), GEN_IPADD, bytes.release());
  return name;
}

void AddExtension(X509* x509, int nid, void* value, bool critical, const char* what) {
  Check(X509_add1_ext_i2d(x509, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) == 1,
        std::string("adding extension ") + what);
}

void AddCaExtensions(X509* x509, int path_length) {
  bssl::UniquePtr<BASIC_CONSTRAINTS> bc(BASIC_CONSTRAINTS_new());
  Check(bc != nullptr, "BASIC_CONSTRAINTS_new");
  bc->ca = 1;
  if (path_length >= 0) {
    bc->pathlen = ASN1_INTEGER_new();
    Check(bc->pathlen && ASN1_INTEGER_set(bc->pathlen, path_length), "pathLenConstraint");
  }
  AddExtension(x509, NID_basic_constraints, bc.get(), /*critical=*/true, "basicConstraints");

  bssl::UniquePtr<ASN1_BIT_STRING> ku(ASN1_BIT_STRING_new());
  Check(ku && ASN1_BIT_STRING_set_bit(ku.get(), 5, 1) &&  // keyCertSign
            ASN1_BIT_STRING_set_bit(ku.get(), 6, 1),      // cRLSign
        "keyUsage bits");
  AddExtension(x509, NID_key_usage, ku.get(), /*critical=*/true, "keyUsage");
}

void AddSubjectAltNames(X509* x509, const CertSpec& spec) {
  bssl::UniquePtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  Check(names != nullptr, "sk_GENERAL_NAME_new_null");
  auto push = [&](bssl::UniquePtr<GENERAL_NAME> name) {
    Check(bssl::PushToStack(names.get(), std::move(name)), "sk_GENERAL_NAME_push");
  };
  for (const auto& dns : spec.dns_names) push(MakeIa5GeneralName(GEN_DNS, dns));
  for (const auto& ip : spec.ip_addresses) push(MakeIpGeneralName(ip));
  for (const auto& email : spec.emails) push(MakeIa5GeneralName(GEN_EMAIL, email));
  for (const auto& uri : spec.uris) push(MakeIa5GeneralName(GEN_URI, uri));
  if (sk_GENERAL_NAME_num(names.get()) == 0) return;
  // RFC 5280 4.2.1.6: critical when the subject is empty.
  AddExtension(x509, NID_subject_alt_name, names.get(), spec.subject.empty(), "subjectAltName");
}

void AddExtKeyUsage(X509* x509, const std::vector<std::string>& oids) {
  if (oids.empty()) return;
  bssl::UniquePtr<EXTENDED_KEY_USAGE> eku(sk_ASN1_OBJECT_new_null());
  Check(eku != nullptr, "sk_ASN1_OBJECT_new_null");
  for (const auto& oid : oids) {
    bssl::UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj(oid.c_str(), /*dont_search_names=*/0));
    Check(obj != nullptr, "parsing extKeyUsage OID \"" + oid + "\"");
    Check(bssl::PushToStack(eku.get(), std::move(obj)), "sk_ASN1_OBJECT_push");
  }
  AddExtension(x509, NID_ext_key_usage, eku.get(), /*critical=*/false, "extKeyUsage");
}

void AddAuthorityInfoAccess(X509* x509, const CertSpec& spec) {
  bssl::UniquePtr<AUTHORITY_INFO_ACCESS> aia(sk_ACCESS_DESCRIPTION_new_null());
  Check(aia != nullptr, "sk_ACCESS_DESCRIPTION_new_null");
  auto add = [&](int method_nid, const std::string& url) {
    if (url.empty()) return;
    bssl::UniquePtr<ACCESS_DESCRIPTION> ad(ACCESS_DESCRIPTION_new());
    Check(ad != nullptr, "ACCESS_DESCRIPTION_new");
    ASN1_OBJECT_free(ad->method);
    ad->method = OBJ_nid2obj(method_nid);
    GENERAL_NAME_free(ad->location);
    ad->location = MakeIa5GeneralName(GEN_URI, url).release();
    Check(bssl::PushToStack(aia.get(), std::move(ad)), "sk_ACCESS_DESCRIPTION_push");
  };
  add(NID_ad_OCSP, spec.ocsp_url);
  add(NID_ad_ca_issuers, spec.ca_issuers_url);
  if (sk_ACCESS_DESCRIPTION_num(aia.get()) == 0) return;
  AddExtension(x509, NID_info_access, aia.get(), /*critical=*/false, "authorityInfoAccess");
}

std::vector<uint8_t> EncodeDer(X509* x509) {
  uint8_t* der = nullptr;
  const int len = i2d_X509(x509, &der);
  Check(len > 0, "i2d_X509");
  bssl::UniquePtr<uint8_t> owner(der);
  return std::vector<uint8_t>(der, der + len);
}

std::string CertPem(X509* x509) {
  bssl::UniquePtr<BIO> bio = NewMemBio();
  Check(PEM_write_bio_X509(bio.get(), x509), "PEM_write_bio_X509");
  return BioContents(bio.get());
}

std::string KeyPem(EVP_PKEY* key) {
  bssl::UniquePtr<BIO> bio = NewMemBio();
  Check(PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PKCS8PrivateKey");
  return BioContents(bio.get());
}

// Builds and signs a certificate. |issuer| null means self-signed (issuer name
// = subject, signed with the certificate's own key).
Cert Build(const CertSpec& spec, X509* issuer, EVP_PKEY* issuer_key) {
  Cert cert;
  cert.key = spec.key ? spec.key : GenerateKey(spec.key_type);

  bssl::UniquePtr<X509> x509(X509_new());
  Check(x509 != nullptr, "X509_new");
  Check(X509_set_version(x509.get(), X509_VERSION_3), "X509_set_version");

  bssl::UniquePtr<ASN1_INTEGER> serial =
      BytesToInteger(spec.serial.empty() ? RandomSerial() : spec.serial);
  Check(X509_set_serialNumber(x509.get(), serial.get()), "X509_set_serialNumber");

  const int64_t now = Now();
  bssl::UniquePtr<ASN1_TIME> not_before =
      MakeTime(spec.not_before != 0 ? spec.not_before : now - kHour);
  bssl::UniquePtr<ASN1_TIME> not_after =
      MakeTime(spec.not_after != 0 ? spec.not_after : now + 30 * kDay);
  Check(X509_set1_notBefore(x509.get(), not_before.get()), "X509_set1_notBefore");
  Check(X509_set1_notAfter(x509.get(), not_after.get()), "X509_set1_notAfter");

  bssl::UniquePtr<X509_NAME> subject = MakeName(spec.subject);
  Check(X509_set_subject_name(x509.get(), subject.get()), "X509_set_subject_name");
  Check(X509_set_issuer_name(x509.get(),
                             issuer != nullptr ? X509_get_subject_name(issuer) : subject.get()),
        "X509_set_issuer_name");
  Check(X509_set_pubkey(x509.get(), cert.key.get()), "X509_set_pubkey");

  if (spec.is_ca) AddCaExtensions(x509.get(), spec.path_length);
  if (!spec.is_ca && !spec.key_usage_bits.empty()) {
    bssl::UniquePtr<ASN1_BIT_STRING> ku(ASN1_BIT_STRING_new());
    Check(ku != nullptr, "ASN1_BIT_STRING_new");
    for (int bit : spec.key_usage_bits) {
      Check(ASN1_BIT_STRING_set_bit(ku.get(), bit, 1) == 1, "keyUsage bits");
    }
    AddExtension(x509.get(), NID_key_usage, ku.get(), /*critical=*/true, "keyUsage");
  }
  bssl::UniquePtr<ASN1_OCTET_STRING> skid = ComputeKeyId(x509.get());
  AddExtension(x509.get(), NID_subject_key_identifier, skid.get(), /*critical=*/false,
               "subjectKeyIdentifier");
  bssl::UniquePtr<AUTHORITY_KEYID> akid = MakeAkid(issuer != nullptr ? issuer : x509.get());
  AddExtension(x509.get(), NID_authority_key_identifier, akid.get(), /*critical=*/false,
               "authorityKeyIdentifier");
  AddSubjectAltNames(x509.get(), spec);
  AddExtKeyUsage(x509.get(), spec.ext_key_usage);
  AddAuthorityInfoAccess(x509.get(), spec);

  EVP_PKEY* signer = issuer_key != nullptr ? issuer_key : cert.key.get();
  Check(X509_sign(x509.get(), signer, DigestFor(signer)) > 0, "X509_sign");

  cert.der = EncodeDer(x509.get());
  cert.cert_pem = CertPem(x509.get());
  cert.key_pem = KeyPem(cert.key.get());
  cert.serial = IntegerToBytes(X509_get0_serialNumber(x509.get()));
  return cert;
}

}  // namespace

std::shared_ptr<EVP_PKEY> GenerateKey(KeyType type) {
  int id = EVP_PKEY_EC;
  int curve = NID_undef;
  switch (type) {
    case KeyType::kEcdsaP256:
      curve = NID_X9_62_prime256v1;
      break;
    case KeyType::kEcdsaP384:
      curve = NID_secp384r1;
      break;
    case KeyType::kRsa2048:
      id = EVP_PKEY_RSA;
      break;
    case KeyType::kEd25519:
      id = EVP_PKEY_ED25519;
      break;
  }
  bssl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_id(id, nullptr));
  Check(ctx && EVP_PKEY_keygen_init(ctx.get()), "EVP_PKEY_keygen_init");
  if (curve != NID_undef) {
    Check(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), curve),
          "EVP_PKEY_CTX_set_ec_paramgen_curve_nid");
  }
  if (id == EVP_PKEY_RSA) {
    Check(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048), "EVP_PKEY_CTX_set_rsa_keygen_bits");
  }
  EVP_PKEY* raw = nullptr;
  Check(EVP_PKEY_keygen(ctx.get(), &raw), "EVP_PKEY_keygen");
  return Share(bssl::UniquePtr<EVP_PKEY>(raw));
}

std::shared_ptr<EVP_PKEY> CachedKey(KeyType type, int slot) {
  struct Entry {
    std::once_flag once;
    std::shared_ptr<EVP_PKEY> key;
  };
  static std::mutex mu;
  static std::map<std::pair<KeyType, int>, Entry> cache;  // nodes never move
  Entry* entry;
  {
    std::lock_guard<std::mutex> lock(mu);
    entry = &cache[{type, slot}];
  }
  // Generate outside the map lock so a slow RSA key does not block other slots.
  std::call_once(entry->once, [&] { entry->key = GenerateKey(type); });
  return entry->key;
}

Cert MakeSelfSigned(const CertSpec& spec) {
  return Build(spec, /*issuer=*/nullptr, /*issuer_key=*/nullptr);
}

Cert MakeSigned(const CertSpec& spec, const Cert& issuer) {
  bssl::UniquePtr<X509> issuer_x509 = IssuerX509(issuer);
  return Build(spec, issuer_x509.get(), issuer.key.get());
}

std::string EncryptedKeyPem(const Cert& cert, const std::string& passphrase) {
  Check(cert.key != nullptr, "EncryptedKeyPem (cert has no key)");
  std::string pass = passphrase;  // the PEM API takes a mutable buffer
  bssl::UniquePtr<BIO> bio = NewMemBio();
  Check(PEM_write_bio_PKCS8PrivateKey(bio.get(), cert.key.get(), EVP_aes_256_cbc(), pass.data(),
                                      static_cast<int>(pass.size()), nullptr, nullptr),
        "PEM_write_bio_PKCS8PrivateKey (encrypted)");
  return BioContents(bio.get());
}

std::vector<uint8_t> MakePkcs12(const Cert& leaf, const std::vector<Cert>& chain,
                                const std::string& passphrase) {
  Check(leaf.key != nullptr, "MakePkcs12 (leaf has no key)");
  bssl::UniquePtr<X509> leaf_x509 = ToX509(leaf);
  bssl::UniquePtr<STACK_OF(X509)> ca(sk_X509_new_null());
  Check(ca != nullptr, "sk_X509_new_null");
  for (const Cert& cert : chain) {
    Check(bssl::PushToStack(ca.get(), ToX509(cert)), "sk_X509_push");
  }
  bssl::UniquePtr<PKCS12> p12(
      PKCS12_create(passphrase.c_str(), /*name=*/nullptr, leaf.key.get(), leaf_x509.get(), ca.get(),
                    NID_pbe_WithSHA1And3_Key_TripleDES_CBC, NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
                    /*iterations=*/0, /*mac_iterations=*/0, /*key_type=*/0));
  Check(p12 != nullptr, "PKCS12_create");
  uint8_t* der = nullptr;
  const int len = i2d_PKCS12(p12.get(), &der);
  Check(len > 0, "i2d_PKCS12");
  bssl::UniquePtr<uint8_t> owner(der);
  return std::vector<uint8_t>(der, der + len);
}

std::string MakeCrlPem(const Cert& issuer, const std::vector<std::vector<uint8_t>>& revoked_serials,
                       int64_t this_update, int64_t next_update) {
  bssl::UniquePtr<X509> issuer_x509 = IssuerX509(issuer);
  const int64_t now = Now();
  bssl::UniquePtr<ASN1_TIME> last = MakeTime(this_update != 0 ? this_update : now - kHour);
  bssl::UniquePtr<ASN1_TIME> next = MakeTime(next_update != 0 ? next_update : now + 7 * kDay);

  bssl::UniquePtr<X509_CRL> crl(X509_CRL_new());
  Check(crl != nullptr, "X509_CRL_new");
  Check(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2), "X509_CRL_set_version");
  Check(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer_x509.get())),
        "X509_CRL_set_issuer_name");
  Check(X509_CRL_set1_lastUpdate(crl.get(), last.get()), "X509_CRL_set1_lastUpdate");
  Check(X509_CRL_set1_nextUpdate(crl.get(), next.get()), "X509_CRL_set1_nextUpdate");

  for (const auto& serial : revoked_serials) {
    Check(!serial.empty(), "MakeCrlPem (empty revoked serial)");
    bssl::UniquePtr<X509_REVOKED> revoked(X509_REVOKED_new());
    Check(revoked != nullptr, "X509_REVOKED_new");
    bssl::UniquePtr<ASN1_INTEGER> number = BytesToInteger(serial);
    Check(X509_REVOKED_set_serialNumber(revoked.get(), number.get()),
          "X509_REVOKED_set_serialNumber");
    Check(X509_REVOKED_set_revocationDate(revoked.get(), last.get()),
          "X509_REVOKED_set_revocationDate");
    Check(X509_CRL_add0_revoked(crl.get(), revoked.get()), "X509_CRL_add0_revoked");
    revoked.release();  // now owned by |crl|
  }
  Check(X509_CRL_sort(crl.get()), "X509_CRL_sort");

  bssl::UniquePtr<AUTHORITY_KEYID> akid = MakeAkid(issuer_x509.get());
  Check(X509_CRL_add1_ext_i2d(crl.get(), NID_authority_key_identifier, akid.get(), 0,
                              X509V3_ADD_DEFAULT) == 1,
        "adding CRL extension authorityKeyIdentifier");
  bssl::UniquePtr<ASN1_INTEGER> crl_number(ASN1_INTEGER_new());
  Check(crl_number && ASN1_INTEGER_set(crl_number.get(), 1), "cRLNumber");
  Check(X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, crl_number.get(), 0, X509V3_ADD_DEFAULT) ==
            1,
        "adding CRL extension cRLNumber");

  Check(X509_CRL_sign(crl.get(), issuer.key.get(), DigestFor(issuer.key.get())) > 0,
        "X509_CRL_sign");
  bssl::UniquePtr<BIO> bio = NewMemBio();
  Check(PEM_write_bio_X509_CRL(bio.get(), crl.get()), "PEM_write_bio_X509_CRL");
  return BioContents(bio.get());
}

std::string TestPki::server_chain_pem() const { return server.cert_pem + intermediate.cert_pem; }

std::string TestPki::client_chain_pem() const { return client.cert_pem + intermediate.cert_pem; }

TestPki MakeTestPki(KeyType type) {
  TestPki pki;

  CertSpec root;
  root.subject = {{"O", "sansio-tls test"}, {"CN", "sansio-tls Test Root CA"}};
  root.key = CachedKey(type, 0);
  root.is_ca = true;
  pki.root = MakeSelfSigned(root);

  CertSpec intermediate;
  intermediate.subject = {{"O", "sansio-tls test"}, {"CN", "sansio-tls Test Intermediate CA"}};
  intermediate.key = CachedKey(type, 1);
  intermediate.is_ca = true;
  intermediate.path_length = 0;
  pki.intermediate = MakeSigned(intermediate, pki.root);

  CertSpec server;
  server.subject = {{"CN", "localhost"}};
  server.dns_names = {"localhost"};
  server.ip_addresses = {"127.0.0.1", "::1"};
  server.ext_key_usage = {kServerAuth};
  server.key = CachedKey(type, 2);
  pki.server = MakeSigned(server, pki.intermediate);

  CertSpec client;
  client.subject = {{"CN", "client"}};
  client.ext_key_usage = {kClientAuth};
  client.key = CachedKey(type, 3);
  pki.client = MakeSigned(client, pki.intermediate);
  return pki;
}

bssl::UniquePtr<X509> ToX509(const Cert& cert) {
  const uint8_t* p = cert.der.data();
  bssl::UniquePtr<X509> x509(d2i_X509(nullptr, &p, static_cast<long>(cert.der.size())));
  Check(x509 != nullptr && p == cert.der.data() + cert.der.size(), "parsing certificate DER");
  return x509;
}

int64_t ToUnixTime(const ASN1_TIME* time) {
  bssl::UniquePtr<ASN1_TIME> epoch = MakeTime(0);
  int days = 0, seconds = 0;
  Check(time != nullptr && ASN1_TIME_diff(&days, &seconds, epoch.get(), time), "ASN1_TIME_diff");
  return static_cast<int64_t>(days) * kDay + seconds;
}

std::chrono::milliseconds WallNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
}

}  // namespace sansio_tls::testing
