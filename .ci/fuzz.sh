#!/usr/bin/env bash
# Schema-driven fuzzing: boot the real server (gunicorn + a throwaway PostgreSQL database) and run
# Schemathesis against its own OpenAPI document, authenticated as a freshly registered user.
#
#   bash .ci/fuzz.sh            # CI budget: few examples per operation, fixed seed
#   FUZZ_MAX_EXAMPLES=200 FUZZ_SEED=$RANDOM bash .ci/fuzz.sh   # what `make fuzz` does, longer
#   bash .ci/fuzz.sh --include-name "POST /api/login/"          # extra options go to schemathesis
#
# Every process it starts is stopped by PID and the database is dropped, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
PG_ADMIN_URL="${CI_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
PG_BASE_URL="${PG_ADMIN_URL%/*}"
DB="${FUZZ_DB_PREFIX:-fuzz}_$$_$(date +%s)"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-10}"
SEED="${FUZZ_SEED:-20240601}"
REPORT_DIR="${FUZZ_REPORT_DIR:-.ci/artifacts/schemathesis}"
WORK="$(mktemp -d)"
SERVER_PID=""

pg() {
  "$PY" - "$PG_ADMIN_URL" "$1" <<'PYEOF'
import sys
import psycopg
try:
    with psycopg.connect(sys.argv[1], connect_timeout=5, autocommit=True) as conn:
        conn.execute(sys.argv[2])
except psycopg.OperationalError as exc:
    sys.exit(f"FATAL: PostgreSQL is unreachable at {sys.argv[1]}: {exc}")
PYEOF
}

cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # gunicorn's graceful shutdown lets workers finish; a stuck one is killed after 15 s.
    for _ in $(seq 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -s "$WORK/server.log" ]]; then
    echo "--- last server log lines" >&2
    tail -n 40 "$WORK/server.log" >&2
  fi
  pg "DROP DATABASE IF EXISTS ${DB} WITH (FORCE)" || true
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT

# A free port in the range this project's tools use, so parallel runs do not collide.
PORT="${FUZZ_PORT:-$("$PY" - <<'PYEOF'
import socket
for port in range(18600, 18700):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
else:
    raise SystemExit("no free port in 18600-18699")
PYEOF
)}"
BASE="http://127.0.0.1:${PORT}"

pg "CREATE DATABASE ${DB}"

# Production-like: DEBUG off (no HTML errors, no tracebacks), a real secret, PostgreSQL.
export DATABASE_URL="${PG_BASE_URL}/${DB}"
export DEBUG=false
export SECRET_KEY="fuzz-$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')"
export ALLOWED_HOSTS=127.0.0.1
# Thousands of requests from one address would otherwise meet the rate limits, which have
# their own tests; long-lived tokens keep the run's token valid to the end.
export THROTTLING_ENABLED=false
export ACCESS_TOKEN_MINUTES=240
unset DJANGO_SETTINGS_MODULE

"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py seed_demo --users 5 --properties 30 --bookings 20 --seed 7 >/dev/null

.venv/bin/gunicorn config.wsgi:application --bind "127.0.0.1:${PORT}" --workers 2 \
  --timeout 30 --graceful-timeout 10 --error-logfile - >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 100); do
  if "$PY" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
    "${BASE}/api/health/" 2>/dev/null; then
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "FATAL: gunicorn exited at start-up" >&2; exit 1; }
  sleep 0.2
done

# The fuzzing user: its token pair goes to the hooks (auth for every request, fresh tokens for
# logout so it never revokes the one the rest of the run uses).
read -r FUZZ_ACCESS FUZZ_REFRESH < <("$PY" - "$BASE" <<'PYEOF'
import json, sys, urllib.request
body = json.dumps({"username": "fuzzer", "email": "fuzzer@example.com",
                   "password": "fuzz-password-123"}).encode()
request = urllib.request.Request(f"{sys.argv[1]}/api/register/", data=body,
                                 headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=10) as response:
    data = json.load(response)
print(data["token"], data["refresh"])
PYEOF
)
export FUZZ_BASE_URL="$BASE" FUZZ_ACCESS FUZZ_REFRESH
export SCHEMATHESIS_HOOKS=fuzz_hooks
export PYTHONPATH=".ci${PYTHONPATH:+:$PYTHONPATH}"

# Every check runs, positive_data_acceptance included; .ci/schemathesis.toml turns them all on
# and lists the few exceptions with their reasons (a --checks option here would override them).
# One worker: with two threads, Python 3.11's compiler intermittently fails inside Schemathesis
# ("SystemError: AST constructor recursion depth mismatch"), a crash of the tool, not the API.
echo "schemathesis: ${MAX_EXAMPLES} examples per operation, seed ${SEED}, ${BASE}"
.venv/bin/schemathesis --config-file .ci/schemathesis.toml run "${BASE}/api/schema/?format=json" \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers 1 \
  --request-timeout 15 --generation-database none \
  --report junit --report-dir "$REPORT_DIR" "$@"
