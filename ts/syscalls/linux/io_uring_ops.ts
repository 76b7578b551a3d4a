// What each io_uring request does (Linux io_uring/opdef.c and the op files). A request runs
// at once in the submitting task, never waiting: the task's blocking points answer EAGAIN
// while it runs (Task.ioNowait), and a request that would have waited on a pollable file is
// parked on the file's readiness and tried again when it may progress (Linux's internal
// poll, io_arm_poll_handler), completing later through the ring. Files opened O_NONBLOCK and
// RWF_NOWAIT/MSG_DONTWAIT requests complete with -EAGAIN instead, as on Linux.
//
// Most requests are the syscall of the same name with the SQE's fields as arguments: they
// run through the syscall table, so their checks and errnos are those of the syscalls.
// Reads, writes, fsync and poll use the file itself (fixed files work for them). Not done:
// fixed files for the other requests and direct descriptors (file_index), provided
// buffers (IOSQE_BUFFER_SELECT), MSG_RING, URING_CMD, SEND_ZC, multishot
// accept and recv; the probe says which are supported. LINK_TIMEOUT is
// sys_io_uring.ts's (it guards the request before it).

import type { Task } from '../../kernel/task';
import type { FileDescription } from '../../vfs/file_description';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { completionErrno, fail } from '../../kernel/syscall_error';
import {
  EAGAIN, EBADF, ECANCELED, EFAULT, EINVAL, ENOENT, ENXIO, ENOTSUP as EOPNOTSUPP, ETIME, EALREADY,
} from '../../abi/linux/errno';
import { O_NONBLOCK } from '../../abi/linux/fcntl';
import { POLLERR, POLLHUP, POLLIN, POLLOUT } from '../../abi/linux/poll';
import * as nr from '../../abi/linux/syscall_numbers';
import { VfsFile } from '../../vfs/vfs_file';
import { hasFsync } from '../../vfs/fsync';
import { copyInIovecs, readToUser, totalLength, writeFromUser, type IOVec } from './user_io';
import { getFile } from './fd_util';
import { copyInTimespec, timespecToNs, timespecValid } from './timespec';
import { afterNs } from '../../kernel/blocking';
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
    if (typeof r === 'number') settle(r);
    else r.then(settle, (e: unknown) => settle(resOf(e)));
  };
  const settle = (res: number): void => {
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

export interface OpContext { table: SyscallTable; ring: IoUringFile; t: Task }

function call(ctx: OpContext, n: number, args: bigint[]): SyscallReturn {
  const e = ctx.table[n];
  if (!e) fail(EINVAL);
  return e.handler(ctx.t, new ArrayArgs(args));
}

/** The file a request names: a fixed file's slot or the task's descriptor. */
function fileOf(ctx: OpContext, sqe: Sqe): FileDescription {
  if ((sqe.flags & IOSQE_FIXED_FILE) !== 0) {
    const fixed = ctx.ring.fixedFiles;
    const f = fixed !== null && sqe.fd >= 0 && sqe.fd < fixed.length ? fixed[sqe.fd] : null;
    if (!f) fail(EBADF);
    return f;
  }
  return getFile(ctx.t, sqe.fd);
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

/** __io_sqe_files_update (IORING_REGISTER_FILES_UPDATE and IORING_OP_FILES_UPDATE): slots
 *  [at, +n) from the n fds at addr; the count done, the first one's error if it fails (a
 *  later failure ends the update there). */
export function updateFixedFiles(t: Task, ring: IoUringFile, at: number, addr: number, n: number): number {
  const files = ring.fixedFiles;
  if (files === null) fail(ENXIO);
  if (at + n > files.length) fail(EINVAL);
  const raw = t.mm.copyIn(addr, n * 4);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let done = 0;
  for (; done < n; done++) {
    let f: FileDescription | null;
    try {
      f = fixedFileFor(t, v.getInt32(done * 4, true));
    } catch (e) {
      if (done === 0) throw e;
      break;
    }
    files[at + done]?.decRef();
    files[at + done] = f;
  }
  return done;
}

/** A request that names a descriptor by number only (no fixed files for it here). */
function plainFd(sqe: Sqe): bigint {
  if ((sqe.flags & IOSQE_FIXED_FILE) !== 0) fail(EBADF);
  return BigInt(sqe.fd);
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
  const iovs = rwBuffers(ctx, sqe, sqe.opcode);
  // -1: the file position (IORING_FEAT_RW_CUR_POS); streams have none and ignore it.
  const off = BigInt.asIntN(64, sqe.off);
  if (off < -1n) fail(EINVAL);
  const offset = !f.seekable || off === NONE ? -1 : Number(off);
  const mayWait = (sqe.opFlags & RWF_NOWAIT) === 0 && (f.flags & O_NONBLOCK) === 0;
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
 *  that is running and cannot be stopped. */
function cancelMatching(ring: IoUringFile, found: IoRequest[], counted: boolean): number {
  if (found.length === 0) return -ENOENT;
  let n = 0;
  for (const r of found) {
    if (!r.cancel) { if (!counted) return -EALREADY; continue; }
    r.cancel();
    n++;
  }
  return counted ? n : 0;
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
  const viaSyscall = (n: number, args: bigint[], events = 0, mayWait = true): void => {
    const f = events !== 0 ? t.fdTable.get(sqe.fd) ?? null : null;
    withRetry(ring, req, t, f, events, mayWait, () => call(ctx, n, args), finish);
  };
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
        finish(updateFixedFiles(t, ring, Number(BigInt.asUintN(32, sqe.off)), Number(sqe.addr), sqe.len));
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
    case OP.SYNC_FILE_RANGE: viaSyscall(nr.SYS_sync_file_range, [plainFd(sqe), off, len, fl]); return;
    case OP.SENDMSG: case OP.RECVMSG: case OP.SEND: case OP.RECV: {
      const send = sqe.opcode === OP.SENDMSG || sqe.opcode === OP.SEND;
      const msg = sqe.opcode === OP.SENDMSG || sqe.opcode === OP.RECVMSG;
      if ((sqe.flags & IOSQE_BUFFER_SELECT) !== 0 || sqe.ioprio !== 0) fail(EINVAL);
      const fd = plainFd(sqe);
      const n = msg ? (send ? nr.SYS_sendmsg : nr.SYS_recvmsg) : (send ? nr.SYS_sendto : nr.SYS_recvfrom);
      const args = msg ? [fd, addr, fl] : [fd, addr, len, fl, 0n, 0n];
      viaSyscall(n, args, send ? POLLOUT : POLLIN, (sqe.opFlags & MSG_DONTWAIT) === 0);
      return;
    }
    case OP.ACCEPT:
      if (sqe.len !== 0 || sqe.bufIndex !== 0 || sqe.ioprio !== 0 || sqe.fileIndex !== 0) fail(EINVAL);
      viaSyscall(nr.SYS_accept4, [plainFd(sqe), addr, off, fl], POLLIN);
      return;
    case OP.CONNECT: {
      if (sqe.len !== 0 || sqe.bufIndex !== 0 || sqe.opFlags !== 0 || sqe.ioprio !== 0) fail(EINVAL);
      const fd = plainFd(sqe);
      const f = t.fdTable.get(sqe.fd) ?? null;
      let started = false;
      // The first attempt starts the connection; later ones (when writable) read its outcome.
      const attempt = (): SyscallReturn => {
        if (!started) { started = true; return call(ctx, nr.SYS_connect, [fd, addr, off]); }
        return call(ctx, nr.SYS_connect, [fd, addr, off]);
      };
      withRetry(ring, req, t, f, POLLOUT, true, attempt, (res) => finish(res === -(106 /* EISCONN */) && started ? 0 : res));
      return;
    }
    case OP.FALLOCATE: viaSyscall(nr.SYS_fallocate, [plainFd(sqe), len, off, addr]); return;
    case OP.OPENAT:
      if (sqe.fileIndex !== 0) fail(EINVAL);
      viaSyscall(nr.SYS_openat, [BigInt(sqe.fd), addr, fl, len]); return;
    case OP.OPENAT2:
      if (sqe.fileIndex !== 0) fail(EINVAL);
      viaSyscall(nr.SYS_openat2, [BigInt(sqe.fd), addr, off, len]); return;
    case OP.CLOSE: {
      if (sqe.off !== 0n || sqe.addr !== 0n || sqe.len !== 0 || sqe.opFlags !== 0 || sqe.bufIndex !== 0) fail(EINVAL);
      if (sqe.fileIndex !== 0 || (sqe.flags & IOSQE_FIXED_FILE) !== 0) fail(EINVAL);
      if (t.fdTable.get(sqe.fd) === ring) { finish(-EBADF); return; }
      viaSyscall(nr.SYS_close, [BigInt(sqe.fd)]); return;
    }
    case OP.STATX: viaSyscall(nr.SYS_statx, [BigInt(sqe.fd), addr, fl, len, off]); return;
    case OP.FADVISE: viaSyscall(nr.SYS_fadvise64, [plainFd(sqe), off, len, fl]); return;
    case OP.MADVISE: viaSyscall(nr.SYS_madvise, [addr, len, fl]); return;
    case OP.EPOLL_CTL: viaSyscall(nr.SYS_epoll_ctl, [plainFd(sqe), len, off, addr]); return;
    case OP.SHUTDOWN: viaSyscall(nr.SYS_shutdown, [plainFd(sqe), len]); return;
    case OP.RENAMEAT: viaSyscall(nr.SYS_renameat2, [BigInt(sqe.fd), addr, len, off, fl]); return;
    case OP.UNLINKAT: viaSyscall(nr.SYS_unlinkat, [BigInt(sqe.fd), addr, fl]); return;
    case OP.MKDIRAT: viaSyscall(nr.SYS_mkdirat, [BigInt(sqe.fd), addr, len]); return;
    case OP.SYMLINKAT: viaSyscall(nr.SYS_symlinkat, [addr, BigInt(sqe.fd), off]); return;
    case OP.LINKAT: viaSyscall(nr.SYS_linkat, [BigInt(sqe.fd), addr, len, off, fl]); return;
    case OP.FSETXATTR: viaSyscall(nr.SYS_fsetxattr, [plainFd(sqe), addr, off, len, fl]); return;
    case OP.SETXATTR: viaSyscall(nr.SYS_setxattr, [sqe.addr3, addr, off, len, fl]); return;
    case OP.FGETXATTR: viaSyscall(nr.SYS_fgetxattr, [plainFd(sqe), addr, off, len]); return;
    case OP.GETXATTR: viaSyscall(nr.SYS_getxattr, [sqe.addr3, addr, off, len]); return;
    case OP.SOCKET:
      if (sqe.opFlags !== 0 || sqe.fileIndex !== 0) fail(EINVAL);
      viaSyscall(nr.SYS_socket, [BigInt(sqe.fd), off, len]); return;
    default:
      fail(EINVAL);
  }
}

/** Whether a request of this opcode is done here (IORING_REGISTER_PROBE's IO_URING_OP_SUPPORTED). */
export function opSupported(op: number): boolean {
  return op < IORING_OP_LAST && !([OP.SPLICE, OP.PROVIDE_BUFFERS,
    OP.REMOVE_BUFFERS, OP.MSG_RING, OP.TEE] as number[]).includes(op) && op <= OP.SOCKET;
}

export { IOSQE_KNOWN };
