/**
 * @module `loader status`, read-only (it works while `npm start` runs): when
 * the data directory's run.json names a live one-machine process, its answer
 * (`GET /v1/loader/status` on the control port, which is what it would say
 * itself); otherwise the bus's offsets and the store's state objects, read
 * without opening the catalog, creating a directory or taking the load lock.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createEventBus, createObjectStore } from '../shared/adapters.ts';
import { ConfigError } from '../shared/config/config-error.ts';
import { readRunInfo } from '../shared/config/data-dir.ts';
import { BusError } from '../shared/errors.ts';
import { createLogger } from '../shared/logger.ts';
import { type LoaderConfig, settingsOf } from './config.ts';
import { summaryLine } from './progress.ts';
import { scaledOutTopics } from './scale-out/loader-passes.ts';
import type { SlotStatus } from './scale-out/slot-status.ts';
import { type LoaderStatus, loaderStatus } from './status.ts';

/** The data directory of a local log at <dataDir>/bus, the one-machine layout; undefined otherwise. */
function dataDirOfBus(config: LoaderConfig): string | undefined {
  return config.bus.kind === 'local' && basename(config.bus.dir) === 'bus'
    ? dirname(config.bus.dir)
    : undefined;
}

export async function readStatus(config: LoaderConfig): Promise<LoaderStatus> {
  const dataDir = dataDirOfBus(config);
  const running = dataDir ? await readRunInfo(dataDir) : null;
  if (running) {
    // The local log has one owner: ask it rather than open the log beside it.
    const response = await fetch(`${running.controlUrl}/v1/loader/status`, {
      headers: { authorization: `Bearer ${running.controlToken}` },
    });
    if (!response.ok) throw new Error(`the running process (pid ${running.pid}) answered ${response.status}`);
    return (await response.json()) as LoaderStatus;
  }
  if (config.bus.kind === 'local' && !existsSync(join(config.bus.dir, 'topics'))) {
    throw new ConfigError(
      `No local log at ${config.bus.dir}: nothing was ever produced there. Is the data directory right (the file's dataDir, or LOADER_BUS_DIR)?`,
    );
  }
  const logger = createLogger('loader', config.logLevel === 'info' ? 'warn' : config.logLevel);
  const bus = await createEventBus(config.bus, logger);
  try {
    // Scaled out: every slot's records, over the topics the loaders load.
    const topics = await scaledOutTopics(config, { logger });
    return await loaderStatus(
      { bus, store: createObjectStore(config.store), settings: settingsOf(config) },
      topics ? { topics } : {},
    );
  } catch (error) {
    if (error instanceof BusError && error.code === 'unknown_topic') {
      throw new ConfigError(
        `${error.message}: nothing was ever produced there. Is the topic right (the file's bus.topic, or LOADER_TOPIC)?`,
      );
    }
    throw error;
  } finally {
    await bus.close().catch(() => undefined);
  }
}

function lastRunLine(run: LoaderStatus['lastRun']): string {
  return run ? `${summaryLine(run)} at ${run.finishedAt}${run.error ? ` — ${run.error}` : ''}` : 'none';
}

function slotLines(slot: SlotStatus): string[] {
  const lock = slot.lock ? `${slot.lock.purpose} by ${slot.lock.owner} until ${slot.lock.expiresAt}` : 'free';
  return [
    `  slot ${slot.slot}: ${slot.lag} behind; lock ${lock}`,
    ...slot.topics.flatMap((t) => [
      `    ${t.topic}: committed ${t.committed ?? '-'} of ${t.high} (lag ${t.lag}); last hour ${t.lastHour ?? 'none'}`,
      `      last run: ${lastRunLine(t.lastRun)}`,
      ...(t.pendingRun
        ? [
            `      pending: ${t.pendingCommand ?? 'run'} ${t.pendingRun} did not finish; the slot's next load settles it`,
          ]
        : []),
    ]),
  ];
}

/** The status as a person reads it. */
export function statusLines(s: LoaderStatus): string[] {
  if (s.scaledOut) {
    const c = s.scaledOut.pendingCompaction;
    return [
      `topics ${s.topic} (scaled out), group ${s.group}: ${s.lag} messages behind`,
      ...s.scaledOut.slots.flatMap(slotLines),
      `last loaded hour: ${s.lastHour ?? 'none'}`,
      ...(c ? [`pending: compaction ${c} did not finish; the next compaction settles it`] : []),
    ];
  }
  return [
    `topic ${s.topic}, group ${s.group}: ${s.lag} messages behind`,
    ...s.partitions.map(
      (p) => `  partition ${p.partition}: committed ${p.committed ?? '-'} of ${p.high} (lag ${p.lag})`,
    ),
    `last loaded hour: ${s.lastHour ?? 'none'}`,
    `last run: ${lastRunLine(s.lastRun)}`,
    `lock: ${s.lock ? `${s.lock.purpose} by ${s.lock.owner} until ${s.lock.expiresAt}` : 'free'}`,
    ...(s.pendingRun
      ? [`pending: ${s.pendingCommand ?? 'run'} ${s.pendingRun} did not finish; the next load settles it`]
      : []),
  ];
}
