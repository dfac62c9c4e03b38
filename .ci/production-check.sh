#!/usr/bin/env bash
# Usage: bash .ci/env.sh bash .ci/production-check.sh
# Proves that every deployable starts from a production install: a copy of the
# source it runs (no tests, fixtures or test servers) with `npm ci --omit=dev`
# beside it, so a devDependency that production code imports fails here rather
# than at a deploy. Each entry's `--check` imports its whole static import
# graph, validates its configuration and exits; the modules an entry imports
# only on demand (each Kafka client, the loader's adapters, esbuild for /t.js)
# are loaded explicitly. 21-48 s on the 2-core machine (the more other work
# runs, the longer), with npm's cache warmed by the full `npm ci` before it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
started=$(date +%s)
work="$(mktemp -d "${TMPDIR:-/tmp}/b2h-production.XXXXXX")"
trap 'rm -rf "$work"' EXIT
app="$work/app"
mkdir -p "$app"

# Node resolves packages in every parent directory too: one there would hide a missing dependency.
dir="$work"
while :; do
  if [ -e "$dir/node_modules" ]; then
    echo "production check: $dir/node_modules would mask what the install lacks; remove it" >&2
    exit 1
  fi
  [ "$dir" = / ] && break
  dir="$(dirname "$dir")"
done

echo "-- copy: the deployables' sources, without tests, fixtures or test helpers"
(cd "$root" && git ls-files -z --cached --others --exclude-standard -- \
  package.json package-lock.json .ci/env.sh start.ts prod.example.json beacon.config.example.json deploy \
  edge loader insights shared \
  ':!:*.test.ts' ':!:**/fixtures/**' ':!:**/testing/**' ':!:edge/worker/test/**' |
  tar --null -T - -cf - | tar -C "$app" -xf -)

echo "-- npm ci --omit=dev"
(cd "$app" && npm ci --omit=dev --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)

cd "$app"
# Nothing from the caller's environment may change what a check resolves.
unset NODE_PATH
for name in $(env | grep -oE '^(BEACON|EDGE|LOADER|INSIGHTS|KAFKA|S3|HIVE)_[A-Z_]*' || true); do unset "$name"; done

check() {
  local what="$1"
  shift
  echo "-- $what"
  if ! out="$("$@" 2>&1)"; then
    printf '%s\n' "$out" >&2
    echo "production check failed: $what" >&2
    exit 1
  fi
}

check "npm start -- --check (embedded defaults)" npm start --silent -- --check
check "npm start -- --check --config prod.example.json (Kafka, S3, Hive)" \
  npm start --silent -- --check --config prod.example.json
for client in kafkajs platformatic; do
  check "npm run edge -- --check (standalone, kafka.client $client)" \
    env KAFKA_BROKERS=127.0.0.1:19092 EDGE_KAFKA_CLIENT="$client" EDGE_IP_SALT=production-check-salt \
    EDGE_SPOOL_DIR="$work/spool" EDGE_PROJECTS='[{"id":"check","writeKeys":["wk_production_check"]}]' \
    npm run --silent edge -- --check
done
check "npm run loader -- --check (defaults)" npm run --silent loader -- --check
check "npm run loader -- --check (Kafka, S3, Hive from the environment)" \
  env LOADER_BUS=kafka KAFKA_BROKERS=127.0.0.1:19092 LOADER_STORE=s3 S3_BUCKET=warehouse \
  S3_ENDPOINT=http://127.0.0.1:19000 LOADER_CATALOG=hive HIVE_HOST=127.0.0.1 HIVE_PORT=19100 \
  npm run --silent loader -- --check
cat >"$work/insights.json" <<'JSON'
{
  "projects": [{ "id": "check", "readKeys": ["rk_production_check"] }],
  "engine": { "kind": "hive", "host": "127.0.0.1", "port": 19100, "auth": "NOSASL" }
}
JSON
check "npm run insights -- --check" npm run --silent insights -- --check --config "$work/insights.json"
check "loaded on demand: both Kafka clients, the loader's adapters and scheduler, esbuild for /t.js" \
  bash .ci/env.sh node --input-type=module -e "
    const { createKafkaClientBus } = await import('./shared/bus/kafka-client-bus.ts');
    for (const client of ['kafkajs', 'platformatic'])
      await (await createKafkaClientBus({ brokers: ['127.0.0.1:1'], client })).close();
    await import('./loader/adapters.ts');
    await import('./loader/start.ts');
    const { buildTrackerScript } = await import('./edge/tracker/serve.ts');
    await buildTrackerScript();
  "
echo "production check passed in $(($(date +%s) - started))s"
