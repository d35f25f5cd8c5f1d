#include "core/x509/verify_error.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <set>
#include <string>

namespace sansio_tls {
namespace {

TEST(VerifyErrorCode, NodeNames) {
  const std::pair<int, std::string_view> cases[] = {
      {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, "UNABLE_TO_GET_ISSUER_CERT"},
      {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"},
      {X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"},
      {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "DEPTH_ZERO_SELF_SIGNED_CERT"},
      {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "SELF_SIGNED_CERT_IN_CHAIN"},
      {X509_V_ERR_CERT_HAS_EXPIRED, "CERT_HAS_EXPIRED"},
      {X509_V_ERR_CERT_NOT_YET_VALID, "CERT_NOT_YET_VALID"},
      {X509_V_ERR_CERT_SIGNATURE_FAILURE, "CERT_SIGNATURE_FAILURE"},
      {X509_V_ERR_CERT_REVOKED, "CERT_REVOKED"},
      {X509_V_ERR_CERT_CHAIN_TOO_LONG, "CERT_CHAIN_TOO_LONG"},
      {X509_V_ERR_INVALID_CA, "INVALID_CA"},
      {X509_V_ERR_PATH_LENGTH_EXCEEDED, "PATH_LENGTH_EXCEEDED"},
      {X509_V_ERR_INVALID_PURPOSE, "INVALID_PURPOSE"},
      {X509_V_ERR_CERT_UNTRUSTED, "CERT_UNTRUSTED"},
      {X509_V_ERR_CERT_REJECTED, "CERT_REJECTED"},
      {X509_V_ERR_UNABLE_TO_GET_CRL, "UNABLE_TO_GET_CRL"},
      {X509_V_ERR_CRL_HAS_EXPIRED, "CRL_HAS_EXPIRED"},
      {X509_V_ERR_HOSTNAME_MISMATCH, "HOSTNAME_MISMATCH"},
      {X509_V_ERR_OUT_OF_MEM, "OUT_OF_MEM"},
      {X509_V_ERR_UNSPECIFIED, "UNSPECIFIED"},
      // Beyond Node's list (Node says UNSPECIFIED for these).
      {X509_V_ERR_KEYUSAGE_NO_CERTSIGN, "KEYUSAGE_NO_CERTSIGN"},
      {X509_V_ERR_NAME_CONSTRAINTS_WITHOUT_SANS, "NAME_CONSTRAINTS_WITHOUT_SANS"},
      {X509_V_ERR_APPLICATION_VERIFICATION, "APPLICATION_VERIFICATION"},
  };
  for (const auto& [value, name] : cases) {
    EXPECT_EQ(VerifyErrorCode(value), name) << value;
    EXPECT_EQ(VerifyErrorFromCode(name), value) << name;
  }
}

TEST(VerifyErrorCode, OkAndUnknown) {
  EXPECT_EQ(VerifyErrorCode(X509_V_OK), "");
  EXPECT_EQ(VerifyErrorFromCode(""), X509_V_OK);
  EXPECT_EQ(VerifyErrorCode(55), "UNSPECIFIED");  // a gap in BoringSSL's list
  EXPECT_EQ(VerifyErrorCode(-1), "UNSPECIFIED");
  EXPECT_EQ(VerifyErrorCode(100000), "UNSPECIFIED");
  EXPECT_EQ(VerifyErrorFromCode("NOT_A_CODE"), std::nullopt);
  EXPECT_EQ(VerifyErrorFromCode("cert_has_expired"), std::nullopt);  // exact match
  EXPECT_EQ(VerifyErrorFromCode("X509_V_ERR_CERT_HAS_EXPIRED"), std::nullopt);
}

TEST(VerifyErrorCode, EveryCodeHasAUniqueNameThatRoundTrips) {
  std::set<std::string_view> names;
  int named = 0;
  for (int v = 1; v < 200; ++v) {
    const std::string_view name = VerifyErrorCode(v);
    ASSERT_FALSE(name.empty()) << v;
    if (name == "UNSPECIFIED" && v != X509_V_ERR_UNSPECIFIED) continue;
    ++named;
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(VerifyErrorFromCode(name), v) << name;
    for (char c : name) {
      EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') << name;
    }
  }
  EXPECT_EQ(named, X509_V_ERR_NAME_CONSTRAINTS_WITHOUT_SANS - 1);  // 1..67 minus 55
}

}  // namespace
}  // namespace sansio_tls
