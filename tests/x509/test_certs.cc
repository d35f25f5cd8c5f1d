#include "tests/x509/test_certs.h"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/obj.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "core/testing/cert_factory.h"

namespace sansio_tls::test_certs {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test_certs: %s failed\n", what);
    std::abort();
  }
}

Name NewName(int type, void* value) {
  Name name(GENERAL_NAME_new());
  Check(name != nullptr, "GENERAL_NAME_new");
  GENERAL_NAME_set0_value(name.get(), type, value);
  return name;
}

bssl::UniquePtr<X509> NewCert(const std::vector<std::pair<std::string, std::string>>& subject) {
  bssl::UniquePtr<X509> x(X509_new());
  Check(x != nullptr, "X509_new");
  Check(X509_set_version(x.get(), X509_VERSION_3), "X509_set_version");
  Check(ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1), "serial");
  bssl::UniquePtr<ASN1_TIME> t(ASN1_TIME_set(nullptr, std::time(nullptr) - 3600));
  Check(t && X509_set1_notBefore(x.get(), t.get()), "notBefore");
  t.reset(ASN1_TIME_set(nullptr, std::time(nullptr) + 86400));
  Check(t && X509_set1_notAfter(x.get(), t.get()), "notAfter");
  X509_NAME* name = X509_get_subject_name(x.get());
  for (const auto& [field, value] : subject) {
    Check(X509_NAME_add_entry_by_txt(name, field.c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const uint8_t*>(value.data()),
                                     static_cast<int>(value.size()), -1, 0),
          "subject entry");
  }
  return x;
}

std::vector<uint8_t> SignAndEncode(X509* x) {
  Check(X509_set_issuer_name(x, X509_get_subject_name(x)), "issuer");
  const std::shared_ptr<EVP_PKEY> key = testing::CachedKey(testing::KeyType::kEcdsaP256, 7);
  Check(X509_set_pubkey(x, key.get()), "X509_set_pubkey");
  Check(X509_sign(x, key.get(), EVP_sha256()) > 0, "X509_sign");
  uint8_t* der = nullptr;
  const int len = i2d_X509(x, &der);
  Check(len > 0, "i2d_X509");
  std::vector<uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

Name IpName(const std::vector<uint8_t>& octets) {
  ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
  Check(s && ASN1_OCTET_STRING_set(s, octets.data(), static_cast<int>(octets.size())), "ip octets");
  return NewName(GEN_IPADD, s);
}

Name Ia5Name(int type, const std::string& bytes) {
  ASN1_IA5STRING* s = ASN1_IA5STRING_new();
  Check(s && ASN1_STRING_set(s, bytes.data(), static_cast<int>(bytes.size())), "ia5");
  return NewName(type, s);
}

Name RidName(const char* dotted_oid) {
  ASN1_OBJECT* obj = OBJ_txt2obj(dotted_oid, /*dont_search_names=*/1);
  Check(obj != nullptr, "OBJ_txt2obj");
  return NewName(GEN_RID, obj);
}

Name OtherName(const char* dotted_oid, const std::string& value, bool utf8) {
  ASN1_OBJECT* obj = OBJ_txt2obj(dotted_oid, 1);
  Check(obj != nullptr, "OBJ_txt2obj");
  ASN1_STRING* s = ASN1_STRING_type_new(utf8 ? V_ASN1_UTF8STRING : V_ASN1_IA5STRING);
  Check(s && ASN1_STRING_set(s, value.data(), static_cast<int>(value.size())), "othername value");
  ASN1_TYPE* v = ASN1_TYPE_new();
  Check(v != nullptr, "ASN1_TYPE_new");
  ASN1_TYPE_set(v, utf8 ? V_ASN1_UTF8STRING : V_ASN1_IA5STRING, s);
  Name name(GENERAL_NAME_new());
  Check(name && GENERAL_NAME_set0_othername(name.get(), obj, v), "othername");
  return name;
}

Name DirName(const std::vector<std::pair<std::string, std::string>>& rdns) {
  X509_NAME* n = X509_NAME_new();
  Check(n != nullptr, "X509_NAME_new");
  for (const auto& [field, value] : rdns) {
    Check(X509_NAME_add_entry_by_txt(n, field.c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const uint8_t*>(value.data()),
                                     static_cast<int>(value.size()), -1, 0),
          "dirname entry");
  }
  return NewName(GEN_DIRNAME, n);
}

std::vector<uint8_t> CertWithNames(const std::vector<std::pair<std::string, std::string>>& subject,
                                   std::vector<Name> names) {
  bssl::UniquePtr<X509> x = NewCert(subject);
  if (!names.empty()) {
    bssl::UniquePtr<GENERAL_NAMES> gens(sk_GENERAL_NAME_new_null());
    Check(gens != nullptr, "sk_GENERAL_NAME_new_null");
    for (Name& n : names) {
      Check(sk_GENERAL_NAME_push(gens.get(), n.get()) != 0, "push");
      n.release();
    }
    Check(X509_add1_ext_i2d(x.get(), NID_subject_alt_name, gens.get(), 0, X509V3_ADD_DEFAULT) == 1,
          "subjectAltName");
  }
  return SignAndEncode(x.get());
}

}  // namespace sansio_tls::test_certs
