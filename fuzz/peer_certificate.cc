// Fuzz target: the peer-certificate object (ParsePeerCertificate, ToJson) from arbitrary DER.
//
// Input: a mode byte, then
//   even: one certificate's DER (the rest);
//   odd:  a chain, each certificate as a big-endian u16 length and DER (at most 16); bit 1
//         of the mode asks for detailed (issuer links).
// Invariants: no crash; a parsed certificate keeps its DER in raw, fingerprints have the
// documented shape, issuer links end within kMaxIssuerChainLength, and ToJson is valid
// JSON (UTF-8) for every parsed certificate.
#include "core/x509/peer_certificate.h"

#include <string>
#include <vector>

#include "core/x509/hostname.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/json_check.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;

namespace {

void CheckFingerprint(const std::string& f, size_t bytes, const char* name) {
  FUZZ_CHECK(f.size() == bytes * 3 - 1, "%s has length %zu", name, f.size());
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    bool ok = i % 3 == 2 ? c == ':' : ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
    FUZZ_CHECK(ok, "%s: bad character at %zu", name, i);
  }
}

void CheckCert(const PeerCertificate& cert) {
  CheckFingerprint(cert.fingerprint, 20, "fingerprint");
  CheckFingerprint(cert.fingerprint256, 32, "fingerprint256");
  CheckFingerprint(cert.fingerprint512, 64, "fingerprint512");
  FUZZ_CHECK(!cert.raw.empty(), "raw is empty");
  FUZZ_CHECK(!cert.serial_number.empty(), "serialNumber is empty");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  uint8_t mode = in.Byte();
  if ((mode & 1) == 0) {
    std::span<const uint8_t> der = in.Rest();
    std::optional<PeerCertificate> cert = ParsePeerCertificate(der);
    if (cert) {
      FUZZ_CHECK(std::equal(cert->raw.begin(), cert->raw.end(), der.begin(), der.end()),
                 "raw differs from the input DER");
      CheckCert(*cert);
      std::string json = ToJson(*cert);
      FUZZ_CHECK(JsonCheck::Valid(json), "ToJson is not valid JSON: %s", json.c_str());
      // The same DER as a one-certificate chain gives the same object.
      std::vector<std::vector<uint8_t>> chain{{der.begin(), der.end()}};
      auto again = ParsePeerCertificate(chain, /*detailed=*/false);
      FUZZ_CHECK(again && ToJson(*again) == json, "chain of one differs from the single parse");
    }
    (void)CheckServerIdentity("localhost", der);
    return 0;
  }

  std::vector<std::vector<uint8_t>> chain;
  while (!in.empty() && chain.size() < 16) {
    auto der = in.Take(in.U16());
    chain.emplace_back(der.begin(), der.end());
  }
  bool detailed = mode & 2;
  std::optional<PeerCertificate> cert = ParsePeerCertificate(chain, detailed);
  if (chain.empty()) FUZZ_CHECK(!cert, "an empty chain parsed");
  if (!cert) return 0;
  FUZZ_CHECK(cert->raw == chain.front(), "the leaf is not the first certificate");
  size_t length = 0;
  for (const PeerCertificate* c = cert.operator->(); c != nullptr;
       c = c->issuer_certificate.get()) {
    CheckCert(*c);
    ++length;
    FUZZ_CHECK(length <= kMaxIssuerChainLength, "issuer chain longer than the limit");
    if (!detailed)
      FUZZ_CHECK(!c->issuer_certificate && !c->issuer_is_self, "issuer links without detail");
    if (c->issuer_is_self) FUZZ_CHECK(!c->issuer_certificate, "self-issued with an issuer object");
    FUZZ_CHECK(length <= chain.size(), "more issuer objects than certificates");
  }
  std::string json = ToJson(*cert);
  FUZZ_CHECK(JsonCheck::Valid(json), "ToJson is not valid JSON: %s", json.c_str());
  return 0;
}
