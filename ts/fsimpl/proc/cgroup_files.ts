// The cgroup files of /proc: /proc/<pid>/cgroup (the process's cgroup in the v2 hierarchy,
// as the reader's cgroup namespace names it) and /proc/cgroups (the v1 controller table:
// with only the v2 hierarchy every controller's hierarchy is 0, as Linux prints).

import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import { CONTROLLERS, type Cgroup, cgroupNsRoot, cgroupOf, topCgroup } from '../../kernel/cgroup/cgroup';

/** proc_cgroup_show: "0::PATH", PATH relative to the reader's cgroup namespace root (with
 *  /.. steps when the process is outside it), " (deleted)" after an rmdir. */
export function procCgroup(kernel: Kernel, t: Task, reader: Task | null): string {
  const cg = cgroupOf(kernel, t.tg);
  const root = reader !== null ? cgroupNsRoot(reader) : topCgroup(kernel);
  return `0::${cg.pathFrom(root)}${cg.removed ? ' (deleted)' : ''}\n`;
}

/** proc_cgroupstats_show: each controller, its hierarchy (0: v2), how many cgroups have it
 *  (the top and every cgroup whose parent enables it), and 1 for enabled. */
export function procCgroups(kernel: Kernel): string {
  const top = topCgroup(kernel);
  const all: Cgroup[] = [top, ...top.descendants()];
  const rows = CONTROLLERS.map((c) => `${c}\t0\t${all.filter((g) => g.controllers().has(c)).length}\t1\n`);
  return `#subsys_name\thierarchy\tnum_cgroups\tenabled\n${rows.join('')}`;
}
