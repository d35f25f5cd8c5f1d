#include "core/negotiation/protocol_list.h"

#include <cstring>

namespace sansio_tls {
namespace {

// Calls f(std::string_view entry) for each entry; returns false when the list
// is malformed (f may already have seen a prefix of it).
template <typename F>
bool ForEachEntry(std::span<const uint8_t> wire, F&& f) {
  if (wire.size() > kMaxProtocolListLength) return false;
  size_t i = 0;
  while (i < wire.size()) {
    size_t len = wire[i];
    if (len == 0 || len > wire.size() - i - 1) return false;
    f(std::string_view(reinterpret_cast<const char*>(wire.data() + i + 1), len));
    i += 1 + len;
  }
  return true;
}

bool WireContains(std::span<const uint8_t> wire, std::string_view protocol) {
  bool found = false;
  ForEachEntry(wire, [&](std::string_view entry) {
    if (!found && entry == protocol) found = true;
  });
  return found;
}

}  // namespace

std::string EncodeProtocolList(std::span<const std::string> protocols, std::vector<uint8_t>* out) {
  size_t total = 0;
  for (size_t i = 0; i < protocols.size(); ++i) {
    size_t len = protocols[i].size();
    if (len == 0) {
      return "The protocol at index " + std::to_string(i) +
             " is empty; ALPN/NPN protocol names must be 1..255 bytes";
    }
    if (len > kMaxProtocolNameLength) {
      return "The byte length of the protocol at index " + std::to_string(i) +
             " exceeds the maximum length. It must be <= 255. Received " + std::to_string(len);
    }
    total += 1 + len;
  }
  if (total > kMaxProtocolListLength) {
    return "The protocol list is " + std::to_string(total) +
           " bytes in wire format; the maximum is 65535";
  }
  std::vector<uint8_t> wire;
  wire.reserve(total);
  for (const std::string& p : protocols) {
    wire.push_back(static_cast<uint8_t>(p.size()));
    wire.insert(wire.end(), p.begin(), p.end());
  }
  *out = std::move(wire);
  return {};
}

std::optional<std::vector<std::string>> DecodeProtocolList(std::span<const uint8_t> wire) {
  std::vector<std::string> result;
  if (!ForEachEntry(wire, [&](std::string_view e) { result.emplace_back(e); })) {
    return std::nullopt;
  }
  return result;
}

bool IsValidProtocolList(std::span<const uint8_t> wire) {
  return !wire.empty() && ForEachEntry(wire, [](std::string_view) {});
}

std::optional<size_t> SelectAlpn(std::span<const std::string> server_prefs,
                                 std::span<const uint8_t> client_wire) {
  if (!IsValidProtocolList(client_wire)) return std::nullopt;
  for (size_t i = 0; i < server_prefs.size(); ++i) {
    if (WireContains(client_wire, server_prefs[i])) return i;
  }
  return std::nullopt;
}

NpnChoice SelectNpn(std::span<const std::string> client_prefs,
                    std::span<const uint8_t> server_wire) {
  if (client_prefs.empty()) return NpnChoice{std::string(), false};
  if (IsValidProtocolList(server_wire)) {
    std::optional<std::string_view> chosen;
    ForEachEntry(server_wire, [&](std::string_view offered) {
      if (chosen) return;
      for (const std::string& mine : client_prefs) {
        if (mine == offered) {
          chosen = offered;
          return;
        }
      }
    });
    if (chosen) return NpnChoice{std::string(*chosen), true};
  }
  return NpnChoice{client_prefs.front(), false};
}

}  // namespace sansio_tls
