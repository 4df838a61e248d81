#!/usr/bin/env bash
# make cluster-test: two gunicorn instances behind nginx on the local PostgreSQL and Redis
# (cluster/cluster_test.py does the work and cleans up). This wrapper installs nginx if needed
# and, should the driver itself die, stops what it left running and drops its database.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "== installing nginx (Debian package)"
  [ "$(id -u)" = 0 ] || { echo "FATAL: nginx is missing and installing it needs root" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Another apt run on the machine holds the dpkg lock for a while: wait for it, boundedly.
  apt-get install -y -qq -o DPkg::Lock::Timeout=300 nginx >/dev/null
fi
export NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

export CLUSTER_TMP="$(mktemp -d /tmp/cluster-test.XXXXXX)"
leftovers() {
  local rc=$?
  # Normally empty: the driver stops its children and removes this file itself.
  if [ -s "$CLUSTER_TMP/pids" ]; then
    while read -r pid; do
      kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null || true
    done <"$CLUSTER_TMP/pids"
  fi
  if [ -s "$CLUSTER_TMP/database" ]; then
    "$PY" - "${CLUSTER_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}" \
      "$(cat "$CLUSTER_TMP/database")" <<'PYEOF' || true
import sys
import psycopg
with psycopg.connect(sys.argv[1], connect_timeout=5, autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
PYEOF
  fi
  if [ "$rc" = 0 ]; then rm -rf "$CLUSTER_TMP"; else echo "cluster test logs: $CLUSTER_TMP" >&2; fi
}
trap leftovers EXIT

# The suite's cache-dependent tests (throttling, the cached count, the Redis backend's own) on
# the real Redis first, under their own key prefix.
echo "== cache tests on Redis"
REDIS_URL="${CLUSTER_REDIS_URL:-redis://127.0.0.1:6379/0}" .venv/bin/pytest -q -p no:cacheprovider \
  core/tests/test_cache.py core/tests/test_config_switch.py accounts properties

echo "== two instances behind nginx"
timeout --kill-after=10 600 "$PY" cluster/cluster_test.py
