#include <gtest/gtest.h>
#include "tests/posix/posix_test_util.h"
namespace sansio_tls::posix {
void RunIt(int buffer) {
  auto ctx = test::MakeContexts();
  auto pair = test::MakeLivePair(ctx, buffer);
  ASSERT_TRUE(pair.Handshake());
  const std::string up = test::Payload(16 << 20, 3), down = test::Payload(16 << 20, 4);
  size_t up_sent = 0, down_sent = 0, up_got = 0, down_got = 0, iters = 0;
  uint8_t buf[32768];
  auto start = Clock::now();
  bool ok = pair.DriveUntil([&] {
    ++iters;
    for (size_t n; up_sent < up.size() && (n = pair.client->TryWrite(test::Bytes(std::string_view(up).substr(up_sent)))); ) up_sent += n;
    for (size_t n; down_sent < down.size() && (n = pair.server->TryWrite(test::Bytes(std::string_view(down).substr(down_sent)))); ) down_sent += n;
    while (size_t n = pair.server->TryRead(buf)) up_got += n;
    while (size_t n = pair.client->TryRead(buf)) down_got += n;
    return up_got == up.size() && down_got == down.size();
  }, std::chrono::milliseconds(60000));
  fprintf(stderr, "buffer %d ok=%d iters=%zu %.2fs\n", buffer, ok, iters, std::chrono::duration<double>(Clock::now()-start).count());
}
TEST(Scratch, Speed) { RunIt(0); RunIt(65536); RunIt(32768); }
}
