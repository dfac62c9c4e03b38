/**
 * @module Committed consumer-group offsets of the local log: one small JSON
 * file per group and topic, replaced atomically (temp + fsync + rename), so
 * after a crash a group finds either its previous commit or its new one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDirectory, replaceFileDurably } from '../../durable-write.ts';
import type { PartitionOffset } from '../bus.ts';

export class GroupOffsetsFiles {
  private readonly dir: string;
  /** Commits of one file run one after another, so a merge never loses a concurrent one. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(dir: string) {
    this.dir = dir;
  }

  private path(group: string, topic: string): string {
    // base64url: any group name becomes a safe single path segment.
    return join(this.dir, Buffer.from(group).toString('base64url'), `${topic}.json`);
  }

  async read(group: string, topic: string): Promise<PartitionOffset[]> {
    let text: string;
    try {
      text = await readFile(this.path(group, topic), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const stored = JSON.parse(text) as Record<string, number>;
    return Object.entries(stored)
      .map(([partition, offset]) => ({ partition: Number(partition), offset }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** Merges `offsets` into the group's committed offsets (other partitions keep theirs). */
  commit(group: string, topic: string, offsets: PartitionOffset[]): Promise<void> {
    const path = this.path(group, topic);
    const previous = this.chains.get(path) ?? Promise.resolve();
    const next = previous.then(async () => {
      const merged: Record<string, number> = {};
      for (const o of await this.read(group, topic)) merged[o.partition] = o.offset;
      for (const o of offsets) merged[o.partition] = o.offset;
      // A new group's directory entry must be durable too, or its first commit could vanish.
      if ((await mkdir(dirname(path), { recursive: true })) !== undefined) await fsyncDirectory(this.dir);
      await replaceFileDurably(path, JSON.stringify(merged));
    });
    const settled = next.catch(() => {});
    this.chains.set(path, settled);
    void settled.then(() => {
      if (this.chains.get(path) === settled) this.chains.delete(path);
    });
    return next;
  }
}
