// SNI lookup cost with 10,000 exact + 10,000 wildcard contexts.
//   ./bazelw run -c opt //tests/negotiation:sni_benchmark
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/negotiation/sni_matcher.h"

namespace sansio_tls {
namespace {

constexpr int kContexts = 10000;

// Exact "host<i>.zone<i%100>.example.com" and wildcard "*.svc<i>.example.net",
// added interleaved, plus a few partial-label and later-label patterns.
SniTable<int>& Table() {
  static SniTable<int>* table = [] {
    auto* t = new SniTable<int>();
    for (int i = 0; i < kContexts; ++i) {
      std::string n = std::to_string(i);
      if (!t->Add("host" + n + ".zone" + std::to_string(i % 100) + ".example.com", i).empty() ||
          !t->Add("*.svc" + n + ".example.net", kContexts + i).empty()) {
        std::abort();
      }
    }
    for (int i = 0; i < 16; ++i) {
      std::string n = std::to_string(i);
      if (!t->Add("api" + n + "-*.edge.example.org", -1).empty() ||
          !t->Add("www.*.region" + n + ".example.org", -2).empty()) {
        std::abort();
      }
    }
    return t;
  }();
  return *table;
}

void Run(benchmark::State& state, const std::string& name, bool expect_hit) {
  const SniTable<int>& table = Table();
  if ((table.Lookup(name) != nullptr) != expect_hit) {
    state.SkipWithError("unexpected lookup result");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.Lookup(name));
  }
}

void BM_HitExact(benchmark::State& s) { Run(s, "host4321.zone21.example.com", true); }
void BM_HitExactMixedCaseTrailingDot(benchmark::State& s) {
  Run(s, "Host4321.ZONE21.example.com.", true);
}
void BM_HitWildcard(benchmark::State& s) { Run(s, "node-17.svc8765.example.net", true); }
void BM_HitPartialLabel(benchmark::State& s) { Run(s, "api7-eu.edge.example.org", true); }
void BM_HitLaterLabelWildcard(benchmark::State& s) { Run(s, "www.shop.region3.example.org", true); }
void BM_Miss(benchmark::State& s) { Run(s, "unknown.nowhere.example.com", false); }
void BM_MissFourLabels(benchmark::State& s) { Run(s, "www.shop.region99.example.org", false); }
void BM_MissIpLiteral(benchmark::State& s) { Run(s, "192.168.10.20", false); }

BENCHMARK(BM_HitExact);
BENCHMARK(BM_HitExactMixedCaseTrailingDot);
BENCHMARK(BM_HitWildcard);
BENCHMARK(BM_HitPartialLabel);
BENCHMARK(BM_HitLaterLabelWildcard);
BENCHMARK(BM_Miss);
BENCHMARK(BM_MissFourLabels);
BENCHMARK(BM_MissIpLiteral);

}  // namespace
}  // namespace sansio_tls

BENCHMARK_MAIN();
