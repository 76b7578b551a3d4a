// splice, tee, vmsplice (Linux fs/splice.c): moving data into, out of and between pipes.
// The data is copied through the sentry (there are no page references to hand over), but
// the rules are Linux's: one side of splice must be a pipe, a pipe takes no offset
// (ESPIPE), SPLICE_F_NONBLOCK makes the pipe sides non-blocking whatever their O_NONBLOCK,
// a transfer waits for data to read or room to write (interruptibly) and then moves what it
// can at once, tee copies without consuming, and vmsplice is a pipe's readv/writev.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EAGAIN, EBADF, EINVAL, EPIPE, ESPIPE } from '../../abi/linux/errno';
import { MAX_RW_COUNT, O_APPEND, O_NONBLOCK, SEEK_CUR } from '../../abi/linux/fcntl';
import { SIGPIPE } from '../../abi/linux/signal';
import { SYS_splice, SYS_tee, SYS_vmsplice } from '../../abi/linux/syscall_numbers';
import { FifoFile } from '../../kernel/fifo';
import { Pipe, PipeReadEnd, PipeWriteEnd, pipeRead, pipeWrite, type PipeCaller } from '../../kernel/pipe';
import { sendSignalToThread, userSigInfo } from '../../kernel/signals';
import { FileDescription, type Stat } from '../../vfs/file_description';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { getFile, ioFile } from './fd_util';
import { copyInIovecs, readToUser, writeFromUser } from './user_io';
import { fsnotifyAccess, fsnotifyModify } from '../../vfs/fsnotify';
import { fsizeLimit, fsizeWriteCount } from '../../kernel/fsize_limit';
import { VfsFile } from '../../vfs/vfs_file';

const SPLICE_F_MOVE = 1, SPLICE_F_NONBLOCK = 2, SPLICE_F_MORE = 4, SPLICE_F_GIFT = 8;
export const SPLICE_F_ALL = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT;

export function pipeOf(f: FileDescription): Pipe | null {
  if (f instanceof PipeReadEnd || f instanceof PipeWriteEnd || f instanceof FifoFile) return f.pipe;
  return null;
}

/** Until the pipe has data to read (true) or no writer is left (false: EOF). */
function dataReady(t: Task, p: Pipe, nonblock: boolean): boolean | Promise<boolean> {
  if (p.available > 0) return true;
  if (p.writers === 0) return false;
  if (nonblock) fail(EAGAIN);
  return p.waitReadable(t).then(() => dataReady(t, p, nonblock));
}

/** Until the pipe has room; EPIPE and SIGPIPE once no reader is left. */
function roomReady(t: Task, p: Pipe, nonblock: boolean): void | Promise<void> {
  if (p.readers === 0) {
    sendSignalToThread(t, userSigInfo(t, SIGPIPE));
    fail(EPIPE);
  }
  if (p.room > 0) return;
  if (nonblock) fail(EAGAIN);
  return p.waitWritable(t).then(() => roomReady(t, p, nonblock));
}

function then<T, R>(v: T | Promise<T>, f: (v: T) => R | Promise<R>): R | Promise<R> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/** A file offset argument as copied in (EFAULT here): null for the file position. */
function rawOffset(t: Task, addr: number): number | null {
  if (addr === 0) return null;
  return Number(BigInt.asIntN(64, t.mm.readU64(addr)));
}

/** The offset once the files are checked: EINVAL when negative (rw_verify_area). */
function checkedOffset(off: number | null): number | null {
  if (off !== null && off < 0) fail(EINVAL);
  return off;
}


const NONBLOCKING = { flags: O_NONBLOCK };
/** The largest file offset (loff_t). */
const MAX_LFS_FILESIZE = (1n << 63n) - 1n;

function sysSplice(t: Task, a: SyscallArgs): SyscallReturn {
  // Linux's order: a zero length first (nothing else is looked at), the flags, both
  // descriptors, ESPIPE for an offset given with a pipe, the offsets copied in, then the
  // access modes and the pairing.
  const len = Math.min(a.size(4), MAX_RW_COUNT);
  if (len === 0) return 0;
  const flags = a.uint(5);
  if ((flags & ~SPLICE_F_ALL) !== 0) fail(EINVAL);
  const from = ioFile(t, a.int(0));
  const inAddr = a.ptr(1);
  const to = ioFile(t, a.int(2));
  const outAddr = a.ptr(3);
  const pin = pipeOf(from), pout = pipeOf(to);
  // ESPIPE before the offsets are copied in.
  if ((pin !== null && inAddr !== 0) || (pout !== null && outAddr !== 0)) fail(ESPIPE);
  const inRaw = pin === null ? rawOffset(t, inAddr) : null;
  const outRaw = pout === null ? rawOffset(t, outAddr) : null;
  return spliceFiles(t, { from, to, inOff: inRaw, outOff: outRaw,
    storeIn: (off) => t.mm.writeU64(inAddr, BigInt(off)), storeOut: (off) => t.mm.writeU64(outAddr, BigInt(off)) }, len, flags);
}

/** What a splice moves between: the files, their offsets (null: the file position), and
 *  where a moved offset is stored back (splice(2)'s loff_t; io_uring keeps none). */
export interface SpliceEnds {
  from: FileDescription;
  to: FileDescription;
  inOff: number | null;
  outOff: number | null;
  storeIn?: (off: number) => void;
  storeOut?: (off: number) => void;
}

/** do_splice once the descriptors are found and an offset with a pipe refused (ESPIPE).
 *  Data moved is IN_MODIFY for the destination, then IN_ACCESS for the source, whichever
 *  of them is a pipe (do_splice's fsnotify_modify and fsnotify_access, Linux 6.4+). */
export function spliceFiles(t: Task, e: SpliceEnds, len: number, flags: number): SyscallReturn {
  return fsnotifyAccess(e.from, fsnotifyModify(e.to, spliceData(t, e, len, flags)));
}

function spliceData(t: Task, e: SpliceEnds, len: number, flags: number): SyscallReturn {
  const { from, to } = e;
  const pin = pipeOf(from), pout = pipeOf(to);
  if ((pin !== null && e.inOff !== null) || (pout !== null && e.outOff !== null)) fail(ESPIPE);
  if (!from.readable || !to.writable) fail(EBADF);
  if (pin !== null && pin === pout) fail(EINVAL);
  if (pin !== null && pout === null && (to.flags & O_APPEND) !== 0) fail(EINVAL);
  if (pin === null && pout === null) fail(EINVAL);
  const inOff = checkedOffset(e.inOff);
  const outOff = checkedOffset(e.outOff);
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  // rw_verify_area: the write may not run past the largest offset.
  const fileOut = pout === null && to instanceof VfsFile && to.inode.isRegular ? to : null;
  const outPos = fileOut === null ? 0 : outOff ?? fileOut.lseek(0, SEEK_CUR);
  if (fileOut !== null && outPos + len > Number.MAX_SAFE_INTEGER && BigInt(outPos) + BigInt(len) > MAX_LFS_FILESIZE) fail(EINVAL);
  if (pin !== null) {
    // From a pipe: what it holds now (up to len), to a pipe's room or to the file.
    return then(dataReady(t, pin, nonblock), (ready) => {
      if (!ready) return 0;
      // The file's write checks, once there is data (generic_write_checks): RLIMIT_FSIZE.
      if (fileOut !== null && fsizeLimit(t) !== Infinity) len = fsizeWriteCount(t, outPos, len);
      const move = (n: number): number | Promise<number> => {
        const buf = new Uint8Array(n);
        if (pout !== null) return pipeWrite(t, pout, NONBLOCKING, buf.subarray(0, pin.tryRead(buf)));
        // Only what the file took leaves the pipe: a non-blocking socket that takes part
        // leaves the rest queued for the next splice (splice_to_socket consumes as it sends).
        // A write that must wait owns its bytes at once, as Linux's holds the pipe's lock:
        // no other reader may see them meanwhile.
        const got = pin.peek(buf);
        const w = to.write(t, buf.subarray(0, got), outOff ?? -1);
        if (typeof w === 'number') {
          if (w > 0) pin.tryRead(new Uint8Array(w));
          if (outOff !== null) e.storeOut?.(outOff + w);
          return w;
        }
        pin.tryRead(new Uint8Array(got));
        return w.then((done) => {
          if (outOff !== null) e.storeOut?.(outOff + done);
          return done;
        });
      };
      if (pout === null) return move(Math.min(len, pin.available));
      return then(roomReady(t, pout, nonblock), () => move(Math.min(len, pin.available, pout.room)));
    });
  }
  // From a file into a pipe: as much as the pipe has room for, read at once.
  const out = pout as Pipe;
  return then(roomReady(t, out, nonblock), () => {
    const buf = new Uint8Array(Math.min(len, out.room));
    return then(from.read(t, buf, inOff ?? -1), (n) => {
      if (inOff !== null) e.storeIn?.(inOff + n);
      return n === 0 ? 0 : pipeWrite(t, out, NONBLOCKING, buf.subarray(0, n));
    });
  });
}

function sysTee(t: Task, a: SyscallArgs): SyscallReturn {
  // The flags first, then a zero length, then the descriptors.
  const flags = a.uint(3);
  if ((flags & ~SPLICE_F_ALL) !== 0) fail(EINVAL);
  const len = Math.min(a.size(2), MAX_RW_COUNT);
  if (len === 0) return 0;
  return teeFiles(t, ioFile(t, a.int(0)), ioFile(t, a.int(1)), len, flags);
}

/** do_tee once the descriptors are found. */
export function teeFiles(t: Task, from: FileDescription, to: FileDescription, len: number, flags: number): SyscallReturn {
  const pin = pipeOf(from), pout = pipeOf(to);
  if (!from.readable || !to.writable) fail(EBADF);
  if (pin === null || pout === null || pin === pout) fail(EINVAL);
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  return then(dataReady(t, pin, nonblock), (ready) => {
    if (!ready) return 0;
    return then(roomReady(t, pout, nonblock), () => {
      const buf = new Uint8Array(Math.min(len, pin.available, pout.room));
      const n = pin.peek(buf);
      return pipeWrite(t, pout, NONBLOCKING, buf.subarray(0, n));
    });
  });
}

/** A pipe end's transfers with vmsplice's idea of blocking, for the readv/writev loops: a
 *  write waits for room once (vmsplice_to_pipe's wait_for_space), then puts in what fits
 *  and returns, where a pipe's write(2) would wait until all of it is in. */
class PipeView extends FileDescription {
  private waitedForRoom = false;

  constructor(private readonly pipe: Pipe, private readonly caller: PipeCaller, private readonly of: FileDescription) {
    super(of.flags);
  }

  override read(t: Task, dst: Uint8Array): number | Promise<number> { return pipeRead(t, this.pipe, this.caller, dst); }
  override write(t: Task, src: Uint8Array): number | Promise<number> {
    const fill = (): number | Promise<number> => pipeWrite(t, this.pipe, NONBLOCKING, src);
    if (this.waitedForRoom) return fill();
    this.waitedForRoom = true;
    return then(roomReady(t, this.pipe, (this.caller.flags & O_NONBLOCK) !== 0), fill);
  }
  override stat(): Stat { return this.of.stat(); }
}

function sysVmsplice(t: Task, a: SyscallArgs): SyscallReturn {
  const f = getFile(t, a.int(0));
  const flags = a.uint(3);
  if ((flags & ~SPLICE_F_ALL) !== 0) fail(EINVAL);
  const p = pipeOf(f);
  if (p === null) fail(EBADF);
  const iovs = copyInIovecs(t, a.ptr(1), a.int(2));
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  const view = new PipeView(p, { flags: nonblock ? O_NONBLOCK : f.flags }, f);
  if (f.writable) return writeFromUser(t, view, iovs, -1);
  if (f.readable) return readToUser(t, view, iovs, -1);
  fail(EBADF);
}

export function registerSplice(table: SyscallTable): void {
  table[SYS_splice] = { name: 'splice', handler: sysSplice, args: ['fd', 'ptr', 'fd', 'ptr', 'size', 'hex'] };
  table[SYS_tee] = { name: 'tee', handler: sysTee, args: ['fd', 'fd', 'size', 'hex'] };
  table[SYS_vmsplice] = { name: 'vmsplice', handler: sysVmsplice, args: ['fd', 'iovec', 'int', 'hex'] };
}
