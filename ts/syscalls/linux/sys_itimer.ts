// alarm, getitimer, setitimer (Linux kernel/time/itimer.c): the three interval timers of a
// process. ITIMER_REAL counts CLOCK_MONOTONIC and sends SIGALRM; ITIMER_VIRTUAL and
// ITIMER_PROF count the process's user and user+system CPU time (as the sentry accounts
// it, see kernel/timers/cpu_time.ts) and send SIGVTALRM and SIGPROF.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { SYS_alarm, SYS_getitimer, SYS_setitimer } from '../../abi/linux/syscall_numbers';
import { NSEC_PER_SEC } from '../../abi/linux/time';
import { ITIMER_PROF, ITIMER_REAL, processTimers } from '../../kernel/timers/process_timers';
import type { TimerSpec } from '../../kernel/timers/posix_timer';
import type { SyscallArgs, SyscallTable } from './types';

const ITIMERVAL_SIZE = 32;
const NSEC_PER_USEC = 1000n;
/** A CPU timer that is due reads as one tick (TICK_NSEC at HZ=250). */
const TICK_NSEC = 4_000_000n;

/** do_getitimer. */
function getItimer(t: Task, which: number): TimerSpec {
  const timer = processTimers(t).itimers[which];
  const interval = timer.interval;
  // A held ITIMER_REAL (its SIGALRM pending) is not active: Linux reports 0.
  if (!timer.armed || timer.isHeld) return { value: 0n, interval };
  const rem = timer.remaining();
  if (rem > 0n) return { value: rem, interval };
  return { value: which === ITIMER_REAL ? NSEC_PER_USEC : TICK_NSEC, interval };
}

/** do_setitimer: returns the old setting. */
function setItimer(t: Task, which: number, spec: TimerSpec): TimerSpec {
  const old = getItimer(t, which);
  const timer = processTimers(t).itimers[which];
  // set_cpu_itimer: a CPU timer runs one tick longer than asked.
  const value = which === ITIMER_REAL || spec.value === 0n ? spec.value : spec.value + TICK_NSEC;
  timer.set(value === 0n ? 0n : timer.clock.now() + value, spec.interval);
  return old;
}

function timevalNs(v: DataView, off: number): bigint {
  const sec = v.getBigInt64(off, true);
  const usec = v.getBigInt64(off + 8, true);
  // timeval_valid
  if (sec < 0n || usec < 0n || usec >= 1_000_000n) fail(EINVAL);
  return sec * NSEC_PER_SEC + usec * NSEC_PER_USEC;
}

function copyInItimerval(t: Task, addr: number): TimerSpec {
  const b = t.mm.copyIn(addr, ITIMERVAL_SIZE);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const interval = timevalNs(v, 0);
  const value = timevalNs(v, 16);
  return { value, interval };
}

function copyOutItimerval(t: Task, addr: number, s: TimerSpec): void {
  const b = new Uint8Array(ITIMERVAL_SIZE);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, s.interval / NSEC_PER_SEC, true);
  v.setBigInt64(8, (s.interval % NSEC_PER_SEC) / NSEC_PER_USEC, true);
  v.setBigInt64(16, s.value / NSEC_PER_SEC, true);
  v.setBigInt64(24, (s.value % NSEC_PER_SEC) / NSEC_PER_USEC, true);
  t.mm.copyOut(addr, b);
}

function validWhich(which: number): boolean {
  return which >= ITIMER_REAL && which <= ITIMER_PROF;
}

function sysGetitimer(t: Task, a: SyscallArgs): number {
  const which = a.int(0);
  if (!validWhich(which)) fail(EINVAL);
  copyOutItimerval(t, a.ptr(1), getItimer(t, which));
  return 0;
}

/** A NULL new value disarms the timer (a misfeature Linux still supports). */
function sysSetitimer(t: Task, a: SyscallArgs): number {
  const which = a.int(0);
  const valueAddr = a.ptr(1);
  const oldAddr = a.ptr(2);
  const spec = valueAddr !== 0 ? copyInItimerval(t, valueAddr) : { value: 0n, interval: 0n };
  if (!validWhich(which)) fail(EINVAL);
  const old = setItimer(t, which, spec);
  if (oldAddr !== 0) copyOutItimerval(t, oldAddr, old);
  return 0;
}

/** alarm_setitimer: the seconds left on the old alarm, rounded to the nearest, and never 0
 *  while one was pending. */
function sysAlarm(t: Task, a: SyscallArgs): number {
  const secs = BigInt(a.uint(0));
  const old = setItimer(t, ITIMER_REAL, { value: secs * NSEC_PER_SEC, interval: 0n });
  let left = old.value / NSEC_PER_SEC;
  const frac = old.value % NSEC_PER_SEC;
  if ((left === 0n && frac !== 0n) || frac >= NSEC_PER_SEC / 2n) left++;
  return Number(left);
}

export function registerItimer(table: SyscallTable): void {
  table[SYS_alarm] = { name: 'alarm', handler: sysAlarm, args: ['uint'] };
  table[SYS_getitimer] = { name: 'getitimer', handler: sysGetitimer, args: ['int', 'outptr'] };
  table[SYS_setitimer] = { name: 'setitimer', handler: sysSetitimer, args: ['int', 'ptr', 'outptr'] };
}
