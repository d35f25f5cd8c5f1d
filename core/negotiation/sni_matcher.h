// SNI host-name pattern table: the server's add_context(pattern, credentials).
//
// Rules (Node's `server.addContext` since 0.12, plus our improvements; see
// docs guide "behaviour.md", section SNI):
//   * `*` matches zero or more characters within ONE label (`[^.]*`):
//     `*.test.com` matches `b.test.com`, not `a.b.test.com`, not `test.com`.
//     Partial labels (`a*.x.com`, `*b.x.com`, `a*b.x.com`) are allowed, at most
//     one `*` per label. A `*` may appear in any label (`www.*.com`,
//     `*.*.example.com`), as Node's regexp allows; such patterns are the rare
//     case and live on a slower (still indexed by label count) path.
//   * Label counts must be equal: since `*` never matches a dot, `*.x.com`
//     does not match `x.com`. `*a.x.com` matches `a.x.com` (zero characters).
//   * ASCII case-insensitive; one trailing dot is ignored on pattern and name.
//   * Every other character is literal (no regex metacharacters at all):
//     the pattern `a.x.com` does not match `abx.com`.
//   * When several patterns match, the MOST RECENTLY ADDED wins. Re-adding the
//     same pattern (after normalisation: case, trailing dot) replaces its value
//     and makes it the most recent.
//   * Invalid patterns are configuration errors: empty, IP address literals
//     (IPv4 in any numeric form, i.e. the last label is all digits or
//     0x-hex, as the WHATWG URL parser decides; IPv6: anything with ':' or
//     '['), characters outside [A-Za-z0-9-._*], empty labels (`a..b`, `.a`),
//     more than 253 characters, a label over 63 characters, two `*` in one
//     label.
//   * A name that is empty, an IP literal, or not a syntactically valid host
//     name (characters outside [A-Za-z0-9-_], empty labels -- so `.x.com`
//     never matches `*.x.com` --, over 253 characters or a label over 63)
//     matches nothing: the caller then uses its default credentials.
//
// Performance: exact patterns are hashed (one hash lookup). Patterns whose
// only `*` is in the first label are hashed by the rest of the pattern (the
// part after the first dot), so `*.example.com` costs one more hash lookup and
// a short scan of the patterns sharing that suffix. Patterns with a `*` in a
// later label are kept per label count, scanned in recency order, and skipped
// entirely when none of them is more recent than a match already found.
// No allocation happens on Lookup.
//
// Two classes:
//   SniMatcher   non-template: pattern -> small integer id (0, 1, 2, ... per
//                distinct normalised pattern; re-adding a pattern keeps its id).
//   SniTable<T>  pattern -> T, built on SniMatcher; this is what a server uses
//                to map names to credentials.
// Neither is thread-safe for concurrent Add; concurrent Lookup is fine.
#ifndef SANSIO_TLS_CORE_NEGOTIATION_SNI_MATCHER_H_
#define SANSIO_TLS_CORE_NEGOTIATION_SNI_MATCHER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sansio_tls {

// Checks a host-name pattern for add_context. Returns an empty string when it
// is valid, otherwise a message that names the pattern and the problem.
std::string ValidateSniPattern(std::string_view pattern);

// True when `host` (one trailing dot ignored) is an IP address literal: IPv6
// (contains ':' or is bracketed) or IPv4 in any form a URL parser accepts
// (the last label is all decimal digits or "0x" + hex digits, e.g. 1.2.3.4,
// 127.1, 0x7f.0.0.1). Clients do not send such names as SNI, servers do not
// match them against patterns.
bool IsIpAddressLiteral(std::string_view host);

class SniMatcher {
 public:
  SniMatcher() = default;

  // Adds `pattern`, or replaces it when the same normalised pattern was added
  // before (it then becomes the most recent). On success returns "" and sets
  // *id (when non-null) to the pattern's id: ids are 0, 1, 2, ... in order of
  // first addition and stay stable on re-add. On error returns the message
  // and changes nothing.
  std::string Add(std::string_view pattern, size_t* id = nullptr);

  // The id of the most recently added pattern matching `servername`, or
  // nullopt (no match, empty name, IP literal, malformed name).
  std::optional<size_t> Lookup(std::string_view servername) const;

  // Number of distinct patterns.
  size_t size() const { return next_id_; }
  bool empty() const { return next_id_ == 0; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  template <typename V>
  using Map = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  struct Stamp {
    size_t id;
    uint64_t seq;  // recency: larger = added later; starts at 1
  };
  // A pattern whose only `*` is in its first label: `prefix*suffix.rest`.
  struct FirstLabelWildcard {
    std::string prefix;
    std::string suffix;
    size_t id;
    uint64_t seq;
  };
  // A pattern with a `*` in some later label; stored normalised. head_len /
  // tail_len: the literal text before the first and after the last `*`, a
  // cheap prefilter (the name must start with the head and end with the tail)
  // before the label-by-label match.
  struct GeneralWildcard {
    std::string pattern;
    size_t head_len;
    size_t tail_len;
    size_t id;
    uint64_t seq;
  };
  enum class Kind : uint8_t { kFirstLabel, kGeneral };
  struct WildcardInfo {
    Kind kind;
    size_t id;
  };

  Map<Stamp> exact_;
  // Key: the pattern after its first label ("test.com" for "*.test.com", ""
  // for a one-label pattern such as "*" or "ab*"). Entries ascend by seq.
  Map<std::vector<FirstLabelWildcard>> first_label_;
  // Index: label count. Entries ascend by seq.
  std::vector<std::vector<GeneralWildcard>> general_;
  // Every wildcard pattern (normalised) -> where it lives, for re-adds.
  Map<WildcardInfo> wildcards_;
  uint64_t general_max_seq_ = 0;
  uint64_t next_seq_ = 1;
  size_t next_id_ = 0;
};

// Host-name pattern -> T. Lookup returns a pointer into the table, stable
// across later Add calls (a re-add of the same pattern assigns the new value
// into the same slot, so the pointer then sees the new value).
template <typename T>
class SniTable {
 public:
  // "" on success, else the configuration error (table unchanged).
  std::string Add(std::string_view pattern, T value) {
    size_t id = 0;
    std::string error = matcher_.Add(pattern, &id);
    if (!error.empty()) return error;
    if (id == values_.size()) {
      values_.push_back(std::move(value));
    } else {
      values_[id] = std::move(value);
    }
    return {};
  }

  // nullptr = no match: use the default credentials.
  const T* Lookup(std::string_view servername) const {
    std::optional<size_t> id = matcher_.Lookup(servername);
    return id ? &values_[*id] : nullptr;
  }
  T* Lookup(std::string_view servername) {
    std::optional<size_t> id = matcher_.Lookup(servername);
    return id ? &values_[*id] : nullptr;
  }

  size_t size() const { return matcher_.size(); }
  bool empty() const { return matcher_.empty(); }

 private:
  SniMatcher matcher_;
  std::deque<T> values_;  // indexed by SniMatcher id
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_NEGOTIATION_SNI_MATCHER_H_
