// Prints the library's version, as the headers the consumer compiled against define it.
#include "sansio_tls/core/version.h"

#include <cstdio>

int main() {
  std::printf("%s\n", sansio_tls::kVersion);
  return 0;
}
