// /proc/<pid>/status's Cpus_allowed and Cpus_allowed_list (%*pb and %*pbl in Linux's
// vsprintf): hex in 32-bit groups with the first only as wide as its bits, and ranges.
import { describe, expect, it } from 'vitest';
import { bitmapHex, bitmapList } from '../../../ts/fsimpl/proc/task_files';

const mask = (bits: number[], bytes = 16): Uint8Array => {
  const m = new Uint8Array(bytes);
  for (const b of bits) m[b >> 3] |= 1 << (b & 7);
  return m;
};

describe('proc bitmaps', () => {
  it('prints as Linux', () => {
    expect(bitmapHex(mask([0, 1]), 2)).toBe('3');
    expect(bitmapHex(mask([1]), 2)).toBe('2');
    expect(bitmapHex(mask([0, 1, 2, 3, 4, 5, 6, 7]), 8)).toBe('ff');
    expect(bitmapHex(mask([0, 33]), 40)).toBe('02,00000001');
    expect(bitmapHex(mask([...Array(64).keys()]), 64)).toBe('ffffffff,ffffffff');
    expect(bitmapList(mask([0, 1]), 2)).toBe('0-1');
    expect(bitmapList(mask([0, 2, 3, 4, 7]), 8)).toBe('0,2-4,7');
    expect(bitmapList(mask([5]), 8)).toBe('5');
  });
});
