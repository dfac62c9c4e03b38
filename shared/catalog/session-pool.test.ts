import { describe, expect, it } from 'vitest';
import { SessionPool } from './session-pool.ts';

function countingPool(max: number, failCreate = () => false) {
  let next = 0;
  const destroyed: number[] = [];
  const pool = new SessionPool<number>({
    max,
    create: async () => {
      if (failCreate()) throw new Error('server down');
      return ++next;
    },
    destroy: async (session) => {
      destroyed.push(session);
    },
  });
  return { pool, destroyed, created: () => next };
}

describe('SessionPool', () => {
  it('reuses an idle session', async () => {
    const { pool, created } = countingPool(2);
    expect(await pool.use(async (s) => s)).toBe(1);
    expect(await pool.use(async (s) => s)).toBe(1);
    expect(created()).toBe(1);
  });

  it('never opens more than max; the others wait their turn in order', async () => {
    const { pool, created } = countingPool(1);
    const order: string[] = [];
    let release: () => void = () => {};
    const first = pool.use(
      (s) =>
        new Promise<number>((resolve) => {
          order.push(`a:${s}`);
          release = () => resolve(s);
        }),
    );
    const second = pool.use(async (s) => order.push(`b:${s}`));
    const third = pool.use(async (s) => order.push(`c:${s}`));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['a:1']);
    release();
    await Promise.all([first, second, third]);
    expect(order).toEqual(['a:1', 'b:1', 'c:1']);
    expect(created()).toBe(1);
  });

  it('destroys a session marked broken and gives the next caller a new one', async () => {
    const { pool, destroyed } = countingPool(1);
    await expect(
      pool.use(async (_s, markBroken) => {
        markBroken();
        throw new Error('connection lost');
      }),
    ).rejects.toThrow('connection lost');
    expect(destroyed).toEqual([1]);
    expect(await pool.use(async (s) => s)).toBe(2);
  });

  it('frees the slot when creating a session fails', async () => {
    let down = true;
    const { pool } = countingPool(1, () => down);
    await expect(pool.use(async (s) => s)).rejects.toThrow('server down');
    down = false;
    expect(await pool.use(async (s) => s)).toBe(1);
  });

  it('closes idle sessions and refuses new work', async () => {
    const { pool, destroyed } = countingPool(2);
    await pool.use(async (s) => s);
    await pool.close();
    expect(destroyed).toEqual([1]);
    await expect(pool.use(async (s) => s)).rejects.toThrow(/closed/);
  });
});
