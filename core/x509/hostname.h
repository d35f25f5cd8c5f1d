// Server host name check: Node.js's tls.checkServerIdentity (current rules).
//
// Pure functions, no state; safe from any thread. Arbitrary input never
// crashes (fuzzed).
#ifndef SANSIO_TLS_CORE_X509_HOSTNAME_H_
#define SANSIO_TLS_CORE_X509_HOSTNAME_H_

#include <openssl/base.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sansio_tls {

struct HostnameCheck {
  bool ok = false;
  // Empty when ok; otherwise Node's reason text, e.g.
  //   "Host: a.com. is not in the cert's altnames: DNS:b.com"
  //   "Host: a.com. is not cert's CN: b.com"
  //   "IP: 1.2.3.4 is not in the cert's list: 5.6.7.8, ::1"
  //   "Cert does not contain a DNS name"
  //   "Unable to parse certificate" (ours: the DER does not parse)
  // The error code to report alongside is kHostnameMismatch (verify_error.h).
  std::string reason;
};

// Checks |host| against the certificate |cert_der| (one DER certificate):
// - one trailing dot is removed from |host| (the form used in reasons);
// - an IP address host (IsIpAddress) must equal one of the iPAddress SANs,
//   compared as binary addresses (so every IPv6 spelling is equal; an
//   IPv4-mapped IPv6 SAN does not match an IPv4 host); the CN and DNS SANs
//   are never used for it. Reasons list the SANs in canonical text form;
//   an iPAddress SAN of invalid length is listed as an empty entry (as Node);
// - otherwise, if the certificate has dNSName SANs only they count, else the
//   subject CN(s); each is matched with MatchHostnamePattern.
// URI, email and other SAN types never match.
HostnameCheck CheckServerIdentity(std::string_view host, std::span<const uint8_t> cert_der);
// CheckServerIdentity on a certificate already parsed (|cert| is borrowed, not null): saves
// parsing the DER a second time where the caller holds the X509 (the verifier does).
HostnameCheck CheckServerIdentityX509(std::string_view host, const X509* cert);

// Node's per-pattern rule (lib/tls.js check(), wildcards allowed):
// - host and pattern: one trailing dot removed, A-Z lowercased (only ASCII),
//   split on '.'; the label counts must be equal;
// - a pattern with an empty label, or a byte outside 0x21..0x7F, never matches;
// - labels after the first must be equal;
// - a first pattern label without '*', or containing "xn--", must equal the
//   host's first label;
// - otherwise the first label has exactly one '*' standing for zero or more
//   characters of that label ("*", "a*", "*b", "a*b"), and the pattern needs
//   3+ labels ("*.com" never matches).
// Ours, stricter than Node for host names that are not valid DNS names: a
// host with an empty label never matches (Node lets "*.a.com" match
// ".a.com"), and a '*' in a pattern label other than the first never matches
// (Node compares such labels literally, so host "a.*.com" would match).
bool MatchHostnamePattern(std::string_view host, std::string_view pattern);

// Node's net.isIP(host) != 0: dotted-quad IPv4 (decimal, no leading zeros) or
// IPv6 text (all RFC 4291 forms, "::1", "::ffff:1.2.3.4", optional "%zone"
// suffix of [0-9A-Za-z.:-]); no brackets, no trailing dot.
bool IsIpAddress(std::string_view host);

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_X509_HOSTNAME_H_
