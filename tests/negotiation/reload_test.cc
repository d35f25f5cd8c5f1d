// Replacing a server's credentials and SNI set for new connections (ContextSlot, Node's
// setSecureContext) while sessions made from the old Context are open or mid-handshake.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/context.h"
#include "core/context_slot.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"
#include "tests/negotiation/negotiation_test_util.h"

namespace sansio_tls {
namespace {

using negotiation_test::CredentialsOf;
using negotiation_test::MustCreate;
using negotiation_test::Pki;
using negotiation_test::ServedLeaf;
using negotiation_test::Summary;
using testing::Pair;
using testing::Side;

struct Fixture {
  Pki pki;
  testing::Cert old_default = pki.Leaf("localhost"), old_sni = pki.Leaf("sni.example"),
                new_default = pki.Leaf("localhost");
  std::shared_ptr<const Context> client = MustCreate(
      ClientContextOptions{.ca_pems = {pki.root.cert_pem}, .reject_unauthorized = false});
  ServerContextOptions OldOptions() const {
    return ServerContextOptions{.credentials = CredentialsOf(old_default),
                                .sni_contexts = {{"sni.example", CredentialsOf(old_sni)}},
                                .alpn_protocols = {"old"}};
  }
  ServerContextOptions NewOptions() const {
    return ServerContextOptions{.credentials = CredentialsOf(new_default),
                                .alpn_protocols = {"new"}};
  }
  std::shared_ptr<const Context> client_alpn =
      MustCreate(ClientContextOptions{.ca_pems = {pki.root.cert_pem},
                                      .reject_unauthorized = false,
                                      .alpn_protocols = {"new", "old"}});
};

// The client end of a pair whose server session came from |slot|.
std::unique_ptr<Pair> Accept(const ContextSlot& slot, std::shared_ptr<const Context> client,
                             const std::string& servername) {
  auto client_session =
      Session::Create(std::move(client), {.servername = servername, .now = testing::WallNow()});
  auto server_session = slot.NewSession();
  EXPECT_TRUE(client_session.ok() && server_session.ok());
  return std::make_unique<Pair>(std::move(client_session).value(),
                                std::move(server_session).value());
}

TEST(ContextSlot, NewSessionsUseTheReplacementWhileOpenOnesFinishUntouched) {
  Fixture f;
  ContextSlot slot(MustCreate(f.OldOptions()));

  // Open before the reload: one established, one mid-handshake, one not started.
  auto established = Accept(slot, f.client_alpn, "localhost");
  ASSERT_TRUE(established->Handshake()) << Summary(*established);
  auto midway = Accept(slot, f.client_alpn, "sni.example");
  midway->Pump(1);  // ClientHello delivered and answered; the server is not finished
  ASSERT_FALSE(midway->server().handshake_done());
  auto not_started = Accept(slot, f.client_alpn, "sni.example");

  ASSERT_EQ(slot.Reload(f.NewOptions()), std::nullopt);

  auto fresh = Accept(slot, f.client_alpn, "sni.example");
  ASSERT_TRUE(fresh->Handshake()) << Summary(*fresh);
  EXPECT_EQ(ServedLeaf(fresh->client()), f.new_default.der);  // the SNI set went too
  EXPECT_EQ(fresh->server().handshake_info().alpn_protocol, "new");

  ASSERT_TRUE(midway->Handshake()) << Summary(*midway);
  EXPECT_EQ(ServedLeaf(midway->client()), f.old_sni.der);
  EXPECT_EQ(midway->server().handshake_info().alpn_protocol, "old");
  ASSERT_TRUE(not_started->Handshake()) << Summary(*not_started);
  EXPECT_EQ(ServedLeaf(not_started->client()), f.old_sni.der);

  EXPECT_EQ(ServedLeaf(established->client()), f.old_default.der);
  established->Write(Side::kClient, "still here");
  established->Write(Side::kServer, "me too");
  established->Pump();
  EXPECT_EQ(established->received(Side::kServer), "still here");
  EXPECT_EQ(established->received(Side::kClient), "me too");
  established->client().Close();
  established->server().Close();
  established->Pump();
  EXPECT_TRUE(established->client().finished());
  EXPECT_TRUE(established->server().finished());
}

TEST(ContextSlot, TheOldContextIsFreedWithItsLastSession) {
  Fixture f;
  std::shared_ptr<const Context> old_context = MustCreate(f.OldOptions());
  std::weak_ptr<const Context> watch = old_context;
  ContextSlot slot(std::move(old_context));
  auto open = Accept(slot, f.client, "localhost");
  ASSERT_TRUE(open->Handshake());
  ASSERT_EQ(slot.Set(MustCreate(f.NewOptions())), std::nullopt);
  EXPECT_FALSE(watch.expired());
  open.reset();
  EXPECT_TRUE(watch.expired());
}

TEST(ContextSlot, AFailedReloadKeepsTheCurrentContext) {
  Fixture f;
  auto current = MustCreate(f.OldOptions());
  ContextSlot slot(current);
  ServerContextOptions broken = f.NewOptions();
  broken.sni_contexts = {{"bad pattern", CredentialsOf(f.new_default)}};
  auto error = slot.Reload(broken);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "ERR_TLS_INVALID_SNI_PATTERN");
  EXPECT_EQ(slot.Get(), current);

  ServerContextOptions no_cert = f.NewOptions();
  no_cert.credentials = {};
  error = slot.Reload(no_cert);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "ERR_TLS_MISSING_CERTIFICATE");
  EXPECT_EQ(slot.Get(), current);
}

TEST(ContextSlot, RefusesNullAndTheOtherRole) {
  Fixture f;
  auto current = MustCreate(f.OldOptions());
  ContextSlot slot(current);
  auto null_error = slot.Set(nullptr);
  ASSERT_TRUE(null_error.has_value());
  EXPECT_EQ(null_error->code, "ERR_INVALID_ARG_VALUE");
  auto role_error = slot.Set(f.client);
  ASSERT_TRUE(role_error.has_value());
  EXPECT_EQ(role_error->code, "ERR_INVALID_ARG_VALUE");
  EXPECT_EQ(slot.Get(), current);

  ContextSlot empty(nullptr);
  EXPECT_FALSE(empty.NewSession().ok());
  EXPECT_EQ(empty.Set(current), std::nullopt);
  EXPECT_TRUE(empty.NewSession().ok());
}

// Replacements from one thread while others create sessions: every session gets one of the
// published contexts, whole, and nothing is freed under a reader (ASan/TSan check the rest).
TEST(ContextSlot, ReplacementIsSafeAcrossThreads) {
  Fixture f;
  std::vector<std::shared_ptr<const Context>> published = {MustCreate(f.OldOptions()),
                                                           MustCreate(f.NewOptions())};
  ContextSlot slot(published[0]);
  std::atomic<int> bad{0}, readers_done{0}, sets{0};
  std::atomic<bool> go{false};
  auto reader = [&] {
    while (!go.load()) std::this_thread::yield();
    for (int i = 0; i < 300; ++i) {
      auto ctx = slot.Get();
      if (ctx != published[0] && ctx != published[1]) bad.fetch_add(1);
      auto session = slot.NewSession();
      if (!session.ok() || session->role() != Role::kServer) bad.fetch_add(1);
    }
    readers_done.fetch_add(1);
  };
  std::thread r1(reader), r2(reader);
  go.store(true);
  // Replace for as long as the readers run (bounded).
  for (int i = 0; readers_done.load() < 2 && i < 1'000'000; ++i) {
    if (slot.Set(published[i % 2]).has_value()) bad.fetch_add(1);
    sets.fetch_add(1);
  }
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(sets.load(), 1);

  // Sessions from the slot after all that still complete a handshake.
  auto pair = Accept(slot, f.client, "localhost");
  ASSERT_TRUE(pair->Handshake()) << Summary(*pair);
}

}  // namespace
}  // namespace sansio_tls
