#include "core/x509/hostname.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/nid.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "core/x509/peer_certificate.h"

namespace sansio_tls {
namespace {

// A binary IP address: 4 bytes (IPv4) or 16 bytes (IPv6).
struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};

  bool operator==(const IpAddress& other) const {
    return family == other.family && bytes == other.bytes;
  }
};

bool IsZoneChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '.' || c == ':';
}

// Node's net.isIP followed by canonicalizeIP (uv_inet_pton, which ignores an
// IPv6 zone).
std::optional<IpAddress> ParseIp(std::string_view text) {
  if (text.empty() || text.size() > 256 || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  IpAddress ip;
  const std::string v4(text);
  if (inet_pton(AF_INET, v4.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  std::string_view addr = text;
  if (const size_t pct = text.find('%'); pct != std::string_view::npos) {
    const std::string_view zone = text.substr(pct + 1);
    if (zone.empty()) return std::nullopt;
    for (char c : zone) {
      if (!IsZoneChar(c)) return std::nullopt;
    }
    addr = text.substr(0, pct);
  }
  const std::string v6(addr);
  if (inet_pton(AF_INET6, v6.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET6;
    return ip;
  }
  return std::nullopt;
}

// uv_inet_ntop / canonicalizeIP text of a SAN's octets; "" for a length that
// is not an address (Node's canonicalizeIP gives undefined, joined as "").
std::string CanonicalIpText(std::string_view octets) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (octets.size() == 4) {
    if (inet_ntop(AF_INET, octets.data(), buf, sizeof(buf)) != nullptr) return buf;
  } else if (octets.size() == 16) {
    if (inet_ntop(AF_INET6, octets.data(), buf, sizeof(buf)) != nullptr) return buf;
  }
  return {};
}

std::string_view Unfqdn(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

// Node's splitHost: unfqdn, lowercase A-Z only, split on '.'.
std::vector<std::string> SplitHost(std::string_view s) {
  std::string lowered(Unfqdn(s));
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = lowered.find('.', start);
    if (dot == std::string::npos) {
      parts.push_back(lowered.substr(start));
      break;
    }
    parts.push_back(lowered.substr(start, dot - start));
    start = dot + 1;
  }
  return parts;
}

bool IsBad(std::string_view label) {
  for (char c : label) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7F) return true;
  }
  return false;
}

// Node's check(hostParts, pattern, /*wildcards=*/true), plus our two
// stricter rules (see hostname.h).
bool Check(const std::vector<std::string>& host_parts, std::string_view pattern) {
  if (pattern.empty()) return false;
  const std::vector<std::string> pattern_parts = SplitHost(pattern);
  if (host_parts.size() != pattern_parts.size()) return false;
  for (const std::string& p : pattern_parts) {
    if (p.empty() || IsBad(p)) return false;
  }
  for (const std::string& h : host_parts) {
    if (h.empty()) return false;  // ours
  }
  for (size_t i = host_parts.size() - 1; i > 0; --i) {
    if (pattern_parts[i].find('*') != std::string::npos) return false;  // ours
    if (host_parts[i] != pattern_parts[i]) return false;
  }

  const std::string& host_sub = host_parts[0];
  const std::string& pattern_sub = pattern_parts[0];
  const size_t star = pattern_sub.find('*');
  if (star == std::string::npos || pattern_sub.find("xn--") != std::string::npos) {
    return host_sub == pattern_sub;
  }
  if (pattern_sub.find('*', star + 1) != std::string::npos) return false;
  if (pattern_parts.size() <= 2) return false;
  const std::string_view prefix = std::string_view(pattern_sub).substr(0, star);
  const std::string_view suffix = std::string_view(pattern_sub).substr(star + 1);
  if (prefix.size() + suffix.size() > host_sub.size()) return false;
  return host_sub.starts_with(prefix) && host_sub.ends_with(suffix);
}

struct FreeGeneralNames {
  void operator()(GENERAL_NAMES* p) const { sk_GENERAL_NAME_pop_free(p, GENERAL_NAME_free); }
};

std::string_view AsView(const ASN1_STRING* s) {
  if (s == nullptr || ASN1_STRING_length(s) <= 0) return {};
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
          static_cast<size_t>(ASN1_STRING_length(s))};
}

struct ClearErrors {
  ~ClearErrors() { ERR_clear_error(); }
};

}  // namespace

bool IsIpAddress(std::string_view host) {
  // The usual host name is refused without parsing: with no ':' only a dotted-decimal IPv4
  // address can parse, so any character but a digit or '.' rules it out.
  if (host.find(':') == std::string_view::npos &&
      host.find_first_not_of("0123456789.") != std::string_view::npos) {
    return false;
  }
  return ParseIp(host).has_value();
}

bool MatchHostnamePattern(std::string_view host, std::string_view pattern) {
  return Check(SplitHost(host), pattern);
}

HostnameCheck CheckServerIdentity(std::string_view host, std::span<const uint8_t> cert_der) {
  ClearErrors clear;
  bssl::UniquePtr<X509> x = x509_internal::ParseDer(cert_der);
  if (!x) return {false, "Unable to parse certificate"};
  return CheckServerIdentityX509(host, x.get());
}

HostnameCheck CheckServerIdentityX509(std::string_view host, const X509* cert) {
  ClearErrors clear;
  // Subject alternative names, only when Node would see them (the string
  // form exists, i.e. the extension parsed and printed).
  std::optional<std::string> alt_names = x509_internal::SubjectAltNameString(cert);
  std::vector<std::string_view> dns_names;
  std::vector<std::string_view> ip_octets;
  std::unique_ptr<GENERAL_NAMES, FreeGeneralNames> names;
  if (alt_names) {
    const int index = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1);
    const X509_EXTENSION* ext = index >= 0 ? X509_get_ext(cert, index) : nullptr;
    if (ext != nullptr) names.reset(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
    if (!names) alt_names.reset();
  }
  if (names) {
    for (size_t i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* gen = sk_GENERAL_NAME_value(names.get(), i);
      if (gen->type == GEN_DNS) dns_names.push_back(AsView(gen->d.dNSName));
      if (gen->type == GEN_IPADD) ip_octets.push_back(AsView(gen->d.iPAddress));
    }
  }

  const std::string_view hostname = Unfqdn(host);
  HostnameCheck result;

  if (const std::optional<IpAddress> ip = ParseIp(hostname)) {
    std::string list;
    for (size_t i = 0; i < ip_octets.size(); ++i) {
      const std::string_view o = ip_octets[i];
      if ((ip->family == AF_INET && o.size() == 4) || (ip->family == AF_INET6 && o.size() == 16)) {
        if (std::memcmp(o.data(), ip->bytes.data(), o.size()) == 0) {
          result.ok = true;
          return result;
        }
      }
      if (i != 0) list += ", ";
      list += CanonicalIpText(o);
    }
    result.reason = "IP: " + std::string(hostname) + " is not in the cert's list: " + list;
    return result;
  }

  // Subject CNs (none if the subject cannot be converted, as in Node). Only
  // consulted when there is no DNS SAN, so only converted then.
  std::vector<std::string> cns;
  std::optional<std::vector<std::pair<std::string, std::string>>> subject;
  if (dns_names.empty()) subject = x509_internal::NameEntries(X509_get_subject_name(cert));
  if (subject) {
    for (auto& [key, value] : *subject) {
      if (key == "CN") cns.push_back(std::move(value));
    }
  }
  // Node's `subject.CN` truthiness: one CN must be non-empty; several form an
  // array, which is always truthy.
  const bool has_cn = cns.size() > 1 || (cns.size() == 1 && !cns[0].empty());

  if (!dns_names.empty() || has_cn) {
    const std::vector<std::string> host_parts = SplitHost(hostname);
    if (!dns_names.empty()) {
      for (std::string_view name : dns_names) {
        if (Check(host_parts, name)) {
          result.ok = true;
          return result;
        }
      }
      result.reason =
          "Host: " + std::string(hostname) + ". is not in the cert's altnames: " + *alt_names;
    } else {
      std::string joined;
      for (size_t i = 0; i < cns.size(); ++i) {
        if (Check(host_parts, cns[i])) {
          result.ok = true;
          return result;
        }
        if (i != 0) joined += ',';
        joined += cns[i];
      }
      result.reason = "Host: " + std::string(hostname) + ". is not cert's CN: " + joined;
    }
    return result;
  }

  result.reason = "Cert does not contain a DNS name";
  return result;
}

}  // namespace sansio_tls
