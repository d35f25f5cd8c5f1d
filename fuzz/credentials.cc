// Fuzz target: credential loading, Context::Create with arbitrary key/certificate PEM,
// PKCS#12, CRLs and passphrase.
//
// Input: mode byte, pfx byte, passphrase ShortString, key part, "\0\0", certificate part.
// Pfx byte: bit 0: credentials come from a PKCS#12 instead: the factory's bundle (key,
// certificate and root, passphrase "pass") with the key part's edits applied, or (bit 1) the
// key part itself; bit 2: the certificate part is also given as crl_pems. Mode bits:
//   0  key: a factory key's PEM instead of the key part
//   1  that factory key encrypted (PKCS#8, passphrase "pass")
//   2  certificate: the factory key's certificate prepended to the certificate part
//   3  the certificate part goes to ca_pems instead
//   4  the key part is a list of edits (u16 offset, xor byte) applied to the factory key PEM
//   5-6 factory key type: P-256, P-384, RSA-2048, Ed25519
//   7  role: server (else client)
// No private key is stored in the corpus: factory keys are generated at run time.
//
// Invariants: no crash; a failure is an Error with an ERR_ code and a message; an unedited
// factory key with its own certificate loads (with the right passphrase; with a wrong one
// the error is ERR_TLS_BAD_PASSPHRASE); so does the factory's unedited PKCS#12; a context
// that loads keeps no key, passphrase or pfx and makes sessions.
#include <openssl/evp.h>

#include <map>
#include <string>

#include "core/context.h"
#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "fuzz/fuzz_support.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;

namespace {

struct FactoryCredential {
  std::string key_pem, encrypted_key_pem, cert_pem;
  std::vector<uint8_t> pfx;
};

const FactoryCredential& Factory(int type) {
  static std::map<int, FactoryCredential>* cache = new std::map<int, FactoryCredential>;
  auto& slot = (*cache)[type];
  if (slot.cert_pem.empty()) {
    ScopedRandomStream stream(RandomStream::kOther);
    static const testing::KeyType kTypes[] = {
        testing::KeyType::kEcdsaP256, testing::KeyType::kEcdsaP384, testing::KeyType::kRsa2048,
        testing::KeyType::kEd25519};
    testing::CertSpec spec;
    spec.key = testing::CachedKey(kTypes[type], 0);
    spec.not_before = 1700000000;
    spec.not_after = 1900000000;
    spec.serial = {0x42};
    testing::CertSpec root_spec;
    root_spec.subject = {{"CN", "credentials fuzz root"}};
    root_spec.is_ca = true;
    root_spec.key = spec.key;
    root_spec.not_before = spec.not_before;
    root_spec.not_after = spec.not_after;
    root_spec.serial = {0x43};
    testing::Cert root = testing::MakeSelfSigned(root_spec);
    testing::Cert cert = testing::MakeSelfSigned(spec);
    slot = {cert.key_pem, testing::EncryptedKeyPem(cert, "pass"), cert.cert_pem,
            testing::MakePkcs12(cert, {root}, "pass")};
  }
  return slot;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  uint8_t mode = in.Byte(), pfx_mode = in.Byte();
  bool use_pfx = pfx_mode & 1, raw_pfx = pfx_mode & 2, crls = pfx_mode & 4;
  bool factory_key = mode & 1, encrypted = mode & 2, factory_cert = mode & 4;
  bool cert_as_ca = mode & 8, edits = mode & 16, server = mode & 128;
  int type = (mode >> 5) & 3;
  std::string passphrase = in.ShortString();
  auto key_part = in.Until(std::string_view("\0\0", 2));
  auto cert_part = in.Rest();

  ServerContextOptions options;  // its shared fields only, for a client
  std::string key(key_part.begin(), key_part.end());
  if (factory_key) {
    const FactoryCredential& f = Factory(type);
    std::string pem = encrypted ? f.encrypted_key_pem : f.key_pem;
    if (edits) {
      Input e(key_part.data(), key_part.size());
      while (e.remaining() >= 3) {
        size_t offset = e.U16();
        uint8_t mask = e.Byte();
        if (!pem.empty()) pem[offset % pem.size()] ^= static_cast<char>(mask);
      }
    }
    key = pem;
  }
  std::string certs(cert_part.begin(), cert_part.end());
  if (cert_as_ca) {
    options.ca_pems = {certs};
    certs.clear();
  }
  if (factory_cert) certs = Factory(type).cert_pem + certs;
  options.credentials = {key, passphrase, certs};
  if (crls) options.crl_pems = {std::string(cert_part.begin(), cert_part.end())};
  if (use_pfx) {
    options.credentials.key_pem.clear();
    options.credentials.cert_chain_pem.clear();
    if (raw_pfx) {
      options.credentials.pfx.assign(key_part.begin(), key_part.end());
    } else {
      options.credentials.pfx = Factory(type).pfx;
      Input e(key_part.data(), key_part.size());
      auto& pfx = options.credentials.pfx;
      while (e.remaining() >= 3) {
        size_t offset = e.U16();
        uint8_t mask = e.Byte();
        pfx[offset % pfx.size()] ^= mask;
      }
    }
  }

  auto ctx = server ? Context::Create(options)
                    : Context::Create(ClientContextOptions{.credentials = options.credentials,
                                                           .ca_pems = options.ca_pems,
                                                           .crl_pems = options.crl_pems});
  if (!ctx.ok()) {
    const Error& e = ctx.error();
    FUZZ_CHECK(e.code.rfind("ERR_", 0) == 0, "error code \"%s\"", e.code.c_str());
    FUZZ_CHECK(!e.message.empty(), "error %s without a message", e.code.c_str());
  }
  if (use_pfx && !raw_pfx && key_part.size() < 3 && !cert_as_ca && !crls) {
    if (passphrase == "pass") {
      FUZZ_CHECK(ctx.ok(), "factory PKCS#12 %d failed: %s %s", type, ctx.error().code.c_str(),
                 ctx.error().message.c_str());
    } else {
      FUZZ_CHECK(!ctx.ok() && ctx.error().code == "ERR_TLS_BAD_PASSPHRASE",
                 "PKCS#12 with a wrong passphrase gave %s",
                 ctx.ok() ? "success" : ctx.error().code.c_str());
    }
  }
  if (!use_pfx && factory_key && factory_cert && !edits && !cert_as_ca && !crls &&
      cert_part.empty()) {
    if (!encrypted || passphrase == "pass") {
      FUZZ_CHECK(ctx.ok(), "factory key %d (encrypted=%d) with its certificate failed: %s %s", type,
                 encrypted, ctx.error().code.c_str(), ctx.error().message.c_str());
    } else {
      FUZZ_CHECK(!ctx.ok() && ctx.error().code == "ERR_TLS_BAD_PASSPHRASE",
                 "wrong passphrase gave %s", ctx.ok() ? "success" : ctx.error().code.c_str());
    }
  }
  if (ctx.ok()) {
    const Credentials kept = (server ? ctx.value()->server_options()->credentials
                                     : ctx.value()->client_options()->credentials);
    FUZZ_CHECK(kept.key_pem.empty() && kept.passphrase.empty() && kept.pfx.empty(),
               "the context kept the private key, passphrase or pfx");
    auto session = Session::Create(ctx.value(), {});
    FUZZ_CHECK(session.ok(), "a loaded context cannot make a session: %s",
               session.ok() ? "" : session.error().message.c_str());
  }
  return 0;
}
