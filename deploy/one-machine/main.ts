/**
 * @module `npm start`'s command line: parse the flags, resolve the
 * configuration (`--check` prints it and exits), start everything, print the
 * banner, and stop on SIGINT/SIGTERM (shared/runtime/signals.ts: the edge
 * stops taking requests and drains what it acknowledged into the bus, a load
 * in progress finishes, then everything closes; a second signal exits at once).
 */
import { Command } from 'commander';
import { InputError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { runEntry } from '../../shared/runtime/entry.ts';
import { stopOnSignals } from '../../shared/runtime/signals.ts';
import { hideSecrets } from '../../shared/secret-display.ts';
import { banner } from './banner.ts';
import { startAll } from './compose.ts';
import { type CliOptions, checkView, loadOneMachineConfig } from './config.ts';
import { plan } from './plan.ts';

function parseCli(argv: string[]): CliOptions {
  return new Command('start')
    .description(
      'Beacon-to-Hive on one machine: edge, scheduled loader, insights and dashboard in one process.',
    )
    .option(
      '-c, --config <file>',
      'JSON config file (default: $BEACON_CONFIG; see beacon.config.example.json)',
    )
    .option('--data-dir <dir>', 'where the bus, warehouse, spool and keys live (default ./data)')
    .option('--host <host>', 'address every server binds (default 127.0.0.1)')
    .option('--edge-port <port>', 'edge port (default 8080)', Number)
    .option('--insights-port <port>', 'insights API and dashboard port (default 8083)', Number)
    .option('--control-port <port>', 'loader control port (default 8084)', Number)
    .option(
      '--loader-cron <expr>',
      'when loads run, cron in UTC, or "off" (default "* * * * *": every minute)',
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace, silent')
    .option('--check', 'validate the configuration, print it (keys as fingerprints, secrets hidden) and exit')
    .parse(argv)
    .opts<CliOptions>();
}

async function main(argv: string[]): Promise<void> {
  const cli = parseCli(argv);
  const config = loadOneMachineConfig(cli, process.env);
  if (cli.check) {
    // Write and read keys as fingerprints, secrets as *** (shared/secret-display.ts).
    process.stdout.write(`${JSON.stringify(checkView(config), hideSecrets, 2)}\n`);
    return;
  }
  const log = createLogger('one-machine', config.logLevel);
  const p = await plan(config);
  const { run, stop } = await startAll(p, log);
  // Keys and tokens stay out of the logs: they are in the banner and in <dataDir>/run.json (owner-only).
  const { controlToken: _t, relaySecret: _s, project, ...visible } = run;
  log.info({ ...visible, project: project.id }, 'one-machine ready');
  process.stderr.write(banner(run, p.dataDir));
  await stopOnSignals(stop, {
    logger: log,
    stopping: 'stopping: draining the edge, letting a load in progress finish (Ctrl-C again: exit now)',
  }).catch(() => undefined); // logged, and the exit code set, by stopOnSignals
}

/** Mistakes the user fixes (configuration, a port in use): a message, not a stack trace. */
function userError(err: unknown): string | null {
  if (err instanceof InputError) return err.message; // a ConfigError among them
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES')
    return `${(err as Error).message}: pick another port (--edge-port, --insights-port, --control-port) or stop what holds it`;
  return null;
}

/** Runs `main`, turning a user's mistake into its message and exit code 2, anything else into a stack and 1. */
export function runMain(argv: string[]): void {
  runEntry('start', () => main(argv), userError);
}
