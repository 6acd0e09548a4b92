#!/usr/bin/env bash
# One command for the browser journeys: build the frontend, start the test stack, run pytest, stop the stack.
#
#   e2e/run.sh                 # everything; extra arguments go to pytest (e.g. -k request_id -x)
#   E2E_KEEP_STACK=1 e2e/run.sh  # leave the stack up afterwards (stop: e2e/run.sh --down)
#   e2e/run.sh --down          # stop the test stack (by the runner's PID files)
#   E2E_FRONTEND=snapshot e2e/run.sh
#       build and serve a private copy of frontend/ (under <data>/e2e-frontend) instead of frontend/.next,
#       for a work tree shared with someone who may rebuild frontend/.next while the suite runs
#       (a `next build` replaces the chunks a running `next start` serves: every page then 404s).
#
# The test stack's data folder, database and Redis DB are TEST_STACK_ENV from the Makefile (read with
# make --eval, so they are defined in one place); its ports are free ones picked by the stack library
# (infra/local/stack.py --free-ports), written to <data>/stack.env. It is stopped on every exit path,
# by its PID files.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python

test_env=$(make -s --no-print-directory --eval 'e2e-print-test-env: ; @echo $(TEST_STACK_ENV)' e2e-print-test-env) || {
  echo "[e2e] could not read TEST_STACK_ENV from the Makefile" >&2; exit 2; }
for assignment in $test_env; do export "${assignment?}"; done
export PYTHONPATH=$ROOT NEXT_TELEMETRY_DISABLED=1
DATA=$STACK_DATA_DIR
FRONTEND_MODE=${E2E_FRONTEND:-tree}
SNAPSHOT=$DATA/e2e-frontend

log() { echo "[e2e] $*"; }

down() { "$PY" infra/local/stack.py down; }

if [ "${1:-}" = "--down" ]; then down; exit $?; fi

build_snapshot() {
  # frontend/ as it is now (without its build output), with node_modules hard-linked, built in place.
  mkdir -p "$SNAPSHOT"
  rsync -a --delete --exclude .next --exclude node_modules --exclude tsconfig.tsbuildinfo \
    --exclude .e2e-source-hash frontend/ "$SNAPSHOT/"
  if [ ! -d "$SNAPSHOT/node_modules" ] || [ frontend/package-lock.json -nt "$SNAPSHOT/node_modules/.package-lock.json" ]; then
    rm -rf "$SNAPSHOT/node_modules" && cp -al frontend/node_modules "$SNAPSHOT/node_modules"
  fi
  stamp=$(cd "$SNAPSHOT" && find . -path ./node_modules -prune -o -path ./.next -prune -o -name .e2e-source-hash -prune -o -type f -print0 \
          | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-40)
  if [ -f "$SNAPSHOT/.next/BUILD_ID" ] && [ "$(cat "$SNAPSHOT/.e2e-source-hash" 2>/dev/null)" = "$stamp" ]; then
    log "snapshot frontend build is current"
  else
    log "next build (snapshot of frontend/)"
    (cd "$SNAPSHOT" && npm run build --silent) || return 1
    echo "$stamp" > "$SNAPSHOT/.e2e-source-hash"
  fi
}

started=$(date +%s)
down >/dev/null 2>&1 || true   # leftovers of an interrupted run in this data folder only
if [ "${E2E_KEEP_STACK:-0}" != 1 ]; then trap 'down' EXIT; fi

if [ "$FRONTEND_MODE" = snapshot ]; then
  build_snapshot || exit 1
  "$PY" infra/local/stack.py up --profile fast --free-ports --frontend-dir "$SNAPSHOT" || exit 1
else
  make --no-print-directory build || exit 1
  "$PY" infra/local/stack.py up --profile fast --free-ports || exit 1
fi
log "stack up after $(( $(date +%s) - started ))s; running the journeys"

"$PY" -m pytest e2e "$@"
status=$?
log "done in $(( $(date +%s) - started ))s (pytest exit $status)"
exit $status
