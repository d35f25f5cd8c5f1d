// Core benchmarks: every figure measured on our Session and on a baseline written directly on
// BoringSSL with memory BIOs (bench/raw_tls.h), in this one binary, and reported as a ratio.
//
//   ./bazelw run -c opt //bench:core                       # everything (about 2 minutes)
//   ./bazelw run -c opt //bench:core -- --idle_sessions=1000 --benchmark_filter=Handshake
//
// Output: Google Benchmark's table, then a summary table (figure, baseline, ours, ratio,
// target, verdict) and one JSON line per figure (lines starting with {"figure":).
//
// Method: one thread does both ends. Rates use CPU time of the benchmark thread (the machine
// is shared, so wall time is noisier). Each benchmark runs --benchmark_repetitions times
// (default 3) with random interleaving, so the baseline and ours see the same load; the
// summary takes the median repetition. Heap figures come from bench/heap_counter.h.
#include <malloc.h>
#include <openssl/aead.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/heap_counter.h"
#include "bench/raw_tls.h"
#include "benchmark/benchmark.h"
#include "core/context.h"
#include "core/negotiation/sni_matcher.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"

namespace sansio_tls::bench {
namespace {

using testing::KeyType;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::abort();
}

// ---- Scenarios and fixtures ------------------------------------------------------------

struct NamedScenario {
  const char* name;
  Scenario scenario;
};

const NamedScenario kHandshakeScenarios[] = {
    {"tls13_x25519_ecdsa_p256/verify", {KeyType::kEcdsaP256, TLS1_3_VERSION, "", true}},
    {"tls13_x25519_ecdsa_p256/noverify", {KeyType::kEcdsaP256, TLS1_3_VERSION, "", false}},
    {"tls13_x25519_rsa2048/verify", {KeyType::kRsa2048, TLS1_3_VERSION, "", true}},
    {"tls13_x25519_rsa2048/noverify", {KeyType::kRsa2048, TLS1_3_VERSION, "", false}},
    {"tls12_ecdhe_ecdsa_p256/verify", {KeyType::kEcdsaP256, TLS1_2_VERSION, "", true}},
    {"tls12_ecdhe_ecdsa_p256/noverify", {KeyType::kEcdsaP256, TLS1_2_VERSION, "", false}},
};

const NamedScenario kResumeScenarios[] = {
    {"tls13_ticket", {KeyType::kEcdsaP256, TLS1_3_VERSION, "", true}},
    {"tls12_session_id", {KeyType::kEcdsaP256, TLS1_2_VERSION, "", true, true}},
};

// Bulk: TLS 1.3 picks AES-128-GCM on this CPU (AES-NI) and its suites cannot be configured
// in this BoringSSL, so ChaCha20-Poly1305 is measured over TLS 1.2.
struct BulkCipher {
  const char* name;
  Scenario scenario;
  const EVP_AEAD* (*aead)();
};
const BulkCipher kBulkCiphers[] = {
    {"aes128gcm_tls13", {KeyType::kEcdsaP256, TLS1_3_VERSION, "", true}, EVP_aead_aes_128_gcm},
    {"chacha20poly1305_tls12",
     {KeyType::kEcdsaP256, TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", true},
     EVP_aead_chacha20_poly1305},
};
const size_t kWriteSizes[] = {16 * 1024, 1024};

struct Fixture {
  testing::TestPki pki;
  Scenario scenario;
  RawContexts raw;
  std::shared_ptr<const Context> client, server;
};

template <class Options>
std::shared_ptr<const Context> MakeContext(const Options& options) {
  auto ctx = Context::Create(options);
  if (!ctx.ok()) Die("Context::Create: " + ctx.error().message);
  return ctx.value();
}

TlsVersion ToVersion(uint16_t v) {
  return v == TLS1_3_VERSION ? TlsVersion::kTls13 : TlsVersion::kTls12;
}

// One fixture per distinct scenario, built on first use (key generation is slow).
const Fixture& GetFixture(const Scenario& sc) {
  static std::map<std::string, std::unique_ptr<Fixture>> fixtures;
  std::string key = std::to_string(int(sc.key)) + "/" + std::to_string(sc.version) + "/" +
                    sc.ciphers + "/" + std::to_string(sc.verify) + "/" +
                    std::to_string(sc.tls12_session_ids);
  auto& slot = fixtures[key];
  if (slot) return *slot;
  static std::map<int, testing::TestPki> pkis;  // one PKI per key type
  auto pki_it = pkis.find(int(sc.key));
  if (pki_it == pkis.end()) pki_it = pkis.emplace(int(sc.key), testing::MakeTestPki(sc.key)).first;

  auto f = std::make_unique<Fixture>();
  f->pki = pki_it->second;
  f->scenario = sc;
  f->raw = RawContexts::Make(f->pki, sc);
  ServerContextOptions server{.credentials = {.key_pem = f->pki.server.key_pem,
                                              .cert_chain_pem = f->pki.server_chain_pem()},
                              .ciphers = sc.ciphers,
                              .min_version = ToVersion(sc.version),
                              .max_version = ToVersion(sc.version)};
  ClientContextOptions client{.ca_pems = {f->pki.root.cert_pem},
                              .ciphers = sc.ciphers,
                              .min_version = ToVersion(sc.version),
                              .max_version = ToVersion(sc.version),
                              // There is no switch to skip verification: without rejection the
                              // chain and name are still checked to report `authorized` (Node).
                              .reject_unauthorized = sc.verify};
  // TLS 1.2 by session ID: the server issues no tickets and keeps sessions in its cache.
  if (sc.tls12_session_ids) server.session_tickets = false;
  f->server = MakeContext(server);
  f->client = MakeContext(client);
  slot = std::move(f);
  return *slot;
}

// ---- Our side: the loop every transport runs -------------------------------------------

uint8_t g_sink[16 * 1024];

void DrainEvents(Session& s) {
  while (std::optional<Event> e = s.NextEvent()) {
    if (e->kind() == EventKind::kError) Die("session error: " + e->get<Error>().message);
  }
}

// Moves all of |from|'s pending ciphertext into |to|, as a transport writing to a socket.
void Move(Session& from, Session& to) {
  for (auto out = from.PendingOutput(); !out.empty(); out = from.PendingOutput()) {
    size_t n = to.Feed(out);
    if (n == 0) Die("Feed took nothing");
    from.ConsumeOutput(n);
  }
  DrainEvents(to);
}

void ReadExactly(Session& s, size_t n) {
  while (n > 0) {
    size_t r = s.Read({g_sink, std::min(n, sizeof g_sink)});
    if (r == 0) Die("Read returned nothing");
    n -= r;
  }
}

struct OurConnection {
  std::optional<Session> client, server;

  explicit OurConnection(const Fixture& f, std::optional<SavedSession> resume = std::nullopt) {
    auto c = Session::Create(
        f.client,
        {.servername = "localhost", .now = testing::WallNow(), .session = std::move(resume)});
    auto s = Session::Create(f.server, {.now = testing::WallNow()});
    if (!c.ok() || !s.ok()) Die("Session::Create");
    client = std::move(c).value();
    server = std::move(s).value();
  }

  // Handshake, then one byte each way (delivers TLS 1.3 tickets), like RawConnection.
  void Connect() {
    DrainEvents(*client);
    for (int round = 0; round < 64; ++round) {
      Move(*client, *server);
      Move(*server, *client);
      if (client->handshake_done() && server->handshake_done()) {
        static const uint8_t kByte = 'x';
        if (client->Write({&kByte, 1}) != 1) Die("client Write");
        Move(*client, *server);
        ReadExactly(*server, 1);
        if (server->Write({&kByte, 1}) != 1) Die("server Write");
        Move(*server, *client);
        ReadExactly(*client, 1);
        return;
      }
      if (client->failed() || server->failed()) break;
    }
    Die("our handshake did not finish");
  }

  void SendToServer(const uint8_t* data, size_t n) {
    if (client->Write({data, n}) != n) Die("Write accepted less");
    Move(*client, *server);
    ReadExactly(*server, n);
  }

  // The same, the server taking its plaintext in place (PeekPlaintext/ConsumePlaintext)
  // instead of copying it out with Read().
  void SendToServerView(const uint8_t* data, size_t n) {
    if (client->Write({data, n}) != n) Die("Write accepted less");
    Move(*client, *server);
    while (n > 0) {
      std::span<const uint8_t> view = server->PeekPlaintext();
      if (view.empty()) Die("PeekPlaintext returned nothing");
      size_t m = std::min(n, view.size());
      benchmark::DoNotOptimize(view.data());
      server->ConsumePlaintext(m);
      n -= m;
    }
  }
};

// ---- Benchmarks --------------------------------------------------------------------------

// Counts heap calls over the timed loop: allocations per iteration, baseline vs ours.
struct AllocCounter {
  benchmark::State& state;
  HeapSnapshot start = TakeHeapSnapshot();
  ~AllocCounter() {
    HeapSnapshot end = TakeHeapSnapshot();
    state.counters["allocs"] =
        benchmark::Counter(double(end.total_allocations() - start.total_allocations()),
                           benchmark::Counter::kAvgIterations);
  }
};

void BM_HandshakeRaw(benchmark::State& state, Scenario sc) {
  const Fixture& f = GetFixture(sc);
  AllocCounter count{state};
  for (auto _ : state) {
    RawConnection c(f.raw, RawConnection::Transport::kBioPair);
    c.Connect();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_HandshakeOurs(benchmark::State& state, Scenario sc) {
  const Fixture& f = GetFixture(sc);
  {  // the configuration must give the same result as the baseline's
    OurConnection c(f);
    c.Connect();
    if (sc.verify && !c.client->authorized()) Die("not authorized");
  }
  AllocCounter count{state};
  for (auto _ : state) {
    OurConnection c(f);
    c.Connect();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ResumedRaw(benchmark::State& state, Scenario sc) {
  const Fixture& f = GetFixture(sc);
  bssl::UniquePtr<SSL_SESSION> session;
  {
    RawConnection c(f.raw, RawConnection::Transport::kBioPair);
    c.Connect();
    session = c.TakeSession();
  }
  {
    RawConnection c(f.raw, RawConnection::Transport::kBioPair, session.get());
    c.Connect();
    if (!c.reused()) {
      state.SkipWithError("the baseline did not resume");
      return;
    }
  }
  AllocCounter count{state};
  for (auto _ : state) {
    RawConnection c(f.raw, RawConnection::Transport::kBioPair, session.get());
    c.Connect();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ResumedOurs(benchmark::State& state, Scenario sc) {
  const Fixture& f = GetFixture(sc);
  std::optional<SavedSession> session;
  {
    OurConnection c(f);
    c.Connect();
    session = c.client->saved_session();
  }
  if (!session) {
    state.SkipWithError("the client kept no resumable session");
    return;
  }
  {
    OurConnection c(f, session);
    c.Connect();
    if (!c.client->handshake_info().session_reused) {
      state.SkipWithError("our session did not resume");
      return;
    }
  }
  AllocCounter count{state};
  for (auto _ : state) {
    OurConnection c(f, session);
    c.Connect();
  }
  state.SetItemsProcessed(state.iterations());
}

enum class BulkSide { kRawBioPair, kRawMemoryBios, kOurs, kOursView };

void BM_Bulk(benchmark::State& state, BulkCipher cipher, BulkSide side, size_t write_size) {
  const Fixture& f = GetFixture(cipher.scenario);
  std::vector<uint8_t> data(write_size, 0xa5);
  if (side == BulkSide::kOurs || side == BulkSide::kOursView) {
    OurConnection c(f);
    c.Connect();
    AllocCounter count{state};
    if (side == BulkSide::kOurs) {
      for (auto _ : state) c.SendToServer(data.data(), data.size());
    } else {
      for (auto _ : state) c.SendToServerView(data.data(), data.size());
    }
  } else {
    RawConnection c(f.raw, side == BulkSide::kRawBioPair ? RawConnection::Transport::kBioPair
                                                         : RawConnection::Transport::kMemoryBios);
    c.Connect();
    AllocCounter count{state};
    for (auto _ : state) c.SendToServer(data.data(), data.size());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(write_size));
}

void BM_Aead(benchmark::State& state, const EVP_AEAD* (*aead)(), size_t record_size) {
  AeadLoop loop(aead(), record_size);
  for (auto _ : state) loop.SealOpen();
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(record_size));
}

// SNI: |n| contexts, half exact names "host<i>.zone<i%100>.example.com", half first-label
// wildcards "*.svc<i>.example.net", added interleaved.
std::string ExactName(int i) {
  return "host" + std::to_string(i) + ".zone" + std::to_string(i % 100) + ".example.com";
}
std::string WildcardPattern(int i) { return "*.svc" + std::to_string(i) + ".example.net"; }

// Node's way (lib/_tls_wrap.js SNICallback): scan the contexts, most recent first, matching
// each pattern's regexp. Here: a label-by-label glob with `*` = [^.]*, no regexp engine.
class LinearSni {
 public:
  void Add(std::string pattern) { patterns_.push_back(std::move(pattern)); }
  int Lookup(std::string_view name) const {
    for (size_t i = patterns_.size(); i-- > 0;) {
      if (Match(patterns_[i], name)) return int(i);
    }
    return -1;
  }

 private:
  static bool Match(std::string_view p, std::string_view n) {
    while (!p.empty()) {
      size_t pd = p.find('.'), nd = n.find('.');
      std::string_view pl = p.substr(0, pd), nl = n.substr(0, nd);
      if (!MatchLabel(pl, nl)) return false;
      if ((pd == p.npos) != (nd == n.npos)) return false;
      if (pd == p.npos) return true;
      p.remove_prefix(pd + 1);
      n.remove_prefix(nd + 1);
    }
    return n.empty();
  }
  static bool MatchLabel(std::string_view p, std::string_view n) {
    size_t star = p.find('*');
    auto eq = [](std::string_view a, std::string_view b) {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(uint8_t(a[i])) != std::tolower(uint8_t(b[i]))) return false;
      }
      return true;
    };
    if (star == p.npos) return eq(p, n);
    std::string_view head = p.substr(0, star), tail = p.substr(star + 1);
    return n.size() >= head.size() + tail.size() && eq(head, n.substr(0, head.size())) &&
           eq(tail, n.substr(n.size() - tail.size()));
  }
  std::vector<std::string> patterns_;
};

const Fixture& SniFixture() { return GetFixture({KeyType::kEcdsaP256, TLS1_3_VERSION, "", true}); }

// A server Context with |n| SNI contexts (sharing one set of credentials, as identical
// entries share one Context: the lookup cost does not depend on the credentials).
std::shared_ptr<const Context> SniServer(int n) {
  static std::map<int, std::shared_ptr<const Context>> cache;
  auto& slot = cache[n];
  if (slot) return slot;
  const Fixture& f = SniFixture();
  ServerContextOptions options{
      .credentials = {.key_pem = f.pki.server.key_pem, .cert_chain_pem = f.pki.server_chain_pem()}};
  for (int i = 0; i < n / 2; ++i) {
    options.sni_contexts.push_back({ExactName(i), options.credentials, {}});
    options.sni_contexts.push_back({WildcardPattern(i), options.credentials, {}});
  }
  slot = MakeContext(options);
  return slot;
}

const LinearSni& SniScan(int n) {
  static std::map<int, LinearSni> cache;
  auto [it, fresh] = cache.try_emplace(n);
  if (fresh) {
    for (int i = 0; i < n / 2; ++i) {
      it->second.Add(ExactName(i));
      it->second.Add(WildcardPattern(i));
    }
  }
  return it->second;
}

enum class SniQuery { kExact, kWildcard, kMiss };
std::string SniName(SniQuery q, int n) {
  int i = n / 4;  // added a quarter of the way in: the scan visits 3/4 of the table
  switch (q) {
    case SniQuery::kExact:
      return ExactName(i);
    case SniQuery::kWildcard:
      return "node-17.svc" + std::to_string(i) + ".example.net";
    case SniQuery::kMiss:
      return "unknown.nowhere.example.com";
  }
  return "";
}

void BM_SniOurs(benchmark::State& state, SniQuery q, int n) {
  std::shared_ptr<const Context> server = SniServer(n);
  std::string name = SniName(q, n);
  if ((server->ContextForServername(name) != nullptr) != (q != SniQuery::kMiss)) {
    state.SkipWithError("unexpected SNI lookup result");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(server->ContextForServername(name));
}

void BM_SniScan(benchmark::State& state, SniQuery q, int n) {
  const LinearSni& scan = SniScan(n);
  std::string name = SniName(q, n);
  if ((scan.Lookup(name) >= 0) != (q != SniQuery::kMiss)) {
    state.SkipWithError("unexpected SNI scan result");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(scan.Lookup(name));
}

// ---- Idle memory (not a timed benchmark) -------------------------------------------------

struct IdleMemory {
  int sessions = 0;  // pairs
  // Live heap bytes per session, by owner.
  double client_boringssl = 0, client_ours = 0, server_boringssl = 0, server_ours = 0;
  double transport = 0;      // raw only: the BIOs' share per pair (dropped before the rest)
  double malloc_in_use = 0;  // per pair, glibc's view (chunk headers and all), everything
  double client() const { return client_boringssl + client_ours; }
  double server() const { return server_boringssl + server_ours; }
  double pair() const { return client() + server(); }
};

int64_t MallocInUse() {
  struct mallinfo2 mi = mallinfo2();
  return int64_t(mi.uordblks + mi.hblkhd);
}

IdleMemory MeasureIdleRaw(const Fixture& f, int n) {
  std::vector<std::unique_ptr<RawConnection>> conns;
  conns.reserve(n);
  malloc_trim(0);
  HeapSnapshot s0 = TakeHeapSnapshot();
  int64_t m0 = MallocInUse();
  for (int i = 0; i < n; ++i) {
    conns.push_back(std::make_unique<RawConnection>(f.raw, RawConnection::Transport::kMemoryBios));
    conns.back()->Connect();
  }
  int64_t m1 = MallocInUse();
  HeapSnapshot s1 = TakeHeapSnapshot();
  for (auto& c : conns) c->DropTransport();
  HeapSnapshot s2 = TakeHeapSnapshot();
  for (auto& c : conns) c->FreeServer();
  HeapSnapshot s3 = TakeHeapSnapshot();
  IdleMemory m;
  m.sessions = n;
  // The connection objects themselves are harness, not TLS state.
  double harness = double(sizeof(RawConnection));
  m.transport = double(s1.total() - s2.total()) / n;
  m.server_boringssl = double(s2.boringssl() - s3.boringssl()) / n;
  m.server_ours = double(s2.ours() - s3.ours()) / n;
  m.client_boringssl = double(s3.boringssl() - s0.boringssl()) / n;
  m.client_ours = double(s3.ours() - s0.ours()) / n - harness;
  m.malloc_in_use = double(m1 - m0) / n;
  conns.clear();
  return m;
}

IdleMemory MeasureIdleOurs(const Fixture& f, int n) {
  std::vector<std::optional<Session>> clients, servers;
  clients.reserve(n);
  servers.reserve(n);
  malloc_trim(0);
  HeapSnapshot s0 = TakeHeapSnapshot();
  int64_t m0 = MallocInUse();
  for (int i = 0; i < n; ++i) {
    OurConnection c(f);
    c.Connect();
    clients.push_back(std::move(c.client));
    servers.push_back(std::move(c.server));
  }
  int64_t m1 = MallocInUse();
  HeapSnapshot s1 = TakeHeapSnapshot();
  servers.clear();
  HeapSnapshot s2 = TakeHeapSnapshot();
  IdleMemory m;
  m.sessions = n;
  m.server_boringssl = double(s1.boringssl() - s2.boringssl()) / n;
  m.server_ours = double(s1.ours() - s2.ours()) / n;
  m.client_boringssl = double(s2.boringssl() - s0.boringssl()) / n;
  m.client_ours = double(s2.ours() - s0.ours()) / n;
  m.malloc_in_use = double(m1 - m0) / n;
  clients.clear();
  return m;
}

// ---- Reporting ---------------------------------------------------------------------------

// Keeps every repetition's rate (items or bytes per CPU second) by benchmark name.
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration) continue;
      if (r.error_occurred) {
        errors_[r.run_name.function_name] = r.error_message;
        continue;
      }
      double per_iter = r.cpu_accumulated_time / double(r.iterations);
      auto& s = samples_[r.run_name.function_name];
      s.seconds_per_iteration.push_back(per_iter);
      auto it = r.counters.find("allocs");
      if (it != r.counters.end()) s.allocs = it->second.value;
    }
    // The console shows the aggregates when there are repetitions, else the single run.
    std::vector<Run> shown;
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate) shown.push_back(r);
    }
    ConsoleReporter::ReportRuns(shown.empty() ? runs : shown);
  }

  // Median seconds per iteration; NaN if the benchmark did not run.
  double Median(const std::string& name) const {
    auto it = samples_.find(name);
    if (it == samples_.end() || it->second.seconds_per_iteration.empty()) return NAN;
    std::vector<double> v = it->second.seconds_per_iteration;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
  double Allocs(const std::string& name) const {
    auto it = samples_.find(name);
    return it == samples_.end() ? NAN : it->second.allocs;
  }
  std::string Error(const std::string& name) const {
    auto it = errors_.find(name);
    return it == errors_.end() ? "" : it->second;
  }

 private:
  struct Samples {
    std::vector<double> seconds_per_iteration;
    double allocs = NAN;
  };
  std::map<std::string, Samples> samples_;
  std::map<std::string, std::string> errors_;
};

struct Figure {
  std::string id;         // e.g. "handshake/tls13_x25519_ecdsa_p256/verify"
  std::string unit;       // "handshakes/s", "MB/s", "bytes", "ns"
  double baseline = NAN;  // the raw BoringSSL figure
  double ours = NAN;
  double ratio = NAN;  // ours / baseline (what the target is about)
  std::string target;  // e.g. ">= 0.97x"
  bool met = false;
  bool checked = false;                               // has a target
  std::string note;                                   // pending reasons, extra columns
  std::vector<std::pair<std::string, double>> extra;  // more JSON fields
};

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string Num(double v) {
  if (std::isnan(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, std::fabs(v) >= 100 ? "%.0f" : "%.3g", v);
  return buf;
}

void PrintFigures(const std::vector<Figure>& figures) {
  std::printf("\n%-52s %12s %12s %8s %-16s %-6s %s\n", "figure", "baseline", "ours", "ratio",
              "target", "met", "unit / note");
  std::printf("%s\n", std::string(130, '-').c_str());
  for (const Figure& f : figures) {
    std::printf("%-52s %12s %12s %8s %-16s %-6s %s%s%s\n", f.id.c_str(), Num(f.baseline).c_str(),
                Num(f.ours).c_str(), Num(f.ratio).c_str(), f.target.c_str(),
                !f.checked ? "-" : (f.met ? "yes" : "NO"), f.unit.c_str(),
                f.note.empty() ? "" : "; ", f.note.c_str());
  }
  std::printf("\n");
  for (const Figure& f : figures) {
    std::printf("{\"figure\":\"%s\",\"unit\":\"%s\",\"baseline\":%s,\"ours\":%s,\"ratio\":%s",
                JsonEscape(f.id).c_str(), JsonEscape(f.unit).c_str(), Num(f.baseline).c_str(),
                Num(f.ours).c_str(), Num(f.ratio).c_str());
    for (const auto& [k, v] : f.extra) std::printf(",\"%s\":%s", k.c_str(), Num(v).c_str());
    std::printf(",\"target\":\"%s\",\"met\":%s", JsonEscape(f.target).c_str(),
                !f.checked ? "null" : (f.met ? "true" : "false"));
    if (!f.note.empty()) std::printf(",\"note\":\"%s\"", JsonEscape(f.note).c_str());
    std::printf("}\n");
  }
  std::fflush(stdout);
}

// Rate figure: higher is better, ratio = ours / baseline.
Figure RateFigure(const Collector& c, const std::string& id, const std::string& unit,
                  const std::string& raw_name, const std::string& ours_name, double per_iter,
                  double min_ratio) {
  Figure f;
  f.id = id;
  f.unit = unit;
  f.baseline = per_iter / c.Median(raw_name);
  f.ours = per_iter / c.Median(ours_name);
  f.ratio = f.ours / f.baseline;
  char t[32];
  std::snprintf(t, sizeof t, ">= %.2fx", min_ratio);
  f.target = t;
  f.checked = !std::isnan(f.ratio);
  f.met = f.checked && f.ratio >= min_ratio;
  f.extra = {{"allocs_per_iter_baseline", c.Allocs(raw_name)},
             {"allocs_per_iter_ours", c.Allocs(ours_name)}};
  if (std::string e = c.Error(ours_name); !e.empty()) f.note = e;
  return f;
}

std::string HandshakeName(const char* side, const char* scenario) {
  return std::string("Handshake/") + side + "/" + scenario;
}
std::string ResumedName(const char* side, const char* scenario) {
  return std::string("Resumed/") + side + "/" + scenario;
}
std::string BulkName(const char* side, const char* cipher, size_t size) {
  return std::string("Bulk/") + side + "/" + cipher + "/" + std::to_string(size / 1024) + "KiB";
}
std::string AeadName(const char* cipher, size_t size) {
  return std::string("AeadSealOpen/") + cipher + "/" + std::to_string(size / 1024) + "KiB";
}
const char* SniQueryName(SniQuery q) {
  return q == SniQuery::kExact ? "exact" : q == SniQuery::kWildcard ? "wildcard" : "miss";
}
std::string SniName(const char* side, SniQuery q, int n) {
  return std::string("Sni/") + side + "/" + SniQueryName(q) + "/" + std::to_string(n);
}

void RegisterAll() {
  for (const NamedScenario& s : kHandshakeScenarios) {
    benchmark::RegisterBenchmark(HandshakeName("raw", s.name).c_str(), BM_HandshakeRaw, s.scenario);
    benchmark::RegisterBenchmark(HandshakeName("ours", s.name).c_str(), BM_HandshakeOurs,
                                 s.scenario);
  }
  for (const NamedScenario& s : kResumeScenarios) {
    benchmark::RegisterBenchmark(ResumedName("raw", s.name).c_str(), BM_ResumedRaw, s.scenario);
    benchmark::RegisterBenchmark(ResumedName("ours", s.name).c_str(), BM_ResumedOurs, s.scenario);
  }
  for (const BulkCipher& c : kBulkCiphers) {
    for (size_t size : kWriteSizes) {
      benchmark::RegisterBenchmark(BulkName("raw_bio_pair", c.name, size).c_str(), BM_Bulk, c,
                                   BulkSide::kRawBioPair, size);
      benchmark::RegisterBenchmark(BulkName("raw_memory_bios", c.name, size).c_str(), BM_Bulk, c,
                                   BulkSide::kRawMemoryBios, size);
      benchmark::RegisterBenchmark(BulkName("ours", c.name, size).c_str(), BM_Bulk, c,
                                   BulkSide::kOurs, size);
      benchmark::RegisterBenchmark(BulkName("ours_view", c.name, size).c_str(), BM_Bulk, c,
                                   BulkSide::kOursView, size);
      benchmark::RegisterBenchmark(AeadName(c.name, size).c_str(), BM_Aead, c.aead, size);
    }
  }
  for (int n : {100, 10000}) {
    for (SniQuery q : {SniQuery::kExact, SniQuery::kWildcard, SniQuery::kMiss}) {
      benchmark::RegisterBenchmark(SniName("linear_scan", q, n).c_str(), BM_SniScan, q, n);
      benchmark::RegisterBenchmark(SniName("ours", q, n).c_str(), BM_SniOurs, q, n);
    }
  }
}

std::vector<Figure> BuildFigures(const Collector& c) {
  std::vector<Figure> figures;
  for (const NamedScenario& s : kHandshakeScenarios) {
    figures.push_back(RateFigure(c, std::string("handshake_full/") + s.name, "handshakes/s",
                                 HandshakeName("raw", s.name), HandshakeName("ours", s.name), 1,
                                 0.97));
    if (!s.scenario.verify) {
      figures.back().note =
          "both verify the chain without failing on it (BoringSSL's SSL_VERIFY_NONE client still "
          "verifies); ours also checks the name (reject_unauthorized=false)";
    }
  }
  for (const NamedScenario& s : kResumeScenarios) {
    figures.push_back(RateFigure(c, std::string("handshake_resumed/") + s.name, "handshakes/s",
                                 ResumedName("raw", s.name), ResumedName("ours", s.name), 1, 0.97));
  }
  for (const BulkCipher& b : kBulkCiphers) {
    for (size_t size : kWriteSizes) {
      std::string id = std::string("bulk/") + b.name + "/" + std::to_string(size / 1024) + "KiB";
      double mb = double(size) / 1e6;
      Figure f = RateFigure(c, id, "MB/s", BulkName("raw_bio_pair", b.name, size),
                            BulkName("ours", b.name, size), mb, 1.10);
      double membio = mb / c.Median(BulkName("raw_memory_bios", b.name, size));
      double limit = mb / c.Median(AeadName(b.name, size));
      double of_limit = f.ours / limit;
      f.extra.push_back({"baseline_memory_bios", membio});
      f.extra.push_back({"ratio_vs_memory_bios", f.ours / membio});
      f.extra.push_back({"aead_seal_open_limit", limit});
      f.extra.push_back({"fraction_of_aead_limit", of_limit});
      f.target = ">= 1.10x, >= 0.80 of AEAD";
      f.met = f.checked && f.ratio >= 1.10 && of_limit >= 0.80;
      char note[160];
      std::snprintf(note, sizeof note,
                    "vs memory BIOs %.2fx; AEAD seal+open limit %.0f MB/s, ours at %.2f of it",
                    f.ours / membio, limit, of_limit);
      f.note = note;
      figures.push_back(f);

      // The same with the plaintext view (PeekPlaintext/ConsumePlaintext) instead of Read().
      Figure v = RateFigure(
          c, std::string("bulk_view/") + b.name + "/" + std::to_string(size / 1024) + "KiB", "MB/s",
          BulkName("raw_bio_pair", b.name, size), BulkName("ours_view", b.name, size), mb, 1.10);
      double view_of_limit = v.ours / limit;
      v.extra.push_back({"baseline_memory_bios", membio});
      v.extra.push_back({"ratio_vs_memory_bios", v.ours / membio});
      v.extra.push_back({"aead_seal_open_limit", limit});
      v.extra.push_back({"fraction_of_aead_limit", view_of_limit});
      v.target = f.target;
      v.met = v.checked && v.ratio >= 1.10 && view_of_limit >= 0.80;
      std::snprintf(note, sizeof note,
                    "PeekPlaintext, no copy out; vs memory BIOs %.2fx; ours at %.2f of AEAD limit",
                    v.ours / membio, view_of_limit);
      v.note = note;
      figures.push_back(v);
    }
  }
  for (int n : {100, 10000}) {
    for (SniQuery q : {SniQuery::kExact, SniQuery::kWildcard, SniQuery::kMiss}) {
      Figure f;
      f.id = std::string("sni_lookup/") + SniQueryName(q) + "/" + std::to_string(n) + "_contexts";
      f.unit = "ns (baseline: linear scan, Node's way)";
      f.baseline = c.Median(SniName("linear_scan", q, n)) * 1e9;
      f.ours = c.Median(SniName("ours", q, n)) * 1e9;
      f.ratio = f.baseline / f.ours;  // speed-up
      if (q == SniQuery::kExact) {
        f.target = "< 1000 ns, O(1)";
        f.checked = !std::isnan(f.ours);
        f.met = f.checked && f.ours < 1000;
      }
      f.note = "ratio = speed-up over the scan";
      if (std::string e = c.Error(SniName("ours", q, n)); !e.empty()) f.note = e;
      figures.push_back(f);
    }
  }
  return figures;
}

void AddMemoryFigures(std::vector<Figure>& figures, const IdleMemory& raw, const IdleMemory& ours) {
  auto add = [&](std::string id, double baseline, double mine, std::string target, bool checked,
                 bool met, std::string note) {
    Figure f;
    f.id = std::move(id);
    f.unit = "bytes/session";
    f.baseline = baseline;
    f.ours = mine;
    f.ratio = baseline > 0 ? mine / baseline : NAN;
    f.target = std::move(target);
    f.checked = checked;
    f.met = met;
    f.note = std::move(note);
    figures.push_back(f);
  };
  std::string n = std::to_string(ours.sessions);
  add("idle_heap/client", raw.client(), ours.client(), "< 5120", true, ours.client() < 5120,
      "ours: BoringSSL " + Num(ours.client_boringssl) + " + ours " + Num(ours.client_ours));
  add("idle_heap/server", raw.server(), ours.server(), "< 4096", true, ours.server() < 4096,
      "ours: BoringSSL " + Num(ours.server_boringssl) + " + ours " + Num(ours.server_ours));
  add("idle_heap/client+server", raw.pair(), ours.pair(), "< 8192", true, ours.pair() < 8192,
      "per pair at " + n + " idle pairs; rustls reports ~13 KiB per session");
  add("idle_heap/our_overhead_client", NAN, ours.client_ours, "<= 1024", true,
      ours.client_ours <= 1024,
      "bytes we allocate ourselves, per client session; sizeof(Session) = " +
          std::to_string(sizeof(sansio_tls::Session)));
  add("idle_heap/our_overhead_server", NAN, ours.server_ours, "<= 1024", true,
      ours.server_ours <= 1024, "bytes we allocate ourselves, per server session");
  add("idle_malloc_in_use/client+server", raw.malloc_in_use, ours.malloc_in_use, "", false, false,
      "glibc in-use bytes per pair at " + n +
          " idle pairs (chunk headers included); baseline "
          "includes its memory BIOs (" +
          Num(raw.transport) + " B/pair)");
}

}  // namespace
}  // namespace sansio_tls::bench

int main(int argc, char** argv) {
  using namespace sansio_tls::bench;
  if (!InitHeapCounter()) {
    std::fprintf(stderr, "bench: BoringSSL's libraries not found; heap attribution is off\n");
  }
  int idle_sessions = 10000;
  bool run_memory = true;
  // Our flags first; defaults for Google Benchmark's (given flags override them).
  std::vector<char*> args = {argv[0]};
  static char reps[] = "--benchmark_repetitions=3";
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  static char min_time[] = "--benchmark_min_time=0.3";
  args.insert(args.end(), {reps, interleave, min_time});
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--idle_sessions=", 16) == 0) {
      idle_sessions = std::atoi(argv[i] + 16);
      run_memory = idle_sessions > 0;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = int(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

  RegisterAll();
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);

  std::vector<Figure> figures = BuildFigures(collector);
  if (run_memory) {
    const Fixture& f =
        GetFixture({sansio_tls::testing::KeyType::kEcdsaP256, TLS1_3_VERSION, "", true});
    IdleMemory raw = MeasureIdleRaw(f, idle_sessions);
    IdleMemory ours = MeasureIdleOurs(f, idle_sessions);
    AddMemoryFigures(figures, raw, ours);
  }
  // Figures whose benchmarks were filtered out have no numbers: leave them out.
  std::vector<Figure> shown;
  for (Figure& f : figures) {
    if (!std::isnan(f.baseline) || !std::isnan(f.ours) || f.note.rfind("pending", 0) == 0) {
      shown.push_back(f);
    }
  }
  PrintFigures(shown);
  benchmark::Shutdown();
  return 0;
}
