#include "core/context_slot.h"

#include <utility>

namespace sansio_tls {

ContextSlot::ContextSlot(std::shared_ptr<const Context> initial) : current_(std::move(initial)) {}

std::shared_ptr<const Context> ContextSlot::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

std::optional<Error> ContextSlot::Set(std::shared_ptr<const Context> next) {
  if (!next)
    return Error{"ERR_INVALID_ARG_VALUE", "ContextSlot::Set: the context is null", std::nullopt,
                 false};
  std::shared_ptr<const Context> old;  // released outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  if (current_ && current_->role() != next->role()) {
    return Error{"ERR_INVALID_ARG_VALUE",
                 next->role() == Role::kServer
                     ? "ContextSlot::Set: a client slot cannot take a server context"
                     : "ContextSlot::Set: a server slot cannot take a client context",
                 std::nullopt, false};
  }
  old = std::exchange(current_, std::move(next));
  return std::nullopt;
}

std::optional<Error> ContextSlot::Reload(const ServerContextOptions& options) {
  return SetBuilt(Context::Create(options));
}

std::optional<Error> ContextSlot::Reload(const ClientContextOptions& options) {
  return SetBuilt(Context::Create(options));
}

std::optional<Error> ContextSlot::SetBuilt(Result<std::shared_ptr<const Context>> built) {
  if (!built.ok()) return built.error();
  return Set(std::move(built).value());
}

Result<Session> ContextSlot::NewSession(SessionOptions options) const {
  std::shared_ptr<const Context> context = Get();
  if (!context) {
    return Error{"ERR_INVALID_ARG_VALUE", "ContextSlot holds no context", std::nullopt, false};
  }
  return Session::Create(std::move(context), std::move(options));
}

}  // namespace sansio_tls
