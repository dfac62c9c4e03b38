/**
 * @module The one-machine process (`start.ts`) seen from outside, as the demo
 * and the end-to-end tests use it: find a running one through the
 * `run.json` it writes in its data directory, or start one as a child
 * process; ask it for a load; stop it (SIGTERM) or kill it (SIGKILL).
 * Nothing here imports start.ts: it is only ever run; run.json is read with
 * the schema it is written with (shared/config/data-dir.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type RunInfo, readRunFile, readRunInfo } from '../../shared/config/data-dir.ts';

export const START_SCRIPT = fileURLToPath(new URL('../../start.ts', import.meta.url));

// One schema for run.json, the one the process writes with (shared/config/data-dir.ts).
export { type RunInfo, readRunInfo };

export interface OneMachineProcess {
  run: RunInfo;
  child: ChildProcess;
  /** Where its stdout and stderr go (JSON log lines and the banner). */
  logFile: string;
  /** SIGTERM (a clean stop: the edge drains, a load in progress finishes); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no cleanup at all. */
  kill(): Promise<void>;
  /** Resolves with the exit code (null when a signal ended it) whenever the process ends. */
  exited: Promise<number | null>;
}

export interface StartOptions {
  dataDir: string;
  /** More command-line flags: --config, ports, --loader-cron off … */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Default `<dataDir>/logs/one-machine.log` (appended: a restart keeps the earlier lines). */
  logFile?: string;
  /** How long to wait for run.json (default 120 s: Hive's first session can be slow). */
  readyTimeoutMs?: number;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((done) => child.once('exit', (code) => done(code)));
}

/** Starts `node start.ts` on `dataDir` and waits until it has written its run.json. */
export async function startOneMachine(options: StartOptions): Promise<OneMachineProcess> {
  const dataDir = resolve(options.dataDir);
  const logFile = options.logFile ?? join(dataDir, 'logs', 'one-machine.log');
  await mkdir(join(logFile, '..'), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  await new Promise((ok) => log.once('open', ok));
  const child = spawn(process.execPath, [START_SCRIPT, '--data-dir', dataDir, ...(options.args ?? [])], {
    env: options.env ?? process.env,
    stdio: ['ignore', log, log],
  });
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  const failed = exited(child);
  let gone = false;
  void failed.then(() => {
    gone = true;
  });
  for (;;) {
    // Our child's file, even if it has died since writing it (a test may make it crash on purpose).
    const run = await readRunFile(dataDir);
    if (run && run.pid === child.pid) {
      return {
        run,
        child,
        logFile,
        async stop() {
          if (!gone) child.kill('SIGTERM');
          const code = await failed;
          log.end();
          return code;
        },
        async kill() {
          if (!gone) child.kill('SIGKILL');
          await failed;
          log.end();
        },
        exited: failed,
      };
    }
    if (gone || Date.now() > deadline) {
      if (!gone) child.kill('SIGKILL');
      await failed;
      log.end();
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n');
      throw new Error(
        `start.ts ${gone ? `exited (code ${child.exitCode})` : 'did not get ready in time'}; last lines of ${logFile}:\n${tail}`,
      );
    }
    await sleep(100);
  }
}

/** The loader's report of one run (loader/loader-state.ts RunResult, the fields the demo reads). */
export interface LoadResult {
  ok: boolean;
  events: number;
  duplicates: number;
  files: number;
  bytes: number;
  hours: string[];
  seconds: number;
  error?: string;
}

/** Runs a load now in the running process (waiting for a scheduled one first, if one is running). */
export async function requestLoad(run: RunInfo): Promise<LoadResult> {
  const response = await fetch(`${run.controlUrl}/v1/loader/run`, {
    method: 'POST',
    headers: { authorization: `Bearer ${run.controlToken}` },
  });
  const body = (await response.json()) as LoadResult | { error?: { code: string; message: string } };
  // A refused or failed request answers the error envelope; a load that ran but failed, ok: false.
  if (!response.ok || !('ok' in body) || !body.ok) {
    const reason = 'ok' in body ? body.error : body.error?.message;
    throw new Error(`the load failed (${response.status}): ${reason ?? 'no reason given'}`);
  }
  return body;
}
