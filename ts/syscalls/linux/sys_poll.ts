// poll, ppoll, select, pselect6 (Linux fs/select.c). Each turns its arguments into a list of
// (file, interesting bits) targets for kernel/poll/poll_wait.ts and its results back into
// the caller's pollfd array or fd_sets. poll reports a closed fd as POLLNVAL; select fails
// the whole call with EBADF. Interrupted by a signal they fail with ERESTARTNOHAND (EINTR
// once a handler runs; never restarted past one), poll with ERESTART_RESTARTBLOCK.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EINVAL, ERESTARTNOHAND, ERESTART_RESTARTBLOCK } from '../../abi/linux/errno';
import {
  POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM,
} from '../../abi/linux/poll';
import { SYS_poll, SYS_ppoll, SYS_pselect6, SYS_select } from '../../abi/linux/syscall_numbers';
import { pollTargets, type PollTarget } from '../../kernel/poll/poll_wait';
import { setUserSigmask, withUserSigmask } from '../../kernel/poll/user_sigmask';
import { FOREVER, finishTimeout, msTimeout, relativeTimeout, type Timeout } from '../../kernel/poll/timeout';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { nofileLimit } from './fd_util';
import { copyInTimespec, copyOutTimespec, copyOutTimeval } from './timespec';
import { taskAttrs } from './task_attrs';

const POLLFD_SIZE = 8;
/** What counts as ready for each fd_set (Linux POLLIN_SET, POLLOUT_SET, POLLEX_SET). */
const POLLIN_SET = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const POLLOUT_SET = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const POLLEX_SET = POLLPRI;

/** personality's STICKY_TIMEOUTS: ppoll, select and pselect6 leave the caller's timeout as it
 *  was (poll_select_finish), and so cannot be restarted. */
const STICKY_TIMEOUTS = 0x4000000;
function sticky(t: Task): boolean {
  return (taskAttrs(t).personality & STICKY_TIMEOUTS) !== 0;
}

// ---- poll, ppoll ----

function doPoll(t: Task, addr: number, nfds: number, to: Timeout, restart: number): SyscallReturn {
  if (nfds > nofileLimit(t)) fail(EINVAL);
  const raw = nfds > 0 ? t.mm.copyIn(addr, nfds * POLLFD_SIZE) : new Uint8Array(0);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const targets: PollTarget[] = [];
  let deadline = to.deadline;
  for (let i = 0; i < nfds; i++) {
    const fd = v.getInt32(i * POLLFD_SIZE, true);
    const events = v.getUint16(i * POLLFD_SIZE + 4, true);
    const file = fd >= 0 ? t.fdTable.get(fd) ?? null : null;
    const nval = fd >= 0 && file === null;
    // A closed fd is an answer already: nothing will wait.
    if (nval) deadline = 0n;
    targets.push({ file, mask: events | POLLERR | POLLHUP, revents: nval ? POLLNVAL : 0 });
  }
  // Linux writes every revents back, even when the call fails (then they are zero).
  const writeBack = (): void => {
    if (nfds === 0) return;
    targets.forEach((tg, i) => v.setUint16(i * POLLFD_SIZE + 6, tg.revents & 0xffff, true));
    t.mm.copyOut(addr, raw);
  };
  const r = pollTargets(t, targets, { deadline, restart });
  if (typeof r === 'number') {
    writeBack();
    return r;
  }
  return r.then((n) => { writeBack(); return n; }, (e: unknown) => {
    for (const tg of targets) if (tg.file) tg.revents = 0;
    writeBack();
    throw e;
  });
}

function sysPoll(t: Task, a: SyscallArgs): SyscallReturn {
  return doPoll(t, a.ptr(0), a.uint(1), msTimeout(t, a.int(2)), ERESTART_RESTARTBLOCK);
}

function timespecTimeout(t: Task, addr: number): Timeout {
  if (addr === 0) return FOREVER;
  const ts = copyInTimespec(t, addr);
  return relativeTimeout(t, ts.sec, ts.nsec);
}

function sysPpoll(t: Task, a: SyscallArgs): SyscallReturn {
  const tsAddr = a.ptr(2);
  const to = timespecTimeout(t, tsAddr);
  const masked = setUserSigmask(t, a.ptr(3), a.size(4));
  return withUserSigmask(t, masked, ERESTARTNOHAND, () =>
    finishTimeout(t, to, tsAddr, doPoll(t, a.ptr(0), a.uint(1), to, ERESTARTNOHAND), copyOutTimespec, sticky(t)));
}

// ---- select, pselect6 ----

/** fdtable's max_fds: select looks at no fd past it. Linux's table starts with 64 slots and
 *  grows in powers of two times 128; this one has no capacity, so it is derived from the
 *  highest fd open. */
function maxFds(t: Task): number {
  const fds = t.fdTable.fds();
  const highest = fds.length > 0 ? fds[fds.length - 1] : -1;
  if (highest < 64) return 64;
  let n = 128;
  while (n <= highest) n *= 2;
  return n;
}

/** An fd_set of n bits in 64-bit words, as the kernel copies it (FDS_BYTES). */
function fdsBytes(n: number): number {
  return Math.ceil(n / 64) * 8;
}

function bit(set: Uint8Array | null, fd: number): boolean {
  return set !== null && (set[fd >> 3] & (1 << (fd & 7))) !== 0;
}

function setBit(set: Uint8Array, fd: number): void {
  set[fd >> 3] |= 1 << (fd & 7);
}

function doSelect(t: Task, nfdsArg: number, addrs: [number, number, number], to: Timeout): SyscallReturn {
  if (nfdsArg < 0) fail(EINVAL);
  const n = Math.min(nfdsArg, maxFds(t));
  const bytes = fdsBytes(n);
  const sets = addrs.map((addr) => (addr !== 0 ? t.mm.copyIn(addr, bytes) : null));
  const [ins, outs, exs] = sets;
  const targets: PollTarget[] = [];
  const fds: number[] = [];
  for (let fd = 0; fd < n; fd++) {
    const mask = (bit(ins, fd) ? POLLIN_SET : 0) | (bit(outs, fd) ? POLLOUT_SET : 0) | (bit(exs, fd) ? POLLEX_SET : 0);
    if (mask === 0) continue;
    const file = t.fdTable.get(fd) ?? fail(EBADF);
    targets.push({ file, mask, revents: 0 });
    fds.push(fd);
  }
  const report = (): number => {
    const res = sets.map((s) => (s ? new Uint8Array(s.length) : null));
    let count = 0;
    targets.forEach((tg, i) => {
      const fd = fds[i];
      const want = [POLLIN_SET, POLLOUT_SET, POLLEX_SET];
      res.forEach((out, k) => {
        if (out && bit(sets[k], fd) && (tg.revents & want[k]) !== 0) {
          setBit(out, fd);
          count++;
        }
      });
    });
    res.forEach((out, k) => { if (out) t.mm.copyOut(addrs[k], out); });
    return count;
  };
  const r = pollTargets(t, targets, { deadline: to.deadline, restart: ERESTARTNOHAND });
  return typeof r === 'number' ? report() : r.then(report);
}

function sysSelect(t: Task, a: SyscallArgs): SyscallReturn {
  const tvAddr = a.ptr(4);
  let to = FOREVER;
  if (tvAddr !== 0) {
    const b = t.mm.copyIn(tvAddr, 16);
    const v = new DataView(b.buffer, b.byteOffset, 16);
    const sec = v.getBigInt64(0, true);
    const usec = v.getBigInt64(8, true);
    // Microseconds past a second carry into the seconds; negative ones are invalid.
    to = relativeTimeout(t, sec + usec / 1_000_000n, (usec % 1_000_000n) * 1000n);
  }
  return finishTimeout(t, to, tvAddr, doSelect(t, a.int(0), [a.ptr(1), a.ptr(2), a.ptr(3)], to), copyOutTimeval, sticky(t));
}

/** pselect6's sixth argument: { const sigset_t *ss; size_t ss_len } (get_sigset_argpack). */
function sigsetArgpack(t: Task, addr: number): { ss: number; len: number } {
  if (addr === 0) return { ss: 0, len: 0 };
  const b = t.mm.copyIn(addr, 16);
  const v = new DataView(b.buffer, b.byteOffset, 16);
  return { ss: Number(v.getBigUint64(0, true)), len: Number(v.getBigUint64(8, true)) };
}

function sysPselect6(t: Task, a: SyscallArgs): SyscallReturn {
  const pack = sigsetArgpack(t, a.ptr(5));
  const tsAddr = a.ptr(4);
  const to = timespecTimeout(t, tsAddr);
  const masked = setUserSigmask(t, pack.ss, pack.len);
  return withUserSigmask(t, masked, ERESTARTNOHAND, () =>
    finishTimeout(t, to, tsAddr, doSelect(t, a.int(0), [a.ptr(1), a.ptr(2), a.ptr(3)], to), copyOutTimespec, sticky(t)));
}

export function registerPoll(table: SyscallTable): void {
  table[SYS_poll] = { name: 'poll', handler: sysPoll, args: ['ptr', 'uint', 'int'] };
  table[SYS_ppoll] = { name: 'ppoll', handler: sysPpoll, args: ['ptr', 'uint', 'timespec', 'ptr', 'size'] };
  table[SYS_select] = { name: 'select', handler: sysSelect, args: ['int', 'ptr', 'ptr', 'ptr', 'ptr'] };
  table[SYS_pselect6] = { name: 'pselect6', handler: sysPselect6, args: ['int', 'ptr', 'ptr', 'ptr', 'timespec', 'ptr'] };
}
