// Helpers shared by the negotiation tests: certificates named after what they serve, contexts
// that must build, and what the client was served.
#ifndef SANSIO_TLS_TESTS_NEGOTIATION_NEGOTIATION_TEST_UTIL_H_
#define SANSIO_TLS_TESTS_NEGOTIATION_NEGOTIATION_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <openssl/pool.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls::negotiation_test {

// A root CA and leaves it signs; each leaf is named (CN and DNS SAN) after |name|.
struct Pki {
  testing::Cert root;
  explicit Pki(const std::string& root_name = "Negotiation Test Root", int key_slot = 20) {
    testing::CertSpec spec;
    spec.subject = {{"CN", root_name}};
    spec.is_ca = true;
    spec.key = testing::CachedKey(testing::KeyType::kEcdsaP256, key_slot);
    root = testing::MakeSelfSigned(spec);
  }
  testing::Cert Leaf(const std::string& name,
                     const std::vector<std::string>& eku = {testing::kServerAuth}) const {
    testing::CertSpec spec;
    spec.subject = {{"CN", name}};
    spec.dns_names = {name};
    spec.ext_key_usage = eku;
    spec.key = testing::CachedKey(testing::KeyType::kEcdsaP256, 21);
    return testing::MakeSigned(spec, root);
  }
};

inline Credentials CredentialsOf(const testing::Cert& leaf) {
  return Credentials{.key_pem = leaf.key_pem, .cert_chain_pem = leaf.cert_pem};
}

template <class Options>
std::shared_ptr<const Context> MustCreate(const Options& options) {
  auto ctx = Context::Create(options);
  EXPECT_TRUE(ctx.ok()) << (ctx.ok() ? "" : ctx.error().code + ": " + ctx.error().message);
  return ctx.ok() ? ctx.value() : nullptr;
}

// The leaf certificate (DER) the server presented to |client|; empty when none.
inline std::vector<uint8_t> ServedLeaf(const Session& client) {
  const STACK_OF(CRYPTO_BUFFER)* chain = SSL_get0_peer_certificates(client.ssl());
  if (chain == nullptr || sk_CRYPTO_BUFFER_num(chain) == 0) return {};
  const CRYPTO_BUFFER* leaf = sk_CRYPTO_BUFFER_value(chain, 0);
  return {CRYPTO_BUFFER_data(leaf), CRYPTO_BUFFER_data(leaf) + CRYPTO_BUFFER_len(leaf)};
}

inline std::string Summary(const testing::Pair& pair) {
  return "client: [" + pair.EventSummary(testing::Side::kClient) + "] server: [" +
         pair.EventSummary(testing::Side::kServer) + "]";
}

}  // namespace sansio_tls::negotiation_test

#endif  // SANSIO_TLS_TESTS_NEGOTIATION_NEGOTIATION_TEST_UTIL_H_
