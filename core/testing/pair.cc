#include "core/testing/pair.h"

#include <algorithm>
#include <chrono>

namespace sansio_tls::testing {

const char* SideName(Side s) { return s == Side::kClient ? "client" : "server"; }

Pair::Pair(Session client, Session server)
    : client_(std::move(client)), server_(std::move(server)) {
  now_ = std::max(client_.now().value_or(Timestamp{0}), server_.now().value_or(Timestamp{0}));
  if (now_ == Timestamp{0}) {
    now_ =
        std::chrono::duration_cast<Timestamp>(std::chrono::system_clock::now().time_since_epoch());
  }
  client_.set_now(now_);
  server_.set_now(now_);
}

void Pair::AdvanceTime(std::chrono::milliseconds d) {
  now_ += d;
  client_.OnTimer(now_);
  server_.OnTimer(now_);
  Drain(Side::kClient);
  Drain(Side::kServer);
}

Result<std::unique_ptr<Pair>> Pair::Create(std::shared_ptr<const Context> client_context,
                                           std::shared_ptr<const Context> server_context,
                                           SessionOptions client_options,
                                           SessionOptions server_options) {
  // The pair's clock starts at the wall clock (test support; the core reads none).
  Timestamp now =
      std::chrono::duration_cast<Timestamp>(std::chrono::system_clock::now().time_since_epoch());
  if (!client_options.now) client_options.now = now;
  if (!server_options.now) server_options.now = now;
  auto c = Session::Create(std::move(client_context), std::move(client_options));
  if (!c.ok()) return c.error();
  auto s = Session::Create(std::move(server_context), std::move(server_options));
  if (!s.ok()) return s.error();
  auto pair = std::make_unique<Pair>(std::move(c).value(), std::move(s).value());
  pair->Drain(Side::kClient);
  pair->Drain(Side::kServer);
  return pair;
}

void Pair::set_fragmentation(Fragmentation f) {
  fragmentation_ = f;
  rng_.seed(f.seed);
}

void Pair::TamperAt(Side from, uint64_t offset, uint8_t mask) {
  tamper_[Index(from)] = std::make_pair(offset, mask);
}

void Pair::DropFrom(Side from, uint64_t offset) { drop_from_[Index(from)] = offset; }

void Pair::InjectEof(Side to) {
  session(to).FeedEof();
  Drain(to);
}

size_t Pair::NextFragment(size_t available) {
  switch (fragmentation_.mode) {
    case Fragmentation::Mode::kWhole:
      return available;
    case Fragmentation::Mode::kOneByte:
      return 1;
    case Fragmentation::Mode::kRandom: {
      size_t max = std::max<size_t>(1, fragmentation_.max_fragment);
      return std::min(available, 1 + static_cast<size_t>(rng_() % max));
    }
  }
  return available;
}

// Moves one fragment from |from| to the other side; returns bytes consumed from |from|.
size_t Pair::MoveOnce(Side from) {
  Session& src = session(from);
  Session& dst = session(Other(from));
  std::span<const uint8_t> out = src.PendingOutput();
  if (out.empty()) return 0;
  size_t i = Index(from);
  size_t n = NextFragment(out.size());
  uint64_t start = sent_[i];

  if (drop_from_[i] && start + n > *drop_from_[i]) {
    if (start >= *drop_from_[i]) {  // entirely in the dropped tail
      src.ConsumeOutput(n);
      sent_[i] += n;
      return n;
    }
    n = static_cast<size_t>(*drop_from_[i] - start);  // deliver up to the cut
  }

  std::span<const uint8_t> fragment = out.first(n);
  if (auto& t = tamper_[i]; t && t->first >= start && t->first < start + n) {
    scratch_.assign(fragment.begin(), fragment.end());
    scratch_[t->first - start] ^= t->second;
    fragment = scratch_;
  }
  size_t taken = dst.Feed(fragment);
  if (taken > 0) {
    src.ConsumeOutput(taken);
    sent_[i] += taken;
  }
  return taken;
}

void Pair::Drain(Side side) {
  Session& s = session(side);
  size_t i = Index(side);
  while (auto e = s.NextEvent()) events_[i].push_back(std::move(*e));
  if (auto_read_) {
    uint8_t buf[16384];
    while (size_t n = s.Read(buf)) received_[i].append(reinterpret_cast<char*>(buf), n);
    while (auto e = s.NextEvent()) events_[i].push_back(std::move(*e));
  }
}

size_t Pair::Pump(size_t max_steps) {
  size_t moved = 0;
  for (size_t step = 0; step < max_steps; ++step) {
    size_t a = MoveOnce(Side::kClient);
    size_t b = MoveOnce(Side::kServer);
    size_t pending = client_.pending_output_bytes() + server_.pending_output_bytes();
    Drain(Side::kClient);
    Drain(Side::kServer);
    moved += a + b;
    // Reading can make a session write (e.g. a KeyUpdate reply held behind unread data).
    bool wrote = client_.pending_output_bytes() + server_.pending_output_bytes() > pending;
    if (a == 0 && b == 0 && !wrote) break;
  }
  return moved;
}

bool Pair::Handshake() {
  Pump();
  return client_.handshake_done() && server_.handshake_done() && !client_.failed() &&
         !server_.failed() && Find(Side::kClient, EventKind::kHandshakeDone) &&
         Find(Side::kServer, EventKind::kHandshakeDone);
}

size_t Pair::Write(Side from, std::string_view data) {
  Session& s = session(from);
  size_t done = 0;
  while (done < data.size()) {
    size_t n = s.Write({reinterpret_cast<const uint8_t*>(data.data()) + done, data.size() - done});
    done += n;
    Drain(from);
    if (n == 0 && Pump() == 0) break;  // no room and nothing moves: stuck or failed
  }
  return done;
}

std::string Pair::TakeReceived(Side side) {
  std::string out;
  out.swap(received_[Index(side)]);
  return out;
}

std::vector<EventKind> Pair::event_kinds(Side side) const {
  std::vector<EventKind> kinds;
  for (const Event& e : events(side)) kinds.push_back(e.kind());
  return kinds;
}

std::string Pair::EventSummary(Side side) const {
  std::string out;
  for (const Event& e : events(side)) {
    if (!out.empty()) out += ",";
    out += EventKindName(e.kind());
    if (e.kind() == EventKind::kError) out += "(" + e.get<Error>().code + ")";
  }
  return out;
}

const Event* Pair::Find(Side side, EventKind kind) const {
  for (const Event& e : events(side))
    if (e.kind() == kind) return &e;
  return nullptr;
}

}  // namespace sansio_tls::testing
