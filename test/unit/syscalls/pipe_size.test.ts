// The pipe-size arithmetic and the /proc/sys/fs/pipe-max-size and lease-break-time parsers: the rounding Linux's
// round_pipe_size does, and hostile text (a fuzzer from a fixed seed) that can only set a
// valid size or fail with EINVAL.
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../../ts/kernel/kernel';
import { pipeMaxSize, roundPipeSize, setPipeMaxSize } from '../../../ts/kernel/pipe_limits';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EINVAL } from '../../../ts/abi/linux/errno';
import { leaseBreakTime, setLeaseBreakTime } from '../../../ts/vfs/locks/lease';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

describe('pipe sizes', () => {
  it('rounds to a power of two pages, refusing past 2^31', () => {
    expect(roundPipeSize(0)).toBe(4096);
    expect(roundPipeSize(4097)).toBe(8192);
    expect(roundPipeSize(100000)).toBe(131072);
    expect(roundPipeSize(2 ** 31)).toBe(2 ** 31);
    expect(roundPipeSize(2 ** 31 + 1)).toBe(0);
  });

  it('parses pipe-max-size writes as proc_dopipe_max_size does', () => {
    const k = {} as Kernel;
    expect(pipeMaxSize(k)).toBe(1 << 20);
    setPipeMaxSize(k, '5000\n');
    expect(pipeMaxSize(k)).toBe(8192);
    for (const bad of ['', 'abc', '-1', '3000000000', '1e6', '0x1000', '99999999999999999999']) {
      expect(() => setPipeMaxSize(k, bad), bad).toThrow(SyscallError);
    }
    expect(pipeMaxSize(k)).toBe(8192);
  });

  it('survives random text: a valid size or EINVAL', () => {
    const next = rng(0x5eed7);
    const alphabet = '0123456789 \n\t+-xe.abc\u0000\u00ff';
    for (let i = 0; i < 5000; i++) {
      const k = {} as Kernel;
      const len = next() % 16;
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[next() % alphabet.length];
      try {
        setPipeMaxSize(k, s);
        const v = pipeMaxSize(k);
        expect(v >= 4096 && v <= 2 ** 31 && (v & (v - 1)) === 0, JSON.stringify(s)).toBe(true);
      } catch (e) {
        expect(e instanceof SyscallError && e.errno === EINVAL, JSON.stringify(s)).toBe(true);
      }
    }
  });
});

describe('lease-break-time', () => {
  it('takes a decimal int and refuses the rest, random text included', () => {
    const k = {} as Kernel;
    expect(leaseBreakTime(k)).toBe(45);
    setLeaseBreakTime(k, ' 7\n');
    expect(leaseBreakTime(k)).toBe(7);
    for (const bad of ['', 'x', '1.5', '2147483648', '0x10']) expect(() => setLeaseBreakTime(k, bad), bad).toThrow(SyscallError);
    const next = rng(0x1ea5e);
    const alphabet = '0123456789 \n+-x.';
    for (let i = 0; i < 3000; i++) {
      let s = '';
      for (let j = next() % 14; j > 0; j--) s += alphabet[next() % alphabet.length];
      try {
        setLeaseBreakTime(k, s);
        expect(Number.isInteger(leaseBreakTime(k)), JSON.stringify(s)).toBe(true);
      } catch (e) {
        expect(e instanceof SyscallError && e.errno === EINVAL, JSON.stringify(s)).toBe(true);
      }
    }
  });
});
