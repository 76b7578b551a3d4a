// timerfd_create, timerfd_settime, timerfd_gettime (Linux fs/timerfd.c) over
// kernel/timerfd.ts.

import type { Task } from '../../kernel/task';
import { CAP_WAKE_ALARM } from '../../kernel/capabilities';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM } from '../../abi/linux/errno';
import { O_CLOEXEC, O_NONBLOCK } from '../../abi/linux/fcntl';
import {
  SYS_timerfd_create, SYS_timerfd_gettime, SYS_timerfd_settime,
} from '../../abi/linux/syscall_numbers';
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM,
} from '../../abi/linux/time';
import { TimerFd } from '../../kernel/timerfd';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile, nofileLimit } from './fd_util';
import { timerClock } from './clocks';
import { copyInItimerspec, copyOutItimerspec } from './itimerspec';

const TFD_CLOEXEC = O_CLOEXEC, TFD_NONBLOCK = O_NONBLOCK;
const TFD_TIMER_ABSTIME = 1, TFD_TIMER_CANCEL_ON_SET = 2;
const CLOCKS = new Set([CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM]);

function isAlarm(clock: number): boolean {
  return clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM;
}

/** Without CAP_WAKE_ALARM, no alarm clocks. */
function checkAlarm(t: Task, clock: number): void {
  if (isAlarm(clock) && !t.creds.hasCapability(CAP_WAKE_ALARM)) fail(EPERM);
}

function sysTimerfdCreate(t: Task, a: SyscallArgs): number {
  const clock = a.int(0);
  const flags = a.int(1);
  if ((flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) !== 0 || !CLOCKS.has(clock)) fail(EINVAL);
  checkAlarm(t, clock);
  const f = new TimerFd(t, clock, timerClock(t, clock), flags);
  try {
    return t.fdTable.newFD(f, { cloexec: (flags & TFD_CLOEXEC) !== 0, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

/** timerfd_fget: EBADF for no file, EINVAL for another kind. */
function getTimerFd(t: Task, fd: number): TimerFd {
  const f = getFile(t, fd);
  if (!(f instanceof TimerFd)) fail(EINVAL);
  return f;
}

function sysTimerfdSettime(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const flags = a.int(1);
  const oldAddr = a.ptr(3);
  const spec = copyInItimerspec(t, a.ptr(2));
  if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) !== 0) fail(EINVAL);
  const f = getTimerFd(t, fd);
  checkAlarm(t, f.clockId);
  let expiry = 0n;
  if (spec.value !== 0n) expiry = (flags & TFD_TIMER_ABSTIME) !== 0 ? spec.value : f.timer.clock.now() + spec.value;
  const old = f.set(expiry, spec.interval);
  if (oldAddr !== 0) copyOutItimerspec(t, oldAddr, old);
  return 0;
}

function sysTimerfdGettime(t: Task, a: SyscallArgs): number {
  const f = getTimerFd(t, a.int(0));
  copyOutItimerspec(t, a.ptr(1), f.get());
  return 0;
}

export function registerTimerfd(table: SyscallTable): void {
  table[SYS_timerfd_create] = { name: 'timerfd_create', handler: sysTimerfdCreate, args: ['clock', 'hex'] };
  table[SYS_timerfd_settime] = {
    name: 'timerfd_settime', handler: sysTimerfdSettime, args: ['fd', 'hex', 'ptr', 'outptr'],
  };
  table[SYS_timerfd_gettime] = { name: 'timerfd_gettime', handler: sysTimerfdGettime, args: ['fd', 'outptr'] };
}
