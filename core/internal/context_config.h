// ContextConfig: the flat view of a Context's options that the core reads, whichever role
// built it: the server's options plus the client's own few. Create copies a
// ServerContextOptions or ClientContextOptions into it (the other role's fields keep their
// defaults); field meanings are those structs' (core/context.h).
#ifndef SANSIO_TLS_CORE_INTERNAL_CONTEXT_CONFIG_H_
#define SANSIO_TLS_CORE_INTERNAL_CONTEXT_CONFIG_H_

#include "core/context.h"

namespace sansio_tls::internal {

struct ContextConfig : ServerContextOptions {
  Role role = Role::kClient;
  // The client's own options (ClientContextOptions); the server's are inherited.
  std::function<std::optional<PskIdentity>(std::string_view hint)> psk_client_callback;
  bool request_ocsp = false;
  bool require_ocsp = false;
  bool ech_grease = false;
};

// Overwrites and clears the private keys, passphrases and PKCS#12 data of |config| (its
// credentials, alternative and SNI credentials, and ECH private keys).
void WipeSecrets(Credentials& credentials);
void WipeSecrets(EchKey& key);
void WipeSecrets(ContextConfig& config);

// Copies every field |from| and |to| both have, by name: a role's options into a
// ContextConfig, or a ContextConfig back into a role's options.
template <class From, class To>
void CopySharedFields(const From& from, To& to) {
  // clang-format off
#define SANSIO_TLS_COPY_FIELD(f) \
  if constexpr (requires { from.f; to.f; }) to.f = from.f;
  // clang-format on
  SANSIO_TLS_COPY_FIELD(role)
  SANSIO_TLS_COPY_FIELD(credentials)
  SANSIO_TLS_COPY_FIELD(ca_pems)
  SANSIO_TLS_COPY_FIELD(crl_pems)
  SANSIO_TLS_COPY_FIELD(use_system_ca)
  SANSIO_TLS_COPY_FIELD(system_ca_file)
  SANSIO_TLS_COPY_FIELD(verify_callback)
  SANSIO_TLS_COPY_FIELD(ciphers)
  SANSIO_TLS_COPY_FIELD(honor_cipher_order)
  SANSIO_TLS_COPY_FIELD(certificate_compression)
  SANSIO_TLS_COPY_FIELD(ecdh_curve)
  SANSIO_TLS_COPY_FIELD(verify_algorithms)
  SANSIO_TLS_COPY_FIELD(signing_algorithms)
  SANSIO_TLS_COPY_FIELD(min_version)
  SANSIO_TLS_COPY_FIELD(max_version)
  SANSIO_TLS_COPY_FIELD(request_cert)
  SANSIO_TLS_COPY_FIELD(reject_unauthorized)
  SANSIO_TLS_COPY_FIELD(alternative_credentials)
  SANSIO_TLS_COPY_FIELD(sni_contexts)
  SANSIO_TLS_COPY_FIELD(sni_callback)
  SANSIO_TLS_COPY_FIELD(alpn_protocols)
  SANSIO_TLS_COPY_FIELD(alpn_callback)
  SANSIO_TLS_COPY_FIELD(npn_protocols)
  SANSIO_TLS_COPY_FIELD(psk_client_callback)
  SANSIO_TLS_COPY_FIELD(psk_server_callback)
  SANSIO_TLS_COPY_FIELD(psk_identity_hint)
  SANSIO_TLS_COPY_FIELD(session_timeout)
  SANSIO_TLS_COPY_FIELD(session_tickets)
  SANSIO_TLS_COPY_FIELD(ticket_keys)
  SANSIO_TLS_COPY_FIELD(session_cache)
  SANSIO_TLS_COPY_FIELD(session_cache_size)
  SANSIO_TLS_COPY_FIELD(early_data)
  SANSIO_TLS_COPY_FIELD(early_data_check)
  SANSIO_TLS_COPY_FIELD(key_update_after_bytes)
  SANSIO_TLS_COPY_FIELD(key_update_after_records)
  SANSIO_TLS_COPY_FIELD(key_log)
  SANSIO_TLS_COPY_FIELD(request_ocsp)
  SANSIO_TLS_COPY_FIELD(require_ocsp)
  SANSIO_TLS_COPY_FIELD(ech_keys)
  SANSIO_TLS_COPY_FIELD(ech_grease)
#undef SANSIO_TLS_COPY_FIELD
}

}  // namespace sansio_tls::internal

#endif  // SANSIO_TLS_CORE_INTERNAL_CONTEXT_CONFIG_H_
