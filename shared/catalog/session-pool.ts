/**
 * @module A small pool of engine sessions (HiveServer2 sessions, DuckDB
 * connections): at most `max` exist, idle ones are reused, a broken one is
 * destroyed instead of returned, and callers beyond `max` wait in order.
 * Small enough to read whole; the generic pools on npm carry timers and
 * eviction policies these two engines do not need.
 */

export interface SessionPoolOptions<T> {
  max: number;
  create(): Promise<T>;
  destroy(session: T): Promise<void>;
}

export class SessionPool<T> {
  private readonly options: SessionPoolOptions<T>;
  private readonly idle: T[] = [];
  private readonly waiters: { resolve(session: T): void; reject(error: unknown): void }[] = [];
  private size = 0;
  private closed = false;

  constructor(options: SessionPoolOptions<T>) {
    this.options = options;
  }

  /** Runs `fn` with a session; `fn` reports a broken session by calling `markBroken`. */
  async use<R>(fn: (session: T, markBroken: () => void) => Promise<R>): Promise<R> {
    const session = await this.acquire();
    let broken = false;
    try {
      return await fn(session, () => {
        broken = true;
      });
    } finally {
      await this.release(session, broken);
    }
  }

  /** Destroys idle sessions and refuses new work; sessions in use are destroyed when released. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('The session pool is closed'));
    await Promise.allSettled(this.idle.splice(0).map((session) => this.destroy(session)));
  }

  private async acquire(): Promise<T> {
    if (this.closed) throw new Error('The session pool is closed');
    const idle = this.idle.pop();
    if (idle !== undefined) return idle;
    if (this.size < this.options.max) {
      this.size++;
      try {
        return await this.options.create();
      } catch (error) {
        this.size--;
        this.handOver();
        throw error;
      }
    }
    return new Promise<T>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async release(session: T, broken: boolean): Promise<void> {
    if (broken || this.closed) {
      await this.destroy(session);
      this.handOver();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(session);
    else this.idle.push(session);
  }

  /** A slot freed up: the first waiter gets a new session. */
  private handOver(): void {
    const waiter = this.waiters.shift();
    if (!waiter) return;
    this.size++;
    this.options.create().then(waiter.resolve, (error: unknown) => {
      this.size--;
      waiter.reject(error);
      this.handOver();
    });
  }

  private async destroy(session: T): Promise<void> {
    this.size--;
    await this.options.destroy(session).catch(() => undefined);
  }
}
