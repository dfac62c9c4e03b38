/**
 * Fault matrix, the fuzz scenario: seeded hostile events that the edge may
 * well accept (any Unicode including lone surrogates and NUL, numbers at the
 * limits, nesting up to the depth limit, odd property keys), posted through
 * the real edge between good ones, then loaded. Every good event, and every
 * hostile one the edge acknowledged, must be in Hive exactly once; the load
 * must not fail; and no request may get a 5xx.
 */
import type { ChildProcess } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../edge/limits.ts';
import { printServerLogsOnFailure } from '../infra/server-logs.ts';
import { readStackEnv } from '../infra/stack-env.ts';
import {
  Acks,
  compare,
  openPipeline,
  type Pipeline,
  postBatch,
  report,
  trackEvents,
} from './pipeline-fixture.ts';

printServerLogsOnFailure(['kafka', 's3', 'hive']);

const SEED = 1207;
const anyString = fc.string({ unit: 'binary', maxLength: 30 });
const oddKey = fc.oneof(
  anyString,
  fc.constantFrom('', ' ', '__proto__', 'constructor', 'a.b', '$set', '\u0000', '\udbff', 'k'.repeat(300)),
);
const limitNumber = fc.constantFrom(
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  1e308,
  -0,
  0.1,
);
const leaf = fc.oneof(anyString, limitNumber, fc.boolean(), fc.constant(null));

/** A value nested `depth` levels deep (objects or arrays), holding `value` at the bottom. */
function nested(depth: number, value: unknown, arrays: boolean): unknown {
  let v = value;
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { d: v };
  return v;
}

// The event is level 1 and `properties` level 2 (edge/README.md): up to maxDepth - 2 more levels fit.
const deepest = DEFAULT_LIMITS.maxDepth - 2;

const hostileEvent = fc
  .record({
    event: anyString,
    key: oddKey,
    value: leaf,
    depth: fc.integer({ min: 0, max: deepest }),
    arrays: fc.boolean(),
    traitKey: oddKey,
    title: anyString,
  })
  .map(({ event, key, value, depth, arrays, traitKey, title }) => ({
    type: 'track',
    event: event === '' ? 'x' : event,
    anonymousId: `hostile-visitor-${title.length}`,
    properties: { [key]: value, deep: nested(depth, value, arrays) },
    context: { page: { title, path: `/${title}` }, traits: { [traitKey]: value } },
  }));

describe('fault matrix: hostile events through the edge', () => {
  let p: Pipeline;
  let edge: ChildProcess;

  beforeAll(async () => {
    p = await openPipeline(readStackEnv(), { label: 'hostile' });
    edge = await p.startEdge();
  }, 120_000);
  afterAll(async () => {
    edge?.kill('SIGKILL');
    await p?.close();
  });

  it('loads every good event and every acknowledged hostile one, exactly once', async () => {
    const hostile = fc.sample(hostileEvent, { numRuns: 300, seed: SEED });
    const acks = new Acks();
    const good = new Acks();
    for (let i = 0; i < hostile.length; i += 10) {
      const goods = trackEvents('good', 10);
      const batch = [
        ...goods,
        ...hostile.slice(i, i + 10).map((e, j) => ({ ...e, messageId: `hostile-${i + j}` })),
      ];
      const status = await postBatch(p.edgeUrl, batch, acks);
      expect(status).toBe('200');
      for (const g of goods) if (acks.acked.has(g.messageId)) good.acked.add(g.messageId);
    }
    // Good events are never refused because of their neighbours.
    expect(good.acked.size).toBe(hostile.length);
    const hostileAcked = [...acks.acked].filter((id) => id.startsWith('hostile-')).length;
    expect(hostileAcked).toBeGreaterThan(hostile.length / 2);

    const run = await p.loader(['run']);
    expect(run.code, run.log).toBe(0);
    const row = report(
      compare(
        `hostile-but-accepted events between good ones (${hostileAcked} of ${hostile.length} hostile acknowledged)`,
        acks.acked,
        await p.warehouseCounts(),
      ),
    );
    expect(acks.serverErrors()).toEqual([]);
    expect(row).toMatchObject({ lost: 0, duplicated: 0 });
  }, 300_000);
});
