/**
 * @module Group commit: requests that arrive while a flush is under way are
 * merged into the next one, so one Kafka produce (or one fsync) serves many
 * HTTP requests. No timer and no linger: a lone request is flushed at once,
 * and batches grow by themselves exactly when the bus or disk is the
 * bottleneck. Each submitter learns the fate of the flush its items rode in.
 */

interface Waiting<T> {
  items: T[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /** Items in one flush at most (a single larger submission is flushed alone). */
  maxItems: number;
  /** Flushes under way at once. */
  maxInFlight: number;
}

export class GroupCommit<T> {
  private readonly flush: (items: T[]) => Promise<void>;
  private readonly options: GroupCommitOptions;
  private readonly queue: Waiting<T>[] = [];
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(flush: (items: T[]) => Promise<void>, options: GroupCommitOptions) {
    this.flush = flush;
    this.options = options;
  }

  submit(items: T[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.pump();
    });
  }

  /** Submissions queued or being flushed. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const group: Waiting<T>[] = [this.queue.shift()!];
      let count = group[0]!.items.length;
      while (this.queue.length > 0 && count + this.queue[0]!.items.length <= this.options.maxItems) {
        const next = this.queue.shift()!;
        count += next.items.length;
        group.push(next);
      }
      this.inFlight += 1;
      const items = group.length === 1 ? group[0]!.items : group.flatMap((w) => w.items);
      this.flush(items).then(
        () => this.settle(group, (w) => w.resolve()),
        (err: unknown) => this.settle(group, (w) => w.reject(err)),
      );
    }
  }

  private settle(group: Waiting<T>[], outcome: (w: Waiting<T>) => void): void {
    this.inFlight -= 1;
    for (const w of group) outcome(w);
    this.pump();
    if (this.pending === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
