// times, getrusage (Linux kernel/sys.c), and the struct rusage wait4/waitid write. CPU times
// are the sentry's accounting of its tasks (kernel/timers/cpu_time.ts), as for the CPU-time
// clocks: a process's own, a thread's, and its reaped children's. ru_maxrss is the largest
// resident set (kernel/rss.ts). The other counters Linux keeps (faults, context switches,
// block I/O) are not collected and read as zero.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import { RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_SIZE, RUSAGE_THREAD, TMS_SIZE } from '../../abi/linux/resource';
import { NSEC_PER_SEC, USER_HZ } from '../../abi/linux/time';
import { SYS_getrusage, SYS_times } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { childrenCpu, processCpu, threadCpu, type CpuSample } from '../../kernel/timers/cpu_time';
import type { ThreadGroup } from '../../kernel/thread_group';
import { childrenMaxRss, processMaxRss } from '../../kernel/rss';

/** [user, system] CPU time of the caller's process (or of the caller alone), in ns. */
function cpuTimes(t: Task, thread = false): [bigint, bigint] {
  const s = thread ? threadCpu(t) : processCpu(t.tg);
  return [s.userNs, s.sysNs];
}

/** struct rusage with the two CPU times (ru_utime, ru_stime as timevals) and ru_maxrss (KiB)
 *  filled. */
function rusageBytes(s: CpuSample, maxRssBytes: number): Uint8Array {
  const b = new Uint8Array(RUSAGE_SIZE);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, s.userNs / NSEC_PER_SEC, true);
  v.setBigInt64(8, (s.userNs % NSEC_PER_SEC) / 1000n, true);
  v.setBigInt64(16, s.sysNs / NSEC_PER_SEC, true);
  v.setBigInt64(24, (s.sysNs % NSEC_PER_SEC) / 1000n, true);
  v.setBigInt64(32, BigInt(Math.floor(maxRssBytes / 1024)), true);
  return b;
}

/** The rusage wait4/waitid report for a child (Linux getrusage(p, RUSAGE_BOTH)): its own
 *  times and those of the children it reaped. */
export function putChildRusage(t: Task, addr: number, child: ThreadGroup): void {
  const own = processCpu(child), kids = childrenCpu(child);
  // RUSAGE_BOTH's maxrss: the larger of the child's (with its mm's, if it is only stopped)
  // and its children's.
  let mm = null;
  for (const task of child.tasks) { mm = task.mm; break; }
  const maxRss = Math.max(processMaxRss(child, mm), childrenMaxRss(child));
  t.mm.copyOut(addr, rusageBytes({ userNs: own.userNs + kids.userNs, sysNs: own.sysNs + kids.sysNs }, maxRss));
}

const TICK_NS = NSEC_PER_SEC / BigInt(USER_HZ);

/** Returns clock ticks since boot; buf may be NULL. */
function sysTimes(t: Task, a: SyscallArgs): bigint {
  const addr = a.ptr(0);
  if (addr !== 0) {
    const [user, sys] = cpuTimes(t);
    const kids = childrenCpu(t.tg);
    const b = new Uint8Array(TMS_SIZE);
    const v = new DataView(b.buffer);
    v.setBigInt64(0, user / TICK_NS, true);
    v.setBigInt64(8, sys / TICK_NS, true);
    v.setBigInt64(16, kids.userNs / TICK_NS, true);
    v.setBigInt64(24, kids.sysNs / TICK_NS, true);
    t.mm.copyOut(addr, b);
  }
  return t.kernel.uptimeNs() / TICK_NS;
}

function sysGetrusage(t: Task, a: SyscallArgs): number {
  const who = a.int(0);
  if (who !== RUSAGE_SELF && who !== RUSAGE_CHILDREN && who !== RUSAGE_THREAD) fail(EINVAL);
  const s = who === RUSAGE_CHILDREN ? childrenCpu(t.tg) : who === RUSAGE_THREAD ? threadCpu(t) : processCpu(t.tg);
  // A thread reports its process's max RSS, as Linux's k_getrusage does.
  const maxRss = who === RUSAGE_CHILDREN ? childrenMaxRss(t.tg) : processMaxRss(t.tg, t.mm);
  t.mm.copyOut(a.ptr(1), rusageBytes(s, maxRss));
  return 0;
}

export function registerRusage(table: SyscallTable): void {
  table[SYS_times] = { name: 'times', handler: sysTimes, args: ['outptr'] };
  table[SYS_getrusage] = { name: 'getrusage', handler: sysGetrusage, args: ['int', 'outptr'] };
}
