#!/usr/bin/env bash
# The API reference from the public headers: ./bazelw run //docs:api
# (./bazelw installs doxygen). Writes docs/api/html/index.html; fails if Doxygen warns about
# a missing or unreadable file, and prints its other warnings.
set -euo pipefail
cd "${BUILD_WORKSPACE_DIRECTORY:-$(dirname "$0")/..}"
version=$(sed -n 's/^#define SANSIO_TLS_VERSION_STRING "\(.*\)"$/\1/p' core/version.h)
out=docs/api
rm -rf "$out"
mkdir -p "$out"
SANSIO_TLS_VERSION=$version SANSIO_TLS_APIDOCS_OUT=$out doxygen docs/Doxyfile
if grep -iE 'not (found|exist)|no such file|cannot (open|find)|could not (open|read)' "$out/warnings.log"; then
  echo "apidocs: Doxygen could not read a file (above)" >&2
  exit 1
fi
echo "apidocs: $(pwd)/$out/html/index.html ($(grep -c '' "$out/warnings.log") other warnings in $out/warnings.log)"
