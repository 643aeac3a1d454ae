#!/usr/bin/env bash
# `make test-saleor`: run tests/saleor (its own pytest rootdir) in the environment
# `make saleor-env` built ($SALEOR_VENV, default .saleor-venv). Installs nothing.
#
# Each run gets a fresh copy of Saleor's test database, cloned from the template saleor-env
# built (a second), under a name derived from this checkout's path (SALEOR_TEST_DB overrides),
# so two checkouts on one PostgreSQL never share a database. Arguments go to pytest.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
die() { echo "test-saleor: error: $*" >&2; exit 1; }
SALEOR_VENV=$(realpath -m "${SALEOR_VENV:-.saleor-venv}")
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
export PGHOST PGPORT
LOCALSTRIPE=${LOCALSTRIPE:-$REPO/.venv-localstripe/bin/localstripe}
export LOCALSTRIPE
HOW="build it with: make saleor-env SALEOR_SRC=/path/to/saleor-checkout (see README, Tests)"

VPY=$SALEOR_VENV/bin/python
[ -x "$VPY" ] || die "no Saleor environment at $SALEOR_VENV: $HOW"
[ -f "$SALEOR_VENV/saleor-env.conf" ] \
  || die "$SALEOR_VENV was not built (or not completed) by make saleor-env: $HOW"
# shellcheck source=/dev/null
source "$SALEOR_VENV/saleor-env.conf"
[ "$PLUGIN_REPO" = "$REPO" ] \
  || die "$SALEOR_VENV holds the plugin from $PLUGIN_REPO, not $REPO: $HOW"
"$VPY" -c 'import saleor' 2>/dev/null || die "saleor is not importable in $SALEOR_VENV: $HOW"
plugin=$("$VPY" -c 'import saleor_license_plugin as p; print(p.__file__)' 2>/dev/null) \
  || die "the plugin is not installed in $SALEOR_VENV: $HOW"
case $plugin in "$REPO"/*) ;; *) die "$SALEOR_VENV imports the plugin from $plugin: $HOW";; esac
[ -x "$LOCALSTRIPE" ] || die "no Stripe emulator at $LOCALSTRIPE: run make localstripe"
command -v psql >/dev/null || die "psql not found (PostgreSQL client): install it"

saleor() { psql -v ON_ERROR_STOP=1 -X -q -h "$PGHOST" -p "$PGPORT" -U saleor -d postgres "$@"; }
export PGPASSWORD=${PGPASSWORD:-saleor}
saleor -tAc 'select 1' >/dev/null 2>&1 \
  || die "cannot connect to PostgreSQL at $PGHOST:$PGPORT as saleor/saleor: $HOW"
[ "$(saleor -tAc "select 1 from pg_database where datname = '$SALEOR_DB_TEMPLATE'")" = 1 ] \
  || die "Saleor's test database template $SALEOR_DB_TEMPLATE is missing: $HOW"

db=${SALEOR_TEST_DB:-slp_$(printf %s "$REPO" | md5sum | cut -c1-8)}
saleor -c "DROP DATABASE IF EXISTS \"test_$db\"" -c "CREATE DATABASE \"test_$db\" TEMPLATE \"$SALEOR_DB_TEMPLATE\""
echo "test-saleor: Saleor $SALEOR_FOUND_VERSION ($SALEOR_SRC), database test_$db from $SALEOR_DB_TEMPLATE"
cd tests/saleor
DATABASE_URL="postgres://saleor:saleor@$PGHOST:$PGPORT/$db" exec "$VPY" -m pytest -c pytest.ini "$@"
