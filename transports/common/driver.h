// The policy every socket transport (POSIX, libuv, Asio) follows, in one place and with no
// socket or event-loop code: how much to read, which time to give the session, what answers
// a pause nobody handles, which error each way of ending gets, and how much to drain before
// closing. A transport executes these decisions in its own idiom.
//
// The values, unified across the transports (they had drifted):
//  - one socket read takes at most min(kReadChunk, Session::input_capacity()) bytes, so the
//    session takes everything read and no transport keeps leftover ciphertext;
//  - closing drains at most kMaxDrainOnClose unread bytes (1 MiB; Asio drained 64 KiB), so
//    the kernel does not answer them with a reset that destroys our last records;
//  - a pause (kSniRequest, kAlpnRequest, kSessionLookup, kVerifyRequested, kSignRequest,
//    kDecryptRequest) nobody answers: an event handler that does not answer leaves the handshake
//    waiting until its deadline, then ERR_TLS_PAUSE_UNANSWERED (core/session.h); a blocking
//    call that meets a pause with no handler fails at once with the same code (POSIX said
//    ERR_TLS_PAUSED);
//  - the handshake bound ends with ERR_TLS_HANDSHAKE_TIMEOUT; the end grace (the peer did not
//    end its side after our close_notify) with ETIMEDOUT; an EOF without close_notify after
//    the handshake with ERR_TLS_TRUNCATED; a reset with the socket's errno name (ECONNRESET).
#ifndef SANSIO_TLS_TRANSPORTS_COMMON_DRIVER_H_
#define SANSIO_TLS_TRANSPORTS_COMMON_DRIVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/error.h"
#include "core/session.h"
#include "transports/common/transport_types.h"

namespace sansio_tls::transport {

inline constexpr size_t kReadChunk = 32 * 1024;
inline constexpr size_t kMaxDrainOnClose = 1 << 20;

// The wall clock as the session takes it. The transports are where time is read; the core
// reads none.
Timestamp WallNow();
// Gives |session| the wall clock (Session::set_now).
void Tick(Session& session);
// |options| with |now| set to the wall clock unless the caller set it.
SessionOptions WithNow(SessionOptions options);
// A client's options for a connection to |host|: servername and host default to it (the
// session sends no SNI for an IP literal), and the wall clock as WithNow().
SessionOptions ClientOptions(SessionOptions options, const std::string& host);

// This thread's receive buffer of kReadChunk bytes, shared by every connection on the
// thread: valid only between a read and the Feed() of what it read, never across a wait.
std::span<uint8_t> ReadBuffer();
// How many bytes the next socket read may take: the session takes all of them.
size_t ReadLimit(const Session& session);

// Gives a new |session| the bytes a STARTTLS caller read from the socket past its last
// plaintext message (the first TLS bytes), before the transport takes over, so that no
// transport keeps them aside. A session takes all a peer can send before our first answer
// (a ClientHello and its 0-RTT data); more than it takes is ERR_INVALID_ARG_VALUE, and
// nothing is lost: the caller still owns the socket and the bytes.
std::optional<Error> FeedReceived(Session& session, std::span<const uint8_t> received);

// True while the handshake waits for the application's answer to a pause.
bool Paused(const Session& session);
// The answer to a pause nobody handles: SNI the default credentials, a session lookup a
// miss, a verification request a rejection, an ALPN request a refusal
// (no_application_protocol), a private-key operation (kSignRequest, kDecryptRequest) a
// failure (ERR_TLS_KEY_OPERATION_FAILED), an early-data check (kEarlyDataCheck) a refusal.
// Other events are left alone.
void DefaultAnswer(Session& session, const Event& event);

// The error a connection that ended both ways closes with: the session's error, else the
// transport's (a reset...), else ERR_TLS_TRUNCATED when the peer ended without close_notify,
// else none (a clean close).
std::optional<Error> CloseError(const Session& session,
                                const std::optional<Error>& transport_error);
Error TruncatedError();
Error HandshakeTimeoutError(std::chrono::milliseconds timeout);
// The error a handshake bound ends |session| with: ERR_TLS_PAUSE_UNANSWERED when a pause was
// waiting for the application, else ERR_TLS_HANDSHAKE_TIMEOUT (as Session::OnTimer does).
Error HandshakeTimeoutError(const Session& session, std::chrono::milliseconds timeout);
Error EndTimeoutError(std::chrono::milliseconds timeout);
Error PauseUnansweredError();

// Why a server cannot start with |context| (it must be a server context) and a
// secure_connection callback that is set or not: ERR_INVALID_ARG_VALUE; nullopt when it can.
std::optional<Error> ServerArgsError(const Context* context, bool has_secure_connection);

}  // namespace sansio_tls::transport

#endif  // SANSIO_TLS_TRANSPORTS_COMMON_DRIVER_H_
