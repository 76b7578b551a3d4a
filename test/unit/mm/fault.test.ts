import { describe, it, expect } from 'vitest';
import {
  MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, MAP_SHARED,
  PROT_EXEC, PROT_READ, PROT_WRITE,
} from '../../../ts/abi/linux/mm';
import { EFAULT, EINVAL, ENOMEM } from '../../../ts/abi/linux/errno';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_UNKNOWN, ACCESS_WRITE } from '../../../ts/native/addon';
import { FAULT_WINDOW, MAX_FAULT_WINDOW, STACK_GUARD_GAP } from '../../../ts/mm/layout';
import { PAGE } from './fake_native';
import { BytesBacking, errnoOf, mmapSharedAnon, newMM, pattern } from './helpers';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** Bytes the fault at addr mapped. */
function faultBytes(mm: ReturnType<typeof newMM>['mm'], as: ReturnType<typeof newMM>['as'], addr: number, access = ACCESS_WRITE): number {
  const before = as.pmas.size;
  expect(mm.handleFault(addr, access)).toBe(true);
  return (as.pmas.size - before) * PAGE;
}

describe('handleFault', () => {
  it('populates an aligned window in one allocate and one map, clipped to the VMA', () => {
    const { mm, as, mf } = newMM();
    const base = 0x4000_0000;
    mm.mmap(base, 2 * FAULT_WINDOW, RW, ANON | MAP_FIXED, null, 0);
    expect(mm.handleFault(base + FAULT_WINDOW + 5 * PAGE + 3, ACCESS_WRITE)).toBe(true);
    expect(mf.allocateCalls).toBe(1);
    expect(as.mapCalls).toBe(1);
    expect(as.pmas.size).toBe(FAULT_WINDOW / PAGE);
    expect(as.pmas.has(base + FAULT_WINDOW)).toBe(true);
    expect(as.pmas.has(base)).toBe(false);
    // Clipped to a small VMA.
    const small = mm.mmap(0, 3 * PAGE, RW, ANON, null, 0);
    expect(mm.handleFault(small + PAGE, ACCESS_READ)).toBe(true);
    for (let i = 0; i < 3; i++) expect(as.pmas.has(small + i * PAGE)).toBe(true);
    expect(as.pmas.has(small + 3 * PAGE)).toBe(false);
    expect(as.pmas.get(small)?.prot).toBe(RW);
  });

  it('grows the window while faults follow each other in address order, up to MAX_FAULT_WINDOW', () => {
    const { mm, as } = newMM();
    const base = 0x4000_0000;
    const len = 16 << 20;
    mm.mmap(base, len, RW, ANON | MAP_FIXED, null, 0);
    // Touch every page in order, as the application would: a fault only where nothing is mapped.
    const windows: number[] = [];
    for (let a = base; a < base + len; a += PAGE) if (!as.pmas.has(a)) windows.push(faultBytes(mm, as, a));
    expect(windows.slice(0, 4)).toEqual([FAULT_WINDOW, 2 * FAULT_WINDOW, 4 * FAULT_WINDOW, MAX_FAULT_WINDOW]);
    expect(Math.max(...windows)).toBe(MAX_FAULT_WINDOW);
    expect(as.mapCalls).toBe(windows.length);
    expect(windows.length).toBeLessThan(len / FAULT_WINDOW / 4);
  });

  it('keeps the small window for scattered touches: at most one window ahead of use', () => {
    const { mm, as } = newMM();
    const base = 0x4000_0000;
    const len = 64 << 20;
    mm.mmap(base, len, RW, ANON | MAP_FIXED, null, 0);
    // A page every 1 MiB, then backwards: never where the last fault's pages ended.
    for (let a = base; a < base + len; a += 1 << 20) expect(faultBytes(mm, as, a)).toBe(FAULT_WINDOW);
    for (let a = base + len - 5 * PAGE; a >= base; a -= 3 << 20) {
      if (!as.pmas.has(a)) expect(faultBytes(mm, as, a, ACCESS_READ)).toBeLessThanOrEqual(FAULT_WINDOW);
    }
    // A fault elsewhere in between starts the sequence over.
    const other = mm.mmap(0x8000_0000, len, RW, ANON | MAP_FIXED, null, 0);
    expect(faultBytes(mm, as, other)).toBe(FAULT_WINDOW);
    expect(faultBytes(mm, as, other + FAULT_WINDOW)).toBe(2 * FAULT_WINDOW);
    expect(faultBytes(mm, as, base + 2 * FAULT_WINDOW + PAGE)).toBe(FAULT_WINDOW);
    expect(faultBytes(mm, as, other + 3 * FAULT_WINDOW)).toBe(FAULT_WINDOW);
  });

  it('a shared file keeps the small window in order too: its window takes the file pages', () => {
    const { mm, as, mf } = newMM();
    const len = 4 << 20;
    const pages = mf.allocate(len / PAGE);
    let asked = 0;
    const file = {
      name: '/tmpfs/shared',
      fill(): void { throw new Error('not used for shared mappings'); },
      sharedPages(fileOffset: number, length: number): number[] {
        asked = Math.max(asked, length);
        const out: number[] = [];
        for (let o = 0; o < length; o += PAGE) {
          mf.incRef(pages + fileOffset + o, PAGE);
          out.push(pages + fileOffset + o);
        }
        return out;
      },
    };
    const base = mm.mmap(0x4000_0000, len, RW, MAP_SHARED | MAP_FIXED, file, 0);
    for (let a = base; a < base + len; a += PAGE) if (!as.pmas.has(a)) expect(faultBytes(mm, as, a)).toBe(FAULT_WINDOW);
    expect(asked).toBe(FAULT_WINDOW);
  });

  it('skips pages already mapped: the run stops at them', () => {
    const { mm, as } = newMM();
    const base = 0x4000_0000;
    mm.mmap(base, FAULT_WINDOW, RW, ANON | MAP_FIXED, null, 0);
    mm.copyOut(base + 10 * PAGE, new Uint8Array([1])); // populates the whole window
    mm.madvise(base + 4 * PAGE, 4 * PAGE, MADV_DONTNEED); // punch pages 4..7 out
    mm.copyOut(base + 20 * PAGE, new Uint8Array([2]));
    const off20 = as.pmas.get(base + 20 * PAGE)!.off;
    expect(mm.handleFault(base + 5 * PAGE, ACCESS_READ)).toBe(true);
    for (let i = 4; i < 8; i++) expect(as.pmas.has(base + i * PAGE)).toBe(true);
    expect(as.pmas.get(base + 20 * PAGE)!.off).toBe(off20); // untouched
    expect(mm.copyIn(base + 20 * PAGE, 1)[0]).toBe(2);
  });

  it('refuses what the VMA does not allow', () => {
    const { mm } = newMM();
    const ro = mm.mmap(0, PAGE, PROT_READ, ANON, null, 0);
    expect(mm.handleFault(ro, ACCESS_WRITE)).toBe(false);
    expect(mm.handleFault(ro, ACCESS_EXEC)).toBe(false);
    expect(mm.handleFault(ro, ACCESS_READ)).toBe(true);
    const x = mm.mmap(0, PAGE, PROT_READ | PROT_EXEC, ANON, null, 0);
    expect(mm.handleFault(x, ACCESS_EXEC)).toBe(true);
    expect(mm.handleFault(0x1000_0000, ACCESS_READ)).toBe(false);
    expect(mm.handleFault(0, ACCESS_READ)).toBe(false);
  });

  it('ACCESS_UNKNOWN populates with what the VMA allows, and is a violation once it is all there', () => {
    const { mm, as } = newMM();
    const ro = mm.mmap(0, PAGE, PROT_READ, ANON, null, 0);
    expect(mm.handleFault(ro, ACCESS_UNKNOWN)).toBe(true);
    expect(as.pmas.get(ro)?.prot).toBe(PROT_READ);
    expect(mm.handleFault(ro, ACCESS_UNKNOWN)).toBe(false); // e.g. a write to it: SIGSEGV
  });

  it('grows a MAP_GROWSDOWN mapping within the stack limit and guard gap', () => {
    const { mm } = newMM();
    const top = 0x7000_0000_0000;
    const start = top - 4 * PAGE;
    mm.mmap(start, 4 * PAGE, RW, ANON | MAP_FIXED | MAP_GROWSDOWN, null, 0);
    expect(mm.handleFault(start - 100, ACCESS_WRITE)).toBe(true);
    expect(mm.vmas.find(start - 100)?.start).toBe(start - PAGE);
    // copyOut below the stack grows it too (signal frames).
    mm.copyOut(start - 10 * PAGE, new Uint8Array(8));
    expect(mm.vmas.find(start - 10 * PAGE)?.end).toBe(top);
    // Not beyond the limit.
    expect(mm.handleFault(top - mm.stackLimit - PAGE, ACCESS_WRITE)).toBe(false);
    // Not into the guard gap above another mapping.
    const below = start - 64 * PAGE - STACK_GUARD_GAP;
    mm.mmap(below, PAGE, RW, ANON | MAP_FIXED, null, 0);
    expect(mm.handleFault(below + PAGE + 10, ACCESS_WRITE)).toBe(false);
    expect(mm.vmas.count).toBe(2);
  });

  it('a fill failure is a fault, not a crash', () => {
    const { mm } = newMM();
    const file = { name: 'bad', fill(): void { throw Object.assign(new Error('EIO: boom'), { code: 'EIO' }); } };
    const a = mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE, file, 0);
    expect(mm.handleFault(a, ACCESS_READ)).toBe(false);
    expect(errnoOf(() => mm.copyIn(a, 1))).toBe(EFAULT);
  });
});

describe('madvise', () => {
  it('MADV_DONTNEED zeroes private anonymous memory', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 4 * PAGE, RW, ANON, null, 0);
    mm.copyOut(a, pattern(4 * PAGE));
    mm.madvise(a + PAGE, 2 * PAGE, MADV_DONTNEED);
    expect(mm.copyIn(a + PAGE, 2 * PAGE)).toEqual(new Uint8Array(2 * PAGE));
    expect(mm.copyIn(a, PAGE)).toEqual(pattern(4 * PAGE).subarray(0, PAGE));
    expect(mm.copyIn(a + 3 * PAGE, PAGE)).toEqual(pattern(4 * PAGE).subarray(3 * PAGE));
  });

  it('MADV_DONTNEED brings back the file for private file mappings, keeps shared memory', () => {
    const { mm } = newMM();
    const data = pattern(PAGE, 6);
    const f = mm.mmap(0, PAGE, RW, MAP_PRIVATE, new BytesBacking(data), 0);
    mm.copyOut(f, new Uint8Array([0, 0, 0]));
    mm.madvise(f, PAGE, MADV_DONTNEED);
    expect(mm.copyIn(f, 3)).toEqual(data.subarray(0, 3));
    const s = mmapSharedAnon(mm, 0, PAGE);
    mm.copyOut(s, new Uint8Array([8]));
    mm.madvise(s, PAGE, MADV_DONTNEED);
    expect(mm.copyIn(s, 1)[0]).toBe(8);
    mm.madvise(s, PAGE, MADV_REMOVE);
    expect(mm.copyIn(s, 1)[0]).toBe(0);
  });

  it('errors: EINVAL for bad advice or alignment, ENOMEM for holes, EINVAL for hwpoison (no memory-failure injection)', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 2 * PAGE, RW, ANON, null, 0);
    expect(errnoOf(() => mm.madvise(a, PAGE, 999))).toBe(EINVAL);
    expect(errnoOf(() => mm.madvise(a + 1, PAGE, MADV_DONTNEED))).toBe(EINVAL);
    expect(errnoOf(() => mm.madvise(a, 4 * PAGE, MADV_DONTNEED))).toBe(ENOMEM);
    expect(errnoOf(() => mm.madvise(a, PAGE, 100))).toBe(EINVAL);
    const s = mmapSharedAnon(mm, 0, PAGE);
    expect(errnoOf(() => mm.madvise(s, PAGE, MADV_FREE))).toBe(EINVAL);
    mm.madvise(a, 0, MADV_DONTNEED);
  });
});

describe('mincore', () => {
  it('reports populated pages and ENOMEM for holes', () => {
    const { mm } = newMM();
    const a = mm.mmap(0x5000_0000, 3 * PAGE, RW, ANON | MAP_FIXED, null, 0);
    expect(Array.from(mm.mincore(a, 3 * PAGE))).toEqual([0, 0, 0]);
    mm.copyOut(a, new Uint8Array(1));
    expect(Array.from(mm.mincore(a, 3 * PAGE))).toEqual([1, 1, 1]);
    expect(errnoOf(() => mm.mincore(a, 4 * PAGE))).toBe(ENOMEM);
    expect(errnoOf(() => mm.mincore(a + 1, PAGE))).toBe(EINVAL);
  });
});
