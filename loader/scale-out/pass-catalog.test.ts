/**
 * The pass's catalog over the real DuckDB catalog: what reaches the catalog
 * is counted; a table ensured earlier in the pass is not sent again, while
 * a new pass, a failure and every partition are (the DuckDB catalog relists
 * an hour on each ADD: a second slot's files).
 */
import { describe, expect, it } from 'vitest';
import type { Metastore } from '../../shared/catalog/metastore.ts';
import { embeddedLoaderPerTest } from '../fixtures/embedded-ports.ts';
import { layoutOf } from '../loader-deps.ts';
import { partitionSpec, tableDefs } from '../steps/register.ts';
import { passCatalog } from './pass-catalog.ts';

const HOUR = Date.UTC(2026, 10, 25, 9) / 3_600_000;

/** The real catalog, with the statements that reach it counted. */
function counted(catalog: Metastore, calls: string[]): Metastore {
  return {
    ensureTable(t) {
      calls.push(`ensure ${t.name}`);
      return catalog.ensureTable(t);
    },
    addPartitions(t, specs) {
      calls.push(`add ${t} ${specs.map((s) => s.values.hour).join(',')}`);
      return catalog.addPartitions(t, specs);
    },
    setPartitionLocation: (t, s) => catalog.setPartitionLocation(t, s),
    listPartitions: (t) => catalog.listPartitions(t),
    close: () => catalog.close(),
  };
}

describe('passCatalog', () => {
  const ports = embeddedLoaderPerTest('pass-catalog');

  it('ensures each table once per pass, again in the next pass or after a failure; partitions every time', async () => {
    const { h, catalog } = ports();
    const calls: string[] = [];
    const real = counted(catalog, calls);
    const events = tableDefs(h.deps).events;
    const name = events.name;
    const spec = (hour: number) =>
      partitionSpec(h.deps, hour, layoutOf(h.deps).partitionPrefix('events', hour));

    const pass = passCatalog(real);
    await Promise.all([pass.ensureTable(events), pass.ensureTable(events)]);
    await pass.addPartitions(name, [spec(HOUR)]);
    await pass.addPartitions(name, [spec(HOUR), spec(HOUR + 1)]);
    await pass.addPartitions(name, [spec(HOUR + 1)]);
    expect(calls).toEqual([`ensure ${name}`, `add ${name} 09`, `add ${name} 09,10`, `add ${name} 10`]);
    expect(await catalog.listPartitions(name)).toHaveLength(2);

    // A table that cannot be made is not remembered as made: the next load tries again.
    const bad = { ...events, name: 'Not A Valid Name' };
    await expect(pass.ensureTable(bad)).rejects.toThrow();
    await expect(pass.ensureTable(bad)).rejects.toThrow();
    expect(calls.filter((c) => c === 'ensure Not A Valid Name')).toHaveLength(2);

    calls.length = 0;
    const next = passCatalog(real);
    await next.ensureTable(events);
    await next.addPartitions(name, [spec(HOUR)]);
    expect(calls).toEqual([`ensure ${name}`, `add ${name} 09`]);
  });
});
