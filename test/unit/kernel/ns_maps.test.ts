// The boundaries user namespaces open: the uid_map/gid_map text parser (proc id_map_files.ts
// parseMap) and the RTM_NEWLINK link change (netlink/link_admin.ts), given forged and random
// input from a fixed seed: they answer an errno or a well-formed result, never an exception
// of another kind, and what they accept keeps Linux's invariants.
import { describe, expect, it } from 'vitest';
import { parseMap } from '../../../ts/fsimpl/proc/id_map_files';
import { linkAdmin } from '../../../ts/net/netlink/link_admin';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EINVAL } from '../../../ts/abi/linux/errno';
import { IdMap, MAX_EXTENTS } from '../../../ts/kernel/ns/user_namespace';
import { Stack } from '../../../ts/tcpip/stack';
import { IFF_UP } from '../../../ts/tcpip/nic';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0);
}

const text = (s: string): Uint8Array => Buffer.from(s, 'latin1');

function parses(s: string | Uint8Array): ReturnType<typeof parseMap> | number {
  try {
    return parseMap(typeof s === 'string' ? text(s) : s);
  } catch (e) {
    if (e instanceof SyscallError) return e.errno;
    throw e;
  }
}

describe('uid_map parser', () => {
  it('takes what Linux takes and refuses what it refuses', () => {
    expect(parses('0 1000 1\n')).toEqual([{ first: 0, lowerFirst: 1000, count: 1 }]);
    expect(parses('  0\t1000   10  \n5000 0 1')).toEqual([{ first: 0, lowerFirst: 1000, count: 10 }, { first: 5000, lowerFirst: 0, count: 1 }]);
    // simple_strtoul's value in a u32: 2^32 wraps to 0.
    expect(parses('4294967296 7 1')).toEqual([{ first: 0, lowerFirst: 7, count: 1 }]);
    // A NUL ends the text (memdup_user_nul).
    expect(parses(text('0 0 1\n\0garbage'))).toEqual([{ first: 0, lowerFirst: 0, count: 1 }]);
    for (const bad of ['', '0', '0 0', '0 0 1 2', '0 0 1x', 'x 0 1', '0 0 0', '-1 0 1', '4294967295 0 1', '0 4294967295 1',
      '4294967290 0 10', '0 0 1\n\n', '0 0 10\n5 100 1', '0 0 10\n20 5 1', '0 0 1\n1 1 1\n0 9 1']) {
      expect(parses(bad), JSON.stringify(bad)).toBe(EINVAL);
    }
  });

  it(`takes at most ${MAX_EXTENTS} extents`, () => {
    const lines = (n: number): string => Array.from({ length: n }, (_, i) => `${i} ${i + 100000} 1`).join('\n');
    expect((parses(lines(MAX_EXTENTS)) as unknown[]).length).toBe(MAX_EXTENTS);
    expect((parses(`${lines(MAX_EXTENTS)}\n`) as unknown[]).length).toBe(MAX_EXTENTS);
    expect(parses(lines(MAX_EXTENTS + 1))).toBe(EINVAL);
  });

  it('fuzz: random and mutated maps parse to disjoint, non-wrapping extents or EINVAL (seed 23)', () => {
    const r = rng(23);
    const alphabet = '0123456789      \t\n\n-+xa\0';
    for (let i = 0; i < 4000; i++) {
      let s: string;
      if (i % 2 === 0) {
        s = Array.from({ length: r() % 40 }, () => alphabet[r() % alphabet.length]).join('');
      } else {
        const n = 1 + (r() % 4);
        s = Array.from({ length: n }, () => `${r() % 7 === 0 ? 4294967295 : r() % 2000} ${r() % 2000} ${r() % 50}`).join('\n');
        if (r() % 3 === 0) s = s.slice(0, r() % (s.length + 1)) + alphabet[r() % alphabet.length] + s.slice(r() % (s.length + 1));
      }
      const out = parses(s);
      if (typeof out === 'number') { expect(out).toBe(EINVAL); continue; }
      expect(out.length).toBeGreaterThan(0);
      expect(out.length).toBeLessThanOrEqual(MAX_EXTENTS);
      for (const [j, e] of out.entries()) {
        expect(e.count).toBeGreaterThan(0);
        expect(e.first + e.count).toBeLessThanOrEqual(0x100000000);
        expect(e.lowerFirst + e.count).toBeLessThanOrEqual(0x100000000);
        for (const f of out.slice(0, j)) {
          expect(e.first + e.count <= f.first || f.first + f.count <= e.first).toBe(true);
          expect(e.lowerFirst + e.count <= f.lowerFirst || f.lowerFirst + f.count <= e.lowerFirst).toBe(true);
        }
      }
      // Mapping through what was accepted goes both ways.
      const m = new IdMap();
      m.extents = out;
      for (const e of out) expect(m.up(m.down(e.first))).toBe(e.first);
    }
  });
});

describe('RTM_NEWLINK link changes', () => {
  const msg = (type: number, payload: Uint8Array, flags = 0x5) => ({ type, flags, seq: 1, pid: 0, payload });
  const ifinfo = (index: number, ifiFlags: number, change: number): Uint8Array => {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setInt32(4, index, true);
    v.setUint32(8, ifiFlags, true);
    v.setUint32(12, change, true);
    return b;
  };

  it('brings lo up and down, and refuses what it does not model', () => {
    const s = new Stack();
    s.lo.flags &= ~IFF_UP;
    expect(linkAdmin(s, msg(16, ifinfo(1, IFF_UP, IFF_UP)) as never)).toBe(0);
    expect(s.lo.flags & IFF_UP).toBe(IFF_UP);
    expect(linkAdmin(s, msg(16, ifinfo(1, 0, IFF_UP)) as never)).toBe(0);
    expect(s.lo.flags & IFF_UP).toBe(0);
    expect(linkAdmin(s, msg(16, ifinfo(9, IFF_UP, IFF_UP)) as never)).toBe(19 /* ENODEV */);
    expect(linkAdmin(s, msg(16, new Uint8Array(8)) as never)).toBe(EINVAL);
    expect(linkAdmin(s, msg(18, ifinfo(1, 0, 0)) as never)).toBe(null);
  });

  it('fuzz: forged messages answer an errno or 0 and touch nothing but IFF_UP-related bits (seed 29)', () => {
    const r = rng(29);
    const s = new Stack();
    const others = s.lo.flags & ~0x10041;
    for (let i = 0; i < 3000; i++) {
      const len = r() % 48;
      const p = new Uint8Array(len);
      for (let j = 0; j < len; j++) p[j] = r() & 0xff;
      if (len >= 8 && r() % 2 === 0) new DataView(p.buffer).setInt32(4, r() % 3, true);
      const out = linkAdmin(s, msg(r() % 2 === 0 ? 16 : 19, p, r() & 0xffff) as never);
      expect(typeof out).toBe('number');
      expect(s.lo.flags & ~0x10041).toBe(others);
    }
  });
});
