#include <chrono>
#include <cstdio>
#include "tests/lifecycle/lifecycle_test_util.h"
using namespace sansio_tls;
using namespace sansio_tls::lifecycle_test;
int main() {
  for (TlsVersion v : {TlsVersion::kTls13, TlsVersion::kTls12}) {
    for (int mode = 0; mode < 3; ++mode) {
      if (v == TlsVersion::kTls13 && mode == 2) continue;
      auto server = Server(v, [&](ContextOptions& o) { if (mode == 2) o.session_tickets = false; });
      auto client = Client(v, [&](ContextOptions& o) { if (mode == 2) o.session_tickets = false; });
      std::optional<SavedSession> s;
      { auto p = MakePair(client, server, At(Now())); p->Handshake(); p->Pump(); s = p->client().saved_session(); }
      int n = 1500, reused = 0;
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < n; ++i) {
        auto p = MakePair(client, server, At(Now(), mode ? s : std::nullopt));
        p->Handshake();
        reused += p->server().handshake_info().session_reused;
      }
      double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%s %s: %.0f handshakes/s (reused %d/%d)\n", v == TlsVersion::kTls13 ? "TLS1.3" : "TLS1.2",
                  mode == 0 ? "full" : mode == 1 ? "resumed(ticket)" : "resumed(id)", n / sec, reused, n);
    }
  }
}
