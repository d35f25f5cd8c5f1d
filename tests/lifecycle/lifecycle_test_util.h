// Helpers shared by the session-lifecycle tests: a PKI and contexts for both versions with
// per-test option tweaks, connecting a pair, and the sessions a client saved.
#ifndef SANSIO_TLS_TESTS_LIFECYCLE_LIFECYCLE_TEST_UTIL_H_
#define SANSIO_TLS_TESTS_LIFECYCLE_LIFECYCLE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/context.h"
#include "core/resumption.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"
#include "tests/common/test_data.h"

namespace sansio_tls::lifecycle_test {

using testing::Pair;
using testing::Side;

// A fixed session clock (unix seconds) inside the certificates' validity.
inline int64_t Now() {
  static const int64_t now = static_cast<int64_t>(::time(nullptr));
  return now;
}

inline const testing::TestPki& Pki() {
  static const testing::TestPki pki = testing::MakeTestPki();
  return pki;
}

using ServerTweak = std::function<void(ServerContextOptions&)>;
using ClientTweak = std::function<void(ClientContextOptions&)>;

template <class Options>
std::shared_ptr<const Context> MustCreate(const Options& options) {
  auto ctx = Context::Create(options);
  EXPECT_TRUE(ctx.ok()) << (ctx.ok() ? "" : ctx.error().code + ": " + ctx.error().message);
  return ctx.ok() ? ctx.value() : nullptr;
}

inline ServerContextOptions ServerOptions(TlsVersion version) {
  return ServerContextOptions{
      .credentials = {.key_pem = Pki().server.key_pem, .cert_chain_pem = Pki().server_chain_pem()},
      .ca_pems = {Pki().root.cert_pem},
      .min_version = version,
      .max_version = version};
}

inline ClientContextOptions ClientOptions(TlsVersion version) {
  return ClientContextOptions{
      .ca_pems = {Pki().root.cert_pem}, .min_version = version, .max_version = version};
}

inline std::shared_ptr<const Context> Server(TlsVersion version, const ServerTweak& tweak = {}) {
  ServerContextOptions o = ServerOptions(version);
  if (tweak) tweak(o);
  return MustCreate(o);
}

inline std::shared_ptr<const Context> Client(TlsVersion version, const ClientTweak& tweak = {}) {
  ClientContextOptions o = ClientOptions(version);
  if (tweak) tweak(o);
  return MustCreate(o);
}

inline SessionOptions At(int64_t time, std::optional<SavedSession> session = std::nullopt,
                         std::string servername = "localhost") {
  SessionOptions o;
  o.servername = std::move(servername);
  o.verify_time = time;
  o.session = std::move(session);
  return o;
}

inline std::unique_ptr<Pair> MakePair(const std::shared_ptr<const Context>& client,
                                      const std::shared_ptr<const Context>& server,
                                      SessionOptions client_options,
                                      SessionOptions server_options = {}) {
  if (!server_options.verify_time) server_options.verify_time = client_options.verify_time;
  auto pair = Pair::Create(client, server, std::move(client_options), std::move(server_options));
  EXPECT_TRUE(pair.ok()) << (pair.ok() ? "" : pair.error().message);
  return pair.ok() ? std::move(pair).value() : nullptr;
}

inline std::string Summary(const Pair& pair) {
  return "client: [" + pair.EventSummary(Side::kClient) + "] server: [" +
         pair.EventSummary(Side::kServer) + "]";
}

inline size_t Count(const Pair& pair, Side side, EventKind kind) {
  size_t n = 0;
  for (const Event& e : pair.events(side)) n += e.kind() == kind;
  return n;
}

// The sessions |side| reported with kNewSession, in order.
inline std::vector<SavedSession> NewSessions(const Pair& pair, Side side) {
  std::vector<SavedSession> out;
  for (const Event& e : pair.events(side))
    if (const auto* s = e.get_if<SavedSession>()) out.push_back(*s);
  return out;
}

// Connects at |time| (offering |session|), returns the pair after the handshake and a
// pump, or nullptr after a failed expectation.
inline std::unique_ptr<Pair> Connect(const std::shared_ptr<const Context>& client,
                                     const std::shared_ptr<const Context>& server, int64_t time,
                                     std::optional<SavedSession> session = std::nullopt) {
  auto pair = MakePair(client, server, At(time, std::move(session)));
  if (!pair) return nullptr;
  EXPECT_TRUE(pair->Handshake()) << Summary(*pair);
  pair->Pump();
  return pair;
}

using test_data::Payload;
using test_data::Sha256;

inline std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace sansio_tls::lifecycle_test

#endif  // SANSIO_TLS_TESTS_LIFECYCLE_LIFECYCLE_TEST_UTIL_H_
