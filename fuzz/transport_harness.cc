#include "fuzz/transport_harness.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace sansio_tls::fuzz {

uint8_t ClientPatternByte(uint64_t i) {
  return static_cast<uint8_t>((i * 131 + (i >> 8) * 7 + 89) & 0xff);
}

Fault Faults::Next() {
  if (in_.empty()) return {};
  ++used_;
  uint8_t b = in_.Byte();
  switch (b & 7) {
    case 1:
      any_ = true;
      return {FaultKind::kInterrupt, 0};
    case 2:
      any_ = true;
      return {FaultKind::kWouldBlock, 0};
    case 3:
    case 4:
      any_ = true;
      return {FaultKind::kShort, 1 + static_cast<size_t>(b >> 3) * (b & 1 ? 1 : 97)};
    default:
      return {};
  }
}

void Echo::Received(std::span<const uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    FUZZ_CHECK(data[i] == ClientPatternByte(received + i),
               "server read a byte that is not the client's (offset %llu)",
               static_cast<unsigned long long>(received + i));
  }
  received += data.size();
}

Peer::Peer(Session session, Wire& wire)
    : session_(std::move(session)), wire_(wire), checker_(session_) {}

void Peer::Write(size_t n) {
  std::vector<uint8_t> data(n);
  for (size_t i = 0; i < n; ++i) data[i] = ClientPatternByte(written_ + i);
  size_t accepted = session_.Write(data);
  FUZZ_CHECK(accepted <= n, "client Write accepted more than offered");
  written_ += accepted;
  checker_.Drain();
}

bool Peer::Flush(size_t limit) {
  bool moved = false;
  for (std::span<const uint8_t> out; !(out = session_.PendingOutput()).empty();) {
    size_t n = limit == 0 ? out.size() : std::min(limit, out.size());
    // After a reset or close the bytes go nowhere, as on a real network.
    if (!wire_.reset && !wire_.client_gone && !wire_.client_fin && !wire_.server_closed) {
      wire_.to_server.insert(wire_.to_server.end(), out.begin(), out.begin() + n);
    }
    session_.ConsumeOutput(n);
    moved = true;
    if (limit != 0) break;
  }
  checker_.Drain();
  return moved;
}

bool Peer::Take(size_t limit) {
  bool moved = false;
  if (!wire_.to_client.empty() && !wire_.reset && !wire_.client_gone) {
    size_t n = limit == 0 ? wire_.to_client.size() : std::min(limit, wire_.to_client.size());
    size_t taken = session_.Feed({wire_.to_client.data(), n});
    wire_.to_client.erase(wire_.to_client.begin(), wire_.to_client.begin() + taken);
    moved = taken > 0;
  }
  checker_.Drain();
  uint8_t buf[4096];
  for (size_t n; (n = session_.Read(buf)) > 0;) {
    for (size_t i = 0; i < n; ++i) {
      FUZZ_CHECK(buf[i] == ClientPatternByte(echoed_ + i), "the echo differs at offset %llu",
                 static_cast<unsigned long long>(echoed_ + i));
    }
    echoed_ += n;
    moved = true;
    checker_.Drain();
  }
  FUZZ_CHECK(echoed_ <= written_, "more echoed than written");
  if (wire_.to_client.empty() && wire_.server_fin && !eof_seen_ && !wire_.reset &&
      !wire_.client_gone) {
    eof_seen_ = true;
    session_.FeedEof();
    checker_.Drain();
    moved = true;
  }
  checker_.CheckSticky();
  return moved;
}

namespace {

// The whole picture for a failure message.
std::string Describe(const Target& target, Peer& peer, const Wire& wire) {
  const Session& c = peer.session();
  char line[256];
  std::snprintf(line, sizeof line,
                " | wire: to_server %zu fin %d reset %d gone %d to_client %zu window %zu "
                "server_fin %d | client: hs %d out %zu pending_write %zu failed %d",
                wire.to_server.size(), wire.client_fin, wire.reset, wire.client_gone,
                wire.to_client.size(), wire.window, wire.server_fin, c.handshake_done(),
                c.pending_output_bytes(), c.pending_write_bytes(), c.failed());
  return target.State() + line;
}

// Bounds: a settle that takes more turns than this without the connection ending is a hang.
constexpr int kMaxSettleTurns = 20000;
// User space a connection may hold: session buffers (64 KiB each way by default), records
// in flight, plus the application's echo backlog.
constexpr size_t kMaxBuffered = 512 * 1024;

// Turns and moves until nothing moves. |final|: the network has room and must settle within
// the bound (not settling is a hang); otherwise (a small send buffer can make progress a byte
// per turn) the bound just ends the step.
bool Settle(Target& target, Peer& peer, Wire& wire, Faults& faults, bool final) {
  bool moved_any = false;
  for (int i = 0; i < (final ? kMaxSettleTurns : kMaxSettleTurns / 10); ++i) {
    uint64_t used = faults.used();
    bool moved = target.Turn();
    moved |= faults.used() != used;
    moved |= peer.Flush(0);
    moved |= peer.Take(0);
    FUZZ_CHECK(target.ended() || target.buffered_bytes() <= kMaxBuffered,
               "the connection holds %zu bytes", target.buffered_bytes());
    if (!moved) return moved_any;
    moved_any = true;
  }
  if (!final) return true;
  FUZZ_CHECK(false, "no settling after %d turns: %s", kMaxSettleTurns,
             Describe(target, peer, wire).c_str());
  return true;
}

}  // namespace

void RunScript(Input& in, Faults& faults, Target& target, Peer& peer, Wire& wire, bool compatible) {
  bool peer_faulted = false;  // the client misbehaved or vanished: failures are allowed
  bool app_ended = false;     // the application ended early: not every echo comes back
  for (int op = 0; op < 256 && !in.empty(); ++op) {
    uint8_t code = in.Byte() & 15;
    switch (code) {
      case 0:
        peer.Write(in.U16() % 16384);
        break;
      case 1:
        peer.Flush(in.U16());
        break;
      case 2:
        peer.Take(in.U16());
        break;
      case 3:
        wire.window = in.U16();
        break;
      case 4:
        target.Turn();
        break;
      case 5:
        peer_faulted |= !peer.session().handshake_done();  // an abort, not an end
        peer.session().Close();
        peer.checker().Drain();
        break;
      case 6:
        peer.Flush(0);
        wire.client_fin = true;
        peer_faulted |= !peer.session().close_sent();
        break;
      case 7:
        wire.reset = true;
        peer_faulted = true;
        break;
      case 8:  // an abrupt close: the FIN follows, unsent client bytes are lost
        wire.client_gone = true;
        wire.client_fin = true;
        peer_faulted = true;
        break;
      case 9:
        wire.so_error = ECONNRESET;
        wire.reset = true;
        peer_faulted = true;
        target.SocketErrorNotified();
        break;
      case 10:
        target.AppEnd();
        app_ended = true;
        break;
      case 11:
        target.echo.hold = !target.echo.hold;
        break;
      case 12:
        Settle(target, peer, wire, faults, /*final=*/false);
        break;
      default:
        break;
    }
    FUZZ_CHECK(target.ended() || target.buffered_bytes() <= kMaxBuffered,
               "the connection holds %zu bytes", target.buffered_bytes());
  }

  // The end: the application reads again, the network has room, the client finishes what
  // it has to say and ends cleanly (unless it already vanished).
  target.echo.hold = false;
  wire.window = SIZE_MAX / 2;
  Settle(target, peer, wire, faults, /*final=*/true);
  bool benign = compatible && !peer_faulted && !app_ended;
  if (benign) {
    FUZZ_CHECK(target.handshake_done() && !peer.session().failed(),
               "benign faults only: the handshake did not complete (%s): %s",
               peer.session().failed() ? peer.session().error()->code.c_str() : "stalled",
               Describe(target, peer, wire).c_str());
    FUZZ_CHECK(peer.echoed() == peer.written(),
               "benign faults only: %llu of %llu bytes came back before the end: %s",
               static_cast<unsigned long long>(peer.echoed()),
               static_cast<unsigned long long>(peer.written()),
               Describe(target, peer, wire).c_str());
  }
  if (!wire.reset && !wire.client_gone) {
    peer.session().Close();
    peer.Flush(0);
    wire.client_fin = true;
  }
  Settle(target, peer, wire, faults, /*final=*/true);
  FUZZ_CHECK(target.ended(), "the client is gone and the connection did not end: %s",
             Describe(target, peer, wire).c_str());
  FUZZ_CHECK(wire.server_closed, "the connection ended and its socket is open");
  if (benign) {
    FUZZ_CHECK(target.ended_clean(), "benign faults only: the connection did not end cleanly");
    FUZZ_CHECK(peer.echoed() == peer.written(), "benign faults only: echo incomplete");
    FUZZ_CHECK(peer.session().peer_closed() && !peer.session().peer_truncated(),
               "benign faults only: the client did not see the server's close_notify");
  }
  if (std::getenv("SANSIO_FUZZ_TRACE")) {
    std::fprintf(stderr,
                 "transports: handshake %d, written %llu, echoed %llu, server read %llu, "
                 "%s end, benign %d, transport faults %d\n",
                 target.handshake_done(), static_cast<unsigned long long>(peer.written()),
                 static_cast<unsigned long long>(peer.echoed()),
                 static_cast<unsigned long long>(target.echo.received),
                 target.ended_clean() ? "clean" : "failed", benign, faults.any());
  }
}

}  // namespace sansio_tls::fuzz
