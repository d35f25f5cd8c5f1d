// Writes the generated seed corpora under a directory (normally fuzz/corpus):
//   ./bazelw run //fuzz:gen_corpus -- $PWD/fuzz/corpus
// - server_session/, client_session/: each direction of deterministic pair handshakes
//   (every version, with and without client certificates, ...), prefixed with the config
//   byte, checked here to replay into a lone session up to the exchanged data;
// - pair/: operation scripts; sni_matcher/, protocol_list/, hostname/: small structured
//   inputs; peer_certificate/: certificates from the factory; credentials/: factory modes.
// Generated files ("<label>-<16 hex>") are replaced on each run; captured ClientHellos
// ("capture-*"), fuzzer findings ("regress-*") and inputs merged in by `tools/fuzz -m`
// (SHA-1 names) are kept. Rerun after the core changes its handshake bytes.
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/session.h"
#include "core/testing/cert_factory.h"
#include "fuzz/fuzz_support.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;
namespace fs = std::filesystem;

namespace {

fs::path g_root;

std::string Hex(const uint8_t* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

void Save(const std::string& target, const std::string& label, const std::vector<uint8_t>& data) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(data.data(), data.size(), digest);
  fs::path dir = g_root / target;
  fs::create_directories(dir);
  fs::path file = dir / (label + "-" + Hex(digest, 8));
  std::ofstream(file, std::ios::binary)
      .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

void Append(std::vector<uint8_t>& v, std::string_view s) { v.insert(v.end(), s.begin(), s.end()); }
void AppendShort(std::vector<uint8_t>& v, std::string_view s) {
  v.push_back(static_cast<uint8_t>(s.size()));
  Append(v, s);
}

// ---- Recorded pairs -----------------------------------------------------------------

struct Recording {
  std::vector<uint8_t> to_server, to_client;
};

size_t MoveAll(Session& from, Session& to, RandomStream to_stream, std::vector<uint8_t>& log) {
  size_t moved = 0;
  ScopedRandomStream stream(to_stream);
  for (;;) {
    auto out = from.PendingOutput();
    if (out.empty()) return moved;
    size_t taken = to.Feed(out);
    log.insert(log.end(), out.begin(), out.begin() + static_cast<ptrdiff_t>(taken));
    from.ConsumeOutput(taken);
    moved += taken;
    if (taken == 0) return moved;
  }
}

// Reads everything and pops events, answering kSniRequest as the targets do.
void ReadAll(Session& s, std::string& out, const ServerConfig* sc = nullptr) {
  for (;;) {
    uint8_t buf[4096];
    size_t n = s.Read(buf);
    out.append(reinterpret_cast<char*>(buf), n);
    bool any = n > 0;
    while (auto e = s.NextEvent()) {
      any = true;
      if (e->kind() == EventKind::kSniRequest && sc && !s.failed()) s.AnswerSni(SniAnswerFor(*sc));
    }
    if (!any) return;
  }
}

// Both sides behave as the lone-session targets do up to the end of the handshake: the
// client queues its request before the handshake, the server answers once it has read it.
Recording Record(const ClientConfig& cc, const ServerConfig& sc) {
  ResetRandom();
  std::optional<Session> client, server;
  {
    ScopedRandomStream stream(RandomStream::kClient);
    client = std::move(Session::Create(ClientContext(cc), ClientSessionOptions(cc))).value();
  }
  {
    ScopedRandomStream stream(RandomStream::kServer);
    server = std::move(Session::Create(ServerContext(sc), ServerSessionOptions())).value();
  }
  static const uint8_t kRequest[] = "GET / HTTP/1.0\r\n\r\n";
  client->Write(kRequest);
  Recording rec;
  std::string at_server, at_client;
  bool answered = false, closed = false;
  for (int round = 0; round < 1000; ++round) {
    size_t moved = MoveAll(*client, *server, RandomStream::kServer, rec.to_server);
    ReadAll(*server, at_server, &sc);
    if (!answered && !at_server.empty()) {
      ScopedRandomStream stream(RandomStream::kServer);
      static const uint8_t kResponse[] = "HTTP/1.0 200 OK\r\n\r\nhello";
      server->Write(kResponse);
      answered = true;
    }
    moved += MoveAll(*server, *client, RandomStream::kClient, rec.to_client);
    ReadAll(*client, at_client);
    if (moved == 0) {
      if (closed) break;
      client->Close();
      server->Close();
      closed = true;
    }
  }
  return rec;
}

// Replays one direction into a lone session, as the targets do; true when it got through
// the handshake and read application data.
bool Replays(bool server_side, const ClientConfig& cc, const ServerConfig& sc,
             const std::vector<uint8_t>& bytes) {
  ResetRandom();
  ScopedRandomStream stream(server_side ? RandomStream::kServer : RandomStream::kClient);
  auto s = server_side ? Session::Create(ServerContext(sc), ServerSessionOptions())
                       : Session::Create(ClientContext(cc), ClientSessionOptions(cc));
  Session& session = s.value();
  std::string got;
  ReadAll(session, got, &sc);
  session.Feed(bytes);
  ReadAll(session, got, &sc);
  return session.handshake_done() && !session.failed() && !got.empty();
}

void RecordedSeeds() {
  int made = 0, replayed = 0, expected = 0;
  for (int versions : {0, 1, 2}) {
    for (int variant = 0; variant < 10; ++variant) {
      ClientConfig cc;
      ServerConfig sc;
      cc.versions = sc.versions = versions;
      cc.alpn = 1;
      cc.npn = sc.alpn = sc.npn = true;
      switch (variant) {
        case 0:
          break;
        case 1:  // client certificate requested and sent
          sc.request_cert = sc.reject_unauthorized = true;
          cc.with_certificate = true;
          break;
        case 2:  // requested, none sent, tolerated
          sc.request_cert = true;
          break;
        case 3:  // lenient client, wrong name
          cc.name = 1;
          break;
        case 4:  // strict client
          cc.reject_unauthorized = true;
          break;
        case 5:  // SNI contexts pick the wildcard certificate
          sc.sni_mode = 1;
          cc.name = 2;
          cc.reject_unauthorized = true;
          break;
        case 6:  // SNI callback answers with another context
          sc.sni_mode = 3;
          sc.sni_answer = 1;
          cc.name = 7;
          cc.alpn = 3;
          cc.reject_unauthorized = true;
          break;
        case 7:  // SNI callback rejects
          sc.sni_mode = 2;
          sc.sni_answer = 2;
          break;
        case 8:  // no ALPN overlap
          cc.alpn = 2;
          break;
        case 9:  // IP literal: no SNI sent, no ALPN
          cc.name = 4;
          cc.alpn = 0;
          sc.sni_mode = 3;
          break;
      }
      Recording rec = Record(cc, sc);
      std::string tag = "v" + std::to_string(versions) + "-" + std::to_string(variant);
      for (int flavour = 0; flavour < 3; ++flavour) {
        ServerConfig s2 = sc;
        ClientConfig c2 = cc;
        if (flavour == 1) {
          s2.echo = true;
          c2.eof_at_end = true;
        }
        if (flavour == 2) {
          s2.chunking = c2.chunking = Chunker::Mode::kRandom;
          s2.eof_at_end = true;
        }
        std::vector<uint8_t> s_seed = s2.ToBytes(), c_seed = c2.ToBytes();
        s_seed.insert(s_seed.end(), rec.to_server.begin(), rec.to_server.end());
        c_seed.insert(c_seed.end(), rec.to_client.begin(), rec.to_client.end());
        Save("server_session", "rec-" + tag, s_seed);
        Save("client_session", "rec-" + tag, c_seed);
      }
      // Just the first flight, too (a bare ClientHello).
      ResetRandom();
      ScopedRandomStream stream(RandomStream::kClient);
      auto hello = Session::Create(ClientContext(cc), ClientSessionOptions(cc));
      auto out = hello->PendingOutput();
      std::vector<uint8_t> ch = sc.ToBytes();
      ch.insert(ch.end(), out.begin(), out.end());
      Save("server_session", "hello-" + tag, ch);
      made += 2;
      if (Compatible(cc, sc)) {
        expected += 2;
        bool s_ok = Replays(true, cc, sc, rec.to_server),
             c_ok = Replays(false, cc, sc, rec.to_client);
        replayed += s_ok + c_ok;
        if (!s_ok || !c_ok)
          std::printf("%s: replay server=%d client=%d\n", tag.c_str(), s_ok, c_ok);
      }
    }
  }
  std::printf("recorded %d streams; %d of %d that should replay through the handshake do\n", made,
              replayed, expected);
}

// ---- Pair scripts -------------------------------------------------------------------

void PairSeeds() {
  auto header = [](uint8_t c0, uint8_t s0, uint8_t rb, uint8_t wb) {
    // ALPN, NPN on both sides; SNI contexts and callback on the server.
    return std::vector<uint8_t>{c0, 0x05, s0, 0x1f, rb, wb};
  };
  auto op = [](std::vector<uint8_t>& v, uint8_t code, int side,
               std::initializer_list<uint8_t> args) {
    v.push_back(static_cast<uint8_t>(code | side << 4));
    v.insert(v.end(), args.begin(), args.end());
  };
  enum { kWrite, kMove, kRead, kClose, kFlip, kEof, kDrop, kPump, kKeyUpdate, kPeerCert };
  for (uint8_t versions : {0, 1, 2}) {
    {  // plain exchange both ways, then close both
      auto v = header(versions, versions, 255, 255);
      op(v, kWrite, 0, {0x01, 0x00});
      op(v, kPump, 0, {});
      op(v, kPeerCert, 0, {1});
      op(v, kPeerCert, 1, {0});
      op(v, kKeyUpdate, 0, {1});
      op(v, kWrite, 1, {0x10, 0x00});
      op(v, kPump, 0, {});
      op(v, kKeyUpdate, 1, {0});
      op(v, kWrite, 0, {0x00, 0x10});
      op(v, kPump, 0, {});
      op(v, kClose, 0, {});
      op(v, kPump, 0, {});
      op(v, kClose, 1, {});
      Save("pair", "exchange", v);
    }
    {  // byte-at-a-time handshake with small buffers
      auto v = header(versions, versions, 0, 0);
      op(v, kWrite, 0, {0x04, 0x00});
      for (int i = 0; i < 120; ++i) {
        op(v, kMove, 0, {0, 1});
        op(v, kMove, 1, {0, 3});
      }
      op(v, kRead, 1, {0, 100});
      Save("pair", "trickle", v);
    }
    {  // flipped byte in the server's flight
      auto v = header(versions, versions, 255, 255);
      op(v, kMove, 0, {0, 0});
      op(v, kFlip, 1, {0, 60, 0x20});
      op(v, kPump, 0, {});
      Save("pair", "flip", v);
    }
    {  // EOF to the server mid-transfer, and truncation after the handshake
      auto v = header(versions, versions, 255, 255);
      op(v, kPump, 0, {});
      op(v, kWrite, 0, {0x40, 0x00});
      op(v, kMove, 0, {0x01, 0x00});
      op(v, kEof, 1, {});
      op(v, kPump, 0, {});
      Save("pair", "eof", v);
    }
    {  // client certificate, drop of the tail, close before the handshake
      auto v =
          header(static_cast<uint8_t>(versions | 4), static_cast<uint8_t>(versions | 12), 8, 8);
      op(v, kClose, 0, {});
      op(v, kWrite, 1, {0x00, 0x20});
      op(v, kPump, 0, {});
      op(v, kWrite, 1, {0x30, 0x00});
      op(v, kDrop, 1, {0x00, 0x40});
      op(v, kPump, 0, {});
      Save("pair", "clientcert-drop", v);
    }
  }
}

// ---- Lifecycle scripts ----------------------------------------------------------------

void LifecycleSeeds() {
  enum {
    kWrite,
    kMove,
    kRead,
    kClose,
    kFlip,
    kEof,
    kDrop,
    kPump,
    kKeyUpdate,
    kPeerCert,
    kAnswer,
    kNext = 15
  };
  auto op = [](std::vector<uint8_t>& v, uint8_t code, int side,
               std::initializer_list<uint8_t> args) {
    v.push_back(static_cast<uint8_t>(code | side << 4));
    v.insert(v.end(), args.begin(), args.end());
  };
  // A connection: the client writes first (0-RTT when the session allows), then both
  // exchange and close.
  auto connection = [&](std::vector<uint8_t>& v, bool answer) {
    op(v, kWrite, 0, {0x00, 0x80});
    op(v, kPump, 0, {});
    if (answer) {
      op(v, kAnswer, 0, {});
      op(v, kAnswer, 1, {});
      op(v, kPump, 0, {});
      op(v, kAnswer, 1, {});
      op(v, kPump, 0, {});
    }
    op(v, kWrite, 1, {0x01, 0x00});
    op(v, kPump, 0, {});
    op(v, kClose, 0, {});
    op(v, kPump, 0, {});
    op(v, kClose, 1, {});
    op(v, kPump, 0, {});
  };
  struct Seed {
    const char* label;
    uint8_t c0, s0, l0, l1, l2, damage;
    uint8_t c1 = 0, s1 = 0;
  };
  const Seed seeds[] = {
      {"resume", 0, 0, 0x00, 0x00, 0x00, 0},
      {"early-data", 0, 0, 0x08, 0x00, 0x00, 0},
      {"early-data-not-offered", 0, 0, 0x08, 0x00, 0x04, 0},
      {"external-cache", 0, 0, 0x05, 0x00, 0x00, 0},
      {"external-miss", 0, 0, 0x05, 0x20, 0x00, 0},
      {"no-cache-no-tickets", 0, 0, 0x03, 0x00, 0x00, 0},
      {"ocsp-keylog", 0, 0, 0xb0, 0x00, 0x00, 0},
      {"ocsp-required-missing", 0, 0, 0x40, 0x00, 0x00, 0},
      {"verify-accept-deferred", 0, 0, 0x00, 0x13, 0x00, 0},
      {"verify-reject", 0, 0, 0x00, 0x01, 0x00, 0},
      {"client-cert-verify", 4, 12, 0x00, 0x0c, 0x00, 0},
      {"expired", 0, 0, 0x00, 0x80, 0x01, 0},
      {"almost-expired", 0, 0, 0x08, 0x40, 0x02, 0},
      {"damaged", 0, 0, 0x00, 0x00, 0x00, 0x40},
      {"cut", 0, 0, 0x00, 0x00, 0x00, 2},
      // a.example.com with ALPN to SNI contexts + callback (answered later), 0-RTT
      {"sni-alpn-resume", 0, 0, 0x08, 0x10, 0x00, 0, 0x11, 0x17},
      // the SNI callback serves another context: resumption must stay with it
      {"sni-callback-resume", 0, 0, 0x00, 0x00, 0x00, 0, 0x39, 0x16},
      // strict server, client certificate, external cache and key log
      {"client-cert-strict-external", 4, 12, 0x84, 0x00, 0x00, 0},
      // the server's ALPN callback (server byte 0 bits 4-6) for a client offering h2,
      // http/1.1: answered at once, late, never, refused; at once but by an Answer operation
      {"alpn-callback", 0, 0x10, 0x00, 0x00, 0x00, 0, 0x01},
      {"alpn-callback-late", 0, 0x20, 0x08, 0x00, 0x00, 0, 0x01},
      {"alpn-callback-never", 0, 0x30, 0x00, 0x00, 0x00, 0, 0x01},
      {"alpn-callback-refused", 0, 0x50, 0x00, 0x00, 0x00, 0, 0x01},
      {"alpn-callback-deferred", 0, 0x10, 0x00, 0x10, 0x00, 0, 0x03},
      // certificate compression off on the server (server byte 0 bit 7), the client (client
      // byte 0 bit 7), both; with a client certificate
      {"no-compression-server", 0, 0x80, 0x00, 0x00, 0x00, 0},
      {"no-compression-client", 0x80, 0, 0x00, 0x00, 0x00, 0},
      {"no-compression-client-cert", 0x84, 0x8c, 0x00, 0x00, 0x00, 0},
  };
  for (uint8_t versions : {0, 1, 2}) {
    for (const Seed& seed : seeds) {
      std::vector<uint8_t> v = {static_cast<uint8_t>(seed.c0 | versions),
                                seed.c1,
                                static_cast<uint8_t>(seed.s0 | versions),
                                seed.s1,
                                seed.l0,
                                seed.l1,
                                seed.l2,
                                0x00,
                                0x30,
                                seed.damage,
                                255,
                                255};
      bool answer = seed.l1 & 0x10;
      connection(v, answer);
      op(v, kNext, 0, {});
      connection(v, answer);
      Save("lifecycle", seed.label, v);
    }
  }
}

// ---- Small structured inputs ----------------------------------------------------------

void SniSeeds() {
  auto seed = [](std::vector<std::string> patterns, std::vector<std::string> names) {
    std::vector<uint8_t> v{static_cast<uint8_t>(patterns.size())};
    for (auto& p : patterns) AppendShort(v, p);
    for (auto& n : names) AppendShort(v, n);
    return v;
  };
  Save("sni_matcher", "basic",
       seed({"*.test.com", "a.test.com", "*.test.com"},
            {"b.test.com", "a.test.com", "a.b.test.com", "test.com"}));
  Save("sni_matcher", "partial",
       seed({"a*.x.com", "*b.x.com", "a*b.x.com", "www.*.com"},
            {"ab.x.com", "b.x.com", "axxb.x.com", "www.foo.com"}));
  Save(
      "sni_matcher", "case-dot",
      seed({"Example.COM.", "*.Example.com"}, {"example.com", "EXAMPLE.com.", "www.example.COM."}));
  Save("sni_matcher", "invalid",
       seed({"", "1.2.3.4", "a..b", ".a", "**.a.com", "a b", "[::1]", "0x7f.0.0.1",
             std::string(64, 'a') + ".com"},
            {"127.1", "::1", "", ".x.com", "a_b.x.com"}));
  Save("sni_matcher", "general",
       seed({"*.*.example.com", "a.*.example.com", "x*.*.y.*"},
            {"a.b.example.com", "xx.q.y.z", "a.example.com"}));
}

void ProtocolListSeeds() {
  auto seed = [](std::vector<std::string> prefs, std::string wire) {
    std::vector<uint8_t> v{static_cast<uint8_t>(prefs.size())};
    for (auto& p : prefs) AppendShort(v, p);
    Append(v, wire);
    return v;
  };
  Save("protocol_list", "alpn", seed({"h2", "http/1.1"}, std::string("\x08http/1.1\x02h2", 12)));
  Save("protocol_list", "none", seed({"spdy/3"}, std::string("\x02h2", 3)));
  Save("protocol_list", "malformed", seed({"h2"}, std::string("\x05h2", 3)));
  Save("protocol_list", "empty-entry",
       seed({"", "a"}, std::string("\x00\x01"
                                   "a",
                                   3)));
}

void HostnameSeeds(const std::vector<testing::Cert>& certs) {
  auto pattern_seed = [](std::string host, std::string pattern) {
    std::vector<uint8_t> v{0};
    AppendShort(v, host);
    AppendShort(v, pattern);
    return v;
  };
  Save("hostname", "pattern", pattern_seed("a.example.com", "*.example.com"));
  Save("hostname", "pattern", pattern_seed("xn--a.example.com", "xn--*.example.com"));
  Save("hostname", "pattern", pattern_seed("foo.com", "f*o.com"));
  Save("hostname", "pattern", pattern_seed("FOO.example.com.", "foo.EXAMPLE.com"));
  for (const auto& cert : certs) {
    for (std::string host :
         {"localhost", "127.0.0.1", "::1", "www.example.com", "a.b.example.com"}) {
      std::vector<uint8_t> v{1};
      AppendShort(v, host);
      v.insert(v.end(), cert.der.begin(), cert.der.end());
      Save("hostname", "cert", v);
    }
  }
  for (std::string host : {"www.example.com", "example.com", "10.0.0.1", "fe80::1", "localhost.",
                           "x.wild.example.org", "1.2.3.4"}) {
    std::vector<uint8_t> v{2};
    Append(v, host);
    Save("hostname", "fixed", v);
  }
}

std::vector<testing::Cert> FactoryCerts() {
  using testing::CertSpec;
  using testing::KeyType;
  std::vector<testing::Cert> out;
  testing::TestPki pki = testing::MakeTestPki(KeyType::kEcdsaP256);
  out.push_back(pki.root);
  out.push_back(pki.intermediate);
  out.push_back(pki.server);
  out.push_back(pki.client);
  CertSpec rich;
  rich.subject = {{"C", "US"},
                  {"ST", "CA"},
                  {"L", "SF"},
                  {"O", "Org, Inc."},
                  {"OU", "a"},
                  {"OU", "b"},
                  {"CN", "rich.example"},
                  {"emailAddress", "x@example.com"},
                  {"1.2.3.4", "oid value"}};
  rich.dns_names = {"www.example.com", "*.example.com", "xn--bcher-kva.example"};
  rich.ip_addresses = {"127.0.0.1", "::1", "fe80::1"};
  rich.emails = {"a@example.com"};
  rich.uris = {"https://example.com/a,b"};
  rich.ext_key_usage = {testing::kServerAuth, testing::kClientAuth, "1.3.6.1.4.1.11129.2.1.1"};
  rich.ocsp_url = "http://ocsp.example.com";
  rich.ca_issuers_url = "http://ca.example.com/ca.crt";
  rich.serial = {0x00, 0xff, 0x01};
  for (KeyType kt :
       {KeyType::kEcdsaP256, KeyType::kEcdsaP384, KeyType::kRsa2048, KeyType::kEd25519}) {
    rich.key_type = kt;
    rich.key = testing::CachedKey(kt, 0);
    out.push_back(testing::MakeSelfSigned(rich));
  }
  CertSpec cn_only;
  cn_only.subject = {{"CN", "*.wild.example.org"}};
  out.push_back(testing::MakeSelfSigned(cn_only));
  CertSpec empty_subject;
  empty_subject.subject = {};
  empty_subject.dns_names = {"example.com"};
  out.push_back(testing::MakeSelfSigned(empty_subject));
  CertSpec utf8;
  utf8.subject = {{"CN", "caf\xc3\xa9.example"}, {"O", "\"quoted\" \\ 'x'"}};
  utf8.is_ca = true;
  utf8.path_length = 3;
  out.push_back(testing::MakeSelfSigned(utf8));
  const Pki& fixed = FixedPki();
  testing::Cert f;
  f.der = fixed.server_der;
  out.push_back(f);
  f.der = fixed.root_der;
  out.push_back(f);
  return out;
}

void PeerCertificateSeeds(const std::vector<testing::Cert>& certs) {
  for (const auto& cert : certs) {
    std::vector<uint8_t> v{0};
    v.insert(v.end(), cert.der.begin(), cert.der.end());
    Save("peer_certificate", "single", v);
  }
  // Chains, detailed: [1][u16 len][der]... leaf first.
  auto chain = [](std::vector<const std::vector<uint8_t>*> ders) {
    std::vector<uint8_t> v{1};
    for (auto* d : ders) {
      v.push_back(static_cast<uint8_t>(d->size() >> 8));
      v.push_back(static_cast<uint8_t>(d->size()));
      v.insert(v.end(), d->begin(), d->end());
    }
    return v;
  };
  Save("peer_certificate", "chain", chain({&certs[2].der, &certs[1].der, &certs[0].der}));
  Save("peer_certificate", "chain", chain({&certs[3].der, &certs[0].der, &certs[1].der}));
  Save("peer_certificate", "chain", chain({&certs[0].der}));
  const Pki& fixed = FixedPki();
  Save("peer_certificate", "chain", chain({&fixed.server_der, &fixed.root_der}));
}

void CredentialSeeds() {
  // [mode][pfx mode][passphrase][key PEM or edits] \0\0 [cert PEM] -- see credentials.cc.
  auto seed = [](uint8_t mode, uint8_t pfx, std::string pass, std::string key, std::string cert) {
    std::vector<uint8_t> v{mode, pfx};
    AppendShort(v, pass);
    Append(v, key);
    v.push_back(0);
    v.push_back(0);
    Append(v, cert);
    return v;
  };
  const Pki& pki = FixedPki();
  for (uint8_t kt = 0; kt < 4; ++kt) {
    uint8_t m = static_cast<uint8_t>(kt << 5);
    Save("credentials", "factory", seed(m | 0x01 | 0x04, 0, "", "", ""));
    Save("credentials", "encrypted", seed(m | 0x01 | 0x02 | 0x04, 0, "pass", "", ""));
    Save("credentials", "badpass", seed(m | 0x01 | 0x02 | 0x04, 0, "wrong", "", ""));
    Save("credentials", "edited",
         seed(m | 0x01 | 0x04 | 0x10, 0, "", std::string("\x00\x40\x01\x00\x80\x20", 6), ""));
    Save("credentials", "pfx", seed(m, 1, "pass", "", ""));
    Save("credentials", "pfx-badpass", seed(m, 1, "pas", "", ""));
    Save("credentials", "pfx-edited",
         seed(m, 1, "pass", std::string("\x00\x30\x04\x01\x10\x80", 6), ""));
  }
  Save("credentials", "cert-only", seed(0x00, 0, "", "", pki.server_cert_pem));
  Save("credentials", "mismatch", seed(0x01, 0, "", "", pki.server_cert_pem + pki.root_pem));
  Save("credentials", "ca",
       seed(0x01 | 0x04 | 0x08, 0, "", "", pki.root_pem + pki.client_cert_pem));
  Save("credentials", "garbage",
       seed(0x00, 0, "x", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"));
  Save("credentials", "encrypted-header",
       seed(0x00, 0, "pw",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
            pki.server_cert_pem));
  Save("credentials", "legacy-header",
       seed(0x00, 0, "pw",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
            "AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
            pki.server_cert_pem));
  Save("credentials", "pfx-raw",
       seed(0x00, 3, "pass", std::string("\x30\x82\x01\x00\x02\x01\x03", 7), ""));
  Save("credentials", "crl",
       seed(0x01 | 0x04, 4, "", "", "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  // Drop what a previous run generated; keep captures, regression and merged inputs.
  if (fs::exists(g_root)) {
    for (const auto& dir : fs::directory_iterator(g_root)) {
      if (!dir.is_directory()) continue;
      for (const auto& f : fs::directory_iterator(dir.path())) {
        std::string name = f.path().filename().string();
        size_t dash = name.rfind('-');
        bool generated = dash != std::string::npos && name.size() - dash == 17 &&
                         name.rfind("capture-", 0) != 0 && name.rfind("regress-", 0) != 0;
        if (generated) fs::remove(f.path());
      }
    }
  }
  RecordedSeeds();
  PairSeeds();
  LifecycleSeeds();
  SniSeeds();
  ProtocolListSeeds();
  std::vector<testing::Cert> certs = FactoryCerts();
  HostnameSeeds(certs);
  PeerCertificateSeeds(certs);
  CredentialSeeds();
  std::printf("wrote seeds under %s\n", g_root.c_str());
  return 0;
}
