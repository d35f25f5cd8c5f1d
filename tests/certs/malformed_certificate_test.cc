// A certificate the peer sends that does not parse (DER) fails the handshake at once with
// ERR_TLS_INVALID_PEER_CERTIFICATE and a decode_error alert, on both sides, whatever
// reject_unauthorized says and without asking a verify_callback: there is nothing to judge.
// (Found by the lifecycle fuzz target: the application used to be asked to verify a
// certificate it could not see, and a lenient client completed the handshake.)
//
// TLS 1.2 sends certificates in the clear, so the test breaks one in flight: the unused-bits
// byte of the signature BIT STRING becomes 8, which BoringSSL's TLS layer does not look at
// but its X.509 parser refuses.
#include <gtest/gtest.h>
#include <openssl/bytestring.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/x509/verify_error.h"
#include "tests/certs/certs_test_util.h"

namespace sansio_tls::certs_test {
namespace {

// The offset in |der| of the signature BIT STRING's unused-bits byte.
size_t UnusedBitsOffset(const std::vector<uint8_t>& der) {
  CBS cert, outer, bits;
  CBS_init(&cert, der.data(), der.size());
  EXPECT_TRUE(CBS_get_asn1(&cert, &outer, CBS_ASN1_SEQUENCE));
  EXPECT_TRUE(CBS_get_asn1(&outer, nullptr, CBS_ASN1_SEQUENCE));  // tbsCertificate
  EXPECT_TRUE(CBS_get_asn1(&outer, nullptr, CBS_ASN1_SEQUENCE));  // signatureAlgorithm
  EXPECT_TRUE(CBS_get_asn1(&outer, &bits, CBS_ASN1_BITSTRING));
  EXPECT_EQ(CBS_data(&bits)[0], 0);
  return static_cast<size_t>(CBS_data(&bits) - der.data());
}

// Moves ciphertext both ways until nothing moves; in what |sender| sends, the first copy
// of |der| gets its signature's unused-bits byte set to 8. Returns true if it was found.
bool PumpBreaking(Session& client, Session& server, Side sender, const std::vector<uint8_t>& der) {
  bool broken = false;
  for (int round = 0; round < 100; ++round) {
    bool moved = false;
    for (Side from : {Side::kClient, Side::kServer}) {
      Session& a = from == Side::kClient ? client : server;
      Session& b = from == Side::kClient ? server : client;
      while (!a.PendingOutput().empty()) {
        std::span<const uint8_t> out = a.PendingOutput();
        std::vector<uint8_t> bytes(out.begin(), out.end());
        if (from == sender && !broken) {
          auto at = std::search(bytes.begin(), bytes.end(), der.begin(), der.end());
          if (at != bytes.end()) {
            at[static_cast<std::ptrdiff_t>(UnusedBitsOffset(der))] ^= 0x08;
            broken = true;
          }
        }
        size_t taken = b.Feed(bytes);
        a.ConsumeOutput(taken);
        if (taken == 0) break;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return broken;
}

struct Case {
  const char* name;
  Side verifier;  // whose peer sends the broken certificate
  bool reject_unauthorized;
  bool verify_callback;
};

const Case kCases[] = {
    {"ClientStrict", Side::kClient, true, false},
    {"ClientLenient", Side::kClient, false, false},
    {"ClientVerifyCallback", Side::kClient, false, true},
    {"ServerStrict", Side::kServer, true, false},
    {"ServerLenient", Side::kServer, false, false},
    {"ServerVerifyCallback", Side::kServer, false, true},
};

class MalformedPeerCertificate : public ::testing::TestWithParam<Case> {};

TEST_P(MalformedPeerCertificate, FailsTheHandshakeWithDecodeErrorWithoutAskingAnyone) {
  const Case& c = GetParam();
  Pki pki("malformed");
  Cert server_leaf = pki.Server(), client_leaf = pki.Client();
  ServerContextOptions so{.credentials = pki.CredentialsFor(server_leaf),
                          .ca_pems = {pki.root.cert_pem},
                          .max_version = TlsVersion::kTls12,
                          .request_cert = true,
                          .reject_unauthorized = true};
  ClientContextOptions co{.credentials = pki.CredentialsFor(client_leaf),
                          .ca_pems = {pki.root.cert_pem},
                          .max_version = TlsVersion::kTls12,
                          .reject_unauthorized = true};
  auto configure_verifier = [&c](auto& verifier_options) {
    verifier_options.reject_unauthorized = c.reject_unauthorized;
    verifier_options.verify_callback = c.verify_callback;
  };
  if (c.verifier == Side::kClient) {
    configure_verifier(co);
  } else {
    configure_verifier(so);
  }
  auto client =
      Session::Create(MustCreate(co), {.servername = "localhost", .now = testing::WallNow()});
  auto server = Session::Create(MustCreate(so), {.now = testing::WallNow()});
  ASSERT_TRUE(client.ok() && server.ok());
  Session& verifier = c.verifier == Side::kClient ? client.value() : server.value();
  Session& sender = c.verifier == Side::kClient ? server.value() : client.value();
  const Cert& broken = c.verifier == Side::kClient ? server_leaf : client_leaf;

  ASSERT_TRUE(PumpBreaking(client.value(), server.value(), testing::Other(c.verifier), broken.der));

  std::vector<EventKind> kinds;
  while (auto e = verifier.NextEvent()) kinds.push_back(e->kind());
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), EventKind::kVerifyRequested), 0);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), EventKind::kHandshakeDone), 0);
  ASSERT_TRUE(verifier.failed());
  EXPECT_EQ(verifier.error()->code, errc::kInvalidPeerCertificate);
  EXPECT_NE(verifier.error()->message.find("cannot be parsed"), std::string::npos)
      << verifier.error()->message;
  EXPECT_EQ(verifier.error()->alert, SSL_AD_DECODE_ERROR);
  EXPECT_FALSE(verifier.error()->alert_from_peer);
  EXPECT_FALSE(verifier.authorized());
  EXPECT_FALSE(verifier.peer_certificate().has_value());

  ASSERT_TRUE(sender.failed());
  EXPECT_EQ(sender.error()->alert, SSL_AD_DECODE_ERROR);
  EXPECT_TRUE(sender.error()->alert_from_peer);
  EXPECT_FALSE(sender.handshake_done());
}

INSTANTIATE_TEST_SUITE_P(Tls12, MalformedPeerCertificate, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace sansio_tls::certs_test
