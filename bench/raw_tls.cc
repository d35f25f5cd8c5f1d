#include "bench/raw_tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sansio_tls::bench {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "raw BoringSSL baseline: %s failed\n", what);
  ERR_print_errors_fp(stderr);
  std::abort();
}

void Check(bool ok, const char* what) {
  if (!ok) Die(what);
}

int ConnectionIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* c = static_cast<RawConnection*>(SSL_get_ex_data(ssl, ConnectionIndex()));
  if (!c) return 0;
  c->OnNewSession(session);
  return 1;  // we took the reference
}

uint8_t g_transfer[32 * 1024];  // the "network" buffer of the memory-BIO loop
uint8_t g_sink[16 * 1024];      // plaintext read by the baseline

}  // namespace

RawContexts RawContexts::Make(const testing::TestPki& pki, const Scenario& scenario) {
  RawContexts r;
  r.scenario = scenario;
  r.server.reset(SSL_CTX_new(TLS_method()));
  r.client.reset(SSL_CTX_new(TLS_method()));
  Check(r.server && r.client, "SSL_CTX_new");
  for (SSL_CTX* ctx : {r.server.get(), r.client.get()}) {
    Check(SSL_CTX_set_min_proto_version(ctx, scenario.version) &&
              SSL_CTX_set_max_proto_version(ctx, scenario.version),
          "set version");
    if (!scenario.ciphers.empty()) {
      Check(SSL_CTX_set_strict_cipher_list(ctx, scenario.ciphers.c_str()), "cipher list");
    }
  }

  bssl::UniquePtr<X509> leaf = testing::ToX509(pki.server);
  bssl::UniquePtr<X509> intermediate = testing::ToX509(pki.intermediate);
  Check(SSL_CTX_use_certificate(r.server.get(), leaf.get()) &&
            SSL_CTX_add1_chain_cert(r.server.get(), intermediate.get()) &&
            SSL_CTX_use_PrivateKey(r.server.get(), pki.server.key.get()),
        "server credentials");
  SSL_CTX_set_session_id_context(r.server.get(), reinterpret_cast<const uint8_t*>("bench"), 5);
  if (scenario.tls12_session_ids) SSL_CTX_set_options(r.server.get(), SSL_OP_NO_TICKET);

  bssl::UniquePtr<X509> root = testing::ToX509(pki.root);
  Check(X509_STORE_add_cert(SSL_CTX_get_cert_store(r.client.get()), root.get()), "trust root");
  SSL_CTX_set_verify(r.client.get(), scenario.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(r.client.get(), SSL_SESS_CACHE_CLIENT);
  SSL_CTX_sess_set_new_cb(r.client.get(), bench::OnNewSession);
  return r;
}

RawConnection::RawConnection(const RawContexts& ctx, Transport transport, SSL_SESSION* resume)
    : transport_(transport) {
  client_ = SSL_new(ctx.client.get());
  server_ = SSL_new(ctx.server.get());
  Check(client_ && server_, "SSL_new");
  SSL_set_ex_data(client_, ConnectionIndex(), this);
  if (transport == Transport::kBioPair) {
    BIO *a = nullptr, *b = nullptr;
    Check(BIO_new_bio_pair(&a, 0, &b, 0), "BIO_new_bio_pair");
    SSL_set_bio(client_, a, a);
    SSL_set_bio(server_, b, b);
  } else {
    for (SSL* ssl : {client_, server_}) {
      BIO* in = BIO_new(BIO_s_mem());
      BIO* out = BIO_new(BIO_s_mem());
      Check(in && out, "BIO_new");
      SSL_set_bio(ssl, in, out);
    }
  }
  SSL_set_connect_state(client_);
  SSL_set_accept_state(server_);
  Check(SSL_set_tlsext_host_name(client_, "localhost"), "SNI");
  if (ctx.scenario.verify) {
    Check(X509_VERIFY_PARAM_set1_host(SSL_get0_param(client_), "localhost", 9), "host check");
  }
  if (resume) Check(SSL_set_session(client_, resume), "SSL_set_session");
}

RawConnection::~RawConnection() {
  SSL_free(client_);
  SSL_free(server_);
}

void RawConnection::OnNewSession(SSL_SESSION* session) { newest_session_.reset(session); }

void RawConnection::Move(SSL* from, SSL* to) {
  if (transport_ != Transport::kMemoryBios) return;
  BIO* out = SSL_get_wbio(from);
  BIO* in = SSL_get_rbio(to);
  for (;;) {
    int n = BIO_read(out, g_transfer, sizeof g_transfer);
    if (n <= 0) return;
    Check(BIO_write(in, g_transfer, n) == n, "BIO_write");
  }
}

void RawConnection::Connect() {
  for (int round = 0; round < 64; ++round) {
    int rc = SSL_do_handshake(client_);
    if (rc != 1 && SSL_get_error(client_, rc) != SSL_ERROR_WANT_READ) Die("client handshake");
    Move(client_, server_);
    int rs = SSL_do_handshake(server_);
    if (rs != 1 && SSL_get_error(server_, rs) != SSL_ERROR_WANT_READ) Die("server handshake");
    Move(server_, client_);
    if (rc == 1 && rs == 1) {
      static const uint8_t kByte = 'x';
      Check(SSL_write(client_, &kByte, 1) == 1, "client write");
      Move(client_, server_);
      ReadExactly(server_, 1);
      Check(SSL_write(server_, &kByte, 1) == 1, "server write");
      Move(server_, client_);
      ReadExactly(client_, 1);
      return;
    }
  }
  Die("handshake did not finish");
}

void RawConnection::ReadExactly(SSL* ssl, size_t n) {
  while (n > 0) {
    int r = SSL_read(ssl, g_sink, static_cast<int>(std::min(n, sizeof g_sink)));
    if (r <= 0) Die("SSL_read");
    n -= static_cast<size_t>(r);
  }
}

void RawConnection::SendToServer(const uint8_t* data, size_t n) {
  Check(SSL_write(client_, data, static_cast<int>(n)) == static_cast<int>(n), "SSL_write");
  Move(client_, server_);
  ReadExactly(server_, n);
}

bssl::UniquePtr<SSL_SESSION> RawConnection::TakeSession() {
  if (newest_session_) return std::move(newest_session_);
  SSL_SESSION* s = SSL_get1_session(client_);
  Check(s && SSL_SESSION_is_resumable(s), "a resumable session");
  return bssl::UniquePtr<SSL_SESSION>(s);
}

void RawConnection::DropTransport() {
  newest_session_.reset();
  if (client_) SSL_set_bio(client_, nullptr, nullptr);
  if (server_) SSL_set_bio(server_, nullptr, nullptr);
}

void RawConnection::FreeServer() {
  SSL_free(server_);
  server_ = nullptr;
}

void RawConnection::FreeClient() {
  SSL_free(client_);
  client_ = nullptr;
}

// ---- AEAD ------------------------------------------------------------------------------

AeadLoop::AeadLoop(const EVP_AEAD* aead, size_t record_size)
    : record_size_(record_size),
      plaintext_(record_size, 0x5a),
      record_(record_size + EVP_AEAD_max_overhead(aead)) {
  uint8_t key[32] = {1, 2, 3};
  Check(EVP_AEAD_CTX_init(&ctx_, aead, key, EVP_AEAD_key_length(aead), EVP_AEAD_DEFAULT_TAG_LENGTH,
                          nullptr),
        "EVP_AEAD_CTX_init");
}

AeadLoop::~AeadLoop() { EVP_AEAD_CTX_cleanup(&ctx_); }

void AeadLoop::SealOpen() {
  uint8_t nonce[12] = {0};
  std::memcpy(nonce + 4, &++counter_, sizeof counter_);
  uint8_t ad[13] = {0};  // TLS 1.2 style: sequence, type, version, length
  size_t sealed = 0, opened = 0;
  Check(EVP_AEAD_CTX_seal(&ctx_, record_.data(), &sealed, record_.size(), nonce, sizeof nonce,
                          plaintext_.data(), record_size_, ad, sizeof ad),
        "seal");
  Check(EVP_AEAD_CTX_open(&ctx_, record_.data(), &opened, record_.size(), nonce, sizeof nonce,
                          record_.data(), sealed, ad, sizeof ad) &&
            opened == record_size_,
        "open");
}

}  // namespace sansio_tls::bench
