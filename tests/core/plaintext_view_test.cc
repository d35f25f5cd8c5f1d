// Session::PeekPlaintext / ConsumePlaintext (reading in place, no copy) and the event queue
// (order and payloads of events however long they wait unread). No sockets.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls {
namespace {

using testing::Pair;
using testing::Side;

struct Contexts {
  std::shared_ptr<const Context> client, server;
};

Contexts MakeContexts(TlsVersion version = TlsVersion::kTls13, bool key_log = false) {
  static const testing::TestPki pki = testing::MakeTestPki();
  auto s = Context::Create(ServerContextOptions{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()},
      .min_version = version,
      .max_version = version,
      .key_log = key_log});
  auto c = Context::Create(ClientContextOptions{.ca_pems = {pki.root.cert_pem},
                                                .min_version = version,
                                                .max_version = version,
                                                .key_log = key_log});
  EXPECT_TRUE(s.ok() && c.ok());
  return {c.value(), s.value()};
}

std::unique_ptr<Pair> Connected(const Contexts& ctx) {
  auto pair = Pair::Create(ctx.client, ctx.server, {.servername = "localhost"});
  EXPECT_TRUE(pair.ok());
  std::unique_ptr<Pair> p = std::move(pair).value();
  EXPECT_TRUE(p->Handshake());
  p->set_auto_read(false);
  return p;
}

std::string Payload(size_t n, uint32_t seed = 11) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

std::string AsString(std::span<const uint8_t> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

// ---- Plaintext view ---------------------------------------------------------------------

TEST(PlaintextView, IsEmptyWhenNothingWasReceived) {
  auto pair = Connected(MakeContexts());
  EXPECT_TRUE(pair->server().PeekPlaintext().empty());
  pair->server().ConsumePlaintext(10);  // nothing to consume: no effect, no crash
  EXPECT_EQ(pair->server().readable_bytes(), 0u);
}

TEST(PlaintextView, ShowsWhatReadWouldReturnAndConsumeReleasesExactlyN) {
  auto pair = Connected(MakeContexts());
  const std::string data = Payload(3000);
  pair->Write(Side::kClient, data);
  pair->Pump();
  Session& s = pair->server();
  ASSERT_EQ(s.readable_bytes(), data.size());
  EXPECT_EQ(AsString(s.PeekPlaintext()), data);

  s.ConsumePlaintext(1000);
  EXPECT_EQ(s.readable_bytes(), 2000u);
  EXPECT_EQ(AsString(s.PeekPlaintext()), data.substr(1000));
  uint8_t buf[500];
  ASSERT_EQ(s.Read(buf), 500u);  // Read() and the view share one stream
  EXPECT_EQ(AsString({buf, 500}), data.substr(1000, 500));
  EXPECT_EQ(AsString(s.PeekPlaintext()), data.substr(1500));

  s.ConsumePlaintext(1 << 20);  // more than there is: releases what there is
  EXPECT_EQ(s.readable_bytes(), 0u);
  EXPECT_TRUE(s.PeekPlaintext().empty());
}

TEST(PlaintextView, StaysValidAndUnchangedAcrossEventsAndOutputCalls) {
  auto pair = Connected(MakeContexts());
  const std::string data = Payload(20000);
  pair->Write(Side::kClient, data);
  pair->Pump();
  Session& s = pair->server();
  // The server has plaintext to read, output to send and an event waiting.
  const std::string reply = Payload(5000, 3);
  ASSERT_EQ(s.Write({reinterpret_cast<const uint8_t*>(reply.data()), reply.size()}), reply.size());
  ASSERT_GT(s.pending_output_bytes(), 0u);
  pair->client().Close();
  for (auto out = pair->client().PendingOutput(); !out.empty();
       out = pair->client().PendingOutput()) {
    // Feed() invalidates the view, so it comes before Peek.
    pair->client().ConsumeOutput(s.Feed(out));
  }

  std::span<const uint8_t> view = s.PeekPlaintext();
  ASSERT_EQ(AsString(view), data);
  const uint8_t* where = view.data();
  bool saw_close = false;
  while (auto e = s.NextEvent()) saw_close |= e->kind() == EventKind::kPeerClosed;
  EXPECT_TRUE(saw_close);
  std::span<const uint8_t> out = s.PendingOutput();
  ASSERT_FALSE(out.empty());
  s.ConsumeOutput(out.size() / 2);
  EXPECT_EQ(s.readable_bytes(), data.size());
  EXPECT_TRUE(s.peer_closed());
  // The same bytes at the same place (ASan reports it if they were freed or moved).
  EXPECT_EQ(s.PeekPlaintext().data(), where);
  EXPECT_EQ(AsString(view), data);
}

// Transports hand the view to the application, which often writes from it at once (an
// echo): Write() must leave it in place, however much it writes.
TEST(PlaintextView, StaysValidWhileTheSessionWritesFromIt) {
  for (TlsVersion version : {TlsVersion::kTls13, TlsVersion::kTls12}) {
    auto pair = Connected(MakeContexts(version));
    const std::string data = Payload(30000, 5);
    pair->Write(Side::kClient, data);
    pair->Pump();
    Session& s = pair->server();
    std::span<const uint8_t> view = s.PeekPlaintext();
    ASSERT_EQ(AsString(view), data);
    const uint8_t* where = view.data();
    size_t echoed = 0;
    while (echoed < view.size()) {
      size_t n = s.Write(view.subspan(echoed));
      if (n == 0) {
        ASSERT_FALSE(s.failed());
        s.ConsumeOutput(s.pending_output_bytes() > 0 ? s.PendingOutput().size() : 0);
        continue;
      }
      echoed += n;
      EXPECT_EQ(s.PeekPlaintext().data(), where);
      EXPECT_EQ(s.readable_bytes(), data.size());
    }
    EXPECT_EQ(AsString(view), data);  // unchanged (ASan reports it if it was freed)
    s.ConsumePlaintext(view.size());
    EXPECT_EQ(s.readable_bytes(), 0u);
  }
}

TEST(PlaintextView, OneMebibyteArrivesIntactWhenConsumedInPlaceUnderBackpressure) {
  auto pair = Connected(MakeContexts());
  const std::string data = Payload(1 << 20, 5);
  Session& c = pair->client();
  Session& s = pair->server();
  std::string got;
  size_t written = 0;
  for (int rounds = 0; got.size() < data.size() && rounds < 100000; ++rounds) {
    if (written < data.size()) {
      written +=
          c.Write({reinterpret_cast<const uint8_t*>(data.data()) + written, data.size() - written});
    }
    pair->Pump();
    std::span<const uint8_t> v = s.PeekPlaintext();
    // Take odd-sized pieces: the view must always continue where the last one stopped.
    size_t n = std::min<size_t>(v.size(), 7777);
    got.append(reinterpret_cast<const char*>(v.data()), n);
    s.ConsumePlaintext(n);
  }
  ASSERT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  EXPECT_FALSE(s.failed());
}

// ---- Events -----------------------------------------------------------------------------

struct Seen {
  EventKind kind;
  std::string detail;  // what the event carries, flattened
  bool operator==(const Seen&) const = default;
};

Seen Flatten(const Event& e) {
  std::string d;
  if (const auto* h = e.get_if<HandshakeInfo>()) {
    d = std::string(TlsVersionName(h->version.value_or(TlsVersion{}))) + "/" +
        std::string(h->cipher) + "/" + h->servername + "/" +
        (h->authorized ? "authorized" : h->authorization_error);
  } else if (const auto* error = e.get_if<Error>()) {
    d = error->code + ": " + error->message;
  } else if (const auto* saved = e.get_if<SavedSession>()) {
    d = saved->protocol();
  } else if (const auto* line = e.get_if<event::KeyLog>()) {
    d = line->line;
  }
  return {e.kind(), d};
}

// Runs a handshake, one write each way and a close; the client's events are drained after
// every step when |drain_often|, else only at the end (they all wait in its queue).
std::vector<Seen> ClientEvents(const Contexts& ctx, bool drain_often) {
  auto c = Session::Create(ctx.client, {.servername = "localhost", .now = testing::WallNow()});
  auto s = Session::Create(ctx.server, {.now = testing::WallNow()});
  EXPECT_TRUE(c.ok() && s.ok());
  Session& client = *c;
  Session& server = *s;
  std::vector<Seen> seen;
  auto drain = [&](bool now) {
    if (!now) return;
    while (auto e = client.NextEvent()) seen.push_back(Flatten(*e));
  };
  auto move = [&server](Session& from, Session& to) {
    for (auto out = from.PendingOutput(); !out.empty(); out = from.PendingOutput()) {
      from.ConsumeOutput(to.Feed(out));
    }
    while (server.NextEvent()) {
    }
  };
  const uint8_t byte = 'x';
  for (int i = 0; i < 8 && !(client.handshake_done() && server.handshake_done()); ++i) {
    move(client, server);
    move(server, client);
    drain(drain_often);
  }
  EXPECT_EQ(server.Write({&byte, 1}), 1u);
  move(server, client);
  drain(drain_often);
  uint8_t buf[4];
  EXPECT_EQ(client.Read(buf), 1u);
  server.Close();
  move(server, client);
  drain(true);
  return seen;
}

TEST(Events, ComeOutInOrderWithTheirPayloadsHoweverLongTheyWait) {
  for (TlsVersion v : {TlsVersion::kTls13, TlsVersion::kTls12}) {
    Contexts ctx = MakeContexts(v, /*key_log=*/true);
    std::vector<Seen> often = ClientEvents(ctx, true);
    std::vector<Seen> late = ClientEvents(ctx, false);
    // TLS 1.3: more events than the inline queue holds (8) waited unread in |late|.
    auto names = [](const std::vector<Seen>& v) {
      std::string out;
      for (const Seen& s : v) out += std::string(EventKindName(s.kind)) + "(" + s.detail + ") ";
      return out;
    };
    if (v == TlsVersion::kTls13) {
      ASSERT_GT(late.size(), 8u) << names(late) << "\n" << names(often);
    }
    ASSERT_EQ(often.size(), late.size()) << names(late) << "\n" << names(often);
    for (size_t i = 0; i < often.size(); ++i) {
      EXPECT_EQ(often[i].kind, late[i].kind) << i;
      // Key-log secrets differ between connections; everything else must match.
      if (often[i].kind != EventKind::kKeyLog)
        EXPECT_EQ(often[i].detail, late[i].detail) << i;
      else
        EXPECT_FALSE(late[i].detail.empty());
    }
    auto has = [&](EventKind k) {
      return std::any_of(late.begin(), late.end(), [k](const Seen& s) { return s.kind == k; });
    };
    EXPECT_TRUE(has(EventKind::kHandshakeDone));
    EXPECT_TRUE(has(EventKind::kNewSession));
    EXPECT_TRUE(has(EventKind::kReadable));
    EXPECT_EQ(late.back().kind, EventKind::kPeerClosed);
    const Seen& done = *std::find_if(late.begin(), late.end(), [](const Seen& s) {
      return s.kind == EventKind::kHandshakeDone;
    });
    EXPECT_EQ(done.detail.rfind(v == TlsVersion::kTls13 ? "TLSv1.3/" : "TLSv1.2/", 0), 0u)
        << done.detail;
  }
}

TEST(Events, TheErrorEventCarriesTheStickyError) {
  auto pair = Connected(MakeContexts());
  const uint8_t garbage[64] = {23, 3, 3, 0, 59};  // an application record that cannot open
  pair->server().Feed(garbage);
  std::optional<Event> e;
  while (auto next = pair->server().NextEvent()) {
    if (next->kind() == EventKind::kError) e = std::move(next);
  }
  ASSERT_TRUE(e.has_value());
  ASSERT_TRUE(pair->server().error().has_value());
  EXPECT_FALSE(e->get<Error>().code.empty());
  EXPECT_EQ(e->get<Error>().code, pair->server().error()->code);
  EXPECT_EQ(e->get<Error>().message, pair->server().error()->message);
  EXPECT_EQ(e->get<Error>().alert, pair->server().error()->alert);
  EXPECT_FALSE(pair->server().NextEvent().has_value());
}

}  // namespace
}  // namespace sansio_tls
