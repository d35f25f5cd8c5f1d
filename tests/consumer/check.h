// Helpers for the consumer programs: a fatal CHECK and a server/client Context pair over a
// fresh test PKI. Included only through the sansio_tls/ prefix, as a user would.
#ifndef SANSIO_TLS_CONSUMER_CHECK_H_
#define SANSIO_TLS_CONSUMER_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "sansio_tls/core/context.h"
#include "sansio_tls/core/testing/cert_factory.h"

// CHECK(cond, what): prints |what| and exits 1 when |cond| is false.
#define CHECK(cond, what)                                                               \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s (%s)\n", __FILE__, __LINE__, #cond, \
                   std::string(what).c_str());                                          \
      std::exit(1);                                                                     \
    }                                                                                   \
  } while (0)

struct Contexts {
  std::shared_ptr<const sansio_tls::Context> server, client;
};

// A server context for "localhost" and a client context trusting its root.
inline Contexts MakeContexts() {
  using namespace sansio_tls;
  testing::TestPki pki = testing::MakeTestPki();
  auto server = Context::Create(ServerContextOptions{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()}});
  CHECK(server.ok(), server.error().message);
  auto client = Context::Create(ClientContextOptions{.ca_pems = {pki.root.cert_pem}});
  CHECK(client.ok(), client.error().message);
  return {server.value(), client.value()};
}

#endif  // SANSIO_TLS_CONSUMER_CHECK_H_
