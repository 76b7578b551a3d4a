// Linux native AIO (fs/aio.c): io_setup, io_destroy, io_submit, io_cancel, io_getevents,
// io_pgetevents. Reads, writes and fsyncs run at submission, as Linux runs buffered AIO (a
// pipe read with nothing to read waits inside io_submit there too); their result goes to the
// ring as an io_event. IOCB_CMD_POLL waits on the file's readiness and completes later, or
// when io_cancel or io_destroy cancels it. The ring itself is kernel/aio/aio_context.ts's.

import type { Task } from '../../kernel/task';
import type { FileDescription } from '../../vfs/file_description';
import { hasFsync } from '../../vfs/fsync';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import {
  SYS_io_cancel, SYS_io_destroy, SYS_io_getevents, SYS_io_pgetevents, SYS_io_setup, SYS_io_submit,
} from '../../abi/linux/syscall_numbers';
import { EAGAIN, EBADF, EINPROGRESS, EINTR, EINVAL, ENOTSUP as EOPNOTSUPP } from '../../abi/linux/errno';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../../abi/linux/mm';
import { mapShmem, shmemZeroSetup } from '../../fsimpl/tmpfs/shmem_zero';
import { POLLERR, POLLHUP, POLLIN } from '../../abi/linux/poll';
import { SyscallError, completionErrno, fail } from '../../kernel/syscall_error';
import { block } from '../../kernel/blocking';
import { signalPending } from '../../kernel/signals';
import { EventFd } from '../../kernel/eventfd';
import { setUserSigmask, withUserSigmask } from '../../kernel/poll/user_sigmask';
import {
  aioMaxNr, IO_EVENT_SIZE, addContext, aioNr, contextOf, killContext, ringGeometry, type AioContext,
} from '../../kernel/aio/aio_context';
import { VfsFile } from '../../vfs/vfs_file';
import { copyInIovecs, readToUser, writeFromUser, type IOVec } from './user_io';
import { copyInTimespec, timespecToNs } from './timespec';
import { cpuCount } from './task_attrs';
import { checkIoprio } from './sys_priority';

const IOCB_CMD_PREAD = 0, IOCB_CMD_PWRITE = 1, IOCB_CMD_FSYNC = 2, IOCB_CMD_FDSYNC = 3,
  IOCB_CMD_POLL = 5, IOCB_CMD_PREADV = 7, IOCB_CMD_PWRITEV = 8;
const IOCB_FLAG_RESFD = 1, IOCB_FLAG_IOPRIO = 2;
const IOCB_SIZE = 64;
/** The RWF_* flags kiocb_set_rw_flags knows (HIPRI..DONTCACHE); others are EOPNOTSUPP. */
const RWF_SUPPORTED = 0xff;
const INT_MAX = 0x7fffffff;

/** The fields of struct iocb io_submit reads. */
interface Iocb {
  addr: number;
  data: bigint;
  rwFlags: number;
  opcode: number;
  reqprio: number;
  fd: number;
  buf: bigint;
  nbytes: bigint;
  offset: bigint;
  flags: number;
  resfd: number;
}

function readIocb(t: Task, addr: number): Iocb {
  const b = t.mm.copyIn(addr, IOCB_SIZE);
  const v = new DataView(b.buffer, b.byteOffset, IOCB_SIZE);
  if (v.getBigUint64(48, true) !== 0n) fail(EINVAL); // aio_reserved2
  const iocb: Iocb = {
    addr, data: v.getBigUint64(0, true), rwFlags: v.getInt32(12, true), opcode: v.getUint16(16, true),
    reqprio: v.getInt16(18, true), fd: v.getInt32(20, true), buf: v.getBigUint64(24, true), nbytes: v.getBigUint64(32, true),
    offset: v.getBigInt64(40, true), flags: v.getUint32(56, true), resfd: v.getInt32(60, true),
  };
  if (BigInt.asIntN(64, iocb.nbytes) < 0n) fail(EINVAL);
  return iocb;
}

/** A wait cut short by a signal inside a request completes it with EINTR (aio_rw_done). */
function resultOf(e: unknown): bigint {
  return BigInt(completionErrno(e));
}

/** Run op (a syscall-like result) and hand its outcome, as an io_event res, to done. */
function settle(op: () => SyscallReturn, done: (res: bigint) => void): void | Promise<void> {
  let r: SyscallReturn;
  try {
    r = op();
  } catch (e) {
    done(resultOf(e));
    return;
  }
  if (typeof r === 'number' || typeof r === 'bigint') {
    done(BigInt(r));
    return;
  }
  return r.then((v) => done(BigInt(v)), (e: unknown) => done(resultOf(e)));
}

/** aio_prep_rw + aio_setup_rw + rw_verify_area: the buffers and offset of a read or write. */
function prepRw(t: Task, f: FileDescription, iocb: Iocb, write: boolean): { iovs: IOVec[]; offset: number } {
  if ((iocb.flags & IOCB_FLAG_IOPRIO) !== 0) checkIoprio(t, iocb.reqprio);
  if ((iocb.rwFlags & ~RWF_SUPPORTED) !== 0) fail(EOPNOTSUPP);
  if (write ? !f.writable : !f.readable) fail(EBADF);
  const vectored = iocb.opcode === IOCB_CMD_PREADV || iocb.opcode === IOCB_CMD_PWRITEV;
  const buf = Number(iocb.buf);
  const iovs = vectored ? copyInIovecs(t, buf, Number(iocb.nbytes)) : [{ base: buf, len: Number(iocb.nbytes) }];
  let count = 0;
  for (const v of iovs) count += v.len;
  if (iocb.offset < 0n || iocb.offset + BigInt(count) > BigInt(Number.MAX_SAFE_INTEGER)) fail(EINVAL);
  // Streams (pipes, sockets) have no position: the offset is not used.
  return { iovs, offset: f.seekable ? Number(iocb.offset) : -1 };
}

/** __io_submit_one after the request slot is taken: start the operation. Synchronous
 *  failures (the ones io_submit itself returns) throw; results go to the ring. */
function submitOne(t: Task, ctx: AioContext, iocb: Iocb): void | Promise<void> {
  const f = t.fdTable.get(iocb.fd);
  if (f === undefined) fail(EBADF);
  let eventfd: EventFd | null = null;
  if ((iocb.flags & IOCB_FLAG_RESFD) !== 0) {
    const e = t.fdTable.get(iocb.resfd);
    if (e === undefined) fail(EBADF);
    if (!(e instanceof EventFd)) fail(EINVAL);
    eventfd = e;
  }
  t.mm.writeU32(iocb.addr + 8, 0); // aio_key = KIOCB_KEY
  const done = (res: bigint): void => {
    ctx.complete(iocb.addr, iocb.data, res);
    eventfd?.kernelSignal();
  };
  switch (iocb.opcode) {
    case IOCB_CMD_PREAD: case IOCB_CMD_PREADV: {
      const { iovs, offset } = prepRw(t, f, iocb, false);
      return settle(() => readToUser(t, f, iovs, offset), done);
    }
    case IOCB_CMD_PWRITE: case IOCB_CMD_PWRITEV: {
      const { iovs, offset } = prepRw(t, f, iocb, true);
      return settle(() => writeFromUser(t, f, iovs, offset), done);
    }
    case IOCB_CMD_FSYNC: case IOCB_CMD_FDSYNC:
      if (iocb.buf !== 0n || iocb.offset !== 0n || iocb.nbytes !== 0n || iocb.rwFlags !== 0) fail(EINVAL);
      if (!hasFsync(f)) fail(EINVAL);
      return settle(() => { if (f instanceof VfsFile) f.fsync(); return 0; }, done);
    case IOCB_CMD_POLL:
      startPoll(ctx, f, iocb, done);
      return;
    default:
      fail(EINVAL);
  }
}

/** aio_poll: complete at once if the file is ready, else when it becomes so (or is cancelled,
 *  with the events ready then, possibly none). */
function startPoll(ctx: AioContext, f: FileDescription, iocb: Iocb, done: (res: bigint) => void): void {
  if ((iocb.buf & 0xffffn) !== iocb.buf) fail(EINVAL);
  if (iocb.offset !== 0n || iocb.nbytes !== 0n || iocb.rwFlags !== 0) fail(EINVAL);
  const events = Number(iocb.buf) | POLLERR | POLLHUP;
  const now = f.readiness(events) & events;
  if (now !== 0) {
    done(BigInt(now));
    return;
  }
  f.incRef();
  let undo: (() => void) | null = null;
  const finish = (mask: number): void => {
    undo?.();
    undo = null;
    f.decRef();
    done(BigInt(mask));
  };
  // A wake-up completes it with the wake-up's key, which is not masked with the events asked
  // for (aio_poll_wake); a file's readiness is the nearest thing to that key here.
  undo = f.addWaiter(events, () => {
    const m = f.readiness(events);
    if ((m & events) !== 0 && ctx.active.has(iocb.addr)) finish(m);
  });
  ctx.active.set(iocb.addr, { obj: iocb.addr, data: iocb.data, cancel: () => finish(f.readiness(events) & events) });
}

function sysIoSetup(t: Task, a: SyscallArgs): number {
  const nrEvents = a.uint(0);
  const idp = a.ptr(1);
  const old = t.mm.readU64(idp);
  if (old !== 0n || nrEvents === 0) fail(EINVAL);
  const { nr, bytes } = ringGeometry(nrEvents, cpuCount());
  if (nr * IO_EVENT_SIZE > 0x10000000) fail(EINVAL);
  const max = aioMaxNr(t.kernel);
  if (nrEvents > max || aioNr(t.kernel) + nrEvents > max) fail(EAGAIN);
  // aio_setup_ring: the ring is a file of its own, shared with the kernel (and a fork child).
  const shmem = shmemZeroSetup(t, bytes, '/[aio] (deleted)');
  const ring = mapShmem(shmem, () => t.mm.mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, shmem, 0));
  const ctx = addContext(t.kernel, t.mm, ring, bytes, nr, nrEvents);
  try {
    t.mm.writeU64(idp, BigInt(ring));
  } catch (e) {
    killContext(t.kernel, t.mm, ctx);
    t.mm.munmap(ring, bytes);
    throw e;
  }
  return 0;
}

function lookup(t: Task, id: bigint): AioContext {
  const ctx = id > 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) ? contextOf(t.mm, Number(id)) : undefined;
  if (ctx === undefined) fail(EINVAL);
  return ctx;
}

function sysIoDestroy(t: Task, a: SyscallArgs): number {
  const ctx = lookup(t, a.u64(0));
  killContext(t.kernel, t.mm, ctx);
  try { t.mm.munmap(ctx.ring, ctx.ringSize); } catch { /* the process unmapped it already */ }
  return 0;
}

function sysIoSubmit(t: Task, a: SyscallArgs): SyscallReturn {
  const nr = a.long(1);
  if (nr < 0) fail(EINVAL);
  const ctx = lookup(t, a.u64(0));
  const count = Math.min(nr, ctx.nr);
  const list = a.ptr(2);
  let i = 0;
  const next = (): SyscallReturn => {
    for (; i < count; i++) {
      let r: void | Promise<void>;
      try {
        const iocb = readIocb(t, Number(t.mm.readU64(list + i * 8)));
        if (ctx.available() <= 0) fail(EAGAIN);
        r = submitOne(t, ctx, iocb);
      } catch (e) {
        if (i > 0 && e instanceof SyscallError) return i;
        throw e;
      }
      if (r !== undefined) {
        return r.then(() => { i++; return next(); });
      }
    }
    return i;
  };
  return next();
}

function sysIoCancel(t: Task, a: SyscallArgs): number {
  const addr = a.ptr(1);
  if (t.mm.readU32(addr + 8) !== 0) fail(EINVAL); // aio_key must be KIOCB_KEY
  const ctx = lookup(t, a.u64(0));
  const req = ctx.active.get(addr);
  if (req === undefined) fail(EINVAL);
  req.cancel();
  // The event is delivered through the ring; the result argument is not used.
  fail(EINPROGRESS);
}

/** read_events: at least minNr events (waiting up to timeoutNs, null for ever), at most nr. */
function getEvents(t: Task, ctx: AioContext, minNr: number, nr: number, eventsAddr: number,
  timeoutNs: bigint | null): number | Promise<number> {
  let got = 0;
  const take = (): boolean => {
    const evs = ctx.takeEvents(nr - got);
    for (const e of evs) t.mm.copyOut(eventsAddr + (got++) * IO_EVENT_SIZE, e);
    if (ctx.dead && got === 0) fail(EINVAL);
    return got >= minNr;
  };
  if (take() || timeoutNs === 0n) return got;
  const wait = (): Promise<number> => block<boolean>(t, (wake) => ctx.queue.subscribe(POLLIN, () => wake(true)),
    timeoutNs !== null ? { timeoutNs } : {}, () => false).then(
    (more) => (more && !take() ? wait() : got),
    (e: unknown) => {
      // Interrupted: what was read so far, else EINTR (never restarted).
      if (got > 0) return got;
      if (e instanceof SyscallError && signalPending(t)) throw new SyscallError(EINTR);
      throw e;
    });
  return wait();
}

function eventsArgs(t: Task, a: SyscallArgs): { ctx: AioContext; minNr: number; nr: number; timeout: bigint | null } {
  const timeoutAddr = a.ptr(4);
  const timeout = timeoutAddr !== 0 ? timespecToNs(copyInTimespec(t, timeoutAddr)) : null;
  const ctx = lookup(t, a.u64(0));
  const minNr = a.long(1), nr = a.long(2);
  if (minNr < 0 || minNr > nr) fail(EINVAL);
  return { ctx, minNr, nr: Math.min(nr, INT_MAX), timeout: timeout !== null && timeout < 0n ? 0n : timeout };
}

function sysIoGetevents(t: Task, a: SyscallArgs): SyscallReturn {
  const { ctx, minNr, nr, timeout } = eventsArgs(t, a);
  return getEvents(t, ctx, minNr, nr, a.ptr(3), timeout);
}

/** io_pgetevents: io_getevents under a temporary signal mask (struct __aio_sigset). */
function sysIoPgetevents(t: Task, a: SyscallArgs): SyscallReturn {
  const { ctx, minNr, nr, timeout } = eventsArgs(t, a);
  const usig = a.ptr(5);
  let installed = false;
  if (usig !== 0) {
    const mask = Number(t.mm.readU64(usig));
    const size = Number(t.mm.readU64(usig + 8));
    installed = setUserSigmask(t, mask, size);
  }
  return withUserSigmask(t, installed, EINTR, () => getEvents(t, ctx, minNr, nr, a.ptr(3), timeout));
}

export function registerAio(table: SyscallTable): void {
  table[SYS_io_setup] = { name: 'io_setup', handler: sysIoSetup, args: ['uint', 'ptr'] };
  table[SYS_io_destroy] = { name: 'io_destroy', handler: sysIoDestroy, args: ['hex'] };
  table[SYS_io_submit] = { name: 'io_submit', handler: sysIoSubmit, args: ['hex', 'long', 'ptr'] };
  table[SYS_io_cancel] = { name: 'io_cancel', handler: sysIoCancel, args: ['hex', 'ptr', 'ptr'] };
  table[SYS_io_getevents] = { name: 'io_getevents', handler: sysIoGetevents, args: ['hex', 'long', 'long', 'ptr', 'ptr'] };
  table[SYS_io_pgetevents] = {
    name: 'io_pgetevents', handler: sysIoPgetevents, args: ['hex', 'long', 'long', 'ptr', 'ptr', 'ptr'],
  };
}
