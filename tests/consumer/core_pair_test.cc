// The core over the in-memory Pair: handshake, a message each way, clean close.
#include <cstdio>
#include <string>

#include "check.h"
#include "sansio_tls/core/session.h"
#include "sansio_tls/core/testing/pair.h"
#include "sansio_tls/core/version.h"

int main() {
  using namespace sansio_tls;
  Contexts ctx = MakeContexts();
  auto pair = testing::Pair::Create(ctx.client, ctx.server, {.servername = "localhost"});
  CHECK(pair.ok(), pair.error().message);
  auto& p = *pair.value();
  CHECK(p.Handshake(), "handshake");
  p.Write(testing::Side::kClient, "ping");
  p.Pump();
  CHECK(p.received(testing::Side::kServer) == "ping", p.received(testing::Side::kServer));
  p.Write(testing::Side::kServer, "pong");
  p.Pump();
  CHECK(p.received(testing::Side::kClient) == "pong", p.received(testing::Side::kClient));
  std::printf("core %s: in-memory handshake and echo ok\n", kVersion);
  return 0;
}
