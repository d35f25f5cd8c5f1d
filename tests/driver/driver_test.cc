// transport::Driver (transports/common/driver.h) with no sockets: two drivers joined by
// copying ToSend() into Received(), and time given by hand. What it decides here is what
// every transport does: reads bounded by the session, a broken send that discards output,
// the half-close after close_notify, the handshake bound and close grace as session
// deadlines, and the error each way of ending closes with.
#include "transports/common/driver.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/common/test_contexts.h"

namespace sansio_tls {
namespace {

using std::chrono::milliseconds;
using transport::Driver;
using transport::PeerEnd;

// The time the sessions start at (the test PKI's certificates are valid now).
const Timestamp kT0 = testing::WallNow();

struct Pair {
  test_contexts::Contexts ctx = test_contexts::MakeContexts();
  Driver client, server;

  explicit Pair(SessionOptions server_options = {}, SessionOptions client_options = {})
      : client(Make(ctx.client, WithDefaults(std::move(client_options), "localhost"))),
        server(Make(ctx.server, WithDefaults(std::move(server_options), ""))) {}

  static SessionOptions WithDefaults(SessionOptions o, const std::string& name) {
    if (o.servername.empty()) o.servername = name;
    if (!o.now) o.now = kT0;
    return o;
  }
  static Session Make(std::shared_ptr<const Context> context, SessionOptions options) {
    auto s = Session::Create(std::move(context), std::move(options));
    EXPECT_TRUE(s.ok()) << s.error().message;
    return std::move(s).value();
  }

  // Moves bytes from |from| to |to| as a transport would: no more than to.ReadLimit().
  static bool Move(Driver& from, Driver& to) {
    bool moved = false;
    for (std::span<const uint8_t> out; !(out = from.ToSend()).empty();) {
      size_t n = std::min(out.size(), to.ReadLimit());
      if (n == 0) break;
      std::vector<uint8_t> copy(out.begin(), out.begin() + static_cast<ptrdiff_t>(n));
      from.Sent(n);
      to.Received(copy);
      moved = true;
    }
    return moved;
  }
  void Pump() {
    while (Move(client, server) | Move(server, client)) {
    }
  }
  void Handshake() {
    Pump();
    ASSERT_TRUE(client.session().handshake_done())
        << (client.error() ? client.error()->code : std::string("no error"));
    ASSERT_TRUE(server.session().handshake_done());
  }
};

TEST(Driver, MovesAHandshakeAndCountsTheBytes) {
  Pair p;
  p.Handshake();
  EXPECT_GT(p.client.bytes_sent(), 0u);
  EXPECT_EQ(p.client.bytes_sent(), p.server.bytes_received());
  EXPECT_EQ(p.server.bytes_sent(), p.client.bytes_received());
  EXPECT_EQ(p.client.peer_end(), PeerEnd::kOpen);
  EXPECT_FALSE(p.client.done());
  EXPECT_EQ(p.client.CloseError(), std::nullopt);
}

TEST(Driver, ReadLimitIsWhatTheSessionTakesAndZeroOnceTheInputEnded) {
  Pair p;
  p.Handshake();
  EXPECT_EQ(p.server.ReadLimit(),
            std::min(transport::kReadChunk, p.server.session().input_capacity()));
  // Plaintext the application does not read fills the session: reads stop.
  std::vector<uint8_t> data(16 * 1024, 'x');
  for (int i = 0; i < 64 && p.server.ReadLimit() > 0; ++i) {
    p.client.session().Write(data);
    p.Pump();
  }
  EXPECT_EQ(p.server.ReadLimit(), 0u) << "an unread session must stop the socket reads";
  EXPECT_FALSE(p.server.session().wants_input());
  uint8_t sink[4096];
  while (p.server.session().Read(sink) > 0) {
  }
  EXPECT_GT(p.server.ReadLimit(), 0u);
  p.server.ReceivedEnd();
  EXPECT_EQ(p.server.ReadLimit(), 0u);
  EXPECT_TRUE(p.server.input_ended());
}

TEST(Driver, HalfClosesOnceOurCloseNotifyIsOutAndClosesCleanly) {
  Pair p;
  p.Handshake();
  EXPECT_FALSE(p.client.ShouldShutdownSend());
  p.client.session().Close();
  EXPECT_FALSE(p.client.ShouldShutdownSend()) << "close_notify not sent yet";
  Pair::Move(p.client, p.server);
  EXPECT_TRUE(p.client.ShouldShutdownSend());
  p.client.ShutdownSent();
  EXPECT_FALSE(p.client.ShouldShutdownSend()) << "once";
  EXPECT_EQ(p.server.peer_end(), PeerEnd::kClean);
  p.server.session().Close();
  Pair::Move(p.server, p.client);
  p.client.ReceivedEnd();
  p.server.ReceivedEnd();
  EXPECT_TRUE(p.client.done());
  EXPECT_EQ(p.client.CloseError(), std::nullopt);
  EXPECT_EQ(p.server.CloseError(), std::nullopt);
}

TEST(Driver, AnEndWithoutCloseNotifyIsATruncation) {
  Pair p;
  p.Handshake();
  p.server.ReceivedEnd();
  EXPECT_EQ(p.server.peer_end(), PeerEnd::kTruncated);
  EXPECT_EQ(p.server.TruncationError().code, "ERR_TLS_TRUNCATED");
  ASSERT_TRUE(p.server.CloseError());
  EXPECT_EQ(p.server.CloseError()->code, "ERR_TLS_TRUNCATED");
}

TEST(Driver, AResetIsTheEndAndTheCloseError) {
  Pair p;
  p.Handshake();
  p.server.ReceiveFailed(MakeError("ECONNRESET", "recv: Connection reset by peer"));
  EXPECT_TRUE(p.server.input_ended());
  EXPECT_EQ(p.server.peer_end(), PeerEnd::kTruncated);
  EXPECT_EQ(p.server.TruncationError().code, "ECONNRESET");
  ASSERT_TRUE(p.server.error());
  EXPECT_EQ(p.server.error()->code, "ECONNRESET");
  EXPECT_EQ(p.server.CloseError()->code, "ECONNRESET");
}

TEST(Driver, ABrokenSendDiscardsTheOutputAndEndsAConnectionThatCannotMove) {
  Pair p;
  p.Handshake();
  std::vector<uint8_t> data(1000, 'y');
  p.server.session().Write(data);
  ASSERT_FALSE(p.server.ToSend().empty());
  p.server.SendFailed(MakeError("EPIPE", "send: Broken pipe"));
  EXPECT_TRUE(p.server.ToSend().empty()) << "undeliverable output is discarded";
  EXPECT_EQ(p.server.session().pending_output_bytes(), 0u);
  EXPECT_FALSE(p.server.ShouldShutdownSend());
  EXPECT_FALSE(p.server.done()) << "the input can still move";
  p.server.ReceivedEnd();
  EXPECT_TRUE(p.server.done());
  EXPECT_EQ(p.server.CloseError()->code, "EPIPE");
}

TEST(Driver, TheHandshakeBoundIsASessionDeadline) {
  SessionOptions server_options =
      transport::WithTimeouts({}, milliseconds(300), milliseconds(1000));
  Pair p(server_options);
  // The ClientHello never arrives.
  ASSERT_EQ(p.server.next_deadline(), kT0 + milliseconds(300));
  p.server.OnTimer(kT0 + milliseconds(299));
  EXPECT_FALSE(p.server.session().failed());
  p.server.OnTimer(kT0 + milliseconds(300));
  ASSERT_TRUE(p.server.session().failed());
  EXPECT_EQ(p.server.CloseError()->code, "ERR_TLS_HANDSHAKE_TIMEOUT");
  EXPECT_EQ(p.server.next_deadline(), std::nullopt);
  EXPECT_FALSE(p.server.end_timed_out());
}

TEST(Driver, ACloseGraceThatRunsOutEndsWithEtimedout) {
  SessionOptions server_options = transport::WithTimeouts({}, milliseconds(0), milliseconds(500));
  Pair p(server_options);
  p.Handshake();
  p.server.session().set_now(kT0 + milliseconds(100));
  p.server.session().Close();
  Pair::Move(p.server, p.client);
  ASSERT_EQ(p.server.next_deadline(), kT0 + milliseconds(600));
  p.server.OnTimer(kT0 + milliseconds(599));
  EXPECT_FALSE(p.server.end_timed_out());
  EXPECT_FALSE(p.server.done());
  p.server.OnTimer(kT0 + milliseconds(600));
  EXPECT_TRUE(p.server.end_timed_out());
  EXPECT_TRUE(p.server.done());
  EXPECT_EQ(p.server.CloseError()->code, "ERR_TLS_SHUTDOWN_TIMEOUT");
}

TEST(Driver, ThePeersEndWithinTheGraceIsAClean) {
  SessionOptions server_options = transport::WithTimeouts({}, milliseconds(0), milliseconds(500));
  Pair p(server_options);
  p.Handshake();
  p.server.session().Close();
  p.Pump();
  p.client.session().Close();
  p.Pump();
  EXPECT_EQ(p.server.peer_end(), PeerEnd::kClean);
  EXPECT_EQ(p.server.next_deadline(), std::nullopt);
  p.server.OnTimer(kT0 + milliseconds(10'000));
  EXPECT_FALSE(p.server.end_timed_out());
  EXPECT_EQ(p.server.CloseError(), std::nullopt);
}

TEST(Driver, WithTimeoutsKeepsTheSessionsOwnBounds) {
  SessionOptions own{.handshake_timeout = milliseconds(7), .close_timeout = milliseconds(9)};
  SessionOptions o = transport::WithTimeouts(own, milliseconds(100), milliseconds(200));
  EXPECT_EQ(o.handshake_timeout, milliseconds(7));
  EXPECT_EQ(o.close_timeout, milliseconds(9));
  o = transport::WithTimeouts({}, milliseconds(100), milliseconds(-1));
  EXPECT_EQ(o.handshake_timeout, milliseconds(100));
  EXPECT_EQ(o.close_timeout, milliseconds(0)) << "<= 0: no bound";
}

}  // namespace
}  // namespace sansio_tls
