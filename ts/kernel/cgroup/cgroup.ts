// The cgroup v2 hierarchy (Linux kernel/cgroup/cgroup.c, Documentation/admin-guide/
// cgroup-v2.rst): a tree of cgroups per kernel, each process (thread group) a member of
// exactly one, children inheriting their parent's at fork. The sandbox is a container: the
// top of its tree stands for the cgroup the sandbox was given, a non-root cgroup as a
// container with its own cgroup namespace sees it, so its limits are the sandbox's (--pids).
// Owns: the tree, membership and each cgroup's settings. The rules for changing them are in
// cgroup_ops.ts, what the controllers do in controllers.ts.

import type { Kernel } from '../kernel';
import type { Task } from '../task';
import type { ThreadGroup } from '../thread_group';
import type { Namespace } from '../ns/namespace';
import { nsproxyOf } from '../ns/nsproxy';

/** The controllers the sandbox has, in Linux's order (cgroup_subsys.h): only those whose
 *  files mean something here. memory is absent: see controllers.ts. */
export const CONTROLLERS = ['cpuset', 'cpu', 'pids'] as const;
export type Controller = typeof CONTROLLERS[number];

/** cpu.max: a quota per period, both in us; quota null for "max". */
export interface CpuMax { quota: number | null; period: number }

let nextId = 1;

export class Cgroup {
  readonly children = new Map<string, Cgroup>();
  /** Member processes, zombies too until reaped (they still count in pids.current). */
  readonly procs = new Set<ThreadGroup>();
  readonly subtreeControl = new Set<Controller>();
  /** cgroup.max.depth and cgroup.max.descendants. */
  maxDepth = Infinity;
  maxDescendants = Infinity;
  /** pids.max (Infinity for "max") and pids.events' max: forks refused for this limit. */
  pidsMax = Infinity;
  pidsEvents = 0;
  /** cpu.max and cpu.weight: stored and read back, not enforced (the host schedules). */
  cpuMax: CpuMax = { quota: null, period: 100000 };
  cpuWeight = 100;
  /** cpuset.cpus and cpuset.mems as written (lists of numbers); empty: the parent's. */
  cpusetCpus: number[] = [];
  cpusetMems: number[] = [];
  /** CPU time (user, system ns) of processes that left (exited or moved away). */
  readonly retiredCpu: [number, number] = [0, 0];
  /** Live cgroups below (cgroup.stat's nr_descendants). */
  nrDescendants = 0;
  /** rmdir'ed: files still open on it refuse writes (ENODEV). */
  removed = false;
  readonly id = nextId++;
  readonly level: number;

  constructor(readonly name: string, readonly parent: Cgroup | null, readonly owner = { uid: 0, gid: 0 },
    readonly dirMode = 0o755) {
    this.level = parent === null ? 0 : parent.level + 1;
  }

  /** The path from the top of the hierarchy, '/' for the top. */
  get path(): string {
    return this.parent === null ? '/' : this.parent.parent === null ? `/${this.name}` : `${this.parent.path}/${this.name}`;
  }

  /** The path as seen from `root` (a cgroup namespace's root): /.. steps where it is not
   *  below root, as Linux's cgroup_path_ns prints. */
  pathFrom(root: Cgroup): string {
    if (root.isAncestorOf(this)) {
      const p = this.path, r = root.path;
      return r === '/' ? p : p === r ? '/' : p.slice(r.length);
    }
    const up: string[] = [];
    let a: Cgroup | null = root;
    while (a !== null && !a.isAncestorOf(this)) { up.push('..'); a = a.parent; }
    const rest = a === null ? '' : this.pathFrom(a);
    return `/${up.join('/')}${rest === '/' ? '' : rest}`;
  }

  isAncestorOf(c: Cgroup): boolean {
    for (let x: Cgroup | null = c; x !== null; x = x.parent) if (x === this) return true;
    return false;
  }

  /** The controllers this cgroup has (cgroup.controllers): the top has all, others what
   *  their parent enables. */
  controllers(): ReadonlySet<Controller> {
    return this.parent === null ? new Set(CONTROLLERS) : this.parent.subtreeControl;
  }

  /** Every cgroup below (not this one), depth first. */
  *descendants(): Generator<Cgroup> {
    for (const c of this.children.values()) {
      yield c;
      yield* c.descendants();
    }
  }

  /** Member processes that are still alive (cgroup.procs lists only those). */
  liveProcs(): ThreadGroup[] {
    return [...this.procs].filter((tg) => !tg.zombie && !tg.reaped && tg.tasks.size > 0);
  }

  /** A live process here or below (cgroup.events' populated). */
  populated(): boolean {
    if (this.liveProcs().length > 0) return true;
    for (const c of this.children.values()) if (c.populated()) return true;
    return false;
  }
}

interface Hierarchy { top: Cgroup; member: WeakMap<ThreadGroup, Cgroup> }
const hierarchies = new WeakMap<Kernel, Hierarchy>();

function hierarchyOf(k: Kernel): Hierarchy {
  let h = hierarchies.get(k);
  if (!h) hierarchies.set(k, h = { top: new Cgroup('', null), member: new WeakMap() });
  return h;
}

/** The top of the kernel's hierarchy (the sandbox's own cgroup). */
export function topCgroup(k: Kernel): Cgroup { return hierarchyOf(k).top; }

/** The cgroup process tg belongs to (the top for one never placed: the first process). */
export function cgroupOf(k: Kernel, tg: ThreadGroup): Cgroup {
  const h = hierarchyOf(k);
  let cg = h.member.get(tg);
  if (!cg) {
    cg = h.top;
    h.member.set(tg, cg);
    cg.procs.add(tg);
  }
  return cg;
}

/** Move tg into `to` (the checks are the caller's): its CPU time so far stays where it was
 *  spent. */
export function setCgroup(k: Kernel, tg: ThreadGroup, to: Cgroup, cpuSoFar: [number, number]): void {
  const from = cgroupOf(k, tg);
  if (from === to) return;
  from.procs.delete(tg);
  from.retiredCpu[0] += cpuSoFar[0] - (cpuBase.get(tg)?.[0] ?? 0);
  from.retiredCpu[1] += cpuSoFar[1] - (cpuBase.get(tg)?.[1] ?? 0);
  cpuBase.set(tg, cpuSoFar);
  hierarchyOf(k).member.set(tg, to);
  to.procs.add(tg);
}

/** CPU time each process had when it entered its present cgroup (absent: at its start). */
const cpuBase = new WeakMap<ThreadGroup, [number, number]>();

/** The process's CPU time spent in its present cgroup, given its total. */
export function cpuSinceJoined(tg: ThreadGroup, total: [number, number]): [number, number] {
  const b = cpuBase.get(tg) ?? [0, 0];
  return [total[0] - b[0], total[1] - b[1]];
}

/** fork: the child process joins `cg`, its parent's or CLONE_INTO_CGROUP's (cgroup_post_fork). */
export function cgroupFork(k: Kernel, cg: Cgroup, child: ThreadGroup): void {
  hierarchyOf(k).member.set(child, cg);
  cg.procs.add(child);
}

/** release_task: the reaped process leaves its cgroup, its CPU time staying there. */
export function cgroupRelease(k: Kernel, tg: ThreadGroup, total: [number, number]): void {
  const h = hierarchyOf(k);
  const cg = h.member.get(tg);
  if (!cg) return;
  const [u, s] = cpuSinceJoined(tg, total);
  cg.retiredCpu[0] += u;
  cg.retiredCpu[1] += s;
  cg.procs.delete(tg);
}

/** The root each cgroup namespace was made with (the maker's cgroup then). */
const nsRoots = new WeakMap<Namespace, Cgroup>();

export function setCgroupNsRoot(ns: Namespace, root: Cgroup): void { nsRoots.set(ns, root); }

/** The root of t's cgroup namespace: paths it reads are relative to it. */
export function cgroupNsRoot(t: Task): Cgroup {
  return nsRoots.get(nsproxyOf(t).cgroup) ?? topCgroup(t.kernel);
}

/** Tasks charged to cg and its descendants (pids.current): threads, and zombies until
 *  reaped (a zombie counts as one task). */
export function taskCount(cg: Cgroup): number {
  let n = 0;
  for (const tg of cg.procs) n += tg.tasks.size > 0 ? tg.tasks.size : tg.reaped ? 0 : 1;
  for (const c of cg.children.values()) n += taskCount(c);
  return n;
}
