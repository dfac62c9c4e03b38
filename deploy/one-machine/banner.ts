/**
 * @module What `npm start` prints for the person at the terminal once every
 * server listens: where everything is, the demo project's keys (in full: you
 * need them to try it) and commands to try. On stderr: stdout stays pure JSON
 * log lines for whatever collects them.
 */
import type { RunInfo } from '../../shared/config/data-dir.ts';

export function banner(run: RunInfo, dataDir: string): string {
  const { project } = run;
  const day = 86_400_000;
  const from = new Date(Date.now() - 7 * day).toISOString().slice(0, 10);
  const to = new Date(Date.now() + day).toISOString().slice(0, 10);
  const schedule = run.loaderCron === 'off' ? 'only when asked' : `on the schedule "${run.loaderCron}" (UTC)`;
  return `
Beacon-to-Hive is running on one machine (${run.adapters.bus} bus, ${run.adapters.store} store, ${run.adapters.catalog} catalog; data in ${dataDir})

  Edge (collect)   ${run.edgeUrl}/v1/batch         tracker script: ${run.edgeUrl}/t.js
  Dashboard        ${run.insightsUrl}/             paste the read key when it asks
  Insights API     ${run.insightsUrl}/v1/insights/summary?from=${from}&to=${to}
  Loader           loads ${schedule}; control ${run.controlUrl}

  Project "${project.id}"   write key ${project.writeKey}
                   read key  ${project.readKey}

Send an event:
  curl -u '${project.writeKey}:' -H 'content-type: application/json' \\
    -d '{"type":"track","event":"Hello","anonymousId":"me","properties":{"from":"curl"}}' ${run.edgeUrl}/v1/track

Load it now instead of waiting for the schedule, then ask the API (curl's user agent is a bot's,
and answers leave bots out unless asked with bots=include):
  curl -X POST -H 'authorization: Bearer ${run.controlToken}' ${run.controlUrl}/v1/loader/run
  curl -H 'authorization: Bearer ${project.readKey}' '${run.insightsUrl}/v1/insights/top?from=${from}&to=${to}&dimension=event&bots=include'

Fill it with a few days of demo traffic: npm run demo        Stop: Ctrl-C
`;
}
