// Certificates with contents the cert factory does not offer (unusual SAN
// types, invalid IP lengths, raw byte strings), built directly with
// BoringSSL. Test-only; aborts on failure.
#ifndef SANSIO_TLS_TESTS_X509_TEST_CERTS_H_
#define SANSIO_TLS_TESTS_X509_TEST_CERTS_H_

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sansio_tls::test_certs {

using Name = bssl::UniquePtr<GENERAL_NAME>;

// An iPAddress name with exactly these octets (any length).
Name IpName(const std::vector<uint8_t>& octets);
// A dNSName / rfc822Name / uniformResourceIdentifier with raw bytes.
Name Ia5Name(int type, const std::string& bytes);
// A registeredID name.
Name RidName(const char* dotted_oid);
// An otherName whose value is a UTF8String or (utf8 = false) an IA5String.
Name OtherName(const char* dotted_oid, const std::string& value, bool utf8 = true);
// A directoryName.
Name DirName(const std::vector<std::pair<std::string, std::string>>& rdns);

// A self-signed certificate (ECDSA P-256, serial 1, valid now) with |subject|
// (short names or dotted OIDs, UTF-8 values) and a subjectAltName of |names|
// (none if empty).
std::vector<uint8_t> CertWithNames(const std::vector<std::pair<std::string, std::string>>& subject,
                                   std::vector<Name> names);

}  // namespace sansio_tls::test_certs

#endif  // SANSIO_TLS_TESTS_X509_TEST_CERTS_H_
