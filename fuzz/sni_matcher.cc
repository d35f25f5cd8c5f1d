// Fuzz target: SniMatcher / SniTable against a simple reference.
//
// Input: a pattern count byte (0..31), that many ShortStrings (patterns, added in order),
// then ShortStrings to look up. The reference (below) validates by the header's rules,
// keeps patterns in a list and scans it newest first with a per-label glob; ids,
// validity, size() and every lookup must agree with SniMatcher and SniTable.
#include "core/negotiation/sni_matcher.h"

#include <algorithm>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view StripDot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Labels(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    out.push_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The header's rule: IPv6 (a ':' anywhere, or bracketed: starts with '[') or the last label
// all decimal digits or "0x" + hex.
bool RefIsIpLiteral(std::string_view host) {
  host = StripDot(host);
  if (host.find(':') != std::string_view::npos || host.starts_with('[')) return true;
  std::string_view last = Labels(host).back();
  if (last.empty()) return false;
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return true;
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
    return std::all_of(last.begin() + 2, last.end(), IsHex);
  }
  return false;
}

bool ValidLength(std::string_view s) {
  if (s.size() > 253) return false;
  for (std::string_view l : Labels(s)) {
    if (l.empty() || l.size() > 63) return false;
  }
  return true;
}

bool RefValidPattern(std::string_view p) {
  if (p.empty() || RefIsIpLiteral(p)) return false;
  for (char c : p) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '*';
    if (!ok) return false;
  }
  std::string_view s = StripDot(p);
  if (!ValidLength(s)) return false;
  for (std::string_view l : Labels(s)) {
    if (std::count(l.begin(), l.end(), '*') > 1) return false;
  }
  return true;
}

bool RefValidName(std::string_view n) {
  if (n.empty() || RefIsIpLiteral(n)) return false;
  std::string_view s = StripDot(n);
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return ValidLength(s);
}

// Label glob: at most one '*', matching any run of characters (a label holds no dot).
bool LabelMatch(std::string_view pattern, std::string_view label) {
  size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == label;
  std::string_view prefix = pattern.substr(0, star), suffix = pattern.substr(star + 1);
  return label.size() >= prefix.size() + suffix.size() && label.starts_with(prefix) &&
         label.ends_with(suffix);
}

bool RefMatch(const std::string& pattern, const std::string& name) {
  auto pl = Labels(pattern), nl = Labels(name);
  if (pl.size() != nl.size()) return false;
  for (size_t i = 0; i < pl.size(); ++i) {
    if (!LabelMatch(pl[i], nl[i])) return false;
  }
  return true;
}

struct RefEntry {
  std::string pattern;  // normalised
  size_t id;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  SniMatcher matcher;
  SniTable<std::string> table;
  std::vector<RefEntry> ref;  // oldest first; a re-add moves the entry to the back
  size_t next_id = 0;

  int count = in.Byte() % 32;
  for (int i = 0; i < count; ++i) {
    std::string pattern = in.ShortString();
    bool valid = RefValidPattern(pattern);
    FUZZ_CHECK(ValidateSniPattern(pattern).empty() == valid,
               "ValidateSniPattern(\"%s\") disagrees with the reference (valid=%d)",
               pattern.c_str(), valid);
    size_t id = 999;
    std::string error = matcher.Add(pattern, &id);
    std::string table_error = table.Add(pattern, pattern);
    FUZZ_CHECK(error.empty() == valid && table_error.empty() == valid,
               "Add(\"%s\") validity %d, reference %d", pattern.c_str(), error.empty(), valid);
    if (!valid) {
      FUZZ_CHECK(!error.empty() && error.size() < 1000, "error message");
      continue;
    }
    std::string norm = Lower(StripDot(pattern));
    auto it =
        std::find_if(ref.begin(), ref.end(), [&](const RefEntry& e) { return e.pattern == norm; });
    size_t want = next_id;
    if (it != ref.end()) {
      want = it->id;
      ref.erase(it);
    } else {
      ++next_id;
    }
    ref.push_back({norm, want});
    FUZZ_CHECK(id == want, "Add(\"%s\") gave id %zu, reference %zu", pattern.c_str(), id, want);
    FUZZ_CHECK(matcher.size() == next_id && table.size() == next_id, "size %zu, reference %zu",
               matcher.size(), next_id);
  }

  std::vector<std::string> names;
  while (!in.empty()) names.push_back(in.ShortString());
  for (const RefEntry& e : ref) names.push_back(e.pattern);  // patterns as names, too
  for (const std::string& name : names) {
    std::optional<size_t> want;
    if (RefValidName(name)) {
      std::string norm = Lower(StripDot(name));
      for (auto it = ref.rbegin(); it != ref.rend(); ++it) {
        if (RefMatch(it->pattern, norm)) {
          want = it->id;
          break;
        }
      }
    }
    std::optional<size_t> got = matcher.Lookup(name);
    FUZZ_CHECK(got == want, "Lookup(\"%s\") = %d, reference %d", name.c_str(),
               got ? static_cast<int>(*got) : -1, want ? static_cast<int>(*want) : -1);
    const std::string* value = table.Lookup(name);
    FUZZ_CHECK((value != nullptr) == want.has_value(), "SniTable::Lookup(\"%s\")", name.c_str());
    if (value) {
      FUZZ_CHECK(
          Lower(StripDot(*value)) ==
              std::find_if(ref.begin(), ref.end(), [&](const RefEntry& e) { return e.id == *want; })
                  ->pattern,
          "SniTable::Lookup(\"%s\") returned another pattern's value", name.c_str());
    }
    FUZZ_CHECK(IsIpAddressLiteral(name) == RefIsIpLiteral(name),
               "IsIpAddressLiteral(\"%s\") disagrees with the reference", name.c_str());
  }
  return 0;
}
