#!/usr/bin/env bash
# Builds and runs this consumer workspace against the checkout two levels up, as another
# project would depend on sansio-tls. Exits non-zero on any failure. Used by .ci/run.
#   tests/consumer/run.sh [extra bazel flags]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"

# ./bazelw installs the Debian packages, then runs Bazel here (this workspace, its own
# output base and server).
bazel=("$root/bazelw")
status=0
"${bazel[@]}" test //... "$@" || status=$?

# The version the consumer sees is the one core/version.h defines.
if ((status == 0)); then
  want=$(sed -n 's/^#define SANSIO_TLS_VERSION_STRING "\(.*\)"$/\1/p' "$root/core/version.h")
  got=$("${bazel[@]}" run //:version "$@" 2>/dev/null)
  if [[ -z $want || $got != "$want" ]]; then
    echo "consumer: version '$got', core/version.h says '$want'" >&2
    status=1
  else
    echo "consumer: version $got"
  fi
fi

# This workspace's Bazel server is not needed afterwards.
"${bazel[@]}" shutdown
exit $status
