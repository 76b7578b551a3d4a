// io_uring_setup, io_uring_enter and io_uring_register (Linux io_uring/io_uring.c,
// register.c; the interface of Linux 6.1). The rings are kernel/io_uring/ring.ts's, the ring
// file and its requests in flight kernel/io_uring/context.ts's, what each request does
// io_uring_ops.ts's. There is no SQ polling thread: with IORING_SETUP_SQPOLL the ring always
// says IORING_SQ_NEED_WAKEUP, so a program (liburing, libuv) calls io_uring_enter with
// IORING_ENTER_SQ_WAKEUP, and the SQEs are taken then. Not done: registered buffer and file
// tables of the rsrc API (REGISTER_FILES2, BUFFERS2 and their updates), sync cancel (EINVAL).

import type { Task } from '../../kernel/task';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import type { FileDescription } from '../../vfs/file_description';
import { SyscallError, fail } from '../../kernel/syscall_error';
import {
  EACCES, EBADF, EBADFD, EBUSY, ECANCELED, EFAULT, EINTR, EINVAL, EMFILE, ENXIO, ENOTSUP as EOPNOTSUPP, ETIME, EOVERFLOW,
} from '../../abi/linux/errno';
import { POLLIN } from '../../abi/linux/poll';
import { SYS_io_uring_enter, SYS_io_uring_register, SYS_io_uring_setup } from '../../abi/linux/syscall_numbers';
import { afterNs, block } from '../../kernel/blocking';
import { signalPending } from '../../kernel/signals';
import { EventFd } from '../../kernel/eventfd';
import { setUserSigmask, withUserSigmask } from '../../kernel/poll/user_sigmask';
import { copyInTimespec, timespecToNs, timespecValid } from './timespec';
import { cpuCount } from './task_attrs';
import { getFile, nofileLimit } from './fd_util';
import {
  IORING_SETUP_ATTACH_WQ, IORING_SETUP_CLAMP, IORING_SETUP_COOP_TASKRUN, IORING_SETUP_CQSIZE,
  IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_SINGLE_ISSUER,
  IORING_SETUP_SQPOLL, IORING_SETUP_SQ_AFF, IORING_SETUP_SUBMIT_ALL, IORING_SETUP_TASKRUN_FLAG,
  IOSQE_IO_DRAIN, IOSQE_IO_HARDLINK, IOSQE_IO_LINK, IoUringFile, type IoRequest,
} from '../../kernel/io_uring/context';
import {
  CQ_FLAGS, CQ_HEAD, CQ_OVERFLOW, CQ_RING_ENTRIES, CQ_RING_MASK, CQ_TAIL, CQES, IORING_SQ_NEED_WAKEUP, SQ_DROPPED,
  SQ_FLAGS, SQ_HEAD, SQ_RING_ENTRIES, SQ_RING_MASK, SQ_TAIL,
} from '../../kernel/io_uring/ring';
import { FixedFiles } from '../../kernel/io_uring/file_table';
import { Restrictions } from '../../kernel/io_uring/restrictions';
import { IO_RINGFD_REG_MAX, ringSlots } from '../../kernel/io_uring/ring_slots';
import {
  IOSQE_KNOWN, IORING_OP_LAST, IORING_OP_LINK_TIMEOUT, IORING_TIMEOUT_ABS, IORING_TIMEOUT_BOOTTIME, IORING_TIMEOUT_REALTIME,
  decodeSqe, fixedFileFor, issue, opSupported, timeoutNs, updateFixedFiles, type OpContext, type Sqe,
} from './io_uring_ops';

const IORING_MAX_ENTRIES = 32768, IORING_MAX_CQ_ENTRIES = 2 * IORING_MAX_ENTRIES;
const SETUP_KNOWN = 0x3fff;
const PARAMS_SIZE = 120;
/** IORING_FEAT_SINGLE_MMAP .. LINKED_FILE (Linux 6.1's set). */
const FEATURES = 0x1fff;
const IORING_ENTER_GETEVENTS = 1, IORING_ENTER_SQ_WAKEUP = 2, IORING_ENTER_SQ_WAIT = 4, IORING_ENTER_EXT_ARG = 8,
  IORING_ENTER_REGISTERED_RING = 16;
const IORING_REGISTER_USE_REGISTERED_RING = 0x80000000;
const REG = {
  BUFFERS: 0, UNREGISTER_BUFFERS: 1, FILES: 2, UNREGISTER_FILES: 3, EVENTFD: 4, UNREGISTER_EVENTFD: 5,
  FILES_UPDATE: 6, EVENTFD_ASYNC: 7, PROBE: 8, PERSONALITY: 9, UNREGISTER_PERSONALITY: 10, RESTRICTIONS: 11,
  ENABLE_RINGS: 12, IOWQ_AFF: 17, UNREGISTER_IOWQ_AFF: 18, IOWQ_MAX_WORKERS: 19, RING_FDS: 20,
  UNREGISTER_RING_FDS: 21, PBUF_RING: 22, UNREGISTER_PBUF_RING: 23, FILE_ALLOC_RANGE: 25, LAST: 26,
} as const;
const IORING_MAX_REG_BUFFERS = 1 << 14, IORING_MAX_FIXED_FILES = 1 << 20;
const SZ_1G = 1 << 30;

let table: SyscallTable = [];

function roundPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function sysIoUringSetup(t: Task, a: SyscallArgs): number {
  let entries = a.uint(0);
  const paddr = a.ptr(1);
  const b = t.mm.copyIn(paddr, PARAMS_SIZE);
  const v = new DataView(b.buffer, b.byteOffset, PARAMS_SIZE);
  for (let i = 28; i < 40; i++) if (b[i] !== 0) fail(EINVAL); // resv
  const flags = v.getUint32(8, true);
  if (entries === 0) fail(EINVAL);
  if (entries > IORING_MAX_ENTRIES) {
    if ((flags & IORING_SETUP_CLAMP) === 0) fail(EINVAL);
    entries = IORING_MAX_ENTRIES;
  }
  const sqEntries = roundPow2(entries);
  let cqEntries = 2 * sqEntries;
  if ((flags & IORING_SETUP_CQSIZE) !== 0) {
    let want = v.getUint32(4, true);
    if (want === 0) fail(EINVAL);
    if (want > IORING_MAX_CQ_ENTRIES) {
      if ((flags & IORING_SETUP_CLAMP) === 0) fail(EINVAL);
      want = IORING_MAX_CQ_ENTRIES;
    }
    cqEntries = roundPow2(want);
    if (cqEntries < sqEntries) fail(EINVAL);
  }
  if ((flags & ~SETUP_KNOWN) !== 0) fail(EINVAL);
  // io_uring_create's checks of the flags' combinations.
  if ((flags & IORING_SETUP_TASKRUN_FLAG) !== 0 &&
    (flags & (IORING_SETUP_COOP_TASKRUN | IORING_SETUP_DEFER_TASKRUN)) === 0) fail(EINVAL);
  if ((flags & IORING_SETUP_DEFER_TASKRUN) !== 0 &&
    ((flags & IORING_SETUP_SINGLE_ISSUER) === 0 || (flags & IORING_SETUP_SQPOLL) !== 0)) fail(EINVAL);
  if ((flags & IORING_SETUP_SQPOLL) !== 0) {
    if ((flags & IORING_SETUP_SQ_AFF) !== 0 && v.getUint32(12, true) >= cpuCount()) fail(EINVAL);
  } else if ((flags & IORING_SETUP_SQ_AFF) !== 0) {
    fail(EINVAL);
  }
  if ((flags & IORING_SETUP_ATTACH_WQ) !== 0) {
    if (!(getFile(t, v.getInt32(24, true)) instanceof IoUringFile)) fail(EINVAL);
  }
  const ring = new IoUringFile(t, flags, sqEntries, cqEntries);
  const r = ring.rings;
  if (ring.sqpoll) r.setSqFlag(IORING_SQ_NEED_WAKEUP, true);
  // The parameters back: sizes, features and where each field of the rings is.
  v.setUint32(0, sqEntries, true);
  v.setUint32(4, cqEntries, true);
  v.setUint32(20, FEATURES, true);
  const sqOff = [SQ_HEAD, SQ_TAIL, SQ_RING_MASK, SQ_RING_ENTRIES, SQ_FLAGS, SQ_DROPPED, r.sqArray, 0];
  const cqOff = [CQ_HEAD, CQ_TAIL, CQ_RING_MASK, CQ_RING_ENTRIES, CQ_OVERFLOW, CQES, CQ_FLAGS, 0];
  sqOff.forEach((x, i) => v.setUint32(40 + i * 4, x, true));
  v.setBigUint64(72, 0n, true);
  cqOff.forEach((x, i) => v.setUint32(80 + i * 4, x, true));
  v.setBigUint64(112, 0n, true);
  try {
    t.mm.copyOut(paddr, b);
    return t.fdTable.newFD(ring, { cloexec: true, limit: nofileLimit(t) });
  } finally {
    ring.decRef();
  }
}

/** The ring io_uring_enter or io_uring_register names: a descriptor, or a registered slot. */
function ringOf(t: Task, fd: number, registered: boolean): IoUringFile {
  if (registered) {
    if (fd < 0 || fd >= IO_RINGFD_REG_MAX) fail(EINVAL);
    const r = registeredRings(t)[fd];
    if (!r) fail(EBADF);
    return r;
  }
  const f = getFile(t, fd);
  if (!(f instanceof IoUringFile)) fail(EOPNOTSUPP);
  return f;
}

/** The task's registered ring slots, as rings. */
function registeredRings(t: Task): (IoUringFile | null)[] {
  return ringSlots(t) as (IoUringFile | null)[];
}

/** io_submit_sqes: take up to n SQEs; the count taken. */
function submit(t: Task, ring: IoUringFile, n: number): number {
  const r = ring.rings;
  // The process owns the tail: never take more than the ring holds (io_submit_sqes' min3).
  const avail = Math.min(n, r.pendingSqes(), r.sqEntries);
  const ctx: OpContext = { table, ring, t };
  let taken = 0;
  let linkPrev: IoRequest | null = null;
  for (; taken < avail;) {
    const raw = r.nextSqe();
    if (raw === null) break; // dropped: Linux stops here
    taken++;
    const sqe = decodeSqe(raw);
    const req: IoRequest = { data: sqe.data, opcode: sqe.opcode, sqeFlags: sqe.flags, fd: sqe.fd, done: false };
    ring.inflight.add(req);
    const linked = (sqe.flags & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK)) !== 0;
    if ((sqe.flags & IOSQE_IO_HARDLINK) !== 0) req.hard = true;
    if (sqe.opcode === IORING_OP_LINK_TIMEOUT) {
      // It guards the request before it, and a link after it goes on from that request.
      linkTimeout(t, ring, req, sqe, linkPrev);
      if (!linked) linkPrev = null;
      continue;
    }
    const start = (): void => {
      req.started = true;
      const hook = req.onStart;
      req.onStart = undefined;
      hook?.();
      try {
        if ((sqe.flags & ~IOSQE_KNOWN) !== 0 || sqe.opcode >= IORING_OP_LAST) fail(EINVAL);
        if (ring.restricted && !ring.restrictions?.sqeAllowed(sqe.opcode, sqe.flags)) fail(EACCES);
        if (sqe.personality !== 0) {
          const creds = ring.personalities.get(sqe.personality);
          if (!creds) fail(EINVAL);
          const saved = t.creds;
          t.creds = creds;
          try { issue(ctx, req, sqe); } finally { t.creds = saved; }
        } else {
          issue(ctx, req, sqe);
        }
      } catch (e) {
        if (!(e instanceof SyscallError)) throw e;
        // A bad SQE (EINVAL, found as Linux prepares it) ends the batch unless it is part of
        // a link; errors found as it runs (EBADF, EFAULT) only complete it.
        req.failedAtSubmit = e.errno === EINVAL || e.errno === EACCES;
        ring.complete(req, -e.errno);
      }
    };
    const cancelled = (): void => ring.complete(req, -ECANCELED);
    let run = start;
    if ((sqe.flags & IOSQE_IO_DRAIN) !== 0) {
      const others = [...ring.inflight].filter((x) => x !== req);
      run = others.length === 0 ? start : () => waitAll(ring, others, start);
    }
    if (linkPrev !== null) {
      linkPrev.next = run;
      linkPrev.failNext = () => { cancelled(); const nx = req.failNext; req.next = req.failNext = undefined; nx?.(); };
      if (linkPrev.done) {
        const nx = linkPrev.linkBroken === true ? linkPrev.failNext : linkPrev.next;
        linkPrev.next = linkPrev.failNext = undefined;
        nx?.();
      }
    } else {
      run();
    }
    const inLink = linkPrev !== null || linked;
    linkPrev = linked ? req : null;
    // A request that failed at once without SUBMIT_ALL ends the batch (it still counts).
    if (req.done && req.failedAtSubmit === true && !inLink && (ring.setupFlags & IORING_SETUP_SUBMIT_ALL) === 0) break;
  }
  return taken;
}

/** IORING_OP_LINK_TIMEOUT: cancel `target` if it has not completed within the time (then
 *  -ETIME here, -ECANCELED there); -ECANCELED here if it completes first. The clock starts
 *  when the target starts. Without a target before it, -EINVAL. */
function linkTimeout(t: Task, ring: IoUringFile, req: IoRequest, sqe: Sqe, target: IoRequest | null): void {
  let ns: bigint;
  try {
    if (target === null || sqe.len !== 1 || sqe.bufIndex !== 0 || sqe.fileIndex !== 0 || sqe.ioprio !== 0) fail(EINVAL);
    if ((sqe.opFlags & ~(IORING_TIMEOUT_ABS | IORING_TIMEOUT_BOOTTIME | IORING_TIMEOUT_REALTIME)) !== 0) fail(EINVAL);
    ns = timeoutNs(t, sqe.addr, sqe.opFlags);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    ring.complete(req, -e.errno);
    return;
  }
  const arm = (): void => {
    if (target.done) { ring.complete(req, -ECANCELED); return; }
    let cancelTimer: (() => void) | null = afterNs(ns < 0n ? 0n : ns, () => {
      cancelTimer = null;
      target.cancel?.();
      ring.complete(req, -ETIME);
    });
    (target.afterDone ??= []).push(() => {
      if (cancelTimer === null) return;
      cancelTimer();
      cancelTimer = null;
      ring.complete(req, -ECANCELED);
    });
    req.cancel = () => { cancelTimer?.(); cancelTimer = null; ring.complete(req, -ECANCELED); };
  };
  if (target.started === true) arm();
  else target.onStart = arm;
}

/** Run fn once every request in `reqs` is done (IOSQE_IO_DRAIN). */
function waitAll(ring: IoUringFile, reqs: IoRequest[], fn: () => void): void {
  const check = (): void => {
    if (reqs.every((x) => x.done)) fn();
    else ring.whenDrained(check);
  };
  check();
}

/** io_cqring_wait: until min completions are in the ring, the timeout passes (-ETIME) or a
 *  signal comes (-EINTR); 0 as soon as the ring has any when it ends. */
function waitCq(t: Task, ring: IoUringFile, min: number, timeoutNs: bigint | null): SyscallReturn {
  const r = ring.rings;
  r.flushOverflow();
  if (r.cqReady() >= min) return 0;
  if (timeoutNs !== null && timeoutNs <= 0n) return r.cqReady() > 0 ? 0 : -ETIME;
  const deadline = timeoutNs !== null ? process.hrtime.bigint() + timeoutNs : null;
  const wait = (): Promise<number> => {
    const left = deadline !== null ? deadline - process.hrtime.bigint() : null;
    if (left !== null && left <= 0n) return Promise.resolve(r.cqReady() > 0 ? 0 : -ETIME);
    return block<boolean>(t, (wake) => ring.queue.subscribe(POLLIN, () => wake(true)),
      left !== null ? { timeoutNs: left } : {}, () => false).then((more) => {
      r.flushOverflow();
      if (r.cqReady() >= min) return 0;
      return more ? wait() : (r.cqReady() > 0 ? 0 : -ETIME);
    }, (e: unknown) => {
      if (e instanceof SyscallError && signalPending(t)) {
        if (r.cqReady() > 0) return 0;
        throw new SyscallError(EINTR);
      }
      throw e;
    });
  };
  return wait().then((res) => { if (res < 0) throw new SyscallError(-res); return res; });
}

function sysIoUringEnter(t: Task, a: SyscallArgs): SyscallReturn {
  const toSubmit = a.uint(1), minComplete = a.uint(2), flags = a.uint(3);
  const argp = a.ptr(4), argsz = a.size(5);
  if ((flags & ~(IORING_ENTER_GETEVENTS | IORING_ENTER_SQ_WAKEUP | IORING_ENTER_SQ_WAIT | IORING_ENTER_EXT_ARG |
    IORING_ENTER_REGISTERED_RING)) !== 0) fail(EINVAL);
  const ring = ringOf(t, a.int(0), (flags & IORING_ENTER_REGISTERED_RING) !== 0);
  if (ring.disabled) fail(EBADFD);
  let submitted = 0;
  if (ring.sqpoll) {
    // The "SQ thread" runs when woken: it takes everything queued. The call reports to_submit.
    if ((flags & IORING_ENTER_SQ_WAKEUP) !== 0 || toSubmit > 0) ring.batch(() => submit(t, ring, ring.rings.pendingSqes()));
    submitted = toSubmit;
  } else if (toSubmit > 0) {
    submitted = ring.batch(() => submit(t, ring, toSubmit));
  }
  if ((flags & IORING_ENTER_GETEVENTS) === 0) return submitted;
  // The wait's arguments: a sigset, or with EXT_ARG a struct io_uring_getevents_arg.
  let sigAddr = argp, sigSize = argsz, timeout: bigint | null = null;
  if ((flags & IORING_ENTER_EXT_ARG) !== 0) {
    sigAddr = 0; sigSize = 8;
    if (argp !== 0) {
      if (argsz !== 24) fail(EINVAL);
      const ev = new DataView(t.mm.copyIn(argp, 24).buffer);
      sigAddr = Number(ev.getBigUint64(0, true));
      sigSize = ev.getUint32(8, true);
      const tsAddr = Number(ev.getBigUint64(16, true));
      if (tsAddr !== 0) {
        const ts = copyInTimespec(t, tsAddr);
        if (!timespecValid(ts)) fail(EINVAL);
        timeout = timespecToNs(ts);
      }
    }
  }
  const min = Math.min(minComplete, ring.rings.cqEntries);
  const installed = setUserSigmask(t, sigAddr, sigSize);
  const r = withUserSigmask(t, installed, EINTR, () => waitCq(t, ring, min, timeout));
  if (submitted > 0) {
    if (typeof r === 'object') return r.then(() => submitted, () => submitted);
    return submitted;
  }
  return r;
}

function sysIoUringRegister(t: Task, a: SyscallArgs): SyscallReturn {
  let op = a.uint(1);
  const registered = (op & IORING_REGISTER_USE_REGISTERED_RING) !== 0;
  op &= ~IORING_REGISTER_USE_REGISTERED_RING;
  if (op >= REG.LAST) fail(EINVAL);
  const ring = ringOf(t, a.int(0), registered);
  if (ring.restricted && !ring.restrictions?.registerAllowed(op)) fail(EACCES);
  const arg = a.ptr(2), nrArgs = a.uint(3);
  const noArgs = (): void => { if (arg !== 0 || nrArgs !== 0) fail(EINVAL); };
  switch (op) {
    case REG.BUFFERS: {
      if (ring.buffers !== null) fail(EBUSY);
      if (nrArgs === 0 || nrArgs > IORING_MAX_REG_BUFFERS) fail(EINVAL);
      const raw = t.mm.copyIn(arg, nrArgs * 16);
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const bufs: { base: number; len: number }[] = [];
      for (let i = 0; i < nrArgs; i++) {
        const base = Number(v.getBigUint64(i * 16, true)), len = Number(v.getBigUint64(i * 16 + 8, true));
        if (base === 0) { if (len !== 0) fail(EFAULT); bufs.push({ base: 0, len: 0 }); continue; }
        if (len === 0 || len > SZ_1G) fail(EFAULT);
        if (base + len > 2 ** 64) fail(EOVERFLOW);
        // Pinning the pages: every page must be mapped (faulted in now).
        t.mm.copyIn(base, 1); t.mm.copyIn(base + len - 1, 1);
        bufs.push({ base, len });
      }
      ring.buffers = bufs;
      return 0;
    }
    case REG.UNREGISTER_BUFFERS:
      noArgs();
      if (ring.buffers === null) fail(ENXIO);
      ring.buffers = null;
      return 0;
    case REG.FILES: {
      if (ring.fixedFiles !== null) fail(EBUSY);
      if (nrArgs === 0 || nrArgs > IORING_MAX_FIXED_FILES) fail(EINVAL);
      if (nrArgs > nofileLimit(t)) fail(EMFILE);
      const raw = t.mm.copyIn(arg, nrArgs * 4);
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const files: (FileDescription | null)[] = [];
      try {
        for (let i = 0; i < nrArgs; i++) files.push(fixedFileFor(t, v.getInt32(i * 4, true)));
      } catch (e) {
        for (const f of files) f?.decRef();
        throw e;
      }
      ring.fixedFiles = new FixedFiles(files);
      return 0;
    }
    case REG.UNREGISTER_FILES:
      noArgs();
      if (ring.fixedFiles === null) fail(ENXIO);
      ring.fixedFiles.release();
      ring.fixedFiles = null;
      return 0;
    case REG.FILES_UPDATE: {
      if (ring.fixedFiles === null) fail(ENXIO);
      if (nrArgs === 0) fail(EINVAL);
      const u = new DataView(t.mm.copyIn(arg, 16).buffer);
      const offset = u.getUint32(0, true);
      if (u.getUint32(4, true) !== 0) fail(EINVAL);
      return updateFixedFiles(t, ring, offset, Number(u.getBigUint64(8, true)), nrArgs);
    }
    case REG.EVENTFD: case REG.EVENTFD_ASYNC: {
      if (ring.eventfd !== null) fail(EBUSY);
      if (nrArgs !== 1) fail(EINVAL);
      const f = getFile(t, new DataView(t.mm.copyIn(arg, 4).buffer).getInt32(0, true));
      if (!(f instanceof EventFd)) fail(EINVAL);
      f.incRef();
      ring.eventfd = f;
      ring.eventfdAsyncOnly = op === REG.EVENTFD_ASYNC;
      return 0;
    }
    case REG.UNREGISTER_EVENTFD:
      noArgs();
      if (ring.eventfd === null) fail(ENXIO);
      ring.eventfd.decRef();
      ring.eventfd = null;
      return 0;
    case REG.PROBE: {
      const n = Math.min(nrArgs, 256);
      const size = 16 + n * 8;
      const raw = t.mm.copyIn(arg, size);
      for (const x of raw) if (x !== 0) fail(EINVAL);
      raw[0] = IORING_OP_LAST - 1;
      raw[1] = Math.min(n, IORING_OP_LAST);
      for (let i = 0; i < Math.min(n, IORING_OP_LAST); i++) {
        raw[16 + i * 8] = i;
        if (opSupported(i)) raw[16 + i * 8 + 2] = 1; // IO_URING_OP_SUPPORTED
      }
      t.mm.copyOut(arg, raw);
      return 0;
    }
    case REG.PERSONALITY:
      noArgs();
      return ring.addPersonality(t.creds);
    case REG.UNREGISTER_PERSONALITY:
      if (arg !== 0) fail(EINVAL);
      if (!ring.personalities.delete(nrArgs)) fail(EINVAL);
      return 0;
    case REG.ENABLE_RINGS:
      noArgs();
      if (!ring.disabled) fail(EBADFD);
      ring.disabled = false;
      ring.restricted = ring.restrictions !== null;
      return 0;
    case REG.RESTRICTIONS: {
      // Only while disabled, once; all of them or none.
      if (!ring.disabled) fail(EBADFD);
      if (ring.restrictions !== null) fail(EBUSY);
      if (arg === 0 || nrArgs > Restrictions.maxEntries(REG.LAST)) fail(EINVAL);
      ring.restrictions = new Restrictions(t.mm.copyIn(arg, nrArgs * 16), nrArgs, REG.LAST, IORING_OP_LAST);
      return 0;
    }
    case REG.IOWQ_AFF:
      if (arg === 0 || nrArgs === 0) fail(EINVAL);
      t.mm.copyIn(arg, Math.min(nrArgs, 4096));
      return 0;
    case REG.UNREGISTER_IOWQ_AFF:
      noArgs();
      return 0;
    case REG.IOWQ_MAX_WORKERS:
      if (nrArgs !== 2) fail(EINVAL);
      t.mm.copyIn(arg, 8);
      // No worker pool: the old limits read back as unset (0), as on a ring that never had one.
      t.mm.copyOut(arg, new Uint8Array(8));
      return 0;
    case REG.RING_FDS: case REG.UNREGISTER_RING_FDS: {
      if (nrArgs === 0 || nrArgs > IO_RINGFD_REG_MAX) fail(EINVAL);
      const raw = t.mm.copyIn(arg, nrArgs * 16);
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const slots = registeredRings(t);
      let i = 0;
      for (; i < nrArgs; i++) {
        let off = v.getUint32(i * 16, true);
        if (v.getUint32(i * 16 + 4, true) !== 0) { if (i === 0) fail(EINVAL); break; }
        if (op === REG.UNREGISTER_RING_FDS) {
          if (off >= IO_RINGFD_REG_MAX || v.getBigUint64(i * 16 + 8, true) !== 0n) { if (i === 0) fail(EINVAL); break; }
          slots[off]?.decRef();
          slots[off] = null;
          continue;
        }
        const fd = Number(BigInt.asIntN(32, v.getBigUint64(i * 16 + 8, true)));
        const f = t.fdTable.get(fd);
        if (f === undefined || !(f instanceof IoUringFile)) { if (i === 0) fail(f === undefined ? EBADF : EOPNOTSUPP); break; }
        if (off === 0xffffffff) {
          off = slots.findIndex((s) => s === null);
          if (off < 0) { if (i === 0) fail(EBUSY); break; }
        } else if (off >= IO_RINGFD_REG_MAX) {
          if (i === 0) fail(EINVAL);
          break;
        }
        f.incRef();
        slots[off]?.decRef();
        slots[off] = f;
        v.setUint32(i * 16, off, true);
      }
      if (op === REG.RING_FDS) t.mm.copyOut(arg, raw.subarray(0, i * 16));
      return i;
    }
    case REG.PBUF_RING: case REG.UNREGISTER_PBUF_RING: {
      if (arg === 0 || nrArgs !== 1) fail(EINVAL);
      // struct io_uring_buf_reg: ring_addr, ring_entries, bgid, pad, resv[3].
      const v = new DataView(t.mm.copyIn(arg, 40).buffer);
      if (v.getUint16(14, true) !== 0 || [16, 24, 32].some((o) => v.getBigUint64(o, true) !== 0n)) fail(EINVAL);
      const bgid = v.getUint16(12, true);
      if (op === REG.UNREGISTER_PBUF_RING) { ring.provided.unregisterRing(bgid); return 0; }
      const addr = v.getBigUint64(0, true), entries = v.getUint32(8, true);
      if (addr === 0n) fail(EFAULT);
      if ((addr & 0xfffn) !== 0n || entries === 0 || (entries & (entries - 1)) !== 0 || entries >= 65536) fail(EINVAL);
      // Its pages are pinned by Linux: they must be mapped now.
      t.mm.copyIn(Number(addr), entries * 16);
      ring.provided.registerRing(bgid, Number(addr), entries);
      return 0;
    }
    case REG.FILE_ALLOC_RANGE: {
      if (arg === 0 || nrArgs !== 0) fail(EINVAL);
      const v = new DataView(t.mm.copyIn(arg, 16).buffer);
      const off = v.getUint32(0, true), len = v.getUint32(4, true);
      if (off + len > 0xffffffff) fail(EOVERFLOW);
      if (v.getBigUint64(8, true) !== 0n || off + len > (ring.fixedFiles?.length ?? 0)) fail(EINVAL);
      ring.fixedFiles?.setAllocRange(off, len);
      return 0;
    }
    default:
      fail(EINVAL); // restrictions, rsrc tables (FILES2, BUFFERS2 and updates), sync cancel
  }
}

export function registerIoUring(tbl: SyscallTable, main: SyscallTable): void {
  table = main;
  tbl[SYS_io_uring_setup] = { name: 'io_uring_setup', handler: sysIoUringSetup, args: ['uint', 'ptr'] };
  tbl[SYS_io_uring_enter] = {
    name: 'io_uring_enter', handler: sysIoUringEnter, args: ['fd', 'uint', 'uint', 'hex', 'ptr', 'size'],
  };
  tbl[SYS_io_uring_register] = { name: 'io_uring_register', handler: sysIoUringRegister, args: ['fd', 'uint', 'ptr', 'uint'] };
}

