#!/usr/bin/env bash
# `npm test`: every vitest project, in two vitest processes side by side.
#
# Why two: vitest runs projects whose files may run side by side and projects
# whose files run one at a time (integration, regions: they share the real
# servers) as separate groups, one group after the other, so the tests that
# need no server (unit, worker, and the soak, which starts its own one-machine
# process on free ports) used to wait for the shared-server files, on a
# machine whose second core those files mostly leave idle. Here the
# server-free projects run in the background and their output is printed
# when they end (and kept in test-results/vitest-server-free.log).
#
# With arguments (`npm test -- <file or flag>`) this is a single `vitest run`.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then exec vitest run "$@"; fi

mkdir -p test-results
log=test-results/vitest-server-free.log
echo "[test] unit, worker and soak run in the background (output at the end; $log)"
vitest run --project unit --project worker --project soak >"$log" 2>&1 &
free=$!
trap 'kill "$free" 2>/dev/null' INT TERM

vitest run --project integration --project regions
servers=$?
wait "$free"
serverFree=$?

echo
echo "== unit, worker and soak ($log)"
cat "$log"
echo
echo "[test] shared-server projects: exit $servers; server-free projects: exit $serverFree"
[ "$servers" -eq 0 ] && [ "$serverFree" -eq 0 ]
