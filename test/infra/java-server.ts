/**
 * @module The one definition of a test server that runs in a JVM (Kafka, s3proxy,
 * HiveServer2) and the one way to start, find, stop and drive it. A server module declares
 * only what is its own (a `JavaServerDefinition`: pom, main class, JVM options, the config
 * files it writes, its readiness probe, its log files, the fields of its handle); everything
 * they share lives here: the directory layout (`<dataDir>/conf` on the classpath, the pid
 * file in the data directory, logs in the log directory), fetching the jars, launching with
 * exec semantics until the probe answers, a handle that stops, kills and restarts on the same
 * data, and the `start`/`stop` CLI.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import {
  killProcess,
  launchJava,
  readLivePid,
  stopByPidFile,
  stopProcess,
  waitUntilReady,
} from './java-process.ts';
import { fetchJars } from './maven.ts';

/** What every server is started with; a server's own options extend it. */
export interface JavaServerOptions {
  port: number;
  /** Config (under conf/), the server's data and the pid file. */
  dataDir: string;
  /** The server's log files and the JVM's own output. */
  logDir: string;
  startTimeoutMs?: number;
  /** Passed to the jar fetch (defaults to BEACON_CACHE). */
  cache?: string;
}

/** The absolute directories of one server, handed to its definition. */
export interface ServerDirs {
  dataDir: string;
  logDir: string;
  /** `<dataDir>/conf`: config files, first on the classpath. */
  conf: string;
  /** The fetched jars. */
  lib: string;
}

export interface JavaServerDefinition<Options extends JavaServerOptions, Fields extends object> {
  /** How messages name it, e.g. `HiveServer2`. */
  label: string;
  /** The directory under test/infra whose pom.xml lists its jars. */
  pom: string;
  mainClass: string;
  /** File name of the pid file in the data directory. */
  pidFile: string;
  /** File name in the log directory that takes the JVM's stdout and stderr. */
  outputFile: string;
  /** File names in the log directory whose tails explain a failure, most useful first. */
  logFiles: readonly string[];
  /** SIGTERM to SIGKILL. */
  stopGraceMs: number;
  startTimeoutMs: number;
  readyIntervalMs?: number;
  /** JVM options (heap, system properties); headless and the classpath are added. */
  jvmArgs(options: Options, dirs: ServerDirs): readonly string[];
  /** Arguments after the main class. */
  programArgs?(options: Options, dirs: ServerDirs): readonly string[];
  /** Writes the config files (conf/ and the log directory exist) before the first start. */
  writeConfig(options: Options, dirs: ServerDirs): Promise<void>;
  /** Throws while the server is not ready; resolves once a real client got an answer. */
  ready(options: Options): Promise<void>;
  /** Runs once the probe answered, on every (re)start (e.g. creating buckets). */
  afterReady?(options: Options): Promise<void>;
  /** Where clients reach it, e.g. `127.0.0.1:19092`. */
  address(options: Options): string;
  /** The server's own fields on its handle (address, credentials). */
  fields(options: Options): Fields;
}

/** A running server: its own fields plus what every server can do. */
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

type AnyDefinition = JavaServerDefinition<never, object>;
type Stopped = 'stopped' | 'killed' | 'not running';

function confDir(dataDir: string): string {
  return join(resolve(dataDir), 'conf');
}

/** The log files of a server whose logs go to `logDir`, most useful first. */
export function javaServerLogFiles(definition: Pick<AnyDefinition, 'logFiles'>, logDir: string): string[] {
  return definition.logFiles.map((name) => join(resolve(logDir), name));
}

// The conf directory is on every server's command line (the classpath), so it proves a pid
// from the pid file is this server and not a process that reused the number.
export function runningJavaServerPid(
  definition: Pick<AnyDefinition, 'pidFile'>,
  dataDir: string,
): Promise<number | undefined> {
  return readLivePid(join(resolve(dataDir), definition.pidFile), confDir(dataDir));
}

/** Stops the server running from `dataDir` (by its pid file), if any. */
export function stopJavaServer(
  definition: Pick<AnyDefinition, 'pidFile' | 'stopGraceMs'>,
  dataDir: string,
): Promise<Stopped> {
  return stopByPidFile(join(resolve(dataDir), definition.pidFile), confDir(dataDir), definition.stopGraceMs);
}

interface ServerRun {
  pid: number;
  startupMs: number;
}

/**
 * Spawns the JVM and waits until the probe answers, then runs `afterReady`. A server that
 * fails either is killed: it would hold its ports and locks.
 */
async function launch<Options extends JavaServerOptions>(
  definition: JavaServerDefinition<Options, object>,
  options: Options,
  dirs: ServerDirs,
): Promise<ServerRun> {
  const started = Date.now();
  const pid = await launchJava({
    args: [
      '-Djava.awt.headless=true',
      ...definition.jvmArgs(options, dirs),
      '-cp',
      `${dirs.conf}:${dirs.lib}/*`,
      definition.mainClass,
      ...(definition.programArgs?.(options, dirs) ?? []),
    ],
    cwd: dirs.dataDir,
    logFile: join(dirs.logDir, definition.outputFile),
    pidFile: join(dirs.dataDir, definition.pidFile),
    identity: dirs.conf,
  });
  try {
    await waitUntilReady({
      name: `${definition.label} on ${definition.address(options)}`,
      pid,
      probe: () => definition.ready(options),
      timeoutMs: options.startTimeoutMs ?? definition.startTimeoutMs,
      logFiles: javaServerLogFiles(definition, dirs.logDir),
      ...(definition.readyIntervalMs === undefined ? {} : { intervalMs: definition.readyIntervalMs }),
    });
    await definition.afterReady?.(options);
  } catch (error) {
    await killProcess(pid);
    throw error;
  }
  return { pid, startupMs: Date.now() - started };
}

/**
 * Fetches the jars, writes the config and starts the server; resolves once it answers. A
 * server already running from the same data directory is refused (two would share its data).
 */
export async function startJavaServer<Options extends JavaServerOptions, Fields extends object>(
  definition: JavaServerDefinition<Options, Fields>,
  options: Options,
): Promise<Fields & ServerLifecycle> {
  if (await runningJavaServerPid(definition, options.dataDir)) {
    throw new Error(`${definition.label} already runs from ${options.dataDir}`);
  }
  const lib = await fetchJars(definition.pom, options.cache === undefined ? {} : { cache: options.cache });
  const dirs: ServerDirs = {
    dataDir: resolve(options.dataDir),
    logDir: resolve(options.logDir),
    conf: confDir(options.dataDir),
    lib,
  };
  await mkdir(dirs.conf, { recursive: true });
  await mkdir(dirs.logDir, { recursive: true });
  await definition.writeConfig(options, dirs);

  let current = await launch(definition, options, dirs);
  const lifecycle: ServerLifecycle = {
    get pid() {
      return current.pid;
    },
    get startupMs() {
      return current.startupMs;
    },
    logFiles: javaServerLogFiles(definition, dirs.logDir),
    async stop() {
      await stopProcess(current.pid, definition.stopGraceMs);
    },
    async kill() {
      await killProcess(current.pid);
    },
    async restart() {
      await stopProcess(current.pid, definition.stopGraceMs);
      current = await launch(definition, options, dirs);
    },
  };
  // Assigning (not spreading) keeps the getters live.
  return Object.assign(lifecycle, definition.fields(options));
}

export interface JavaServerCli<Options extends JavaServerOptions, CliOptions> {
  /** The command name, e.g. `kafka`. */
  command: string;
  description: string;
  /** Declares the start command's options (`--dir` is declared already). */
  startOptions: (start: Command) => Command;
  /** The server's options from the parsed ones; logs go to `<dir>/logs`. */
  options: (parsed: CliOptions & { dir: string }) => Options;
}

/** `node <server>.ts start --dir … | stop --dir …`: the servers' CLI for manual runs. */
export async function runJavaServerCli<Options extends JavaServerOptions, CliOptions>(
  definition: JavaServerDefinition<Options, object>,
  cli: JavaServerCli<Options, CliOptions>,
): Promise<void> {
  const program = new Command(cli.command).description(cli.description);
  cli
    .startOptions(program.command('start'))
    .requiredOption('--dir <dir>', 'data directory (logs go to <dir>/logs)')
    .action(async (parsed: CliOptions & { dir: string }) => {
      const options = cli.options(parsed);
      const handle = await startJavaServer(definition, options);
      console.log(
        `${definition.label} up at ${definition.address(options)} (pid ${handle.pid}) in ${(handle.startupMs / 1000).toFixed(1)} s`,
      );
    });
  program
    .command('stop')
    .requiredOption('--dir <dir>', 'data directory given to start')
    .action(async (parsed: { dir: string }) => {
      console.log(`${definition.label}: ${await stopJavaServer(definition, parsed.dir)}`);
    });
  await program.parseAsync();
}

/**
 * A log4j2 config for a server: INFO and above (or `extra` loggers' levels) to `file` in the
 * log directory (`${sys:<logDirProperty>}`), only ERROR to the console (the JVM's output file).
 */
export function log4j2FileConfig(
  logDirProperty: string,
  file: string,
  extra: Record<string, string> = {},
): string {
  const loggers = Object.entries(extra).flatMap(([name, level], i) => [
    `logger.l${i}.name = ${name}`,
    `logger.l${i}.level = ${level}`,
  ]);
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = \${sys:${logDirProperty}}/${file}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'appender.console.type = Console',
    'appender.console.name = STDOUT',
    'appender.console.layout.type = PatternLayout',
    'appender.console.layout.pattern = [%d] %p %m (%c)%n',
    'appender.console.filter.threshold.type = ThresholdFilter',
    'appender.console.filter.threshold.level = error',
    'rootLogger.level = info',
    'rootLogger.appenderRef.file.ref = FILE',
    'rootLogger.appenderRef.console.ref = STDOUT',
    ...loggers,
    '',
  ].join('\n');
}
