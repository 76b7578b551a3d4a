import { describe, it, expect } from 'vitest';
import {
  MAP_32BIT, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED,
  MAP_SHARED_VALIDATE, MAP_NORESERVE, PROT_NONE, PROT_READ, PROT_WRITE,
} from '../../../ts/abi/linux/mm';
import { EACCES, EEXIST, EFAULT, EINVAL, ENODEV, ENOMEM, ENOTSUP, EPERM } from '../../../ts/abi/linux/errno';
import { ACCESS_READ } from '../../../ts/native/addon';
import { PAGE, MAX_ADDR } from './fake_native';
import { FAULT_WINDOW } from '../../../ts/mm/layout';
import { BytesBacking, errnoOf, mmapSharedAnon, newMM, pattern } from './helpers';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

describe('mmap placement', () => {
  it('places top-down below mmapBase, lazily', () => {
    const { mm, as } = newMM();
    const a = mm.mmap(0, 3 * PAGE, RW, ANON, null, 0);
    expect(a).toBe(mm.mmapBase - 3 * PAGE);
    const b = mm.mmap(0, 5000, RW, ANON, null, 0);
    expect(b).toBe(a - 2 * PAGE);
    expect(as.pmas.size).toBe(0); // nothing populated until touched
  });

  it('rounds the length up to pages and reads back zero', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 10, RW, ANON, null, 0);
    expect(mm.copyIn(a, PAGE)).toEqual(new Uint8Array(PAGE));
    expect(errnoOf(() => mm.copyIn(a + PAGE, 1))).toBe(EFAULT);
  });

  it('honours a free hint and ignores a taken one', () => {
    const { mm } = newMM();
    const hint = 0x1000_0000;
    expect(mm.mmap(hint, PAGE, RW, ANON, null, 0)).toBe(hint);
    const again = mm.mmap(hint, PAGE, RW, ANON, null, 0);
    expect(again).not.toBe(hint);
    expect(mm.mmap(hint + 1, PAGE, RW, ANON, null, 0)).toBe(hint + PAGE); // hint rounded up
  });

  it('MAP_FIXED replaces what was there with fresh zero pages', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 4 * PAGE, RW, ANON, null, 0);
    mm.copyOut(a, pattern(4 * PAGE));
    expect(mm.mmap(a + PAGE, PAGE, RW, ANON | MAP_FIXED, null, 0)).toBe(a + PAGE);
    expect(mm.copyIn(a + PAGE, PAGE)).toEqual(new Uint8Array(PAGE));
    expect(mm.copyIn(a, PAGE)).toEqual(pattern(4 * PAGE).subarray(0, PAGE));
    expect(mm.copyIn(a + 2 * PAGE, PAGE)).toEqual(pattern(4 * PAGE).subarray(2 * PAGE, 3 * PAGE));
  });

  it('MAP_FIXED_NOREPLACE gives EEXIST over a mapping and works on free space', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 2 * PAGE, RW, ANON, null, 0);
    expect(errnoOf(() => mm.mmap(a + PAGE, 2 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE, null, 0))).toBe(EEXIST);
    expect(errnoOf(() => mm.mmap(a, PAGE, RW, ANON | MAP_FIXED_NOREPLACE | MAP_FIXED, null, 0))).toBe(EEXIST);
    expect(mm.mmap(a - PAGE, PAGE, RW, ANON | MAP_FIXED_NOREPLACE, null, 0)).toBe(a - PAGE);
  });

  it('MAP_32BIT lands in [1 GiB, 2 GiB)', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, 16 * PAGE, RW, ANON | MAP_32BIT, null, 0);
    expect(a).toBeGreaterThanOrEqual(0x4000_0000);
    expect(a + 16 * PAGE).toBeLessThanOrEqual(0x8000_0000);
  });

  it('merges adjacent compatible anonymous mappings', () => {
    const { mm } = newMM();
    const a = mm.mmap(0, PAGE, RW, ANON, null, 0);
    const b = mm.mmap(0, PAGE, RW, ANON, null, 0);
    expect(b).toBe(a - PAGE);
    expect(mm.vmas.count).toBe(1);
    mm.mmap(0, PAGE, PROT_READ, ANON, null, 0); // different protection: its own VMA
    expect(mm.vmas.count).toBe(2);
  });

  it('MAP_POPULATE maps everything at once', () => {
    const { mm, as, mf } = newMM();
    const a = mm.mmap(0, 8 * PAGE, RW, ANON | MAP_POPULATE, null, 0);
    expect(as.pmas.size).toBe(8);
    expect(mf.allocateCalls).toBe(1);
    expect(as.pmas.get(a)?.prot).toBe(RW);
  });
});

describe('mmap errors', () => {
  it('EINVAL for bad arguments', () => {
    const { mm } = newMM();
    expect(errnoOf(() => mm.mmap(0, 0, RW, ANON, null, 0))).toBe(EINVAL);
    expect(errnoOf(() => mm.mmap(0x2000_0001, PAGE, RW, ANON | MAP_FIXED, null, 0))).toBe(EINVAL);
    expect(errnoOf(() => mm.mmap(0, PAGE, RW, MAP_PRIVATE, new BytesBacking(new Uint8Array(10)), 100))).toBe(EINVAL);
    expect(errnoOf(() => mm.mmap(0, PAGE, RW, MAP_ANONYMOUS, null, 0))).toBe(EINVAL);
    expect(errnoOf(() => mm.mmap(0, PAGE, RW, 0x0f | MAP_ANONYMOUS, null, 0))).toBe(EINVAL);
  });

  // do_mmap: MAP_SHARED_VALIDATE is for files only (anonymous memory: EINVAL, whatever the
  // other flags), where unknown flags are EOPNOTSUPP.
  it('MAP_SHARED_VALIDATE rejects unknown flags of a file mapping, MAP_SHARED ignores them', () => {
    const { mm } = newMM();
    const file = new BytesBacking(new Uint8Array(10));
    expect(errnoOf(() => mm.mmap(0, PAGE, RW, MAP_SHARED_VALIDATE | 0x800000, file, 0))).toBe(ENOTSUP);
    expect(mmapSharedAnon(mm, 0, PAGE, 0x800000)).toBeGreaterThan(0);
    expect(errnoOf(() => mm.mmap(0, PAGE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, null, 0))).toBe(EINVAL);
    expect(errnoOf(() => mm.mmap(0, PAGE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x800000, null, 0))).toBe(EINVAL);
  });

  it('ENOMEM above the address space or when nothing fits; EPERM below it', () => {
    const { mm } = newMM();
    expect(errnoOf(() => mm.mmap(MAX_ADDR - PAGE, 2 * PAGE, RW, ANON | MAP_FIXED, null, 0))).toBe(ENOMEM);
    expect(errnoOf(() => mm.mmap(0, MAX_ADDR, RW, ANON, null, 0))).toBe(ENOMEM);
    expect(errnoOf(() => mm.mmap(0, 2 ** 60, RW, ANON, null, 0))).toBe(ENOMEM);
    expect(errnoOf(() => mm.mmap(0, PAGE, RW, ANON | MAP_FIXED, null, 0))).toBe(EPERM);
  });
});

describe('mmap of anonymous shared memory and files', () => {
  it('shared anonymous memory takes pages only when touched, its file\'s; munmap frees them', () => {
    const { mm, as, mf } = newMM();
    const a = mmapSharedAnon(mm, 0, 1 << 30, MAP_NORESERVE);
    expect(as.pmas.size).toBe(0);
    expect(mf.allocatedBytes()).toBe(0);
    mm.copyOut(a + (1 << 29), new Uint8Array([5]));
    const off = as.pmas.get(a + (1 << 29))!.off;
    expect(mf.refCount(off)).toBe(2); // the file's and the mapping's
    expect(mf.allocatedBytes()).toBeLessThanOrEqual(FAULT_WINDOW);
    // Without MAP_NORESERVE, more than all memory is an overcommit.
    expect(errnoOf(() => mmapSharedAnon(mm, 0, 2 ** 46))).toBe(ENOMEM);
    mm.munmap(a, 1 << 30);
    expect(mf.allocatedBytes()).toBe(0);
  });

  it('private file mappings fill pages from the file on first touch', () => {
    const { mm } = newMM();
    const data = pattern(3 * PAGE + 100, 5);
    const file = new BytesBacking(data);
    const a = mm.mmap(0, 4 * PAGE, PROT_READ, MAP_PRIVATE, file, PAGE);
    expect(file.fills).toBe(0);
    expect(mm.copyIn(a + 10, 20)).toEqual(data.subarray(PAGE + 10, PAGE + 30));
    expect(file.fills).toBe(1);
    // Beyond EOF reads zero.
    expect(mm.copyIn(a + 2 * PAGE + 100, 10)).toEqual(new Uint8Array(10));
    // Read-only: the application cannot write it.
    expect(errnoOf(() => mm.copyOut(a, new Uint8Array(1)))).toBe(EFAULT);
  });

  it('private file mappings are copies: writes do not reach the file', () => {
    const { mm } = newMM();
    const data = pattern(PAGE, 9);
    const a = mm.mmap(0, PAGE, RW, MAP_PRIVATE, new BytesBacking(data), 0);
    mm.copyOut(a, new Uint8Array([1, 2, 3]));
    expect(mm.copyIn(a, 4)).toEqual(new Uint8Array([1, 2, 3, data[3]]));
    expect(data[0]).toBe(pattern(PAGE, 9)[0]);
  });

  it('shared file mapping without page-cache support: ENODEV if writable, a snapshot if not', () => {
    const { mm } = newMM();
    const file = new BytesBacking(pattern(PAGE));
    expect(errnoOf(() => mm.mmap(0, PAGE, RW, MAP_SHARED, file, 0))).toBe(ENODEV);
    const a = mm.mmap(0, PAGE, PROT_READ, MAP_SHARED, file, 0);
    expect(mm.copyIn(a, 8)).toEqual(pattern(PAGE).subarray(0, 8));
    expect(errnoOf(() => mm.mprotect(a, PAGE, RW))).toBe(EACCES);
  });

  it('shared file mapping with sharedPages maps the file pages themselves', () => {
    const { mm, mf, as } = newMM();
    const cache = mf.allocate(2);
    mf.write(cache, pattern(2 * PAGE, 3));
    const file = {
      name: '/tmpfs/x',
      fill(): void { throw new Error('not used for shared mappings'); },
      sharedPages(fileOffset: number, length: number): number[] {
        const out: number[] = [];
        for (let o = 0; o < length; o += PAGE) {
          mf.incRef(cache + fileOffset + o, PAGE);
          out.push(cache + fileOffset + o);
        }
        return out;
      },
    };
    const a = mm.mmap(0, 2 * PAGE, RW, MAP_SHARED, file, 0);
    mm.copyOut(a + PAGE + 1, new Uint8Array([0xaa]));
    const check = new Uint8Array(1);
    mf.read(cache + PAGE + 1, check);
    expect(check[0]).toBe(0xaa);
    expect(as.mapCalls).toBe(1); // contiguous pages: one map call
    mm.munmap(a, 2 * PAGE);
    expect(mf.refCount(cache)).toBe(1); // only the "page cache" reference is left
  });

  it('PROT_NONE mappings are never populated', () => {
    const { mm, as } = newMM();
    const a = mm.mmap(0, PAGE, PROT_NONE, ANON | MAP_POPULATE, null, 0);
    expect(as.pmas.size).toBe(0);
    expect(mm.handleFault(a, ACCESS_READ)).toBe(false);
  });
});
