/**
 * @module What the test servers (Kafka, s3proxy, HiveServer2) share once their config is
 * written: launching the JVM until a real client gets an answer, a handle that stops, kills
 * and restarts it on the same data, and the `start`/`stop` CLI around them. Each server
 * module keeps only what is its own: config files, JVM arguments and the readiness probe.
 */
import { Command } from 'commander';
import {
  type JavaLaunch,
  killProcess,
  launchJava,
  type ReadinessWait,
  stopProcess,
  waitUntilReady,
} from './java-process.ts';

/** One run of a server's JVM. */
export interface ServerRun {
  pid: number;
  /** Milliseconds from spawn to the first answer to the probe (and `afterReady`). */
  startupMs: number;
}

export interface ServerLifecycle {
  /** The running JVM's pid (changes on restart). */
  readonly pid: number;
  /** Milliseconds from spawn to ready, for the last (re)start. */
  readonly startupMs: number;
  logFiles: readonly string[];
  /** SIGTERM (SIGKILL after a grace period); resolves when the JVM is gone. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would; resolves when the JVM is gone. */
  kill(): Promise<void>;
  /** Stops it and starts it again on the same data; resolves when ready. */
  restart(): Promise<void>;
}

/**
 * Spawns the JVM and waits until `ready.probe` answers, then runs `afterReady` (e.g. creating
 * buckets). A server that fails either is killed: it would hold its ports and locks.
 */
export async function launchServer(
  launch: JavaLaunch,
  ready: Omit<ReadinessWait, 'pid'>,
  afterReady?: () => Promise<void>,
): Promise<ServerRun> {
  const started = Date.now();
  const pid = await launchJava(launch);
  try {
    await waitUntilReady({ ...ready, pid });
    await afterReady?.();
  } catch (error) {
    await killProcess(pid);
    throw error;
  }
  return { pid, startupMs: Date.now() - started };
}

export interface ServerHandleSpec<Fields extends object> {
  /** The server's own fields (address, credentials), copied onto the handle. */
  fields: Fields;
  first: ServerRun;
  /** Starts the JVM again on the same data; used by restart. */
  relaunch: () => Promise<ServerRun>;
  stopGraceMs: number;
  logFiles: readonly string[];
}

/** A handle whose pid and startupMs follow restarts. */
export function serverHandle<Fields extends object>(
  spec: ServerHandleSpec<Fields>,
): Fields & ServerLifecycle {
  let current = spec.first;
  const lifecycle: ServerLifecycle = {
    get pid() {
      return current.pid;
    },
    get startupMs() {
      return current.startupMs;
    },
    logFiles: spec.logFiles,
    async stop() {
      await stopProcess(current.pid, spec.stopGraceMs);
    },
    async kill() {
      await killProcess(current.pid);
    },
    async restart() {
      await stopProcess(current.pid, spec.stopGraceMs);
      current = await spec.relaunch();
    },
  };
  // Assigning (not spreading) keeps the getters live.
  return Object.assign(lifecycle, spec.fields);
}

export interface ServerCli<StartOptions, Handle extends ServerRun> {
  /** The command name, e.g. `kafka`. */
  command: string;
  description: string;
  /** How logs name the server, e.g. `HiveServer2`. */
  label: string;
  /** Declares the start command's options (`--dir` is declared already). */
  startOptions: (start: Command) => Command;
  /** Starts the server from the parsed options. */
  start: (options: StartOptions & { dir: string }) => Promise<Handle>;
  /** Where clients reach it, for the start line. */
  address: (handle: Handle) => string;
  stop: (dir: string) => Promise<string>;
}

/** `node <server>.ts start --dir … | stop --dir …`: the servers' CLI for manual runs. */
export async function runServerCli<StartOptions, Handle extends ServerRun>(
  cli: ServerCli<StartOptions, Handle>,
): Promise<void> {
  const program = new Command(cli.command).description(cli.description);
  cli
    .startOptions(program.command('start'))
    .requiredOption('--dir <dir>', 'data directory (logs go to <dir>/logs)')
    .action(async (opts: StartOptions & { dir: string }) => {
      const handle = await cli.start(opts);
      console.log(
        `${cli.label} up at ${cli.address(handle)} (pid ${handle.pid}) in ${(handle.startupMs / 1000).toFixed(1)} s`,
      );
    });
  program
    .command('stop')
    .requiredOption('--dir <dir>', 'data directory given to start')
    .action(async (opts: { dir: string }) => {
      console.log(`${cli.label}: ${await cli.stop(opts.dir)}`);
    });
  await program.parseAsync();
}
