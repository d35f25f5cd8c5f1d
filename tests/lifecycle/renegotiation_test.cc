// Renegotiation is refused on both sides with a clear error. Neither BoringSSL nor this
// library can start one, so the attempts are forged: a TLS 1.2 AES-128-GCM record sealed
// with the sender's keys (SSL_generate_key_block) carrying a HelloRequest (server ->
// client) or a ClientHello (client -> server) after the handshake.
#include <gtest/gtest.h>
#include <openssl/aead.h>
#include <openssl/ssl.h>

#include "tests/lifecycle/lifecycle_test_util.h"

namespace sansio_tls {
namespace {

using namespace lifecycle_test;  // NOLINT

constexpr char kCipher[] = "ECDHE-ECDSA-AES128-GCM-SHA256";

void PutU64(std::vector<uint8_t>& v, uint64_t x) {
  for (int s = 56; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

// A record of |type| holding |message|, sealed as |sender| would seal its next record for
// |receiver| (who checks it against its read sequence number).
std::vector<uint8_t> ForgeRecord(Session& sender, Session& receiver, uint8_t type,
                                 const std::vector<uint8_t>& message) {
  SSL* ssl = sender.ssl();
  size_t len = SSL_get_key_block_len(ssl);
  EXPECT_EQ(len, 40u);  // AES-128-GCM: 2 x (16-byte key + 4-byte fixed IV), no MAC keys
  std::vector<uint8_t> block(len);
  EXPECT_TRUE(SSL_generate_key_block(ssl, block.data(), block.size()));
  bool client = sender.role() == Role::kClient;
  const uint8_t* key = block.data() + (client ? 0 : 16);
  const uint8_t* fixed_iv = block.data() + 32 + (client ? 0 : 4);
  uint64_t seq = SSL_get_read_sequence(receiver.ssl());

  std::vector<uint8_t> explicit_nonce;
  PutU64(explicit_nonce, seq);
  std::vector<uint8_t> nonce(fixed_iv, fixed_iv + 4);
  nonce.insert(nonce.end(), explicit_nonce.begin(), explicit_nonce.end());
  std::vector<uint8_t> ad;
  PutU64(ad, seq);
  ad.insert(ad.end(), {type, 3, 3, static_cast<uint8_t>(message.size() >> 8),
                       static_cast<uint8_t>(message.size())});

  bssl::ScopedEVP_AEAD_CTX aead;
  EXPECT_TRUE(EVP_AEAD_CTX_init(aead.get(), EVP_aead_aes_128_gcm(), key, 16,
                                EVP_AEAD_DEFAULT_TAG_LENGTH, nullptr));
  std::vector<uint8_t> sealed(message.size() + 16);
  size_t sealed_len = 0;
  EXPECT_TRUE(EVP_AEAD_CTX_seal(aead.get(), sealed.data(), &sealed_len, sealed.size(), nonce.data(),
                                nonce.size(), message.data(), message.size(), ad.data(),
                                ad.size()));
  size_t body = explicit_nonce.size() + sealed_len;
  std::vector<uint8_t> record = {type, 3, 3, static_cast<uint8_t>(body >> 8),
                                 static_cast<uint8_t>(body)};
  record.insert(record.end(), explicit_nonce.begin(), explicit_nonce.end());
  record.insert(record.end(), sealed.begin(), sealed.begin() + sealed_len);
  return record;
}

std::unique_ptr<Pair> Tls12Pair() {
  auto tweak = [](auto& o) { o.ciphers = kCipher; };
  auto pair =
      MakePair(Client(TlsVersion::kTls12, tweak), Server(TlsVersion::kTls12, tweak), At(Now()));
  EXPECT_TRUE(pair->Handshake()) << Summary(*pair);
  pair->Write(Side::kClient, "before");
  pair->Write(Side::kServer, "before");
  pair->Pump();
  return pair;
}

TEST(Renegotiation, ForgedRecordsAreValidTraffic) {
  // Control: application data forged the same way is accepted, so the refusals below are
  // about renegotiation and not a bad record MAC.
  auto pair = Tls12Pair();
  std::vector<uint8_t> to_client = ForgeRecord(pair->server(), pair->client(), 23, {'o', 'k'});
  std::vector<uint8_t> to_server = ForgeRecord(pair->client(), pair->server(), 23, {'h', 'i'});
  EXPECT_EQ(pair->client().Feed(to_client), to_client.size());
  EXPECT_EQ(pair->server().Feed(to_server), to_server.size());
  EXPECT_FALSE(pair->client().failed());
  EXPECT_FALSE(pair->server().failed());
  pair->Pump();
  EXPECT_EQ(pair->received(Side::kClient), "beforeok");
  EXPECT_EQ(pair->received(Side::kServer), "beforehi");
}

TEST(Renegotiation, AClientRefusesTheServersHelloRequest) {
  auto pair = Tls12Pair();
  std::vector<uint8_t> hello_request = {0x00, 0x00, 0x00, 0x00};
  std::vector<uint8_t> record = ForgeRecord(pair->server(), pair->client(), 22, hello_request);
  EXPECT_EQ(pair->client().Feed(record), record.size());
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, "ERR_SSL_NO_RENEGOTIATION");
  EXPECT_EQ(pair->client().error()->alert, SSL_AD_NO_RENEGOTIATION);
  EXPECT_FALSE(pair->client().error()->alert_from_peer);
  pair->Pump();  // the alert reaches the server
  ASSERT_TRUE(pair->server().failed()) << Summary(*pair);
  EXPECT_EQ(pair->server().error()->alert, SSL_AD_NO_RENEGOTIATION);
  EXPECT_TRUE(pair->server().error()->alert_from_peer);
  EXPECT_EQ(pair->server().error()->code, "ERR_SSL_TLSV1_ALERT_NO_RENEGOTIATION");
}

TEST(Renegotiation, AServerRefusesTheClientsNewClientHello) {
  auto pair = Tls12Pair();
  // A ClientHello header and a few bytes; the server refuses before parsing it.
  std::vector<uint8_t> client_hello = {0x01, 0x00, 0x00, 0x06, 0x03, 0x03, 0, 0, 0, 0};
  std::vector<uint8_t> record = ForgeRecord(pair->client(), pair->server(), 22, client_hello);
  EXPECT_EQ(pair->server().Feed(record), record.size());
  ASSERT_TRUE(pair->server().failed());
  EXPECT_EQ(pair->server().error()->code, "ERR_SSL_NO_RENEGOTIATION");
  EXPECT_EQ(pair->server().error()->alert, SSL_AD_NO_RENEGOTIATION);
  pair->Pump();
  ASSERT_TRUE(pair->client().failed()) << Summary(*pair);
  EXPECT_EQ(pair->client().error()->alert, SSL_AD_NO_RENEGOTIATION);
  EXPECT_TRUE(pair->client().error()->alert_from_peer);
}

}  // namespace
}  // namespace sansio_tls
