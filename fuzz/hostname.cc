// Fuzz target: the host-name check (CheckServerIdentity, MatchHostnamePattern, IsIpAddress).
//
// Input: a mode byte, then
//   0: host ShortString, pattern ShortString: MatchHostnamePattern against a reference of
//      the rules in hostname.h; IsIpAddress against inet_pton-based reference;
//   1: host ShortString, then certificate DER (arbitrary): CheckServerIdentity must not
//      crash, gives a reason exactly when it fails, and ignores case and one trailing dot;
//   2: host (the rest) against three fixed certificates whose names the reference knows.
#include "core/x509/hostname.h"

#include <arpa/inet.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/testing/cert_factory.h"
#include "fuzz/fuzz_support.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string_view StripDot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    out.push_back(s.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

bool RefMatch(std::string_view host_in, std::string_view pattern_in) {
  std::string host = Lower(StripDot(host_in)), pattern = Lower(StripDot(pattern_in));
  auto hl = Split(host), pl = Split(pattern);
  for (char c : pattern)
    if (static_cast<uint8_t>(c) < 0x21 || static_cast<uint8_t>(c) > 0x7F) return false;
  for (auto& l : pl)
    if (l.empty()) return false;
  for (auto& l : hl)
    if (l.empty()) return false;
  if (hl.size() != pl.size()) return false;
  for (size_t i = 1; i < pl.size(); ++i) {
    if (pl[i].find('*') != std::string::npos) return false;
    if (pl[i] != hl[i]) return false;
  }
  const std::string& first = pl[0];
  if (first.find('*') == std::string::npos || first.find("xn--") != std::string::npos)
    return first == hl[0];
  if (std::count(first.begin(), first.end(), '*') != 1) return false;
  if (pl.size() < 3) return false;
  size_t star = first.find('*');
  std::string prefix = first.substr(0, star), suffix = first.substr(star + 1);
  const std::string& label = hl[0];
  return label.size() >= prefix.size() + suffix.size() && label.starts_with(prefix) &&
         label.ends_with(suffix);
}

bool RefIsIpv4(const std::string& s) {
  auto parts = Split(s);
  if (parts.size() != 4) return false;
  for (auto& p : parts) {
    if (p.empty() || p.size() > 3) return false;
    if (!std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
    if (p.size() > 1 && p[0] == '0') return false;
    if (std::stoi(p) > 255) return false;
  }
  return true;
}

bool RefIsIp(std::string_view host) {
  std::string s(host);
  if (s.find('\0') != std::string::npos) return false;
  if (RefIsIpv4(s)) return true;
  size_t pct = s.find('%');
  if (pct != std::string::npos) {
    std::string zone = s.substr(pct + 1);
    if (zone.empty()) return false;
    for (char c : zone) {
      bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                c == '.' || c == ':' || c == '-';
      if (!ok) return false;
    }
    s.resize(pct);
  }
  uint8_t buf[16];
  return inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

struct FixedCert {
  std::vector<uint8_t> der;
  std::vector<std::string> dns, ips;
  std::string cn;
};

const std::vector<FixedCert>& FixedCerts() {
  static const std::vector<FixedCert>* certs = [] {
    ScopedRandomStream stream(RandomStream::kOther);
    auto* out = new std::vector<FixedCert>;
    auto make = [&](std::vector<std::string> dns, std::vector<std::string> ips, std::string cn) {
      testing::CertSpec spec;
      spec.subject = {{"CN", cn}};
      spec.dns_names = dns;
      spec.ip_addresses = ips;
      spec.key = testing::CachedKey(testing::KeyType::kEcdsaP256, 0);
      spec.not_before = 1700000000;
      spec.not_after = 1900000000;
      spec.serial = {0x10};
      out->push_back({testing::MakeSelfSigned(spec).der, dns, ips, cn});
    };
    make({"www.example.com", "*.example.com", "xn--*.example.net", "a*b.example.org", "*.com"},
         {"10.0.0.1", "fe80::1"}, "cn.example.com");
    make({}, {}, "*.wild.example.org");
    make({}, {"1.2.3.4", "::ffff:1.2.3.4"}, "1.2.3.4");
    return out;
  }();
  return *certs;
}

std::vector<uint8_t> Binary(const std::string& ip) {
  uint8_t buf[16];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) return {buf, buf + 4};
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) return {buf, buf + 16};
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  switch (in.Byte() % 3) {
    case 0: {
      std::string host = in.ShortString(), pattern = in.ShortString();
      FUZZ_CHECK(MatchHostnamePattern(host, pattern) == RefMatch(host, pattern),
                 "MatchHostnamePattern(\"%s\", \"%s\") = %d, reference %d", host.c_str(),
                 pattern.c_str(), MatchHostnamePattern(host, pattern), RefMatch(host, pattern));
      FUZZ_CHECK(IsIpAddress(host) == RefIsIp(host), "IsIpAddress(\"%s\") = %d, reference %d",
                 host.c_str(), IsIpAddress(host), RefIsIp(host));
      break;
    }
    case 1: {
      std::string host = in.ShortString();
      std::span<const uint8_t> der = in.Rest();
      HostnameCheck check = CheckServerIdentity(host, der);
      FUZZ_CHECK(check.ok == check.reason.empty(), "ok=%d with reason \"%s\"", check.ok,
                 check.reason.c_str());
      std::string_view bare = StripDot(host);
      if (!IsIpAddress(bare) && bare.size() == host.size()) {
        FUZZ_CHECK(CheckServerIdentity(host + ".", der).ok == check.ok,
                   "trailing dot changes \"%s\"", host.c_str());
        FUZZ_CHECK(CheckServerIdentity(Upper(host), der).ok == check.ok, "case changes \"%s\"",
                   host.c_str());
      }
      break;
    }
    case 2: {
      auto rest = in.Rest();
      std::string host(rest.begin(), rest.end());
      std::string bare(StripDot(host));
      for (const FixedCert& cert : FixedCerts()) {
        HostnameCheck check = CheckServerIdentity(host, cert.der);
        FUZZ_CHECK(check.ok == check.reason.empty(), "ok with a reason");
        bool want = false;
        if (IsIpAddress(bare)) {
          if (bare.find('%') != std::string::npos) continue;  // zones: not compared here
          std::vector<uint8_t> addr = Binary(bare);
          for (const std::string& ip : cert.ips)
            want = want || (Binary(ip) == addr && !addr.empty());
        } else if (!cert.dns.empty()) {
          for (const std::string& p : cert.dns) want = want || RefMatch(bare, p);
        } else {
          want = RefMatch(bare, cert.cn);
        }
        FUZZ_CHECK(check.ok == want, "CheckServerIdentity(\"%s\") = %d, reference %d (%s)",
                   host.c_str(), check.ok, want, check.reason.c_str());
      }
      break;
    }
  }
  return 0;
}
