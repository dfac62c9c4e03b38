import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busOf } from '../shared/config/pipeline-config.ts';
import {
  ConfigError,
  edgeConfigOfSection,
  edgeSectionSchema,
  loadEdgeConfig,
  parseEdgeConfig,
  projectsSectionSchema,
} from './config.ts';
import { startEdge } from './node.ts';
import { edgeBusOfPipeline, edgePipelineSchema } from './pipeline-config.ts';

const project = { id: 'p1', writeKeys: ['wk_p1_01234567'] };
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadEdgeConfig', () => {
  it('reads a file, its projects file, and fills the defaults', async () => {
    await writeFile(join(dir, 'projects.json'), JSON.stringify([project]));
    await writeFile(
      join(dir, 'edge.json'),
      JSON.stringify({
        projectsFile: 'projects.json',
        ipSalt: 'a-long-enough-salt',
        kafka: { brokers: ['127.0.0.1:9092'] },
        spool: { dir: '/tmp/spool' },
      }),
    );
    const config = loadEdgeConfig({ file: join(dir, 'edge.json'), env: {} });
    expect(config.projects[0]).toEqual({ ...project, readKeys: [], allowedOrigins: [] });
    expect(config.limits.maxEventBytes).toBe(32 * 1024);
    expect(config.limits.maxBatchBytes).toBe(500 * 1024);
    expect(config.kafka.topic).toBe('events');
    expect(config.sink.produceTimeoutMs).toBe(2000);
    expect(config.workers).toBe(1);
  });

  it('builds a whole config from the environment', () => {
    const config = loadEdgeConfig({
      env: {
        EDGE_PORT: '18080',
        EDGE_PROJECTS: JSON.stringify([project]),
        EDGE_IP_SALT: 'a-long-enough-salt',
        KAFKA_BROKERS: '127.0.0.1:1, 127.0.0.1:2',
        EDGE_SPOOL_DIR: '/tmp/s',
        EDGE_KAFKA_COMPRESSION: 'gzip',
        EDGE_WORKERS: '4',
      },
    });
    expect(config.port).toBe(18080);
    expect(config.workers).toBe(4);
    expect(config.kafka.brokers).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    expect(config.kafka.compression).toBe('gzip');
  });

  it('fails fast, naming every problem', () => {
    const attempt = () =>
      loadEdgeConfig({
        env: {
          EDGE_PROJECTS: JSON.stringify([project, { ...project, id: 'p2' }]),
          EDGE_IP_SALT: 'short',
        },
      });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/ipSalt must be at least 16/);
    expect(attempt).toThrow(/write key used twice/);
    expect(attempt).toThrow(/kafka/);
    expect(() => loadEdgeConfig({ env: { EDGE_PROJECTS: '[oops' } })).toThrow(
      /EDGE_PROJECTS is not valid JSON/,
    );
  });
});

describe('kafka.regions', () => {
  const env = {
    EDGE_PROJECTS: JSON.stringify([project]),
    EDGE_IP_SALT: 'a-long-enough-salt',
    EDGE_SPOOL_DIR: '/tmp/s',
  };
  const regions = [
    { name: 'eu', brokers: ['127.0.0.1:1'] },
    { name: 'us', brokers: ['127.0.0.1:2'] },
  ];

  it('takes an ordered list of regions instead of brokers (EDGE_REGIONS)', () => {
    const config = loadEdgeConfig({ env: { ...env, EDGE_REGIONS: JSON.stringify(regions) } });
    expect(config.kafka.regions).toEqual(regions);
    expect(config.kafka.brokers).toBeUndefined();
  });

  it('refuses both brokers and regions, neither, a region twice, and a bad name', () => {
    const both = () =>
      loadEdgeConfig({
        env: { ...env, KAFKA_BROKERS: '127.0.0.1:3', EDGE_REGIONS: JSON.stringify(regions) },
      });
    expect(both).toThrow(/kafka.brokers \(one cluster\) or kafka.regions/);
    expect(() => loadEdgeConfig({ env })).toThrow(/kafka.brokers \(one cluster\) or kafka.regions/);
    const twice = JSON.stringify([regions[0], regions[0]]);
    expect(() => loadEdgeConfig({ env: { ...env, EDGE_REGIONS: twice } })).toThrow(/region eu twice/);
    const bad = JSON.stringify([{ name: 'EU.west', brokers: ['127.0.0.1:1'] }]);
    expect(() => loadEdgeConfig({ env: { ...env, EDGE_REGIONS: bad } })).toThrow(
      /lower-case letters and digits/,
    );
  });

  it('refuses a sink deadline too short for one attempt per region', async () => {
    const config = parseEdgeConfig({
      projects: [project],
      ipSalt: 'a-long-enough-salt',
      spool: { dir },
      kafka: { regions, failover: { attemptTimeoutMs: 1500 } },
      sink: { produceTimeoutMs: 2000 },
    });
    await expect(startEdge(config)).rejects.toThrow(/sink.produceTimeoutMs \(2000\) must be at least/);
  });
});

describe('parseEdgeConfig', () => {
  const minimal = { projects: [project], ipSalt: 'a-long-enough-salt', spool: { dir: '/tmp/s' } };

  it('needs no kafka section (a bus passed to startEdge replaces it)', () => {
    const config = parseEdgeConfig(minimal);
    expect(config.kafka).toEqual({
      clientId: 'beacon-edge',
      client: 'platformatic',
      compression: 'lz4',
      topic: 'events',
      partitions: 6,
    });
  });

  it('refuses a key it does not know, naming it, at any depth', () => {
    const typo = (extra: object) => () => parseEdgeConfig({ ...minimal, ...extra });
    expect(typo({ limits: { maxEventByte: 1 } })).toThrow(/Unrecognized key: "maxEventByte"[\s\S]*limits/);
    expect(typo({ limits: { defaultRateLimit: { perSecond: 1, burst: 1, brust: 2 } } })).toThrow(/"brust"/);
    expect(typo({ sink: { maxInflight: 2 } })).toThrow(/"maxInflight"/);
    expect(typo({ kafka: { broker: ['k:9092'] } })).toThrow(/"broker"/);
    expect(typo({ projects: [{ ...project, allowedOrigin: ['x'] }] })).toThrow(/"allowedOrigin"/);
    expect(typo({ prot: 1 })).toThrow(/"prot"/);
  });
});

describe('startEdge', () => {
  it('refuses to start with neither a bus nor Kafka brokers', async () => {
    const config = parseEdgeConfig({ projects: [project], ipSalt: 'a-long-enough-salt', spool: { dir } });
    await expect(startEdge(config)).rejects.toThrow(/no bus: list Kafka brokers under "kafka.brokers"/);
  });
});

describe('the one-machine section', () => {
  const shared = {
    host: '127.0.0.1',
    topic: 'events',
    partitions: 3,
    spoolDir: '/tmp/spool',
    generated: { ipSalt: 'generated-salt-0123', relaySecret: 'generated-relay-secret-0123' },
  };
  const projects = projectsSectionSchema.parse([
    { id: 'site', name: 'Site', writeKeys: ['wk_site_0123'], readKeys: ['rk_site_0123456789ab'] },
  ]);

  it('builds the full config: generated secrets fill the gaps, no Kafka brokers', () => {
    const section = edgeSectionSchema.parse({ limits: { maxEventBytes: 1000 }, spoolMaxBytes: 4096 });
    const config = edgeConfigOfSection(section, { ...shared, projects });
    expect(config.port).toBe(8080);
    expect(config.ipSalt).toBe('generated-salt-0123');
    expect(config.relaySecret).toBe('generated-relay-secret-0123');
    expect(config.limits.maxEventBytes).toBe(1000);
    expect(config.kafka).toEqual({
      clientId: 'beacon-edge',
      client: 'platformatic',
      compression: 'lz4',
      topic: 'events',
      partitions: 3,
    });
    expect(config.spool).toMatchObject({ dir: '/tmp/spool', maxBytes: 4096 });
  });

  it('turns the relay off with false, and refuses a misspelt limit', () => {
    const off = edgeConfigOfSection(edgeSectionSchema.parse({ relaySecret: false }), { ...shared, projects });
    expect(off.relaySecret).toBeUndefined();
    const bad = edgeSectionSchema.safeParse({ limits: { maxEventByte: 1 } });
    expect(bad.error?.issues[0]).toMatchObject({ path: ['limits'], code: 'unrecognized_keys' });
  });

  it('refuses a write key used by two projects', () => {
    const twice = [...projects, { ...projects[0]!, id: 'other' }];
    expect(() => edgeConfigOfSection(edgeSectionSchema.parse({}), { ...shared, projects: twice })).toThrow(
      /write key used twice/,
    );
  });
});

describe('edgeBusOfPipeline', () => {
  const parse = (bus: unknown) => edgePipelineSchema.parse({ bus });

  it("gives the pipeline file's edge the standalone edge's producer (the one bench:edge measures)", () => {
    const config = parse({ kind: 'kafka', brokers: ['127.0.0.1:9092'] });
    expect(edgeBusOfPipeline(config)).toMatchObject({
      kind: 'kafka',
      client: 'platformatic',
      compression: 'lz4',
    });
    // The loader and insights read the same section with its own defaults: the client it names, or kafkajs.
    expect(busOf(config)).not.toHaveProperty('client');
  });

  it('keeps a client and compression the bus section names', () => {
    const config = parse({
      kind: 'kafka',
      brokers: ['127.0.0.1:9092'],
      client: 'kafkajs',
      compression: 'gzip',
    });
    expect(edgeBusOfPipeline(config)).toMatchObject({ client: 'kafkajs', compression: 'gzip' });
  });

  it('leaves the local log as it is', () => {
    expect(edgeBusOfPipeline(parse({ kind: 'local' }))).toMatchObject({ kind: 'local', fsync: 'always' });
  });
});
