// TmpfsRegular's data paths against a byte-array model, from fixed seeds: the buffer read and
// write (sendfile, splice, the loader) and the application-range ones (read(2)/write(2)),
// over files whose pages are scattered in the memory file (two files written in turn), with
// holes, punched holes, truncation, and application ranges that end at an unmapped page
// (a write that faults at once still moves the size to its position, as Linux's does).
import { describe, expect, it } from 'vitest';
import { TmpfsFS } from '../../../ts/fsimpl/tmpfs/tmpfs';
import { TmpfsRegular } from '../../../ts/fsimpl/tmpfs/regular';
import type { UserMemory } from '../../../ts/mm/copy';
import { S_IFREG } from '../../../ts/abi/linux/stat';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EFAULT } from '../../../ts/abi/linux/errno';
import { FakeMemoryFile } from '../mm/fake_native';
import { FakeMemory, PAGE } from '../syscalls/fakes';

function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

const USER = 0x100000; // application buffer: 64 pages mapped, then one unmapped page
const USER_PAGES = 64;

class Model {
  bytes = new Uint8Array(0);
  write(src: Uint8Array, at: number): void {
    if (at + src.length > this.bytes.length) this.resize(at + src.length);
    this.bytes.set(src, at);
  }
  resize(n: number): void {
    const b = new Uint8Array(n);
    b.set(this.bytes.subarray(0, Math.min(n, this.bytes.length)));
    this.bytes = b;
  }
  punch(at: number, len: number): void {
    // Only whole pages become holes; partial ones are zeroed in place.
    this.bytes.fill(0, at, Math.min(at + len, this.bytes.length));
  }
}

function setup(): { mem: FakeMemory; mm: UserMemory; files: TmpfsRegular[] } {
  const fs = new TmpfsFS(new FakeMemoryFile());
  const mem = new FakeMemory();
  mem.map(USER, USER_PAGES * PAGE);
  const files = [0, 1].map(() => new TmpfsRegular(fs, S_IFREG | 0o644, 0, 0));
  return { mem, mm: mem as unknown as UserMemory, files };
}

function fill(r: (n: number) => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = 1 + r(255);
  return b;
}

describe('TmpfsRegular data paths against a model', () => {
  for (const seed of [1, 7, 42, 1234, 99991]) {
    it(`seed ${seed}`, () => {
      const r = rng(seed);
      const { mem, mm, files } = setup();
      const models = files.map(() => new Model());
      const maxLen = 6 * PAGE;
      for (let step = 0; step < 400; step++) {
        const which = r(2);
        const f = files[which];
        const m = models[which];
        const at = r(24 * PAGE);
        const len = 1 + r(maxLen);
        switch (r(7)) {
          case 0: { // buffer write
            const src = fill(r, len);
            expect(f.write(src, at)).toBe(len);
            m.write(src, at);
            break;
          }
          case 1: { // write(2) from application ranges, maybe running into the unmapped page
            const src = fill(r, len);
            const base = USER + r((USER_PAGES + 1) * PAGE); // the last page is unmapped
            const room = Math.max(0, USER + USER_PAGES * PAGE - base);
            mem.copyOut(base, src.subarray(0, Math.min(len, room)));
            const split = r(4) === 0 ? Math.min(room, len) : r(len + 1);
            const ranges = [{ base, len: split }, { base: base + split, len: len - split }].filter((x) => x.len > 0);
            let n: number;
            try {
              n = f.writeFromUser(mm, ranges, at);
            } catch (e) {
              expect((e as SyscallError).errno).toBe(EFAULT);
              expect(room).toBe(0);
              // Linux's shmem_write_end moves i_size to the write's position even when
              // nothing was copied.
              if (at > m.bytes.length) m.resize(at);
              break;
            }
            expect(room).toBeGreaterThan(0); // else EFAULT
            expect(n).toBe(Math.min(len, room));
            m.write(src.subarray(0, n), at);
            break;
          }
          case 2: { // buffer read
            const dst = new Uint8Array(len).fill(0xee);
            const n = f.read(dst, at);
            const want = Math.max(0, Math.min(len, m.bytes.length - at));
            expect(n).toBe(want);
            expect(Buffer.from(dst.subarray(0, n)).equals(Buffer.from(m.bytes.subarray(at, at + n)))).toBe(true);
            break;
          }
          case 3: { // read(2) into application ranges, maybe running into the unmapped page
            const base = USER + r((USER_PAGES + 1) * PAGE); // the last page is unmapped
            const room = Math.max(0, USER + USER_PAGES * PAGE - base);
            const want = Math.max(0, Math.min(len, m.bytes.length - at));
            let n: number;
            try {
              // Now and then the second range starts right at the unmapped page.
              const split = r(4) === 0 ? Math.min(room, len) : r(len + 1);
              n = f.readToUser(mm, [{ base, len: split }, { base: base + split, len: len - split }].filter((x) => x.len > 0), at);
            } catch (e) {
              expect((e as SyscallError).errno).toBe(EFAULT);
              expect(Math.min(want, room)).toBe(0);
              expect(want).toBeGreaterThan(0);
              break;
            }
            if (want > 0) expect(room).toBeGreaterThan(0); // else EFAULT
            expect(n).toBe(Math.min(want, room));
            expect(Buffer.from(mem.copyIn(base, n)).equals(Buffer.from(m.bytes.subarray(at, at + n)))).toBe(true);
            break;
          }
          case 4: { // punch a hole
            f.punchHole(at, len);
            m.punch(at, len);
            break;
          }
          case 5: { // truncate (shrink or grow)
            const size = r(26 * PAGE);
            f.setattr({ size });
            m.resize(size);
            break;
          }
          default: { // whole-file check
            expect(f.size).toBe(m.bytes.length);
            const all = new Uint8Array(m.bytes.length);
            expect(f.read(all, 0)).toBe(all.length);
            expect(Buffer.from(all).equals(Buffer.from(m.bytes))).toBe(true);
          }
        }
      }
    });
  }
});
