// struct itimerspec in application memory (timer_settime, timerfd_settime): it_interval then
// it_value, two timespecs of 32 bytes in all.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { NSEC_PER_SEC } from '../../abi/linux/time';
import type { TimerSpec } from '../../kernel/timers/posix_timer';

const ITIMERSPEC_SIZE = 32;

/** Copy in and validate (timespec64_valid on both halves: EINVAL). */
export function copyInItimerspec(t: Task, addr: number): TimerSpec {
  const b = t.mm.copyIn(addr, ITIMERSPEC_SIZE);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ns = (off: number): bigint => {
    const sec = v.getBigInt64(off, true);
    const nsec = v.getBigInt64(off + 8, true);
    if (sec < 0n || nsec < 0n || nsec >= NSEC_PER_SEC) fail(EINVAL);
    return sec * NSEC_PER_SEC + nsec;
  };
  const interval = ns(0);
  const value = ns(16);
  return { value, interval };
}

export function copyOutItimerspec(t: Task, addr: number, s: TimerSpec): void {
  const b = new Uint8Array(ITIMERSPEC_SIZE);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, s.interval / NSEC_PER_SEC, true);
  v.setBigInt64(8, s.interval % NSEC_PER_SEC, true);
  v.setBigInt64(16, s.value / NSEC_PER_SEC, true);
  v.setBigInt64(24, s.value % NSEC_PER_SEC, true);
  t.mm.copyOut(addr, b);
}
