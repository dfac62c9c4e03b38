/**
 * @module Runs a server's JVM in the background the way `exec java …` would: java itself is
 * the spawned process (no shell in between), so the pid file names java and a signal reaches
 * it; an orphaned java would keep Derby's or Kafka's lock. Output goes to a log file, the
 * process outlives the Node process that started it (the shared stack), and readiness is
 * decided by a caller's probe with a real client, never by a sleep.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from '../../shared/runtime/process-alive.ts';
import { formatLogTails } from './log-tail.ts';

const JDK17 = '/usr/lib/jvm/java-17-openjdk-amd64/bin/java';

/** The JDK 17 the servers are verified with, else JAVA_HOME's, else `java` on PATH. */
function javaBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (existsSync(JDK17)) return JDK17;
  if (env.JAVA_HOME && existsSync(`${env.JAVA_HOME}/bin/java`)) return `${env.JAVA_HOME}/bin/java`;
  return 'java';
}

/** Alive and not a zombie: the project's one check (shared/runtime/process-alive.ts). */
export { isProcessAlive };

/** Whether `pid` is alive and its command line contains `identity` (not a reused pid). */
function isOurProcess(pid: number, identity: string): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(identity);
  } catch {
    return false;
  }
}

export interface JavaLaunch {
  /** JVM options, main class and program arguments. */
  args: readonly string[];
  cwd: string;
  /** stdout and stderr of the JVM are appended here. */
  logFile: string;
  pidFile: string;
  /** A string in the command line that proves a pid is this server (e.g. its config path). */
  identity: string;
}

/** Spawns the JVM detached and records its pid; returns the pid. */
export async function launchJava(launch: JavaLaunch): Promise<number> {
  await mkdir(dirname(launch.logFile), { recursive: true });
  await mkdir(dirname(launch.pidFile), { recursive: true });
  await mkdir(launch.cwd, { recursive: true });
  const out = openSync(launch.logFile, 'a');
  try {
    const child = spawn(javaBinary(), launch.args, {
      cwd: launch.cwd,
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, TZ: 'UTC' },
    });
    const pid = child.pid;
    if (pid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new Error(`Could not start ${javaBinary()}: ${error.message}`);
    }
    // The server must outlive us (the shared stack); the 'exit' listener still lets Node
    // reap it if it dies while we run, so a killed private server leaves no zombie.
    child.on('exit', () => {});
    child.unref();
    await writeFile(launch.pidFile, `${pid}\n`);
    return pid;
  } finally {
    closeSync(out);
  }
}

/** Runs a short-lived java command (a tool, not a server) to completion; fails with its output. */
export function runJava(args: readonly string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(javaBinary(), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC' },
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new Error(`Could not run ${javaBinary()}: ${error.message}`)));
    child.on('exit', (code) => {
      appendFileSync(logFile, output);
      if (code === 0) resolve();
      else reject(new Error(`java ${args.join(' ')} failed with exit code ${code}:\n${output.slice(-4000)}`));
    });
  });
}

/** The pid in `pidFile` if that process is alive and is this server, else undefined. */
export async function readLivePid(pidFile: string, identity: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
  return Number.isFinite(pid) && isOurProcess(pid, identity) ? pid : undefined;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM, then SIGKILL when it has not exited after `graceMs`. Resolves once it is gone. */
export async function stopProcess(pid: number, graceMs: number): Promise<'stopped' | 'killed'> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'stopped';
  }
  if (await waitForExit(pid, graceMs)) return 'stopped';
  await killProcess(pid);
  return 'killed';
}

/** SIGKILL (a crash, for fault tests). Resolves once the process is gone. */
export async function killProcess(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  if (!(await waitForExit(pid, 10_000))) throw new Error(`pid ${pid} survived SIGKILL for 10 s`);
}

/** Stops the server named by a pid file (if it runs) and removes the pid file. */
export async function stopByPidFile(
  pidFile: string,
  identity: string,
  graceMs: number,
): Promise<'stopped' | 'killed' | 'not running'> {
  const pid = await readLivePid(pidFile, identity);
  const result = pid === undefined ? 'not running' : await stopProcess(pid, graceMs);
  await rm(pidFile, { force: true });
  return result;
}

export interface ReadinessWait {
  name: string;
  pid: number;
  /** Throws while the server is not ready; resolves once a real client got an answer. */
  probe: () => Promise<void>;
  timeoutMs: number;
  /** Logs whose tail explains a failure. */
  logFiles: readonly string[];
  intervalMs?: number;
}

/**
 * Polls `probe` until it succeeds. Fails early, with the log tails, when the process exits;
 * fails with the last probe error and the log tails on timeout.
 */
export async function waitUntilReady(wait: ReadinessWait): Promise<void> {
  const deadline = Date.now() + wait.timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (!isProcessAlive(wait.pid)) {
      throw new Error(
        `${wait.name} (pid ${wait.pid}) exited while starting\n${await formatLogTails(wait.logFiles)}`,
      );
    }
    try {
      await wait.probe();
      return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(
        `${wait.name} (pid ${wait.pid}) did not answer within ${wait.timeoutMs / 1000} s; last probe error: ${reason}\n` +
          (await formatLogTails(wait.logFiles)),
      );
    }
    await sleep(wait.intervalMs ?? 500);
  }
}
