import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadEdgeConfig } from './config.ts';

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
  });

  it('builds a whole config from the environment', () => {
    const config = loadEdgeConfig({
      env: {
        EDGE_PORT: '18080',
        EDGE_PROJECTS: JSON.stringify([project]),
        EDGE_IP_SALT: 'a-long-enough-salt',
        KAFKA_BROKERS: '127.0.0.1:1, 127.0.0.1:2',
        EDGE_SPOOL_DIR: '/tmp/s',
      },
    });
    expect(config.port).toBe(18080);
    expect(config.kafka.brokers).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
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
