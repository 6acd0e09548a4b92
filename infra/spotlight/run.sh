#!/usr/bin/env bash
# Start the Spotlight sidecar (local Sentry) on 127.0.0.1:${1:-8969}.
here="$(cd "$(dirname "$0")" && pwd)"
exec node --require "$here/loopback.cjs" "$here/node_modules/@spotlightjs/spotlight/dist/run.js" server -p "${1:-8969}"
