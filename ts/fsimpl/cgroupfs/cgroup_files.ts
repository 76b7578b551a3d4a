// The interface files of one cgroup directory (Linux cgroup_base_files and each controller's
// dfl_cftypes): the core files always, a controller's only while the parent enables it. The
// top of the hierarchy stands for the sandbox's own (non-root) cgroup, so it has the files
// Linux leaves off the root too; its pids.max is the sandbox's --pids and cannot be written.

import type { Task } from '../../kernel/task';
import type { Inode } from '../../vfs/inode';
import { tgidIn, tidIn, INIT_PID_NS } from '../../kernel/ns/pid_ns';
import { CONTROLLERS, type Cgroup, type Controller } from '../../kernel/cgroup/cgroup';
import {
  parseMaxCount, showMaxCount, writeKill, writeProcs, writeSubtreeControl,
} from '../../kernel/cgroup/cgroup_ops';
import {
  cpuStat, effectiveCpus, effectiveMems, formatList, parseCpuList, parseCpuMax, parseCpuWeight, parsePidsMax,
  pidsMaxOf, sandboxCpus, showCpuMax, NR_CPUS, MAX_NUMNODES,
} from '../../kernel/cgroup/controllers';
import { taskCount } from '../../kernel/cgroup/cgroup';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENOTSUP as EOPNOTSUPP } from '../../abi/linux/errno';
import { strstrip } from '../../kernel/cgroup/kstrto';
import { CgroupFile, type Show, type Store } from './cgroup_file';
import type { CgroupFS } from './cgroupfs';

interface Cftype { show: Show | null; store: Store | null; controller?: Controller }

export interface CgroupFiles {
  names(): string[];
  get(name: string): Inode | null;
}

export function cgroupFiles(fs: CgroupFS, cg: Cgroup): CgroupFiles {
  const table = cftypes(fs, cg);
  const made = new Map<string, Inode>();
  const present = (name: string): boolean => {
    const c = table[name];
    return c !== undefined && (c.controller === undefined || cg.controllers().has(c.controller));
  };
  return {
    names: () => Object.keys(table).filter(present),
    get: (name) => {
      if (!Object.hasOwn(table, name) || !present(name)) return null;
      let inode = made.get(name);
      if (!inode) {
        const c = table[name];
        made.set(name, inode = new CgroupFile(fs, `${cg.id}/${name}`, cg, c.show, c.store, cg.owner));
      }
      return inode;
    },
  };
}

/** cgroup_print_ss_mask: the controllers of the set in Linux's order, separated by spaces,
 *  a newline only after at least one. */
function list(set: ReadonlySet<Controller>): string {
  const s = CONTROLLERS.filter((c) => set.has(c)).join(' ');
  return s === '' ? '' : `${s}\n`;
}

function cftypes(fs: CgroupFS, cg: Cgroup): Record<string, Cftype> {
  const k = fs.kernel;
  const ns = (t: Task | null) => t?.threadPid.ns ?? INIT_PID_NS;
  const core = (show: Show | null, store: Store | null = null): Cftype => ({ show, store });
  const ctl = (controller: Controller, show: Show | null, store: Store | null = null): Cftype =>
    ({ show, store, controller });
  const isTop = cg.parent === null;
  return {
    'cgroup.controllers': core(() => list(cg.controllers())),
    'cgroup.events': core(() => `populated ${cg.populated() ? 1 : 0}\nfrozen 0\n`),
    'cgroup.kill': core(null, (_t, text) => writeKill(cg, text)),
    'cgroup.max.depth': core(() => showMaxCount(cg.maxDepth), (_t, text) => { cg.maxDepth = parseMaxCount(text); }),
    'cgroup.max.descendants': core(() => showMaxCount(cg.maxDescendants),
      (_t, text) => { cg.maxDescendants = parseMaxCount(text); }),
    'cgroup.procs': core((t) => cg.liveProcs().map((tg) => `${tgidIn(ns(t), tg)}\n`).join(''),
      (t, text) => writeProcs(t, cg, text, true)),
    'cgroup.stat': core(() => `nr_descendants ${cg.nrDescendants}\nnr_dying_descendants 0\n`),
    'cgroup.subtree_control': core(() => list(cg.subtreeControl), (_t, text) => writeSubtreeControl(cg, text)),
    'cgroup.threads': core((t) => cg.liveProcs().flatMap((tg) => [...tg.tasks].filter((x) => !x.exited))
      .map((x) => `${tidIn(ns(t), x)}\n`).join(''), (t, text) => writeProcs(t, cg, text, false)),
    'cgroup.type': core(() => 'domain\n', (_t, text) => writeType(text)),
    'cpu.stat': core(() => cpuStat(cg, cg.controllers().has('cpu'))),
    'cpu.max': ctl('cpu', () => showCpuMax(cg.cpuMax), (_t, text) => { cg.cpuMax = parseCpuMax(text, cg.cpuMax); }),
    'cpu.weight': ctl('cpu', () => `${cg.cpuWeight}\n`, (_t, text) => { cg.cpuWeight = parseCpuWeight(text); }),
    'cpuset.cpus': ctl('cpuset', () => `${formatList(cg.cpusetCpus)}\n`,
      (_t, text) => { cg.cpusetCpus = parseCpuList(text, sandboxCpus(), NR_CPUS); }),
    'cpuset.cpus.effective': ctl('cpuset', () => `${formatList(effectiveCpus(cg))}\n`),
    'cpuset.mems': ctl('cpuset', () => `${formatList(cg.cpusetMems)}\n`,
      (_t, text) => { cg.cpusetMems = parseCpuList(text, [0], MAX_NUMNODES); }),
    'cpuset.mems.effective': ctl('cpuset', () => `${formatList(effectiveMems(cg))}\n`),
    'pids.current': ctl('pids', () => `${taskCount(cg)}\n`),
    'pids.events': ctl('pids', () => `max ${cg.pidsEvents}\n`),
    'pids.max': ctl('pids', () => { const m = pidsMaxOf(k, cg); return m === Infinity ? 'max\n' : `${m}\n`; },
      isTop ? null : (_t, text) => { cg.pidsMax = parsePidsMax(text); }),
  };
}

/** cgroup_type_write: only "threaded" may be written, and threaded cgroups are not offered
 *  (no controller here needs them): EOPNOTSUPP for it, EINVAL for anything else. */
function writeType(text: string): never {
  return fail(strstrip(text) === 'threaded' ? EOPNOTSUPP : EINVAL);
}
