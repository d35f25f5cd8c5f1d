// Fuzz target: a server Session fed arbitrary bytes from a client.
//
// Input: two ServerConfig bytes (versions, request_cert, reject_unauthorized, fragmentation,
// EOF at the end, echo; SNI contexts / SNI callback and its answer, ALPN, NPN), then the
// bytes the client sends. Seeds are real ClientHellos
// (openssl, node, our client) and whole client streams recorded from a deterministic pair
// (gen_corpus.cc), which replay into this session past the handshake, so mutations reach
// record framing, ClientHello parsing (SNI, ALPN, versions, key shares), client
// certificates and our verifier, application data and close_notify.
//
// Invariants: the SessionChecker rules (event order, sticky errors), Feed's consumption
// contract, output accounting, and after FeedEof the session has either failed or reports
// the peer's end.
#include "core/session.h"
#include "fuzz/fuzz_support.h"

using namespace sansio_tls;
using namespace sansio_tls::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ResetRandom();
  ScopedRandomStream stream(RandomStream::kServer);
  Input in(data, size);
  uint8_t b0 = in.Byte(), b1 = in.Byte();
  ServerConfig config = ServerConfig::From(b0, b1);
  auto created = Session::Create(ServerContext(config), ServerSessionOptions());
  FUZZ_CHECK(created.ok(), "Session::Create: %s",
             created.ok() ? "" : created.error().message.c_str());
  Session& session = created.value();
  SessionChecker checker(session);
  checker.set_sni_answer(SniAnswerFor(config));
  checker.Drain();
  FUZZ_CHECK(session.pending_output_bytes() == 0, "a server spoke first");

  if (config.echo) {
    // Queued until the handshake completes.
    static const uint8_t kEarly[] = "early";
    FUZZ_CHECK(session.Write(kEarly) == sizeof kEarly, "Write before the handshake refused");
  }
  Chunker chunker(config.chunking, size);
  std::string plaintext;
  FeedAll(session, checker, in.Rest(), chunker, &plaintext);

  if (config.echo && !session.failed()) {
    size_t accepted =
        session.Write({reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size()});
    FUZZ_CHECK(accepted <= plaintext.size(), "Write accepted more than offered");
    session.Close();
    checker.Drain();
    if (session.handshake_done() && !session.failed()) {
      FUZZ_CHECK(session.close_sent(), "Close() after the handshake sent no close_notify");
    }
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
    FUZZ_CHECK(!session.wants_input(), "wants_input() after FeedEof");
  }
  return 0;
}
