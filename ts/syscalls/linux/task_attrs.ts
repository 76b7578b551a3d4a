// Per-task attributes Linux keeps in task_struct that the Task class does not have (yet):
// the command name (comm), personality, the prctl switches, the CPU affinity mask and the
// scheduling attributes (nice, policy, real-time and I/O priority). They are
// kept here, keyed by task, so the syscalls that own them need no field elsewhere. clone and
// execve should call copyTaskAttrs / execTaskAttrs so that the Linux inheritance rules hold;
// a task nobody copied to starts from the defaults.

import * as os from 'node:os';
import * as path from 'node:path';
import type { Task } from '../../kernel/task';
import { TASK_COMM_LEN } from '../../abi/linux/prctl';
import { bytesToString, stringBytes } from '../../abi/byte_string';

export interface TaskAttrs {
  /** Up to 15 bytes, the name ps and /proc/<pid>/comm show. */
  comm: string;
  personality: number;
  /** SUID_DUMP_USER (1) or SUID_DUMP_DISABLE (0). */
  dumpable: number;
  /** Signal sent when the parent dies, 0 for none. */
  pdeathsig: number;
  noNewPrivs: boolean;
  /** CPUs the task may run on, one bit each (bit i of byte i>>3). */
  affinity: Uint8Array;
  /** -20..19; reported and inherited, not acted on (tasks share one event loop). */
  nice: number;
  /** SCHED_NORMAL, SCHED_FIFO... as set; sched_priority for the real-time ones. */
  policy: number;
  rtPriority: number;
  /** SCHED_RESET_ON_FORK: children start SCHED_NORMAL with a non-negative nice. */
  resetOnFork: boolean;
  /** ioprio_set's value (class << 13 | data), 0 when never set. */
  ioprio: number;
  /** PF_FORKNOEXEC: made by fork/clone and has not exec'd since (acct's AFORK). */
  forkNoExec: boolean;
  /** Creation time (task->start_time), for process accounting: wall clock and monotonic. */
  startRealMs: number;
  startMonoNs: bigint;
  /** Process-wide in Linux (signal_struct, mm flags): every thread of a process holds the
   *  same values (setProcessAttr). oom_score_adj and the floor below which lowering it needs
   *  CAP_SYS_RESOURCE; the core dump filter bits (/proc/<pid>/coredump_filter). */
  oomScoreAdj: number;
  oomScoreAdjMin: number;
  coredumpFilter: number;
  /** Timer slack (PR_SET_TIMERSLACK, /proc/<pid>/timerslack_ns), and what 0 resets it to:
   *  the slack the task had when it was forked. Reported, not acted on. */
  timerSlackNs: bigint;
  defaultTimerSlackNs: bigint;
  /** PR_MCE_KILL's policy (PR_MCE_KILL_LATE/EARLY, or DEFAULT when unset), per thread. */
  mceKill: number;
  /** Process-wide (mm flags): PR_SET_THP_DISABLE, PR_SET_MEMORY_MERGE. Recorded, inherited
   *  by fork and kept by execve; not acted on. */
  thpDisable: boolean;
  memoryMerge: boolean;
  /** PR_SET_IO_FLUSHER (PF_MEMALLOC_NOIO|PF_LOCAL_THROTTLE), per thread. */
  ioFlusher: boolean;
}

/** Linux's default timer slack, 50 µs. */
export const DEFAULT_TIMER_SLACK_NS = 50_000n;
/** MMF_DUMP_FILTER_DEFAULT: anonymous private and shared, ELF headers, private huge pages. */
export const DEFAULT_COREDUMP_FILTER = 0x33;

/** Sets a process-wide attribute on every thread of t's process. */
export function setProcessAttr<K extends 'oomScoreAdj' | 'oomScoreAdjMin' | 'coredumpFilter' | 'thpDisable' | 'memoryMerge'>(
  t: Task, key: K, value: TaskAttrs[K]): void {
  for (const task of t.tg.tasks) taskAttrs(task)[key] = value;
  taskAttrs(t)[key] = value;
}

const SCHED_NORMAL = 0;
const SCHED_FIFO = 1;
const SCHED_RR = 2;

const attrs = new WeakMap<Task, TaskAttrs>();

let cpus = 0;

/** CPUs the sandbox reports: as many as the host let Node use when it was first asked, fixed
 *  from then on (gVisor's applicationCores). Each ask is a sched_getaffinity, and psi asks at
 *  every wait and wake of every task. */
export function cpuCount(): number {
  if (cpus === 0) cpus = Math.max(1, os.availableParallelism());
  return cpus;
}

/** Bytes of a CPU mask the kernel works with: whole longs covering every CPU (cpumask_size). */
export function cpuMaskSize(): number {
  return Math.ceil(cpuCount() / 64) * 8;
}

/** The CPU a task is said to run on: the first its affinity allows (tasks are coroutines on
 *  one event loop; this keeps getcpu and rseq's cpu_id inside sched_getaffinity's set). */
export function taskCpu(t: Task): number {
  const mask = taskAttrs(t).affinity;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 0) return i * 8 + 31 - Math.clz32(mask[i] & -mask[i]);
  }
  return 0;
}

function allCpus(): Uint8Array {
  const mask = new Uint8Array(cpuMaskSize());
  for (let i = 0; i < cpuCount(); i++) mask[i >> 3] |= 1 << (i & 7);
  return mask;
}

/** Linux __set_task_comm: at most TASK_COMM_LEN-1 bytes. */
export function truncateComm(name: string): string {
  const b = stringBytes(name);
  return b.length < TASK_COMM_LEN ? name : bytesToString(b.subarray(0, TASK_COMM_LEN - 1));
}

export function taskAttrs(t: Task): TaskAttrs {
  let a = attrs.get(t);
  if (!a) {
    a = {
      comm: truncateComm(path.basename(t.tg.exePath || '')),
      personality: 0,
      dumpable: 1,
      pdeathsig: 0,
      noNewPrivs: false,
      affinity: allCpus(),
      nice: 0,
      policy: SCHED_NORMAL,
      rtPriority: 0,
      resetOnFork: false,
      ioprio: 0,
      forkNoExec: false,
      startRealMs: Date.now(),
      startMonoNs: process.hrtime.bigint(),
      oomScoreAdj: 0,
      oomScoreAdjMin: 0,
      coredumpFilter: DEFAULT_COREDUMP_FILTER,
      timerSlackNs: DEFAULT_TIMER_SLACK_NS,
      defaultTimerSlackNs: DEFAULT_TIMER_SLACK_NS,
      mceKill: 2,
      thpDisable: false,
      memoryMerge: false,
      ioFlusher: false,
    };
    attrs.set(t, a);
  }
  return a;
}

/** clone/fork: the child starts with the parent's attributes, except the parent-death signal. */
export function copyTaskAttrs(parent: Task, child: Task): void {
  const p = taskAttrs(parent);
  const c = { ...p, pdeathsig: 0, affinity: p.affinity.slice(), forkNoExec: true, startRealMs: Date.now(),
    startMonoNs: process.hrtime.bigint(), defaultTimerSlackNs: p.timerSlackNs };
  if (c.resetOnFork) {
    if (c.policy === SCHED_FIFO || c.policy === SCHED_RR) {
      c.policy = SCHED_NORMAL;
      c.rtPriority = 0;
    }
    if (c.nice < 0) c.nice = 0;
    c.resetOnFork = false;
  }
  attrs.set(child, c);
}

/** execve: comm becomes the new program's name; pdeathsig is cleared for set-id programs
 *  only, which the sandbox does not run, so it stays. */
export function execTaskAttrs(t: Task, filename: string): void {
  const a = taskAttrs(t);
  a.comm = truncateComm(path.basename(filename));
  a.forkNoExec = false;
}
