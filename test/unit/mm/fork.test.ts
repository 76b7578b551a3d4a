import { describe, it, expect } from 'vitest';
import {
  MADV_DONTFORK, MADV_WIPEONFORK, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE,
} from '../../../ts/abi/linux/mm';
import { ACCESS_WRITE } from '../../../ts/native/addon';
import { EFAULT } from '../../../ts/abi/linux/errno';
import { FakeAddressSpace, MAX_ADDR, MIN_ADDR, PAGE } from './fake_native';
import { errnoOf, mmapSharedAnon, newMM } from './helpers';

const RW = PROT_READ | PROT_WRITE;

describe('fork', () => {
  it('shares private pages copy-on-write and shared pages for real', () => {
    const { mm, mf } = newMM();
    const priv = mm.mmap(0, 2 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    const shared = mmapSharedAnon(mm, 0, PAGE);
    mm.copyOut(priv, new Uint8Array([1]));
    mm.copyOut(shared, new Uint8Array([2]));
    mm.brkStart = 0x1234000;
    const childAs = new FakeAddressSpace(mf, MIN_ADDR, MAX_ADDR);
    const child = mm.fork(childAs);
    expect(child.brkStart).toBe(0x1234000);
    const allocated = mf.allocatedBytes();
    // Both see the same contents without copying.
    expect(child.copyIn(priv, 1)[0]).toBe(1);
    expect(mf.allocatedBytes()).toBe(allocated);
    // A write in the child copies the page; the parent keeps its value.
    child.copyOut(priv, new Uint8Array([10]));
    expect(mm.copyIn(priv, 1)[0]).toBe(1);
    expect(child.copyIn(priv, 1)[0]).toBe(10);
    // And the other way round.
    mm.copyOut(priv + PAGE, new Uint8Array([11]));
    expect(child.copyIn(priv + PAGE, 1)[0]).toBe(0);
    // Shared memory is shared.
    child.copyOut(shared, new Uint8Array([20]));
    expect(mm.copyIn(shared, 1)[0]).toBe(20);
    child.release();
    mm.release();
    expect(mf.allocatedBytes()).toBe(0);
    expect(childAs.released).toBe(true);
  });

  it('write-protects pages again on a second fork, even ones already copied', () => {
    const { mm, mf } = newMM();
    const a = mm.mmap(0, PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    mm.copyOut(a, new Uint8Array([1]));
    mm.fork(new FakeAddressSpace(mf, MIN_ADDR, MAX_ADDR));
    mm.copyOut(a, new Uint8Array([2])); // the parent's own copy now
    const second = mm.fork(new FakeAddressSpace(mf, MIN_ADDR, MAX_ADDR));
    mm.copyOut(a, new Uint8Array([3]));
    expect(second.copyIn(a, 1)[0]).toBe(2);
    second.copyOut(a, new Uint8Array([4]));
    expect(mm.copyIn(a, 1)[0]).toBe(3);
  });

  it('once the child is gone, one write fault opens the window of pages nobody shares any more', () => {
    const { mm, mf, as } = newMM();
    const a = mm.mmap(0x4000_0000, 128 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0);
    for (let p = 0; p < 128; p++) mm.copyOut(a + p * PAGE, new Uint8Array([p]));
    const child = mm.fork(new FakeAddressSpace(mf, MIN_ADDR, MAX_ADDR));
    expect(as.pmas.get(a + 5 * PAGE)?.prot).toBe(PROT_READ);
    // The child is gone but for page 9, which a grandchild-like holder keeps shared.
    const held = child.fork(new FakeAddressSpace(mf, MIN_ADDR, MAX_ADDR));
    child.release();
    held.munmap(a, 9 * PAGE);
    held.munmap(a + 10 * PAGE, 118 * PAGE);
    const allocated = mf.allocatedBytes();
    expect(mm.handleFault(a + 5 * PAGE, ACCESS_WRITE)).toBe(true);
    // Pages 0-8 of its window are writable again, as they are; page 9 is still shared, so
    // the run stops there; nothing was copied.
    for (let p = 0; p < 9; p++) expect(as.pmas.get(a + p * PAGE)?.prot).toBe(RW);
    expect(as.pmas.get(a + 9 * PAGE)?.prot).toBe(PROT_READ);
    expect(as.pmas.get(a + 10 * PAGE)?.prot).toBe(PROT_READ);
    expect(mf.allocatedBytes()).toBe(allocated);
    for (let p = 0; p < 9; p++) expect(mm.copyIn(a + p * PAGE, 1)[0]).toBe(p);
    // Page 9 copies when written, and the parent's write never reaches the holder.
    mm.copyOut(a + 9 * PAGE, new Uint8Array([77]));
    expect(held.copyIn(a + 9 * PAGE, 1)[0]).toBe(9);
    expect(mm.copyIn(a + 9 * PAGE, 1)[0]).toBe(77);
    expect(mm.handleFault(a + 64 * PAGE, ACCESS_WRITE)).toBe(true);
    expect(as.pmas.get(a + 127 * PAGE)?.prot).toBe(RW);
  });

  it('a write to a page still shared copies the shared pages of its 64 KiB window in one map', () => {
    const { mm, mf, as } = newMM();
    const a = mm.mmap(0x4000_0000, 64 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0);
    for (let p = 0; p < 64; p++) mm.copyOut(a + p * PAGE, new Uint8Array([p]));
    const child = mm.fork(new FakeAddressSpace(mf, MIN_ADDR, MAX_ADDR));
    // The child's write copies its side of pages 32-47: the parent holds those alone now.
    child.copyOut(a + 40 * PAGE, new Uint8Array([140]));
    const allocated = mf.allocatedBytes();
    const maps = as.mapCalls;
    mm.copyOut(a + 18 * PAGE + 3, new Uint8Array([218]));
    // Pages 16-31, its window, copied and mapped at once; nothing else.
    expect(as.mapCalls).toBe(maps + 1);
    for (let p = 16; p < 32; p++) expect(as.pmas.get(a + p * PAGE)?.prot).toBe(RW);
    expect(as.pmas.get(a + 15 * PAGE)?.prot).toBe(PROT_READ);
    expect(mf.allocatedBytes()).toBe(allocated + 16 * PAGE);
    for (let p = 16; p < 32; p++) {
      expect(mm.copyIn(a + p * PAGE, 1)[0]).toBe(p);
      expect(child.copyIn(a + p * PAGE, 1)[0]).toBe(p);
    }
    expect(mm.copyIn(a + 18 * PAGE + 3, 1)[0]).toBe(218);
    expect(child.copyIn(a + 18 * PAGE + 3, 1)[0]).toBe(0);
    child.copyOut(a + 17 * PAGE, new Uint8Array([117]));
    expect(mm.copyIn(a + 17 * PAGE, 1)[0]).toBe(17);
    // The pages the child took copies of are the parent's to write as they are: no copy.
    const before = mf.allocatedBytes();
    mm.copyOut(a + 40 * PAGE, new Uint8Array([240]));
    expect(mf.allocatedBytes()).toBe(before);
    expect(child.copyIn(a + 40 * PAGE, 1)[0]).toBe(140);
  });

  it('honours MADV_DONTFORK and MADV_WIPEONFORK', () => {
    const { mm, mf } = newMM();
    const a = mm.mmap(0, PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    const b = mm.mmap(0, PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    mm.copyOut(a, new Uint8Array([1]));
    mm.copyOut(b, new Uint8Array([2]));
    mm.madvise(a, PAGE, MADV_DONTFORK);
    mm.madvise(b, PAGE, MADV_WIPEONFORK);
    const child = mm.fork(new FakeAddressSpace(mf, MIN_ADDR, MAX_ADDR));
    expect(errnoOf(() => child.copyIn(a, 1))).toBe(EFAULT);
    expect(child.copyIn(b, 1)[0]).toBe(0);
    expect(mm.copyIn(b, 1)[0]).toBe(2);
  });
});
