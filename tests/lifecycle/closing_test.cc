// Every closing order over the in-memory pair, TLS 1.2 and 1.3, either side first: clean
// close each way with half-close, both at once, close_notify last on the wire and flushed
// before a half-close, truncation (EOF, deadline), data after close_notify, close before
// and during the handshake, after a failure, with unread or unsent data.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "tests/lifecycle/lifecycle_test_util.h"

namespace sansio_tls {
namespace {

using namespace lifecycle_test;  // NOLINT
using testing::Other;

struct CloseCase {
  TlsVersion version;
  Side closer;
};

std::string CaseName(const ::testing::TestParamInfo<CloseCase>& info) {
  return std::string(info.param.version == TlsVersion::kTls13 ? "Tls13" : "Tls12") +
         (info.param.closer == Side::kClient ? "ClientFirst" : "ServerFirst");
}

class Closing : public ::testing::TestWithParam<CloseCase> {
 protected:
  std::unique_ptr<Pair> Established() {
    auto pair = MakePair(Client(GetParam().version), Server(GetParam().version), At(Now()));
    EXPECT_TRUE(pair->Handshake()) << Summary(*pair);
    pair->Pump();
    return pair;
  }
  Side closer() const { return GetParam().closer; }
  Side peer() const { return Other(GetParam().closer); }
};

std::vector<EventKind> ClosingEvents(const Pair& pair, Side side) {
  std::vector<EventKind> out;
  for (const Event& e : pair.events(side))
    if (e.kind() == EventKind::kPeerClosed || e.kind() == EventKind::kPeerTruncated ||
        e.kind() == EventKind::kError)
      out.push_back(e.kind());
  return out;
}

TEST_P(Closing, OneSideClosesThePeerKeepsSendingThenClosesToo) {
  auto pair = Established();
  pair->Write(closer(), "last words");
  pair->session(closer()).Close();
  EXPECT_EQ(pair->session(closer()).Write(Bytes("too late")), 0u);
  pair->Pump();
  EXPECT_EQ(pair->received(peer()), "last words");
  EXPECT_EQ(ClosingEvents(*pair, peer()), std::vector<EventKind>{EventKind::kPeerClosed});
  EXPECT_TRUE(pair->session(peer()).peer_closed());
  EXPECT_FALSE(pair->session(closer()).finished());  // waits for the peer's close

  // Half-close: the peer still sends, the closer still receives.
  const std::string reply = Payload(300000, 4);
  EXPECT_EQ(pair->Write(peer(), reply), reply.size());
  pair->session(peer()).Close();
  pair->Pump();
  EXPECT_TRUE(pair->received(closer()) == reply);
  EXPECT_EQ(ClosingEvents(*pair, closer()), std::vector<EventKind>{EventKind::kPeerClosed});
  EXPECT_TRUE(pair->client().finished());
  EXPECT_TRUE(pair->server().finished());
  EXPECT_FALSE(pair->client().failed());
  EXPECT_FALSE(pair->server().failed());
}

TEST_P(Closing, BothCloseAtOnce) {
  auto pair = Established();
  pair->Write(Side::kClient, "c");
  pair->Write(Side::kServer, "s");
  pair->client().Close();
  pair->server().Close();
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "c");
  EXPECT_EQ(pair->received(Side::kClient), "s");
  for (Side s : {Side::kClient, Side::kServer}) {
    EXPECT_EQ(ClosingEvents(*pair, s), std::vector<EventKind>{EventKind::kPeerClosed});
    EXPECT_TRUE(pair->session(s).finished());
  }
}

TEST_P(Closing, CloseNotifyIsTheLastRecordAndIsFlushedBeforeAHalfClose) {
  auto pair = Established();
  Session& s = pair->session(closer());
  pair->set_auto_read(false);
  ASSERT_EQ(s.Write(Bytes("payload")), 7u);
  s.Close();
  EXPECT_TRUE(s.close_sent());
  EXPECT_FALSE(s.close_flushed());  // still in the output: not yet safe to half-close
  // Walk the records now pending: data first, and the last one is the close_notify alert
  // (TLS 1.3 hides the type; its last record is the alert by order).
  std::vector<uint8_t> wire;
  while (!s.PendingOutput().empty()) {
    auto out = s.PendingOutput();
    wire.insert(wire.end(), out.begin(), out.end());
    s.ConsumeOutput(out.size());
  }
  EXPECT_TRUE(s.close_flushed());
  size_t records = 0, last_start = 0;
  for (size_t i = 0; i + 5 <= wire.size();) {
    last_start = i;
    i += 5 + ((size_t{wire[i + 3]} << 8) | wire[i + 4]);
    ++records;
    ASSERT_LE(i, wire.size());
  }
  EXPECT_EQ(records, 2u);
  if (GetParam().version == TlsVersion::kTls12) {
    EXPECT_EQ(wire[last_start], SSL3_RT_ALERT);
  }
  // The peer gets exactly: the data, then a clean close.
  Session& p = pair->session(peer());
  EXPECT_EQ(p.Feed(wire), wire.size());
  uint8_t buf[32];
  EXPECT_EQ(p.Read(buf), 7u);
  EXPECT_TRUE(p.peer_closed());
  EXPECT_FALSE(p.failed());
}

TEST_P(Closing, EofWithoutCloseNotifyIsTruncationNotAnError) {
  auto pair = Established();
  pair->Write(closer(), "partial");
  pair->Pump();
  pair->InjectEof(peer());  // the closer's transport vanished without close_notify
  EXPECT_EQ(pair->received(peer()), "partial");
  EXPECT_EQ(ClosingEvents(*pair, peer()), std::vector<EventKind>{EventKind::kPeerTruncated});
  EXPECT_FALSE(pair->session(peer()).failed());
  // It may still close its own side cleanly.
  pair->session(peer()).Close();
  pair->Pump();
  EXPECT_TRUE(pair->session(peer()).finished());
}

TEST_P(Closing, CloseNotifyThenEofIsOneCleanEnd) {
  auto pair = Established();
  pair->session(closer()).Close();
  pair->Pump();
  pair->InjectEof(peer());
  EXPECT_EQ(ClosingEvents(*pair, peer()), std::vector<EventKind>{EventKind::kPeerClosed});
}

TEST_P(Closing, APeerThatNeverAnswersOurCloseEndsAtTheTransportsDeadline) {
  auto pair = Established();
  pair->session(closer()).Close();
  pair->DropFrom(peer(), pair->bytes_sent(peer()));  // the peer's bytes never arrive
  pair->Pump();
  EXPECT_TRUE(pair->session(closer()).close_flushed());
  EXPECT_FALSE(pair->session(closer()).finished());
  // The transport's shutdown deadline passes: it stops reading and says so.
  pair->InjectEof(closer());
  EXPECT_EQ(ClosingEvents(*pair, closer()), std::vector<EventKind>{EventKind::kPeerTruncated});
  EXPECT_TRUE(pair->session(closer()).finished());
  EXPECT_FALSE(pair->session(closer()).failed());
}

TEST_P(Closing, DataAfterCloseNotifyIsIgnoredEvenInTheSameFeed) {
  auto pair = Established();
  Session& c = pair->session(closer());
  ASSERT_EQ(c.Write(Bytes("kept")), 4u);
  c.Close();
  std::vector<uint8_t> wire;
  while (!c.PendingOutput().empty()) {
    auto out = c.PendingOutput();
    wire.insert(wire.end(), out.begin(), out.end());
    c.ConsumeOutput(out.size());
  }
  // Junk, then a well-formed-looking record, glued after the close_notify.
  const uint8_t junk[] = {23, 3, 3, 0, 5, 1, 2, 3, 4, 5, 0x2a, 0x2a};
  wire.insert(wire.end(), junk, junk + sizeof junk);
  Session& p = pair->session(peer());
  EXPECT_EQ(p.Feed(wire), wire.size());  // all taken
  EXPECT_TRUE(p.peer_closed());
  EXPECT_FALSE(p.failed());
  uint8_t buf[64];
  EXPECT_EQ(p.Read(buf), 4u);
  EXPECT_EQ(p.Read(buf), 0u);
  EXPECT_EQ(p.Feed(junk), sizeof junk);  // and afterwards
  EXPECT_FALSE(p.failed());
}

TEST_P(Closing, UnreadDataStaysReadableAfterThePeerClosed) {
  auto pair = Established();
  pair->set_auto_read(false);
  const std::string data = Payload(50000, 9);
  pair->Write(closer(), data);
  pair->session(closer()).Close();
  pair->Pump();
  Session& p = pair->session(peer());
  EXPECT_TRUE(p.peer_closed());
  std::string got;
  uint8_t buf[4096];
  while (size_t n = p.Read(buf)) got.append(reinterpret_cast<char*>(buf), n);
  EXPECT_TRUE(got == data);
}

TEST_P(Closing, CloseIsIdempotentAndStopsWrites) {
  auto pair = Established();
  Session& c = pair->session(closer());
  c.Close();
  size_t after_first = c.pending_output_bytes();
  c.Close();
  EXPECT_EQ(c.pending_output_bytes(), after_first);
  EXPECT_EQ(c.Write(Bytes("x")), 0u);
  pair->Pump();
  EXPECT_EQ(Count(*pair, peer(), EventKind::kPeerClosed), 1u);
}

TEST_P(Closing, ClosingAfterAFailureSendsNoCloseNotify) {
  auto pair = Established();
  pair->TamperAt(peer(), pair->bytes_sent(peer()) + 8);
  pair->Write(peer(), "corrupted on the way");
  pair->Pump();
  ASSERT_TRUE(pair->session(closer()).failed());
  pair->session(closer()).Close();
  EXPECT_FALSE(pair->session(closer()).close_sent());
  pair->Pump();
  EXPECT_TRUE(pair->session(closer()).finished());
  EXPECT_EQ(Count(*pair, peer(), EventKind::kPeerClosed), 0u);
}

TEST_P(Closing, CloseWithUnsentOutputKeepsTheOrder) {
  auto pair = Established();
  const std::string data = Payload(200000, 2);
  Session& c = pair->session(closer());
  // Write more than one buffer's worth without pumping: Close() must queue behind it all.
  size_t written = 0;
  while (written < data.size()) {
    size_t n = c.Write(Bytes(std::string_view(data).substr(written)));
    if (n == 0) {
      pair->Pump();
      continue;
    }
    written += n;
  }
  c.Close();
  pair->Pump();
  EXPECT_TRUE(pair->received(peer()) == data);
  EXPECT_EQ(ClosingEvents(*pair, peer()), std::vector<EventKind>{EventKind::kPeerClosed});
}

INSTANTIATE_TEST_SUITE_P(All, Closing,
                         ::testing::Values(CloseCase{TlsVersion::kTls13, Side::kClient},
                                           CloseCase{TlsVersion::kTls13, Side::kServer},
                                           CloseCase{TlsVersion::kTls12, Side::kClient},
                                           CloseCase{TlsVersion::kTls12, Side::kServer}),
                         CaseName);

// ---- Before and during the handshake -------------------------------------------------

TEST(ClosingEarly, CloseBeforeTheHandshakeSendsQueuedDataThenCloseNotify) {
  for (Side closer : {Side::kClient, Side::kServer}) {
    auto pair = MakePair(Client(TlsVersion::kTls13), Server(TlsVersion::kTls13), At(Now()));
    pair->session(closer).Write(Bytes("queued"));
    pair->session(closer).Close();
    EXPECT_FALSE(pair->session(closer).close_sent());  // not before the handshake
    ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
    EXPECT_EQ(pair->received(Other(closer)), "queued");
    EXPECT_TRUE(pair->session(Other(closer)).peer_closed());
    EXPECT_TRUE(pair->session(closer).close_sent());
  }
}

TEST(ClosingEarly, EofDuringTheHandshakeIsAnErrorOnEitherSide) {
  for (Side victim : {Side::kClient, Side::kServer}) {
    auto pair = MakePair(Client(TlsVersion::kTls13), Server(TlsVersion::kTls13), At(Now()));
    // The victim's peer is cut off mid-handshake: the client after its ClientHello, or the
    // server before its first flight.
    if (victim == Side::kClient)
      pair->DropFrom(Side::kServer, 0);
    else
      pair->DropFrom(Side::kClient, pair->client().pending_output_bytes());
    pair->Pump();
    EXPECT_FALSE(pair->session(victim).handshake_done());
    pair->InjectEof(victim);
    ASSERT_TRUE(pair->session(victim).failed());
    EXPECT_EQ(pair->session(victim).error()->code, "ECONNRESET");
    EXPECT_EQ(Count(*pair, victim, EventKind::kPeerTruncated), 0u);
  }
}

TEST(ClosingEarly, CloseOnTheServerAfterResumptionIsStillClean) {
  // A resumed (abbreviated) handshake closes like a full one, and a server that closes
  // right after the handshake still hands out its tickets first.
  auto server = Server(TlsVersion::kTls13);
  auto client = Client(TlsVersion::kTls13);
  auto first = MakePair(client, server, At(Now()));
  first->server().Close();
  ASSERT_TRUE(first->Handshake()) << Summary(*first);
  first->Pump();
  EXPECT_TRUE(first->client().peer_closed());
  std::vector<SavedSession> saved = NewSessions(*first, Side::kClient);
  ASSERT_FALSE(saved.empty()) << Summary(*first);
  auto again = MakePair(client, server, At(Now() + 1, saved.back()));
  again->server().Close();
  ASSERT_TRUE(again->Handshake()) << Summary(*again);
  again->client().Close();
  again->Pump();
  EXPECT_TRUE(again->client().handshake_info().session_reused);
  EXPECT_TRUE(again->client().finished());
  EXPECT_TRUE(again->server().finished());
}

}  // namespace
}  // namespace sansio_tls
