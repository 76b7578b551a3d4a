// /proc/<pid>/io's counters keep the shape they were made with (wide_field.ts): a stream of a
// few GiB takes rchar/wchar past 2^31, and counters that started as small integers would change
// representation there, deprecating the map read/write's accounting was compiled against.
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { accountCopy, accountIo, ioText, threadIo } from '../../../ts/kernel/io_accounting';
import type { Task } from '../../../ts/kernel/task';

v8.setFlagsFromString('--allow-natives-syntax');
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

/** The accounting keys its counters by the task object alone. */
const task = (): Task => ({}) as Task;

describe('I/O accounting counter shapes', () => {
  it('counters of a task that moved 3 GiB share the map of a fresh task', () => {
    const fresh = threadIo(task());
    const big = task();
    accountCopy(big, 3 * 2 ** 30);
    for (let i = 0; i < 4; i++) accountIo(big, i % 2 === 1, () => 2 ** 30);
    const used = threadIo(big);
    expect(used).toEqual({ rchar: 5 * 2 ** 30, wchar: 5 * 2 ** 30, syscr: 3, syscw: 3 });
    expect(haveSameMap(fresh, used)).toBe(true);
  });

  it('a fresh task reads as zeros, not -0', () => {
    expect(ioText(threadIo(task()))).toBe('rchar: 0\nwchar: 0\nsyscr: 0\nsyscw: 0\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n');
  });
});
