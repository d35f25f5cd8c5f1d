#!/usr/bin/env bash
# Builds the libraries with CMake, installs them into a temporary prefix, then builds the
# consumer programs (tests/consumer/*.cc) against the install tree twice, with find_package
# and with pkg-config, and runs them. Also checks that:
#  - CMake's source lists equal Bazel's (bazel query), so the two builds cannot drift;
#  - the version of find_package, of pkg-config and of the compiled headers is core/version.h's.
# Exits non-zero on any failure. Used by .ci/run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jobs=${SANSIO_TLS_CMAKE_JOBS:-2}
programs=(core_pair_test posix_echo_test asio_echo_test uv_echo_test)
fail() { echo "cmake_consumer: $*" >&2; exit 1; }

want=$(sed -n 's/^#define SANSIO_TLS_VERSION_STRING "\(.*\)"$/\1/p' "$root/core/version.h")
[[ -n $want ]] || fail "no SANSIO_TLS_VERSION_STRING in core/version.h"

echo "== configure, build and install the libraries"
cmake -S "$root" -B "$work/build" -DCMAKE_INSTALL_PREFIX="$work/prefix" -DSANSIO_TLS_WERROR=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/configure.log" || { cat "$work/configure.log"; fail "configure"; }
cmake --build "$work/build" -j "$jobs"
cmake --install "$work/build" >/dev/null
[[ -f $work/prefix/include/sansio_tls/core/session.h ]] || fail "core/session.h not installed"
[[ ! -e $work/prefix/include/sansio_tls/core/internal ]] || fail "core/internal/ headers were installed"

echo "== CMake's sources equal Bazel's"
# component -> the Bazel targets it is built from (CMakeLists.txt globs their folders).
declare -A bazel_targets=(
  [core]="//core:core //core/x509:x509 //core/negotiation:negotiation"
  [testing]="//core/testing:pair //core/testing:cert_factory //core/testing:key_signer"
  [transport_common]="//transports/common:common"
  [posix]="//transports/posix:posix_without_syscalls //transports/posix:sys_h //transports/posix:syscalls"
  [asio]="//transports/asio:asio"
  [uv]="//transports/uv:uv"
)
: >"$work/bazel_sources.txt"
for component in "${!bazel_targets[@]}"; do
  expr=""
  for t in ${bazel_targets[$component]}; do
    expr+="${expr:+ + }labels(srcs, $t) + labels(hdrs, $t)"
  done
  (cd "$root" && ./bazelw query --noshow_progress "$expr" 2>/dev/null) |
    sed -e 's|^//||' -e 's|:|/|' -e "s|^|$component |" >>"$work/bazel_sources.txt"
done
sort -o "$work/bazel_sources.txt" "$work/bazel_sources.txt"
sort "$work/build/sansio_tls_sources.txt" >"$work/cmake_sources.txt"
[[ -s $work/cmake_sources.txt ]] || fail "CMake listed no sources"
if ! diff -u "$work/bazel_sources.txt" "$work/cmake_sources.txt"; then
  fail "CMake's sources (+) differ from Bazel's (-): keep each library's files in its folder"
fi

echo "== consumer with find_package"
cmake -S "$here" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" -j "$jobs"
found=$(cat "$work/consumer/found_version.txt")
[[ $found == "$want" ]] || fail "find_package found version $found, core/version.h says $want"
got=$("$work/consumer/version")
[[ $got == "$want" ]] || fail "headers say version $got, core/version.h says $want"
for p in "${programs[@]}"; do timeout 60 "$work/consumer/$p"; done

echo "== consumer with pkg-config"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
pcver=$(pkg-config --modversion sansio_tls)
[[ $pcver == "$want" ]] || fail "pkg-config says version $pcver, core/version.h says $want"
declare -A modules=(
  [version]=sansio_tls_core [core_pair_test]=sansio_tls_testing
  [posix_echo_test]="sansio_tls_posix sansio_tls_testing"
  [asio_echo_test]="sansio_tls_asio sansio_tls_testing"
  [uv_echo_test]="sansio_tls_uv sansio_tls_testing"
)
# Every installed core header compiles on its own: none needs a header that was not installed.
for h in $(cd "$work/prefix/include" && find sansio_tls/core -name '*.h' ! -path '*/testing/*'); do
  # shellcheck disable=SC2046
  echo "#include \"$h\"" | c++ -std=c++20 -fsyntax-only $(pkg-config --cflags sansio_tls_core) -x c++ - ||
    fail "installed header $h does not compile alone"
done
mkdir -p "$work/pc"
for p in version "${programs[@]}"; do
  # shellcheck disable=SC2046,SC2086
  c++ -std=c++20 -Wall -Wextra -Wno-missing-field-initializers -Werror \
    -o "$work/pc/$p" "$here/../consumer/$p.cc" $(pkg-config --cflags --libs ${modules[$p]})
done
got=$("$work/pc/version")
[[ $got == "$want" ]] || fail "pkg-config build: headers say version $got, want $want"
for p in "${programs[@]}"; do timeout 60 "$work/pc/$p"; done
echo "cmake_consumer: ok (version $want)"
