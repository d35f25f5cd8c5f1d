// Helpers shared by the certificate and authorization tests: independent PKIs, contexts that
// must build, pairs, and what each side ended with.
#ifndef SANSIO_TLS_TESTS_CERTS_CERTS_TEST_UTIL_H_
#define SANSIO_TLS_TESTS_CERTS_CERTS_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls::certs_test {

using testing::Cert;
using testing::CertSpec;
using testing::KeyType;
using testing::Pair;
using testing::Side;

inline constexpr int64_t kDay = 24 * 60 * 60;

inline int64_t Now() { return static_cast<int64_t>(time(nullptr)); }

// A root -> intermediate -> leaves PKI whose names and keys belong to it alone (unlike two
// MakeTestPki() calls, which share keys and names). |tag| names it; |slot| picks its keys.
struct Pki {
  Cert root, intermediate;
  KeyType type;
  int slot;

  explicit Pki(const std::string& tag = "main", KeyType key_type = KeyType::kEcdsaP256,
               int key_slot = 40)
      : type(key_type), slot(key_slot) {
    CertSpec r;
    r.subject = {{"O", "certs test"}, {"CN", tag + " Root CA"}};
    r.is_ca = true;
    r.not_before = Now() - 365 * kDay;  // CAs span a year each way: sessions may judge
    r.not_after = Now() + 365 * kDay;   // leaves at other times (SessionOptions::verify_time)
    r.key = testing::CachedKey(type, slot);
    root = testing::MakeSelfSigned(r);
    CertSpec i;
    i.subject = {{"O", "certs test"}, {"CN", tag + " Intermediate CA"}};
    i.is_ca = true;
    i.path_length = 0;
    i.not_before = r.not_before;
    i.not_after = r.not_after;
    i.key = testing::CachedKey(type, slot + 1);
    intermediate = testing::MakeSigned(i, root);
  }
  // A leaf signed by the intermediate; |spec|'s key defaults to this PKI's leaf key.
  Cert Leaf(CertSpec spec) const {
    if (!spec.key) spec.key = testing::CachedKey(type, slot + 2);
    return testing::MakeSigned(spec, intermediate);
  }
  Cert Server(const std::string& name = "localhost") const {
    CertSpec s;
    s.subject = {{"CN", name}};
    s.dns_names = {name};
    s.ip_addresses = {"127.0.0.1", "::1"};
    s.ext_key_usage = {testing::kServerAuth};
    return Leaf(s);
  }
  Cert Client() const {
    CertSpec c;
    c.subject = {{"CN", "client"}};
    c.ext_key_usage = {testing::kClientAuth};
    return Leaf(c);
  }
  std::string Chain(const Cert& leaf) const { return leaf.cert_pem + intermediate.cert_pem; }
  Credentials CredentialsFor(const Cert& leaf) const {
    return Credentials{.key_pem = leaf.key_pem, .cert_chain_pem = Chain(leaf)};
  }
  // CRLs from both CAs (CRL checks cover the whole chain): the intermediate's lists
  // |revoked| leaves.
  std::vector<std::string> Crls(const std::vector<Cert>& revoked = {}) const {
    std::vector<std::vector<uint8_t>> serials;
    for (const Cert& c : revoked) serials.push_back(c.serial);
    return {testing::MakeCrlPem(root, {}), testing::MakeCrlPem(intermediate, serials)};
  }
};

inline std::string Describe(const Error& e) { return e.code + ": " + e.message; }

template <class Options>
std::shared_ptr<const Context> MustCreate(const Options& options) {
  auto ctx = Context::Create(options);
  EXPECT_TRUE(ctx.ok()) << (ctx.ok() ? "" : Describe(ctx.error()));
  return ctx.ok() ? ctx.value() : nullptr;
}

inline std::unique_ptr<Pair> MustPair(std::shared_ptr<const Context> client,
                                      std::shared_ptr<const Context> server,
                                      SessionOptions client_options = {.servername = "localhost"},
                                      SessionOptions server_options = {}) {
  auto pair = Pair::Create(std::move(client), std::move(server), std::move(client_options),
                           std::move(server_options));
  EXPECT_TRUE(pair.ok()) << (pair.ok() ? "" : Describe(pair.error()));
  return pair.ok() ? std::move(pair).value() : nullptr;
}

inline std::string Summary(const Pair& pair) {
  return "client: [" + pair.EventSummary(Side::kClient) + "] server: [" +
         pair.EventSummary(Side::kServer) + "]";
}

inline std::string VersionName(TlsVersion v) { return v == TlsVersion::kTls13 ? "Tls13" : "Tls12"; }

}  // namespace sansio_tls::certs_test

#endif  // SANSIO_TLS_TESTS_CERTS_CERTS_TEST_UTIL_H_
