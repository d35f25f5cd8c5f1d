// External private keys (Credentials::external_key): the handshake pauses with kSignRequest
// (kDecryptRequest for TLS 1.2 RSA key exchange) and resumes on CompleteKeyOperation().
// Answered at once, late (after more input and time), never (the handshake bound ends it),
// wrongly (the peer's verification fails), with a failure; client certificates; the label
// of the key an SNI entry or an alternative chain serves; misuse and misconfiguration.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "core/testing/key_signer.h"
#include "core/testing/pair.h"

namespace sansio_tls {
namespace {

using std::chrono::milliseconds;
using testing::Fragmentation;
using testing::KeyType;
using testing::Pair;
using testing::Side;

template <class Options>
std::shared_ptr<const Context> MustCreate(const Options& o) {
  auto c = Context::Create(o);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().code + ": " + c.error().message);
  return c.ok() ? c.value() : nullptr;
}

struct Endpoints {
  testing::TestPki pki;
  std::shared_ptr<const Context> client, server;
};

// A server whose key (|pki.server.key|) the test holds, labelled "hsm:server".
Endpoints MakeExternal(TlsVersion version, KeyType type = KeyType::kEcdsaP256,
                       std::string ciphers = "") {
  Endpoints e{testing::MakeTestPki(type), nullptr, nullptr};
  ServerContextOptions server{.credentials = {.cert_chain_pem = e.pki.server_chain_pem()},
                              .ciphers = ciphers,
                              .min_version = version,
                              .max_version = version};
  server.credentials.external_key = "hsm:server";
  e.server = MustCreate(server);
  e.client = MustCreate(ClientContextOptions{.ca_pems = {e.pki.root.cert_pem},
                                             .ciphers = ciphers,
                                             .min_version = version,
                                             .max_version = version});
  return e;
}

std::unique_ptr<Pair> Connect(const Endpoints& e, SessionOptions server_options = {}) {
  auto pair = Pair::Create(e.client, e.server, {.servername = "localhost"}, server_options);
  EXPECT_TRUE(pair.ok());
  return pair.ok() ? std::move(pair).value() : nullptr;
}

std::string Summary(Pair& p) {
  return "client: " + p.EventSummary(Side::kClient) +
         (p.client().error() ? " (" + p.client().error()->code + ")" : "") +
         " server: " + p.EventSummary(Side::kServer) +
         (p.server().error() ? " (" + p.server().error()->code + ")" : "");
}

// The last key request |side| reported, or nullptr.
const Event* LastRequest(const Pair& p, Side side) {
  const Event* last = nullptr;
  for (const Event& e : p.events(side)) {
    if (e.kind() == EventKind::kSignRequest || e.kind() == EventKind::kDecryptRequest) last = &e;
  }
  return last;
}

// Pumps, answering every key request of |side| with |key| at once, until nothing moves.
void PumpAnswering(Pair& p, Side side, EVP_PKEY* key) {
  for (int i = 0; i < 10; ++i) {
    p.Pump();
    if (!p.session(side).key_operation_pending()) return;
    const Event* request = LastRequest(p, side);
    ASSERT_NE(request, nullptr);
    ASSERT_FALSE(testing::AnswerKeyOperation(p.session(side), *request, key).has_value());
  }
}

struct Case {
  TlsVersion version;
  KeyType key;
};

class ExternalKey : public ::testing::TestWithParam<Case> {};

TEST_P(ExternalKey, AnsweredAtOnceCompletesTheHandshake) {
  Endpoints e = MakeExternal(GetParam().version, GetParam().key);
  auto pair = Connect(e);
  pair->Pump();
  ASSERT_TRUE(pair->server().key_operation_pending()) << Summary(*pair);
  EXPECT_TRUE(pair->server().pause_pending());
  const Event* request = pair->Find(Side::kServer, EventKind::kSignRequest);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->get<event::SignRequest>().key_label, "hsm:server");
  EXPECT_FALSE(request->get<event::SignRequest>().input.empty());
  EXPECT_EQ(
      SSL_get_signature_algorithm_key_type(request->get<event::SignRequest>().signature_algorithm),
      EVP_PKEY_id(e.pki.server.key.get()));
  uint16_t algorithm = request->get<event::SignRequest>().signature_algorithm;
  ASSERT_FALSE(testing::AnswerKeyOperation(pair->server(), *request, e.pki.server.key.get()));
  EXPECT_FALSE(pair->server().key_operation_pending());
  pair->Pump();
  ASSERT_TRUE(pair->client().handshake_done() && pair->server().handshake_done()) << Summary(*pair);
  EXPECT_TRUE(pair->client().authorized());
  EXPECT_EQ(pair->client().handshake_info().peer_signature_algorithm, algorithm);
  pair->Write(Side::kClient, "signed elsewhere");
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kServer), "signed elsewhere");
}

TEST_P(ExternalKey, AnsweredLateAfterTimePassedAndOneByteDelivery) {
  Endpoints e = MakeExternal(GetParam().version, GetParam().key);
  auto pair = Connect(e, {.handshake_timeout = milliseconds(10'000)});
  pair->set_fragmentation({.mode = Fragmentation::Mode::kOneByte});
  pair->Pump();
  ASSERT_TRUE(pair->server().key_operation_pending()) << Summary(*pair);
  for (int i = 0; i < 5; ++i) {
    pair->AdvanceTime(milliseconds(1'000));
    pair->Pump();
    ASSERT_TRUE(pair->server().key_operation_pending());
  }
  const Event* request = LastRequest(*pair, Side::kServer);
  ASSERT_NE(request, nullptr);
  ASSERT_FALSE(testing::AnswerKeyOperation(pair->server(), *request, e.pki.server.key.get()));
  pair->Pump();
  ASSERT_TRUE(pair->client().handshake_done() && pair->server().handshake_done()) << Summary(*pair);
}

TEST_P(ExternalKey, NeverAnsweredEndsAtTheHandshakeTimeout) {
  Endpoints e = MakeExternal(GetParam().version, GetParam().key);
  auto pair = Connect(e, {.handshake_timeout = milliseconds(500)});
  pair->Pump();
  ASSERT_TRUE(pair->server().key_operation_pending());
  pair->AdvanceTime(milliseconds(600));
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->code, errc::kPauseUnanswered);
  EXPECT_EQ(pair->server().error()->kind(), ErrorKind::kTimeout);
  EXPECT_FALSE(pair->server().pause_pending());
  EXPECT_TRUE(pair->server().finished());
  EXPECT_EQ(pair->events(Side::kServer).back().kind(), EventKind::kError);
  // A late answer changes nothing.
  const Event* request = LastRequest(*pair, Side::kServer);
  ASSERT_NE(request, nullptr);
  auto late = testing::AnswerKeyOperation(pair->server(), *request, e.pki.server.key.get());
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->code, errc::kKeyOperationNotPending);
  // The client, left waiting, sees the transport end.
  pair->InjectEof(Side::kClient);
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, "ECONNRESET");
  EXPECT_EQ(pair->Find(Side::kClient, EventKind::kHandshakeDone), nullptr);
}

TEST_P(ExternalKey, AWrongSignatureFailsAtThePeer) {
  Endpoints e = MakeExternal(GetParam().version, GetParam().key);
  auto pair = Connect(e);
  pair->Pump();
  const Event* request = LastRequest(*pair, Side::kServer);
  ASSERT_NE(request, nullptr);
  Event other = *request;
  for (char c : std::string_view("tampered"))  // a valid signature, of another message
    other.get<event::SignRequest>().input.push_back(static_cast<uint8_t>(c));
  std::vector<uint8_t> wrong = testing::KeyOperationResult(e.pki.server.key.get(), other);
  ASSERT_FALSE(wrong.empty());
  ASSERT_FALSE(pair->server().CompleteKeyOperation(wrong).has_value());
  pair->Pump();
  ASSERT_TRUE(pair->client().failed()) << Summary(*pair);
  EXPECT_EQ(pair->client().error()->code, "ERR_SSL_BAD_SIGNATURE");
  EXPECT_EQ(pair->client().error()->alert, SSL_AD_DECRYPT_ERROR);
  ASSERT_TRUE(pair->server().failed());
  EXPECT_TRUE(pair->server().error()->alert_from_peer);
  EXPECT_EQ(pair->Find(Side::kClient, EventKind::kHandshakeDone), nullptr);
}

TEST_P(ExternalKey, AFailureAnswerEndsTheHandshakeWithAnInternalErrorAlert) {
  Endpoints e = MakeExternal(GetParam().version, GetParam().key);
  auto pair = Connect(e);
  pair->Pump();
  ASSERT_TRUE(pair->server().key_operation_pending());
  ASSERT_FALSE(pair->server().FailKeyOperation("the HSM is offline").has_value());
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->code, errc::kKeyOperationFailed);
  EXPECT_NE(pair->server().error()->message.find("the HSM is offline"), std::string::npos);
  EXPECT_EQ(pair->server().error()->alert, SSL_AD_INTERNAL_ERROR);
  EXPECT_FALSE(pair->server().error()->alert_from_peer);
  pair->Pump();
  ASSERT_TRUE(pair->client().failed()) << Summary(*pair);
  EXPECT_EQ(pair->client().error()->alert, SSL_AD_INTERNAL_ERROR);
  EXPECT_TRUE(pair->client().error()->alert_from_peer);
}

INSTANTIATE_TEST_SUITE_P(Keys, ExternalKey,
                         ::testing::Values(Case{TlsVersion::kTls13, KeyType::kEcdsaP256},
                                           Case{TlsVersion::kTls12, KeyType::kEcdsaP256},
                                           Case{TlsVersion::kTls13, KeyType::kRsa2048},
                                           Case{TlsVersion::kTls12, KeyType::kRsa2048},
                                           Case{TlsVersion::kTls13, KeyType::kEd25519}),
                         [](const auto& info) {
                           std::string v =
                               info.param.version == TlsVersion::kTls13 ? "Tls13" : "Tls12";
                           switch (info.param.key) {
                             case KeyType::kRsa2048:
                               return v + "Rsa";
                             case KeyType::kEd25519:
                               return v + "Ed25519";
                             default:
                               return v + "Ecdsa";
                           }
                         });

TEST(ExternalKeyAnswers, AreCheckedAndChangeNothingWhenRefused) {
  Endpoints e = MakeExternal(TlsVersion::kTls13);
  auto pair = Connect(e);
  EXPECT_EQ(pair->server().CompleteKeyOperation(std::vector<uint8_t>{1})->code,
            errc::kKeyOperationNotPending);
  EXPECT_EQ(pair->server().FailKeyOperation()->code, errc::kKeyOperationNotPending);
  EXPECT_EQ(pair->server().FailKeyOperation()->kind(), ErrorKind::kMisuse);
  pair->Pump();
  ASSERT_TRUE(pair->server().key_operation_pending());
  auto empty = pair->server().CompleteKeyOperation({});
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->code, errc::kKeyOperationInvalidResult);
  auto huge = pair->server().CompleteKeyOperation(std::vector<uint8_t>(100'000, 7));
  ASSERT_TRUE(huge.has_value());
  EXPECT_EQ(huge->code, errc::kKeyOperationInvalidResult);
  EXPECT_TRUE(pair->server().key_operation_pending());
  PumpAnswering(*pair, Side::kServer, e.pki.server.key.get());
  EXPECT_TRUE(pair->client().handshake_done()) << Summary(*pair);
}

TEST(ExternalKeyAnswers, TheTransportEndingDuringThePauseIsAReset) {
  Endpoints e = MakeExternal(TlsVersion::kTls13);
  auto pair = Connect(e);
  pair->Pump();
  ASSERT_TRUE(pair->server().key_operation_pending());
  pair->InjectEof(Side::kServer);
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->code, "ECONNRESET");
  EXPECT_FALSE(pair->server().pause_pending());
}

// TLS 1.2 RSA key exchange: the server decrypts the premaster secret. The client's
// ChangeCipherSpec and Finished arrive, byte by byte, while the decryption is pending.
TEST(ExternalKeyDecrypt, RsaKeyExchangeAnsweredAfterMoreInput) {
  Endpoints e = MakeExternal(TlsVersion::kTls12, KeyType::kRsa2048, "AES128-GCM-SHA256");
  auto pair = Connect(e);
  pair->set_fragmentation({.mode = Fragmentation::Mode::kOneByte});
  pair->Pump();
  ASSERT_TRUE(pair->server().key_operation_pending()) << Summary(*pair);
  const Event* request = LastRequest(*pair, Side::kServer);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->kind(), EventKind::kDecryptRequest);
  EXPECT_EQ(request->get<event::DecryptRequest>().key_label, "hsm:server");
  EXPECT_EQ(request->get<event::DecryptRequest>().input.size(), 256u);  // one RSA-2048 block
  EXPECT_EQ(pair->Find(Side::kServer, EventKind::kSignRequest), nullptr);
  // The client's whole flight (key exchange, ChangeCipherSpec, Finished) was delivered:
  // the bytes after the key exchange came while the decryption was pending.
  EXPECT_TRUE(pair->server().key_operation_pending());
  ASSERT_FALSE(testing::AnswerKeyOperation(pair->server(), *request, e.pki.server.key.get()));
  pair->Pump();
  ASSERT_TRUE(pair->client().handshake_done() && pair->server().handshake_done()) << Summary(*pair);
  EXPECT_EQ(pair->server().handshake_info().cipher, "TLS_RSA_WITH_AES_128_GCM_SHA256");
}

// A client whose certificate key the application holds signs its CertificateVerify.
class ExternalClientKey : public ::testing::TestWithParam<TlsVersion> {};

TEST_P(ExternalClientKey, SignsItsCertificateVerify) {
  testing::TestPki pki = testing::MakeTestPki();
  ServerContextOptions server{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()},
      .ca_pems = {pki.root.cert_pem},
      .min_version = GetParam(),
      .max_version = GetParam(),
      .request_cert = true};
  ClientContextOptions client{.credentials = {.cert_chain_pem = pki.client_chain_pem()},
                              .ca_pems = {pki.root.cert_pem},
                              .min_version = GetParam(),
                              .max_version = GetParam()};
  client.credentials.external_key = "token:client";
  auto pair = Pair::Create(MustCreate(client), MustCreate(server), {.servername = "localhost"});
  ASSERT_TRUE(pair.ok());
  (*pair)->Pump();
  ASSERT_TRUE((*pair)->client().key_operation_pending()) << Summary(**pair);
  EXPECT_EQ(LastRequest(**pair, Side::kClient)->get<event::SignRequest>().key_label,
            "token:client");
  PumpAnswering(**pair, Side::kClient, pki.client.key.get());
  ASSERT_TRUE((*pair)->server().handshake_done()) << Summary(**pair);
  EXPECT_TRUE((*pair)->server().authorized());
  auto peer = (*pair)->server().peer_certificate();
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(peer->subject, (std::vector<std::pair<std::string, std::string>>{{"CN", "client"}}));
}

INSTANTIATE_TEST_SUITE_P(Tls, ExternalClientKey,
                         ::testing::Values(TlsVersion::kTls12, TlsVersion::kTls13),
                         [](const auto& info) {
                           return std::string(info.param == TlsVersion::kTls13 ? "Tls13" : "Tls12");
                         });

// Several external keys: each request names the key of the chain that serves.
TEST(ExternalKeyLabels, NameTheSniEntryOrAlternativeChainServing) {
  testing::TestPki ec = testing::MakeTestPki(KeyType::kEcdsaP256);
  testing::TestPki rsa = testing::MakeTestPki(KeyType::kRsa2048);
  ServerContextOptions server{.credentials = {.cert_chain_pem = ec.server_chain_pem()}};
  server.credentials.external_key = "default-ecdsa";
  Credentials alt{.cert_chain_pem = rsa.server_chain_pem()};
  alt.external_key = "default-rsa";
  server.alternative_credentials = {alt};
  SniContext sni{.pattern = "sni.example",
                 .credentials = {.cert_chain_pem = ec.server_chain_pem()}};
  sni.credentials.external_key = "sni-ecdsa";
  server.sni_contexts = {sni};
  auto server_ctx = MustCreate(server);
  ASSERT_TRUE(server_ctx);
  // The name does not match the certificate: verification is not the point here.
  auto client_for = [&](std::vector<uint16_t> algorithms) {
    ClientContextOptions c{.reject_unauthorized = false};
    c.verify_algorithms = std::move(algorithms);
    return MustCreate(c);
  };
  struct Expect {
    std::string servername;
    std::vector<uint16_t> algorithms;
    std::string label;
    const testing::TestPki* pki;
  };
  for (const Expect& x : {Expect{"localhost", {}, "default-ecdsa", &ec},
                          Expect{"localhost", {SSL_SIGN_RSA_PSS_RSAE_SHA256}, "default-rsa", &rsa},
                          Expect{"sni.example", {}, "sni-ecdsa", &ec}}) {
    auto pair = Pair::Create(client_for(x.algorithms), server_ctx, {.servername = x.servername});
    ASSERT_TRUE(pair.ok());
    (*pair)->Pump();
    const Event* request = LastRequest(**pair, Side::kServer);
    ASSERT_NE(request, nullptr) << x.label << ": " << Summary(**pair);
    EXPECT_EQ(request->get<event::SignRequest>().key_label, x.label);
    PumpAnswering(**pair, Side::kServer, x.pki->server.key.get());
    EXPECT_TRUE((*pair)->client().handshake_done()) << x.label << ": " << Summary(**pair);
  }
}

TEST(ExternalKeyConfig, TakesAChainAndNoKey) {
  testing::TestPki pki = testing::MakeTestPki();
  ServerContextOptions with_key{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()}};
  with_key.credentials.external_key = "k";
  ServerContextOptions no_chain{};
  no_chain.credentials.external_key = "k";
  ServerContextOptions with_pfx{};
  with_pfx.credentials.pfx = testing::MakePkcs12(pki.server, {}, "");
  with_pfx.credentials.external_key = "k";
  for (const ServerContextOptions* o : {&with_key, &no_chain, &with_pfx}) {
    auto c = Context::Create(*o);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, "ERR_TLS_INVALID_CREDENTIALS");
  }
  ServerContextOptions bad_pem{.credentials = {.cert_chain_pem = "not a pem"}};
  bad_pem.credentials.external_key = "k";
  auto c = Context::Create(bad_pem);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "ERR_TLS_INVALID_PEM");
}

}  // namespace
}  // namespace sansio_tls
