#include "core/negotiation/protocol_list.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sansio_tls {
namespace {

using Bytes = std::vector<uint8_t>;
using Names = std::vector<std::string>;

Bytes Wire(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Encodes a list known to be valid.
Bytes Encode(const Names& names) {
  Bytes out;
  std::string error = EncodeProtocolList(names, &out);
  EXPECT_EQ(error, "");
  return out;
}

// ---------------------------------------------------------------------------
// Encoding.

TEST(EncodeProtocolListTest, NodeExample) {
  // Node's comment: ["spdy/2", "http/1.1", "http/1.0"] ->
  // "\x06spdy/2\x08http/1.1\x08http/1.0".
  EXPECT_EQ(Encode({"spdy/2", "http/1.1", "http/1.0"}), Wire("\x06spdy/2\x08http/1.1\x08http/1.0"));
  EXPECT_EQ(Encode({"h2", "http/1.1"}), Wire("\x02h2\x08http/1.1"));
}

TEST(EncodeProtocolListTest, EmptyListIsZeroBytes) {
  Bytes out = {1, 2, 3};
  EXPECT_EQ(EncodeProtocolList(Names{}, &out), "");
  EXPECT_TRUE(out.empty());
}

TEST(EncodeProtocolListTest, BoundaryLengths) {
  Bytes out;
  ASSERT_EQ(EncodeProtocolList(Names{std::string(255, 'p')}, &out), "");
  ASSERT_EQ(out.size(), 256u);
  EXPECT_EQ(out[0], 255);
  ASSERT_EQ(EncodeProtocolList(Names{"x"}, &out), "");
  EXPECT_EQ(out, Wire("\x01x"));
  // 257 entries of 254 bytes = 65535 bytes exactly.
  Names max(257, std::string(254, 'm'));
  ASSERT_EQ(EncodeProtocolList(max, &out), "");
  EXPECT_EQ(out.size(), 65535u);
  // Non-ASCII bytes are allowed (protocol names are opaque).
  ASSERT_EQ(EncodeProtocolList(Names{std::string("\0\xff", 2)}, &out), "");
  EXPECT_EQ(out, Bytes({2, 0, 0xff}));
}

struct EncodeErrorCase {
  const char* title;
  Names protocols;
  std::string message_part;
};
void PrintTo(const EncodeErrorCase& c, std::ostream* os) { *os << c.title; }

class EncodeProtocolListErrorTest : public ::testing::TestWithParam<EncodeErrorCase> {};

TEST_P(EncodeProtocolListErrorTest, RefusedAndOutputUntouched) {
  const EncodeErrorCase& c = GetParam();
  Bytes out = {42};
  std::string error = EncodeProtocolList(c.protocols, &out);
  EXPECT_NE(error.find(c.message_part), std::string::npos) << "message was: " << error;
  EXPECT_EQ(out, Bytes({42}));
}

const EncodeErrorCase kEncodeErrors[] = {
    {"EmptyFirst", {""}, "The protocol at index 0 is empty"},
    {"EmptyLater", {"h2", "http/1.1", ""}, "The protocol at index 2 is empty"},
    {"Over255",
     {"h2", std::string(256, 'x')},
     "The byte length of the protocol at index 1 exceeds the maximum length. It must be "
     "<= 255. Received 256"},
    {"TotalOver65535", Names(258, std::string(254, 'm')),
     "The protocol list is 65790 bytes in wire format; the maximum is 65535"},
    {"TotalOver65535ByOne",
     [] {
       Names n(257, std::string(254, 'm'));
       n.push_back("z");  // 65535 + 2
       return n;
     }(),
     "65537 bytes"},
};

INSTANTIATE_TEST_SUITE_P(Table, EncodeProtocolListErrorTest, ::testing::ValuesIn(kEncodeErrors),
                         [](const ::testing::TestParamInfo<EncodeErrorCase>& info) {
                           return std::string(info.param.title);
                         });

// ---------------------------------------------------------------------------
// Decoding.

struct DecodeCase {
  const char* title;
  Bytes wire;
  std::optional<Names> expected;  // nullopt = malformed
};
void PrintTo(const DecodeCase& c, std::ostream* os) { *os << c.title; }

class DecodeProtocolListTest : public ::testing::TestWithParam<DecodeCase> {};

TEST_P(DecodeProtocolListTest, Decodes) {
  const DecodeCase& c = GetParam();
  EXPECT_EQ(DecodeProtocolList(c.wire), c.expected);
  EXPECT_EQ(IsValidProtocolList(c.wire), c.expected.has_value() && !c.expected->empty());
}

const DecodeCase kDecodeCases[] = {
    {"Empty", {}, Names{}},
    {"One", Wire("\x02h2"), Names{"h2"}},
    {"Two", Wire("\x02h2\x08http/1.1"), Names{"h2", "http/1.1"}},
    {"Duplicates",
     Wire("\x01"
          "a\x01"
          "a"),
     Names{"a", "a"}},
    {"Max255",
     [] {
       Bytes b{255};
       b.insert(b.end(), 255, 'q');
       return b;
     }(),
     Names{std::string(255, 'q')}},
    {"ZeroLengthEntry", Bytes{0}, std::nullopt},
    {"ZeroLengthEntryAfterValid", Bytes{1, 'a', 0}, std::nullopt},
    {"LengthPastEnd", Wire("\x03h2"), std::nullopt},
    {"LengthByteOnly", Bytes{5}, std::nullopt},
    {"TrailingLengthByte", Bytes{1, 'a', 2}, std::nullopt},
    {"Over65535",
     [] {
       Bytes b;
       for (int i = 0; i < 258; ++i) {
         b.push_back(254);
         b.insert(b.end(), 254, 'm');
       }
       return b;
     }(),
     std::nullopt},
};

INSTANTIATE_TEST_SUITE_P(Table, DecodeProtocolListTest, ::testing::ValuesIn(kDecodeCases),
                         [](const ::testing::TestParamInfo<DecodeCase>& info) {
                           return std::string(info.param.title);
                         });

TEST(ProtocolListRoundTripTest, EncodeThenDecode) {
  Names names = {"h2", "http/1.1", "spdy/3.1", std::string(255, 'z'), std::string(1, '\0')};
  EXPECT_EQ(DecodeProtocolList(Encode(names)), names);
}

// ---------------------------------------------------------------------------
// ALPN: server preference order wins.

struct AlpnCase {
  const char* title;
  Names server;
  Bytes client_wire;
  std::optional<size_t> expected;  // index into server
};
void PrintTo(const AlpnCase& c, std::ostream* os) { *os << c.title; }

class SelectAlpnTest : public ::testing::TestWithParam<AlpnCase> {};

TEST_P(SelectAlpnTest, Selects) {
  const AlpnCase& c = GetParam();
  EXPECT_EQ(SelectAlpn(c.server, c.client_wire), c.expected);
}

const AlpnCase kAlpnCases[] = {
    // Node's test-tls-alpn-server-client.js, server ['a','b','c'].
    {"SameLists", {"a", "b", "c"}, Encode({"a", "b", "c"}), 0},
    {"ServerOrderWins", {"a", "b", "c"}, Encode({"c", "b", "e"}), 1},
    {"NoOverlap", {"a", "b", "c"}, Encode({"first-priority-unsupported", "x", "y"}), std::nullopt},
    {"ServerOrderWinsOverClientOrder", {"http/1.1", "h2"}, Encode({"h2", "http/1.1"}), 0},
    {"OnlyLastClientEntryMatches", {"h2"}, Encode({"x", "y", "h2"}), 0},
    {"OnlyLastServerEntryMatches", {"x", "y", "h2"}, Encode({"h2"}), 2},
    {"EmptyClientList", {"h2"}, Bytes{}, std::nullopt},
    {"EmptyServerList", {}, Encode({"h2"}), std::nullopt},
    {"PrefixIsNotAMatch", {"h2"}, Encode({"h2c"}), std::nullopt},
    {"LongerIsNotAMatch", {"h2c"}, Encode({"h2"}), std::nullopt},
    {"CaseSensitive", {"H2"}, Encode({"h2"}), std::nullopt},
    {"MalformedTruncated", {"h2"}, Wire("\x02h2\x05http"), std::nullopt},
    {"MalformedZeroLength", {"h2"}, Bytes{2, 'h', '2', 0}, std::nullopt},
    {"MalformedLengthOnly", {"h2"}, Bytes{9}, std::nullopt},
    {"EmbeddedLengthBytesNotConfused", {"\x01x"}, Wire("\x02\x01x"), 0},
    {"MatchAcrossEntryBoundaryRefused",
     {"a\x01"
      "b"},
     Wire("\x01"
          "a\x01"
          "b"),
     std::nullopt},
};

INSTANTIATE_TEST_SUITE_P(Table, SelectAlpnTest, ::testing::ValuesIn(kAlpnCases),
                         [](const ::testing::TestParamInfo<AlpnCase>& info) {
                           return std::string(info.param.title);
                         });

// ---------------------------------------------------------------------------
// NPN: the client picks in the server's advertised order
// (SSL_select_next_proto(server_list, client_list) as Node calls it); no
// overlap sends the client's first choice and reports none.

struct NpnCase {
  const char* title;
  Names client;
  Bytes server_wire;
  std::string send;
  bool overlapped;
};
void PrintTo(const NpnCase& c, std::ostream* os) { *os << c.title; }

class SelectNpnTest : public ::testing::TestWithParam<NpnCase> {};

TEST_P(SelectNpnTest, Selects) {
  const NpnCase& c = GetParam();
  NpnChoice choice = SelectNpn(c.client, c.server_wire);
  EXPECT_EQ(choice.send, c.send);
  EXPECT_EQ(choice.overlapped, c.overlapped);
}

const NpnCase kNpnCases[] = {
    // Node's test-tls-npn-server-client.js, server advertises ['a','b','c'].
    {"SameLists", {"a", "b", "c"}, Encode({"a", "b", "c"}), "a", true},
    {"ServerAdvertisedOrderWins", {"c", "b", "e"}, Encode({"a", "b", "c"}), "b", true},
    {"NoOverlapSendsClientFirst",
     {"first-priority-unsupported", "x", "y"},
     Encode({"a", "b", "c"}),
     "first-priority-unsupported",
     false},
    {"ServerOrderOverClientOrder",
     {"h2", "http/1.1"},
     Encode({"http/1.1", "h2"}),
     "http/1.1",
     true},
    {"SingleCommon", {"x", "spdy/3"}, Encode({"spdy/3"}), "spdy/3", true},
    {"EmptyServerList", {"h2", "http/1.1"}, Bytes{}, "h2", false},
    {"MalformedServerList", {"h2"}, Wire("\x02h2\x09http"), "h2", false},
    {"ZeroLengthServerEntry", {"h2"}, Bytes{2, 'h', '2', 0}, "h2", false},
    {"EmptyClientList", {}, Encode({"h2"}), "", false},
    {"PrefixIsNotAMatch", {"h2"}, Encode({"h2c"}), "h2", false},
    {"CaseSensitive", {"H2", "http/1.1"}, Encode({"h2"}), "H2", false},
};

INSTANTIATE_TEST_SUITE_P(Table, SelectNpnTest, ::testing::ValuesIn(kNpnCases),
                         [](const ::testing::TestParamInfo<NpnCase>& info) {
                           return std::string(info.param.title);
                         });

}  // namespace
}  // namespace sansio_tls
