import { describe, expect, it } from 'vitest';
import { gzip } from '../testing/edge-fixture.ts';
import { decodeContent } from './read-body.ts';

describe('decodeContent', () => {
  it('stops a gzip bomb at the decoded limit', async () => {
    const bomb = await gzip('0'.repeat(64 * 1024 * 1024));
    expect(bomb.byteLength).toBeLessThan(100 * 1024);
    await expect(decodeContent(bomb, 'gzip', 1024 * 1024)).rejects.toMatchObject({ status: 413 });
  });

  it('undoes stacked codings in reverse order and ignores identity', async () => {
    const once = await gzip('{"a":1}');
    const twice = await gzip(String.fromCharCode(...once));
    // gzip of a latin1 string is not gzip of the bytes: build the stack from bytes instead.
    const stacked = new Uint8Array(
      await new Response(new Blob([once]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer(),
    );
    expect(twice.byteLength).toBeGreaterThan(0);
    const decoded = await decodeContent(stacked, 'gzip, identity, gzip', 1024);
    expect(new TextDecoder().decode(decoded)).toBe('{"a":1}');
  });

  it('accepts raw deflate under "deflate" as some clients send it', async () => {
    const raw = new Uint8Array(
      await new Response(
        new Blob(['{"b":2}']).stream().pipeThrough(new CompressionStream('deflate-raw')),
      ).arrayBuffer(),
    );
    expect(new TextDecoder().decode(await decodeContent(raw, 'deflate', 1024))).toBe('{"b":2}');
  });
});
