// ServerContextOptions and ClientContextOptions: an option of the other role cannot be set (it
// does not compile), the options both roles share agree, and a Context reports the options
// it was built from, of its own role only and without secrets.
#include <gtest/gtest.h>

#include "core/context.h"
#include "core/testing/cert_factory.h"
#include "core/testing/pair.h"

namespace sansio_tls {
namespace {

// Has_<field><Options>: whether |Options| has a field of that name.
#define DEFINE_HAS_FIELD(field)               \
  template <class Options>                    \
  concept Has_##field = requires(Options o) { \
    o.field;                                  \
  };
DEFINE_HAS_FIELD(alpn_callback)
DEFINE_HAS_FIELD(alternative_credentials)
DEFINE_HAS_FIELD(early_data_check)
DEFINE_HAS_FIELD(ech_grease)
DEFINE_HAS_FIELD(ech_keys)
DEFINE_HAS_FIELD(field)
DEFINE_HAS_FIELD(honor_cipher_order)
DEFINE_HAS_FIELD(psk_client_callback)
DEFINE_HAS_FIELD(psk_identity_hint)
DEFINE_HAS_FIELD(psk_server_callback)
DEFINE_HAS_FIELD(request_cert)
DEFINE_HAS_FIELD(request_ocsp)
DEFINE_HAS_FIELD(require_ocsp)
DEFINE_HAS_FIELD(role)
DEFINE_HAS_FIELD(session_cache)
DEFINE_HAS_FIELD(session_cache_size)
DEFINE_HAS_FIELD(sni_callback)
DEFINE_HAS_FIELD(sni_contexts)
DEFINE_HAS_FIELD(ticket_keys)
#define HAS_FIELD(Options, field) Has_##field<Options>

// Options of one role only. Each was an ERR_TLS_INVALID_CONFIG of Create when set on the
// wrong role; now the other role's struct has no such field.
static_assert(HAS_FIELD(ServerContextOptions, honor_cipher_order));
static_assert(HAS_FIELD(ServerContextOptions, request_cert));
static_assert(HAS_FIELD(ServerContextOptions, alternative_credentials));
static_assert(HAS_FIELD(ServerContextOptions, sni_contexts));
static_assert(HAS_FIELD(ServerContextOptions, sni_callback));
static_assert(HAS_FIELD(ServerContextOptions, alpn_callback));
static_assert(HAS_FIELD(ServerContextOptions, psk_server_callback));
static_assert(HAS_FIELD(ServerContextOptions, psk_identity_hint));
static_assert(HAS_FIELD(ServerContextOptions, ticket_keys));
static_assert(HAS_FIELD(ServerContextOptions, session_cache));
static_assert(HAS_FIELD(ServerContextOptions, session_cache_size));
static_assert(HAS_FIELD(ServerContextOptions, early_data_check));
static_assert(HAS_FIELD(ServerContextOptions, ech_keys));
static_assert(!HAS_FIELD(ClientContextOptions, honor_cipher_order));
static_assert(!HAS_FIELD(ClientContextOptions, request_cert));
static_assert(!HAS_FIELD(ClientContextOptions, alternative_credentials));
static_assert(!HAS_FIELD(ClientContextOptions, sni_contexts));
static_assert(!HAS_FIELD(ClientContextOptions, sni_callback));
static_assert(!HAS_FIELD(ClientContextOptions, alpn_callback));
static_assert(!HAS_FIELD(ClientContextOptions, psk_server_callback));
static_assert(!HAS_FIELD(ClientContextOptions, psk_identity_hint));
static_assert(!HAS_FIELD(ClientContextOptions, ticket_keys));
static_assert(!HAS_FIELD(ClientContextOptions, session_cache));
static_assert(!HAS_FIELD(ClientContextOptions, session_cache_size));
static_assert(!HAS_FIELD(ClientContextOptions, early_data_check));
static_assert(!HAS_FIELD(ClientContextOptions, ech_keys));

static_assert(HAS_FIELD(ClientContextOptions, psk_client_callback));
static_assert(HAS_FIELD(ClientContextOptions, request_ocsp));
static_assert(HAS_FIELD(ClientContextOptions, require_ocsp));
static_assert(HAS_FIELD(ClientContextOptions, ech_grease));
static_assert(!HAS_FIELD(ServerContextOptions, psk_client_callback));
static_assert(!HAS_FIELD(ServerContextOptions, request_ocsp));
static_assert(!HAS_FIELD(ServerContextOptions, require_ocsp));
static_assert(!HAS_FIELD(ServerContextOptions, ech_grease));
static_assert(!HAS_FIELD(ServerContextOptions, role));
static_assert(!HAS_FIELD(ClientContextOptions, role));

// Both roles' options build a Context (braced options name their role:
// Create(ServerContextOptions{...}); a bare Create({...}) does not compile, as ambiguous).
template <class T>
concept CreatableFrom = requires(T t) {
  Context::Create(t);
};
static_assert(CreatableFrom<ServerContextOptions> && CreatableFrom<ClientContextOptions>);

TEST(RoleOptions, SharedOptionsHaveTheSameDefaults) {
  ServerContextOptions s;
  ClientContextOptions c;
  EXPECT_EQ(s.ca_pems, c.ca_pems);
  EXPECT_EQ(s.crl_pems, c.crl_pems);
  EXPECT_EQ(s.use_system_ca, c.use_system_ca);
  EXPECT_EQ(s.system_ca_file, c.system_ca_file);
  EXPECT_EQ(s.verify_callback, c.verify_callback);
  EXPECT_EQ(s.ciphers, c.ciphers);
  EXPECT_EQ(s.certificate_compression, c.certificate_compression);
  EXPECT_EQ(s.ecdh_curve, c.ecdh_curve);
  EXPECT_EQ(s.verify_algorithms, c.verify_algorithms);
  EXPECT_EQ(s.signing_algorithms, c.signing_algorithms);
  EXPECT_EQ(s.min_version, c.min_version);
  EXPECT_EQ(s.max_version, c.max_version);
  EXPECT_EQ(s.reject_unauthorized, c.reject_unauthorized);
  EXPECT_EQ(s.alpn_protocols, c.alpn_protocols);
  EXPECT_EQ(s.npn_protocols, c.npn_protocols);
  EXPECT_EQ(s.session_timeout, c.session_timeout);
  EXPECT_EQ(s.session_tickets, c.session_tickets);
  EXPECT_EQ(s.early_data, c.early_data);
  EXPECT_EQ(s.key_update_after_bytes, c.key_update_after_bytes);
  EXPECT_EQ(s.key_update_after_records, c.key_update_after_records);
  EXPECT_EQ(s.key_log, c.key_log);
  // The secure defaults.
  EXPECT_EQ(s.min_version, TlsVersion::kTls12);
  EXPECT_TRUE(s.reject_unauthorized);
  EXPECT_TRUE(s.honor_cipher_order);
  EXPECT_FALSE(s.key_log);
}

TEST(RoleOptions, AContextReportsTheOptionsOfItsRoleWithoutSecrets) {
  testing::TestPki pki = testing::MakeTestPki();
  ServerContextOptions so{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()},
      .ca_pems = {pki.root.cert_pem},
      .ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256",
      .request_cert = true,
      .alpn_protocols = {"h2"},
      .session_timeout = 60,
      .session_cache_size = 7};
  auto server = Context::Create(so);
  ASSERT_TRUE(server.ok()) << server.error().message;
  EXPECT_EQ((*server)->role(), Role::kServer);
  EXPECT_FALSE((*server)->client_options().has_value());
  std::optional<ServerContextOptions> kept = (*server)->server_options();
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->credentials.key_pem, "");  // the Context keeps no private key
  EXPECT_EQ(kept->credentials.cert_chain_pem, so.credentials.cert_chain_pem);
  EXPECT_EQ(kept->ca_pems, so.ca_pems);
  EXPECT_EQ(kept->ciphers, so.ciphers);
  EXPECT_TRUE(kept->request_cert);
  EXPECT_EQ(kept->alpn_protocols, so.alpn_protocols);
  EXPECT_EQ(kept->session_timeout, 60u);
  EXPECT_EQ(kept->session_cache_size, 7u);
  EXPECT_EQ(so.credentials.key_pem, pki.server.key_pem);  // the caller's copy is untouched

  ClientContextOptions co{.ca_pems = {pki.root.cert_pem},
                          .max_version = TlsVersion::kTls12,
                          .alpn_protocols = {"h2", "http/1.1"},
                          .require_ocsp = true,
                          .ech_grease = false};
  auto client = Context::Create(co);
  ASSERT_TRUE(client.ok()) << client.error().message;
  EXPECT_EQ((*client)->role(), Role::kClient);
  EXPECT_FALSE((*client)->server_options().has_value());
  std::optional<ClientContextOptions> kept_client = (*client)->client_options();
  ASSERT_TRUE(kept_client.has_value());
  EXPECT_EQ(kept_client->max_version, TlsVersion::kTls12);
  EXPECT_EQ(kept_client->alpn_protocols, co.alpn_protocols);
  EXPECT_TRUE(kept_client->require_ocsp);
}

// Every option given reaches the handshake: one that was not copied into the context would
// leave its default here.
TEST(RoleOptions, EachRolesOptionsTakeEffect) {
  testing::TestPki pki = testing::MakeTestPki();
  auto server = Context::Create(ServerContextOptions{
      .credentials = {.key_pem = pki.server.key_pem, .cert_chain_pem = pki.server_chain_pem()},
      .ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256",
      .max_version = TlsVersion::kTls12,
      .alpn_protocols = {"h2"}});
  auto client = Context::Create(
      ClientContextOptions{.ca_pems = {pki.root.cert_pem},
                           .ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305",
                           .alpn_protocols = {"http/1.1", "h2"}});
  ASSERT_TRUE(server.ok() && client.ok());
  auto pair = testing::Pair::Create(*client, *server, {.servername = "localhost"});
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE((*pair)->Handshake());
  const HandshakeInfo& info = (*pair)->client().handshake_info();
  EXPECT_EQ(info.version, TlsVersion::kTls12);                              // server max_version
  EXPECT_EQ(info.cipher, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");  // server order
  EXPECT_EQ(info.alpn_protocol, std::optional<std::string>("h2"));          // server preference
  EXPECT_TRUE(info.authorized);                                             // client ca_pems
}

}  // namespace
}  // namespace sansio_tls
