// echo_server --workers=3 sharing one port and one ticket-key file: clients spread over the
// workers, and every ticket offered resumes, whichever worker issued it; after the file is
// rotated (SIGHUP), tickets under the previous key resume while it stays in the file and
// not after; a bad file is reported and the keys in use stay.
#include <set>

#include "tests/fleet/fleet_test_util.h"

namespace sansio_tls::fleet_test {
namespace {

using interop::PkiFiles;

constexpr int kWorkers = 3;
constexpr int kVisits = 24;

const PkiFiles& Pki() {
  static const PkiFiles pki = interop::WritePki();
  return pki;
}

std::string NewKeyLine() {
  // 48 random bytes, base64: the text format of docs/fleet.md.
  std::string raw(48, '\0');
  for (char& c : raw) c = static_cast<char>(std::rand());
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < raw.size(); i += 3) {
    uint32_t v = (uint8_t(raw[i]) << 16) | (uint8_t(raw[i + 1]) << 8) | uint8_t(raw[i + 2]);
    for (int k = 3; k >= 0; --k) out += kAlphabet[(v >> (6 * k)) & 63];
  }
  return out + "\n";
}

std::shared_ptr<const Context> ClientContext(TlsVersion version) {
  ClientContextOptions o{
      .ca_pems = {Pki().pki.root.cert_pem}, .min_version = version, .max_version = version};
  auto ctx = Context::Create(o);
  EXPECT_TRUE(ctx.ok());
  return *ctx;
}

std::vector<std::string> ServerFlags(const std::string& keys) {
  return {"--key=" + Pki().server_key, "--cert=" + Pki().server_chain, "--ticket-keys=" + keys};
}

class Workers : public ::testing::TestWithParam<TlsVersion> {};

TEST_P(Workers, EveryOfferedTicketResumesWhicheverWorkerIssuedIt) {
  std::string keys = interop::TempDir() + "/ticket.keys";
  interop::WriteFile(keys, "# shared by the fleet\n" + NewKeyLine());
  Fleet fleet = StartFleet(kWorkers, ServerFlags(keys));
  ASSERT_NE(fleet.port, 0) << fleet.process->Describe();
  auto client = ClientContext(GetParam());

  std::set<int> workers_seen;
  int cross_process = 0, offered = 0;
  Visit first = Connect(fleet, client);
  ASSERT_TRUE(first.ok) << first.error;
  ASSERT_TRUE(first.session);
  EXPECT_FALSE(first.reused);
  int issuer = first.worker;
  std::optional<SavedSession> ticket = first.session;
  workers_seen.insert(first.worker);
  for (int i = 0; i < kVisits; ++i) {
    Visit v = Connect(fleet, client, ticket);
    ASSERT_TRUE(v.ok) << v.error;
    ++offered;
    EXPECT_TRUE(v.reused) << "visit " << i << " on worker " << v.worker << ", ticket from "
                          << issuer;
    EXPECT_TRUE(v.server_reused);
    workers_seen.insert(v.worker);
    cross_process += v.worker != issuer;
    // TLS 1.3: each ticket once (the resumption brought a fresh one); TLS 1.2: the same
    // ticket may be offered again.
    if (GetParam() == TlsVersion::kTls13) {
      ASSERT_TRUE(v.session);
      ticket = v.session;
      issuer = v.worker;
    }
  }
  EXPECT_EQ(offered, kVisits);
  EXPECT_GE(workers_seen.size(), 2u)
      << "the kernel did not spread " << kVisits + 1 << " connections";
  EXPECT_GT(cross_process, 0);
  EXPECT_TRUE(fleet.Stop()) << fleet.process->Describe();
}

TEST_P(Workers, ARotatedFileKeepsOldTicketsWhileTheirKeyStaysAndNotAfter) {
  std::string keys = interop::TempDir() + "/ticket.keys";
  std::string k1 = NewKeyLine(), k2 = NewKeyLine(), k3 = NewKeyLine();
  interop::WriteFile(keys, k1);
  Fleet fleet = StartFleet(kWorkers, ServerFlags(keys));
  ASSERT_NE(fleet.port, 0) << fleet.process->Describe();
  auto client = ClientContext(GetParam());
  // Several tickets under k1 (TLS 1.3 tickets are offered once each).
  std::vector<SavedSession> under_k1;
  for (int i = 0; i < 4; ++i) {
    Visit v = Connect(fleet, client);
    ASSERT_TRUE(v.ok && v.session) << v.error;
    under_k1.push_back(*v.session);
  }

  // Rotate: k2 seals, k1 still opens. SIGHUP to the supervisor reaches every worker.
  interop::WriteFile(keys, k2 + k1);
  fleet.process->Kill(SIGHUP);
  ASSERT_TRUE(fleet.WaitFor("\"event\":\"ticketKeys\"", kWorkers)) << fleet.process->Describe();
  EXPECT_EQ(CountOf(fleet.process->out(), "\"keys\":2"), static_cast<size_t>(kWorkers));
  for (int i = 0; i < 2; ++i) {
    Visit v = Connect(fleet, client, under_k1[i]);
    ASSERT_TRUE(v.ok) << v.error;
    EXPECT_TRUE(v.reused) << "worker " << v.worker;
  }

  // A broken file is refused by every worker; the keys in use stay.
  interop::WriteFile(keys, "not a key\n");
  fleet.process->Kill(SIGHUP);
  ASSERT_TRUE(fleet.WaitFor("\"event\":\"ticketKeysError\"", kWorkers))
      << fleet.process->Describe();
  Visit still = Connect(fleet, client, under_k1[2]);
  ASSERT_TRUE(still.ok) << still.error;
  EXPECT_TRUE(still.reused);

  // k1 leaves the file: its tickets no longer resume anywhere.
  interop::WriteFile(keys, k3 + k2);
  fleet.process->Kill(SIGHUP);
  ASSERT_TRUE(fleet.WaitFor("\"event\":\"ticketKeys\"", 2 * kWorkers)) << fleet.process->Describe();
  Visit after = Connect(fleet, client, under_k1[3]);
  ASSERT_TRUE(after.ok) << after.error;
  EXPECT_FALSE(after.reused);
  EXPECT_FALSE(after.server_reused);
  EXPECT_TRUE(fleet.Stop()) << fleet.process->Describe();
}

INSTANTIATE_TEST_SUITE_P(Versions, Workers,
                         ::testing::Values(TlsVersion::kTls13, TlsVersion::kTls12),
                         [](const auto& info) {
                           return info.param == TlsVersion::kTls13 ? "Tls13" : "Tls12";
                         });

}  // namespace
}  // namespace sansio_tls::fleet_test
