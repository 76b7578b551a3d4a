// times, getrusage (Linux kernel/sys.c). CPU times are the sentry's accounting of its tasks
// (kernel/timers/cpu_time.ts), as for the CPU-time clocks; children's times are not collected yet and read as zero, and so
// do the counters Linux keeps (faults, context switches, max RSS).

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_SIZE, RUSAGE_THREAD, TMS_SIZE } from '../../abi/linux/resource';
import { NSEC_PER_SEC, USER_HZ } from '../../abi/linux/time';
import { SYS_getrusage, SYS_times } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { processCpu, threadCpu } from '../../kernel/timers/cpu_time';

/** [user, system] CPU time of the caller's process (or of the caller alone), in ns. */
function cpuTimes(t: Task, thread = false): [bigint, bigint] {
  const s = thread ? threadCpu(t) : processCpu(t.tg);
  return [s.userNs, s.sysNs];
}

const TICK_NS = NSEC_PER_SEC / BigInt(USER_HZ);

/** Returns clock ticks since boot; buf may be NULL. */
function sysTimes(t: Task, a: SyscallArgs): bigint {
  const addr = a.ptr(0);
  if (addr !== 0) {
    const [user, sys] = cpuTimes(t);
    const b = new Uint8Array(TMS_SIZE);
    const v = new DataView(b.buffer);
    v.setBigInt64(0, user / TICK_NS, true);
    v.setBigInt64(8, sys / TICK_NS, true);
    t.mm.copyOut(addr, b);
  }
  return t.kernel.uptimeNs() / TICK_NS;
}

function sysGetrusage(t: Task, a: SyscallArgs): number {
  const who = a.int(0);
  if (who !== RUSAGE_SELF && who !== RUSAGE_CHILDREN && who !== RUSAGE_THREAD) fail(EINVAL);
  const b = new Uint8Array(RUSAGE_SIZE);
  if (who !== RUSAGE_CHILDREN) {
    const v = new DataView(b.buffer);
    const [user, sys] = cpuTimes(t, who === RUSAGE_THREAD);
    v.setBigInt64(0, user / NSEC_PER_SEC, true);
    v.setBigInt64(8, (user % NSEC_PER_SEC) / 1000n, true);
    v.setBigInt64(16, sys / NSEC_PER_SEC, true);
    v.setBigInt64(24, (sys % NSEC_PER_SEC) / 1000n, true);
  }
  t.mm.copyOut(a.ptr(1), b);
  return 0;
}

export function registerRusage(table: SyscallTable): void {
  table[SYS_times] = { name: 'times', handler: sysTimes, args: ['outptr'] };
  table[SYS_getrusage] = { name: 'getrusage', handler: sysGetrusage, args: ['int', 'outptr'] };
}
