// Session::Rare: the state most sessions never use, allocated on first use so that an idle
// session stays small. Internal: included by the files implementing Session.
#ifndef SANSIO_TLS_CORE_INTERNAL_SESSION_RARE_H_
#define SANSIO_TLS_CORE_INTERNAL_SESSION_RARE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/context.h"
#include "core/internal/lifecycle.h"
#include "core/internal/session_impl.h"
#include "core/session.h"

namespace sansio_tls {

struct SessionImpl::Rare {
  internal::Lifecycle life;                    // external-cache lookups, 0-RTT, ticket verdict
  std::string hostname_reason;                 // why the host-name check failed
  std::shared_ptr<const Context> sni_context;  // credentials chosen by SNI; null: context_
  // ServerContextOptions::alpn_callback: where the request stands, and the answer.
  enum class AlpnState : uint8_t { kNone, kPending, kAnswered };
  AlpnState alpn_state = AlpnState::kNone;
  std::vector<std::string> alpn_offered;   // the client's list while pending
  std::optional<std::string> alpn_choice;  // kAnswered: the protocol, or nullopt to refuse
  // Credentials::external_key: the operation BoringSSL waits for, and its answer.
  enum class KeyOpState : uint8_t { kNone, kPending, kAnswered, kFailed };
  KeyOpState key_op = KeyOpState::kNone;
  size_t key_op_max = 0;                   // the largest result BoringSSL takes
  std::vector<uint8_t> key_op_result;      // kAnswered
  std::string key_op_failure;              // kFailed: the application's message
  std::vector<uint8_t> ech_retry_configs;  // client: after ERR_TLS_ECH_REJECTED
  // ServerContextOptions::early_data_check: where the check stands.
  enum class EarlyCheck : uint8_t { kNone, kPending, kAnswered };
  EarlyCheck early_check = EarlyCheck::kNone;
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_INTERNAL_SESSION_RARE_H_
