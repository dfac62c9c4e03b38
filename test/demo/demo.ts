/**
 * @module `npm run demo`: a few days of realistic traffic (traffic.ts) sent
 * through the real edge HTTP API, then loaded, so the dashboard has a story
 * to show. Against a running `npm start` (found through the run.json in its
 * data directory) it talks to that process; with none running it starts one
 * itself for the duration (same data directory, so `npm start` afterwards
 * shows the result).
 *
 * History (before the current hour) goes through the edge's signed relay so
 * it keeps its past receivedAt (send.ts says why); the current hour goes
 * through POST /v1/batch like any client. `--history batch` sends it all
 * through /v1/batch: then every event is received now and the dashboard shows
 * it in the current hour, whatever its event time.
 *
 *   npm run demo [-- --days 14 --sessions-per-day 250 --seed 1 --data-dir ./data]
 */
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import {
  type OneMachineProcess,
  type RunInfo,
  readRunInfo,
  requestLoad,
  startOneMachine,
} from './one-machine.ts';
import { type Progress, type SendReport, sendBatches, sendRelayed } from './send.ts';
import { DEMO_FUNNEL, type DemoSession, demoTraffic } from './traffic.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface DemoOptions {
  dataDir: string;
  config?: string;
  days: number;
  sessionsPerDay: number;
  seed: number;
  history: 'relay' | 'batch';
  load: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

const say = (line = '') => process.stdout.write(`${line}\n`);

function progressBar(total: number, label: string): { update: Progress; stop(): void } {
  if (!process.stdout.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new SingleBar({
    format: `${label.padEnd(28)} [{bar}] {value}/{total} events`,
    hideCursor: true,
  });
  bar.start(total, 0);
  return { update: (n) => bar.update(n), stop: () => bar.stop() };
}

/** Splits each session at `cutoffMs`: what happened before goes one way, the rest the other. */
function splitAt(sessions: readonly DemoSession[], cutoffMs: number): [DemoSession[], DemoSession[]] {
  const before: DemoSession[] = [];
  const after: DemoSession[] = [];
  for (const s of sessions) {
    const early = s.events.filter((e) => Date.parse(e.timestamp) < cutoffMs);
    const late = s.events.filter((e) => Date.parse(e.timestamp) >= cutoffMs);
    if (early.length > 0) before.push({ ...s, events: early });
    if (late.length > 0) after.push({ ...s, events: late });
  }
  return [before, after];
}

const count = (sessions: readonly DemoSession[]) => sessions.reduce((n, s) => n + s.events.length, 0);

export async function runDemo(options: DemoOptions): Promise<void> {
  const dataDir = resolve(options.dataDir);
  let started: OneMachineProcess | undefined;
  let run: RunInfo | null = await readRunInfo(dataDir);
  if (run) {
    say(`Found the running one-machine process (pid ${run.pid}) for ${dataDir}.`);
  } else {
    say(`No npm start runs on ${dataDir}: starting one for the demo (log: ${dataDir}/logs/one-machine.log)…`);
    started = await startOneMachine({
      dataDir,
      args: [...(options.config ? ['--config', options.config] : []), '--loader-cron', 'off'],
    });
    run = started.run;
  }
  try {
    const now = Date.now();
    const sessions = demoTraffic({
      seed: options.seed,
      endMs: now,
      days: options.days,
      sessionsPerDay: options.sessionsPerDay,
    });
    const relay = options.history === 'relay' && run.relaySecret !== null;
    const [history, live] = relay ? splitAt(sessions, Math.floor(now / HOUR_MS) * HOUR_MS) : [[], sessions];
    say(
      `Sending ${count(sessions)} events of ${sessions.length} sessions over ${options.days} days (seed ${options.seed}) to ${run.edgeUrl}`,
    );
    if (options.history === 'relay' && !relay)
      say('  (the edge has no relay secret: all of it goes through /v1/batch and lands in the current hour)');
    const target = { edgeUrl: run.edgeUrl, writeKey: run.project.writeKey, projectId: run.project.id };
    const reports: SendReport[] = [];
    if (history.length > 0) {
      const bar = progressBar(count(history), 'history via /v1/relay');
      reports.push(await sendRelayed({ ...target, relaySecret: run.relaySecret! }, history, bar.update));
      bar.stop();
    }
    const bar = progressBar(count(live), relay ? 'this hour via /v1/batch' : 'all via /v1/batch');
    reports.push(await sendBatches(target, live, bar.update));
    bar.stop();
    const accepted = reports.reduce((n, r) => n + r.accepted.length, 0);
    const rejected = reports.reduce((n, r) => n + r.rejected, 0);
    say(
      `Acknowledged ${accepted} events (${count(history)} with their past receivedAt through the relay, ` +
        `${count(live) - rejected} received now through /v1/batch)${rejected ? `, ${rejected} rejected` : ''}.`,
    );
    if (options.load) {
      say('Loading them into the warehouse…');
      const result = await requestLoad(run);
      say(
        `Loaded ${result.events} events (${result.duplicates} duplicates dropped) into ${result.hours.length} hours, ` +
          `${result.files} files, ${(result.bytes / 1e6).toFixed(1)} MB, in ${result.seconds.toFixed(1)} s.`,
      );
    }
    whereToLook(run, options, now, Boolean(started));
  } finally {
    if (started) {
      const code = await started.stop();
      say(`Stopped the process started for the demo (exit code ${code}).`);
    }
  }
}

function whereToLook(run: RunInfo, options: DemoOptions, now: number, standalone: boolean): void {
  const from = new Date(Math.floor(now / DAY_MS) * DAY_MS - options.days * DAY_MS).toISOString().slice(0, 10);
  const to = new Date(now).toISOString().slice(0, 10);
  const steps = DEMO_FUNNEL.map((s) => `step=${encodeURIComponent(s)}`).join('&');
  say(`
Where to look${standalone ? ' (start it first: npm start)' : ''}:
  Dashboard   ${run.insightsUrl}/#project=${run.project.id}&from=${from}&to=${to}
              read key ${run.project.readKey}   (paste it when the dashboard asks)
              funnel to try: ${DEMO_FUNNEL.join(', ')}
  API         curl -H 'authorization: Bearer ${run.project.readKey}' \\
                '${run.insightsUrl}/v1/insights/funnel?from=${from}&to=${to}T23:59Z&${steps}'
The dashboard's charts go by the hour an event was received (the warehouse's partitions);
${options.history === 'relay' ? 'the relayed history keeps its past hours.' : 'everything sent now is in the current hour.'}`);
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('demo')
    .description('Send a few days of realistic demo traffic through the edge, then load it.')
    .option(
      '--data-dir <dir>',
      'data directory of the one-machine process',
      process.env.BEACON_DATA_DIR ?? './data',
    )
    .option('-c, --config <file>', 'config for the process the demo starts when none runs')
    .option('--days <n>', 'days of history before today', positiveInt, 14)
    .option('--sessions-per-day <n>', 'sessions on an ordinary weekday', positiveInt, 250)
    .option('--seed <n>', 'random seed: the same seed gives the same traffic', positiveInt, 1)
    .option('--history <path>', 'relay (keeps past receivedAt) or batch (everything received now)', 'relay')
    .option('--no-load', 'do not run a load afterwards')
    .parse(argv);
  const options = program.opts<DemoOptions>();
  if (options.history !== 'relay' && options.history !== 'batch')
    program.error('--history must be relay or batch');
  await runDemo(options);
}

if (import.meta.main) {
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
