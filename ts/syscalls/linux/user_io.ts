// Moving data between a FileDescription and application memory for the read and write
// families: iovec import with Linux's checks, and the transfer loop. A file that can move data
// straight to application memory (readDirect/writeDirect: the gofer's donated host fds) does;
// otherwise data goes through a sentry buffer in chunks: a regular file keeps going until the
// request is met (as Linux does), anything else stops at the first short transfer. The loop stays synchronous while
// the description answers synchronously, and becomes a Promise only if it has to wait.

import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { EFAULT, EINVAL } from '../../abi/linux/errno';
import { IOV_MAX, MAX_RW_COUNT, O_APPEND, SEEK_CUR } from '../../abi/linux/fcntl';
import type { FileDescription } from '../../vfs/file_description';
import { VfsFile } from '../../vfs/vfs_file';
import { fsizeLimit, fsizeWriteCount } from '../../kernel/fsize_limit';
import type { SyscallReturn } from './types';
import { fsnotifyAccess, fsnotifyModify } from '../../vfs/fsnotify';

export interface IOVec { base: number; len: number }

/** Highest user address + 1 on x86-64 with 4-level paging (TASK_SIZE_MAX). */
export const TASK_SIZE_MAX = 0x7ffffffff000;
const IOVEC_SIZE = 16;
const PAGE_SIZE = 4096;
/** Most bytes moved through the sentry per call into the description. */
const CHUNK = 1 << 20;
// As large as a chunk: a bulk read or write (a socket or pipe streaming 1 MiB calls) must not
// allocate a fresh buffer each call, whose external memory drives V8 into full collections.
const SCRATCH_SIZE = CHUNK;

/** Linux access_ok: the range lies below TASK_SIZE_MAX. It does not say the memory is mapped. */
export function accessOk(addr: number, len: number): boolean {
  return len <= TASK_SIZE_MAX && addr <= TASK_SIZE_MAX - len;
}

/** import_iovec: EINVAL for more than IOV_MAX entries or a negative length, EFAULT for an
 *  unreadable array or a range past user space; the total is clamped to MAX_RW_COUNT. */
export function copyInIovecs(t: Task, addr: number, count: number): IOVec[] {
  // The count is unsigned to Linux: a negative one is a huge one.
  if (count < 0 || count > IOV_MAX) fail(EINVAL);
  if (count === 0) return [];
  const raw = t.mm.copyIn(addr, count * IOVEC_SIZE);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const iovs: IOVec[] = [];
  for (let i = 0; i < count; i++) {
    const len = v.getBigInt64(i * IOVEC_SIZE + 8, true);
    if (len < 0n) fail(EINVAL);
    const base = v.getUint32(i * IOVEC_SIZE, true) + v.getUint32(i * IOVEC_SIZE + 4, true) * 0x1_0000_0000;
    iovs.push({ base, len: Number(len) });
  }
  let total = 0;
  for (const iov of iovs) {
    if (!accessOk(iov.base, iov.len)) fail(EFAULT);
    iov.len = Math.min(iov.len, MAX_RW_COUNT - total);
    total += iov.len;
  }
  return iovs;
}

/** A read position in a list of iovecs. */
export class IovCursor {
  private seg = 0;
  private off = 0;
  constructor(private readonly iovs: IOVec[]) {}

  /** Copy src out at the cursor. Returns the bytes copied before a fault; a fault before
   *  any byte is thrown. */
  copyOut(t: Task, src: Uint8Array): number {
    return this.walk(src.length, (addr, at, n) => t.mm.copyOut(addr, src.subarray(at, at + n)));
  }

  /** Fill dst from the cursor; same fault rule. */
  copyIn(t: Task, dst: Uint8Array): number {
    return this.walk(dst.length, (addr, at, n) => t.mm.copyInto(addr, dst.subarray(at, at + n)));
  }

  /** The application ranges of the next n bytes (fewer if the list ends first), without
   *  moving: empty ranges left out. */
  peek(n: number): IOVec[] {
    const out: IOVec[] = [];
    let seg = this.seg, off = this.off, left = n;
    while (left > 0 && seg < this.iovs.length) {
      const v = this.iovs[seg];
      const take = Math.min(v.len - off, left);
      if (take > 0) out.push({ base: v.base + off, len: take });
      left -= take;
      seg++;
      off = 0;
    }
    return out;
  }

  /** Move past n bytes. */
  advance(n: number): void {
    let left = n;
    while (left > 0 && this.seg < this.iovs.length) {
      const take = Math.min(this.iovs[this.seg].len - this.off, left);
      left -= take;
      this.off += take;
      if (this.off >= this.iovs[this.seg].len) { this.seg++; this.off = 0; }
    }
  }

  private walk(len: number, copy: (addr: number, at: number, n: number) => void): number {
    let done = 0;
    while (done < len && this.seg < this.iovs.length) {
      const v = this.iovs[this.seg];
      const n = Math.min(v.len - this.off, len - done);
      if (n > 0) {
        try {
          copy(v.base + this.off, done, n);
        } catch (e) {
          if (!(e instanceof SyscallError)) throw e;
          const ok = salvage(v.base + this.off, done, n, copy);
          done += ok;
          this.off += ok;
          if (done === 0) throw e;
          return done;
        }
        done += n;
        this.off += n;
      }
      if (this.off >= v.len) { this.seg++; this.off = 0; }
    }
    return done;
  }
}

/** After a copy of [addr, +n) faulted: redo it a page at a time to find how much of it can
 *  be done (faults are per page), and return that. Copies are idempotent, so the pages that
 *  made it the first time are simply copied again. */
function salvage(addr: number, at: number, n: number, copy: (addr: number, at: number, n: number) => void): number {
  let pos = addr;
  const end = addr + n;
  while (pos < end) {
    const next = Math.min(end, (Math.floor(pos / PAGE_SIZE) + 1) * PAGE_SIZE);
    try {
      copy(pos, at + (pos - addr), next - pos);
    } catch {
      break;
    }
    pos = next;
  }
  return pos - addr;
}

/** Copy src out to addr; on a fault, the bytes copied before it (a fault before any byte is
 *  thrown), as copy_to_user's short count lets Linux report. */
export function copyOutPartial(t: Task, addr: number, src: Uint8Array): number {
  return new IovCursor([{ base: addr, len: src.length }]).copyOut(t, src);
}

// Reusable buffers: a transfer takes one and gives it back when it settles. One that has to
// wait keeps its own meanwhile, so a few are kept: a reader blocked on a socket or pipe must
// not make each write of its peer allocate.
const SPARES_MAX = 4;
const spares: Uint8Array[] = [new Uint8Array(SCRATCH_SIZE)];

function takeBuffer(n: number): Uint8Array {
  if (n > SCRATCH_SIZE) return new Uint8Array(n);
  return (spares.pop() ?? new Uint8Array(SCRATCH_SIZE)).subarray(0, n);
}

function giveBuffer(b: Uint8Array): void {
  if (b.buffer.byteLength === SCRATCH_SIZE && spares.length < SPARES_MAX && b.buffer instanceof ArrayBuffer) spares.push(new Uint8Array(b.buffer));
}

export function totalLength(iovs: IOVec[]): number {
  let total = 0;
  for (const v of iovs) total += v.len;
  return total;
}

/** The first n bytes of the iovecs. */
export function truncateIovecs(iovs: IOVec[], n: number): IOVec[] {
  const out: IOVec[] = [];
  for (const v of iovs) {
    if (n <= 0) break;
    out.push({ base: v.base, len: Math.min(v.len, n) });
    n -= v.len;
  }
  return out;
}

/** After `done` bytes, a failure is reported as the short count, as Linux does. */
function failAfter(done: number, e: unknown): number {
  if (done > 0 && e instanceof SyscallError) return done;
  throw e;
}

function unread(f: FileDescription, n: number): void {
  try {
    f.lseek(-n, SEEK_CUR);
  } catch {
    // A file that cannot step back keeps its position; the bytes are lost, as on a pipe.
  }
}

/** Read from f into the iovecs, at offset (or the file position when -1). */
export function readToUser(t: Task, f: FileDescription, iovs: IOVec[], offset: number): SyscallReturn {
  const total = totalLength(iovs);
  if (total === 0) return 0;
  const direct = f.readDirect?.(t, iovs, offset);
  if (direct !== undefined) return fsnotifyAccess(f, direct);
  const cursor = new IovCursor(iovs);
  let done = 0;
  // Hand n freshly read bytes to the application; true if the loop should read more.
  const deliver = (buf: Uint8Array, n: number): boolean => {
    let copied = 0;
    try {
      copied = n > 0 ? cursor.copyOut(t, buf.subarray(0, n)) : 0;
    } finally {
      // Bytes read but not delivered were not read, as far as a seekable file's position goes;
      // a stream that took them from a queue of its own gives them to the next read.
      if (copied < n && offset < 0 && f.seekable) unread(f, n - copied);
      else if (copied < n && f.putBack) f.putBack(buf.subarray(copied, n));
    }
    done += copied;
    return copied === buf.length && f.seekable && done < total;
  };
  const settle = (buf: Uint8Array, n: number): SyscallReturn => {
    let more: boolean;
    try {
      more = deliver(buf, n);
    } catch (e) {
      return failAfter(done, e);
    } finally {
      giveBuffer(buf);
    }
    return more ? loop() : done;
  };
  const loop = (): SyscallReturn => {
    for (;;) {
      const buf = takeBuffer(Math.min(total - done, CHUNK));
      let r: number | Promise<number>;
      try {
        r = f.read(t, buf, offset < 0 ? -1 : offset + done);
      } catch (e) {
        giveBuffer(buf);
        return failAfter(done, e);
      }
      if (typeof r !== 'number') {
        return r.then((n) => settle(buf, n), (e: unknown) => { giveBuffer(buf); return failAfter(done, e); });
      }
      let more: boolean;
      try {
        more = deliver(buf, r);
      } catch (e) {
        return failAfter(done, e);
      } finally {
        giveBuffer(buf);
      }
      if (!more) return done;
    }
  };
  return fsnotifyAccess(f, loop());
}

/** Write the iovecs' data to f, at offset (or the file position when -1). */
export function writeFromUser(t: Task, f: FileDescription, iovs: IOVec[], offset: number): SyscallReturn {
  let total = totalLength(iovs);
  if (total === 0) return 0;
  if (f instanceof VfsFile && fsizeLimit(t) !== Infinity && f.inode.isRegular) {
    const pos = offset >= 0 ? offset : (f.flags & O_APPEND) !== 0 ? f.size() : f.lseek(0, SEEK_CUR);
    const allowed = fsizeWriteCount(t, pos, total);
    if (allowed < total) { iovs = truncateIovecs(iovs, allowed); total = allowed; }
  }
  const direct = f.writeDirect?.(t, iovs, offset);
  if (direct !== undefined) return fsnotifyModify(f, direct);
  const cursor = new IovCursor(iovs);
  let done = 0;
  const more = (want: number, n: number): boolean => {
    done += n;
    return n === want && done < total;
  };
  const loop = (): SyscallReturn => {
    for (;;) {
      const buf = takeBuffer(Math.min(total - done, CHUNK));
      let r: number | Promise<number>;
      try {
        // A fault part-way through the data writes what came before it.
        let gathered = cursor.copyIn(t, buf);
        // A pipe or socket drops the page it could not fill (pipe_write): only whole pages
        // copied before the fault are written.
        if (gathered < buf.length && !f.seekable) {
          gathered -= gathered % PAGE_SIZE;
          if (gathered === 0) fail(EFAULT);
        }
        r = f.write(t, gathered === buf.length ? buf : buf.subarray(0, gathered), offset < 0 ? -1 : offset + done);
      } catch (e) {
        giveBuffer(buf);
        return failAfter(done, e);
      }
      const want = buf.length;
      if (typeof r !== 'number') {
        return r.then(
          (n) => { giveBuffer(buf); return more(want, n) ? loop() : done; },
          (e: unknown) => { giveBuffer(buf); return failAfter(done, e); },
        );
      }
      giveBuffer(buf);
      if (!more(want, r)) return done;
    }
  };
  return fsnotifyModify(f, loop());
}
