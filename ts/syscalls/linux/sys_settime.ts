// settimeofday and clock_settime (Linux kernel/time/time.c, posix-timers.c): argument checks
// in Linux's order and the permission (CAP_SYS_TIME). The sandbox's wall clock is the host's,
// which it may not move: a permitted clock change is refused with EPERM (support.ts says so).
// The kernel time zone (sys_tz) is the sandbox's own: settimeofday sets it, gettimeofday
// reports it.

import type { Task } from '../../kernel/task';
import type { Kernel } from '../../kernel/kernel';
import type { SyscallArgs, SyscallTable } from './types';
import { SYS_clock_settime, SYS_settimeofday } from '../../abi/linux/syscall_numbers';
import { EINVAL, EPERM } from '../../abi/linux/errno';
import { CLOCK_REALTIME } from '../../abi/linux/time';
import { fail } from '../../kernel/syscall_error';
import { CAP_SYS_TIME } from '../../kernel/capabilities';
import { copyInTimespec, timespecValid, type RawTimespec } from './timespec';
import { cpuClockTarget, timerClock } from './clocks';

const USEC_PER_SEC = 1_000_000n;
/** TIME_SETTOD_SEC_MAX: KTIME_SEC_MAX less 30 years of headroom. */
const TIME_SETTOD_SEC_MAX = 9223372036n - 946728000n;

interface TimeZone { minuteswest: number; dsttime: number }
const zones = new WeakMap<Kernel, TimeZone>();

/** sys_tz: what gettimeofday reports as the time zone. */
export function sysTz(k: Kernel): TimeZone {
  return zones.get(k) ?? { minuteswest: 0, dsttime: 0 };
}

/** do_sys_settimeofday64. */
function setTime(t: Task, tv: RawTimespec | null, tz: TimeZone | null): number {
  if (tv !== null && (!timespecValid(tv) || tv.sec >= TIME_SETTOD_SEC_MAX)) fail(EINVAL);
  if (!t.creds.hasCapability(CAP_SYS_TIME)) fail(EPERM);
  if (tz !== null) {
    if (tz.minuteswest > 15 * 60 || tz.minuteswest < -15 * 60) fail(EINVAL);
    zones.set(t.kernel, tz);
  }
  // The host's clock is not the sandbox's to move.
  if (tv !== null) fail(EPERM);
  return 0;
}

function sysSettimeofday(t: Task, a: SyscallArgs): number {
  const tvAddr = a.ptr(0), tzAddr = a.ptr(1);
  let tv: RawTimespec | null = null;
  if (tvAddr !== 0) {
    const raw = copyInTimespec(t, tvAddr); // struct timeval: the same two longs
    if (raw.nsec > USEC_PER_SEC || raw.nsec < 0n) fail(EINVAL);
    tv = { sec: raw.sec, nsec: raw.nsec * 1000n };
  }
  let tz: TimeZone | null = null;
  if (tzAddr !== 0) {
    const b = t.mm.copyIn(tzAddr, 8);
    const v = new DataView(b.buffer, b.byteOffset, 8);
    tz = { minuteswest: v.getInt32(0, true), dsttime: v.getInt32(4, true) };
  }
  return setTime(t, tv, tz);
}

function sysClockSettime(t: Task, a: SyscallArgs): number {
  const clock = a.int(0);
  if (clock < 0) {
    // posix_cpu_clock_set (clocks by pid): never settable, but a bad one is still EINVAL.
    // The caller's own two CPU clocks have no clock_set at all: EINVAL below.
    cpuClockTarget(t, clock, false);
    copyInTimespec(t, a.ptr(1));
    fail(EPERM);
  }
  timerClock(t, clock); // an unknown id: EINVAL
  if (clock !== CLOCK_REALTIME) fail(EINVAL); // only CLOCK_REALTIME has clock_set
  return setTime(t, copyInTimespec(t, a.ptr(1)), null);
}

export function registerSettime(table: SyscallTable): void {
  table[SYS_settimeofday] = { name: 'settimeofday', handler: sysSettimeofday, args: ['ptr', 'ptr'] };
  table[SYS_clock_settime] = { name: 'clock_settime', handler: sysClockSettime, args: ['clock', 'timespec'] };
}
