import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BusError } from '../errors.ts';
import { createKafkaClientBus } from './kafka-client-bus.ts';
import { createPlatformaticKafkaBus, PlatformaticKafkaBus } from './platformatic-kafka-bus.ts';

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('PlatformaticKafkaBus without a broker', () => {
  it('fails fast with a retriable BusError that names the brokers', async () => {
    const broker = `127.0.0.1:${await closedPort()}`;
    const bus = createPlatformaticKafkaBus({ brokers: [broker], retries: 1, connectionTimeoutMs: 500 });
    const produce = bus.produce('events', [{ key: 'k', value: 'v' }]);
    await expect(produce).rejects.toBeInstanceOf(BusError);
    await expect(produce).rejects.toMatchObject({
      retriable: true,
      code: 'kafka_unavailable',
      message: expect.stringContaining(broker),
    });
    await expect(bus.watermarks('events')).rejects.toMatchObject({ code: 'kafka_unavailable' });
    await bus.close();
  });

  it('refuses bad configuration at construction', () => {
    expect(() => createPlatformaticKafkaBus({ brokers: [] })).toThrow();
  });

  it('is what createKafkaClientBus builds for client "platformatic", and kafkajs is the default', async () => {
    const chosen = createKafkaClientBus({ brokers: ['127.0.0.1:1'], client: 'platformatic' });
    const fallback = createKafkaClientBus({ brokers: ['127.0.0.1:1'] });
    expect(chosen).toBeInstanceOf(PlatformaticKafkaBus);
    expect(fallback).not.toBeInstanceOf(PlatformaticKafkaBus);
    await Promise.all([chosen.close(), fallback.close()]);
  });
});
