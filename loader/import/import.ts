/**
 * @module `loader import FILE|PREFIX [--project ID]`: historical events from
 * NDJSON (an export, or our archive) into the hours of their own time,
 * through the shared load routine (load.ts) with the import's sources as the
 * bus (import-source.ts): the same mapping, dedup by messageId against what
 * is loaded (importing twice adds nothing), dead letters for lines that are
 * not events. Files go to each hour's current location named
 * `import-<source id>-<first line>.parquet`, so importing the same source
 * again overwrites rather than adds; then the hours are registered and their
 * rollups recomputed, as a run does. No offsets are committed. An import that
 * dies is undone by the next load (repair.ts): files deleted, rollups
 * recomputed; import again.
 */
import { CompactionQueue } from '../compaction/compaction-queue.ts';
import { hourLabel } from '../layout.ts';
import { load, recordedLoad } from '../load.ts';
import { type LoaderDeps, layoutOf } from '../loader-deps.ts';
import type { RunResult } from '../loader-state.ts';
import { ensureTables, registerHours } from '../steps/register.ts';
import { writeRollups } from '../steps/rollup.ts';
import { ImportBus, listSources, NO_TIME } from './import-source.ts';

export interface ImportOptions {
  /** A local file or directory, or an object-store prefix. */
  from: string;
  /** The project of events that carry none (an export's). */
  project?: string;
}

export async function importEvents(deps: LoaderDeps, options: ImportOptions): Promise<RunResult> {
  const sources = await listSources(deps.store, options.from);
  const bus = new ImportBus(sources, options.project, deps.bus);
  // The end of each source is not known before reading it: no progress bar.
  const { progress: _unknownTotal, ...rest } = deps;
  const source: LoaderDeps = { ...rest, bus };
  const layout = layoutOf(deps);
  deps.logger.info(
    { sources: sources.map((s, partition) => ({ partition, id: s.id, name: s.name })) },
    'import sources',
  );
  return recordedLoad(source, 'import', `import ${options.from}`, [], async ({ state, result }) => {
    const locate = state.eventsLocations();
    const id = (partition: number) => (sources[partition] as { id: string }).id;
    await load(source, state, result, {
      command: 'import',
      ranges: async () => bus.ranges(),
      names: {
        dataFile: (p, line) => `import-${id(p)}-${line}.parquet`,
        deadLetter: (p, line) => `${layout.prefix}_loader/dead-letter/import-${id(p)}-${line}.ndjson`,
      },
      refuse: (m) => (Number.isNaN(m.timestamp) ? NO_TIME : undefined),
      target: locate,
      locate,
      manifestExtras: async () => ({}),
      async finish({ duckdb, steps, hours }) {
        const sorted = [...hours].sort((a, b) => a - b);
        steps.enter('register');
        await ensureTables(source);
        await registerHours(source, 'events', sorted, locate);
        steps.enter('rollups');
        await writeRollups(source, duckdb, sorted, locate);
        // An import adds files to hours: they are compaction candidates like a run's.
        await new CompactionQueue(deps.store, layout, deps.settings.topic).add(hours);
        result.hours = sorted.map(hourLabel);
      },
    });
  });
}
