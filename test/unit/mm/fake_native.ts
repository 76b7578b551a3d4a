// In-memory stand-ins for the addon's MemoryFile and AddressSpace, so that mm/ and loader/
// logic can be tested without the Rust core. They follow the addon.ts contract (and the Rust
// behaviour): reference-counted pages, map() taking its own references and dropping those of
// whatever it replaces, copies that stop at the first page lacking the needed protection.

import * as fs from 'node:fs';
import { HOST_IO_HOLE, type NativeAddressSpace, type NativeMemoryFile } from '../../../ts/native/addon';

export const PAGE = 4096;

export class FakeMemoryFile implements NativeMemoryFile {
  private readonly pages = new Map<number, { data: Uint8Array; refs: number }>();
  private next = 0;
  allocateCalls = 0;

  allocate(pages: number): number {
    if (!(pages > 0) || !Number.isInteger(pages)) throw new Error('EINVAL: bad page count');
    this.allocateCalls++;
    const off = this.next;
    this.next += pages * PAGE;
    for (let i = 0; i < pages; i++) this.pages.set(off + i * PAGE, { data: new Uint8Array(PAGE), refs: 1 });
    return off;
  }

  allocateFresh(pages: number): number { return this.allocate(pages); }

  /** Every allocated page counts as in memory here. */
  residency(offset: number, length: number, out: Uint8Array): void {
    for (let i = 0; i < length / PAGE; i++) out[i] = this.pages.has(offset + i * PAGE) ? 1 : 0;
  }

  populate(): void {}

  incRef(offset: number, length: number): void {
    for (let o = offset; o < offset + length; o += PAGE) this.page(o).refs++;
  }

  decRef(offset: number, length: number): void {
    for (let o = offset; o < offset + length; o += PAGE) {
      const p = this.page(o);
      if (--p.refs === 0) this.pages.delete(o);
    }
  }

  refCount(offset: number): number {
    return this.pages.get(offset)?.refs ?? 0;
  }

  read(offset: number, dst: Uint8Array): void {
    for (let i = 0; i < dst.length;) {
      const o = offset + i;
      const base = o - (o % PAGE);
      const n = Math.min(dst.length - i, base + PAGE - o);
      dst.set(this.page(base).data.subarray(o - base, o - base + n), i);
      i += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    for (let i = 0; i < src.length;) {
      const o = offset + i;
      const base = o - (o % PAGE);
      const n = Math.min(src.length - i, base + PAGE - o);
      this.page(base).data.set(src.subarray(i, i + n), o - base);
      i += n;
    }
  }

  readFromHostFd(hostFd: number, fileOffset: number, offset: number, length: number): number {
    const buf = new Uint8Array(length);
    const n = fs.readSync(hostFd, buf, 0, length, fileOffset);
    this.write(offset, buf.subarray(0, n));
    return n;
  }

  allocatedBytes(): number {
    return this.pages.size * PAGE;
  }

  /** No limit in the unit tests. */
  limitBytes(): number {
    return Infinity;
  }

  private page(offset: number): { data: Uint8Array; refs: number } {
    const p = this.pages.get(offset);
    if (p === undefined) throw new Error(`EFAULT: memory-file page ${offset.toString(16)} is not allocated`);
    return p;
  }
}

export class FakeAddressSpace implements NativeAddressSpace {
  readonly pmas = new Map<number, { off: number; prot: number }>();
  mapCalls = 0;
  released = false;

  constructor(readonly mf: FakeMemoryFile, readonly min = 0x10000, readonly max = 0x7fff_ffff_f000) {}

  private check(addr: number, length: number): void {
    if (addr % PAGE !== 0 || length % PAGE !== 0 || length === 0 || addr < this.min || addr + length > this.max) {
      throw new Error(`EINVAL: bad range ${addr.toString(16)}+${length.toString(16)}`);
    }
  }

  map(addr: number, length: number, fileOffset: number, prot: number): void {
    this.check(addr, length);
    this.mapCalls++;
    this.mf.incRef(fileOffset, length);
    for (let i = 0; i < length; i += PAGE) {
      const old = this.pmas.get(addr + i);
      if (old !== undefined) this.mf.decRef(old.off, PAGE);
      this.pmas.set(addr + i, { off: fileOffset + i, prot });
    }
  }

  unmap(addr: number, length: number): void {
    this.check(addr, length);
    for (let i = 0; i < length; i += PAGE) {
      const old = this.pmas.get(addr + i);
      if (old !== undefined) {
        this.mf.decRef(old.off, PAGE);
        this.pmas.delete(addr + i);
      }
    }
  }

  protect(addr: number, length: number, prot: number): void {
    this.check(addr, length);
    for (let i = 0; i < length; i += PAGE) {
      const p = this.pmas.get(addr + i);
      if (p !== undefined) p.prot = prot;
    }
  }

  /** Map in target, at to, what is mapped at [from, +length) here, with prot; holes stay
   *  holes (the addon's one-crossing copy for fork and mremap). */
  copyMappingsTo(target: NativeAddressSpace, from: number, to: number, length: number, prot: number): void {
    const src: [number, number][] = [];
    for (let i = 0; i < length; i += PAGE) {
      const p = this.pmas.get(from + i);
      if (p !== undefined) src.push([i, p.off]);
    }
    for (const [i, off] of src) target.map(to + i, PAGE, off, prot);
  }

  private peak = 0;
  residentBytes(addr: number, length: number): number {
    let n = 0;
    for (const a of this.pmas.keys()) if (a + PAGE > addr && a < addr + length) n += Math.min(a + PAGE, addr + length) - Math.max(a, addr);
    return n;
  }
  residentTotal(): number[] {
    this.peak = Math.max(this.peak, this.pmas.size * PAGE);
    return [this.pmas.size * PAGE, this.peak];
  }

  lookup(addr: number, protOut: Int32Array): number {
    const p = this.pmas.get(addr - (addr % PAGE));
    if (p === undefined) return -1;
    protOut[0] = p.prot;
    return p.off + (addr % PAGE);
  }

  holeAround(addr: number, lo: number, hi: number, endOut: Float64Array): number {
    if (this.pmas.has(addr)) return -1;
    let start = addr;
    let end = addr + PAGE;
    while (start > lo && !this.pmas.has(start - PAGE)) start -= PAGE;
    while (end < hi && !this.pmas.has(end)) end += PAGE;
    endOut[0] = end;
    return start;
  }

  writeProtectedRun(addr: number, lo: number, hi: number, exclusive: boolean, endOut: Float64Array): number {
    const reusable = (a: number): boolean => {
      const p = this.pmas.get(a);
      return p !== undefined && (p.prot & 2) === 0 && (this.mf.refCount(p.off) === 1) === exclusive;
    };
    let start = addr - (addr % PAGE);
    let end = start;
    if (reusable(start)) {
      end += PAGE;
      while (start - PAGE >= lo && reusable(start - PAGE)) start -= PAGE;
      while (end + PAGE <= hi && reusable(end)) end += PAGE;
    }
    endOut[0] = end;
    return start;
  }

  private walk(addr: number, length: number, need: number, f: (off: number, done: number, n: number) => void): number {
    let done = 0;
    while (done < length) {
      const a = addr + done;
      const p = this.pmas.get(a - (a % PAGE));
      if (p === undefined || (p.prot & need) !== need) break;
      const n = Math.min(length - done, PAGE - (a % PAGE));
      f(p.off + (a % PAGE), done, n);
      done += n;
    }
    return done;
  }

  copyIn(addr: number, dst: Uint8Array): number {
    return this.walk(addr, dst.length, 1, (off, done, n) => this.mf.read(off, dst.subarray(done, done + n)));
  }

  copyOut(addr: number, src: Uint8Array): number {
    return this.walk(addr, src.length, 2, (off, done, n) => this.mf.write(off, src.subarray(done, done + n)));
  }

  zeroOut(addr: number, length: number): number {
    return this.walk(addr, length, 2, (off, _done, n) => this.mf.write(off, new Uint8Array(n)));
  }

  copyOutFromFile(addr: number, fileOffset: number, length: number): number {
    return this.walk(addr, length, 2, (off, done, n) => {
      const buf = new Uint8Array(n);
      this.mf.read(fileOffset + done, buf);
      this.mf.write(off, buf);
    });
  }

  copyInToFile(addr: number, fileOffset: number, length: number): number {
    return this.walk(addr, length, 1, (off, done, n) => {
      const buf = new Uint8Array(n);
      this.mf.read(off, buf);
      this.mf.write(fileOffset + done, buf);
    });
  }

  beginBatch(): void { /* applied at once */ }
  endBatch(): void { /* nothing queued */ }

  preadInto(addr: number, length: number, hostFd: number, offset: number): number {
    return this.hostIo(addr, length, 2, (off, done, n) => {
      const buf = new Uint8Array(n);
      const got = fs.readSync(hostFd, buf, 0, n, offset + done);
      this.mf.write(off, buf.subarray(0, got));
      return got;
    });
  }

  pwriteFrom(addr: number, length: number, hostFd: number, offset: number): number {
    return this.hostIo(addr, length, 1, (off, done, n) => {
      const buf = new Uint8Array(n);
      this.mf.read(off, buf);
      return fs.writeSync(hostFd, buf, 0, n, offset + done);
    });
  }

  /** The addon's result encoding (addon.ts): bytes, -errno before any byte, or a hole. */
  private hostIo(addr: number, length: number, need: number, f: (off: number, done: number, n: number) => number): number {
    let done = 0;
    while (done < length) {
      const a = addr + done;
      const p = this.pmas.get(a - (a % PAGE));
      if (p === undefined || (p.prot & need) !== need) return -(HOST_IO_HOLE + done);
      const n = Math.min(length - done, PAGE - (a % PAGE));
      let got: number;
      try { got = f(p.off + (a % PAGE), done, n); } catch (e) {
        return done > 0 ? done : -Math.abs((e as { errno?: number }).errno ?? 5);
      }
      done += got;
      if (got < n) break;
    }
    return done;
  }

  release(): void {
    for (const p of this.pmas.values()) this.mf.decRef(p.off, PAGE);
    this.pmas.clear();
    this.released = true;
  }

  resetCalls = 0;
  /** Every mapping goes; the address space stays usable (execve keeping it). */
  resetForExec(): void {
    this.resetCalls++;
    for (const p of this.pmas.values()) this.mf.decRef(p.off, PAGE);
    this.pmas.clear();
  }

  /** Test helper: read application memory ignoring protections (like a debugger). */
  peek(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const a = addr + i;
      const p = this.pmas.get(a - (a % PAGE));
      if (p === undefined) throw new Error(`peek: ${a.toString(16)} not mapped`);
      const b = new Uint8Array(1);
      this.mf.read(p.off + (a % PAGE), b);
      out[i] = b[0];
    }
    return out;
  }
}

export const MIN_ADDR = 0x10000;
export const MAX_ADDR = 0x7fff_ffff_f000;

export function fakes(): { mf: FakeMemoryFile; as: FakeAddressSpace } {
  const mf = new FakeMemoryFile();
  return { mf, as: new FakeAddressSpace(mf, MIN_ADDR, MAX_ADDR) };
}
