// Helpers shared by the Asio transport's tests: contexts from an in-memory PKI, connected
// loopback socket pairs, and running an io_context with a bound on time.
#ifndef SANSIO_TLS_TESTS_ASIO_TEST_UTIL_H_
#define SANSIO_TLS_TESTS_ASIO_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "core/context.h"
#include "core/testing/cert_factory.h"

namespace sansio_tls::asio_tls::test {

using asio::ip::tcp;

struct Contexts {
  testing::TestPki pki;
  std::shared_ptr<const Context> client, server;
};

template <class Options>
std::shared_ptr<const Context> MustCreate(const Options& options) {
  auto c = Context::Create(options);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().code + ": " + c.error().message);
  return c.ok() ? c.value() : nullptr;
}

inline Contexts MakeContexts(TlsVersion version = TlsVersion::kTls13,
                             std::vector<std::string> alpn = {}) {
  Contexts c;
  c.pki = testing::MakeTestPki();
  c.server = MustCreate(ServerContextOptions{
      .credentials = {.key_pem = c.pki.server.key_pem, .cert_chain_pem = c.pki.server_chain_pem()},
      .min_version = version,
      .max_version = version,
      .alpn_protocols = alpn});
  c.client = MustCreate(ClientContextOptions{.ca_pems = {c.pki.root.cert_pem},
                                             .min_version = version,
                                             .max_version = version,
                                             .alpn_protocols = alpn});
  return c;
}

// Two connected loopback TCP sockets on |ioc| (client end, server end), with TCP_NODELAY.
inline std::pair<tcp::socket, tcp::socket> SocketPair(asio::io_context& ioc) {
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket client(ioc), server(ioc);
  client.connect(acceptor.local_endpoint());
  acceptor.accept(server);
  client.set_option(tcp::no_delay(true));
  server.set_option(tcp::no_delay(true));
  return {std::move(client), std::move(server)};
}

// Runs |ioc| until it has no more work, failing the test if that takes longer than |limit|
// (then stops it: a hang becomes a failure, not a stuck test).
inline void RunFor(asio::io_context& ioc,
                   std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  ioc.restart();
  auto start = std::chrono::steady_clock::now();
  while (!ioc.stopped()) {
    ioc.run_for(std::chrono::milliseconds(50));
    if (std::chrono::steady_clock::now() - start > limit) {
      ADD_FAILURE() << "io_context still busy after " << limit.count() << " ms";
      ioc.stop();
      break;
    }
  }
}

// Deterministic payload.
inline std::string Payload(size_t n, uint32_t seed = 7) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (auto& ch : s) {
    x = x * 1664525u + 1013904223u;
    ch = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace sansio_tls::asio_tls::test

#endif  // SANSIO_TLS_TESTS_ASIO_TEST_UTIL_H_
