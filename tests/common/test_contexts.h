// A server and a client Context over one in-memory test PKI, for transport tests.
#ifndef SANSIO_TLS_TESTS_COMMON_TEST_CONTEXTS_H_
#define SANSIO_TLS_TESTS_COMMON_TEST_CONTEXTS_H_

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"

namespace sansio_tls::test_contexts {

struct Contexts {
  testing::TestPki pki;
  std::shared_ptr<const Context> server, client;
};

// A server context for "localhost" (chain: leaf + intermediate) and a client context
// trusting the root, both limited to |version| when given; the edits run on the options
// before the contexts are built. Aborts (a broken fixture) if either cannot be built.
inline Contexts MakeContexts(std::optional<TlsVersion> version = std::nullopt,
                             std::function<void(ServerContextOptions&)> edit_server = nullptr,
                             std::function<void(ClientContextOptions&)> edit_client = nullptr) {
  Contexts c{testing::MakeTestPki(), nullptr, nullptr};
  ServerContextOptions server{
      .credentials = {.key_pem = c.pki.server.key_pem, .cert_chain_pem = c.pki.server_chain_pem()}};
  ClientContextOptions client{.ca_pems = {c.pki.root.cert_pem}};
  if (version) {
    server.min_version = server.max_version = *version;
    client.min_version = client.max_version = *version;
  }
  if (edit_server) edit_server(server);
  if (edit_client) edit_client(client);
  auto s = Context::Create(server);
  auto k = Context::Create(client);
  if (!s.ok() || !k.ok()) {
    std::fprintf(stderr, "MakeContexts: %s\n", (!s.ok() ? s.error() : k.error()).message.c_str());
    std::abort();
  }
  c.server = s.value();
  c.client = k.value();
  return c;
}

// A ClientHello from |client| for |servername| followed by |extra| more bytes: what a STARTTLS
// server could have read past its plaintext when the client sent far more than a peer sends
// before our first answer.
inline std::vector<uint8_t> ClientHelloAndMore(std::shared_ptr<const Context> client,
                                               const std::string& servername, size_t extra) {
  auto hello_from =
      Session::Create(std::move(client), {.servername = servername, .now = testing::WallNow()});
  if (!hello_from.ok()) std::abort();
  std::span<const uint8_t> hello = hello_from->PendingOutput();
  std::vector<uint8_t> bytes(hello.begin(), hello.end());
  bytes.resize(bytes.size() + extra, 0x17);
  return bytes;
}

}  // namespace sansio_tls::test_contexts

#endif  // SANSIO_TLS_TESTS_COMMON_TEST_CONTEXTS_H_
