# Finds sansio-tls's dependencies and defines them as imported targets:
#   sansio_tls_deps::boringssl  BoringSSL's libssl + libcrypto and headers
#   sansio_tls_deps::asio       standalone Asio (headers; ASIO_STANDALONE)
#   sansio_tls_deps::libuv      libuv
#   sansio_tls_deps::brotli     brotli's encoder and decoder, and ZLIB::ZLIB (the core's
#                               certificate compression)
# Used by the build (CMakeLists.txt) and by the installed sansio_tlsConfig.cmake.
#
# BoringSSL: Debian's android-libboringssl-dev by default (headers in /usr/include/android,
# libraries in /usr/lib/x86_64-linux-gnu/android). Another one: SANSIO_TLS_BORINGSSL_ROOT
# (a prefix with include/openssl/base.h and lib/libssl, lib/libcrypto), or each of
# SANSIO_TLS_BORINGSSL_INCLUDE_DIR, SANSIO_TLS_BORINGSSL_SSL_LIBRARY,
# SANSIO_TLS_BORINGSSL_CRYPTO_LIBRARY. OpenSSL is never picked up: the headers must be
# BoringSSL's (openssl/base.h defining BORINGSSL_API_VERSION).

include_guard(GLOBAL)

set(SANSIO_TLS_BORINGSSL_ROOT "" CACHE PATH
    "Prefix of the BoringSSL to use (empty: Debian's android-libboringssl-dev)")
if(SANSIO_TLS_BORINGSSL_ROOT)
  set(_sansio_tls_ssl_include_hints "${SANSIO_TLS_BORINGSSL_ROOT}/include")
  set(_sansio_tls_ssl_lib_hints "${SANSIO_TLS_BORINGSSL_ROOT}/lib"
      "${SANSIO_TLS_BORINGSSL_ROOT}/lib64" "${SANSIO_TLS_BORINGSSL_ROOT}")
else()
  set(_sansio_tls_ssl_include_hints "/usr/include/android")
  set(_sansio_tls_ssl_lib_hints "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/android"
      "/usr/lib/x86_64-linux-gnu/android")
endif()
find_path(SANSIO_TLS_BORINGSSL_INCLUDE_DIR openssl/base.h
          HINTS ${_sansio_tls_ssl_include_hints} NO_DEFAULT_PATH
          DOC "BoringSSL's include directory (holds openssl/base.h)")
find_library(SANSIO_TLS_BORINGSSL_SSL_LIBRARY ssl
             HINTS ${_sansio_tls_ssl_lib_hints} NO_DEFAULT_PATH DOC "BoringSSL's libssl")
find_library(SANSIO_TLS_BORINGSSL_CRYPTO_LIBRARY crypto
             HINTS ${_sansio_tls_ssl_lib_hints} NO_DEFAULT_PATH DOC "BoringSSL's libcrypto")
if(NOT SANSIO_TLS_BORINGSSL_INCLUDE_DIR OR NOT SANSIO_TLS_BORINGSSL_SSL_LIBRARY
   OR NOT SANSIO_TLS_BORINGSSL_CRYPTO_LIBRARY)
  message(FATAL_ERROR
    "sansio-tls: BoringSSL not found (searched ${_sansio_tls_ssl_include_hints} and "
    "${_sansio_tls_ssl_lib_hints}). Install Debian's android-libboringssl-dev, or set "
    "SANSIO_TLS_BORINGSSL_ROOT, or SANSIO_TLS_BORINGSSL_INCLUDE_DIR, "
    "SANSIO_TLS_BORINGSSL_SSL_LIBRARY and SANSIO_TLS_BORINGSSL_CRYPTO_LIBRARY.")
endif()
set(_sansio_tls_api "")
if(EXISTS "${SANSIO_TLS_BORINGSSL_INCLUDE_DIR}/openssl/base.h")
  file(STRINGS "${SANSIO_TLS_BORINGSSL_INCLUDE_DIR}/openssl/base.h" _sansio_tls_api
       REGEX "^#define BORINGSSL_API_VERSION")
endif()
if(NOT _sansio_tls_api)
  message(FATAL_ERROR "sansio-tls: ${SANSIO_TLS_BORINGSSL_INCLUDE_DIR}/openssl/base.h is not "
                      "BoringSSL's (no BORINGSSL_API_VERSION)")
endif()

if(NOT TARGET sansio_tls_deps::boringssl)
  add_library(sansio_tls_deps::boringssl INTERFACE IMPORTED)
  set_target_properties(sansio_tls_deps::boringssl PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${SANSIO_TLS_BORINGSSL_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES
      "${SANSIO_TLS_BORINGSSL_SSL_LIBRARY};${SANSIO_TLS_BORINGSSL_CRYPTO_LIBRARY}")
endif()

find_package(Threads REQUIRED)

# Certificate compression (RFC 8879) in the core: brotli (Debian's libbrotli-dev) and zlib.
find_package(ZLIB REQUIRED)
find_path(SANSIO_TLS_BROTLI_INCLUDE_DIR brotli/encode.h DOC "brotli's include directory")
find_library(SANSIO_TLS_BROTLIENC_LIBRARY brotlienc DOC "brotli's encoder")
find_library(SANSIO_TLS_BROTLIDEC_LIBRARY brotlidec DOC "brotli's decoder")
find_library(SANSIO_TLS_BROTLICOMMON_LIBRARY brotlicommon DOC "brotli's common library")
if(NOT SANSIO_TLS_BROTLI_INCLUDE_DIR OR NOT SANSIO_TLS_BROTLIENC_LIBRARY
   OR NOT SANSIO_TLS_BROTLIDEC_LIBRARY OR NOT SANSIO_TLS_BROTLICOMMON_LIBRARY)
  message(FATAL_ERROR "sansio-tls: brotli not found (Debian: libbrotli-dev)")
endif()
if(NOT TARGET sansio_tls_deps::brotli)
  add_library(sansio_tls_deps::brotli INTERFACE IMPORTED)
  set_target_properties(sansio_tls_deps::brotli PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${SANSIO_TLS_BROTLI_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES
      "${SANSIO_TLS_BROTLIENC_LIBRARY};${SANSIO_TLS_BROTLIDEC_LIBRARY};${SANSIO_TLS_BROTLICOMMON_LIBRARY}")
endif()

find_path(SANSIO_TLS_ASIO_INCLUDE_DIR asio.hpp DOC "standalone Asio's include directory")
if(SANSIO_TLS_ASIO_INCLUDE_DIR AND NOT TARGET sansio_tls_deps::asio)
  add_library(sansio_tls_deps::asio INTERFACE IMPORTED)
  set_target_properties(sansio_tls_deps::asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${SANSIO_TLS_ASIO_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "ASIO_STANDALONE;ASIO_NO_DEPRECATED"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()

find_path(SANSIO_TLS_LIBUV_INCLUDE_DIR uv.h DOC "libuv's include directory")
find_library(SANSIO_TLS_LIBUV_LIBRARY uv DOC "libuv")
if(SANSIO_TLS_LIBUV_INCLUDE_DIR AND SANSIO_TLS_LIBUV_LIBRARY AND NOT TARGET sansio_tls_deps::libuv)
  add_library(sansio_tls_deps::libuv INTERFACE IMPORTED)
  set_target_properties(sansio_tls_deps::libuv PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${SANSIO_TLS_LIBUV_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${SANSIO_TLS_LIBUV_LIBRARY}")
endif()
