// Session::Rare: the state most sessions never use, allocated on first use so that an idle
// session stays small. Internal: included by the files implementing Session.
#ifndef SANSIO_TLS_CORE_INTERNAL_SESSION_RARE_H_
#define SANSIO_TLS_CORE_INTERNAL_SESSION_RARE_H_

#include <memory>
#include <string>

#include "core/context.h"
#include "core/internal/lifecycle.h"
#include "core/session.h"

namespace sansio_tls {

struct Session::Rare {
  internal::Lifecycle life;                    // external-cache lookups, 0-RTT, ticket verdict
  std::string hostname_reason;                 // why the host-name check failed
  std::shared_ptr<const Context> sni_context;  // credentials chosen by SNI; null: context_
};

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_INTERNAL_SESSION_RARE_H_
