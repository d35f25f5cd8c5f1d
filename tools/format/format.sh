#!/usr/bin/env bash
# tools/format/format.sh: format the tree's C++ with its .clang-format (clang-format 14, Debian's
# clang-format-14, installed by ./bazelw).
#   tools/format/format.sh          rewrite every file that differs
#   tools/format/format.sh --check  change nothing; list the files that differ and exit 1 if any
set -euo pipefail
cd "$(dirname "$0")/../.."

tool=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z $tool ]]; then
  echo "format: clang-format-14 is missing (./bazelw installs it)" >&2
  exit 2
fi

mapfile -t files < <(git ls-files '*.cc' '*.h' '*.hpp' '*.cpp' | grep -v '^tests/bogo/reference/')

if [[ ${1:-} == --check ]]; then
  bad=()
  for f in "${files[@]}"; do
    if ! "$tool" --dry-run -Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
  done
  if ((${#bad[@]})); then
    printf 'format: %s differs from .clang-format\n' "${bad[@]}" >&2
    echo "format: ${#bad[@]} of ${#files[@]} files differ; run tools/format/format.sh" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files follow .clang-format"
  exit 0
fi

"$tool" -i "${files[@]}"
