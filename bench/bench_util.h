// Pieces shared by the transport benchmarks: process CPU time and a pair of contexts.
#ifndef SANSIO_TLS_BENCH_BENCH_UTIL_H_
#define SANSIO_TLS_BENCH_BENCH_UTIL_H_

#include <sys/resource.h>

#include <cstdlib>
#include <memory>

#include "core/context.h"
#include "core/testing/cert_factory.h"

namespace sansio_tls::bench {

// User + system CPU seconds this process has used (every thread).
inline double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Contexts {
  std::shared_ptr<const Context> client, server;
};

// A "localhost" server (ECDSA leaf + intermediate) and a client trusting its root, with
// default options. Aborts if either cannot be built.
inline Contexts MakeContexts() {
  testing::TestPki pki = testing::MakeTestPki();
  auto s = Context::Create(ServerContextOptions{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()}});
  auto c = Context::Create(ClientContextOptions{.ca_pems = {pki.root.cert_pem}});
  if (!s.ok() || !c.ok()) std::abort();
  return {c.value(), s.value()};
}

}  // namespace sansio_tls::bench

#endif  // SANSIO_TLS_BENCH_BENCH_UTIL_H_
