/**
 * @module One HiveServer2 connection with its session, through `hive-driver`.
 *
 * hive-driver never rejects a call whose connection died (thrift drops the
 * callbacks) and its connect/openSession hang forever when the authentication
 * does not match the server (NOSASL needs NoSaslAuthentication, NONE needs
 * PlainTcpAuthentication). So every call here races the connection's 'close'
 * and 'error' events and a deadline; a connection that lost such a race is
 * marked broken, and the pool replaces it.
 */
import hive from 'hive-driver';
import { CatalogError } from '../../errors.ts';
import { connectSession, type HiveAuthSettings } from './hive-driver-protocol.ts';

export interface HiveEndpoint extends HiveAuthSettings {
  host: string;
  port: number;
}

export type HiveSession = Awaited<ReturnType<InstanceType<typeof hive.HiveClient>['openSession']>>;

export class HiveConnection {
  readonly session: HiveSession;
  private readonly client: InstanceType<typeof hive.HiveClient>;
  private readonly lost: Promise<never>;
  private brokenReason: string | null = null;

  private constructor(
    client: InstanceType<typeof hive.HiveClient>,
    session: HiveSession,
    lost: Promise<never>,
  ) {
    this.client = client;
    this.session = session;
    this.lost = lost;
    this.lost.catch((error: unknown) => {
      this.brokenReason = error instanceof Error ? error.message : String(error);
    });
  }

  /** Connects and opens a session within `timeoutMs`; a CatalogError (retriable) otherwise. */
  static async open(endpoint: HiveEndpoint, timeoutMs: number): Promise<HiveConnection> {
    const where = `${endpoint.host}:${endpoint.port}`;
    const client = new hive.HiveClient(hive.thrift.TCLIService, hive.thrift.TCLIService_types);
    let markLost: (error: Error) => void = () => {};
    const lost = new Promise<never>((_, reject) => {
      markLost = reject;
    });
    lost.catch(() => undefined); // observed by every call; never unhandled
    // Without listeners an 'error' event would crash the process.
    client.on('error', (error: unknown) =>
      markLost(new Error(`HiveServer2 connection error: ${describe(error)}`)),
    );
    client.on('close', () => markLost(new Error('HiveServer2 closed the connection')));
    client.on('timeout', () => markLost(new Error('HiveServer2 connection timed out')));
    try {
      const session = await race(
        connectSession(client, endpoint),
        lost,
        timeoutMs,
        `connect to HiveServer2 at ${where} (auth ${endpoint.auth}: it must match hive.server2.authentication)`,
      );
      return new HiveConnection(client, session, lost);
    } catch (error) {
      closeQuietly(client);
      throw new CatalogError(`Cannot open a HiveServer2 session at ${where}: ${describe(error)}`, {
        code: 'unavailable',
        status: 503,
        retriable: true,
        cause: error,
      });
    }
  }

  get broken(): boolean {
    return this.brokenReason !== null;
  }

  /**
   * Awaits one hive-driver call. If the connection drops or `timeoutMs`
   * passes first, the connection is marked broken and a retriable
   * CatalogError is thrown; a server-side failure passes through.
   */
  async call<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
    if (this.brokenReason !== null) {
      throw new CatalogError(`HiveServer2 connection is broken (${this.brokenReason})`, {
        code: 'unavailable',
        status: 503,
        retriable: true,
      });
    }
    try {
      return await race(promise, this.lost, timeoutMs, what);
    } catch (error) {
      if (error instanceof ConnectionFailure) {
        this.brokenReason ??= error.message;
        throw new CatalogError(`HiveServer2 ${what} failed: ${error.message}`, {
          code: 'unavailable',
          status: 503,
          retriable: true,
          cause: error.cause,
        });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.brokenReason === null) {
      await race(this.session.close(), this.lost, 5_000, 'close session').catch(() => undefined);
    }
    this.brokenReason ??= 'closed';
    closeQuietly(this.client);
  }
}

/** A failure of the connection itself (not of a statement): lost, or no answer in time. */
class ConnectionFailure extends Error {}

async function race<T>(
  promise: Promise<T>,
  lost: Promise<never>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ConnectionFailure(`${what}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const dropped = lost.catch((error: unknown) => {
    throw new ConnectionFailure(describe(error), { cause: error });
  });
  try {
    return await Promise.race([promise, dropped, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function closeQuietly(client: InstanceType<typeof hive.HiveClient>): void {
  try {
    client.close();
  } catch {
    // Never connected: nothing to close.
  }
}

/** hive-driver's StatusError is not an Error: its message is the server's errorMessage. */
export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  return String(error);
}
