#!/usr/bin/env bash
# `make saleor-env`: build the environment the Saleor tier (`make test-saleor`) runs in.
#
#   1. a Python 3.12 virtualenv ($SALEOR_VENV, default .saleor-venv) holding Saleor's locked
#      dependencies and Saleor itself, editable. Saleor 3.22+ locks with uv: `uv sync --frozen
#      --all-groups`; 3.20 and 3.21 lock with Poetry: poetry.lock's packages (every group, as
#      `poetry install` installs them) are written as pins by scripts/saleor_constraints.py and
#      installed exactly (`uv pip sync`), so both end with the same set a Saleor developer has;
#   2. Saleor's PostgreSQL role (saleor/saleor, superuser) and a template of Saleor's test
#      database, built once per Saleor version (~1,450 migrations, minutes), that
#      `make test-saleor` clones in a second;
#   3. this plugin, editable, with its saleor-test extra, under Saleor's pins (the checkout's own
#      lock, exported to $SALEOR_VENV/saleor-constraints*.txt) and constraints/tools.txt;
#      fails if any of Saleor's pins moved. The Stripe emulator is not installed here: it runs
#      from .venv-localstripe (`make localstripe`).
#
# Saleor comes from SALEOR_SRC (a checkout of saleor/saleor); without it, it is cloned at
# SALEOR_VERSION into .saleor-src/ (needs access to github.com). Nothing of Saleor is committed.
#
# Environment: PYTHON (a CPython 3.12), SALEOR_SRC, SALEOR_VERSION (default 3.23.28),
# SALEOR_VENV, UV (a uv executable; default: on PATH, else installed into .venv-uv),
# PGHOST/PGPORT (127.0.0.1/5432), PGADMIN (a PostgreSQL superuser that may create roles,
# default postgres; PGPASSWORD if it needs one), SALEOR_DB_TEMPLATE (template database name),
# SALEOR_DB_REBUILD=1 (rebuild the template), SALEOR_DB_BUILD_TEST (the Saleor test run once
# to build the database).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
say() { echo "saleor-env: $*"; }
die() { echo "saleor-env: error: $*" >&2; exit 1; }

SALEOR_VERSION=${SALEOR_VERSION:-3.23.28}
SALEOR_VENV=$(realpath -m "${SALEOR_VENV:-.saleor-venv}")
PYTHON=${PYTHON:-$(command -v python3.12 || true)}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGADMIN=${PGADMIN:-postgres}
SALEOR_DB_BUILD_TEST=${SALEOR_DB_BUILD_TEST:-saleor/site/tests/test_site_settings.py}
export PGHOST PGPORT

# --- interpreter --------------------------------------------------------------------------
[ -n "$PYTHON" ] || die "Python 3.12 not found: set PYTHON=/path/to/python3.12"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' \
  || die "$PYTHON is not Python 3.12 (Saleor 3.20-3.23 need exactly 3.12): set PYTHON=..."
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)')

# --- Saleor's source ----------------------------------------------------------------------
if [ -z "${SALEOR_SRC:-}" ]; then
  SALEOR_SRC=$REPO/.saleor-src/$SALEOR_VERSION
  if [ ! -d "$SALEOR_SRC" ]; then
    say "SALEOR_SRC not set: cloning saleor/saleor $SALEOR_VERSION into $SALEOR_SRC"
    mkdir -p "$(dirname "$SALEOR_SRC")"
    if ! git clone -q --depth 1 --branch "$SALEOR_VERSION" https://github.com/saleor/saleor "$SALEOR_SRC"; then
      rm -rf "$SALEOR_SRC"; rmdir "$(dirname "$SALEOR_SRC")" 2>/dev/null || true
      die "could not clone https://github.com/saleor/saleor at $SALEOR_VERSION (no network?).
  Check out Saleor yourself and pass it: make saleor-env SALEOR_SRC=/path/to/saleor"
    fi
  fi
fi
SALEOR_SRC=$(realpath "$SALEOR_SRC" 2>/dev/null) || die "SALEOR_SRC=${SALEOR_SRC} does not exist"
[ -f "$SALEOR_SRC/saleor/__init__.py" ] || die "$SALEOR_SRC is not a checkout of saleor/saleor"
case "$SALEOR_SRC/" in "$REPO"/.saleor-src/*) ;; "$REPO"/*)
  die "SALEOR_SRC=$SALEOR_SRC is inside this repository: put it outside (or under .saleor-src/)";;
esac
FOUND_VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$SALEOR_SRC/saleor/__init__.py")
say "Saleor $FOUND_VERSION from $SALEOR_SRC"
if [ -f "$SALEOR_SRC/uv.lock" ]; then LOCK=uv.lock
elif [ -f "$SALEOR_SRC/poetry.lock" ]; then LOCK=poetry.lock
else die "$SALEOR_SRC has neither uv.lock (Saleor 3.22+) nor poetry.lock (3.21 and older)"
fi

# --- uv -----------------------------------------------------------------------------------
UV=${UV:-$(command -v uv || true)}
if [ -z "$UV" ]; then
  UV=$REPO/.venv-uv/bin/uv
  if [ ! -x "$UV" ]; then
    say "uv not on PATH: installing it into .venv-uv (version from constraints/tools.txt)"
    "$PYTHON" -m venv "$REPO/.venv-uv"
    "$REPO/.venv-uv/bin/python" -m pip install -q -c constraints/tools.txt uv
  fi
fi
say "uv: $UV ($("$UV" --version))"

# --- 1. Saleor's locked dependencies and Saleor itself --------------------------------------
rm -f "$SALEOR_VENV/saleor-env.conf"  # written back only when everything below succeeded
say "installing Saleor's locked dependencies ($LOCK) into $SALEOR_VENV"
VPY=$SALEOR_VENV/bin/python
if [ "$LOCK" = uv.lock ]; then
  (cd "$SALEOR_SRC" && UV_PROJECT_ENVIRONMENT=$SALEOR_VENV "$UV" sync --frozen --all-groups \
    --python "$PYTHON" --no-python-downloads --quiet)
  # Saleor's pins as this checkout locks them, for this interpreter.
  "$PYTHON" scripts/saleor_constraints.py "$SALEOR_SRC" "$SALEOR_VENV/saleor-constraints" --uv "$UV"
else
  # No Poetry needed: the lock's exact versions, installed as they are (no resolution).
  [ -x "$VPY" ] || "$UV" venv --quiet --python "$PYTHON" --no-python-downloads "$SALEOR_VENV"
  "$PYTHON" scripts/saleor_constraints.py "$SALEOR_SRC" "$SALEOR_VENV/saleor-constraints" --uv "$UV"
  "$UV" pip sync --quiet --python "$VPY" "$SALEOR_VENV/saleor-constraints-dev.txt"
fi
site=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
rm -f "$site/saleor-src.pth"  # left by an earlier 3.21 in this venv
if "$PYTHON" -c 'import sys, tomllib
with open(sys.argv[1], "rb") as f: poetry = tomllib.load(f).get("tool", {}).get("poetry", {})
sys.exit(poetry.get("package-mode", True) is not False)' "$SALEOR_SRC/pyproject.toml"; then
  # Poetry's package-mode = false (3.21): Saleor is no package, it runs from its checkout.
  # The same as an editable install, without a build: the checkout on the venv's sys.path.
  echo "$SALEOR_SRC" > "$site/saleor-src.pth"
else
  "$UV" pip install --quiet --python "$VPY" --no-deps -e "$SALEOR_SRC"
fi
PINS=("$SALEOR_VENV/saleor-constraints-dev.txt")
# The committed copy of the same version's pins, when this is the tag it was taken from.
MINOR=${FOUND_VERSION%.*}
if grep -qsF "tag $FOUND_VERSION," "constraints/saleor-$MINOR-dev.txt"; then
  PINS+=("constraints/saleor-$MINOR.txt" "constraints/saleor-$MINOR-dev.txt")
  diff -q <(grep -v '^#' "constraints/saleor-$MINOR-dev.txt") \
          <(grep -v '^#' "$SALEOR_VENV/saleor-constraints-dev.txt") >/dev/null \
    || die "constraints/saleor-$MINOR-dev.txt differs from $SALEOR_SRC/$LOCK's export"
  say "constraints/saleor-$MINOR*.txt match this checkout's $LOCK"
fi
"$VPY" scripts/check_pins.py "${PINS[@]}"

# --- 2. PostgreSQL: Saleor's role and a template of its test database -----------------------
command -v psql >/dev/null || die "psql not found (PostgreSQL client): install it"
admin() { psql -v ON_ERROR_STOP=1 -X -q -h "$PGHOST" -p "$PGPORT" -U "$PGADMIN" -d postgres "$@"; }
admin -tAc 'select 1' >/dev/null \
  || die "cannot connect to PostgreSQL at $PGHOST:$PGPORT as $PGADMIN (set PGADMIN/PGPASSWORD)"
case $(admin -tAc "select rolsuper from pg_roles where rolname = 'saleor'") in
  t) ;;
  f) say "making role saleor a superuser"; admin -c 'ALTER ROLE saleor SUPERUSER LOGIN' ;;
  *) say "creating role saleor (superuser, password saleor): Saleor's test settings use it"
     admin -c "CREATE ROLE saleor SUPERUSER LOGIN PASSWORD 'saleor'" ;;
esac

SALEOR_DB_TEMPLATE=${SALEOR_DB_TEMPLATE:-slp_saleor_${FOUND_VERSION//[^0-9a-zA-Z]/_}}
db_exists() { [ "$(admin -tAc "select 1 from pg_database where datname = '$1'")" = 1 ]; }
if [ -n "${SALEOR_DB_REBUILD:-}" ] && db_exists "$SALEOR_DB_TEMPLATE"; then
  admin -c "DROP DATABASE \"$SALEOR_DB_TEMPLATE\""
fi
if db_exists "$SALEOR_DB_TEMPLATE"; then
  say "test database template $SALEOR_DB_TEMPLATE exists (SALEOR_DB_REBUILD=1 rebuilds it)"
else
  # Saleor alone (the plugin is not installed yet), so the template depends on Saleor's version
  # only; test-saleor applies the plugin's migrations to each clone.
  build=${SALEOR_DB_TEMPLATE}_build
  admin -c "DROP DATABASE IF EXISTS \"test_$build\""
  say "building Saleor's test database (all migrations, a few minutes) with $SALEOR_DB_BUILD_TEST"
  started=$SECONDS
  (cd "$SALEOR_SRC" && DATABASE_URL="postgres://saleor:saleor@$PGHOST:$PGPORT/$build" \
     "$VPY" -m pytest "$SALEOR_DB_BUILD_TEST" -n0 --reuse-db --create-db -p no:cacheprovider -q) \
    || say "(the test's own result does not matter; checking the database)"
  db_exists "test_$build" || die "the test run did not leave a database test_$build"
  admin -c "ALTER DATABASE \"test_$build\" RENAME TO \"$SALEOR_DB_TEMPLATE\""
  say "template $SALEOR_DB_TEMPLATE built in $((SECONDS - started)) s"
fi

# --- 3. this plugin and its saleor-test extra, under Saleor's pins ------------------------
CONSTRAINT_FLAGS=()
for f in "$SALEOR_VENV/saleor-constraints.txt" "$SALEOR_VENV/saleor-constraints-dev.txt" \
         constraints/tools.txt; do CONSTRAINT_FLAGS+=(-c "$f"); done
say "installing this plugin (editable) with its saleor-test extra"
"$UV" pip install --quiet --python "$VPY" "${CONSTRAINT_FLAGS[@]}" -e "$REPO[saleor-test]"
"$UV" pip check --python "$VPY"
"$VPY" scripts/check_pins.py --list-unpinned "${PINS[@]}" constraints/tools.txt

cat > "$SALEOR_VENV/saleor-env.conf" <<CONF
# written by scripts/saleor-env.sh; read by scripts/test-saleor.sh
SALEOR_SRC=$SALEOR_SRC
SALEOR_FOUND_VERSION=$FOUND_VERSION
SALEOR_DB_TEMPLATE=$SALEOR_DB_TEMPLATE
PLUGIN_REPO=$REPO
CONF
say "ready: Saleor $FOUND_VERSION in $SALEOR_VENV; run \`make test-saleor\`"
