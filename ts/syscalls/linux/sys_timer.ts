// timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete (Linux
// kernel/time/posix-timers.c, posix-cpu-timers.c, alarmtimer.c) over kernel/timers. Checks
// follow do_timer_create's order: the sigevent is copied in, the clock looked up, an id
// taken, the sigevent checked, the id copied out, then the clock's own checks.

import type { Task } from '../../kernel/task';
import { CAP_WAKE_ALARM } from '../../kernel/capabilities';
import { fail } from '../../kernel/syscall_error';
import { EAGAIN, EINVAL, ENOTSUP as EOPNOTSUPP, EPERM } from '../../abi/linux/errno';
import { SIGALRM, SIGRTMAX } from '../../abi/linux/signal';
import {
  SYS_timer_create, SYS_timer_delete, SYS_timer_getoverrun, SYS_timer_gettime, SYS_timer_settime,
} from '../../abi/linux/syscall_numbers';
import {
  CLOCKFD, CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE,
  CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_REALTIME_COARSE, CLOCK_TAI,
  TIMER_ABSTIME, cpuClockWhich,
} from '../../abi/linux/time';
import {
  PosixTimer, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID, type SigEvent,
} from '../../kernel/timers/posix_timer';
import { processTimers } from '../../kernel/timers/process_timers';
import type { SyscallArgs, SyscallTable } from './types';
import { cpuClockTarget, isCpuClock, timerClock } from './clocks';
import { copyInItimerspec, copyOutItimerspec } from './itimerspec';
import { findTask } from '../../kernel/ns/pid_ns';

const SIGEVENT_SIZE = 64;
/** More timers than any program needs; bounds what one process can make the sentry hold. */
const MAX_TIMERS = 1 << 16;

/** Clocks Linux knows but cannot run timers on (their k_clock has no timer_create). */
const NO_TIMERS = new Set([CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE]);
const TIMER_CLOCKS = new Set([CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI,
  CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM]);

/** clockid_to_kclock plus the missing timer_create. */
function checkTimerClock(clock: number): void {
  if (isCpuClock(clock)) {
    if (clock < 0 && cpuClockWhich(clock) === CLOCKFD) fail(EOPNOTSUPP);
    return;
  }
  if (NO_TIMERS.has(clock)) fail(EOPNOTSUPP);
  if (!TIMER_CLOCKS.has(clock)) fail(EINVAL);
}

interface RawSigEvent { value: bigint; signo: number; notify: number; tid: number }

function copyInSigevent(t: Task, addr: number): RawSigEvent {
  const b = t.mm.copyIn(addr, SIGEVENT_SIZE);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { value: v.getBigUint64(0, true), signo: v.getInt32(8, true), notify: v.getInt32(12, true), tid: v.getInt32(16, true) };
}

/** good_sigevent: null when Linux says EINVAL. */
function goodSigevent(t: Task, e: RawSigEvent): SigEvent | null {
  const n = e.notify;
  if (n !== SIGEV_SIGNAL && n !== SIGEV_NONE && n !== SIGEV_THREAD && n !== SIGEV_THREAD_ID) return null;
  let thread: Task | null = null;
  if (n === SIGEV_THREAD_ID) {
    const target = findTask(t, e.tid);
    if (!target || target.exited || target.tg !== t.tg) return null;
    thread = target;
  }
  if (n !== SIGEV_NONE && (e.signo <= 0 || e.signo > SIGRTMAX)) return null;
  return { notify: n, signo: e.signo, value: e.value, thread };
}

function sysTimerCreate(t: Task, a: SyscallArgs): number {
  const clock = a.int(0);
  const sevAddr = a.ptr(1);
  const idAddr = a.ptr(2);
  const raw = sevAddr !== 0 ? copyInSigevent(t, sevAddr) : null;
  checkTimerClock(clock);
  const timers = processTimers(t);
  if (timers.posix.size >= MAX_TIMERS) fail(EAGAIN);
  const id = timers.allocId();
  // Without a sigevent: SIGALRM to the process, with the timer id as sival_int.
  const ev = raw ? goodSigevent(t, raw) : { notify: SIGEV_SIGNAL, signo: SIGALRM, value: BigInt(id), thread: null };
  if (!ev) fail(EINVAL);
  t.mm.writeU32(idAddr, id);
  if (clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM) {
    if (!t.creds.hasCapability(CAP_WAKE_ALARM)) fail(EPERM);
  }
  if (isCpuClock(clock)) cpuClockTarget(t, clock, false);
  timers.posix.set(id, new PosixTimer(id, t.tg, clock, timerClock(t, clock), ev));
  return 0;
}

function lookup(t: Task, id: number): PosixTimer {
  const timer = processTimers(t).posix.get(id);
  if (!timer) fail(EINVAL);
  return timer;
}

function sysTimerSettime(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  const flags = a.int(1);
  const newAddr = a.ptr(2);
  const oldAddr = a.ptr(3);
  if (newAddr === 0) fail(EINVAL);
  const spec = copyInItimerspec(t, newAddr);
  const timer = lookup(t, id);
  const old = timer.get();
  let expiry = 0n;
  if (spec.value !== 0n) expiry = (flags & TIMER_ABSTIME) !== 0 ? spec.value : timer.timer.clock.now() + spec.value;
  timer.set(expiry, spec.interval);
  if (oldAddr !== 0) copyOutItimerspec(t, oldAddr, old);
  return 0;
}

function sysTimerGettime(t: Task, a: SyscallArgs): number {
  const timer = lookup(t, a.int(0));
  copyOutItimerspec(t, a.ptr(1), timer.get());
  return 0;
}

function sysTimerGetoverrun(t: Task, a: SyscallArgs): number {
  return lookup(t, a.int(0)).overrun;
}

function sysTimerDelete(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  const timer = lookup(t, id);
  timer.delete();
  processTimers(t).posix.delete(id);
  return 0;
}

export function registerTimer(table: SyscallTable): void {
  table[SYS_timer_create] = { name: 'timer_create', handler: sysTimerCreate, args: ['clock', 'ptr', 'outptr'] };
  table[SYS_timer_settime] = {
    name: 'timer_settime', handler: sysTimerSettime, args: ['int', 'hex', 'ptr', 'outptr'],
  };
  table[SYS_timer_gettime] = { name: 'timer_gettime', handler: sysTimerGettime, args: ['int', 'outptr'] };
  table[SYS_timer_getoverrun] = { name: 'timer_getoverrun', handler: sysTimerGetoverrun, args: ['int'] };
  table[SYS_timer_delete] = { name: 'timer_delete', handler: sysTimerDelete, args: ['int'] };
}
