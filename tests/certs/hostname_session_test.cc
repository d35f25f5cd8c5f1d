// The client's host-name check end to end: a server certificate with the given names, a
// client asking for a name, and what the client reports (Node's checkServerIdentity rules:
// IP SANs for IPs, DNS SANs else CN, one-label wildcards, `*.com` refused, `xn--` exact).
// The full rule table is tested on the function in tests/x509/hostname_test.cc.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <string>
#include <vector>

#include "tests/certs/certs_test_util.h"

namespace sansio_tls::certs_test {
namespace {

struct HostCase {
  const char* name;
  std::vector<std::string> dns, ips, uris;
  std::string cn;
  std::string servername, host;
  bool ok;
  std::string reason;  // checked when not empty
};

const HostCase kHostCases[] = {
    {"ExactDnsName", {"example.com"}, {}, {}, "", "example.com", "", true, ""},
    {"UpperCaseHost", {"example.com"}, {}, {}, "", "EXAMPLE.Com", "", true, ""},
    {"TrailingDotHost", {"example.com"}, {}, {}, "", "example.com.", "", true, ""},
    {"OtherName",
     {"example.com"},
     {},
     {},
     "",
     "example.org",
     "",
     false,
     "Host: example.org. is not in the cert's altnames: DNS:example.com"},
    {"WildcardCoversOneLabel", {"*.example.com"}, {}, {}, "", "www.example.com", "", true, ""},
    {"WildcardDoesNotCoverTwoLabels",
     {"*.example.com"},
     {},
     {},
     "",
     "a.b.example.com",
     "",
     false,
     "Host: a.b.example.com. is not in the cert's altnames: DNS:*.example.com"},
    {"WildcardDoesNotCoverTheParent", {"*.example.com"}, {}, {}, "", "example.com", "", false, ""},
    {"PartialWildcardMatchesItsPrefix",
     {"w*.example.com"},
     {},
     {},
     "",
     "www.example.com",
     "",
     true,
     ""},
    {"PartialWildcardRejectsOtherPrefixes",
     {"w*.example.com"},
     {},
     {},
     "",
     "mail.example.com",
     "",
     false,
     ""},
    {"WildcardOverATopLevelDomainIsRefused",
     {"*.com"},
     {},
     {},
     "",
     "example.com",
     "",
     false,
     "Host: example.com. is not in the cert's altnames: DNS:*.com"},
    {"IdnLabelMatchesExactly",
     {"xn--bcher-kva.example.com"},
     {},
     {},
     "",
     "xn--bcher-kva.example.com",
     "",
     true,
     ""},
    {"IdnPatternIsNotAWildcard",
     {"xn--*.example.com"},
     {},
     {},
     "",
     "xn--bcher-kva.example.com",
     "",
     false,
     ""},
    {"WildcardCoversAnIdnHost",
     {"*.example.com"},
     {},
     {},
     "",
     "xn--bcher-kva.example.com",
     "",
     true,
     ""},
    {"Ipv4InIpSans", {"example.com"}, {"10.1.2.3"}, {}, "", "10.1.2.3", "", true, ""},
    {"Ipv4NotInIpSans",
     {},
     {"10.1.2.4"},
     {},
     "",
     "10.1.2.3",
     "",
     false,
     "IP: 10.1.2.3 is not in the cert's list: 10.1.2.4"},
    {"Ipv4NeverMatchesADnsSan", {"10.1.2.3"}, {}, {}, "", "10.1.2.3", "", false, ""},
    {"Ipv4NeverMatchesTheCn", {}, {}, {}, "10.1.2.3", "10.1.2.3", "", false, ""},
    {"Ipv6AnySpelling", {}, {"::1"}, {}, "", "0:0:0:0:0:0:0:1", "", true, ""},
    {"Ipv6Other", {}, {"::1"}, {}, "", "::2", "", false, ""},
    {"CnWhenNoDnsSans", {}, {}, {}, "example.com", "example.com", "", true, ""},
    {"CnMismatch",
     {},
     {},
     {},
     "example.com",
     "other.com",
     "",
     false,
     "Host: other.com. is not cert's CN: example.com"},
    {"CnWhenOnlyAUriSan",
     {},
     {},
     {"https://example.com/"},
     "example.com",
     "example.com",
     "",
     true,
     ""},
    {"CnIgnoredBesideDnsSans",
     {"a.example.com"},
     {},
     {},
     "example.com",
     "example.com",
     "",
     false,
     ""},
    {"HostWhenNoServername", {"example.com"}, {}, {}, "", "", "example.com", true, ""},
    {"ServernameBeforeHost", {"example.com"}, {}, {}, "", "example.org", "example.com", false, ""},
};

class HostNames : public ::testing::TestWithParam<HostCase> {
 protected:
  static Cert ServerCert(const HostCase& c) {
    static const Pki pki("hostnames");
    CertSpec spec;
    spec.subject.clear();
    if (!c.cn.empty())
      spec.subject = {{"O", "host-name test"}, {"CN", c.cn}};
    else
      spec.subject = {{"O", "host-name test"}};
    spec.dns_names = c.dns;
    spec.ip_addresses = c.ips;
    spec.uris = c.uris;
    return pki.Leaf(spec);
  }
  static std::unique_ptr<Pair> Run(const HostCase& c, bool reject_unauthorized) {
    static const Pki pki("hostnames");
    auto server =
        MustCreate(ServerContextOptions{.credentials = pki.CredentialsFor(ServerCert(c))});
    auto client = MustCreate(ClientContextOptions{.ca_pems = {pki.root.cert_pem},
                                                  .reject_unauthorized = reject_unauthorized});
    auto pair = MustPair(client, server, {.servername = c.servername, .host = c.host});
    if (pair) pair->Pump();
    return pair;
  }
};

TEST_P(HostNames, AreReportedAsNodeDoes) {
  const HostCase& c = GetParam();
  auto pair = Run(c, /*reject_unauthorized=*/false);
  ASSERT_TRUE(pair);
  ASSERT_TRUE(pair->Find(Side::kClient, EventKind::kHandshakeDone)) << Summary(*pair);
  EXPECT_EQ(pair->client().authorized(), c.ok);
  EXPECT_EQ(pair->client().authorization_error(), c.ok ? "" : "ERR_TLS_CERT_ALTNAME_INVALID");
}

TEST_P(HostNames, MismatchesEndTheConnectionWithTheReason) {
  const HostCase& c = GetParam();
  auto pair = Run(c, /*reject_unauthorized=*/true);
  ASSERT_TRUE(pair);
  if (c.ok) {
    EXPECT_TRUE(pair->Find(Side::kClient, EventKind::kHandshakeDone)) << Summary(*pair);
    EXPECT_FALSE(pair->client().failed());
    return;
  }
  EXPECT_FALSE(pair->Find(Side::kClient, EventKind::kHandshakeDone)) << Summary(*pair);
  ASSERT_TRUE(pair->client().failed());
  EXPECT_EQ(pair->client().error()->code, "ERR_TLS_CERT_ALTNAME_INVALID");
  EXPECT_EQ(pair->client().error()->alert, SSL_AD_BAD_CERTIFICATE);
  if (!c.reason.empty()) {
    EXPECT_EQ(pair->client().error()->message, c.reason);
  } else {
    EXPECT_FALSE(pair->client().error()->message.empty());
  }
  ASSERT_TRUE(pair->server().failed());
  EXPECT_TRUE(pair->server().error()->alert_from_peer);
}

INSTANTIATE_TEST_SUITE_P(All, HostNames, ::testing::ValuesIn(kHostCases),
                         [](const ::testing::TestParamInfo<HostCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(HostNamesOnResumption, AreNotCheckedAgainWhenTheSessionWasVerifiedForTheSameName) {
  // A client resumes only sessions verified for the name it checks (core/resumption.h), so
  // a resumed session reports the original, host-checked result.
  Pki pki("resume hostnames");
  auto server = MustCreate(
      ServerContextOptions{.credentials = pki.CredentialsFor(pki.Server("example.com"))});
  auto client = MustCreate(ClientContextOptions{.ca_pems = {pki.root.cert_pem}});
  auto first = MustPair(client, server, {.servername = "example.com"});
  ASSERT_TRUE(first->Handshake()) << Summary(*first);
  first->Write(Side::kServer, "x");  // a TLS 1.3 server sends its tickets with its next write
  first->Pump();
  auto saved = first->client().saved_session();
  ASSERT_TRUE(saved.has_value());

  auto resumed = MustPair(client, server, {.servername = "example.com", .session = saved});
  ASSERT_TRUE(resumed->Handshake()) << Summary(*resumed);
  EXPECT_TRUE(resumed->client().handshake_info().session_reused);
  EXPECT_TRUE(resumed->client().authorized());

  // Another name does not get the session: a full handshake checks that name.
  auto other = MustPair(client, server, {.servername = "other.example.com", .session = saved});
  other->Pump();
  EXPECT_FALSE(other->client().handshake_info().session_reused);
  ASSERT_TRUE(other->client().failed());
  EXPECT_EQ(other->client().error()->code, "ERR_TLS_CERT_ALTNAME_INVALID");
}

}  // namespace
}  // namespace sansio_tls::certs_test
