// System-wide statistics files of /proc that monitoring tools open before anything else
// (procps' vmstat, top, free; util-linux's swapon, lsblk): /proc/stat's CPU times, which are
// the sandbox's own (its tasks' user and system time, the rest of the CPUs' uptime idle),
// /proc/vmstat's memory counters (the host's free and total memory, the sandbox's resident
// and cached pages; event counters it does not keep read as 0), and the swap and block
// device tables, empty as in a sandbox without swap or disks. Owns only their text.

import { hostFreeMem } from '../../kernel/host_stats';
import type { Kernel } from '../../kernel/kernel';
import { childrenCpu, processCpu } from '../../kernel/timers/cpu_time';
import { cpuCount } from '../../syscalls/linux/task_attrs';
import { NSEC_PER_SEC, USER_HZ } from '../../abi/linux/time';

const TICK_NS = NSEC_PER_SEC / BigInt(USER_HZ);
const PAGE = 4096;

/** [user, system] ns used by every task of the sandbox so far: each live process's own time
 *  and its reaped children's (which hold those of the processes they reaped in turn). */
export function sandboxCpuNs(kernel: Kernel): [bigint, bigint] {
  let user = 0n, sys = 0n;
  for (const tg of kernel.threadGroups.values()) {
    const own = processCpu(tg), kids = childrenCpu(tg);
    user += own.userNs + kids.userNs;
    sys += own.sysNs + kids.sysNs;
  }
  return [user, sys];
}

export function procStat(kernel: Kernel): string {
  const n = cpuCount();
  const [user, sys] = sandboxCpuNs(kernel);
  const busy = user + sys;
  const idle = kernel.uptimeNs() * BigInt(n) - busy;
  const line = (name: string, div: bigint): string => {
    const t = (ns: bigint): string => (ns / div / TICK_NS).toString();
    // user nice system idle iowait irq softirq steal guest guest_nice
    return `${name} ${t(user)} 0 ${t(sys)} ${t(idle > 0n ? idle : 0n)} 0 0 0 0 0 0\n`;
  };
  // Which CPU ran what is not known: the time is shared evenly among them.
  let out = line('cpu', 1n);
  for (let i = 0; i < n; i++) out += line(`cpu${i}`, BigInt(n));
  const btime = Math.floor((Number(kernel.realtimeNs()) - Number(kernel.uptimeNs())) / 1e9);
  let running = 0, blocked = 0;
  for (const t of kernel.tasks.values()) {
    if (t.exited) continue;
    if (t.waitCancel === null) running++;
    else if (t.waitKillableOnly) blocked++;
  }
  return `${out}intr 0\nctxt 0\nbtime ${btime}\nprocesses ${kernel.tasks.size}\nprocs_running ${Math.max(1, running)}\n` +
    `procs_blocked ${blocked}\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n`;
}

/** /proc/vmstat: Linux's first counters (the ones free/vmstat/top read), then the event
 *  counters, which the sandbox does not keep. */
export function vmstat(residentBytes: number, cachedBytes: number): string {
  const free = Math.floor(hostFreeMem() / PAGE);
  const anon = Math.floor(residentBytes / PAGE);
  const file = Math.floor(cachedBytes / PAGE);
  const rows: [string, number][] = [
    ['nr_free_pages', free], ['nr_zone_inactive_anon', 0], ['nr_zone_active_anon', anon], ['nr_zone_inactive_file', 0],
    ['nr_zone_active_file', file], ['nr_zone_unevictable', 0], ['nr_zone_write_pending', 0], ['nr_mlock', 0],
    ['nr_inactive_anon', 0], ['nr_active_anon', anon], ['nr_inactive_file', 0], ['nr_active_file', file],
    ['nr_unevictable', 0], ['nr_anon_pages', anon], ['nr_mapped', anon + file], ['nr_file_pages', file],
    ['nr_dirty', 0], ['nr_writeback', 0], ['nr_shmem', 0], ['nr_kernel_stack', 0], ['nr_page_table_pages', 0],
    ['nr_dirty_threshold', Math.floor(free * 0.2)], ['nr_dirty_background_threshold', Math.floor(free * 0.1)],
    ['pgpgin', 0], ['pgpgout', 0], ['pswpin', 0], ['pswpout', 0], ['pgalloc_normal', 0], ['pgfree', 0],
    ['pgactivate', 0], ['pgdeactivate', 0], ['pgfault', 0], ['pgmajfault', 0], ['pgrefill', 0],
    ['pgsteal_kswapd', 0], ['pgsteal_direct', 0], ['pgscan_kswapd', 0], ['pgscan_direct', 0], ['oom_kill', 0],
  ];
  return rows.map(([k, v]) => `${k} ${v}\n`).join('');
}

/** No swap: the header alone, as Linux prints it. */
export const SWAPS = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';
/** No block devices: the header and its blank line. */
export const PARTITIONS = 'major minor  #blocks  name\n\n';
