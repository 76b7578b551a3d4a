// The generated files of /proc/<pid>: what ps, top, glibc and language runtimes read about a
// process (status, stat, maps, cmdline, environ, auxv, mounts...). Formats follow Linux
// fs/proc/array.c, task_mmu.c and proc_namespace.c; values the sentry does not track
// (page-fault counts, CPU times) are 0.

import { INIT_USER_NS, fromKgid, fromKuid } from '../../kernel/ns/user_namespace';
import { seccompFilterCount, seccompMode } from '../../kernel/seccomp';
import { childrenCpu, processCpu } from '../../kernel/timers/cpu_time';
import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import type { MemoryManager } from '../../mm/memory_manager';
import type { Vma } from '../../mm/vma';
import { residentKind } from './smaps';
import { RLIMIT_SIGPENDING, RLIM_INFINITY } from '../../kernel/rlimits';
import { queuedSignalsOf } from '../../syscalls/linux/sys_kill';
import { signalActions } from '../../syscalls/linux/signal_state';
import { NSIG, SIG_DFL, SIG_IGN } from '../../abi/linux/signal';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../abi/linux/mm';
import { taskMountNamespace, taskRoot } from '../../vfs/task_fs';
import type { Mount } from '../../vfs/mount';
import { VirtualDentry } from '../../vfs/virtual_dentry';
import { devMajor, devMinor, type Stat } from '../../abi/linux/stat';
import { cpuCount, taskAttrs } from '../../syscalls/linux/task_attrs';
import { pgidIn, processGroupIds, sidIn } from '../../syscalls/linux/process_group';
import { INIT_PID_NS, tgidIn, tidIn, type Pid, type PidNamespace } from '../../kernel/ns/pid_ns';
import { lockedBytes } from '../../mm/mlock';
import { speculationStatus } from '../../kernel/speculation';
import { voluntarySwitches } from '../../kernel/timers/cpu_time';

const PAGE = 4096;

function userBytes(t: Task, start: number, end: number): Uint8Array {
  if (end <= start) return new Uint8Array(0);
  try { return t.mm.copyIn(start, end - start); } catch { return new Uint8Array(0); }
}

export function cmdline(t: Task): Uint8Array { return userBytes(t, t.mm.argStart, t.mm.argEnd); }
export function environ(t: Task): Uint8Array { return userBytes(t, t.mm.envStart, t.mm.envEnd); }

export function auxv(t: Task): Uint8Array {
  const words = t.mm.auxv ?? [];
  const b = new Uint8Array(words.length * 8);
  const v = new DataView(b.buffer);
  words.forEach((w, i) => v.setBigUint64(i * 8, BigInt.asUintN(64, w), true));
  return b;
}

function hex(n: number, width: number): string { return n.toString(16).padStart(width, '0'); }

export function maps(t: Task): string {
  let out = '';
  const ids: FileIds = new Map();
  for (const v of t.mm.vmas.all()) out += mapsLine(t.mm, v, ids);
  return t.mm.vmas.count > 0 ? out + VSYSCALL_MAPS_LINE : out;
}

/** The vsyscall page (the platforms emulate calls into it, kernel/vsyscall.ts) is Linux's gate
 *  area: no VMA, but the last line of maps and smaps of every live address space, execute-only
 *  as in vsyscall=xonly, the default. Its address is past what a number holds exactly. */
export const VSYSCALL_MAPS_LINE = `${'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 '.padEnd(72)} [vsyscall]\n`;

/** Each mapped file's "major:minor inode" as maps shows it, asked once per read. */
export type FileIds = Map<{ stat(): Stat }, string>;

function fileId(v: Vma, ids: FileIds): string {
  const inode = v.backing?.inode;
  if (inode === undefined) return '00:00 0';
  let id = ids.get(inode);
  if (id === undefined) {
    let st: Stat | null = null;
    try { st = inode.stat(); } catch { /* a file gone from the host: no identity to show */ }
    id = st === null ? '00:00 0' : `${hex(devMajor(st.dev), 2)}:${hex(devMinor(st.dev), 2)} ${st.ino}`;
    ids.set(inode, id);
  }
  return id;
}

/** One VMA's line of /proc/<pid>/maps (and the head of its smaps entry). */
export function mapsLine(mm: MemoryManager, v: Vma, ids: FileIds = new Map()): string {
  // [vvar] is shared here (one page per time namespace) but a special mapping in Linux, without
  // VM_SHARED: 'p' as there.
  const shared = (v.shared || v.sharedSnapshot) && v.backing?.vvar !== true;
  const perms = `${v.prot & PROT_READ ? 'r' : '-'}${v.prot & PROT_WRITE ? 'w' : '-'}${v.prot & PROT_EXEC ? 'x' : '-'}${shared ? 's' : 'p'}`;
  let name = v.backing?.name ?? '';
  if (!v.backing) {
    // vma_is_initial_heap: any area overlapping the brk heap, even one merged with the bss.
    if (v.start < mm.brkEnd && v.end > mm.brkStart) name = '[heap]';
    else if (v.growsDown || (v.start <= mm.stackTop - 1 && mm.stackTop <= v.end)) name = '[stack]';
  }
  const offset = v.backing ? v.offset : 0;
  // show_vma_header_prefix ends with a space, also where no name follows.
  const head = `${hex(v.start, 8)}-${hex(v.end, 8)} ${perms} ${hex(offset, 8)} ${fileId(v, ids)} `;
  return name ? `${head.padEnd(72)} ${name}\n` : `${head}\n`;
}

interface VmSizes {
  size: number; data: number; stack: number; exe: number;
  /** Resident bytes (pages touched and still mapped), their high-water mark, and their split
   *  as Linux's MM_ANONPAGES / MM_FILEPAGES / MM_SHMEMPAGES counters. */
  rss: number; hwm: number; anon: number; file: number; shmem: number;
}

function vmSizes(t: Task): VmSizes {
  const mm = t.mm;
  let size = 0, data = 0, stack = 0, exe = 0, anon = 0, file = 0, shmem = 0;
  for (const v of mm.vmas.all()) {
    size += v.length;
    if (v.growsDown) stack += v.length;
    else if ((v.prot & PROT_WRITE) && !v.shared) data += v.length;
    else if (v.prot & PROT_EXEC) exe += v.length;
    const r = mm.residentBytes(v.start, v.length);
    if (r === 0) continue;
    const kind = residentKind(v);
    if (kind === 'shmem') shmem += r;
    else if (kind === 'anon') anon += r;
    else file += r;
  }
  const { now, peak } = mm.residentTotal();
  return { size, data, stack, exe, rss: now, hwm: Math.max(now, peak), anon, file, shmem };
}

/** The signals the process ignores (SIG_IGN) or catches (a handler), as a mask. */
function dispositions(t: Task, ignored: boolean): bigint {
  const a = signalActions(t.tg);
  let m = 0n;
  for (let s = 1; s <= NSIG; s++) {
    const h = a[s].handler;
    if (ignored ? h === SIG_IGN : h !== SIG_IGN && h !== SIG_DFL) m |= 1n << BigInt(s - 1);
  }
  return m;
}

/** RLIMIT_SIGPENDING's soft limit as SigQ shows it (unlimited as the largest unsigned long). */
function sigpendingLimit(t: Task): string {
  const cur = t.tg.rlimits[RLIMIT_SIGPENDING].cur;
  return cur === RLIM_INFINITY ? '18446744073709551615' : cur.toString();
}

function ppid(t: Task, pidNs: PidNamespace): number { return t.tg.parent === null ? 0 : tgidIn(pidNs, t.tg.parent); }

/** An NS* line: for each namespace from pidNs down to the task's own, the id `of` has there
 *  (0 where it is not visible), as task_state prints them. */
function nsIds(t: Task, pidNs: PidNamespace, of: Pid): string {
  const own = t.threadPid.ns;
  const out: number[] = [];
  for (let l = pidNs.level; l <= own.level; l++) out.push(of.nr(own.chain[l]));
  return out.join('\t');
}

/** status: ids as the reader's user namespace names them (the initial one's for the sentry),
 *  pids as the proc mount's pid namespace does. */
export function status(t: Task, reader: Task | null = null, pidNs: PidNamespace = INIT_PID_NS): string {
  const c = t.creds;
  const ns = reader?.creds.userNs ?? INIT_USER_NS;
  const u = (id: number): number => fromKuid(ns, id);
  const g = (id: number): number => fromKgid(ns, id);
  const s = vmSizes(t);
  const kb = (n: number): string => `${String(Math.ceil(n / 1024)).padStart(8)} kB`;
  const sig = (n: bigint): string => n.toString(16).padStart(16, '0');
  return [
    `Name:\t${taskAttrs(t).comm}`,
    `Umask:\t${t.fs.umask.toString(8).padStart(4, '0')}`,
    `State:\t${taskState(t)}`,
    `Tgid:\t${tgidIn(pidNs, t.tg)}`, 'Ngid:\t0', `Pid:\t${tidIn(pidNs, t)}`, `PPid:\t${ppid(t, pidNs)}`,
    `TracerPid:\t${t.ptrace ? tidIn(pidNs, t.ptrace.tracer) : 0}`,
    `Uid:\t${u(c.uid)}\t${u(c.euid)}\t${u(c.suid)}\t${u(c.fsuid)}`,
    `Gid:\t${g(c.gid)}\t${g(c.egid)}\t${g(c.sgid)}\t${g(c.fsgid)}`,
    `FDSize:\t${Math.max(64, 1 << Math.ceil(Math.log2((t.fdTable.fds().at(-1) ?? 0) + 1)))}`,
    `Groups:\t${c.groups.map(g).join(' ')} `,
    `NStgid:\t${nsIds(t, pidNs, t.tg.leaderPid)}`, `NSpid:\t${nsIds(t, pidNs, t.threadPid)}`,
    `NSpgid:\t${nsIds(t, pidNs, processGroupIds(t.tg).pgrp)}`, `NSsid:\t${nsIds(t, pidNs, processGroupIds(t.tg).session)}`,
    'Kthread:\t0',
    `VmPeak:\t${kb(s.size)}`, `VmSize:\t${kb(s.size)}`, `VmLck:\t${kb(lockedBytes(t.mm))}`, `VmPin:\t${kb(0)}`,
    `VmHWM:\t${kb(s.hwm)}`, `VmRSS:\t${kb(s.rss)}`, `RssAnon:\t${kb(s.anon)}`, `RssFile:\t${kb(s.file)}`,
    `RssShmem:\t${kb(s.shmem)}`, `VmData:\t${kb(s.data)}`, `VmStk:\t${kb(s.stack)}`, `VmExe:\t${kb(s.exe)}`,
    `VmLib:\t${kb(0)}`, `VmPTE:\t${kb(0)}`, `VmSwap:\t${kb(0)}`, `HugetlbPages:\t${kb(0)}`,
    'CoreDumping:\t0', `THP_enabled:\t${taskAttrs(t).thpDisable ? 0 : 1}`, 'untag_mask:\t0xffffffffffffffff',
    `Threads:\t${t.tg.tasks.size}`,
    `SigQ:\t${queuedSignalsOf(t.kernel, c.uid)}/${sigpendingLimit(t)}`, `SigPnd:\t${sig(t.pending.set)}`,
    `ShdPnd:\t${sig(t.tg.pending.set)}`, `SigBlk:\t${sig(t.sigMask)}`,
    `SigIgn:\t${sig(dispositions(t, true))}`, `SigCgt:\t${sig(dispositions(t, false))}`,
    `CapInh:\t${sig(c.capInheritable)}`, `CapPrm:\t${sig(c.capPermitted)}`,
    `CapEff:\t${sig(c.capEffective)}`, `CapBnd:\t${sig(c.capBounding)}`, `CapAmb:\t${sig(c.capAmbient)}`,
    `NoNewPrivs:\t${taskAttrs(t).noNewPrivs ? 1 : 0}`, `Seccomp:\t${seccompMode(t)}`, `Seccomp_filters:\t${seccompFilterCount(t)}`,
    ...speculationStatus(),
    `Cpus_allowed:\t${bitmapHex(taskAttrs(t).affinity, cpuCount())}`, `Cpus_allowed_list:\t${bitmapList(taskAttrs(t).affinity, cpuCount())}`,
    `Mems_allowed:\t${MEMS_ALLOWED}`, 'Mems_allowed_list:\t0',
    `voluntary_ctxt_switches:\t${voluntarySwitches(t)}`, 'nonvoluntary_ctxt_switches:\t0', '',
  ].join('\n');
}

/** %*pb: a bitmap of nbits as hex, 32 bits a group, most significant first, the first group
 *  only as wide as its bits need. */
export function bitmapHex(mask: Uint8Array, nbits: number): string {
  const bit = (i: number): number => (i >> 3) < mask.length ? (mask[i >> 3] >> (i & 7)) & 1 : 0;
  const groups: string[] = [];
  for (let lo = 0; lo < nbits; lo += 32) {
    let v = 0;
    const n = Math.min(32, nbits - lo);
    for (let i = 0; i < n; i++) v += bit(lo + i) * 2 ** i;
    groups.push(v.toString(16).padStart(Math.ceil(n / 4), '0'));
  }
  return groups.reverse().map((g, i) => (i === 0 ? g : g.padStart(8, '0'))).join(',');
}

/** %*pbl: the set bits as ranges, "0-1,4". */
export function bitmapList(mask: Uint8Array, nbits: number): string {
  const out: string[] = [];
  const set = (i: number): boolean => ((mask[i >> 3] ?? 0) >> (i & 7) & 1) === 1;
  for (let i = 0; i < nbits; i++) {
    if (!set(i)) continue;
    let j = i;
    while (j + 1 < nbits && set(j + 1)) j++;
    out.push(i === j ? `${i}` : `${i}-${j}`);
    i = j;
  }
  return out.join(',');
}

/** Mems_allowed: node 0 of MAX_NUMNODES (1024, as Debian builds the kernel). */
const MEMS_ALLOWED = [...Array<string>(31).fill('00000000'), '00000001'].join(',');

/** Linux's task state letter and name: sleeping while in an interruptible wait, disk sleep
 *  in one only death ends (vfork), dead once exited, else running. */
export function taskState(t: Task): string {
  if (t.exited) return t.tg.tasks.size === 0 && t.tg.lastExited === t && t.kernel.threadGroups.get(t.tg.tgid) === t.tg ? 'Z (zombie)' : 'X (dead)';
  if (t.ptrace !== null && (t.ptrace.stopped || t.ptrace.listening)) return 't (tracing stop)';
  if (t.tg.jobStop?.stopped === true) return 'T (stopped)';
  if (t.waitCancel !== null) return t.waitKillableOnly ? 'D (disk sleep)' : 'S (sleeping)';
  return 'R (running)';
}

const TICK_NS = 1_000_000_000n / 100n; // USER_HZ

export function stat(t: Task, pidNs: PidNamespace = INIT_PID_NS): string {
  const mm = t.mm;
  const s = vmSizes(t);
  const sched = taskAttrs(t);
  const rt = sched.policy === 1 || sched.policy === 2;
  // CPU times in clock ticks: the whole process's, and its reaped children's.
  const own = processCpu(t.tg), kids = childrenCpu(t.tg);
  const ticks = (ns: bigint): string => (ns / TICK_NS).toString();
  const fields: (string | number)[] = [
    tidIn(pidNs, t), `(${taskAttrs(t).comm})`, taskState(t)[0], ppid(t, pidNs), pgidIn(pidNs, t.tg), sidIn(pidNs, t.tg), 0, -1, 0x400000,
    0, 0, 0, 0, ticks(own.userNs), ticks(own.sysNs), ticks(kids.userNs), ticks(kids.sysNs), rt ? -1 - sched.rtPriority : 20 + sched.nice, sched.nice, t.tg.tasks.size, 0, ticks(sched.startMonoNs - t.kernel.bootMonotonic),
    s.size, Math.ceil(s.rss / PAGE), '18446744073709551615', 0, 0, mm.stackTop ?? 0, 0, 0,
    0, Number(t.sigMask & 0x7fffffffn), 0, 0, 0, 0, 0, 17, 0, sched.rtPriority, sched.policy, 0, 0, 0,
    0, 0, mm.brkStart ?? 0, mm.argStart ?? 0, mm.argEnd ?? 0, mm.envStart ?? 0, mm.envEnd ?? 0, 0,
  ];
  return `${fields.join(' ')}\n`;
}

export function statm(t: Task): string {
  const s = vmSizes(t);
  const p = (n: number): number => Math.ceil(n / PAGE);
  return `${p(s.size)} ${p(s.rss)} ${p(s.file + s.shmem)} ${p(s.exe)} 0 ${p(s.data + s.stack)} 0\n`;
}

const LIMIT_NAMES: [string, string][] = [
  ['Max cpu time', 'seconds'], ['Max file size', 'bytes'], ['Max data size', 'bytes'], ['Max stack size', 'bytes'],
  ['Max core file size', 'bytes'], ['Max resident set', 'bytes'], ['Max processes', 'processes'],
  ['Max open files', 'files'], ['Max locked memory', 'bytes'], ['Max address space', 'bytes'],
  ['Max file locks', 'locks'], ['Max pending signals', 'signals'], ['Max msgqueue size', 'bytes'],
  ['Max nice priority', ''], ['Max realtime priority', ''], ['Max realtime timeout', 'us'],
];

export function limits(t: Task): string {
  const v = (x: bigint): string => (x === RLIM_INFINITY ? 'unlimited' : x.toString());
  let out = `${'Limit'.padEnd(26)}${'Soft Limit'.padEnd(21)}${'Hard Limit'.padEnd(21)}${'Units'.padEnd(10)}\n`;
  LIMIT_NAMES.forEach(([name, unit], i) => {
    const r = t.tg.rlimits[i];
    if (r) out += `${name.padEnd(26)}${v(r.cur).padEnd(21)}${v(r.max).padEnd(21)}${unit.padEnd(10)}\n`;
  });
  return out;
}

/** The mounts t sees (show_vfsmnt over t's root: a mount outside a chroot is left out),
 *  each with its mount point as t's root names it. */
function visibleMounts(t: Task): { m: Mount; at: string }[] {
  const root = taskRoot(t);
  const out: { m: Mount; at: string }[] = [];
  for (const m of taskMountNamespace(t).mounts()) {
    const top = new VirtualDentry(m, m.root);
    if (top.reachableFrom(root)) out.push({ m, at: top.path(root) });
  }
  return out;
}

/** The mount's own options (mountinfo's sixth field). */
function mountOpts(m: Mount): string {
  const f = m.flags;
  // Linux's order (show_mnt_opts): noatime before nodiratime, relatime after it, nosymfollow last.
  const noatime = f.atime === 'noatime' ? ',noatime' : '', relatime = f.atime === 'relatime' || f.atime === undefined ? ',relatime' : '';
  return `${f.readonly ? 'ro' : 'rw'}${f.nosuid ? ',nosuid' : ''}${f.nodev ? ',nodev' : ''}${f.noexec ? ',noexec' : ''}` +
    `${noatime}${f.nodiratime ? ',nodiratime' : ''}${relatime}${f.nosymfollow ? ',nosymfollow' : ''}`;
}

/** The file system's own options, after a comma: /proc/mounts shows them after the mount's,
 *  mountinfo among the super block's. */
function fsOpts(m: Mount): string {
  const extra = m.fs.mountOptions();
  return extra ? `,${extra}` : '';
}

/** mountinfo's optional fields: the peer group of a shared mount, or unbindable. */
function propagationField(m: Mount): string {
  return m.propagation === 'shared' ? ` shared:${m.id}` : m.propagation === 'unbindable' ? ' unbindable' : '';
}

/** The mounts of t's mount namespace. */
export function mounts(_kernel: Kernel, t: Task): string {
  return visibleMounts(t)
    .map(({ m, at }) => `${m.source ?? m.fs.source} ${at} ${m.fs.type} ${mountOpts(m)}${fsOpts(m)} 0 0\n`).join('');
}

export function mountinfo(_kernel: Kernel, t: Task): string {
  return visibleMounts(t).map(({ m, at }) => {
    const parent = m.parent?.id ?? m.id;
    const dev = `${devMajor(m.fs.dev)}:${devMinor(m.fs.dev)}`;
    return `${m.id} ${parent} ${dev} ${m.rootPath()} ${at} ${mountOpts(m)}${propagationField(m)} - ${m.fs.type} ${m.source ?? m.fs.source} ${m.flags.readonly ? 'ro' : 'rw'}${fsOpts(m)}\n`;
  }).join('');
}
