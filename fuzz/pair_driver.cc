#include "fuzz/pair_driver.h"

#include <algorithm>
#include <optional>
#include <string>

namespace sansio_tls::fuzz {
namespace {

uint8_t PatternByte(int side, uint64_t i) {
  return static_cast<uint8_t>((i * 131 + (i >> 8) * 7 + side * 89) & 0xff);
}

}  // namespace

Driver::Driver(Session& client, Session& server)
    : client_checker_(client),
      server_checker_(server),
      ends_{End{0, &client, &client_checker_}, End{1, &server, &server_checker_}} {}

void Driver::Write(End& e, size_t n) {
  std::vector<uint8_t> data(n);
  for (size_t i = 0; i < n; ++i) data[i] = PatternByte(e.index, e.written + i);
  size_t accepted = e.session->Write(data);
  FUZZ_CHECK(accepted <= n, "Write accepted %zu of %zu", accepted, n);
  e.written += accepted;
  Check(e);
}

size_t Driver::Move(End& from, size_t limit) {
  End& to = ends_[1 - from.index];
  std::span<const uint8_t> out = from.session->PendingOutput();
  if (out.empty()) return 0;
  size_t n = limit == 0 ? out.size() : std::min(limit, out.size());
  std::span<const uint8_t> fragment = out.first(n);
  for (auto& [offset, mask] : from.flips) {
    if (offset >= from.out_offset && offset < from.out_offset + n) {
      if (fragment.data() != scratch_.data()) scratch_.assign(fragment.begin(), fragment.end());
      scratch_[offset - from.out_offset] ^= mask;
      fragment = scratch_;
    }
  }
  size_t taken = to.session->Feed(fragment);
  FUZZ_CHECK(taken <= n, "Feed took %zu of %zu", taken, n);
  if (taken < n)
    FUZZ_CHECK(!to.session->wants_input(), "Feed took %zu of %zu but wants_input()", taken, n);
  for (auto& [offset, mask] : from.flips) {
    if (offset >= from.out_offset && offset < from.out_offset + taken) faulted_ = true;
  }
  from.session->ConsumeOutput(taken);
  from.out_offset += taken;
  Check(from);
  Check(to);
  return taken;
}

void Driver::Read(End& e, size_t limit) {
  std::vector<uint8_t> buf(limit);
  size_t n = e.session->Read(buf);
  FUZZ_CHECK(n <= limit, "Read returned %zu for a %zu-byte buffer", n, limit);
  Received(e, {buf.data(), n});
  Check(e);
}

void Driver::Drop(End& from, size_t limit) {
  std::span<const uint8_t> out = from.session->PendingOutput();
  size_t n = std::min(limit, out.size());
  if (n == 0) return;
  from.session->ConsumeOutput(n);
  from.out_offset += n;
  faulted_ = true;
  Check(from);
}

void Driver::Eof(End& e) {
  e.session->FeedEof();
  e.eof = true;
  faulted_ = true;
  Check(e);
  FUZZ_CHECK(e.session->failed() || e.session->peer_closed() || !e.checker->handshake_done() ||
                 e.session->readable_bytes() > 0,
             "after FeedEof an established session neither failed nor reports the end");
}

// Bounded: every round moves at least one byte and the bytes in flight are finite, but cap
// it anyway so a bug shows as a failure.
void Driver::Pump() {
  for (int round = 0; round < 100000; ++round) {
    size_t moved = 0;
    for (End& e : ends_) {
      while (size_t n = Move(e, 0)) moved += n;
    }
    // Reading makes room for input held back, and can make a session write (a KeyUpdate
    // reply held behind unread data): both need another round.
    size_t pending = PendingOutput(), read = 0;
    for (End& e : ends_) read += ReadEverything(e);
    if (moved == 0 && read == 0 && PendingOutput() <= pending) return;
  }
  FUZZ_CHECK(false, "pump did not settle");
}

size_t Driver::PendingOutput() const {
  return ends_[0].session->pending_output_bytes() + ends_[1].session->pending_output_bytes();
}

size_t Driver::ReadEverything(End& e) {
  uint8_t buf[8192];
  size_t total = 0;
  while (size_t n = e.session->Read(buf)) {
    Received(e, {buf, n});
    total += n;
  }
  Check(e);
  return total;
}

void Driver::Check(End& e) {
  e.checker->Drain();
  e.checker->CheckSticky();
}

void Driver::Received(End& e, std::span<const uint8_t> data) {
  const End& peer = ends_[1 - e.index];
  for (size_t i = 0; i < data.size(); ++i) {
    FUZZ_CHECK(e.received + i < peer.written, "%s received byte %llu but the peer only wrote %llu",
               e.index ? "server" : "client", static_cast<unsigned long long>(e.received + i),
               static_cast<unsigned long long>(peer.written));
    FUZZ_CHECK(data[i] == PatternByte(peer.index, e.received + i),
               "%s received a wrong byte at %llu", e.index ? "server" : "client",
               static_cast<unsigned long long>(e.received + i));
  }
  e.received += data.size();
}

void Driver::RunOps(Input& in, int max_ops, int stop_op) {
  for (int ops = 0; !in.empty() && ops < max_ops; ++ops) {
    uint8_t op = in.Byte();
    if (stop_op >= 0 && (op & 15) == stop_op) return;
    End& e = end((op >> 4) & 1);
    switch (op & 15) {
      case 0:
        Write(e, in.U16() % 20000 + 1);
        break;
      case 1:
        Move(e, in.U16());
        break;
      case 2:
        Read(e, in.U16() % 20000 + 1);
        break;
      case 3:
        e.session->Close();
        Check(e);
        break;
      case 4: {
        uint64_t ahead = in.U16();
        e.flips.emplace_back(e.out_offset + ahead, static_cast<uint8_t>(in.Byte() | 1));
        break;
      }
      case 5:
        Eof(e);
        break;
      case 6:
        Drop(e, in.U16());
        break;
      case 7:
        Pump();
        break;
      case 8: {
        bool was_failed = e.session->failed();
        std::optional<Error> refused = e.session->KeyUpdate(in.Byte() & 1);
        if (!refused) {
          FUZZ_CHECK(!was_failed && e.checker->handshake_done() &&
                         e.session->handshake_info().version == TlsVersion::kTls13,
                     "KeyUpdate accepted on a connection that is not established TLS 1.3");
        } else {
          FUZZ_CHECK(!refused->code.empty(), "KeyUpdate refused without a code");
        }
        Check(e);
        break;
      }
      case 9: {
        auto cert = e.session->peer_certificate(in.Byte() & 1);
        if (cert) FUZZ_CHECK(!cert->raw.empty(), "peer certificate without DER");
        break;
      }
      case 10:
        e.checker->AnswerPending();
        Check(e);
        break;
      default:
        break;
    }
  }
}

void Driver::CheckCompleted() {
  for (int i = 0; i < 2; ++i) {
    End& e = ends_[i];
    const char* name = i ? "server" : "client";
    FUZZ_CHECK(!e.session->failed(), "%s failed without a fault: %s %s", name,
               e.session->error()->code.c_str(), e.session->error()->message.c_str());
    FUZZ_CHECK(e.checker->handshake_done(), "%s: no handshake without a fault", name);
    const End& peer = ends_[1 - i];
    FUZZ_CHECK(e.received == peer.written, "%s received %llu of %llu bytes without a fault", name,
               static_cast<unsigned long long>(e.received),
               static_cast<unsigned long long>(peer.written));
    Session& other = *peer.session;
    FUZZ_CHECK(e.session->pending_output_bytes() == 0,
               "%s has %zu bytes of output left after pumping; the peer: wants_input=%d "
               "failed=%d peer_closed=%d close_sent=%d readable=%zu",
               name, e.session->pending_output_bytes(), other.wants_input(), other.failed(),
               other.peer_closed(), other.close_sent(), other.readable_bytes());
  }
  // Both ends derive the same secrets: exporters, channel bindings, Finished messages.
  Session& c = *ends_[0].session;
  Session& s = *ends_[1].session;
  const uint8_t context[] = {0x66, 0x75, 0x7a, 0x7a};
  auto kc = c.ExportKeyingMaterial(48, "EXPORTER-fuzz", context);
  auto ks = s.ExportKeyingMaterial(48, "EXPORTER-fuzz", context);
  FUZZ_CHECK(kc.ok() && ks.ok() && *kc == *ks, "the two ends export different keying material");
  for (const char* type : {"tls-unique", "tls-exporter"}) {
    auto bc = c.ChannelBinding(type);
    auto bs = s.ChannelBinding(type);
    FUZZ_CHECK(bc.ok() == bs.ok() && (!bc.ok() || *bc == *bs), "the two ends disagree on %s", type);
  }
  FUZZ_CHECK(c.finished_message() == s.peer_finished_message() &&
                 s.finished_message() == c.peer_finished_message(),
             "the Finished messages sent and received differ");
}

}  // namespace sansio_tls::fuzz
