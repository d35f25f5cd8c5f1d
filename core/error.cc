#include "core/error.h"

#include <algorithm>
#include <array>

#include "core/x509/verify_error.h"

namespace sansio_tls {
namespace {

struct OwnCode {
  std::string_view code;
  ErrorKind kind;
};

constexpr OwnCode kOwnCodes[] = {
#define SANSIO_TLS_X(NAME, CODE, KIND) {CODE, ErrorKind::KIND},
    SANSIO_TLS_OWN_ERROR_CODES(SANSIO_TLS_X)
#undef SANSIO_TLS_X
};

bool IsErrnoName(std::string_view code) {
  if (code.size() < 2 || code[0] != 'E') return false;
  return std::all_of(code.begin() + 1, code.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

}  // namespace

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConfiguration:
      return "configuration";
    case ErrorKind::kCertificate:
      return "certificate";
    case ErrorKind::kProtocol:
      return "protocol";
    case ErrorKind::kPeerAlert:
      return "peer_alert";
    case ErrorKind::kTransport:
      return "transport";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kMisuse:
      return "misuse";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "internal";
}

std::string_view OwnErrorCode(int value) {
  if (value < 1 || value > static_cast<int>(std::size(kOwnCodes))) return {};
  return kOwnCodes[value - 1].code;
}

ErrorKind ClassifyError(std::string_view code, bool alert_from_peer, bool verification) {
  for (const OwnCode& own : kOwnCodes) {
    if (own.code == code) return own.kind;
  }
  if (code.starts_with("ERR_SSL_") || code.starts_with("ERR_OSSL_")) {
    return alert_from_peer ? ErrorKind::kPeerAlert : ErrorKind::kProtocol;
  }
  if (auto x509 = VerifyErrorFromCode(code); verification || (x509 && *x509 != 0)) {
    return ErrorKind::kCertificate;
  }
  if (IsErrnoName(code)) return ErrorKind::kTransport;
  return ErrorKind::kInternal;
}

}  // namespace sansio_tls
