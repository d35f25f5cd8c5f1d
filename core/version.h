// The library's version, defined here and nowhere else: the Bazel and CMake builds and every
// program's --version read it from this file.
#ifndef SANSIO_TLS_CORE_VERSION_H_
#define SANSIO_TLS_CORE_VERSION_H_

#define SANSIO_TLS_VERSION_MAJOR 0
#define SANSIO_TLS_VERSION_MINOR 9
#define SANSIO_TLS_VERSION_PATCH 0
#define SANSIO_TLS_VERSION_STRING "0.9.0"

namespace sansio_tls {

// kVersion is SANSIO_TLS_VERSION_STRING ("MAJOR.MINOR.PATCH").
inline constexpr char kVersion[] = SANSIO_TLS_VERSION_STRING;

}  // namespace sansio_tls

#endif  // SANSIO_TLS_CORE_VERSION_H_
