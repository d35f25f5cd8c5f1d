// Host name check: Node's test/parallel/test-tls-check-server-identity.js
// table (ported to real certificates), plus our own cases. Expected reasons
// were checked against Node 20's tls.checkServerIdentity.

#include "core/x509/hostname.h"

#include <gtest/gtest.h>
#include <openssl/mem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>
#include <vector>

#include "core/testing/cert_factory.h"
#include "core/x509/verify_error.h"
#include "tests/x509/test_certs.h"

namespace sansio_tls {
namespace {

using testing::CertSpec;
using Rdns = std::vector<std::pair<std::string, std::string>>;

struct Case {
  std::string host;
  Rdns subject;
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  std::vector<std::string> uris;
  std::vector<std::string> emails;
  std::string error;  // empty: must match
};

Rdns Cn(const std::string& cn) { return {{"CN", cn}}; }

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // --- Node's table -----------------------------------------------------
      // False-y hosts (Node stringifies them).
      {"false", Cn("a.com"), {}, {}, {}, {}, "Host: false. is not cert's CN: a.com"},
      {"null", Cn("a.com"), {}, {}, {}, {}, "Host: null. is not cert's CN: a.com"},
      {"undefined", Cn("a.com"), {}, {}, {}, {}, "Host: undefined. is not cert's CN: a.com"},
      // Basic CN handling.
      {"a.com", Cn("a.com"), {}, {}, {}, {}, ""},
      {"a.com", Cn("A.COM"), {}, {}, {}, {}, ""},
      {"a.com", Cn("b.com"), {}, {}, {}, {}, "Host: a.com. is not cert's CN: b.com"},
      {"a.com", Cn("a.com."), {}, {}, {}, {}, ""},
      {"a.com", Cn(".a.com"), {}, {}, {}, {}, "Host: a.com. is not cert's CN: .a.com"},
      // IP address in CN, DNS or URI SAN: rejected.
      {"8.8.8.8", Cn("8.8.8.8"), {}, {}, {}, {}, "IP: 8.8.8.8 is not in the cert's list: "},
      {"8.8.8.8",
       Cn("8.8.8.8"),
       {"8.8.8.8"},
       {},
       {},
       {},
       "IP: 8.8.8.8 is not in the cert's list: "},
      {"8.8.8.8",
       Cn("8.8.8.8"),
       {},
       {},
       {"http://8.8.8.8/"},
       {},
       "IP: 8.8.8.8 is not in the cert's list: "},
      // An IP Address SAN is acceptable.
      {"8.8.8.8", Cn("8.8.8.8"), {}, {"8.8.8.8"}, {}, {}, ""},
      // Wildcards in CN.
      {"b.a.com", Cn("*.a.com"), {}, {}, {}, {}, ""},
      {"ba.com", Cn("*.a.com"), {}, {}, {}, {}, "Host: ba.com. is not cert's CN: *.a.com"},
      {"\n.b.com", Cn("*n.b.com"), {}, {}, {}, {}, "Host: \n.b.com. is not cert's CN: *n.b.com"},
      {"b.a.com",
       Cn("*.a.com"),
       {"omg.com"},
       {},
       {},
       {},
       "Host: b.a.com. is not in the cert's altnames: DNS:omg.com"},
      {"b.a.com", Cn("b*b.a.com"), {}, {}, {}, {}, "Host: b.a.com. is not cert's CN: b*b.a.com"},
      // Empty certificate.
      {"a.com", {}, {}, {}, {}, {}, "Cert does not contain a DNS name"},
      // Empty subject with a DNS name.
      {"a.com", {}, {"a.com"}, {}, {}, {}, ""},
      // Empty subject with a URI name.
      {"a.b.a.com", {}, {}, {}, {"http://a.b.a.com/"}, {}, "Cert does not contain a DNS name"},
      // Multiple CN fields.
      {"foo.com", {{"CN", "foo.com"}, {"CN", "bar.com"}}, {}, {}, {}, {}, ""},
      // DNS names and CN.
      {"a.com",
       Cn("b.com"),
       {"*"},
       {},
       {},
       {},
       "Host: a.com. is not in the cert's altnames: DNS:*"},
      {"a.com",
       Cn("b.com"),
       {"*.com"},
       {},
       {},
       {},
       "Host: a.com. is not in the cert's altnames: DNS:*.com"},
      {"a.co.uk", Cn("b.com"), {"*.co.uk"}, {}, {}, {}, ""},
      {"a.com",
       Cn("a.com"),
       {"*.a.com"},
       {},
       {},
       {},
       "Host: a.com. is not in the cert's altnames: DNS:*.a.com"},
      {"a.com",
       Cn("b.com"),
       {"*.a.com"},
       {},
       {},
       {},
       "Host: a.com. is not in the cert's altnames: DNS:*.a.com"},
      {"a.com", Cn("b.com"), {"a.com"}, {}, {}, {}, ""},
      {"a.com", Cn("b.com"), {"A.COM"}, {}, {}, {}, ""},
      // DNS names.
      {"a.com",
       {},
       {"*.a.com"},
       {},
       {},
       {},
       "Host: a.com. is not in the cert's altnames: DNS:*.a.com"},
      {"b.a.com", {}, {"*.a.com"}, {}, {}, {}, ""},
      {"c.b.a.com",
       {},
       {"*.a.com"},
       {},
       {},
       {},
       "Host: c.b.a.com. is not in the cert's altnames: DNS:*.a.com"},
      {"b.a.com", {}, {"*b.a.com"}, {}, {}, {}, ""},
      {"a-cb.a.com", {}, {"*b.a.com"}, {}, {}, {}, ""},
      {"a.b.a.com",
       {},
       {"*b.a.com"},
       {},
       {},
       {},
       "Host: a.b.a.com. is not in the cert's altnames: DNS:*b.a.com"},
      // Multiple DNS names.
      {"a.b.a.com", {}, {"*b.a.com", "a.b.a.com"}, {}, {}, {}, ""},
      // URI names.
      {"a.b.a.com", {}, {}, {}, {"http://a.b.a.com/"}, {}, "Cert does not contain a DNS name"},
      {"a.b.a.com", {}, {}, {}, {"http://*.b.a.com/"}, {}, "Cert does not contain a DNS name"},
      // IP addresses.
      {"a.b.a.com", {}, {}, {"127.0.0.1"}, {}, {}, "Cert does not contain a DNS name"},
      {"127.0.0.1", {}, {}, {"127.0.0.1"}, {}, {}, ""},
      {"127.0.0.2",
       {},
       {},
       {"127.0.0.1"},
       {},
       {},
       "IP: 127.0.0.2 is not in the cert's list: 127.0.0.1"},
      {"127.0.0.1", {}, {"a.com"}, {}, {}, {}, "IP: 127.0.0.1 is not in the cert's list: "},
      {"localhost",
       Cn("localhost"),
       {"a.com"},
       {},
       {},
       {},
       "Host: localhost. is not in the cert's altnames: DNS:a.com"},
      // IDNA.
      {"xn--bcher-kva.example.com", Cn("*.example.com"), {}, {}, {}, {}, ""},
      {"xn--bcher-kva.example.com",
       Cn("xn--*.example.com"),
       {},
       {},
       {},
       {},
       "Host: xn--bcher-kva.example.com. is not cert's CN: xn--*.example.com"},

      // --- Ours ----------------------------------------------------------------
      // Trailing dots: one is stripped from the host (reasons show it without),
      // patterns are compared without theirs.
      {"a.com.", {}, {"a.com"}, {}, {}, {}, ""},
      {"a.com", {}, {"a.com."}, {}, {}, {}, ""},
      {"b.com.",
       {},
       {"a.com"},
       {},
       {},
       {},
       "Host: b.com. is not in the cert's altnames: DNS:a.com"},
      {"a.com..", Cn("a.com"), {}, {}, {}, {}, ""},  // Node strips twice here
      {"x.a.com.", {}, {"*.a.com."}, {}, {}, {}, ""},
      // Case: only A-Z fold, both sides.
      {"WWW.Example.COM", {}, {"www.example.com"}, {}, {}, {}, ""},
      {"www.example.com", {}, {"*.EXAMPLE.com"}, {}, {}, {}, ""},
      {"XN--ABC.x.com", {}, {"xn--abc.X.com"}, {}, {}, {}, ""},
      // Partial-label wildcards.
      {"abc.x.com", {}, {"a*.x.com"}, {}, {}, {}, ""},
      {"a.x.com", {}, {"a*.x.com"}, {}, {}, {}, ""},  // '*' matches zero characters
      {"b.x.com",
       {},
       {"a*.x.com"},
       {},
       {},
       {},
       "Host: b.x.com. is not in the cert's altnames: DNS:a*.x.com"},
      {"ab.x.com", {}, {"*b.x.com"}, {}, {}, {}, ""},
      {"ab.x.com", {}, {"a*b.x.com"}, {}, {}, {}, ""},
      {"axyzb.x.com", {}, {"a*b.x.com"}, {}, {}, {}, ""},
      {"a.x.com",
       {},
       {"a*b.x.com"},
       {},
       {},
       {},
       "Host: a.x.com. is not in the cert's altnames: DNS:a*b.x.com"},
      {"aXb.x.com", {}, {"A*B.X.COM"}, {}, {}, {}, ""},
      // Wildcard restrictions.
      {"a.b.x.com",
       {},
       {"*.x.com"},
       {},
       {},
       {},
       "Host: a.b.x.com. is not in the cert's altnames: DNS:*.x.com"},
      {"ab.x.com",
       {},
       {"**.x.com"},
       {},
       {},
       {},
       "Host: ab.x.com. is not in the cert's altnames: DNS:**.x.com"},
      {"ab.x.com",
       {},
       {"a*b*.x.com"},
       {},
       {},
       {},
       "Host: ab.x.com. is not in the cert's altnames: DNS:a*b*.x.com"},
      {"a.x.com",
       {},
       {"a.*.com"},
       {},
       {},
       {},
       "Host: a.x.com. is not in the cert's altnames: DNS:a.*.com"},
      {"a", {}, {"*"}, {}, {}, {}, "Host: a. is not in the cert's altnames: DNS:*"},
      {"x.y", {}, {"*.y"}, {}, {}, {}, "Host: x.y. is not in the cert's altnames: DNS:*.y"},
      {"abc.x.com",
       {},
       {"xn--*.x.com"},
       {},
       {},
       {},
       "Host: abc.x.com. is not in the cert's altnames: DNS:xn--*.x.com"},
      {"xn--abc.x.com", {}, {"*.x.com"}, {}, {}, {}, ""},  // host A-labels may match '*'
      // Empty labels never match (pattern: Node; host: ours).
      {"a..com",
       {},
       {"a..com"},
       {},
       {},
       {},
       "Host: a..com. is not in the cert's altnames: DNS:a..com"},
      {".a.com",
       {},
       {"*.a.com"},
       {},
       {},
       {},
       "Host: .a.com. is not in the cert's altnames: DNS:*.a.com"},
      {"a.com", {}, {""}, {}, {}, {}, "Host: a.com. is not in the cert's altnames: DNS:"},
      // Bytes outside 0x21..0x7F in a pattern never match.
      {"a b.x.com",
       {},
       {"a b.x.com"},
       {},
       {},
       {},
       "Host: a b.x.com. is not in the cert's altnames: DNS:a b.x.com"},
      {"\xc3\xa9.x.com",
       Cn("\xc3\xa9.x.com"),
       {},
       {},
       {},
       {},
       "Host: \xc3\xa9.x.com. is not cert's CN: \xc3\xa9.x.com"},
      // CN fallback only without DNS SANs: IP, URI and email SANs do not stop it.
      {"a.com", Cn("a.com"), {}, {"10.0.0.1"}, {}, {}, ""},
      {"a.com", Cn("a.com"), {}, {}, {"https://b.com/"}, {"me@b.com"}, ""},
      {"a.com",
       Cn("a.com"),
       {"b.com"},
       {"10.0.0.1"},
       {"https://b.com/"},
       {"me@b.com"},
       "Host: a.com. is not in the cert's altnames: DNS:b.com, IP Address:10.0.0.1, "
       "email:me@b.com, URI:https://b.com/"},
      {"c.com",
       {{"CN", "a.com"}, {"O", "x"}, {"CN", "b.com"}},
       {},
       {},
       {},
       {},
       "Host: c.com. is not cert's CN: a.com,b.com"},
      {"b.com", {{"CN", "a.com"}, {"O", "x"}, {"CN", "b.com"}}, {}, {}, {}, {}, ""},
      {"a.com", {{"O", "no cn"}}, {}, {}, {}, {}, "Cert does not contain a DNS name"},
      // Unsafe SAN characters are quoted in the reason, as in subjectaltname.
      {"a.com",
       {},
       {"b,c.com"},
       {},
       {},
       {},
       "Host: a.com. is not in the cert's altnames: DNS:\"b\\u002cc.com\""},
      // IP hosts: binary comparison, every spelling.
      {"::1", {}, {}, {"0:0:0:0:0:0:0:1"}, {}, {}, ""},
      {"0:0::1", {}, {}, {"::1"}, {}, {}, ""},
      {"FE80::ABCD", {}, {}, {"fe80::abcd"}, {}, {}, ""},
      {"fe80::1%eth0", {}, {}, {"fe80::1"}, {}, {}, ""},
      {"::ffff:10.0.0.1", {}, {}, {"::ffff:a00:1"}, {}, {}, ""},
      {"1.2.3.4.", {}, {}, {"1.2.3.4"}, {}, {}, ""},
      {"1.2.3.4",
       {},
       {},
       {"::ffff:1.2.3.4"},
       {},
       {},
       "IP: 1.2.3.4 is not in the cert's list: ::ffff:1.2.3.4"},
      {"10.0.0.3",
       Cn("10.0.0.3"),
       {"10.0.0.3"},
       {"10.0.0.1", "fe80:0:0::1", "::1.2.3.4"},
       {},
       {},
       "IP: 10.0.0.3 is not in the cert's list: 10.0.0.1, fe80::1, ::1.2.3.4"},
      {"::2",
       {},
       {},
       {"1:0:0:0:0:0:0:2", "1:2:3:4:5:6:7:0"},
       {},
       {},
       "IP: ::2 is not in the cert's list: 1::2, 1:2:3:4:5:6:7:0"},
      // Not IP addresses: DNS rules apply.
      {"[::1]", Cn("[::1]"), {}, {"::1"}, {}, {}, ""},
      {"01.2.3.4", Cn("01.2.3.4"), {}, {"1.2.3.4"}, {}, {}, ""},
  };
  return cases;
}

std::string Describe(const Case& c) {
  std::string s = "host=\"" + c.host + "\" subject=[";
  for (const auto& [k, v] : c.subject) s += k + "=" + v + ";";
  s += "] dns=[";
  for (const auto& d : c.dns) s += d + ";";
  s += "] ip=[";
  for (const auto& d : c.ips) s += d + ";";
  return s + "]";
}

TEST(CheckServerIdentity, Table) {
  for (const Case& c : Cases()) {
    CertSpec spec;
    spec.subject = c.subject;
    spec.dns_names = c.dns;
    spec.ip_addresses = c.ips;
    spec.uris = c.uris;
    spec.emails = c.emails;
    spec.key = testing::CachedKey(testing::KeyType::kEcdsaP256, 0);
    const testing::Cert cert = testing::MakeSelfSigned(spec);
    const HostnameCheck result = CheckServerIdentity(c.host, cert.der);
    EXPECT_EQ(result.ok, c.error.empty()) << Describe(c);
    EXPECT_EQ(result.reason, c.error) << Describe(c);
    // The verifier's form, on the certificate it already parsed, says the same.
    const uint8_t* p = cert.der.data();
    bssl::UniquePtr<X509> x(d2i_X509(nullptr, &p, static_cast<long>(cert.der.size())));
    ASSERT_TRUE(x) << Describe(c);
    const HostnameCheck parsed = CheckServerIdentityX509(c.host, x.get());
    EXPECT_EQ(parsed.ok, result.ok) << Describe(c);
    EXPECT_EQ(parsed.reason, result.reason) << Describe(c);
  }
}

// SANs the factory cannot make: invalid IP lengths, other name types.
TEST(CheckServerIdentity, UnusualSubjectAltNames) {
  std::vector<test_certs::Name> names;
  names.push_back(test_certs::IpName({10, 0, 0, 1}));
  names.push_back(test_certs::IpName({8, 8, 8, 0, 255, 255, 255, 0}));  // "8.8.8.0/24"
  names.push_back(test_certs::Ia5Name(GEN_URI, "http://a.com/"));
  names.push_back(test_certs::RidName("1.2.3.4"));
  const std::vector<uint8_t> der = test_certs::CertWithNames({{"CN", "a.com"}}, std::move(names));
  // No DNS SAN: the CN counts.
  EXPECT_TRUE(CheckServerIdentity("a.com", der).ok);
  EXPECT_EQ(CheckServerIdentity("8.8.8.8", der).reason,
            "IP: 8.8.8.8 is not in the cert's list: 10.0.0.1, ");
  EXPECT_TRUE(CheckServerIdentity("10.0.0.1", der).ok);
}

TEST(CheckServerIdentity, UnparsableCertificate) {
  EXPECT_EQ(CheckServerIdentity("a.com", {}).reason, "Unable to parse certificate");
  const std::vector<uint8_t> junk = {0x30, 0x03, 0x02, 0x01, 0x01};
  const HostnameCheck r = CheckServerIdentity("a.com", junk);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "Unable to parse certificate");
  // Trailing bytes after a valid certificate are refused too.
  testing::CertSpec spec;
  spec.dns_names = {"a.com"};
  std::vector<uint8_t> der = testing::MakeSelfSigned(spec).der;
  EXPECT_TRUE(CheckServerIdentity("a.com", der).ok);
  der.push_back(0);
  EXPECT_FALSE(CheckServerIdentity("a.com", der).ok);
}

TEST(CheckServerIdentity, TestPkiServer) {
  const testing::TestPki pki = testing::MakeTestPki();
  EXPECT_TRUE(CheckServerIdentity("localhost", pki.server.der).ok);
  EXPECT_TRUE(CheckServerIdentity("LOCALHOST.", pki.server.der).ok);
  EXPECT_TRUE(CheckServerIdentity("127.0.0.1", pki.server.der).ok);
  EXPECT_TRUE(CheckServerIdentity("::1", pki.server.der).ok);
  EXPECT_TRUE(CheckServerIdentity("0:0:0:0:0:0:0:1", pki.server.der).ok);
  const HostnameCheck r = CheckServerIdentity("example.com", pki.server.der);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason,
            "Host: example.com. is not in the cert's altnames: DNS:localhost, "
            "IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
}

struct PatternCase {
  const char* host;
  const char* pattern;
  bool match;
};

TEST(MatchHostnamePattern, Table) {
  const PatternCase cases[] = {
      {"a.com", "a.com", true},
      {"a.com", "A.COM", true},
      {"A.COM", "a.com", true},
      {"a.com.", "a.com", true},
      {"a.com", "a.com.", true},
      {"a.com", "", false},
      {"", "", false},
      {"", "a", false},
      {"a", "a", true},  // no wildcard: plain equality, any label count
      {"a", "*", false},
      {"b.a.com", "*.a.com", true},
      {"a.com", "*.a.com", false},
      {"c.b.a.com", "*.a.com", false},
      {"a.com", "*.com", false},
      {"a.co.uk", "*.co.uk", true},
      {"foo.x.com", "f*.x.com", true},
      {"foo.x.com", "*o.x.com", true},
      {"foo.x.com", "f*o.x.com", true},
      {"fo.x.com", "f*o.x.com", true},
      {"f.x.com", "f*f.x.com", false},  // prefix and suffix may not overlap
      {"foo.x.com", "b*.x.com", false},
      {"foo.x.com", "*.*.com", false},
      {"foo.x.com", "f**.x.com", false},
      {"foo.x.com", "*f*.x.com", false},
      {"a.*.com", "a.*.com", false},  // ours: '*' outside the first label
      {"xn--a.x.com", "xn--a.x.com", true},
      {"xn--a.x.com", "xn--*.x.com", false},
      {"xn--a.x.com", "*.x.com", true},
      {"axn--b.x.com", "a*xn--b.x.com", false},  // "xn--" anywhere: literal
      {"a*xn--b.x.com", "a*xn--b.x.com", true},
      {"a..com", "a..com", false},
      {".a.com", "*.a.com", false},  // ours
      {"a.com", ".a.com", false},
      {"a.com", "a.com..", false},
      {"a b.com", "a b.com", false},
      {"a\x7f.com", "a\x7f.com", true},  // 0x7F is allowed, as in Node
      {"a\x01.com", "a\x01.com", false},
      {"\xc3\xa9.com", "\xc3\xa9.com", false},
      {"\xc3\xa9.x.com", "*.x.com", true},  // the host is not checked for bytes
      {"A\xc3\x89.x.com", "a\xc3\x89.x.com", false},
  };
  for (const PatternCase& c : cases) {
    EXPECT_EQ(MatchHostnamePattern(c.host, c.pattern), c.match)
        << "host=\"" << c.host << "\" pattern=\"" << c.pattern << "\"";
  }
}

TEST(IsIpAddress, MatchesNodeNetIsIP) {
  // Expected values are Node 20's net.isIP(x) != 0.
  const std::pair<const char*, bool> cases[] = {
      {"1.2.3.4", true},
      {"255.255.255.255", true},
      {"0.0.0.0", true},
      {"256.1.1.1", false},
      {"01.2.3.4", false},
      {"1.2.3", false},
      {"1.2.3.4.5", false},
      {"1.2.3.4.", false},
      {" 1.2.3.4", false},
      {"1.2.3.4 ", false},
      {"0x1.2.3.4", false},
      {"1.2.3.4/24", false},
      {"1.2.3.4%eth0", false},
      {"::", true},
      {"::1", true},
      {"::ffff:1.2.3.4", true},
      {"1:2:3:4:5:6:7:8", true},
      {"1:2:3:4:5:6:7::", true},
      {"::2:3:4:5:6:7:8", true},
      {"1::8", true},
      {"1:2:3:4:5:6:1.2.3.4", true},
      {"1:2:3:4:5:6:7:1.2.3.4", false},
      {"fe80::1%eth0", true},
      {"fe80::1%a.b:c-d", true},
      {"fe80::1%", false},
      {"fe80::1%e/th0", false},
      {"FE80::ABCD", true},
      {"12345::", false},
      {"1:::2", false},
      {":1::2", false},
      {"1::2::3", false},
      {"[::1]", false},
      {"::1.2.3.04", false},
      {"::ffff:256.1.1.1", false},
      {"1:2:3:4:5:6:7:8:9", false},
      {"g::1", false},
      {"localhost", false},
      {"", false},
      {"a.com", false},
  };
  for (const auto& [text, ip] : cases) {
    EXPECT_EQ(IsIpAddress(text), ip) << "\"" << text << "\"";
  }
  EXPECT_FALSE(IsIpAddress(std::string_view("1.2.3.4\0", 8)));
  EXPECT_FALSE(IsIpAddress(std::string(1000, '1')));
}

}  // namespace
}  // namespace sansio_tls
