#!/usr/bin/env bash
# Checks (or with --fix, applies) .clang-format on every C++ source of the repository.
# Uses Debian's clang-format (deploy/scripts/setup.sh installs it). Exit 0 when formatted.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
mapfile -t files < <(git ls-files -- '*.cc' '*.h' 2>/dev/null || true)
if [ ${#files[@]} -eq 0 ]; then  # not a git checkout: every source below the product folders
  mapfile -t files < <(find clients forecasting services tests -name '*.cc' -o -name '*.h' | sort)
fi
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run -Werror "${files[@]}"
fi
