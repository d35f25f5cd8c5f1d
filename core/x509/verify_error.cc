#include "core/x509/verify_error.h"

#include <openssl/x509.h>

namespace sansio_tls {
namespace {

struct Entry {
  int value;
  std::string_view name;
};

#define SANSIO_X509_ERR(NAME) {X509_V_ERR_##NAME, #NAME},

// Every X509_V_ERR_* defined by BoringSSL (API version 17), in value order.
constexpr Entry kEntries[] = {
    SANSIO_X509_ERR(UNSPECIFIED) SANSIO_X509_ERR(UNABLE_TO_GET_ISSUER_CERT) SANSIO_X509_ERR(
        UNABLE_TO_GET_CRL) SANSIO_X509_ERR(UNABLE_TO_DECRYPT_CERT_SIGNATURE)
        SANSIO_X509_ERR(UNABLE_TO_DECRYPT_CRL_SIGNATURE) SANSIO_X509_ERR(
            UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY) SANSIO_X509_ERR(CERT_SIGNATURE_FAILURE)
            SANSIO_X509_ERR(CRL_SIGNATURE_FAILURE) SANSIO_X509_ERR(CERT_NOT_YET_VALID) SANSIO_X509_ERR(
                CERT_HAS_EXPIRED) SANSIO_X509_ERR(CRL_NOT_YET_VALID) SANSIO_X509_ERR(CRL_HAS_EXPIRED)
                SANSIO_X509_ERR(ERROR_IN_CERT_NOT_BEFORE_FIELD) SANSIO_X509_ERR(
                    ERROR_IN_CERT_NOT_AFTER_FIELD) SANSIO_X509_ERR(ERROR_IN_CRL_LAST_UPDATE_FIELD)
                    SANSIO_X509_ERR(ERROR_IN_CRL_NEXT_UPDATE_FIELD) SANSIO_X509_ERR(
                        OUT_OF_MEM) SANSIO_X509_ERR(DEPTH_ZERO_SELF_SIGNED_CERT)
                        SANSIO_X509_ERR(SELF_SIGNED_CERT_IN_CHAIN) SANSIO_X509_ERR(
                            UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
                            SANSIO_X509_ERR(UNABLE_TO_VERIFY_LEAF_SIGNATURE) SANSIO_X509_ERR(
                                CERT_CHAIN_TOO_LONG) SANSIO_X509_ERR(CERT_REVOKED)
                                SANSIO_X509_ERR(INVALID_CA) SANSIO_X509_ERR(
                                    PATH_LENGTH_EXCEEDED) SANSIO_X509_ERR(INVALID_PURPOSE)
                                    SANSIO_X509_ERR(CERT_UNTRUSTED) SANSIO_X509_ERR(
                                        CERT_REJECTED) SANSIO_X509_ERR(SUBJECT_ISSUER_MISMATCH)
                                        SANSIO_X509_ERR(AKID_SKID_MISMATCH) SANSIO_X509_ERR(
                                            AKID_ISSUER_SERIAL_MISMATCH) SANSIO_X509_ERR(KEYUSAGE_NO_CERTSIGN)
                                            SANSIO_X509_ERR(UNABLE_TO_GET_CRL_ISSUER) SANSIO_X509_ERR(
                                                UNHANDLED_CRITICAL_EXTENSION) SANSIO_X509_ERR(KEYUSAGE_NO_CRL_SIGN)
                                                SANSIO_X509_ERR(UNHANDLED_CRITICAL_CRL_EXTENSION) SANSIO_X509_ERR(
                                                    INVALID_NON_CA) SANSIO_X509_ERR(PROXY_PATH_LENGTH_EXCEEDED)
                                                    SANSIO_X509_ERR(KEYUSAGE_NO_DIGITAL_SIGNATURE) SANSIO_X509_ERR(
                                                        PROXY_CERTIFICATES_NOT_ALLOWED) SANSIO_X509_ERR(INVALID_EXTENSION)
                                                        SANSIO_X509_ERR(INVALID_POLICY_EXTENSION) SANSIO_X509_ERR(
                                                            NO_EXPLICIT_POLICY) SANSIO_X509_ERR(DIFFERENT_CRL_SCOPE)
                                                            SANSIO_X509_ERR(UNSUPPORTED_EXTENSION_FEATURE) SANSIO_X509_ERR(
                                                                UNNESTED_RESOURCE) SANSIO_X509_ERR(PERMITTED_VIOLATION)
                                                                SANSIO_X509_ERR(
                                                                    EXCLUDED_VIOLATION) SANSIO_X509_ERR(SUBTREE_MINMAX)
                                                                    SANSIO_X509_ERR(APPLICATION_VERIFICATION) SANSIO_X509_ERR(
                                                                        UNSUPPORTED_CONSTRAINT_TYPE) SANSIO_X509_ERR(UNSUPPORTED_CONSTRAINT_SYNTAX)
                                                                        SANSIO_X509_ERR(UNSUPPORTED_NAME_SYNTAX) SANSIO_X509_ERR(
                                                                            CRL_PATH_VALIDATION_ERROR) SANSIO_X509_ERR(SUITE_B_INVALID_VERSION)
                                                                            SANSIO_X509_ERR(SUITE_B_INVALID_ALGORITHM) SANSIO_X509_ERR(
                                                                                SUITE_B_INVALID_CURVE) SANSIO_X509_ERR(SUITE_B_INVALID_SIGNATURE_ALGORITHM)
                                                                                SANSIO_X509_ERR(SUITE_B_LOS_NOT_ALLOWED) SANSIO_X509_ERR(
                                                                                    SUITE_B_CANNOT_SIGN_P_384_WITH_P_256)
                                                                                    SANSIO_X509_ERR(
                                                                                        HOSTNAME_MISMATCH)
                                                                                        SANSIO_X509_ERR(
                                                                                            EMAIL_MISMATCH)
                                                                                            SANSIO_X509_ERR(
                                                                                                IP_ADDRESS_MISMATCH)
                                                                                                SANSIO_X509_ERR(
                                                                                                    INVALID_CALL)
                                                                                                    SANSIO_X509_ERR(
                                                                                                        STORE_LOOKUP)
                                                                                                        SANSIO_X509_ERR(
                                                                                                            NAME_CONSTRAINTS_WITHOUT_SANS)};

#undef SANSIO_X509_ERR

}  // namespace

std::string_view VerifyErrorCode(int x509_v_err) {
  if (x509_v_err == X509_V_OK) return {};
  for (const Entry& e : kEntries) {
    if (e.value == x509_v_err) return e.name;
  }
  return "UNSPECIFIED";  // the name of X509_V_ERR_UNSPECIFIED too
}

std::optional<int> VerifyErrorFromCode(std::string_view code) {
  if (code.empty()) return X509_V_OK;
  for (const Entry& e : kEntries) {
    if (e.name == code) return e.value;
  }
  return std::nullopt;
}

}  // namespace sansio_tls
