// System-wide /proc files: cpuinfo, meminfo, uptime, loadavg, stat, version, filesystems,
// the mounts link, and a small /proc/sys. CPU and memory figures are the host's as Node
// sees them (as sysinfo(2) reports them); cpuinfo is the host's own text, trimmed to the
// CPUs the sandbox reports, so that feature flags are what the CPU really has.

import { sysvipcDir } from './sysvipc';
import { procCgroups } from './cgroup_files';
import { procDevices } from './devices';
import { procLocks } from './locks';
import { timeNsOf } from '../../kernel/ns/nsproxy';
import { INIT_PID_NS, PID_MAX, nsLastPid, setNsLastPid } from '../../kernel/ns/pid_ns';
import { parseSysctlInt } from './net_dir';
import { NR_OPEN_MIN, nrOpen, setNrOpen } from '../../kernel/nr_open';
import { NR_OPEN_MAX } from '../../abi/linux/fcntl';
import { pageCacheOf } from '../../mm/page_cache';
import { SECCOMP_ACTIONS_AVAIL } from '../../kernel/seccomp';
import { procKeys } from '../../kernel/keys/proc_keys';
import { pressureText } from '../../kernel/psi';
import { MSGMAX, MSGMNB, MSGMNI, SEMMNI, SEMMNS, SEMMSL, SEMOPM, SHMMNI } from '../../kernel/ipc/ipc';
import { SUID_DUMPABLE } from '../../syscalls/linux/commit_creds';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { hostFreeMem, hostLoadAvg, hostTotalMem } from '../../kernel/host_stats';
import type { Kernel } from '../../kernel/kernel';
import type { Inode } from '../../vfs/inode';
import { KDir, staticChildren } from '../kernfs/dir';
import { KFile } from '../kernfs/file';
import type { KernFS } from '../kernfs/kernfs';
import { KSymlink } from '../kernfs/symlink';
import { KSysctl } from '../kernfs/sysctl_file';
import { corePattern, coreUsesPid, setCorePattern, setCoreUsesPid } from '../../kernel/coredump/core_pattern';
import { filesystemsText } from '../filesystems';
import { pipeMaxSize, pipeUserPages, setPipeMaxSize, setPipeUserPages } from '../../kernel/pipe_limits';
import { addTaint, taintMask } from '../../kernel/taint';
import { maxMapCount, setMaxMapCount } from '../../mm/map_count';
import { leaseBreakTime, setLeaseBreakTime } from '../../vfs/locks/lease';
import { aioMaxNr, aioNr, setAioMaxNr } from '../../kernel/aio/aio_context';
import { UTS_RELEASE, UTS_VERSION } from '../../syscalls/linux/sys_uname';
import { cpuCount } from '../../syscalls/linux/task_attrs';
import { sysNetDir } from './net_dir';
import type { Task } from '../../kernel/task';
import { initNsProxy, utsOf } from '../../kernel/ns/nsproxy';
import type { UtsNamespace } from '../../kernel/ns/namespace';
import { INIT_USER_NS } from '../../kernel/ns/user_namespace';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';

/** proc_do_uts_string's write: the text up to a newline or NUL, at most __NEW_UTS_LEN (64)
 *  bytes of it (the rest is dropped); root's 0644 mode decides who may write. */
function utsString(text: string): string {
  const end = text.search(/[\n\0]/);
  return (end >= 0 ? text.slice(0, end) : text).slice(0, 64);
}

/** The reader's UTS namespace (the initial one for a read from outside any task). */
function utsNames(kernel: Kernel, t: Task | null): UtsNamespace {
  return t === null ? initNsProxy(kernel).uts : utsOf(t);
}
import { PARTITIONS, SWAPS, procStat, vmstat } from './system_stats';
import {
  INOTIFY_MAX_QUEUED_EVENTS, INOTIFY_MAX_USER_INSTANCES, INOTIFY_MAX_USER_WATCHES,
} from '../../abi/linux/inotify';

// Read when the sentry loads, not when the program first asks: after start-up the sentry opens
// no host file (everything else comes through the gofer).
const hostCpuinfo: string = (() => {
  try { return fs.readFileSync('/proc/cpuinfo', 'utf8'); } catch { return ''; }
})();

function cpuinfo(): string {
  const blocks = hostCpuinfo.split('\n\n').filter((b) => b.trim() !== '');
  const n = cpuCount();
  if (blocks.length === 0) {
    return os.cpus().slice(0, n).map((c, i) => `processor\t: ${i}\nmodel name\t: ${c.model}\ncpu MHz\t\t: ${c.speed}\n\n`).join('');
  }
  return Array.from({ length: n }, (_, i) => `${blocks[i % blocks.length].replace(/^processor\s*:\s*\d+/m, `processor\t: ${i}`)}\n\n`).join('');
}

/** The host's figures, but for Cached: the sandbox's page cache of private file mappings. */
function meminfo(cached: number): string {
  const kb = (n: number): string => `${String(Math.floor(n / 1024)).padStart(8)} kB`;
  const total = hostTotalMem(), free = hostFreeMem();
  const rows: [string, number][] = [
    ['MemTotal', total], ['MemFree', free], ['MemAvailable', free], ['Buffers', 0], ['Cached', cached],
    ['SwapCached', 0], ['Active', total - free], ['Inactive', 0], ['SwapTotal', 0], ['SwapFree', 0],
    ['Dirty', 0], ['Writeback', 0], ['AnonPages', total - free], ['Mapped', 0], ['Shmem', 0],
    ['Slab', 0], ['CommitLimit', total], ['Committed_AS', total - free], ['VmallocTotal', 34359738367 * 1024],
    ['HugePages_Total', 0], ['Hugepagesize', 2048 * 1024],
  ];
  return rows.map(([k, v]) => (k === 'HugePages_Total' ? `${`${k}:`.padEnd(16)}${String(v).padStart(8)}\n` : `${`${k}:`.padEnd(16)}${kb(v)}\n`)).join('');
}

/** The reader's time namespace offsets the uptime (as Linux's timens_add_boottime). */
function uptime(kernel: Kernel, reader: Task | null): string {
  const up = Number(kernel.uptimeNs() + (reader ? timeNsOf(reader).boottimeNs : 0n)) / 1e9;
  return `${up.toFixed(2)} ${(up * cpuCount()).toFixed(2)}\n`;
}

function loadavg(kernel: Kernel): string {
  const l = hostLoadAvg().map((x) => x.toFixed(2)).join(' ');
  const last = Math.max(0, ...kernel.tasks.keys());
  return `${l} 1/${kernel.tasks.size} ${last}\n`;
}

function sysTree(fs: KernFS, kernel: Kernel): KDir {
  const file = (key: string, gen: (t: Task | null) => string): KFile => new KFile(fs, `sys/${key}`, gen);
  // A sysctl directory has one link whatever it holds (proc_sys_make_inode sets none).
  const dir = (key: string, children: () => Record<string, Inode>): KDir =>
    new KDir(fs, `sys/${key}`, { ...staticChildren(children), nlink: () => 1 });
  return dir('', () => ({
    kernel: dir('kernel', () => ({
      hostname: new KSysctl(fs, 'sys/kernel/hostname', (t) => `${utsNames(kernel, t).hostname}\n`,
        (t, text) => { utsOf(t).hostname = utsString(text); }),
      domainname: new KSysctl(fs, 'sys/kernel/domainname', (t) => `${utsNames(kernel, t).domainname}\n`,
        (t, text) => { utsOf(t).domainname = utsString(text); }),
      tainted: new KSysctl(fs, 'sys/kernel/tainted', () => `${taintMask(kernel)}\n`, addTaint),
      ostype: file('kernel/ostype', () => 'Linux\n'),
      osrelease: file('kernel/osrelease', () => `${UTS_RELEASE}\n`),
      version: file('kernel/version', () => `${UTS_VERSION}\n`),
      pid_max: file('kernel/pid_max', () => '4194304\n'),
      // The reader's (writer's) pid namespace's last pid; only a privileged write moves it.
      ns_last_pid: new KSysctl(fs, 'sys/kernel/ns_last_pid', (t) => `${nsLastPid(kernel, t?.threadPid.ns ?? INIT_PID_NS)}\n`,
        (t, text) => setNsLastPid(t.kernel, t.threadPid.ns, t.creds, () => parseSysctlInt(text, 0, PID_MAX)), 0o666),
      core_pattern: new KSysctl(fs, 'sys/kernel/core_pattern', () => `${corePattern(kernel)}\n`,
        (t, text) => setCorePattern(t.kernel, text)),
      core_uses_pid: new KSysctl(fs, 'sys/kernel/core_uses_pid', () => `${coreUsesPid(kernel)}\n`,
        (t, text) => setCoreUsesPid(t.kernel, text)),
      'threads-max': file('kernel/threads-max', () => '126000\n'),
      ngroups_max: file('kernel/ngroups_max', () => '65536\n'),
      cap_last_cap: file('kernel/cap_last_cap', () => '40\n'),
      overflowuid: file('kernel/overflowuid', () => '65534\n'),
      overflowgid: file('kernel/overflowgid', () => '65534\n'),
      // The System V IPC limits ipc/ enforces (Linux's defaults; not settable here).
      shmmax: file('kernel/shmmax', () => `${SHMMAX_TEXT}\n`),
      shmall: file('kernel/shmall', () => `${SHMMAX_TEXT}\n`),
      shmmni: file('kernel/shmmni', () => `${SHMMNI}\n`),
      msgmax: file('kernel/msgmax', () => `${MSGMAX}\n`),
      msgmnb: file('kernel/msgmnb', () => `${MSGMNB}\n`),
      msgmni: file('kernel/msgmni', () => `${MSGMNI}\n`),
      sem: file('kernel/sem', () => `${SEMMSL}\t${SEMMNS}\t${SEMOPM}\t${SEMMNI}\n`),
      // The loader and mmap place everything at fixed addresses (mm/layout.ts): no randomisation.
      randomize_va_space: file('kernel/randomize_va_space', () => '0\n'),
      seccomp: dir('kernel/seccomp', () => ({
        actions_avail: file('kernel/seccomp/actions_avail', () => `${SECCOMP_ACTIONS_AVAIL}\n`),
      })),
      random: dir('kernel/random', () => ({
        boot_id: file('kernel/random/boot_id', () => `${(bootId ??= randomUUID(kernel))}\n`),
        uuid: file('kernel/random/uuid', () => `${randomUUID(kernel)}\n`),
        entropy_avail: file('kernel/random/entropy_avail', () => '256\n'),
      })),
    })),
    vm: dir('vm', () => ({
      overcommit_memory: file('vm/overcommit_memory', () => '0\n'),
      max_map_count: new KSysctl(fs, 'sys/vm/max_map_count', () => `${maxMapCount(kernel.mf)}\n`,
        (t, text) => setMaxMapCount(t.kernel.mf, text)),
      mmap_min_addr: file('vm/mmap_min_addr', () => '65536\n'),
    })),
    fs: dir('fs', () => ({
      'file-max': file('fs/file-max', () => '9223372036854775807\n'),
      nr_open: new KSysctl(fs, 'sys/fs/nr_open', () => `${nrOpen(kernel)}\n`, // proc_dointvec_minmax
        (t, text) => setNrOpen(t.kernel, parseSysctlInt(text, NR_OPEN_MIN, NR_OPEN_MAX))),
      // Open file descriptions in the sandbox's fd tables, none free, and file-max.
      'file-nr': file('fs/file-nr', () => `${openFiles(kernel)}\t0\t9223372036854775807\n`),
      // What a set-id change leaves the process's dumpable flag at (commit_creds.ts).
      suid_dumpable: file('fs/suid_dumpable', () => `${SUID_DUMPABLE}\n`),
      'aio-nr': file('fs/aio-nr', () => `${aioNr(kernel)}\n`),
      'aio-max-nr': new KSysctl(fs, 'sys/fs/aio-max-nr', () => `${aioMaxNr(kernel)}\n`, (t, text) => setAioMaxNr(t.kernel, text)),
      'lease-break-time': new KSysctl(fs, 'sys/fs/lease-break-time', () => `${leaseBreakTime(kernel)}\n`,
        (t, text) => setLeaseBreakTime(t.kernel, text)),
      'pipe-max-size': new KSysctl(fs, 'sys/fs/pipe-max-size', () => `${pipeMaxSize(kernel)}\n`,
        (t, text) => setPipeMaxSize(t.kernel, text)),
      'pipe-user-pages-soft': new KSysctl(fs, 'sys/fs/pipe-user-pages-soft', () => `${pipeUserPages(kernel, 'soft')}\n`,
        (t, text) => setPipeUserPages(t.kernel, 'soft', text)),
      'pipe-user-pages-hard': new KSysctl(fs, 'sys/fs/pipe-user-pages-hard', () => `${pipeUserPages(kernel, 'hard')}\n`,
        (t, text) => setPipeUserPages(t.kernel, 'hard', text)),
      inotify: dir('fs/inotify', () => ({
        max_user_instances: file('fs/inotify/max_user_instances', () => `${INOTIFY_MAX_USER_INSTANCES}\n`),
        max_user_watches: file('fs/inotify/max_user_watches', () => `${INOTIFY_MAX_USER_WATCHES}\n`),
        max_queued_events: file('fs/inotify/max_queued_events', () => `${INOTIFY_MAX_QUEUED_EVENTS}\n`),
      })),
    })),
    net: sysNetDir(fs, kernel),
    user: dir('user', () => ({
      max_user_namespaces: new KSysctl(fs, 'sys/user/max_user_namespaces',
        (t) => `${(t?.creds.userNs ?? INIT_USER_NS).maxUserNamespaces}\n`,
        (t, text) => setMaxUserNamespaces(t, text)),
    })),
  }));
}

/** proc_dointvec_minmax over 0..INT_MAX, for the writer's own user namespace (Linux's user
 *  sysctls are per namespace). */
function setMaxUserNamespaces(t: Task, text: string): void {
  const s = text.trim();
  if (!/^\+?\d+$/.test(s)) fail(EINVAL);
  const v = Number(s);
  if (v > 0x7fffffff) fail(EINVAL);
  t.creds.userNs.maxUserNamespaces = v;
}

let bootId: string | undefined;

/** A version-4 UUID from the sandbox's entropy source. */
function randomUUID(kernel: Kernel): string {
  const b = new Uint8Array(16);
  kernel.fillRandom(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** ULONG_MAX - 2^24: SHMMAX and SHMALL. */
const SHMMAX_TEXT = (2n ** 64n - 1n - 2n ** 24n).toString();

/** Distinct open file descriptions held by the sandbox's fd tables (shared tables once). */
function openFiles(kernel: Kernel): number {
  const tables = new Set<object>(), files = new Set<object>();
  for (const t of kernel.tasks.values()) {
    if (tables.has(t.fdTable)) continue;
    tables.add(t.fdTable);
    for (const fd of t.fdTable.fds()) {
      const f = t.fdTable.get(fd);
      if (f) files.add(f);
    }
  }
  return files.size;
}

/** Bytes resident in all the sandbox's address spaces (shared pages counted once each). */
function sandboxResident(kernel: Kernel): number {
  const seen = new Set<object>();
  let n = 0;
  for (const t of kernel.tasks.values()) {
    if (seen.has(t.mm)) continue;
    seen.add(t.mm);
    n += t.mm.residentTotal().now;
  }
  return n;
}

export function systemEntries(fs: KernFS, kernel: Kernel): Record<string, Inode> {
  const file = (name: string, gen: (t: Task | null) => string): KFile => new KFile(fs, name, gen);
  return {
    cpuinfo: file('cpuinfo', cpuinfo),
    meminfo: file('meminfo', () => meminfo(pageCacheOf(kernel.mf).cachedBytes)),
    uptime: file('uptime', (t) => uptime(kernel, t)),
    loadavg: file('loadavg', () => loadavg(kernel)),
    stat: file('stat', () => procStat(kernel)),
    vmstat: file('vmstat', () => vmstat(sandboxResident(kernel), pageCacheOf(kernel.mf).cachedBytes)),
    swaps: file('swaps', () => SWAPS),
    partitions: file('partitions', () => PARTITIONS),
    diskstats: file('diskstats', () => ''),
    version: file('version', () => `Linux version ${UTS_RELEASE} (tsvisor) ${UTS_VERSION}\n`),
    filesystems: file('filesystems', filesystemsText),
    cgroups: file('cgroups', () => procCgroups(kernel)),
    devices: file('devices', procDevices),
    locks: file('locks', (t) => procLocks(kernel, t)),
    keys: new KFile(fs, 'keys', procKeys),
    cmdline: file('cmdline', () => 'BOOT_IMAGE=/vmlinuz tsvisor\n'),
    mounts: new KSymlink(fs, 'mounts', () => 'self/mounts'),
    net: new KSymlink(fs, 'net', () => 'self/net'),
    sys: sysTree(fs, kernel),
    sysvipc: sysvipcDir(fs, kernel),
    pressure: new KDir(fs, 'pressure', staticChildren(() => ({
      cpu: file('pressure/cpu', () => pressureText('cpu')),
      memory: file('pressure/memory', () => pressureText('memory')),
      io: file('pressure/io', () => pressureText('io')),
    }))),
  };
}
