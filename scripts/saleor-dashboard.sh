#!/usr/bin/env bash
# `make saleor-dashboard SALEOR_DASHBOARD_SRC=/path/to/saleor-dashboard-checkout`: build the real
# Saleor Dashboard (the React app saleor/saleor-dashboard) from a checkout of one of its release
# tags, for the browser tier (tests/dashboard, `make test-dashboard`). Nothing of the Dashboard
# is kept in this repository; the build lands in the checkout's build/dashboard/.
#
# The Dashboard needs Node 24 and pnpm 11 (its package.json "engines"); they are taken from
# PATH, or from $DASHBOARD_NODE_BIN (a directory holding `node` and `pnpm`, e.g. the
# node_modules/.bin of `npm install node@24 pnpm@11`). Its own lockfile pins everything else
# (`pnpm install --frozen-lockfile`).
#
# API_URL is built in as a placeholder: the Dashboard reads it from index.html at start
# (its Docker image rewrites it there, nginx/replace-env-vars.sh), and the tier does the same
# when it serves the build, pointing it at the Saleor it starts. Mounted at /dashboard/ as in
# the Dockerfile.
set -euo pipefail

die() { echo "saleor-dashboard: error: $*" >&2; exit 1; }
SRC=${SALEOR_DASHBOARD_SRC:-${1:-}}
[ -n "$SRC" ] || die "give the checkout: SALEOR_DASHBOARD_SRC=/path/to/saleor-dashboard"
SRC=$(cd "$SRC" && pwd) || die "no such directory: $SRC"
[ -f "$SRC/package.json" ] && grep -q '"name": "saleor-dashboard"' "$SRC/package.json" \
  || die "$SRC is not a saleor-dashboard checkout (package.json)"
if [ -n "${DASHBOARD_NODE_BIN:-}" ]; then
  PATH=$(cd "$DASHBOARD_NODE_BIN" && pwd):$PATH
  export PATH
fi
command -v node >/dev/null || die "node not found (Node 24; or set DASHBOARD_NODE_BIN)"
command -v pnpm >/dev/null || die "pnpm not found (pnpm 11; or set DASHBOARD_NODE_BIN)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 24 ] || die "the Dashboard needs Node 24, found $(node --version)" \
  "(npm install node@24 pnpm@11 in a tools directory, then DASHBOARD_NODE_BIN=<it>/node_modules/.bin)"

version=$(node -p "require('$SRC/package.json').version")
echo "saleor-dashboard: building Saleor Dashboard $version from $SRC (node $(node --version), pnpm $(pnpm --version))"
cd "$SRC"
export CI=1
nice -n "${NICE:-15}" pnpm install --frozen-lockfile
nice -n "${NICE:-15}" pnpm run generate:main
export API_URL=http://saleor-api.invalid/graphql/  # replaced when served
export APP_MOUNT_URI=/dashboard/ STATIC_URL=/dashboard/ SKIP_SOURCEMAPS=true LOCALE_CODE=EN
export NODE_OPTIONS=${NODE_OPTIONS:---max-old-space-size=6144}
nice -n "${NICE:-15}" pnpm exec vite build
[ -f build/dashboard/index.html ] || die "the build left no build/dashboard/index.html"
grep -q "$API_URL" build/dashboard/index.html \
  || die "build/dashboard/index.html does not carry API_URL where the tier rewrites it"
echo "$version" > build/dashboard/.saleor-dashboard-version
echo "saleor-dashboard: built $SRC/build/dashboard (Saleor Dashboard $version)"
