#include "core/negotiation/sni_matcher.h"

#include <algorithm>
#include <cstdio>

namespace sansio_tls {
namespace {

constexpr size_t kMaxNameLength = 253;
constexpr size_t kMaxLabelLength = 63;

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string_view StripOneTrailingDot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

// WHATWG URL "ends in a number": the last label is all decimal digits, or
// 0x/0X followed by hex digits. Such a host is parsed as IPv4.
bool LastLabelIsNumeric(std::string_view host) {
  size_t dot = host.rfind('.');
  std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return true;
  }
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
    return std::all_of(last.begin() + 2, last.end(), IsHexDigit);
  }
  return false;
}

// The pattern for a message: quoted, non-printable bytes escaped, long
// patterns shortened.
std::string Quote(std::string_view s) {
  constexpr size_t kShown = 80;
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kShown; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > kShown) out += "...";
  out += '"';
  return out;
}

std::string DescribeChar(char ch) {
  unsigned char c = static_cast<unsigned char>(ch);
  char buf[32];
  if (c >= 0x20 && c < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c'", c);
  } else {
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
  }
  return buf;
}

// `label` is a pattern label with at most one '*'.
bool MatchLabel(std::string_view pattern, std::string_view label) {
  size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == label;
  std::string_view prefix = pattern.substr(0, star);
  std::string_view suffix = pattern.substr(star + 1);
  return label.size() >= prefix.size() + suffix.size() &&
         label.substr(0, prefix.size()) == prefix &&
         label.substr(label.size() - suffix.size()) == suffix;
}

// Label-by-label match of a normalised pattern against a normalised name.
bool MatchLabels(std::string_view pattern, std::string_view name) {
  size_t pi = 0;
  size_t ni = 0;
  for (;;) {
    size_t pe = pattern.find('.', pi);
    size_t ne = name.find('.', ni);
    if (pe == std::string_view::npos) pe = pattern.size();
    if (ne == std::string_view::npos) ne = name.size();
    if (!MatchLabel(pattern.substr(pi, pe - pi), name.substr(ni, ne - ni))) {
      return false;
    }
    bool pattern_done = pe == pattern.size();
    bool name_done = ne == name.size();
    if (pattern_done || name_done) return pattern_done && name_done;
    pi = pe + 1;
    ni = ne + 1;
  }
}

size_t CountLabels(std::string_view s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '.')) + 1;
}

}  // namespace

bool IsIpAddressLiteral(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[' || host.find(':') != std::string_view::npos) {
    return true;
  }
  return LastLabelIsNumeric(StripOneTrailingDot(host));
}

std::string ValidateSniPattern(std::string_view pattern) {
  std::string_view p = StripOneTrailingDot(pattern);
  if (p.empty()) {
    return "SNI pattern " + Quote(pattern) +
           " is empty; give a host name such as \"example.com\" or "
           "\"*.example.com\"";
  }
  if (p.front() == '[' || p.find(':') != std::string_view::npos) {
    return "SNI pattern " + Quote(pattern) +
           " is an IPv6 address literal; clients never send an IP address as "
           "SNI, so contexts are chosen by host name only";
  }
  if (p.size() > kMaxNameLength) {
    return "SNI pattern " + Quote(pattern) + " is " + std::to_string(p.size()) +
           " characters long; the maximum is 253";
  }
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (!IsHostChar(c) && c != '.' && c != '*') {
      return "SNI pattern " + Quote(pattern) + " contains " + DescribeChar(c) + " at offset " +
             std::to_string(i) + "; only letters, digits, '-', '_', '.' and '*' are allowed";
    }
  }
  size_t start = 0;
  for (;;) {
    size_t end = p.find('.', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view label = p.substr(start, end - start);
    if (label.empty()) {
      return "SNI pattern " + Quote(pattern) +
             " has an empty label (a leading dot, or two dots in a row)";
    }
    if (label.size() > kMaxLabelLength) {
      return "SNI pattern " + Quote(pattern) + " has a label of " + std::to_string(label.size()) +
             " characters; the maximum is 63";
    }
    if (std::count(label.begin(), label.end(), '*') > 1) {
      return "SNI pattern " + Quote(pattern) + " has more than one '*' in the label \"" +
             std::string(label) + "\"; at most one is allowed per label";
    }
    if (end == p.size()) break;
    start = end + 1;
  }
  // "1.2.3.4", "127.1", "0x7f.0.0.1", "foo.123": a numeric last label makes
  // the host an IPv4 literal for URL parsers, and never a valid host name.
  if (LastLabelIsNumeric(p)) {
    return "SNI pattern " + Quote(pattern) +
           " is an IPv4 address literal (its last label is numeric); clients "
           "never send an IP address as SNI, so contexts are chosen by host "
           "name only";
  }
  return {};
}

std::string SniMatcher::Add(std::string_view pattern, size_t* id_out) {
  std::string error = ValidateSniPattern(pattern);
  if (!error.empty()) return error;

  std::string norm(StripOneTrailingDot(pattern));
  for (char& c : norm) c = ToLowerAscii(c);
  const uint64_t seq = next_seq_++;

  size_t star = norm.find('*');
  if (star == std::string::npos) {
    auto [it, inserted] = exact_.try_emplace(norm, Stamp{next_id_, seq});
    if (inserted) {
      ++next_id_;
    } else {
      it->second.seq = seq;
    }
    if (id_out) *id_out = it->second.id;
    return {};
  }

  size_t first_dot = norm.find('.');
  bool first_label_only =
      norm.find('*', first_dot == std::string::npos ? norm.size() : first_dot) == std::string::npos;
  Kind kind = first_label_only ? Kind::kFirstLabel : Kind::kGeneral;

  size_t id = next_id_;
  auto existing = wildcards_.find(norm);
  if (existing != wildcards_.end()) {
    id = existing->second.id;
  }

  if (kind == Kind::kFirstLabel) {
    std::string rest = first_dot == std::string::npos ? std::string() : norm.substr(first_dot + 1);
    std::string first = norm.substr(0, first_dot == std::string::npos ? norm.size() : first_dot);
    size_t s = first.find('*');
    std::vector<FirstLabelWildcard>& bucket = first_label_[rest];
    if (existing != wildcards_.end()) {
      std::erase_if(bucket, [id](const FirstLabelWildcard& w) { return w.id == id; });
    }
    bucket.push_back(FirstLabelWildcard{first.substr(0, s), first.substr(s + 1), id, seq});
  } else {
    size_t labels = CountLabels(norm);
    if (general_.size() <= labels) general_.resize(labels + 1);
    std::vector<GeneralWildcard>& list = general_[labels];
    if (existing != wildcards_.end()) {
      std::erase_if(list, [id](const GeneralWildcard& w) { return w.id == id; });
    }
    size_t head_len = norm.find('*');
    size_t tail_len = norm.size() - norm.rfind('*') - 1;
    list.push_back(GeneralWildcard{norm, head_len, tail_len, id, seq});
    general_max_seq_ = seq;
  }

  if (existing == wildcards_.end()) {
    wildcards_.emplace(std::move(norm), WildcardInfo{kind, id});
    ++next_id_;
  }
  if (id_out) *id_out = id;
  return {};
}

std::optional<size_t> SniMatcher::Lookup(std::string_view servername) const {
  std::string_view in = StripOneTrailingDot(servername);
  if (in.empty() || in.size() > kMaxNameLength) return std::nullopt;

  // Normalise into a stack buffer, validating as we go.
  char buf[kMaxNameLength];
  size_t first_dot = std::string_view::npos;
  size_t labels = 1;
  size_t label_len = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '.') {
      if (label_len == 0) return std::nullopt;  // empty label
      if (first_dot == std::string_view::npos) first_dot = i;
      ++labels;
      label_len = 0;
    } else {
      if (!IsHostChar(c)) return std::nullopt;
      if (++label_len > kMaxLabelLength) return std::nullopt;
    }
    buf[i] = ToLowerAscii(c);
  }
  if (label_len == 0) return std::nullopt;  // "a.." after one dot stripped
  const std::string_view name(buf, in.size());
  if (LastLabelIsNumeric(name)) return std::nullopt;  // IPv4 literal

  uint64_t best_seq = 0;
  size_t best_id = 0;

  if (!exact_.empty()) {
    auto it = exact_.find(name);
    if (it != exact_.end()) {
      best_seq = it->second.seq;
      best_id = it->second.id;
    }
  }

  if (!first_label_.empty()) {
    std::string_view first = name.substr(0, first_dot);
    std::string_view rest =
        first_dot == std::string_view::npos ? std::string_view() : name.substr(first_dot + 1);
    auto it = first_label_.find(rest);
    if (it != first_label_.end()) {
      const std::vector<FirstLabelWildcard>& bucket = it->second;
      for (auto w = bucket.rbegin(); w != bucket.rend() && w->seq > best_seq; ++w) {
        if (first.size() >= w->prefix.size() + w->suffix.size() &&
            first.substr(0, w->prefix.size()) == w->prefix &&
            first.substr(first.size() - w->suffix.size()) == w->suffix) {
          best_seq = w->seq;
          best_id = w->id;
          break;
        }
      }
    }
  }

  if (general_max_seq_ > best_seq && labels < general_.size()) {
    const std::vector<GeneralWildcard>& list = general_[labels];
    for (auto w = list.rbegin(); w != list.rend() && w->seq > best_seq; ++w) {
      const std::string_view pattern = w->pattern;
      if (name.size() >= w->head_len + w->tail_len &&
          name.substr(0, w->head_len) == pattern.substr(0, w->head_len) &&
          name.substr(name.size() - w->tail_len) == pattern.substr(pattern.size() - w->tail_len) &&
          MatchLabels(pattern, name)) {
        best_seq = w->seq;
        best_id = w->id;
        break;
      }
    }
  }

  if (best_seq == 0) return std::nullopt;
  return best_id;
}

}  // namespace sansio_tls
