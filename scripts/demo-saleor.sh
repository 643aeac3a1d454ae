#!/usr/bin/env bash
# `make demo-saleor`: a running Saleor shop with the license plugin, in one command.
#
#   1. the Saleor environment (`make saleor-env`: SALEOR_SRC=/path/to/saleor, or cloned at
#      SALEOR_VERSION where the network allows), unless it is built already;
#   2. a database (DEMO_DB, default slp_demo_saleor) cloned from that environment's migrated
#      template, then `migrate` (applies whatever is newer), then scripts/demo_saleor/seed.py:
#      a channel "demo", the demo catalog of `make demo` as Saleor products with license
#      metadata, staff admin@example.com/admin, customer customer@example.com/customer, the
#      license plugin and the offline gateway activated;
#   3. Saleor under uvicorn (ASGI, as production serves it) on DEMO_PORT (default 8000) and a
#      Celery worker, both on Redis db DEMO_REDIS_DB (default 0); emails print on the console.
# Ctrl-C stops both. While it runs, `scripts/demo-saleor.sh pay <order number>` captures an
# offline order as staff would, and `scripts/demo-saleor.sh walkthrough` buys, pays and checks
# the key arrives, over HTTP (scripts/demo_saleor/walkthrough.py). DEMO_RESET=1 starts from a fresh database. Everything lives in .demo-saleor/.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
say() { echo "demo-saleor: $*"; }
die() { echo "demo-saleor: error: $*" >&2; exit 1; }

SALEOR_VENV=$(realpath -m "${SALEOR_VENV:-.saleor-venv}")
DEMO_DB=${DEMO_DB:-slp_demo_saleor}
DEMO_PORT=${DEMO_PORT:-8000}
DEMO_REDIS_DB=${DEMO_REDIS_DB:-0}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
DATA=$REPO/.demo-saleor
mkdir -p "$DATA"

# --- the environment and this demo's settings ----------------------------------------------
if [ -z "${1:-}" ] && [ ! -f "$SALEOR_VENV/saleor-env.conf" ]; then
  say "no Saleor environment yet: building it (make saleor-env)"
  scripts/saleor-env.sh
fi
[ -f "$SALEOR_VENV/saleor-env.conf" ] || die "no Saleor environment at $SALEOR_VENV"
# shellcheck source=/dev/null
source "$SALEOR_VENV/saleor-env.conf"
VPY=$SALEOR_VENV/bin/python
[ -f "$DATA/rsa.pem" ] || openssl genrsa -out "$DATA/rsa.pem" 2048 2>/dev/null
[ -f "$DATA/key-secret" ] || "$VPY" -c 'import secrets; print(secrets.token_urlsafe(48))' > "$DATA/key-secret"
export PGHOST PGPORT PGPASSWORD=${PGPASSWORD:-saleor}
export DJANGO_SETTINGS_MODULE=demo_saleor_settings PYTHONPATH=$REPO/scripts/demo_saleor
export DATABASE_URL="postgres://saleor:saleor@$PGHOST:$PGPORT/$DEMO_DB"
export CACHE_URL="redis://127.0.0.1:6379/$DEMO_REDIS_DB" CELERY_BROKER_URL="redis://127.0.0.1:6379/$DEMO_REDIS_DB"
export PUBLIC_URL="http://localhost:$DEMO_PORT" ALLOWED_HOSTS="localhost,127.0.0.1"
export DEFAULT_CHANNEL_SLUG=demo SECRET_KEY=demo-saleor-not-secret DEBUG=True
export SEND_USAGE_TELEMETRY=False
RSA_PRIVATE_KEY=$(cat "$DATA/rsa.pem"); export RSA_PRIVATE_KEY
DEMO_KEY_SECRET=$(cat "$DATA/key-secret"); export DEMO_KEY_SECRET

if [ "${1:-}" = walkthrough ]; then
  exec "$VPY" scripts/demo_saleor/walkthrough.py
fi
if [ "${1:-}" = pay ]; then
  [ -n "${2:-}" ] || die "usage: scripts/demo-saleor.sh pay <order number>"
  exec "$VPY" scripts/demo_saleor/seed.py pay "$2"
fi

# --- database ---------------------------------------------------------------------------------
psqls() { psql -v ON_ERROR_STOP=1 -X -q -U saleor -d postgres "$@"; }
exists=$(psqls -tAc "select 1 from pg_database where datname = '$DEMO_DB'")
if [ "${DEMO_RESET:-0}" = 1 ] || [ "$exists" != 1 ]; then
  say "database $DEMO_DB from template $SALEOR_DB_TEMPLATE"
  psqls -c "DROP DATABASE IF EXISTS \"$DEMO_DB\"" -c "CREATE DATABASE \"$DEMO_DB\" TEMPLATE \"$SALEOR_DB_TEMPLATE\""
fi
"$VPY" -m django migrate --no-input -v 0
"$VPY" scripts/demo_saleor/seed.py setup

# --- Saleor and a worker -----------------------------------------------------------------------
if curl -s -o /dev/null "http://127.0.0.1:$DEMO_PORT/"; then
  die "something already answers on port $DEMO_PORT (another demo?): stop it or set DEMO_PORT"
fi
pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM
"$SALEOR_VENV/bin/celery" -A saleor.celeryconf:app worker -l warning --concurrency 1 \
  >"$DATA/worker.log" 2>&1 &
pids+=($!)
"$SALEOR_VENV/bin/uvicorn" saleor.asgi:application --host 127.0.0.1 --port "$DEMO_PORT" \
  --no-proxy-headers --log-level warning >"$DATA/saleor.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -fs -o /dev/null -H 'Content-Type: application/json' \
    -d '{"query":"{ shop { name } }"}' "$PUBLIC_URL/graphql/" && break
  kill -0 "${pids[1]}" 2>/dev/null || { tail -20 "$DATA/saleor.log"; die "Saleor did not start"; }
  sleep 1
done
PLUGIN=$PUBLIC_URL/plugins/global/saleor_license_plugin
cat <<INFO

demo-saleor: Saleor $SALEOR_FOUND_VERSION with the license plugin is running.
  Saleor GraphQL (and its playground)  $PUBLIC_URL/graphql/
  License API (GraphiQL in a browser)  $PLUGIN/graphql/
  Reference portal                     $PLUGIN/portal/
  Dashboard app manifest               $PLUGIN/dashboard/manifest
  Staff     admin@example.com / admin        Customer  customer@example.com / customer
  Channel   demo (EUR); offline payment: "purchase order", reference required

  Buy a license in the portal as the customer and pay offline; then, as staff:
    scripts/demo-saleor.sh pay <order number>
  and the keys email prints in .demo-saleor/worker.log; the key shows under "My licenses".
  Logs: .demo-saleor/saleor.log, .demo-saleor/worker.log. Ctrl-C stops the shop.
INFO
wait "${pids[1]}"
