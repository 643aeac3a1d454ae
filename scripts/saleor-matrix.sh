#!/usr/bin/env bash
# `make saleor-matrix SALEOR_SRCS="/path/to/saleor-3.20.119 /path/to/saleor-3.23.28 ..."`:
# the Saleor tier on several Saleor versions, one after another. For each checkout it builds
# (or refreshes) .saleor-venv-<version> with scripts/saleor-env.sh, runs scripts/test-saleor.sh
# there, and prints one Markdown row of the README's matrix per version (log files in
# $MATRIX_LOGS, default .saleor-matrix/). Exits non-zero if any version failed.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
[ $# -gt 0 ] || { echo "usage: $0 SALEOR_CHECKOUT..." >&2; exit 2; }
LOGS=${MATRIX_LOGS:-.saleor-matrix}
mkdir -p "$LOGS"
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!*.md' || echo "+changes")
rows=() status=0
for src in "$@"; do
  version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$src/saleor/__init__.py")
  [ -n "$version" ] || { echo "saleor-matrix: $src is not a Saleor checkout" >&2; exit 2; }
  export SALEOR_VENV=.saleor-venv-$version
  echo "saleor-matrix: Saleor $version ($src) in $SALEOR_VENV"
  if ! SALEOR_SRC=$src scripts/saleor-env.sh >"$LOGS/env-$version.log" 2>&1; then
    rows+=("| $version | environment failed: see $LOGS/env-$version.log | | | |")
    status=1; continue
  fi
  started=$SECONDS
  scripts/test-saleor.sh -q >"$LOGS/test-$version.log" 2>&1 || status=1
  took=$((SECONDS - started))
  # pytest's closing line, with or without -q's "=" frame: "58 passed, 1 failed in 9.87s"
  summary=$(grep -E '(passed|failed|error|no tests ran).* in [0-9.]+s' "$LOGS/test-$version.log" | tail -1)
  count() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE '^[0-9]+' || echo 0; }
  django=$("$SALEOR_VENV/bin/python" -c 'import django; print(django.__version__)')
  rows+=("| $version | $(count passed) | $(count failed) | $(count error) | ${took} s | $django |")
done
echo
echo "Measured $(date -u +%F) on commit $commit:"
echo
echo "| Saleor | passed | failed | errors | duration | Django |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $status
