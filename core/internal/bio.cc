#include "core/internal/bio.h"

#include <openssl/bio.h>

#include <mutex>

namespace sansio_tls::internal {
namespace {

BioEndpoint* EndpointOf(BIO* bio) { return static_cast<BioEndpoint*>(BIO_get_data(bio)); }

int BioWrite(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  if (len <= 0) return 0;
  EndpointOf(bio)->WriteCiphertext({reinterpret_cast<const uint8_t*>(data), size_t(len)});
  return len;
}

int BioRead(BIO* bio, char* out, int len) {
  BIO_clear_retry_flags(bio);
  if (len <= 0) return 0;
  BioEndpoint* ep = EndpointOf(bio);
  size_t n = ep->ReadCiphertext({reinterpret_cast<uint8_t*>(out), size_t(len)});
  if (n > 0) return static_cast<int>(n);
  if (ep->AtEof()) return 0;  // EOF: BoringSSL reports SSL_ERROR_SYSCALL with ret 0
  BIO_set_retry_read(bio);
  return -1;
}

long BioCtrl(BIO*, int cmd, long, void*) {
  // BoringSSL flushes after each flight; our writes are already complete.
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int BioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* Method() {
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_TYPE_NONE, "sansio_tls session");
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_ctrl(m, BioCtrl);
    BIO_meth_set_create(m, BioCreate);
    return m;
  }();
  return method;
}

}  // namespace

BIO* NewEndpointBio(BioEndpoint* endpoint) {
  BIO* bio = BIO_new(Method());
  if (bio) BIO_set_data(bio, endpoint);
  return bio;
}

}  // namespace sansio_tls::internal
