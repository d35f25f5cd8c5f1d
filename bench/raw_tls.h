// The baseline: client and server written directly on BoringSSL with memory BIOs, the way
// Python's SSLObject (two BIO_s_mem per connection) and Asio's ssl engine (a BIO pair) drive
// it. Built from the same certificates, versions and ciphers as our side, so each figure
// compares the same TLS work. Failures abort: a benchmark never reports a broken loop.
#ifndef SANSIO_TLS_BENCH_RAW_TLS_H_
#define SANSIO_TLS_BENCH_RAW_TLS_H_

#include <openssl/aead.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/testing/cert_factory.h"

namespace sansio_tls::bench {

// What both sides are configured with.
struct Scenario {
  testing::KeyType key = testing::KeyType::kEcdsaP256;
  uint16_t version = TLS1_3_VERSION;  // min = max
  std::string ciphers;                // TLS 1.2 cipher list (both sides); empty: defaults
  bool verify = true;                 // client: chain + host-name verification
  bool tls12_session_ids = false;     // server: no tickets, resume by session ID (TLS 1.2)
};

// SSL_CTXs on TLS_method() (X509 objects, BoringSSL's own verifier: what Python and Asio
// use). The client trusts |pki|'s root and checks the name "localhost" when verifying.
struct RawContexts {
  bssl::UniquePtr<SSL_CTX> client, server;
  Scenario scenario;
  // Client session cache on, so RawConnection::TakeSession() can keep a resumable session.
  static RawContexts Make(const testing::TestPki& pki, const Scenario& scenario);
};

// One client and one server. With kBioPair both SSLs share one BIO pair (each writes straight
// into the other's read side: the cheapest loop BoringSSL offers); with kMemoryBios each SSL
// has a read and a write BIO_s_mem and the loop copies between them through a transfer
// buffer (SSLObject's shape).
class RawConnection {
 public:
  enum class Transport { kBioPair, kMemoryBios };
  // |resume| (may be null) is offered by the client.
  RawConnection(const RawContexts& ctx, Transport transport, SSL_SESSION* resume = nullptr);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Runs the handshake to completion on both sides, then a one-byte write each way (which
  // also delivers TLS 1.3 session tickets to the client). Aborts on failure.
  void Connect();
  // Client writes |n| bytes in one SSL_write; the server reads them all. Aborts on failure.
  void SendToServer(const uint8_t* data, size_t n);
  // The client's current session (up-referenced) after Connect(): TLS 1.2's established
  // session, or TLS 1.3's last ticket. Aborts if none is resumable.
  bssl::UniquePtr<SSL_SESSION> TakeSession();
  // Frees the transport BIOs and any ticket kept for resumption (idle-memory measurements
  // of the TLS state alone).
  void DropTransport();
  bool reused() const { return SSL_session_reused(client_); }
  // The newest session the client received (TLS 1.3 tickets arrive after the handshake).
  void OnNewSession(SSL_SESSION* session);

  SSL* client() const { return client_; }
  SSL* server() const { return server_; }
  // Frees one side early (memory measurements).
  void FreeServer();
  void FreeClient();

 private:
  void Move(SSL* from, SSL* to);  // kMemoryBios: from's write BIO -> to's read BIO
  void ReadExactly(SSL* ssl, size_t n);

  Transport transport_;
  SSL* client_ = nullptr;
  SSL* server_ = nullptr;
  bssl::UniquePtr<SSL_SESSION> newest_session_;
};

// The record-layer limit: one EVP_AEAD sealing a record of |record_size| bytes (out of place,
// as SSL_write does) and opening it (in place, as SSL_read does), per iteration.
class AeadLoop {
 public:
  AeadLoop(const EVP_AEAD* aead, size_t record_size);
  ~AeadLoop();
  void SealOpen();

 private:
  EVP_AEAD_CTX ctx_;
  size_t record_size_;
  uint64_t counter_ = 0;
  std::vector<uint8_t> plaintext_, record_;
};

}  // namespace sansio_tls::bench

#endif  // SANSIO_TLS_BENCH_RAW_TLS_H_
