// clock_gettime, clock_getres, gettimeofday, time (Linux kernel/time/): reading clocks.
// The vDSO (loader/vdso.ts) answers the common clocks without a syscall where the platform
// lets it (kernel/vvar_page.ts); the rest, and every call on kvm, come here.

import { sysTz } from './sys_settime';
import type { Task } from '../../kernel/task';
import { SYS_clock_getres, SYS_clock_gettime, SYS_gettimeofday, SYS_time } from '../../abi/linux/syscall_numbers';
import { CLOCK_MONOTONIC, NSEC_PER_SEC } from '../../abi/linux/time';
import { inHostVdso } from '../../kernel/vvar_page';
import type { SyscallArgs, SyscallTable } from './types';
import { clockNow, clockResolution } from './clocks';
import { copyOutTimespec, copyOutTimeval } from './timespec';

function sysClockGettime(t: Task, a: SyscallArgs): number {
  const clock = a.int(0);
  // The host's vDSO falling back to the syscall (a host clocksource it cannot read in user
  // mode) for the sandbox's vDSO, which adds the time namespace's offset itself: the clock
  // outside any namespace, or the offset would count twice.
  const raw = clock === CLOCK_MONOTONIC && inHostVdso(t.kernel, t.ip);
  copyOutTimespec(t, a.ptr(1), raw ? t.kernel.monotonicNs() : clockNow(t, clock));
  return 0;
}

/** A NULL result pointer is allowed: the call then only validates the clock id. */
function sysClockGetres(t: Task, a: SyscallArgs): number {
  const res = clockResolution(t, a.int(0));
  const addr = a.ptr(1);
  if (addr !== 0) copyOutTimespec(t, addr, res);
  return 0;
}

/** Either pointer may be NULL. The kernel's time zone (sys_tz) is what settimeofday set,
 *  UTC with no DST until then (sys_settime.ts). */
function sysGettimeofday(t: Task, a: SyscallArgs): number {
  const tv = a.ptr(0);
  const tz = a.ptr(1);
  if (tv !== 0) copyOutTimeval(t, tv, t.kernel.realtimeNs());
  if (tz !== 0) {
    const z = sysTz(t.kernel);
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setInt32(0, z.minuteswest, true);
    v.setInt32(4, z.dsttime, true);
    t.mm.copyOut(tz, b);
  }
  return 0;
}

function sysTime(t: Task, a: SyscallArgs): bigint {
  const now = t.kernel.realtimeNs() / NSEC_PER_SEC;
  const addr = a.ptr(0);
  if (addr !== 0) t.mm.writeU64(addr, now);
  return now;
}

export function registerTime(table: SyscallTable): void {
  table[SYS_clock_gettime] = { name: 'clock_gettime', handler: sysClockGettime, args: ['clock', 'outptr'] };
  table[SYS_clock_getres] = { name: 'clock_getres', handler: sysClockGetres, args: ['clock', 'outptr'] };
  table[SYS_gettimeofday] = { name: 'gettimeofday', handler: sysGettimeofday, args: ['outptr', 'outptr'] };
  table[SYS_time] = { name: 'time', handler: sysTime, args: ['outptr'] };
}
