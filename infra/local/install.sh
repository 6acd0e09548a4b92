#!/usr/bin/env bash
# Install what `make up` and `make test` need and is missing: Debian packages, the Python venv,
# and the npm packages. Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."

APT_PACKAGES=(prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postgres-exporter
              prometheus-redis-exporter chromium redis-server
              postgresql postgresql-client wrk docker-compose nodejs npm lnav haproxy
              valgrind gcc libc6-dev)  # valgrind, gcc: the benchmarks' instruction counts (backend/bench/instruction_window.py)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  # nodejs/npm may come from elsewhere (nvm, NodeSource): a working command is enough
  case "$pkg" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
    postgresql) [ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && continue ;;
    redis-server) command -v redis-server >/dev/null && continue ;;
  esac
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install] Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "[install] Python venv (.venv)"
  python3 -m venv .venv
fi
stamp=.venv/.requirements.stamp
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ backend/pyproject.toml -nt "$stamp" ]; then
  echo "[install] Python packages"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  touch "$stamp"
fi

export NEXT_TELEMETRY_DISABLED=1
for dir in infra/spotlight frontend; do
  [ -f "$dir/package-lock.json" ] || continue
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "[install] npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
