// acct's comp_t (Linux encode_comp_t): 13-bit mantissa, base-8 exponent, rounding on the
// highest dropped bit, saturating at 0xffff; worked out by hand from the Linux algorithm.
import { describe, expect, it } from 'vitest';
import { encodeCompT } from '../../../ts/kernel/acct';

describe('encodeCompT', () => {
  it.each([
    [0n, 0],
    [8191n, 8191],
    [8192n, 0x2400],
    [8196n, 0x2401],
    [0x1fffcn, 0x4800],
    [1n << 40n, 0xffff],
  ])('%s encodes as %s', (v, want) => {
    expect(encodeCompT(v)).toBe(want);
  });
});
