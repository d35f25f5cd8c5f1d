// ContextSlot: the Context a server makes new sessions from, replaceable at any time from any
// thread without a restart (Node's server.setSecureContext).
#ifndef SANSIO_TLS_CORE_CONTEXT_SLOT_H_
#define SANSIO_TLS_CORE_CONTEXT_SLOT_H_

#include <memory>
#include <mutex>
#include <optional>

#include "core/context.h"
#include "core/error.h"
#include "core/session.h"

namespace sansio_tls {

// Sessions hold their own reference to the Context they were made from, so a replacement
// never disturbs connections already open or mid-handshake: they finish with the old
// credentials, SNI contexts and options, and the old Context is freed with the last of them.
// All methods are thread-safe.
class ContextSlot {
 public:
  // |initial| must not be null; its role is the slot's role for good.
  explicit ContextSlot(std::shared_ptr<const Context> initial);

  // The current Context (never null when the slot was built with one).
  std::shared_ptr<const Context> Get() const;

  // Set makes |next| the Context for new sessions. Error (nothing changes) when |next| is
  // null or of another role.
  std::optional<Error> Set(std::shared_ptr<const Context> next);

  // Reload builds a Context from |options| and sets it. On any error (invalid options, other
  // role) the current Context stays and the Error says why.
  std::optional<Error> Reload(const ServerContextOptions& options);
  std::optional<Error> Reload(const ClientContextOptions& options);

  // A new Session from the current Context.
  Result<Session> NewSession(SessionOptions options = {}) const;

 private:
  mutable std::mutex mu_;
  std::optional<Error> SetBuilt(Result<std::shared_ptr<const Context>> built);

  std::shared_ptr<const Context> current_;  // guarded by mu_
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_CONTEXT_SLOT_H_
