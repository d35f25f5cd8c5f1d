// Fuzz target: a client Session fed arbitrary server flights.
//
// Input: two ClientConfig bytes (versions, client certificate, reject_unauthorized,
// fragmentation, EOF at the end; ALPN list, NPN, servername), then the bytes the server
// sends. The client's randomness is deterministic, so server streams recorded from a pair
// (gen_corpus.cc) replay into it to the end: mutations reach ServerHello parsing,
// HelloRetryRequest, certificate messages and our verifier (chain, host name, verify time
// fixed), CertificateRequest, tickets, application data, alerts and close_notify.
//
// Invariants: as server_session; and a handshake that completes with
// reject_unauthorized=true was authorized.
#include <algorithm>

#include "core/session.h"
#include "fuzz/fuzz_support.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ResetRandom();
  ScopedRandomStream stream(RandomStream::kClient);
  Input in(data, size);
  uint8_t b0 = in.Byte(), b1 = in.Byte();
  ClientConfig config = ClientConfig::From(b0, b1);
  auto created = Session::Create(ClientContext(config), ClientSessionOptions(config));
  FUZZ_CHECK(created.ok(), "Session::Create: %s",
             created.ok() ? "" : created.error().message.c_str());
  Session& session = created.value();
  SessionChecker checker(session);
  checker.Drain();
  FUZZ_CHECK(session.pending_output_bytes() > 0, "no ClientHello after Create");
  DiscardOutput(session);

  static const uint8_t kRequest[] = "GET / HTTP/1.0\r\n\r\n";
  FUZZ_CHECK(session.Write(kRequest) == sizeof kRequest, "Write before the handshake refused");
  Chunker chunker(config.chunking, size);
  std::string plaintext;
  FeedAll(session, checker, in.Rest(), chunker, &plaintext);
  if (checker.handshake_done()) {
    const HandshakeInfo& info = session.handshake_info();
    if (config.reject_unauthorized) {
      FUZZ_CHECK(info.authorized, "handshake completed unauthorized (%s) with reject_unauthorized",
                 info.authorization_error.c_str());
    }
    FUZZ_CHECK(info.servername == ClientSessionOptions(config).servername, "servername changed");
    const std::vector<std::string> offered =
        ClientContext(config)->client_options()->alpn_protocols;
    FUZZ_CHECK(!info.alpn_protocol ||
                   std::find(offered.begin(), offered.end(), *info.alpn_protocol) != offered.end(),
               "ALPN \"%s\" was not offered", info.alpn_protocol.value_or("").c_str());
  }
  if (!session.failed()) {
    session.Close();
    checker.Drain();
    DiscardOutput(session);
    checker.CheckSticky();
  }
  if (config.eof_at_end) {
    session.FeedEof();
    checker.ReadAll(nullptr);
    DiscardOutput(session);
    checker.CheckSticky();
    FUZZ_CHECK(session.failed() || session.peer_closed(),
               "after FeedEof the session neither failed nor reports the peer's end");
  }
  return 0;
}
