// Fuzz target: ALPN/NPN protocol lists (decode, encode, SelectAlpn, SelectNpn) against a
// straightforward reference of the rules in protocol_list.h.
//
// Input: a count byte (0..15), that many ShortStrings (local preferences), then the rest as
// a peer's wire-format list.
#include "core/negotiation/protocol_list.h"

#include <algorithm>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;

namespace {

std::optional<std::vector<std::string>> RefDecode(std::span<const uint8_t> wire) {
  if (wire.size() > kMaxProtocolListLength) return std::nullopt;
  std::vector<std::string> out;
  size_t i = 0;
  while (i < wire.size()) {
    size_t len = wire[i++];
    if (len == 0 || len > wire.size() - i) return std::nullopt;
    out.emplace_back(reinterpret_cast<const char*>(wire.data() + i), len);
    i += len;
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  std::vector<std::string> prefs;
  for (int n = in.Byte() % 16; n > 0; --n) prefs.push_back(in.ShortString());
  std::span<const uint8_t> wire = in.Rest();

  auto decoded = DecodeProtocolList(wire);
  auto want = RefDecode(wire);
  FUZZ_CHECK(decoded == want, "DecodeProtocolList disagrees with the reference");
  FUZZ_CHECK(IsValidProtocolList(wire) == (want && !want->empty()), "IsValidProtocolList");
  if (decoded) {
    std::vector<uint8_t> encoded;
    FUZZ_CHECK(EncodeProtocolList(*decoded, &encoded).empty(), "re-encoding a decoded list failed");
    FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), wire.begin(), wire.end()),
               "decode/encode does not round-trip");
  }

  std::vector<uint8_t> encoded = {0xAA};
  std::string error = EncodeProtocolList(prefs, &encoded);
  bool prefs_ok = std::all_of(prefs.begin(), prefs.end(), [](const std::string& p) {
    return !p.empty() && p.size() <= kMaxProtocolNameLength;
  });
  FUZZ_CHECK(error.empty() == prefs_ok, "EncodeProtocolList validity");
  if (error.empty()) {
    FUZZ_CHECK(DecodeProtocolList(encoded) == prefs, "encode/decode does not round-trip");
  } else {
    FUZZ_CHECK(encoded == std::vector<uint8_t>{0xAA}, "EncodeProtocolList changed *out on error");
  }

  // ALPN: server order wins.
  std::optional<size_t> want_alpn;
  if (want && !want->empty()) {
    for (size_t i = 0; i < prefs.size() && !want_alpn; ++i) {
      if (Contains(*want, prefs[i])) want_alpn = i;
    }
  }
  FUZZ_CHECK(SelectAlpn(prefs, wire) == want_alpn, "SelectAlpn disagrees with the reference");

  // NPN: the server's advertised order wins; no overlap sends the client's first choice.
  NpnChoice npn = SelectNpn(prefs, wire);
  if (prefs.empty()) {
    FUZZ_CHECK(npn.send.empty() && !npn.overlapped, "SelectNpn with no client list");
  } else {
    NpnChoice ref{prefs[0], false};
    if (want) {
      for (const std::string& p : *want) {
        if (Contains(prefs, p)) {
          ref = {p, true};
          break;
        }
      }
    }
    FUZZ_CHECK(npn.send == ref.send && npn.overlapped == ref.overlapped,
               "SelectNpn disagrees with the reference");
  }
  return 0;
}
