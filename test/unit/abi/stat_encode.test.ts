// encodeStat/encodeStatx write numbers without BigInt into reused buffers: checked field by
// field against BigInt arithmetic (the reference), over edge values and a fixed-seed fuzz,
// and a second encode must not leave anything of the first behind.
import { describe, expect, it } from 'vitest';
import { STATX_BTIME, devMajor, devMinor, encodeStat, encodeStatx, makeDev, type Stat } from '../../../ts/abi/linux/stat';

const u64 = (x: number): bigint => BigInt.asUintN(64, BigInt(Math.trunc(x)));
const refMajor = (dev: number): number => {
  const d = BigInt(dev);
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn & 0xffff_ffffn));
};
const refMinor = (dev: number): number => {
  const d = BigInt(dev);
  return Number((d & 0xffn) | ((d >> 12n) & ~0xffn & 0xffff_ffffn));
};

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
}

const EDGES = [0, 1, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 40 + 7, -1e12];

function stat(n: () => number, pick: () => number): Stat {
  return {
    dev: Math.abs(pick()), ino: Math.abs(pick()), mode: n(), nlink: Math.abs(pick()), uid: n(), gid: n(),
    rdev: Math.abs(pick()), size: pick(), blksize: n() & 0xffff, blocks: pick(),
    atime: { sec: pick(), nsec: n() % 1e9 }, mtime: { sec: pick(), nsec: n() % 1e9 }, ctime: { sec: pick(), nsec: n() % 1e9 },
    btime: n() & 1 ? { sec: pick(), nsec: n() % 1e9 } : undefined,
  };
}

describe('stat encoding', () => {
  const n = rng(0x5747);
  const pick = (): number => {
    const r = n() % 3;
    if (r === 0) return EDGES[n() % EDGES.length];
    const big = (n() % 0x1fffff) * 2 ** 32 + n();
    return r === 1 ? big : -big;
  };

  it('struct stat matches BigInt arithmetic, field by field', () => {
    for (let i = 0; i < 2000; i++) {
      const s = stat(n, pick);
      const v = new DataView(encodeStat(s).slice().buffer);
      expect(v.getBigUint64(0, true)).toBe(u64(s.dev));
      expect(v.getBigUint64(8, true)).toBe(u64(s.ino));
      expect(v.getBigUint64(16, true)).toBe(u64(s.nlink));
      expect(v.getUint32(24, true)).toBe(s.mode >>> 0);
      expect(v.getUint32(28, true)).toBe(s.uid >>> 0);
      expect(v.getUint32(32, true)).toBe(s.gid >>> 0);
      expect(v.getUint32(36, true)).toBe(0);
      expect(v.getBigUint64(40, true)).toBe(u64(s.rdev));
      expect(v.getBigInt64(48, true)).toBe(BigInt.asIntN(64, BigInt(s.size)));
      expect(v.getBigInt64(64, true)).toBe(BigInt.asIntN(64, BigInt(s.blocks)));
      expect(v.getBigInt64(72, true)).toBe(BigInt.asIntN(64, BigInt(s.atime.sec)));
      expect(v.getBigInt64(88, true)).toBe(BigInt.asIntN(64, BigInt(s.mtime.sec)));
      expect(v.getBigInt64(104, true)).toBe(BigInt.asIntN(64, BigInt(s.ctime.sec)));
      expect(v.getBigInt64(112, true)).toBe(BigInt(s.ctime.nsec));
      for (let o = 120; o < 144; o++) expect(v.getUint8(o)).toBe(0);
    }
  });

  it('struct statx matches, and a statx without btime leaves no earlier btime behind', () => {
    for (let i = 0; i < 2000; i++) {
      const s = stat(n, pick);
      const v = new DataView(encodeStatx(s, 7, false).slice().buffer);
      expect(v.getUint32(0, true) & STATX_BTIME).toBe(s.btime ? STATX_BTIME : 0);
      expect(v.getBigUint64(32, true)).toBe(u64(s.ino));
      expect(v.getBigInt64(40, true)).toBe(BigInt.asIntN(64, BigInt(s.size)));
      expect(v.getBigInt64(64, true)).toBe(BigInt.asIntN(64, BigInt(s.atime.sec)));
      expect(v.getUint32(72, true)).toBe(s.atime.nsec >>> 0);
      expect(v.getBigInt64(80, true)).toBe(s.btime ? BigInt.asIntN(64, BigInt(s.btime.sec)) : 0n);
      expect(v.getUint32(88, true)).toBe(s.btime ? s.btime.nsec >>> 0 : 0);
      expect(v.getBigInt64(112, true)).toBe(BigInt.asIntN(64, BigInt(s.mtime.sec)));
      expect(v.getUint32(128, true)).toBe(refMajor(s.rdev));
      expect(v.getUint32(132, true)).toBe(refMinor(s.rdev));
      expect(v.getUint32(136, true)).toBe(refMajor(s.dev));
      expect(v.getUint32(140, true)).toBe(refMinor(s.dev));
      expect(v.getBigUint64(144, true)).toBe(7n);
    }
  });

  it('major/minor agree with glibc on makedev values (up to 2^53) and on arbitrary devs', () => {
    for (const [ma, mi] of [[0, 0], [8, 1], [259, 65537], [0xfff, 0xff], [0x1000, 0x100], [0x1fffff, 0xfffff]]) {
      expect(devMajor(makeDev(ma, mi))).toBe(ma);
      expect(devMinor(makeDev(ma, mi))).toBe(mi);
    }
    for (let i = 0; i < 5000; i++) {
      const dev = (n() % 2 ** 21) * 2 ** 32 + n();
      expect(devMajor(dev)).toBe(refMajor(dev));
      expect(devMinor(dev)).toBe(refMinor(dev));
    }
  });
});
