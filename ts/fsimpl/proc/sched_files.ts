// /proc/<pid>/{sched,schedstat,timers} (Linux kernel/sched/debug.c proc_sched_show_task,
// fs/proc/base.c proc_pid_schedstat and show_timer). Values come from the sentry's own
// accounting: CPU time (cpu_time.ts), the waits a task blocked in (its voluntary switches),
// the scheduling attributes sched_setattr set, and the process's posix timers. What the sentry
// has no scheduler for (run-queue delay, migrations, preemptions) is 0.

import type { Task } from '../../kernel/task';
import { threadCpu, voluntarySwitches } from '../../kernel/timers/cpu_time';
import { posixTimersOf } from '../../kernel/timers/process_timers';
import { SIGEV_NONE, SIGEV_THREAD, SIGEV_THREAD_ID } from '../../kernel/timers/posix_timer';
import { taskAttrs } from '../../syscalls/linux/task_attrs';
import { tgidIn, tidIn, type PidNamespace } from '../../kernel/ns/pid_ns';

const SCHED_FIFO = 1, SCHED_RR = 2, SCHED_IDLE = 5, SCHED_DEADLINE = 6;
const MAX_RT_PRIO = 100, DEFAULT_PRIO = 120;
/** WEIGHT_IDLEPRIO: a SCHED_IDLE task's load weight. */
const WEIGHT_IDLEPRIO = 3;

/** sched_prio_to_weight: the CFS load weight of nice -20..19 (each step ~1.25x). */
const PRIO_TO_WEIGHT = [
  88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
  9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
  1024, 820, 655, 526, 423, 335, 272, 215, 172, 137,
  110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
];

/** normal_prio: -1 for deadline, 99 - rt_priority for real-time, 120 + nice otherwise. */
export function taskPrio(t: Task): number {
  const a = taskAttrs(t);
  if (a.policy === SCHED_DEADLINE) return -1;
  if (a.policy === SCHED_FIFO || a.policy === SCHED_RR) return MAX_RT_PRIO - 1 - a.rtPriority;
  return DEFAULT_PRIO + a.nice;
}

/** se.load.weight as set_load_weight computes it, scaled by SCHED_FIXEDPOINT (1 << 10). */
function loadWeight(t: Task): number {
  const a = taskAttrs(t);
  const w = a.policy === SCHED_IDLE ? WEIGHT_IDLEPRIO : PRIO_TO_WEIGHT[a.nice + 20] ?? 1024;
  return w * 1024;
}

function runtimeNs(t: Task): bigint {
  const c = threadCpu(t);
  return c.userNs + c.sysNs;
}

const P = (name: string, v: number | bigint): string => `${name.padEnd(45)}:${String(v).padStart(21)}\n`;
/** __PN: nanoseconds shown as milliseconds with six decimals. */
const PN = (name: string, ns: bigint): string =>
  `${name.padEnd(45)}:${String(ns / 1_000_000n).padStart(14)}.${String(ns % 1_000_000n).padStart(6, '0')}\n`;

/** /proc/<pid>/sched: the task's line, then its scheduler entity's figures. */
export function sched(t: Task, pidNs: PidNamespace): string {
  const a = taskAttrs(t);
  const nvcsw = voluntarySwitches(t);
  return `${a.comm} (${tidIn(pidNs, t)}, #threads: ${t.tg.tasks.size})\n${'-'.repeat(67)}\n` +
    PN('se.sum_exec_runtime', runtimeNs(t)) + P('se.nr_migrations', 0) + P('nr_switches', nvcsw) +
    P('nr_voluntary_switches', nvcsw) + P('nr_involuntary_switches', 0) + P('se.load.weight', loadWeight(t)) +
    P('policy', a.policy) + P('prio', taskPrio(t));
}

/** /proc/<pid>/schedstat: time on the CPU (ns), time waiting on a run queue (ns; the sentry
 *  has none to count), and how many times the task was given the CPU. */
export function schedstat(t: Task): string {
  return `${runtimeNs(t)} 0 ${voluntarySwitches(t) + 1}\n`;
}

const NOTIFY_NAMES: Record<number, string> = { [0]: 'signal', [SIGEV_NONE]: 'none', [SIGEV_THREAD]: 'thread' };

/** /proc/<pid>/timers: each posix timer's id, signal and sigev_value (as %px), how it
 *  notifies and whom, and its clock. */
export function timers(t: Task, pidNs: PidNamespace): string {
  return posixTimersOf(t.tg).map((p) => {
    const thread = p.ev.thread;
    const notify = p.ev.notify & ~SIGEV_THREAD_ID;
    const who = thread !== null ? `tid.${tidIn(pidNs, thread)}` : `pid.${tgidIn(pidNs, p.tg)}`;
    const value = BigInt.asUintN(64, p.ev.value).toString(16).padStart(16, '0');
    return `ID: ${p.id}\nsignal: ${p.ev.signo}/${value}\nnotify: ${NOTIFY_NAMES[notify] ?? ''}/${who}\nClockID: ${p.clockId}\n`;
  }).join('');
}
