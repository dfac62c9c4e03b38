import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelineConfig } from '../shared/config/pipeline-config.ts';
import { InputError } from '../shared/errors.ts';
import { loadConfig, settingsOf } from './config.ts';
import { loaderConfigOfPipeline, loaderPipelineSchema } from './pipeline-config.ts';

describe('loader config', () => {
  it('defaults to the embedded adapters', async () => {
    const config = await loadConfig({ env: {} });
    expect(config).toMatchObject({
      bus: { kind: 'local' },
      store: { kind: 'dir' },
      catalog: { kind: 'duckdb' },
      topic: 'events',
    });
    expect(settingsOf(config).lockTtlMs).toBe(5 * 60_000);
  });

  it('reads its own file format, then lets the environment override it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loader-config-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(
        file,
        JSON.stringify({ topic: 'eu.events', maxRowsPerFile: 5000, duckdb: { threads: 1 } }),
      );
      const config = await loadConfig({
        file,
        env: {
          LOADER_GROUP: 'g1',
          LOADER_BUS: 'kafka',
          KAFKA_BROKERS: 'a:9092,b:9092',
          LOADER_STORE: 's3',
          S3_BUCKET: 'wh',
          S3_ENDPOINT: 'http://127.0.0.1:9000',
          LOADER_CATALOG: 'hive',
          HIVE_HOST: 'h',
          HIVE_PORT: '10000',
        },
      });
      expect(config).toMatchObject({
        topic: 'eu.events',
        group: 'g1',
        maxRowsPerFile: 5000,
        duckdb: { threads: 1, memoryLimit: '1GB' },
        bus: { kind: 'kafka', brokers: ['a:9092', 'b:9092'] },
        store: { kind: 's3', bucket: 'wh', forcePathStyle: true },
        catalog: { kind: 'hive', host: 'h', port: 10000, auth: 'NOSASL' },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads the pipeline file whole: bus, store, catalog and tables under its dataDir, not a fallback', () => {
    const pipeline = loadPipelineConfig(loaderPipelineSchema, {
      file: {
        dataDir: '/srv/beacon',
        bus: { kind: 'local', topic: 'eu.events' },
        tables: { events: 'ev' },
        loader: { maxRowsPerFile: 5000, duckdb: { threads: 1, memoryLimit: '1GB' } },
      },
      env: {},
    });
    expect(loaderConfigOfPipeline(pipeline)).toMatchObject({
      topic: 'eu.events',
      maxRowsPerFile: 5000,
      duckdb: { threads: 1, memoryLimit: '1GB' },
      tables: { events: 'ev', eventsHourly: 'events_hourly' },
      bus: { kind: 'local', dir: '/srv/beacon/bus' },
      store: { kind: 'dir', root: '/srv/beacon/warehouse' },
      catalog: { kind: 'duckdb', workDir: '/srv/beacon/tmp/duckdb' },
      tempDir: '/srv/beacon/tmp/loader',
    });
    // A key the pipeline file does not have is refused, naming it, at every level.
    expect(() =>
      loadPipelineConfig(loaderPipelineSchema, { file: { loader: { topic: 'x' } }, env: {} }),
    ).toThrow(/Unrecognized key: "topic"[\s\S]*loader/);
  });

  it('names every bad field', async () => {
    const bad = loadConfig({ env: { LOADER_STORE: 's3' }, overrides: { maxRowsPerFile: -1 } });
    await expect(bad).rejects.toBeInstanceOf(InputError);
    await expect(bad).rejects.toThrow(/maxRowsPerFile/);
    await expect(bad).rejects.toThrow(/store\.bucket/);
  });
});
