#include "core/negotiation/sni_matcher.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace sansio_tls {
namespace {

// ---------------------------------------------------------------------------
// Matching: patterns are added in order, each mapped to its own text; the
// expected result is the pattern text that should serve `name`, or "" for no
// match (default credentials).
struct MatchCase {
  const char* title;
  std::vector<std::string> patterns;
  std::string name;
  std::string expected;
};

void PrintTo(const MatchCase& c, std::ostream* os) { *os << c.title; }

class SniMatchTest : public ::testing::TestWithParam<MatchCase> {};

TEST_P(SniMatchTest, Lookup) {
  const MatchCase& c = GetParam();
  SniTable<std::string> table;
  for (const std::string& p : c.patterns) {
    ASSERT_EQ(table.Add(p, p), "") << "pattern " << p;
  }
  const std::string* got = table.Lookup(c.name);
  if (c.expected.empty()) {
    EXPECT_EQ(got, nullptr) << "name \"" << c.name << "\" matched \"" << (got ? *got : "") << "\"";
  } else {
    ASSERT_NE(got, nullptr) << "name \"" << c.name << "\" matched nothing";
    EXPECT_EQ(*got, c.expected) << "name \"" << c.name << "\"";
  }
}

const MatchCase kMatchCases[] = {
    // Exact names.
    {"ExactHit", {"example.com"}, "example.com", "example.com"},
    {"ExactMissOtherName", {"example.com"}, "example.org", ""},
    {"ExactMissSubdomain", {"example.com"}, "www.example.com", ""},
    {"ExactMissParent", {"www.example.com"}, "example.com", ""},
    {"SingleLabelExact", {"localhost"}, "localhost", "localhost"},

    // `*` covers exactly one label.
    {"StarMatchesOneLabel", {"*.test.com"}, "b.test.com", "*.test.com"},
    {"StarMatchesLongLabel", {"*.test.com"}, "a-very_long-label.test.com", "*.test.com"},
    {"StarDoesNotCrossDots", {"*.test.com"}, "a.b.test.com", ""},
    {"StarDoesNotMatchBareSuffix", {"*.test.com"}, "test.com", ""},
    {"StarDoesNotMatchEmptyLabel", {"*.test.com"}, ".test.com", ""},
    {"StarNeedsSameSuffix", {"*.test.com"}, "b.test.org", ""},
    {"StarSuffixIsWholeLabels", {"*.test.com"}, "b.xtest.com", ""},
    {"LoneStarMatchesOneLabelName", {"*"}, "localhost", "*"},
    {"LoneStarDoesNotMatchTwoLabels", {"*"}, "a.com", ""},
    {"StarTld", {"example.*"}, "example.org", "example.*"},

    // Partial labels; `*` may match zero characters.
    {"PrefixStar", {"a*.x.com"}, "abc.x.com", "a*.x.com"},
    {"PrefixStarZeroChars", {"a*.x.com"}, "a.x.com", "a*.x.com"},
    {"PrefixStarMiss", {"a*.x.com"}, "ba.x.com", ""},
    {"StarSuffix", {"*b.x.com"}, "ab.x.com", "*b.x.com"},
    {"StarSuffixZeroChars", {"*a.x.com"}, "a.x.com", "*a.x.com"},
    {"StarSuffixMiss", {"*b.x.com"}, "ba.x.com", ""},
    {"InfixStar", {"a*z.x.com"}, "abcz.x.com", "a*z.x.com"},
    {"InfixStarZeroChars", {"a*z.x.com"}, "az.x.com", "a*z.x.com"},
    {"InfixStarNoOverlap", {"ab*ba.x.com"}, "aba.x.com", ""},
    {"InfixStarExactOverlapFits", {"ab*ba.x.com"}, "abba.x.com", "ab*ba.x.com"},

    // `*` in later labels.
    {"StarInMiddleLabel", {"www.*.com"}, "www.example.com", "www.*.com"},
    {"StarInMiddleLabelMiss", {"www.*.com"}, "mail.example.com", ""},
    {"StarInMiddleLabelDoesNotCrossDots", {"www.*.com"}, "www.a.b.com", ""},
    {"PartialStarInMiddleLabel", {"www.ex*le.com"}, "www.example.com", "www.ex*le.com"},
    {"TwoStarsInTwoLabels", {"*.*.example.com"}, "a.b.example.com", "*.*.example.com"},
    {"TwoStarsNeedTwoLabels", {"*.*.example.com"}, "b.example.com", ""},

    // Case and trailing dot.
    {"CaseInsensitiveName", {"example.com"}, "EXAMPLE.Com", "example.com"},
    {"CaseInsensitivePattern", {"EXAMPLE.COM"}, "example.com", "EXAMPLE.COM"},
    {"CaseInsensitiveWildcard", {"*.Test.COM"}, "B.test.com", "*.Test.COM"},
    {"CaseInsensitivePartial", {"A*.x.com"}, "abc.X.COM", "A*.x.com"},
    {"CaseInsensitiveGeneral", {"WWW.*.Com"}, "www.EXAMPLE.com", "WWW.*.Com"},
    {"TrailingDotOnName", {"example.com"}, "example.com.", "example.com"},
    {"TrailingDotOnPattern", {"example.com."}, "example.com", "example.com."},
    {"TrailingDotOnBoth", {"*.example.com."}, "a.example.com.", "*.example.com."},
    {"TwoTrailingDotsOnNameMiss", {"example.com"}, "example.com..", ""},

    // Literal characters: '.' is not "any character".
    {"DotIsLiteral", {"a.x.com"}, "abx.com", ""},
    {"DotIsLiteralInWildcard", {"*.x.com"}, "a.xycom", ""},
    {"UnderscoreAndHyphenLiteral", {"_srv-1.x.com"}, "_srv-1.x.com", "_srv-1.x.com"},
    {"HyphenNotARange", {"a-c.x.com"}, "b.x.com", ""},

    // Most recently added wins.
    {"LaterWildcardBeatsEarlierExact", {"a.x.com", "*.x.com"}, "a.x.com", "*.x.com"},
    {"LaterExactBeatsEarlierWildcard", {"*.x.com", "a.x.com"}, "a.x.com", "a.x.com"},
    {"EarlierWildcardStillServesOthers", {"*.x.com", "a.x.com"}, "b.x.com", "*.x.com"},
    {"LaterPartialBeatsEarlierStar", {"*.x.com", "a*.x.com"}, "ab.x.com", "a*.x.com"},
    {"LaterStarBeatsEarlierPartial", {"a*.x.com", "*.x.com"}, "ab.x.com", "*.x.com"},
    {"LaterGeneralBeatsEarlierExact", {"www.a.com", "www.*.com"}, "www.a.com", "www.*.com"},
    {"LaterExactBeatsEarlierGeneral", {"www.*.com", "www.a.com"}, "www.a.com", "www.a.com"},
    {"LaterGeneralBeatsEarlierFirstLabel", {"*.a.com", "*.*.com"}, "x.a.com", "*.*.com"},
    {"LaterFirstLabelBeatsEarlierGeneral", {"*.*.com", "*.a.com"}, "x.a.com", "*.a.com"},
    {"ReAddExactMakesItMostRecent", {"a.x.com", "*.x.com", "a.x.com"}, "a.x.com", "a.x.com"},
    {"ReAddWildcardMakesItMostRecent", {"*.x.com", "a.x.com", "*.x.com"}, "a.x.com", "*.x.com"},
    {"ReAddGeneralMakesItMostRecent",
     {"www.*.com", "www.a.com", "www.*.com"},
     "www.a.com",
     "www.*.com"},
    {"ReAddPartialAmongPartials", {"a*.x.com", "ab*.x.com", "a*.x.com"}, "abc.x.com", "a*.x.com"},
    {"ReAddWithOtherCaseAndDotIsSamePattern",
     {"*.x.com", "a.x.com", "*.X.COM."},
     "a.x.com",
     "*.X.COM."},
    {"UnrelatedLaterPatternDoesNotInterfere", {"*.x.com", "*.y.com"}, "a.x.com", "*.x.com"},

    // No match / names that never match.
    {"EmptyTableNoMatch", {}, "example.com", ""},
    {"EmptyNameNoMatch", {"*"}, "", ""},
    {"DotOnlyNameNoMatch", {"*"}, ".", ""},
    {"IPv4NameNoMatch", {"*.*.*.*"}, "1.2.3.4", ""},
    {"IPv4ShortFormNoMatch", {"*.*"}, "127.1", ""},
    {"IPv4HexNoMatch", {"*.*.*.*"}, "0x7f.0.0.1", ""},
    {"IPv6NameNoMatch", {"*"}, "::1", ""},
    {"BracketedIPv6NameNoMatch", {"*"}, "[::1]", ""},
    {"NameWithSpaceNoMatch", {"*.x.com"}, "a b.x.com", ""},
    {"NameWithStarNoMatch", {"*.x.com"}, "*.x.com", ""},
    {"NameWithNulNoMatch", {"*.x.com"}, std::string("a\0b.x.com", 9), ""},
    {"NameWithEmptyLabelNoMatch", {"*.*.com"}, "a..com", ""},
    {"NameWithLongLabelNoMatch", {"*.x.com"}, std::string(64, 'a') + ".x.com", ""},
    {"NameWithMaxLabelMatches", {"*.x.com"}, std::string(63, 'a') + ".x.com", "*.x.com"},
    {"NameOver253NoMatch",
     {"*.x.com"},
     std::string(60, 'a') + "." + std::string(60, 'b') + "." + std::string(60, 'c') + "." +
         std::string(60, 'd') + ".e.x.com",
     ""},
};

INSTANTIATE_TEST_SUITE_P(Table, SniMatchTest, ::testing::ValuesIn(kMatchCases),
                         [](const ::testing::TestParamInfo<MatchCase>& info) {
                           return std::string(info.param.title);
                         });

// ---------------------------------------------------------------------------
// Invalid patterns: each error names the pattern and the problem.
struct InvalidCase {
  const char* title;
  std::string pattern;
  std::string message_part;
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.title; }

class SniInvalidPatternTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(SniInvalidPatternTest, RefusedWithMessage) {
  const InvalidCase& c = GetParam();
  SniMatcher matcher;
  size_t id = 12345;
  std::string error = matcher.Add(c.pattern, &id);
  EXPECT_NE(error.find(c.message_part), std::string::npos) << "message was: " << error;
  EXPECT_EQ(error.rfind("SNI pattern ", 0), 0u) << error;
  EXPECT_EQ(error, ValidateSniPattern(c.pattern));
  EXPECT_EQ(id, 12345u) << "id must be untouched on error";
  EXPECT_TRUE(matcher.empty());
}

const InvalidCase kInvalidCases[] = {
    {"Empty", "", "is empty"},
    {"OnlyTrailingDot", ".", "is empty"},
    {"IPv4", "1.2.3.4", "\"1.2.3.4\" is an IPv4 address literal"},
    {"IPv4WithTrailingDot", "10.0.0.1.", "is an IPv4 address literal"},
    {"IPv4Short", "127.1", "is an IPv4 address literal"},
    {"IPv4Hex", "0x7f.0.0.1", "is an IPv4 address literal"},
    {"NumericLastLabel", "foo.123", "is an IPv4 address literal"},
    {"IPv6", "::1", "\"::1\" is an IPv6 address literal"},
    {"IPv6Full", "2001:db8::1", "is an IPv6 address literal"},
    {"IPv6Bracketed", "[::1]", "is an IPv6 address literal"},
    {"Space", "a b.com", "contains ' ' at offset 1"},
    {"Parenthesis", "a(b).x.com", "contains '(' at offset 1"},
    {"Pipe", "a|b.x.com", "contains '|'"},
    {"QuestionMark", "a?.x.com", "contains '?'"},
    {"Plus", "a+.x.com", "contains '+'"},
    {"Backslash", "a\\.x.com", "contains '\\'"},
    {"Slash", "a/b.com", "contains '/'"},
    {"NulByte", std::string("a\0b.com", 7), "contains byte 0x00 at offset 1"},
    {"HighByte", "caf\xc3\xa9.com", "contains byte 0xc3 at offset 3"},
    {"EmptyMiddleLabel", "a..b", "has an empty label"},
    {"LeadingDot", ".a.com", "has an empty label"},
    {"TwoTrailingDots", "a.com..", "has an empty label"},
    {"TooLong",
     std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
         std::string(63, 'd') + ".com",
     "is 259 characters long; the maximum is 253"},
    {"LabelTooLong", std::string(64, 'a') + ".com",
     "has a label of 64 characters; the maximum is 63"},
    {"TwoStarsInOneLabel", "a*b*.x.com", "more than one '*' in the label \"a*b*\""},
    {"DoubleStar", "**.x.com", "more than one '*'"},
};

INSTANTIATE_TEST_SUITE_P(Table, SniInvalidPatternTest, ::testing::ValuesIn(kInvalidCases),
                         [](const ::testing::TestParamInfo<InvalidCase>& info) {
                           return std::string(info.param.title);
                         });

TEST(SniPatternTest, BoundaryLengthsAreValid) {
  std::string label63(63, 'a');
  EXPECT_EQ(ValidateSniPattern(label63 + ".com"), "");
  // 253 characters exactly (plus an ignored trailing dot).
  std::string name253 = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                        std::string(63, 'c') + "." + std::string(61, 'd');
  ASSERT_EQ(name253.size(), 253u);
  EXPECT_EQ(ValidateSniPattern(name253), "");
  EXPECT_EQ(ValidateSniPattern(name253 + "."), "");
  SniTable<int> table;
  ASSERT_EQ(table.Add(name253, 1), "");
  ASSERT_NE(table.Lookup(name253 + "."), nullptr);
}

TEST(SniPatternTest, LongPatternIsShortenedInMessage) {
  std::string error = ValidateSniPattern(std::string(300, 'a'));
  EXPECT_NE(error.find("...\""), std::string::npos) << error;
  EXPECT_LT(error.size(), 200u) << error;
}

TEST(SniPatternTest, ValidPatternsAccepted) {
  for (const char* p :
       {"example.com", "*.example.com", "a*.x.com", "*b.x.com", "a*b.x.com", "*", "www.*.com",
        "*.*.x.com", "_dmarc.x.com", "x-1.y_2.Z3.com.", "1.2.3.com", "0x1.example"}) {
    EXPECT_EQ(ValidateSniPattern(p), "") << p;
  }
}

TEST(IpLiteralTest, Classification) {
  for (const char* ip : {"1.2.3.4", "1.2.3.4.", "127.1", "0x7f.0.0.1", "255.255.255.255", "::1",
                         "[::1]", "fe80::1%eth0", "2001:db8::"}) {
    EXPECT_TRUE(IsIpAddressLiteral(ip)) << ip;
  }
  for (const char* host :
       {"", "example.com", "1.2.3.com", "localhost", "0x1.example", "a1", "123abc"}) {
    EXPECT_FALSE(IsIpAddressLiteral(host)) << host;
  }
}

// ---------------------------------------------------------------------------
// Ids and values.

TEST(SniMatcherTest, IdsAreSequentialAndStableOnReAdd) {
  SniMatcher m;
  size_t id = 99;
  ASSERT_EQ(m.Add("a.com", &id), "");
  EXPECT_EQ(id, 0u);
  ASSERT_EQ(m.Add("*.a.com", &id), "");
  EXPECT_EQ(id, 1u);
  ASSERT_EQ(m.Add("www.*.com", &id), "");
  EXPECT_EQ(id, 2u);
  ASSERT_EQ(m.Add("A.COM.", &id), "");
  EXPECT_EQ(id, 0u);
  ASSERT_EQ(m.Add("*.A.com", &id), "");
  EXPECT_EQ(id, 1u);
  ASSERT_EQ(m.Add("WWW.*.COM", &id), "");
  EXPECT_EQ(id, 2u);
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.Lookup("a.com"), std::optional<size_t>(0));
  EXPECT_EQ(m.Lookup("b.a.com"), std::optional<size_t>(1));
  EXPECT_EQ(m.Lookup("www.a.com"), std::optional<size_t>(2));  // re-added last
  EXPECT_EQ(m.Lookup("nothing.here"), std::nullopt);
}

TEST(SniMatcherTest, FailedAddChangesNothing) {
  SniMatcher m;
  ASSERT_EQ(m.Add("*.x.com"), "");
  EXPECT_NE(m.Add("a..x.com"), "");
  EXPECT_NE(m.Add("1.2.3.4"), "");
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.Lookup("a.x.com"), std::optional<size_t>(0));
}

TEST(SniTableTest, ReAddReplacesValueAndPointersStayValid) {
  SniTable<std::string> table;
  ASSERT_EQ(table.Add("*.x.com", "first"), "");
  const std::string* p = table.Lookup("a.x.com");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, "first");
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(table.Add("h" + std::to_string(i) + ".y.com", "filler"), "");
  }
  ASSERT_EQ(table.Add("*.X.com.", "second"), "");
  EXPECT_EQ(table.size(), 1001u);
  EXPECT_EQ(*p, "second");  // same slot, new value
  EXPECT_EQ(table.Lookup("b.x.com"), p);
  EXPECT_EQ(table.Add("bad pattern", "x").empty(), false);
  EXPECT_EQ(table.size(), 1001u);
}

TEST(SniTableTest, MoveOnlyValues) {
  SniTable<std::unique_ptr<int>> table;
  ASSERT_EQ(table.Add("*.x.com", std::make_unique<int>(7)), "");
  auto* v = table.Lookup("a.x.com");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(**v, 7);
}

// ---------------------------------------------------------------------------
// 10,000 random patterns against a naive reference matcher.

// Reference: a list in recency order, each normalised pattern matched against
// the normalised name by a direct recursive glob ('*' = [^.]*), newest first.
class ReferenceMatcher {
 public:
  void Add(const std::string& pattern, size_t id) {
    std::string norm = Normalize(pattern);
    std::erase_if(entries_, [&](const Entry& e) { return e.pattern == norm; });
    entries_.push_back(Entry{norm, id});
  }

  std::optional<size_t> Lookup(const std::string& name) const {
    std::string n = Normalize(name);
    if (!IsValidName(n)) return std::nullopt;
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (Glob(it->pattern, n)) return it->id;
    }
    return std::nullopt;
  }

 private:
  struct Entry {
    std::string pattern;
    size_t id;
  };

  static std::string Normalize(std::string s) {
    if (!s.empty() && s.back() == '.') s.pop_back();
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  static bool IsValidName(const std::string& n) {
    if (n.empty() || n.size() > 253) return false;
    std::vector<std::string> labels;
    std::string cur;
    for (char c : n) {
      if (c == '.') {
        labels.push_back(cur);
        cur.clear();
      } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
        cur += c;
      } else {
        return false;
      }
    }
    labels.push_back(cur);
    for (const std::string& l : labels) {
      if (l.empty() || l.size() > 63) return false;
    }
    const std::string& last = labels.back();
    bool digits = std::all_of(last.begin(), last.end(), [](char c) { return std::isdigit(c); });
    bool hex = last.size() >= 2 && last[0] == '0' && last[1] == 'x' &&
               std::all_of(last.begin() + 2, last.end(),
                           [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
    return !digits && !hex;
  }

  static bool Glob(std::string_view p, std::string_view n) {
    if (p.empty()) return n.empty();
    if (p[0] == '*') {
      for (size_t k = 0;; ++k) {
        if (Glob(p.substr(1), n.substr(k))) return true;
        if (k == n.size() || n[k] == '.') return false;
      }
    }
    return !n.empty() && p[0] == n[0] && Glob(p.substr(1), n.substr(1));
  }

  std::vector<Entry> entries_;
};

class RandomNames {
 public:
  explicit RandomNames(uint32_t seed) : rng_(seed) {}

  // A short label over a tiny alphabet, so that patterns overlap often.
  std::string Label() {
    static const char kChars[] = "abc";
    size_t len = 1 + Pick(3);
    std::string s;
    for (size_t i = 0; i < len; ++i) s += kChars[Pick(3)];
    return s;
  }
  std::string Suffix() {
    static const char* kSuffixes[] = {"x.com", "y.com", "a.x.com", "b.org", "c", "ab.c.net"};
    return kSuffixes[Pick(6)];
  }
  std::string Pattern() {
    switch (Pick(10)) {
      case 0:
      case 1:
      case 2:
      case 3:
        return Label() + "." + Suffix();  // exact
      case 4:
      case 5:
        return "*." + Suffix();  // *.suffix
      case 6:
        return WithStar(Label()) + "." + Suffix();  // partial label
      case 7:
        return Label() + ".*." + Suffix();  // star in 2nd label
      case 8:
        return WithStar(Label()) + "." + WithStar(Label()) + "." + Suffix();
      default:
        return Pick(2) ? "*" : WithStar(Label());  // one-label
    }
  }
  std::string Name() {
    std::string n;
    switch (Pick(4)) {
      case 0:
        n = Label();
        break;
      case 1:
        n = Label() + "." + Suffix();
        break;
      case 2:
        n = Label() + "." + Label() + "." + Suffix();
        break;
      default:
        n = Label() + "." + Label() + "." + Label() + "." + Suffix();
        break;
    }
    return Mangle(n);
  }
  // Upper-case some letters and sometimes add a trailing dot.
  std::string Mangle(std::string s) {
    for (char& c : s) {
      if (c >= 'a' && c <= 'z' && Pick(8) == 0) c = static_cast<char>(c - 'a' + 'A');
    }
    if (Pick(5) == 0) s += '.';
    return s;
  }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

 private:
  std::string WithStar(std::string label) {
    size_t pos = Pick(label.size() + 1);
    if (pos < label.size() && Pick(3) == 0) {
      label[pos] = '*';  // replace a character
    } else {
      label.insert(pos, "*");
    }
    return label;
  }

  std::mt19937 rng_;
};

TEST(SniMatcherTest, TenThousandPatternsAgreeWithReference) {
  RandomNames gen(20240611);
  SniMatcher matcher;
  ReferenceMatcher reference;
  size_t compared = 0;
  size_t hits = 0;
  auto check = [&](int queries) {
    for (int q = 0; q < queries; ++q) {
      std::string name = gen.Name();
      std::optional<size_t> want = reference.Lookup(name);
      std::optional<size_t> got = matcher.Lookup(name);
      ASSERT_EQ(got, want) << "name \"" << name << "\"";
      ++compared;
      if (want) ++hits;
    }
  };
  for (int i = 1; i <= 10000; ++i) {
    std::string pattern = gen.Mangle(gen.Pattern());
    size_t id = 0;
    ASSERT_EQ(matcher.Add(pattern, &id), "") << pattern;
    reference.Add(pattern, id);
    if (i % 1000 == 0) check(200);
  }
  check(2000);
  // The random mix must exercise both outcomes.
  EXPECT_GT(hits, compared / 10);
  EXPECT_LT(hits, compared);
  // Many patterns repeat (small alphabet): ids are per distinct pattern.
  EXPECT_LT(matcher.size(), 10000u);
}

}  // namespace
}  // namespace sansio_tls
