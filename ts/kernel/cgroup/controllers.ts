// What each controller does with its settings, and the text of its files:
// - pids: pids.max is enforced at fork and clone (pids_can_fork: EAGAIN, counted in
//   pids.events); the top's limit is the sandbox's --pids, checked by kernel/clone.ts.
// - cpu: cpu.stat is the CPU time the sentry accounts (kernel/timers/cpu_time.ts) of the
//   cgroup's processes and of those that left it; cpu.max and cpu.weight are kept and read
//   back but not enforced: the host schedules the sandbox's threads.
// - cpuset: cpuset.cpus/mems are checked against the sandbox's CPUs (and its one memory
//   node) and kept; the effective lists follow them, but affinity is not narrowed by them.
// - memory is not offered: the sandbox bounds its memory as a whole (--memory, an OOM kill
//   at the fault past it) and cannot charge pages to one cgroup honestly (pages are shared
//   across fork and with tmpfs), so a memory.max below the top could not be enforced.

import type { Kernel } from '../kernel';
import type { ThreadGroup } from '../thread_group';
import { fail } from '../syscall_error';
import { EAGAIN, EINVAL, ERANGE } from '../../abi/linux/errno';
import { processCpu } from '../timers/cpu_time';
import { cpuCount } from '../../syscalls/linux/task_attrs';
import { type Cgroup, type CpuMax, cgroupOf, cpuSinceJoined, taskCount, topCgroup } from './cgroup';
import { kstrtoint, strstrip } from './kstrto';

/** pids_can_fork: a new task in cgroup `own` must fit under pids.max of it and of every
 *  cgroup above it (the top's is the kernel's own check). */
export function pidsCanFork(own: Cgroup): void {
  for (let c: Cgroup | null = own; c !== null && c.parent !== null; c = c.parent) {
    if (c.pidsMax !== Infinity && taskCount(c) + 1 > c.pidsMax) {
      own.pidsEvents++;
      fail(EAGAIN);
    }
  }
}

/** The sandbox-wide task limit (the top's pids.max) refused a fork: counted in the forking
 *  process's cgroup's pids.events, where pidsCanFork counts its own refusals. */
export function pidsLimitHit(k: Kernel, tg: ThreadGroup): void {
  cgroupOf(k, tg).pidsEvents++;
}

/** pids.max as its file shows it: the top's is the sandbox's --pids. */
export function pidsMaxOf(k: Kernel, cg: Cgroup): number {
  return cg === topCgroup(k) ? k.pidsMax : cg.pidsMax;
}

/** A process's CPU time, user and system ns. */
export function processCpuNs(tg: ThreadGroup): [number, number] {
  const s = processCpu(tg);
  return [Number(s.userNs), Number(s.sysNs)];
}

/** CPU time (user, system ns) used in cg and below, since each process joined. */
export function cpuUsage(cg: Cgroup): [number, number] {
  let [u, s] = cg.retiredCpu;
  for (const tg of cg.procs) {
    if (tg.reaped) continue;
    const [pu, ps] = cpuSinceJoined(tg, processCpuNs(tg));
    u += pu;
    s += ps;
  }
  for (const c of cg.children.values()) {
    const [cu, cs] = cpuUsage(c);
    u += cu;
    s += cs;
  }
  return [u, s];
}

/** cpu.stat: the usage lines always; the bandwidth ones with the cpu controller (nothing is
 *  throttled, cpu.max not being enforced). */
export function cpuStat(cg: Cgroup, withController: boolean): string {
  const [u, s] = cpuUsage(cg);
  const us = (ns: number): number => Math.floor(ns / 1000);
  let out = `usage_usec ${us(u) + us(s)}\nuser_usec ${us(u)}\nsystem_usec ${us(s)}\n`;
  if (withController) out += 'nr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n';
  return out;
}

/** The sandbox's CPUs (those sched_getaffinity and /sys report). */
export function sandboxCpus(): number[] {
  return Array.from({ length: cpuCount() }, (_, i) => i);
}

/** cpuset.cpus.effective: what was written, else the parent's; the top's are the sandbox's. */
export function effectiveCpus(cg: Cgroup): number[] {
  if (cg.parent === null) return cg.cpusetCpus.length > 0 ? cg.cpusetCpus : sandboxCpus();
  return cg.cpusetCpus.length > 0 ? cg.cpusetCpus : effectiveCpus(cg.parent);
}

/** cpuset.mems.effective: one memory node, 0. */
export function effectiveMems(cg: Cgroup): number[] {
  if (cg.cpusetMems.length > 0) return cg.cpusetMems;
  return cg.parent === null ? [0] : effectiveMems(cg.parent);
}

/** A CPU list as Linux prints it (bitmap_print_to_pagebuf): ranges, comma-separated. */
export function formatList(xs: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < xs.length;) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    out.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** pids_max_write: "max" or 0..PID_MAX_LIMIT. */
export function parsePidsMax(text: string): number {
  const s = strstrip(text);
  if (s === 'max') return Infinity;
  const v = kstrtoint(s, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (v < 0 || v >= PIDS_MAX) fail(EINVAL);
  return v;
}

/** PID_MAX_LIMIT + 1: pids.max's "max". */
const PIDS_MAX = 4 * 1024 * 1024 + 1;

/** cpu_max_write (cpu_period_quota_parse, tg_set_cfs_bandwidth): "QUOTA [PERIOD]" in us,
 *  QUOTA "max" or a number; both at least 1 ms, the period at most 1 s. */
export function parseCpuMax(text: string, old: CpuMax): CpuMax {
  // sscanf("%20s %llu"): a word of up to 20 characters, then maybe a number.
  const m = /^[ \t\n\v\f\r]*([^ \t\n\v\f\r]{1,20})(?:[ \t\n\v\f\r]*([+-]?\d+))?/.exec(text);
  if (!m) fail(EINVAL);
  const period = m[2] !== undefined ? Number(m[2]) : old.period;
  const num = /^[ \t\n\v\f\r]*[+]?(\d+)/.exec(m[1]);
  let quota: number | null;
  if (num) quota = Number(num[1]);
  else if (m[1] === 'max') quota = null;
  else fail(EINVAL);
  if ((quota !== null && quota < 1000) || period < 1000 || period > 1_000_000) fail(EINVAL);
  if (quota !== null && quota > MAX_CFS_RUNTIME_US) fail(EINVAL);
  return { quota, period };
}

/** max_cfs_runtime: the largest quota, (2^44 - 1) us. */
const MAX_CFS_RUNTIME_US = 2 ** 44 - 1;

export function showCpuMax(m: CpuMax): string {
  return `${m.quota === null ? 'max' : m.quota} ${m.period}\n`;
}

/** cpu.weight (a write_u64 file: kstrtoull on the text as written): 1..10000. */
export function parseCpuWeight(text: string): number {
  const v = kstrtoint(text, 0, Number.MAX_SAFE_INTEGER);
  if (v < 1 || v > 10000) fail(ERANGE);
  return v;
}

/** bitmap_parselist over `nbits` bits, as cpuset.cpus and cpuset.mems take it: "0-3,5",
 *  "0-7:2/4" (empty allowed); a number past the bitmap is ERANGE, a malformed list or a
 *  number outside `allowed` EINVAL. */
export function parseCpuList(text: string, allowed: readonly number[], nbits: number): number[] {
  const s = strstrip(text);
  if (s === '') return [];
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+)\/(\d+))?)?$/.exec(part);
    if (!m) fail(EINVAL);
    const a = Number(m[1]), b = m[2] !== undefined ? Number(m[2]) : a;
    const used = m[3] !== undefined ? Number(m[3]) : 1, group = m[4] !== undefined ? Number(m[4]) : 1;
    if (a > b || group === 0 || used > group) fail(EINVAL);
    if (b >= nbits) fail(ERANGE);
    for (let i = a; i <= b; i++) if ((i - a) % group < used) out.add(i);
  }
  for (const i of out) if (!allowed.includes(i)) fail(EINVAL);
  return [...out].sort((x, y) => x - y);
}

/** NR_CPUS and MAX_NUMNODES of a distribution kernel: the bitmaps cpuset lists parse into. */
export const NR_CPUS = 8192, MAX_NUMNODES = 1024;
