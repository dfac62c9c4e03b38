/**
 * @module A small hive-driver query function for tests and for the stack's readiness probe
 * (the product's catalog adapter is shared/catalog/hive/hive-catalog.ts; this stays test-only).
 *
 * hive-driver quirks handled here: connect and openSession hang forever when the
 * authentication does not match the server, so both run under a deadline; its own
 * waitUntilReady busy-polls, so we poll the status with a sleep; a failed statement's cause
 * is in the status's errorMessage, not in the thrown "Server-side error".
 */
import { setTimeout as sleep } from 'node:timers/promises';
import hive from 'hive-driver';
import {
  connectSession,
  FAILED_STATES,
  type HiveAuthSettings,
  OPERATION_STATE,
} from '../../shared/catalog/hive/hive-driver-protocol.ts';
import { withTimeout } from './with-timeout.ts';

export interface HiveConnection extends HiveAuthSettings {
  host: string;
  port: number;
}

export type HiveRow = Record<string, unknown>;

export interface HiveQueryOptions {
  /** Deadline for the statement (default 120 s). */
  timeoutMs?: number;
}

export interface HiveSession {
  /** Runs one statement; resolves with its rows ([] for DDL). */
  query(sql: string, options?: HiveQueryOptions): Promise<HiveRow[]>;
  close(): Promise<void>;
}

/** Opens a session (connect and openSession under `connectTimeoutMs`). */
export async function openHiveSession(
  connection: HiveConnection,
  connectTimeoutMs = 15_000,
): Promise<HiveSession> {
  const client = new hive.HiveClient(hive.thrift.TCLIService, hive.thrift.TCLIService_types);
  // A dropped connection is reported by the next call; an unhandled 'error' event would crash us.
  client.on('error', () => {});
  const closeClient = () => {
    try {
      client.close();
    } catch {
      // Nothing to close yet.
    }
  };
  const where = `${connection.host}:${connection.port}`;
  const session = await withTimeout(
    connectSession(client, connection),
    connectTimeoutMs,
    `hive-driver connect to ${where} (auth ${connection.auth})`,
    closeClient,
  ).catch((error: unknown) => {
    closeClient();
    throw error;
  });
  const utils = new hive.HiveUtils(hive.thrift.TCLIService_types);

  return {
    async query(sql, options = {}) {
      const timeoutMs = options.timeoutMs ?? 120_000;
      const deadline = Date.now() + timeoutMs;
      const operation = await session.executeStatement(sql, { runAsync: true });
      try {
        for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
          const status = await operation.status(false);
          const state = status.operationState ?? OPERATION_STATE.UKNOWN_STATE;
          if (state === OPERATION_STATE.FINISHED_STATE) break;
          const failure = FAILED_STATES.get(state);
          if (failure)
            throw new Error(`Hive statement ${failure}: ${status.errorMessage ?? '(no message)'}\n  ${sql}`);
          if (Date.now() > deadline) {
            await operation.cancel().catch(() => undefined);
            throw new Error(`Hive statement took over ${timeoutMs} ms\n  ${sql}`);
          }
          await sleep(delay);
        }
        await utils.fetchAll(operation);
        return (utils.getResult(operation).getValue() as HiveRow[] | null) ?? [];
      } finally {
        await operation.close().catch(() => undefined);
      }
    },
    async close() {
      await session.close().catch(() => undefined);
      closeClient();
    },
  };
}

/** One statement in a session of its own. */
export async function queryHive(
  connection: HiveConnection,
  sql: string,
  options: HiveQueryOptions = {},
): Promise<HiveRow[]> {
  const session = await openHiveSession(connection, Math.min(options.timeoutMs ?? 15_000, 15_000));
  try {
    return await session.query(sql, options);
  } finally {
    await session.close();
  }
}
