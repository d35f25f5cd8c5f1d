#include <openssl/ssl.h>
#include <gtest/gtest.h>
TEST(Smoke, Boring) { EXPECT_EQ(BORINGSSL_API_VERSION, 17); bssl::UniquePtr<SSL_CTX> c(SSL_CTX_new(TLS_method())); EXPECT_TRUE(c); }
