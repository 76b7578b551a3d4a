// What each io_uring request does (Linux io_uring/opdef.c and the op files). A request runs
// at once in the submitting task, never waiting: the task's blocking points answer EAGAIN
// while it runs (Task.ioNowait), and a request that would have waited on a pollable file is
// parked on the file's readiness and tried again when it may progress (Linux's internal
// poll, io_arm_poll_handler), completing later through the ring. Files opened O_NONBLOCK and
// RWF_NOWAIT/MSG_DONTWAIT requests complete with -EAGAIN instead, as on Linux.
//
// Most requests are the syscall of the same name with the SQE's fields as arguments: they
// run through the syscall table, so their checks and errnos are those of the syscalls; a
// fixed file (IOSQE_FIXED_FILE) is lent to the task's table for the call (FDTable.lend),
// and a new descriptor for a direct slot (file_index) is moved into the ring's table.
// Reads, writes, fsync, poll and splice use the file itself. A request that must wait
// without a file to poll (an open under a lease, a splice) runs as an io-wq worker would
// (asWorker). Provided buffers (IOSQE_BUFFER_SELECT) serve READ and RECV; RECV and ACCEPT
// may be multishot. Not done: URING_CMD, SENDMSG_ZC, RECVMSG with provided buffers; the
// probe says which. LINK_TIMEOUT is sys_io_uring.ts's (it guards the request before it).

import type { Task } from '../../kernel/task';
import type { FileDescription } from '../../vfs/file_description';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { completionErrno, fail } from '../../kernel/syscall_error';
import {
  E2BIG, EAGAIN, EBADF, EBADFD, ECANCELED, EINTR, ENOTSOCK, EFAULT, EINVAL, ENOENT, ENXIO, ENOTSUP as EOPNOTSUPP, EOVERFLOW, ETIME, EALREADY,
} from '../../abi/linux/errno';
import { O_CLOEXEC, O_NONBLOCK, O_PATH } from '../../abi/linux/fcntl';
import { SPLICE_F_ALL, spliceFiles, teeFiles } from './sys_splice';
import { Socket } from '../../net/socket';
import { POLLERR, POLLHUP, POLLIN, POLLOUT } from '../../abi/linux/poll';
import * as nr from '../../abi/linux/syscall_numbers';
import { VfsFile } from '../../vfs/vfs_file';
import { hasFsync } from '../../vfs/fsync';
import { copyInIovecs, readToUser, totalLength, writeFromUser, type IOVec } from './user_io';
import { getFile } from './fd_util';
import { LENT_FD } from '../../vfs/fd_table';
import { IORING_FILE_INDEX_ALLOC } from '../../kernel/io_uring/file_table';
import type { PickedBuffer } from '../../kernel/io_uring/provided_buffers';
import { SOCK_CLOEXEC, SOCK_NONBLOCK } from '../../abi/linux/socket';
import { copyInTimespec, timespecToNs, timespecValid } from './timespec';
import { afterNs, type IoWorkerWait } from '../../kernel/blocking';
import {
  IOSQE_ASYNC, IOSQE_BUFFER_SELECT, IOSQE_CQE_SKIP_SUCCESS, IOSQE_FIXED_FILE, IOSQE_IO_DRAIN, IOSQE_IO_HARDLINK,
  IOSQE_IO_LINK, IORING_SETUP_IOPOLL, IoUringFile, type IoRequest,
} from '../../kernel/io_uring/context';

export const IORING_OP_LAST = 49;
export const IORING_OP_LINK_TIMEOUT = 15;
const OP = {
  NOP: 0, READV: 1, WRITEV: 2, FSYNC: 3, READ_FIXED: 4, WRITE_FIXED: 5, POLL_ADD: 6, POLL_REMOVE: 7,
  SYNC_FILE_RANGE: 8, SENDMSG: 9, RECVMSG: 10, TIMEOUT: 11, TIMEOUT_REMOVE: 12, ACCEPT: 13, ASYNC_CANCEL: 14,
  LINK_TIMEOUT: 15, CONNECT: 16, FALLOCATE: 17, OPENAT: 18, CLOSE: 19, FILES_UPDATE: 20, STATX: 21, READ: 22,
  WRITE: 23, FADVISE: 24, MADVISE: 25, SEND: 26, RECV: 27, OPENAT2: 28, EPOLL_CTL: 29, SPLICE: 30,
  PROVIDE_BUFFERS: 31, REMOVE_BUFFERS: 32, TEE: 33, SHUTDOWN: 34, RENAMEAT: 35, UNLINKAT: 36, MKDIRAT: 37,
  SYMLINKAT: 38, LINKAT: 39, MSG_RING: 40, FSETXATTR: 41, SETXATTR: 42, FGETXATTR: 43, GETXATTR: 44, SOCKET: 45,
  SEND_ZC: 47,
} as const;
const IOSQE_KNOWN = IOSQE_FIXED_FILE | IOSQE_IO_DRAIN | IOSQE_IO_LINK | IOSQE_IO_HARDLINK | IOSQE_ASYNC |
  IOSQE_BUFFER_SELECT | IOSQE_CQE_SKIP_SUCCESS;
const IORING_CQE_F_MORE = 2;
const IORING_POLL_ADD_MULTI = 1, IORING_POLL_UPDATE_EVENTS = 2, IORING_POLL_UPDATE_USER_DATA = 4, IORING_POLL_ADD_LEVEL = 8;
export const IORING_TIMEOUT_ABS = 1, IORING_TIMEOUT_BOOTTIME = 4, IORING_TIMEOUT_REALTIME = 8;
const IORING_TIMEOUT_UPDATE = 2,
  IORING_LINK_TIMEOUT_UPDATE = 16, IORING_TIMEOUT_ETIME_SUCCESS = 32;
const IORING_ASYNC_CANCEL_ALL = 1, IORING_ASYNC_CANCEL_FD = 2, IORING_ASYNC_CANCEL_ANY = 4;
const IORING_FSYNC_DATASYNC = 1;
const RWF_NOWAIT = 8, RWF_SUPPORTED = 0x1f;
const MSG_DONTWAIT = 0x40;
const NONE = -1n; // an offset of -1: the file position

/** The fields of struct io_uring_sqe. */
export interface Sqe {
  opcode: number; flags: number; ioprio: number; fd: number; off: bigint; addr: bigint; len: number;
  opFlags: number; data: bigint; bufIndex: number; personality: number; fileIndex: number; addr3: bigint;
}

export function decodeSqe(b: Uint8Array): Sqe {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    opcode: v.getUint8(0), flags: v.getUint8(1), ioprio: v.getUint16(2, true), fd: v.getInt32(4, true),
    off: v.getBigUint64(8, true), addr: v.getBigUint64(16, true), len: v.getUint32(24, true),
    opFlags: v.getUint32(28, true), data: v.getBigUint64(32, true), bufIndex: v.getUint16(40, true),
    personality: v.getUint16(42, true), fileIndex: v.getInt32(44, true), addr3: v.getBigUint64(48, true),
  };
}

/** Syscall arguments from SQE fields (as the syscall would get them in registers). */
class ArrayArgs implements SyscallArgs {
  constructor(private readonly v: bigint[]) {}
  u64(i: number): bigint { return BigInt.asUintN(64, this.v[i] ?? 0n); }
  i64(i: number): bigint { return BigInt.asIntN(64, this.v[i] ?? 0n); }
  int(i: number): number { return Number(BigInt.asIntN(32, this.v[i] ?? 0n)); }
  uint(i: number): number { return Number(BigInt.asUintN(32, this.v[i] ?? 0n)); }
  ptr(i: number): number { return Number(this.u64(i)); }
  size(i: number): number { return Number(this.u64(i)); }
  long(i: number): number { return Number(this.i64(i)); }
}

const resOf = completionErrno;

/** fn with the task's waits answering EAGAIN: the non-blocking attempt of a request. */
function nowait(t: Task, fn: () => SyscallReturn): Promise<number> | number {
  const was = t.ioNowait;
  t.ioNowait = true;
  let r: SyscallReturn;
  try {
    r = fn();
  } catch (e) {
    return resOf(e);
  } finally {
    t.ioNowait = was;
  }
  if (typeof r !== 'object') return Number(r);
  return r.then((v) => Number(v), resOf);
}

/** The request's run: attempt, and while it says EAGAIN on a file that may become ready
 *  (and the request may wait), park it on the file's readiness and attempt again. */
function withRetry(ring: IoUringFile, req: IoRequest, t: Task, f: FileDescription | null, events: number,
  mayWait: boolean, attempt: () => SyscallReturn, finish: (res: number) => void): void {
  const go = (): void => {
    if (req.done) return;
    if (t.exited) { ring.complete(req, -ECANCELED); return; }
    const r = nowait(t, attempt);
    if (typeof r === 'number') { settle(r); return; }
    // Until the attempt settles, a cancel completes the request at once (its late result is
    // dropped): the task may go on submitting before the attempt's promise runs.
    req.cancel = () => ring.complete(req, -ECANCELED);
    r.then(settle, (e: unknown) => settle(resOf(e)));
  };
  const settle = (res: number): void => {
    if (req.done) return;
    req.cancel = undefined;
    // Nothing to poll: the attempt goes to a "worker" that may wait (Linux's io-wq punt).
    if (res === -EAGAIN && mayWait && (f === null || !f.pollable)) { asWorker(ring, req, t, attempt, finish); return; }
    if (res !== -EAGAIN || !mayWait || f === null || !f.pollable) { finish(res); return; }
    let undo: (() => void) | null = null;
    const resumeIfReady = (): void => {
      if ((f.readiness(events) & (events | POLLERR | POLLHUP)) === 0) return;
      undo?.(); undo = null; req.cancel = undefined;
      go();
    };
    undo = f.addWaiter(events, resumeIfReady);
    req.cancel = () => { undo?.(); undo = null; ring.complete(req, -ECANCELED); };
    // It may have become ready between the attempt and the waiter.
    resumeIfReady();
  };
  go();
}

/** Run attempt as an io-wq worker would: its waits are the request's own, which no signal of
 *  the task ends and the request's cancel (ASYNC_CANCEL, the ring's close) does, while the
 *  task and the ring's other requests go on. */
function asWorker(ring: IoUringFile, req: IoRequest, t: Task, attempt: () => SyscallReturn, finish: (res: number) => void): void {
  const w: IoWorkerWait = { cancel: null };
  // A cancel interrupts the worker (its wait ends with EINTR), as io-wq signals a running one.
  req.running = true;
  req.cancel = () => {
    if (w.cancel) w.cancel();
    else ring.complete(req, -EINTR);
  };
  const end = (res: number): void => { req.cancel = undefined; req.running = false; finish(res); };
  const was = t.ioWorker;
  t.ioWorker = w;
  let r: SyscallReturn;
  try {
    r = attempt();
  } catch (e) {
    r = resOf(e);
  } finally {
    t.ioWorker = was;
  }
  if (typeof r !== 'object') end(Number(r));
  else r.then((v) => end(Number(v)), (e: unknown) => end(resOf(e)));
}

export interface OpContext { table: SyscallTable; ring: IoUringFile; t: Task }

function call(ctx: OpContext, n: number, args: bigint[]): SyscallReturn {
  const e = ctx.table[n];
  if (!e) fail(EINVAL);
  return e.handler(ctx.t, new ArrayArgs(args));
}

/** The file a request names: a fixed file's slot or the task's descriptor. */
function fileOf(ctx: OpContext, sqe: Sqe): FileDescription {
  if ((sqe.flags & IOSQE_FIXED_FILE) !== 0) return ctx.ring.fixedFiles?.get(sqe.fd) ?? fail(EBADF);
  return getFile(ctx.t, sqe.fd);
}

/** The descriptor a request passes to its syscall: the SQE's, or for a fixed file its slot's
 *  file lent to the task's table for each attempt (FDTable.lend). */
interface FdRef {
  fd: bigint;
  /** The file, where one is open (a retry waits on its readiness). */
  file: FileDescription | null;
  run<T>(fn: () => T): T;
}

function fdRef(ctx: OpContext, sqe: Sqe): FdRef {
  if ((sqe.flags & IOSQE_FIXED_FILE) === 0) {
    return { fd: BigInt(sqe.fd), file: ctx.t.fdTable.get(sqe.fd) ?? null, run: (fn) => fn() };
  }
  const f = fileOf(ctx, sqe);
  return { fd: BigInt(LENT_FD), file: f, run: (fn) => ctx.t.fdTable.lend(f, () => fn()) };
}

/** What a fixed-file slot takes for fd (-1: an empty slot), with a reference held; a ring
 *  is refused, as Linux's io_is_uring_fops (EBADF). */
export function fixedFileFor(t: Task, fd: number): FileDescription | null {
  if (fd === -1) return null;
  const f = getFile(t, fd);
  if (f instanceof IoUringFile) fail(EBADF);
  f.incRef();
  return f;
}

const IORING_REGISTER_FILES_SKIP = -2;

/** __io_sqe_files_update (IORING_REGISTER_FILES_UPDATE and IORING_OP_FILES_UPDATE): slots
 *  [at, +n) from the n fds at addr (-2 leaves a slot as it is); the count done, or the
 *  first one's error. A slot is emptied before its new fd is looked up, as Linux does, so
 *  a bad fd leaves it empty and ends the update there. */
export function updateFixedFiles(t: Task, ring: IoUringFile, at: number, addr: number, n: number): number {
  const files = ring.fixedFiles;
  if (files === null) fail(ENXIO);
  if (at + n > files.length) fail(EINVAL);
  const raw = t.mm.copyIn(addr, n * 4);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let done = 0;
  for (; done < n; done++) {
    const fd = v.getInt32(done * 4, true);
    if (fd === IORING_REGISTER_FILES_SKIP) continue;
    files.set(at + done, null);
    try {
      files.set(at + done, fixedFileFor(t, fd));
    } catch (e) {
      if (done === 0) throw e;
      break;
    }
  }
  return done;
}

/** IORING_OP_FILES_UPDATE with IORING_FILE_INDEX_ALLOC (io_files_update_with_index_alloc):
 *  each fd into a free slot, whose index is written back over it. */
function updateFixedFilesAlloc(t: Task, ring: IoUringFile, addr: number, n: number): number {
  const files = ring.fixedFiles;
  if (files === null) fail(ENXIO);
  let done = 0;
  for (; done < n; done++) {
    try {
      const at = addr + done * 4;
      const fd = new DataView(t.mm.copyIn(at, 4).buffer).getInt32(0, true);
      const f = getFile(t, fd);
      f.incRef();
      const slot = files.install(f, IORING_FILE_INDEX_ALLOC, f instanceof IoUringFile);
      const out = new Uint8Array(4);
      new DataView(out.buffer).setInt32(0, slot, true);
      try {
        t.mm.copyOut(at, out);
      } catch (e) {
        files.set(slot, null);
        throw e;
      }
    } catch (e) {
      if (done === 0) throw e;
      break;
    }
  }
  return done;
}

/** A new descriptor the syscall installed, moved into the ring's fixed table (a direct
 *  descriptor, io_fixed_fd_install): 0, or the slot it allocated. */
function toFixedSlot(ctx: OpContext, fileSlot: number, res: number): number {
  if (res < 0) return res;
  const f = ctx.t.fdTable.remove(res);
  if (!f) return -EBADF; // closed by another thread while the syscall waited
  const files = ctx.ring.fixedFiles;
  if (files === null) { f.decRef(); return -ENXIO; }
  try {
    return files.install(f, fileSlot, f instanceof IoUringFile);
  } catch (e) {
    return resOf(e);
  }
}

/** Reads and writes: the buffers (fixed ones within a registered buffer), the offset. */
function rwBuffers(ctx: OpContext, sqe: Sqe, op: number): IOVec[] {
  const addr = Number(sqe.addr);
  if (op === OP.READV || op === OP.WRITEV) {
    if (sqe.bufIndex !== 0) fail(EINVAL);
    return copyInIovecs(ctx.t, addr, sqe.len);
  }
  if (op === OP.READ_FIXED || op === OP.WRITE_FIXED) {
    const bufs = ctx.ring.buffers;
    if (bufs === null || sqe.bufIndex >= bufs.length) fail(EFAULT);
    const b = bufs[sqe.bufIndex];
    if (addr < b.base || addr + sqe.len > b.base + b.len) fail(EFAULT);
  } else if (sqe.bufIndex !== 0) {
    fail(EINVAL);
  }
  return [{ base: addr, len: sqe.len }];
}

function startRw(ctx: OpContext, req: IoRequest, sqe: Sqe, finish: (res: number) => void): void {
  const write = sqe.opcode === OP.WRITEV || sqe.opcode === OP.WRITE || sqe.opcode === OP.WRITE_FIXED;
  const f = fileOf(ctx, sqe);
  if ((sqe.opFlags & ~RWF_SUPPORTED) !== 0) fail(EOPNOTSUPP);
  if (write ? !f.writable : !f.readable) fail(EBADF);
  if ((ctx.ring.setupFlags & IORING_SETUP_IOPOLL) !== 0) fail(EOPNOTSUPP); // no O_DIRECT polling here
  // -1: the file position (IORING_FEAT_RW_CUR_POS); streams have none and ignore it.
  const off = BigInt.asIntN(64, sqe.off);
  if (off < -1n) fail(EINVAL);
  const offset = !f.seekable || off === NONE ? -1 : Number(off);
  const mayWait = (sqe.opFlags & RWF_NOWAIT) === 0 && (f.flags & O_NONBLOCK) === 0;
  if ((sqe.flags & IOSQE_BUFFER_SELECT) !== 0) {
    // A READ into a provided buffer of group buf_index, taken once there is data.
    const sel = withProvidedBuffer(ctx, f, sqe.bufIndex, sqe.len, true, (b) => readToUser(ctx.t, f, [{ base: b.addr, len: b.len }], offset));
    runShots(ctx, req, f, POLLIN, mayWait, sel.attempt, (res) => [res, sel.flags(res)], null);
    return;
  }
  const iovs = rwBuffers(ctx, sqe, sqe.opcode);
  const total = totalLength(iovs);
  // A short read or write breaks a link, as Linux's req_set_fail for res != len.
  req.linkOk = (res) => res === total;
  let moved = 0;
  const attempt = (): SyscallReturn => {
    const left = moved === 0 ? iovs : skipIovecs(iovs, moved);
    return write ? writeFromUser(ctx.t, f, left, offset < 0 ? -1 : offset + moved)
      : readToUser(ctx.t, f, left, offset < 0 ? -1 : offset + moved);
  };
  // A write that could only do part carries on when there is room, as a blocking write does.
  const done = (res: number): void => {
    if (write && res > 0 && moved + res < total && mayWait) {
      moved += res;
      withRetry(ctx.ring, req, ctx.t, f, POLLOUT, mayWait, attempt, done);
      return;
    }
    finish(res >= 0 ? moved + res : moved > 0 ? moved : res);
  };
  withRetry(ctx.ring, req, ctx.t, f, write ? POLLOUT : POLLIN, mayWait, attempt, done);
}

function skipIovecs(iovs: IOVec[], n: number): IOVec[] {
  const out: IOVec[] = [];
  for (const v of iovs) {
    if (n >= v.len) { n -= v.len; continue; }
    out.push({ base: v.base + n, len: v.len - n });
    n = 0;
  }
  return out;
}

/** POLL_ADD: complete with the ready events, at once or when they come; multishot posts
 *  each readiness with IORING_CQE_F_MORE until removed. */
function startPoll(ctx: OpContext, req: IoRequest, sqe: Sqe): void {
  if (sqe.addr !== 0n || sqe.bufIndex !== 0 || sqe.off !== 0n) fail(EINVAL);
  if ((sqe.len & ~(IORING_POLL_ADD_MULTI | IORING_POLL_ADD_LEVEL)) !== 0) fail(EINVAL); // updates: POLL_REMOVE's
  const f = fileOf(ctx, sqe);
  let events = (sqe.opFlags & 0xffff) | POLLERR | POLLHUP;
  const multi = (sqe.len & IORING_POLL_ADD_MULTI) !== 0;
  const ring = ctx.ring;
  const ready = (): number => f.readiness(events) & events;
  const now = ready();
  if (now !== 0 && !multi) { ring.complete(req, now); return; }
  if (now !== 0) ring.complete(req, now, IORING_CQE_F_MORE, true);
  f.incRef();
  let undo: (() => void) | null = null;
  const end = (res: number): void => { undo?.(); undo = null; f.decRef(); ring.complete(req, res); };
  const onWake = (): void => {
    if (req.done) return;
    const m = ready();
    if (m === 0) return;
    if (multi) ring.complete(req, m, IORING_CQE_F_MORE, true);
    else end(m);
  };
  undo = f.addWaiter(events, onWake);
  req.cancel = () => end(-ECANCELED);
  req.updatePoll = (ev, data) => {
    if (data !== null) req.data = data;
    if (ev === null) return;
    events = (ev & 0xffff) | POLLERR | POLLHUP;
    undo?.();
    undo = f.addWaiter(events, onWake);
    const m = ready();
    if (m !== 0 && !multi) end(m);
  };
}

/** The requests in flight that a cancel (by user_data, or by fd, or any) names. */
function matching(ring: IoUringFile, self: IoRequest, sqe: Sqe, flags: number, only?: (r: IoRequest) => boolean): IoRequest[] {
  const out: IoRequest[] = [];
  for (const r of ring.inflight) {
    if (r === self || (only && !only(r))) continue;
    const hit = (flags & IORING_ASYNC_CANCEL_ANY) !== 0 ||
      ((flags & IORING_ASYNC_CANCEL_FD) !== 0 ? r.fd === sqe.fd : r.data === sqe.addr);
    if (!hit) continue;
    out.push(r);
    if ((flags & (IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY)) === 0) break;
  }
  return out;
}

/** Cancel what matches: 0 (or the count with ALL/ANY), -ENOENT for none, -EALREADY for one
 *  that is running (it cannot be stopped, or a worker's is interrupted). */
function cancelMatching(ring: IoUringFile, found: IoRequest[], counted: boolean): number {
  if (found.length === 0) return -ENOENT;
  let n = 0;
  let running = false;
  for (const r of found) {
    if (!r.cancel) { if (!counted) return -EALREADY; continue; }
    running ||= r.running === true;
    r.cancel();
    n++;
  }
  return counted ? n : running ? -EALREADY : 0;
}

/** TIMEOUT: -ETIME when the time passes, 0 once `off` other completions were posted. */
function startTimeout(ctx: OpContext, req: IoRequest, sqe: Sqe): void {
  if (sqe.len !== 1 || sqe.bufIndex !== 0 || sqe.fileIndex !== 0) fail(EINVAL);
  const flags = sqe.opFlags;
  if ((flags & ~(IORING_TIMEOUT_ABS | IORING_TIMEOUT_BOOTTIME | IORING_TIMEOUT_REALTIME | IORING_TIMEOUT_ETIME_SUCCESS)) !== 0) fail(EINVAL);
  if ((flags & IORING_TIMEOUT_BOOTTIME) !== 0 && (flags & IORING_TIMEOUT_REALTIME) !== 0) fail(EINVAL);
  const ns = timeoutNs(ctx.t, sqe.addr, flags);
  let count = Number(BigInt.asUintN(32, sqe.off));
  const ring = ctx.ring;
  // ETIME_SUCCESS: the expiry still says -ETIME, but does not break a link (linkOk).
  if ((flags & IORING_TIMEOUT_ETIME_SUCCESS) !== 0) req.linkOk = (res) => res >= 0 || res === -ETIME;
  let cancelTimer: (() => void) | null = null;
  const end = (res: number): void => { cancelTimer?.(); cancelTimer = null; req.onOtherCompletion = undefined; ring.complete(req, res); };
  const arm = (wait: bigint): void => {
    cancelTimer?.();
    cancelTimer = afterNs(wait < 0n ? 0n : wait, () => { cancelTimer = null; end(-ETIME); });
  };
  arm(ns);
  if (count > 0) {
    req.onOtherCompletion = () => { if (--count === 0) end(0); };
    ring.counting.add(req);
  }
  req.cancel = () => end(-ECANCELED);
  req.rearm = arm;
}

/** The wait a timeout's timespec gives, in ns from now on the clock its flags name. */
export function timeoutNs(t: Task, addr: bigint, flags: number): bigint {
  const ts = copyInTimespec(t, Number(addr));
  if (!timespecValid(ts)) fail(EINVAL);
  const ns = timespecToNs(ts);
  if ((flags & IORING_TIMEOUT_ABS) === 0) return ns;
  const k = t.kernel;
  const now = (flags & IORING_TIMEOUT_REALTIME) !== 0 ? k.realtimeNs()
    : (flags & IORING_TIMEOUT_BOOTTIME) !== 0 ? k.uptimeNs() : k.monotonicNs();
  return ns - now;
}

/** TIMEOUT_REMOVE: cancel (or, with IORING_TIMEOUT_UPDATE, re-arm) the timeout named. */
function timeoutRemove(ctx: OpContext, req: IoRequest, sqe: Sqe): number {
  if (sqe.bufIndex !== 0 || sqe.len !== 0 || sqe.fileIndex !== 0) fail(EINVAL);
  const flags = sqe.opFlags;
  const isTimeout = (r: IoRequest): boolean => r.opcode === OP.TIMEOUT;
  if ((flags & (IORING_TIMEOUT_UPDATE | IORING_LINK_TIMEOUT_UPDATE)) === 0) {
    if (flags !== 0) fail(EINVAL);
    return cancelMatching(ctx.ring, matching(ctx.ring, req, sqe, 0, isTimeout), false);
  }
  if ((flags & IORING_LINK_TIMEOUT_UPDATE) !== 0) return -ENOENT; // no linked timeouts here
  if ((flags & ~(IORING_TIMEOUT_UPDATE | IORING_TIMEOUT_ABS | IORING_TIMEOUT_BOOTTIME | IORING_TIMEOUT_REALTIME)) !== 0) fail(EINVAL);
  const [target] = matching(ctx.ring, req, sqe, 0, isTimeout);
  if (!target) return -ENOENT;
  const ns = timeoutNs(ctx.t, sqe.off, flags);
  target.rearm?.(ns);
  return 0;
}

/** Start one request (its SQE already checked for flags and opcode). Errors found now are
 *  thrown (the caller posts them); results are posted through ring.complete. */
export function issue(ctx: OpContext, req: IoRequest, sqe: Sqe): void {
  const ring = ctx.ring, t = ctx.t;
  const finish = (res: number): void => ring.complete(req, res);
  // The syscall of the same name; a file (a fixed one lent) for its retries; a new
  // descriptor it makes put in a fixed slot (fileSlot: file_index).
  const viaSyscall = (n: number, args: bigint[], events = 0, mayWait = true, ref?: FdRef, fileSlot = 0): void => {
    const f = events !== 0 ? (ref ? ref.file : t.fdTable.get(sqe.fd) ?? null) : null;
    const attempt = ref ? () => ref.run(() => call(ctx, n, args)) : () => call(ctx, n, args);
    withRetry(ring, req, t, f, events, mayWait, attempt,
      fileSlot === 0 ? finish : (res) => finish(toFixedSlot(ctx, fileSlot, res)));
  };
  if ((sqe.flags & IOSQE_BUFFER_SELECT) !== 0 && !BUFFER_SELECT_OPS.includes(sqe.opcode)) fail(EOPNOTSUPP);
  const u = (x: number): bigint => BigInt(x);
  const off = sqe.off, addr = sqe.addr, fl = u(sqe.opFlags), len = u(sqe.len);
  switch (sqe.opcode) {
    case OP.NOP: finish(0); return;
    case OP.READV: case OP.WRITEV: case OP.READ: case OP.WRITE: case OP.READ_FIXED: case OP.WRITE_FIXED:
      startRw(ctx, req, sqe, finish); return;
    case OP.FSYNC: {
      if (sqe.addr !== 0n || sqe.bufIndex !== 0 || sqe.fileIndex !== 0) fail(EINVAL);
      if ((sqe.opFlags & ~IORING_FSYNC_DATASYNC) !== 0) fail(EINVAL);
      const f = fileOf(ctx, sqe);
      if (!hasFsync(f)) { finish(-EINVAL); return; }
      if (f instanceof VfsFile) f.fsync();
      finish(0);
      return;
    }
    case OP.POLL_ADD: startPoll(ctx, req, sqe); return;
    case OP.POLL_REMOVE: {
      // With update flags, the poll named by addr gets new events (poll32_events) and/or a
      // new user_data (off) and keeps waiting; without, it is cancelled.
      const upd = sqe.len;
      if (sqe.bufIndex !== 0 || sqe.fileIndex !== 0) fail(EINVAL);
      if ((upd & ~(IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA | IORING_POLL_ADD_MULTI)) !== 0) fail(EINVAL);
      if (upd === 0 && sqe.opFlags !== 0) fail(EINVAL);
      const [target] = matching(ring, req, sqe, 0, (r) => r.opcode === OP.POLL_ADD);
      if (upd === 0 || !target) { finish(cancelMatching(ring, target ? [target] : [], false)); return; }
      target.updatePoll?.((upd & IORING_POLL_UPDATE_EVENTS) !== 0 ? sqe.opFlags : null,
        (upd & IORING_POLL_UPDATE_USER_DATA) !== 0 ? sqe.off : null);
      finish(0);
      return;
    }
    case OP.FILES_UPDATE:
      if (sqe.flags & IOSQE_FIXED_FILE || sqe.ioprio !== 0 || sqe.opFlags !== 0 || sqe.len === 0) fail(EINVAL);
      try {
        const at = Number(BigInt.asUintN(32, sqe.off));
        finish(at === IORING_FILE_INDEX_ALLOC ? updateFixedFilesAlloc(t, ring, Number(sqe.addr), sqe.len)
          : updateFixedFiles(t, ring, at, Number(sqe.addr), sqe.len));
      } catch (e) {
        finish(resOf(e));
      }
      return;
    case OP.TIMEOUT: startTimeout(ctx, req, sqe); return;
    case OP.TIMEOUT_REMOVE: finish(timeoutRemove(ctx, req, sqe)); return;
    case OP.ASYNC_CANCEL: {
      const flags = sqe.opFlags;
      if ((flags & ~(IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ANY)) !== 0) fail(EINVAL);
      if (sqe.bufIndex !== 0 || sqe.len !== 0 || sqe.off !== 0n || sqe.fileIndex !== 0) fail(EINVAL);
      const counted = (flags & (IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY)) !== 0;
      finish(cancelMatching(ring, matching(ring, req, sqe, flags), counted));
      return;
    }
    case OP.SYNC_FILE_RANGE: { const r = fdRef(ctx, sqe); viaSyscall(nr.SYS_sync_file_range, [r.fd, off, len, fl], 0, true, r); return; }
    case OP.SENDMSG: case OP.RECVMSG: case OP.SEND: case OP.RECV: startSendRecv(ctx, req, sqe); return;
    case OP.ACCEPT: startAccept(ctx, req, sqe); return;
    case OP.CONNECT: {
      if (sqe.len !== 0 || sqe.bufIndex !== 0 || sqe.opFlags !== 0 || sqe.ioprio !== 0) fail(EINVAL);
      const r = fdRef(ctx, sqe);
      let started = false;
      // The first attempt starts the connection; later ones (when writable) read its outcome.
      const attempt = (): SyscallReturn => r.run(() => {
        started = true;
        return call(ctx, nr.SYS_connect, [r.fd, addr, off]);
      });
      withRetry(ring, req, t, r.file, POLLOUT, true, attempt, (res) => finish(res === -(106 /* EISCONN */) && started ? 0 : res));
      return;
    }
    case OP.FALLOCATE: { const r = fdRef(ctx, sqe); viaSyscall(nr.SYS_fallocate, [r.fd, len, off, addr], 0, true, r); return; }
    case OP.OPENAT: case OP.OPENAT2: {
      if (sqe.bufIndex !== 0) fail(EINVAL);
      if ((sqe.flags & IOSQE_FIXED_FILE) !== 0) fail(EBADF);
      const slot = sqe.fileIndex >>> 0;
      if (sqe.opcode === OP.OPENAT) {
        if (slot !== 0 && (sqe.opFlags & O_CLOEXEC) !== 0) fail(EINVAL);
        // Linux's first try is O_NONBLOCK, cleared on the file it opens: a FIFO's open does
        // not wait for its other end (a writer without a reader: ENXIO). An open that still
        // must wait (a lease break) goes to a worker, without it.
        const userFlags = sqe.opFlags;
        let tries = 0;
        const attempt = (): SyscallReturn =>
          call(ctx, nr.SYS_openat, [BigInt(sqe.fd), addr, BigInt(tries++ === 0 ? userFlags | O_NONBLOCK : userFlags), len]);
        withRetry(ring, req, t, null, 0, true, attempt, (res) => {
          const f = res >= 0 && (userFlags & O_NONBLOCK) === 0 ? t.fdTable.get(res) : undefined;
          if (f) f.flags &= ~O_NONBLOCK;
          finish(slot === 0 ? res : toFixedSlot(ctx, slot, res));
        });
      } else {
        viaSyscall(nr.SYS_openat2, [BigInt(sqe.fd), addr, off, len], 0, true, undefined, slot);
      }
      return;
    }
    case OP.CLOSE: {
      if (sqe.off !== 0n || sqe.addr !== 0n || sqe.len !== 0 || sqe.opFlags !== 0 || sqe.bufIndex !== 0) fail(EINVAL);
      if ((sqe.flags & IOSQE_FIXED_FILE) !== 0) fail(EBADF);
      const slot = sqe.fileIndex >>> 0;
      if (slot !== 0) {
        if (sqe.fd !== 0) fail(EINVAL);
        if (ring.fixedFiles === null) { finish(-ENXIO); return; }
        ring.fixedFiles.remove(slot - 1);
        finish(0);
        return;
      }
      if (t.fdTable.get(sqe.fd) === ring) { finish(-EBADF); return; }
      viaSyscall(nr.SYS_close, [BigInt(sqe.fd)]); return;
    }
    case OP.STATX:
      if ((sqe.flags & IOSQE_FIXED_FILE) !== 0) fail(EBADF);
      viaSyscall(nr.SYS_statx, [BigInt(sqe.fd), addr, fl, len, off]); return;
    case OP.FADVISE: { const r = fdRef(ctx, sqe); viaSyscall(nr.SYS_fadvise64, [r.fd, off, len, fl], 0, true, r); return; }
    case OP.MADVISE: viaSyscall(nr.SYS_madvise, [addr, len, fl]); return;
    case OP.EPOLL_CTL:
      if ((sqe.flags & IOSQE_FIXED_FILE) !== 0) fail(EBADF);
      viaSyscall(nr.SYS_epoll_ctl, [BigInt(sqe.fd), len, off, addr]); return;
    case OP.SHUTDOWN: { const r = fdRef(ctx, sqe); viaSyscall(nr.SYS_shutdown, [r.fd, len], 0, true, r); return; }
    case OP.RENAMEAT: case OP.UNLINKAT: case OP.MKDIRAT: case OP.SYMLINKAT: case OP.LINKAT:
      if ((sqe.flags & IOSQE_FIXED_FILE) !== 0) fail(EBADF);
      viaSyscall(...pathCall(sqe)); return;
    case OP.FSETXATTR: { const r = fdRef(ctx, sqe); viaSyscall(nr.SYS_fsetxattr, [r.fd, addr, off, len, fl], 0, true, r); return; }
    case OP.SETXATTR: viaSyscall(nr.SYS_setxattr, [sqe.addr3, addr, off, len, fl]); return;
    case OP.FGETXATTR: { const r = fdRef(ctx, sqe); viaSyscall(nr.SYS_fgetxattr, [r.fd, addr, off, len], 0, true, r); return; }
    case OP.GETXATTR: viaSyscall(nr.SYS_getxattr, [sqe.addr3, addr, off, len]); return;
    case OP.SOCKET: {
      if (sqe.opFlags !== 0 || sqe.addr !== 0n || sqe.bufIndex !== 0) fail(EINVAL);
      const slot = sqe.fileIndex >>> 0;
      const type = Number(BigInt.asUintN(32, sqe.off));
      if (slot !== 0 && (type & SOCK_CLOEXEC) !== 0) fail(EINVAL);
      viaSyscall(nr.SYS_socket, [BigInt(sqe.fd), off, len], 0, true, undefined, slot); return;
    }
    case OP.PROVIDE_BUFFERS: finish(provideBuffers(ring, sqe)); return;
    case OP.REMOVE_BUFFERS: {
      if (sqe.opFlags !== 0 || sqe.addr !== 0n || sqe.len !== 0 || sqe.off !== 0n || sqe.fileIndex !== 0) fail(EINVAL);
      if (sqe.fd <= 0 || sqe.fd > 0xffff) fail(EINVAL);
      finish(ring.provided.remove(sqe.bufIndex, sqe.fd));
      return;
    }
    case OP.MSG_RING: finish(msgRing(ctx, sqe)); return;
    case OP.SPLICE: case OP.TEE: startSplice(ctx, req, sqe); return;
    case OP.SEND_ZC: startSendZc(ctx, req, sqe); return;
    default:
      fail(EINVAL);
  }
}

/** The *AT requests: their syscall and arguments. */
function pathCall(sqe: Sqe): [number, bigint[]] {
  const dfd = BigInt(sqe.fd), addr = sqe.addr, off = sqe.off, len = BigInt(sqe.len), fl = BigInt(sqe.opFlags);
  switch (sqe.opcode) {
    case OP.RENAMEAT: return [nr.SYS_renameat2, [dfd, addr, len, off, fl]];
    case OP.UNLINKAT: return [nr.SYS_unlinkat, [dfd, addr, fl]];
    case OP.MKDIRAT: return [nr.SYS_mkdirat, [dfd, addr, len]];
    case OP.SYMLINKAT: return [nr.SYS_symlinkat, [addr, dfd, off]];
    default: return [nr.SYS_linkat, [dfd, addr, len, off, fl]];
  }
}

const IORING_RECVSEND_POLL_FIRST = 1, IORING_RECV_MULTISHOT = 2;
const IORING_ACCEPT_MULTISHOT = 1;
const IORING_CQE_F_SOCK_NONEMPTY = 4;
const MSG_WAITALL = 0x100;
/** The requests that may take a provided buffer (opdef's buffer_select) here. */
const BUFFER_SELECT_OPS: readonly number[] = [OP.READ, OP.RECV];

/** Attempt after attempt until one ends the request. A multishot request (more given) posts
 *  each result that more accepts with IORING_CQE_F_MORE and goes on; past a run of them it
 *  goes on in a later turn, so a flood of ready data cannot hold the sentry. */
function runShots(ctx: OpContext, req: IoRequest, f: FileDescription | null, events: number, mayWait: boolean,
  attempt: () => SyscallReturn, result: (res: number) => [number, number], more: ((res: number) => boolean) | null): void {
  const ring = ctx.ring;
  let run = 0;
  const shot = (): void => withRetry(ring, req, ctx.t, f, events, mayWait, attempt, (raw) => {
    const [res, cflags] = result(raw);
    if (more === null || !more(res)) { ring.complete(req, res, cflags); return; }
    ring.complete(req, res, cflags | IORING_CQE_F_MORE, true);
    if (++run < 64) { shot(); return; }
    run = 0;
    const later = setImmediate(shot);
    req.cancel = () => { clearImmediate(later); ring.complete(req, -ECANCELED); };
  });
  shot();
}

/** Attempts that each take a provided buffer (IOSQE_BUFFER_SELECT from group bgid, at most
 *  want bytes) and give it back unless they moved data (a READ's end of file uses it up too,
 *  eofUses, a RECV's does not: Linux's io_kbuf_recycle for ret <= 0 in io_recv); flags names
 *  the one used. */
function withProvidedBuffer(ctx: OpContext, f: FileDescription | null, bgid: number, want: number, eofUses: boolean,
  io: (b: PickedBuffer) => SyscallReturn): { attempt: () => SyscallReturn; flags: (res: number) => number } {
  const pb = ctx.ring.provided;
  let held: PickedBuffer | null = null;
  const used = (res: number): boolean => res > 0 || (res === 0 && eofUses);
  const settle = (res: number): number => {
    if (!used(res) && held) { pb.recycle(held); held = null; }
    return res;
  };
  const attempt = (): SyscallReturn => {
    // A buffer is taken only once the file has something to give (Linux selects it as the
    // read runs, after its poll said ready).
    if (f !== null && f.pollable && (f.readiness(POLLIN) & (POLLIN | POLLERR | POLLHUP)) === 0) return -EAGAIN;
    const b = pb.select(ctx.t, bgid, want);
    held = b;
    let r: SyscallReturn;
    try {
      r = io(b);
    } catch (e) {
      settle(-1);
      throw e;
    }
    if (typeof r !== 'object') return settle(Number(r));
    return r.then((v) => settle(Number(v)), (e: unknown) => { settle(-1); throw e; });
  };
  const flags = (res: number): number => {
    const b = held;
    held = null;
    return used(res) && b ? pb.commit(b) : 0;
  };
  return { attempt, flags };
}

/** SEND, RECV, SENDMSG, RECVMSG: the socket calls; RECV may take a provided buffer and be
 *  multishot (IORING_RECV_MULTISHOT: one CQE per arrival until an error, EOF or no buffer). */
function startSendRecv(ctx: OpContext, req: IoRequest, sqe: Sqe): void {
  const send = sqe.opcode === OP.SENDMSG || sqe.opcode === OP.SEND;
  const msg = sqe.opcode === OP.SENDMSG || sqe.opcode === OP.RECVMSG;
  if (sqe.fileIndex !== 0 || sqe.off !== 0n) fail(EINVAL);
  const flags = sqe.ioprio;
  if ((flags & ~(send ? IORING_RECVSEND_POLL_FIRST : IORING_RECVSEND_POLL_FIRST | IORING_RECV_MULTISHOT)) !== 0) fail(EINVAL);
  const select = (sqe.flags & IOSQE_BUFFER_SELECT) !== 0;
  const multi = (flags & IORING_RECV_MULTISHOT) !== 0;
  if (multi && (!select || (sqe.opFlags & MSG_WAITALL) !== 0 || (!msg && sqe.len !== 0))) fail(EINVAL);
  if (multi && msg) fail(EINVAL); // multishot RECVMSG (its io_uring_recvmsg_out layout): not done
  const r = fdRef(ctx, sqe);
  const n = msg ? (send ? nr.SYS_sendmsg : nr.SYS_recvmsg) : (send ? nr.SYS_sendto : nr.SYS_recvfrom);
  const fl = BigInt(sqe.opFlags);
  const mayWait = (sqe.opFlags & MSG_DONTWAIT) === 0;
  const events = send ? POLLOUT : POLLIN;
  // More data waiting after a recv: IORING_CQE_F_SOCK_NONEMPTY (Linux reads msg_inq).
  const nonEmpty = (res: number): number =>
    !send && res > 0 && r.file !== null && (r.file.readiness(POLLIN) & POLLIN) !== 0 ? IORING_CQE_F_SOCK_NONEMPTY : 0;
  if (!select) {
    const args = msg ? [r.fd, sqe.addr, fl] : [r.fd, sqe.addr, BigInt(sqe.len), fl, 0n, 0n];
    runShots(ctx, req, r.file, events, mayWait, () => r.run(() => call(ctx, n, args)), (res) => [res, nonEmpty(res)], null);
    return;
  }
  if (msg) fail(EINVAL); // RECVMSG taking a provided buffer: not done
  const sel = withProvidedBuffer(ctx, r.file, sqe.bufIndex, sqe.len, false,
    (b) => r.run(() => call(ctx, n, [r.fd, BigInt(b.addr), BigInt(b.len), fl, 0n, 0n])));
  runShots(ctx, req, r.file, events, mayWait, sel.attempt, (res) => [res, sel.flags(res) | nonEmpty(res)],
    multi ? (res) => res > 0 : null);
}

/** ACCEPT: a descriptor, or a direct one (file_index); multishot (IORING_ACCEPT_MULTISHOT in
 *  ioprio) posts each connection until an error. */
function startAccept(ctx: OpContext, req: IoRequest, sqe: Sqe): void {
  if (sqe.len !== 0 || sqe.bufIndex !== 0) fail(EINVAL);
  const multi = (sqe.ioprio & IORING_ACCEPT_MULTISHOT) !== 0;
  if ((sqe.ioprio & ~IORING_ACCEPT_MULTISHOT) !== 0) fail(EINVAL);
  const slot = sqe.fileIndex >>> 0;
  if (slot !== 0 && ((sqe.opFlags & SOCK_CLOEXEC) !== 0 || (multi && slot !== IORING_FILE_INDEX_ALLOC))) fail(EINVAL);
  if ((sqe.opFlags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) !== 0) fail(EINVAL);
  const r = fdRef(ctx, sqe);
  const args = [r.fd, sqe.addr, sqe.off, BigInt(sqe.opFlags)];
  runShots(ctx, req, r.file, POLLIN, true, () => r.run(() => call(ctx, nr.SYS_accept4, args)),
    (res) => [slot === 0 ? res : toFixedSlot(ctx, slot, res), 0], multi ? (res) => res >= 0 : null);
}

/** PROVIDE_BUFFERS: fd buffers of len bytes from addr, ids from off, into group buf_group. */
function provideBuffers(ring: IoUringFile, sqe: Sqe): number {
  if (sqe.opFlags !== 0 || sqe.fileIndex !== 0) fail(EINVAL);
  const nbufs = sqe.fd;
  if (nbufs <= 0 || nbufs > 0xffff) fail(E2BIG);
  const size = BigInt(sqe.len) * BigInt(nbufs);
  if (sqe.addr + size >= 1n << 64n) fail(EOVERFLOW);
  if (sqe.addr + size > TASK_SIZE) fail(EFAULT);
  if (sqe.off > 0xffffn) fail(E2BIG);
  const bid = Number(sqe.off);
  if (bid + nbufs > 0xffff) fail(EINVAL);
  ring.provided.provide(sqe.bufIndex, Number(sqe.addr), sqe.len, nbufs, bid);
  return 0;
}

const TASK_SIZE = 0x7ffffffff000n;
const IORING_MSG_DATA = 0, IORING_MSG_SEND_FD = 1, IORING_MSG_RING_CQE_SKIP = 1;

/** MSG_RING: a CQE posted to another ring (user_data off, res len), or with
 *  IORING_MSG_SEND_FD one of this ring's fixed files put in the other's table. */
function msgRing(ctx: OpContext, sqe: Sqe): number {
  if (sqe.bufIndex !== 0 || sqe.personality !== 0) fail(EINVAL);
  if ((sqe.opFlags & ~IORING_MSG_RING_CQE_SKIP) !== 0) fail(EINVAL);
  const target = fileOf(ctx, sqe);
  if (!(target instanceof IoUringFile)) return -EBADFD;
  const skip = (sqe.opFlags & IORING_MSG_RING_CQE_SKIP) !== 0;
  if (sqe.addr === BigInt(IORING_MSG_DATA)) {
    if (sqe.addr3 !== 0n || sqe.fileIndex !== 0 || sqe.opFlags !== 0) fail(EINVAL);
    if (target.disabled) return -EBADFD;
    target.post(sqe.off, sqe.len | 0, 0);
    return 0;
  }
  if (sqe.addr !== BigInt(IORING_MSG_SEND_FD)) return -EINVAL;
  if (target === ctx.ring) return -EINVAL;
  if (target.disabled) return -EBADFD;
  const src = sqe.addr3 < 0x80000000n ? ctx.ring.fixedFiles?.get(Number(sqe.addr3)) : null;
  if (!src) return -EBADF;
  if (target.fixedFiles === null) return -ENXIO;
  src.incRef();
  const res = target.fixedFiles.install(src, sqe.fileIndex >>> 0, src instanceof IoUringFile);
  if (!skip) target.post(sqe.off, res, 0);
  return res;
}

const SPLICE_F_FD_IN_FIXED = 0x80000000;

/** SPLICE and TEE: fd_in in splice_fd_in (a fixed file with SPLICE_F_FD_IN_FIXED), offsets
 *  as values (-1: the file position). Linux always runs them in io-wq: here a worker that
 *  may wait for the pipes while the ring's other requests go on. */
function startSplice(ctx: OpContext, req: IoRequest, sqe: Sqe): void {
  const tee = sqe.opcode === OP.TEE;
  if (tee && (sqe.addr !== 0n || sqe.off !== 0n)) fail(EINVAL);
  if (((sqe.opFlags & ~(SPLICE_F_FD_IN_FIXED | SPLICE_F_ALL)) >>> 0) !== 0) fail(EINVAL);
  const out = fileOf(ctx, sqe);
  const len = sqe.len;
  req.linkOk = (res) => res === len;
  const fixedIn = (sqe.opFlags & SPLICE_F_FD_IN_FIXED) !== 0;
  const from = fixedIn ? ctx.ring.fixedFiles?.get(sqe.fileIndex) : ctx.t.fdTable.get(sqe.fileIndex);
  if (!from || (from.flags & O_PATH) !== 0 || (out.flags & O_PATH) !== 0) fail(EBADF);
  if (len === 0) { ctx.ring.complete(req, 0); return; }
  const flags = sqe.opFlags & SPLICE_F_ALL;
  const offOf = (v: bigint): number | null => (BigInt.asIntN(64, v) === -1n ? null : Number(BigInt.asIntN(64, v)));
  const attempt = (): SyscallReturn => tee ? teeFiles(ctx.t, from, out, len, flags)
    : spliceFiles(ctx.t, { from, to: out, inOff: offOf(sqe.addr), outOff: offOf(sqe.off) }, len, flags);
  asWorker(ctx.ring, req, ctx.t, attempt, (res) => ctx.ring.complete(req, res));
}

const IORING_CQE_F_NOTIF = 8;
const IORING_RECVSEND_FIXED_BUF = 4;
const AF_INET = 2, AF_INET6 = 10, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_TYPE_MASK = 0xf;

/** SEND_ZC: a send whose CQE says IORING_CQE_F_MORE, followed by a notification CQE
 *  (IORING_CQE_F_NOTIF, res 0) once the kernel lets go of the buffer; here the data is copied
 *  at once, so the notification follows the result. Only TCP and UDP sockets take it
 *  (SOCK_SUPPORT_ZC): others EOPNOTSUPP, still followed by the notification, as Linux. */
function startSendZc(ctx: OpContext, req: IoRequest, sqe: Sqe): void {
  if (sqe.addr3 !== 0n || (sqe.flags & IOSQE_CQE_SKIP_SUCCESS) !== 0) fail(EINVAL);
  if ((sqe.ioprio & ~(IORING_RECVSEND_POLL_FIRST | IORING_RECVSEND_FIXED_BUF)) !== 0) fail(EINVAL);
  const addr = sqe.addr, len = sqe.len;
  if ((sqe.ioprio & IORING_RECVSEND_FIXED_BUF) !== 0) {
    const bufs = ctx.ring.buffers;
    if (bufs === null || sqe.bufIndex >= bufs.length) fail(EFAULT);
    const b = bufs[sqe.bufIndex];
    if (Number(addr) < b.base || Number(addr) + len > b.base + b.len) fail(EFAULT);
  }
  const ring = ctx.ring;
  const notify = (res: number): void => {
    ring.complete(req, res, IORING_CQE_F_MORE, true);
    ring.complete(req, 0, IORING_CQE_F_NOTIF);
  };
  const r = fdRef(ctx, sqe);
  const s = r.file;
  const zc = s instanceof Socket && (s.family === AF_INET || s.family === AF_INET6) &&
    ((s.type & SOCK_TYPE_MASK) === SOCK_STREAM || (s.type & SOCK_TYPE_MASK) === SOCK_DGRAM);
  if (s !== null && !(s instanceof Socket)) { notify(-ENOTSOCK); return; }
  if (s !== null && !zc) { notify(-EOPNOTSUPP); return; }
  // addr2 and addr_len (the low half of file_index): a destination, as sendto's.
  const dest = sqe.off, destLen = sqe.fileIndex & 0xffff;
  const args = [r.fd, addr, BigInt(len), BigInt(sqe.opFlags), dest, BigInt(dest === 0n ? 0 : destLen)];
  withRetry(ring, req, ctx.t, s, POLLOUT, (sqe.opFlags & MSG_DONTWAIT) === 0, () => r.run(() => call(ctx, nr.SYS_sendto, args)), notify);
}

/** Whether a request of this opcode is done here (IORING_REGISTER_PROBE's IO_URING_OP_SUPPORTED). */
export function opSupported(op: number): boolean {
  return op < IORING_OP_LAST && op !== 46 /* URING_CMD */ && op !== 48 /* SENDMSG_ZC */;
}

export { IOSQE_KNOWN };
