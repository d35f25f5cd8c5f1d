// ALPN / NPN protocol lists: wire encoding and selection.
//
// Wire format (RFC 7301 ProtocolNameList body, also NPN's): each protocol is a
// one-byte length followed by that many bytes, e.g. {"h2", "http/1.1"} is
// "\x02h2\x08http/1.1". Entries are 1..255 bytes; the whole list at most
// 65535 bytes. An empty list encodes to zero bytes, meaning "no list".
//
// Semantics follow Node.js (lib/tls.js convertProtocols) and OpenSSL's /
// BoringSSL's SSL_select_next_proto, which Node uses for both:
//   ALPN (server side): the SERVER's preference order wins: the first server
//     protocol that the client also offered.
//   NPN (client side): the server advertises its list; the client takes the
//     first protocol IN THE SERVER'S ADVERTISED ORDER that the client also
//     supports (SSL_select_next_proto(out, outlen, server_list, client_list),
//     exactly as Node's SelectNextProtoCallback calls it). With no overlap the
//     client sends its own first choice and reports none negotiated; the server reports
//     what it received.
#ifndef SANSIO_TLS_CORE_NEGOTIATION_PROTOCOL_LIST_H_
#define SANSIO_TLS_CORE_NEGOTIATION_PROTOCOL_LIST_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sansio_tls {

inline constexpr size_t kMaxProtocolNameLength = 255;
inline constexpr size_t kMaxProtocolListLength = 65535;

// Encodes `protocols` into the wire format. Returns "" on success (and
// replaces *out); on error returns a message naming the offending entry and
// leaves *out untouched. Errors: an empty entry, an entry over 255 bytes, a
// total over 65535 bytes.
std::string EncodeProtocolList(std::span<const std::string> protocols, std::vector<uint8_t>* out);

// Decodes a wire-format list. Zero bytes decode to an empty list. nullopt when
// malformed: a length running past the end, a zero-length entry, or a list
// over 65535 bytes.
std::optional<std::vector<std::string>> DecodeProtocolList(std::span<const uint8_t> wire);

// True when `wire` is a well-formed, non-empty list (what may be sent).
bool IsValidProtocolList(std::span<const uint8_t> wire);

// ALPN server selection. Returns the index into `server_prefs` of the first
// server protocol (server order wins) that appears in the client's list;
// nullopt when there is no overlap, the client list is empty, or the client
// list is malformed. (The caller turns nullopt with a non-empty client list
// into the fatal no_application_protocol alert, as current Node does.)
std::optional<size_t> SelectAlpn(std::span<const std::string> server_prefs,
                                 std::span<const uint8_t> client_wire);

// NPN client selection.
struct NpnChoice {
  std::string send;  // the protocol the client sends in NextProtocol
  bool overlapped;   // false: report none negotiated on the client
};
// `server_wire` is the server's advertised list. Takes the first server
// protocol (server order, as SSL_select_next_proto) that is in
// `client_prefs`. No overlap -- including an empty or malformed server list --
// sends client_prefs[0] with overlapped=false. An empty `client_prefs` gives
// {"", false}: a client without an NPN list should not offer NPN at all.
NpnChoice SelectNpn(std::span<const std::string> client_prefs,
                    std::span<const uint8_t> server_wire);

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_NEGOTIATION_PROTOCOL_LIST_H_
