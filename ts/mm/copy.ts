// UserMemory: copying between the sentry and application memory, as every syscall does
// (Linux copy_from_user/copy_to_user/strncpy_from_user). The AddressSpace copies until it
// meets a page that is not mapped with the access needed; we then ask handleFault to make it
// so (populate, copy-on-write) and carry on, or give EFAULT. A read-only page is EFAULT for
// copyOut even though the sentry could write it: the application could not.

import type { NativeAddressSpace, NativeMemoryFile } from '../native/addon';
import { ACCESS_READ, ACCESS_WRITE, hostIoHole } from '../native/addon';
import { E2BIG, EFAULT, ENAMETOOLONG } from '../abi/linux/errno';
import { SyscallError } from '../kernel/syscall_error';
import { PAGE_SIZE } from './layout';
import { RELEASED_SPACE } from './released_space';
import { bytesToString } from '../abi/byte_string';

/** Linux MAX_ARG_STRLEN: the longest single argv/envp string execve takes. */
export const MAX_ARG_STRLEN = 32 * PAGE_SIZE;

/** Which side ended a copyToUserMemory short. */
export const STOP_SOURCE = 1, STOP_TARGET = 2;
export interface CrossCopy { done: number; stop: number }
const stopOut = new Int32Array(1);

export abstract class UserMemory {
  private readonly scratch = new ArrayBuffer(8);
  private readonly scratch4 = new Uint8Array(this.scratch, 0, 4);
  private readonly scratch8 = new Uint8Array(this.scratch, 0, 8);
  private readonly view = new DataView(this.scratch);
  private strBuf: Uint8Array | null = null;

  protected constructor(protected as: NativeAddressSpace, readonly minAddr: number, readonly maxAddr: number) {}

  /** The memory file behind the address space. */
  abstract readonly mf: NativeMemoryFile;

  /** Make addr accessible for `access` (ACCESS_* bits); false means the application would fault. */
  abstract handleFault(addr: number, access: number, spuriousOk?: boolean): boolean;

  /** handleFault for an I/O copy that will go on to `end`: may fault that whole stretch in
   *  at once (MemoryManager: io_fault.ts). */
  faultForIo(addr: number, _end: number, access: number): boolean {
    return this.handleFault(addr, access);
  }

  /** EFAULT unless [addr, +len) lies inside the user range (also rejects huge or NaN values). */
  private checkRange(addr: number, len: number): void {
    if (!this.inRange(addr, len)) throw new SyscallError(EFAULT);
  }

  private inRange(addr: number, len: number): boolean {
    return addr >= this.minAddr && addr + len <= this.maxAddr && Number.isSafeInteger(addr);
  }

  /** Linux access_ok: EFAULT only past the top of user space (a read that moves nothing may
   *  name any buffer below it, NULL included: vfs_read checks no more before the file says). */
  private accessOk(addr: number, len: number): void {
    if (!(addr >= 0 && addr + len <= this.maxAddr && Number.isSafeInteger(addr))) throw new SyscallError(EFAULT);
  }

  /**
   * After a short copy stopped at addr: fault it in or throw EFAULT. `last` is where the
   * previous fault was; a second stop at the same place after a successful fault means the
   * platform and the VMAs disagree, and looping would hang the sentry.
   */
  private faultOrThrow(addr: number, access: number, last: number): number {
    if (addr === last || !this.handleFault(addr, access)) throw new SyscallError(EFAULT);
    return addr;
  }

  copyIn(addr: number, length: number): Uint8Array {
    const dst = new Uint8Array(length);
    this.copyInto(addr, dst);
    return dst;
  }

  copyInto(addr: number, dst: Uint8Array): void {
    if (dst.length === 0) return;
    this.checkRange(addr, dst.length);
    let done = this.as.copyIn(addr, dst);
    let last = -1;
    while (done < dst.length) {
      last = this.faultOrThrow(addr + done, ACCESS_READ, last);
      done += this.as.copyIn(addr + done, dst.subarray(done));
    }
  }

  copyOut(addr: number, src: Uint8Array): void {
    if (src.length === 0) return;
    this.checkRange(addr, src.length);
    let done = this.as.copyOut(addr, src);
    let last = -1;
    while (done < src.length) {
      last = this.faultOrThrow(addr + done, ACCESS_WRITE, last);
      done += this.as.copyOut(addr + done, src.subarray(done));
    }
  }

  zeroOut(addr: number, length: number): void {
    if (length === 0) return;
    this.checkRange(addr, length);
    let done = this.as.zeroOut(addr, length);
    let last = -1;
    while (done < length) {
      last = this.faultOrThrow(addr + done, ACCESS_WRITE, last);
      done += this.as.zeroOut(addr + done, length - done);
    }
  }

  // A tmpfs file's read(2)/write(2) straight between its memory-file pages and the
  // application (one copy, in Rust, when the file's pages are in this address space's memory
  // file, as they always are in a sandbox; through a buffer otherwise). Each returns the bytes
  // moved: short at a page the application could not access, EFAULT only if it is the first.

  /** mf's [fileOffset, +length) to application memory at addr. */
  copyOutFromFile(addr: number, mf: NativeMemoryFile, fileOffset: number, length: number): number {
    if (mf === this.mf) {
      return this.copySome(addr, length, ACCESS_WRITE, (a, done, n) => this.as.copyOutFromFile(a, fileOffset + done, n));
    }
    return this.copySome(addr, length, ACCESS_WRITE, (a, done, n) => {
      const buf = new Uint8Array(n);
      mf.read(fileOffset + done, buf);
      return this.as.copyOut(a, buf);
    });
  }

  /** Application memory at addr to mf's [fileOffset, +length). */
  copyInToFile(addr: number, mf: NativeMemoryFile, fileOffset: number, length: number): number {
    if (mf === this.mf) {
      return this.copySome(addr, length, ACCESS_READ, (a, done, n) => this.as.copyInToFile(a, fileOffset + done, n));
    }
    return this.copySome(addr, length, ACCESS_READ, (a, done, n) => {
      const buf = new Uint8Array(n);
      const got = this.as.copyIn(a, buf);
      mf.write(fileOffset + done, buf.subarray(0, got));
      return got;
    });
  }

  /** Whether dst's application memory lives in the same memory file (copyToUserMemory works). */
  sameMemoryFile(dst: UserMemory): boolean {
    return this.mf === dst.mf;
  }

  /** Application memory at `from` here to `to` in dst (this or another address space over the
   *  same memory file): one copy, memory file to memory file, faulting pages in on either
   *  side as copyIn and copyOut do. Returns the bytes copied; when short, `stop` says whose
   *  page refused: STOP_SOURCE (this side could not read) or STOP_TARGET (dst could not be
   *  written). Nothing is thrown for a fault. */
  copyToUserMemory(dst: UserMemory, from: number, to: number, length: number): CrossCopy {
    if (length === 0) return { done: 0, stop: 0 };
    if (!this.inRange(from, length)) return { done: 0, stop: STOP_SOURCE };
    // An address space an execve left behind is no native one to copy into.
    if (!dst.inRange(to, length) || dst.as === RELEASED_SPACE) return { done: 0, stop: STOP_TARGET };
    let done = 0;
    let lastFrom = -1, lastTo = -1;
    for (;;) {
      done += this.as.copyToSpace(dst.as, from + done, to + done, length - done, stopOut);
      const stop = stopOut[0];
      if (stop === 0 || done >= length) return { done, stop: 0 };
      if (stop === STOP_SOURCE) {
        const at = from + done;
        if (at === lastFrom || !this.faultForIo(at, from + length, ACCESS_READ)) return { done, stop };
        lastFrom = at;
      } else {
        const at = to + done;
        if (at === lastTo || !dst.faultForIo(at, to + length, ACCESS_WRITE)) return { done, stop: STOP_TARGET };
        lastTo = at;
      }
    }
  }

  /** Zeros to application memory at addr (a hole of the file read). */
  zeroOutSome(addr: number, length: number): number {
    return this.copySome(addr, length, ACCESS_WRITE, (a, _done, n) => this.as.zeroOut(a, n));
  }

  private copySome(addr: number, length: number, access: number, copy: (addr: number, done: number, n: number) => number): number {
    if (length === 0) return 0;
    this.checkRange(addr, length);
    let done = copy(addr, 0, length);
    let last = -1;
    while (done < length) {
      const at = addr + done;
      if (at === last || !this.faultForIo(at, addr + length, access)) {
        if (done > 0) return done;
        throw new SyscallError(EFAULT);
      }
      last = at;
      done += copy(at, done, length - done);
    }
    return done;
  }

  /** pread(2) of host fd at offset straight into [addr, +length) (one copy, by the host
   *  kernel), faulting pages in as copyOut does. Returns the bytes read: short at the file's
   *  end or at a page the application could not write (EFAULT if that is the first); a host
   *  error before any byte is thrown as its errno. fileSize, when given, is asked at a page
   *  not yet mapped: the fault then takes only the pages the read will fill, and a read
   *  that starts at or past the end touches nothing (0, whatever the buffer, as Linux). */
  preadFromHost(addr: number, length: number, hostFd: number, offset: number, fileSize?: () => number): number {
    const io = (a: number, n: number, at: number): number => this.as.preadInto(a, n, hostFd, at);
    if (fileSize === undefined) return this.hostIo(addr, length, ACCESS_WRITE, io, offset, (done) => length - done);
    return this.hostIo(addr, length, ACCESS_WRITE, io, offset, (done) => Math.min(length - done, fileSize() - (offset + done)));
  }

  /** pwrite(2) of [addr, +length) to host fd at offset, the same way (ACCESS_READ faults). */
  pwriteToHost(addr: number, length: number, hostFd: number, offset: number): number {
    return this.hostIo(addr, length, ACCESS_READ, (a, n, at) => this.as.pwriteFrom(a, n, hostFd, at), offset, (done) => length - done);
  }

  /** left(done): how many more bytes the I/O will move, asked when it stops at a page not
   *  mapped with the access (the stretch faultForIo takes; 0 or less ends the I/O there). */
  private hostIo(
    addr: number, length: number, access: number, io: (addr: number, n: number, at: number) => number, offset: number,
    left: (done: number) => number,
  ): number {
    if (length === 0) return 0;
    this.accessOk(addr, length);
    let done = 0;
    let last = -1;
    for (;;) {
      const r = io(addr + done, length - done, offset + done);
      const upTo = hostIoHole(r);
      if (upTo < 0) {
        if (r >= 0) return done + r;
        if (done > 0) return done;
        throw new SyscallError(-r);
      }
      done += upTo;
      if (done >= length) return done;
      const more = left(done);
      if (!(more > 0)) return done;
      const at = addr + done;
      if (at === last || !this.faultForIo(at, at + more, access)) {
        if (done > 0) return done;
        throw new SyscallError(EFAULT);
      }
      last = at;
    }
  }

  // Fixed-size reads and writes go through one reused scratch buffer: no allocation.

  readU32(addr: number): number {
    this.copyInto(addr, this.scratch4);
    return this.view.getUint32(0, true);
  }

  readI32(addr: number): number {
    this.copyInto(addr, this.scratch4);
    return this.view.getInt32(0, true);
  }

  readU64(addr: number): bigint {
    this.copyInto(addr, this.scratch8);
    return this.view.getBigUint64(0, true);
  }

  /** A 64-bit pointer as a number (values >= 2^53 lose precision; they are never valid addresses). */
  readPtr(addr: number): number {
    this.copyInto(addr, this.scratch8);
    return this.view.getUint32(0, true) + this.view.getUint32(4, true) * 0x1_0000_0000;
  }

  writeU32(addr: number, v: number): void {
    this.view.setUint32(0, v >>> 0, true);
    this.copyOut(addr, this.scratch4);
  }

  writeI32(addr: number, v: number): void {
    this.view.setInt32(0, v | 0, true);
    this.copyOut(addr, this.scratch4);
  }

  writeU64(addr: number, v: bigint): void {
    this.view.setBigUint64(0, BigInt.asUintN(64, v), true);
    this.copyOut(addr, this.scratch8);
  }

  /**
   * A NUL-terminated string of at most maxLen bytes including the NUL (Linux
   * strncpy_from_user with PATH_MAX): ENAMETOOLONG if there is no NUL within maxLen bytes.
   * Reads page by page so that a short string next to an unmapped page is fine.
   */
  readCString(addr: number, maxLen: number): string {
    const buf = this.strBuf ??= new Uint8Array(PAGE_SIZE);
    const parts: Uint8Array[] = [];
    let total = 0;
    let at = addr;
    // Most strings are short: start with a small read, never crossing a page in one read.
    let chunkMax = 256;
    while (total < maxLen) {
      const n = Math.min(PAGE_SIZE - (at % PAGE_SIZE), maxLen - total, chunkMax);
      chunkMax = PAGE_SIZE;
      const chunk = buf.subarray(0, n);
      this.copyInto(at, chunk);
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        if (parts.length === 0) return bytesToString(chunk.subarray(0, nul));
        parts.push(chunk.slice(0, nul));
        return bytesToString(Buffer.concat(parts));
      }
      parts.push(chunk.slice());
      total += n;
      at += n;
    }
    throw new SyscallError(ENAMETOOLONG);
  }

  /**
   * A NULL-terminated array of string pointers (argv, envp): E2BIG beyond maxCount entries
   * or for a string longer than maxStrLen.
   */
  readStringVector(addr: number, maxCount: number, maxStrLen = MAX_ARG_STRLEN): string[] {
    const out: string[] = [];
    for (let at = addr; ; at += 8) {
      const p = this.readPtr(at);
      if (p === 0) return out;
      if (out.length >= maxCount) throw new SyscallError(E2BIG);
      try {
        out.push(this.readCString(p, maxStrLen));
      } catch (e) {
        if (e instanceof SyscallError && e.errno === ENAMETOOLONG) throw new SyscallError(E2BIG);
        throw e;
      }
    }
  }
}
