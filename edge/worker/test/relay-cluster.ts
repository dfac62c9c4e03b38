/**
 * @module The real Node edge relays the Worker tests forward to (Node side,
 * for global-setup.ts): one `startEdge` per region, each over its own local
 * log bus in a temporary directory, so the HMAC check and the relay route
 * are the production ones and what a relay accepted can be read back from
 * its bus. An observer server answers GET /events/<region> with that bus's
 * events, because the tests run in workerd and cannot open the bus.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { EventBus } from '../../../shared/bus/bus.ts';
import { openLocalLogBus } from '../../../shared/bus/local-log/local-log-bus.ts';
import { parseEdgeConfig } from '../../config.ts';
import { type EdgeHandle, startEdge } from '../../node.ts';
import { readTopic } from '../../testing/read-topic.ts';
import { type RelayCluster, TEST_IP_SALT, TEST_PROJECT, TEST_RELAY_SECRET } from './relay-fixture.ts';

const TOPIC = 'events';
/**
 * A relay that is down: the discard port, where nothing listens. A free high
 * port would do until a parallel test happened to bind it; no test binds a
 * port below 1024.
 */
const DEAD_RELAY = 'http://127.0.0.1:9';
const REGIONS = ['eu', 'us'] as const;

export interface RunningCluster {
  cluster: RelayCluster;
  stop(): Promise<void>;
}

/** A loopback port below 32768 that was free a moment ago (docs/operations.md, "Traps": the kernel hands out client ports above). */
async function freeLoopbackPort(taken: Set<number>): Promise<number> {
  // Start somewhere that depends on the process, so parallel runs rarely collide.
  for (let port = 26_000 + (process.pid % 200) * 20; port < 32_768; port++) {
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port below 32768');
}

export async function startRelayCluster(): Promise<RunningCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'beacon-worker-relays-'));
  const taken = new Set<number>();
  const logger = pino({ level: process.env.RELAY_LOG_LEVEL ?? 'silent' });
  const buses = new Map<string, EventBus>();
  const edges: EdgeHandle[] = [];
  const relays: Record<string, string> = {};
  for (const region of REGIONS) {
    const bus = await openLocalLogBus({ dir: join(dir, region, 'bus'), fsync: 'never' });
    buses.set(region, bus);
    const config = parseEdgeConfig({
      host: '127.0.0.1',
      port: await freeLoopbackPort(taken),
      projects: [TEST_PROJECT],
      ipSalt: TEST_IP_SALT,
      relaySecret: TEST_RELAY_SECRET,
      // The bus is passed in, so no brokers: only the topic the relay writes.
      kafka: { topic: TOPIC, partitions: 1 },
      spool: { dir: join(dir, region, 'spool') },
      shutdownGraceMs: 2000,
    });
    const edge = await startEdge(config, { bus, logger: logger.child({ region }) });
    edges.push(edge);
    relays[region] = edge.url;
  }

  const observer = createServer((req, res) => {
    const region = /^\/events\/([a-z]+)$/.exec(req.url ?? '')?.[1];
    const bus = region === undefined ? undefined : buses.get(region);
    if (req.method !== 'GET' || !bus) {
      res.writeHead(404).end();
      return;
    }
    readTopic(bus, TOPIC).then(
      (messages) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(messages.map((m) => m.event)));
      },
      (err: unknown) => {
        res.writeHead(500).end(String(err));
      },
    );
  });
  await listen(observer, await freeLoopbackPort(taken));

  return {
    cluster: {
      relays: { eu: relays.eu!, us: relays.us! },
      deadRelay: DEAD_RELAY,
      observer: `http://127.0.0.1:${(observer.address() as AddressInfo).port}`,
    },
    async stop() {
      await new Promise<void>((resolve) => observer.close(() => resolve()));
      for (const edge of edges) await edge.close();
      for (const bus of buses.values()) await bus.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}
