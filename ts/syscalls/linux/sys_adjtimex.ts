// adjtimex, clock_adjtime (Linux kernel/time/timekeeping.c, ntp.c): reading the clock's
// discipline state works (struct timex with the time, a 10 ms tick, and "unsynchronised"
// status, since the sandbox runs no NTP of its own); adjusting it is refused — with EPERM
// without CAP_SYS_TIME as on Linux, and with EPERM too where Linux would let a privileged
// caller slew the host's clock: the sandbox's clock is the host's, and it does not move it.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENOTSUP as EOPNOTSUPP, EPERM } from '../../abi/linux/errno';
import { SYS_adjtimex, SYS_clock_adjtime } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';

const TIMEX_SIZE = 208;
const ADJ_OFFSET_SINGLESHOT = 0x0001, ADJ_OFFSET_SS_READ = 0xa001;
const STA_UNSYNC = 0x0040, STA_NANO = 0x2000;
const TIME_ERROR = 5;
const CLOCK_REALTIME = 0, CLOCK_MAX = 12;

function adjtimex(t: Task, addr: number): number {
  const buf = t.mm.copyIn(addr, TIMEX_SIZE);
  const v = new DataView(buf.buffer, buf.byteOffset, TIMEX_SIZE);
  const modes = v.getUint32(0, true);
  // The single-shot offset may not be mixed with the other adjustments (timekeeping_validate_timex).
  if ((modes & ADJ_OFFSET_SINGLESHOT) !== 0 && modes !== ADJ_OFFSET_SINGLESHOT && modes !== ADJ_OFFSET_SS_READ) fail(EINVAL);
  if (modes !== 0 && modes !== ADJ_OFFSET_SS_READ) fail(EPERM);
  const now = t.kernel.realtimeNs();
  const out = new Uint8Array(TIMEX_SIZE);
  const o = new DataView(out.buffer);
  o.setUint32(0, modes, true);
  o.setBigInt64(24, 16_000_000n, true); // maxerror (us): unsynchronised
  o.setBigInt64(32, 16_000_000n, true); // esterror
  o.setInt32(40, STA_UNSYNC | STA_NANO, true);
  o.setBigInt64(48, 2n, true); // constant
  o.setBigInt64(56, 1n, true); // precision (us)
  o.setBigInt64(64, 32_768_000n, true); // tolerance (ppm << 16)
  o.setBigInt64(72, now / 1_000_000_000n, true);
  o.setBigInt64(80, now % 1_000_000_000n, true); // STA_NANO: nanoseconds
  o.setBigInt64(88, 10_000n, true); // tick (us)
  t.mm.copyOut(addr, out);
  return TIME_ERROR;
}

function sysClockAdjtime(t: Task, a: SyscallArgs): number {
  const clock = a.int(0);
  if (clock === CLOCK_REALTIME) return adjtimex(t, a.ptr(1));
  // Other clocks (and CPU clocks) have no discipline to read or adjust.
  if (clock < 0 || clock >= CLOCK_MAX) fail(EINVAL);
  fail(EOPNOTSUPP);
}

export function registerAdjtimex(table: SyscallTable): void {
  table[SYS_adjtimex] = { name: 'adjtimex', handler: (t, a) => adjtimex(t, a.ptr(0)), args: ['ptr'] };
  table[SYS_clock_adjtime] = { name: 'clock_adjtime', handler: sysClockAdjtime, args: ['clock', 'ptr'] };
}
