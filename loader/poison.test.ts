import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusMessage } from '../shared/bus/bus.ts';
import type { LocalLogBus } from '../shared/bus/local-log/local-log-bus.ts';
import type { EnrichedEvent } from '../shared/event.ts';
import { type EmbeddedLoader, embeddedLoader } from './fixtures/embedded-ports.ts';
import type { LoaderHarness } from './fixtures/loader-harness.ts';
import { syntheticEvents } from './fixtures/synthetic-events.ts';
import { runOnce } from './run-once.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 0);
const SEED = 20261207;

function nested(depth: number, leaf: unknown, array: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = array ? [v] : { k: v };
  return v;
}

/** Any string, lone surrogates and NUL included. */
const anyString = fc.string({ unit: 'binary', maxLength: 40 });
const anyJson = fc.jsonValue({ maxDepth: 4 });
const hostileValue = fc.oneof(
  anyString,
  anyJson,
  fc.constantFrom(
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER + 2,
    1e308,
    -0,
    '\u0000',
    '\udbff',
    '\udc00x\ud800',
  ),
);

/** Events with every required field, whose other fields hold anything: these must load. */
const hostileEvent = (base: EnrichedEvent) =>
  fc
    .record({
      event: anyString,
      key: anyString,
      value: hostileValue,
      deep: fc.integer({ min: 0, max: 3000 }),
      array: fc.boolean(),
      timestamp: fc.oneof(anyString, fc.constant(base.timestamp)),
    })
    .map(({ event, key, value, deep, array, timestamp }) => ({
      ...base,
      event,
      timestamp,
      properties: { [key]: value, nested: nested(deep, value, array) },
      context: { ...base.context, page: { path: event, title: key } },
    }));

/** Messages that are no event at all: these become dead letters. */
const junk = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  anyJson.map((v) => JSON.stringify(v) ?? 'null'),
  fc.constantFrom('', '{', '{"type":"track"}', '[1,2,3]', 'null', '{"messageId":"","projectId":"p"}'),
);

describe('a load whatever the bus holds', () => {
  let ports: EmbeddedLoader;
  let bus: LocalLogBus;
  let h: LoaderHarness;

  beforeAll(async () => {
    ports = await embeddedLoader('loader-poison');
    ({ bus, h } = ports);
  });
  afterAll(() => ports.close());

  it('loads every good and hostile-but-valid event, and dead-letters each non-event with its offset', async () => {
    const good = [...syntheticEvents(600, { seed: 61, startMs: T0, spanMs: 3_600_000 })];
    const hostile = fc
      .sample(
        fc.nat({ max: good.length - 1 }).chain((i) => hostileEvent(good[i] as EnrichedEvent)),
        {
          numRuns: 200,
          seed: SEED,
        },
      )
      .map((e, i) => ({ ...e, messageId: `hostile-${i}` }));
    const junkValues = fc.sample(junk, { numRuns: 100, seed: SEED });
    // A lone surrogate in an escape, exactly as the edge once accepted it (issue: one event stopped every load).
    const surrogate = { ...(good[0] as EnrichedEvent), messageId: 'lone-surrogate', event: '\udbff' };
    const messages: BusMessage[] = [];
    const asMessage = (e: EnrichedEvent): BusMessage => ({
      key: e.anonymousId ?? 'k',
      value: JSON.stringify(e),
      timestamp: Date.parse(e.receivedAt),
    });
    for (let i = 0; i < good.length; i++) {
      messages.push(asMessage(good[i] as EnrichedEvent));
      if (i < hostile.length) messages.push(asMessage(hostile[i] as EnrichedEvent));
      if (i < junkValues.length)
        messages.push({ key: 'junk', value: junkValues[i] as string | Buffer, timestamp: T0 });
    }
    messages.push(asMessage(surrogate));
    // Deeper than anything JSON.stringify can walk: written as text, it can only be a dead letter.
    const depth = 150_000;
    const tooDeep = JSON.stringify({
      ...(good[1] as EnrichedEvent),
      messageId: 'too-deep',
      properties: 0,
    }).replace('"properties":0', `"properties":${'{"k":'.repeat(depth)}1${'}'.repeat(depth)}`);
    messages.push({ key: 'deep', value: tooDeep, timestamp: T0 });
    await bus.produce(h.deps.settings.topic, messages);

    const run = await runOnce(h.deps);
    expect(run.ok).toBe(true);
    const [row] = await h.query(
      `SELECT count(*) AS n, count(*) FILTER (WHERE message_id LIKE 'hostile-%') AS hostile,
              count(*) FILTER (WHERE message_id = 'lone-surrogate' AND event = '\uFFFD') AS surrogate
       FROM ${h.deps.settings.tables.events}`,
    );
    // Every good event and the surrogate one load; a hostile event is a dead letter only when it
    // cannot be serialised at all (nesting deeper than JSON.stringify can walk).
    expect(Number(row?.surrogate)).toBe(1);
    expect(Number(row?.hostile) + run.malformed - junkValues.length - 1).toBe(hostile.length);
    expect(Number(row?.n)).toBe(good.length + 1 + Number(row?.hostile));
    expect(run.malformed).toBeGreaterThanOrEqual(junkValues.length + 1);

    const letters: { offset: number; reason: string; value: string }[] = [];
    for await (const o of h.deps.store.list(`${h.deps.settings.warehousePrefix}_loader/dead-letter/`)) {
      const body = new TextDecoder().decode((await h.deps.store.get(o.key)) ?? new Uint8Array());
      for (const line of body.trim().split('\n')) letters.push(JSON.parse(line));
    }
    expect(letters).toHaveLength(run.malformed);
    const deepLetter = letters.filter((l) => l.value.includes('"too-deep"'));
    expect(deepLetter).toHaveLength(1);
    expect(deepLetter[0]?.reason).toMatch(/cannot map|not JSON/);
    for (const l of letters) {
      expect(l.offset).toBeTypeOf('number');
      expect(l.reason).toMatch(
        /^(not JSON|not a JSON object|no messageId|no projectId|no type|cannot map: .+)$/,
      );
    }
  });
});
