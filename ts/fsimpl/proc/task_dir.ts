// /proc/<pid> and /proc/<pid>/task/<tid>: the per-process and per-thread directories. The
// thread group's main directory describes its leader (the first task) and lists its threads
// under task/.

import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import type { Inode } from '../../vfs/inode';
import { KDir, lazyChildren, type DirSource } from '../kernfs/dir';
import { KFile, type SeekKind } from '../kernfs/file';
import type { KernFS } from '../kernfs/kernfs';
import type { KAttr } from '../kernfs/inode';
import { taskAttrs } from '../../syscalls/linux/task_attrs';
import { KSymlink } from '../kernfs/symlink';
import { checkProcReadAccess } from '../../kernel/ptrace_access';
import { fdDir, fdinfoDir } from './fd_dir';
import { cwdLink, exeLink } from './links';
import { MemInode } from './mem';
import { netDir } from './net_dir';
import { nsDir } from './ns_dir';
import { IdMapInode, SetgroupsInode } from './id_map_files';
import * as files from './task_files';
import { KTunable } from './task_tunables';

const PAGE = 4096;
const SUID_DUMP_USER = 1;
import { taskRoot } from '../../vfs/task_fs';
import { tunableEntries } from './task_tunables';
import { smaps } from './smaps';
import { procCgroup } from './cgroup_files';
import { sched, schedstat, timers } from './sched_files';
import { PagemapInode } from './pagemap';
import { mapFilesDir } from './map_files';
import { attrDir } from './attr_dir';
import { tgidIn, tidIn, type PidNamespace } from '../../kernel/ns/pid_ns';

/** The task /proc/<pid> describes: the leader while it lives, else any thread left. */
export function leaderOf(tg: ThreadGroup): Task | undefined {
  let first: Task | undefined;
  for (const t of tg.tasks) {
    if (t.tid === tg.tgid) return t;
    first ??= t;
  }
  // A zombie: its last thread, until it is reaped.
  return first ?? tg.lastExited ?? undefined;
}

/** The owner of a task's 0555 directories: its effective ids. */
function euidOwner(t: Task | undefined): KAttr {
  return { uid: t?.creds.euid ?? 0, gid: t?.creds.egid ?? 0 };
}

/** task_dump_owner for everything else: a task that is not dumpable (it changed ids, or said
 *  so with PR_SET_DUMPABLE) has its files owned by root of its user namespace, so that their
 *  owner-only modes keep its old self's data from its new self. */
function dumpOwner(t: Task | undefined): KAttr {
  if (t === undefined || taskAttrs(t).dumpable === SUID_DUMP_USER) return euidOwner(t);
  const ns = t.creds.userNs;
  const uid = ns.uidMap.down(0), gid = ns.gidMap.down(0);
  return { uid: uid === 0xffffffff ? 0 : uid, gid: gid === 0xffffffff ? 0 : gid };
}

/** The entries of /proc/<pid> (and of a thread's directory), each made when looked up: proc
 *  keeps no dentries, so every path through /proc/self makes its directories anew, and a
 *  readlink of /proc/self/exe made all ~50 inodes (gcc makes ~500 such readlinks). */
function taskEntries(fs: KernFS, kernel: Kernel, key: string, tg: ThreadGroup, task: () => Task | undefined,
  pidNs: PidNamespace): Record<string, () => Inode> {
  const owner = dumpOwner(task());
  const file = (name: string, gen: (t: Task, reader: Task | null) => string | Uint8Array, mode = 0o444,
    seek?: SeekKind): KFile =>
    new KFile(fs, `${key}/${name}`, (r) => { const t = task(); return t ? gen(t, r) : ''; }, mode, owner, seek);
  return {
    exe: () => exeLink(fs, `${key}/exe`, kernel, tg, owner),
    cwd: () => cwdLink(fs, `${key}/cwd`, kernel, tg, task, owner),
    // The task's root (a chroot's directory) as the reader's root names it.
    root: () => new KSymlink(fs, `${key}/root`, (reader) => {
      checkProcReadAccess(reader, tg);
      const t = task();
      return t !== undefined && reader !== null ? taskRoot(t).path(taskRoot(reader)) : '/';
    }, null, owner),
    fd: () => fdDir(fs, `${key}/fd`, kernel, task, owner),
    fdinfo: () => fdinfoDir(fs, `${key}/fdinfo`, kernel, task, owner),
    cmdline: () => file('cmdline', files.cmdline, 0o444, 'size0'),
    environ: () => file('environ', files.environ, 0o400, 'size0'),
    auxv: () => file('auxv', files.auxv, 0o400, 'size0'),
    // mm_access at open.
    maps: () => file('maps', (t, r) => { checkProcReadAccess(r, tg); return files.maps(t); }),
    mem: () => new MemInode(fs, `${key}/mem`, task, owner),
    stat: () => file('stat', (t) => files.stat(t, pidNs)),
    statm: () => file('statm', files.statm),
    status: () => file('status', (t, r) => files.status(t, r, pidNs)),
    limits: () => file('limits', files.limits),
    mounts: () => file('mounts', (t) => files.mounts(kernel, t)),
    mountinfo: () => file('mountinfo', (t) => files.mountinfo(kernel, t)),
    cgroup: () => file('cgroup', (t, r) => procCgroup(kernel, t, r)),
    loginuid: () => file('loginuid', () => '4294967295\n', 0o644),
    net: () => netDir(fs, kernel, `${key}/net`, task),
    ns: () => nsDir(fs, `${key}/ns`, task, tg, owner),
    uid_map: () => new IdMapInode(fs, `${key}/uid_map`, task, 'uid', owner),
    gid_map: () => new IdMapInode(fs, `${key}/gid_map`, task, 'gid', owner),
    projid_map: () => new IdMapInode(fs, `${key}/projid_map`, task, 'projid', owner),
    setgroups: () => new SetgroupsInode(fs, `${key}/setgroups`, task, owner),
    ...tunableEntries(fs, key, task, owner, file),
    smaps: () => file('smaps', (t, r) => { checkProcReadAccess(r, tg); return smaps(t, false); }),
    smaps_rollup: () => file('smaps_rollup', (t, r) => { checkProcReadAccess(r, tg); return smaps(t, true); }),
    // Writing sched resets schedstats Linux keeps and this file does not show: nothing to do.
    sched: () => new KTunable(fs, `${key}/sched`, () => { const t = task(); return t ? sched(t, pidNs) : ''; },
      () => undefined, PAGE, owner),
    schedstat: () => file('schedstat', schedstat),
    pagemap: () => new PagemapInode(fs, `${key}/pagemap`, task, owner),
    attr: () => attrDir(fs, `${key}/attr`, task, owner, euidOwner(task())),
  };
}

/** /proc/<pid>; also /proc/<tid> for a thread that is not the leader (not listed, but
 *  found by lookup as Linux's proc_pid_lookup does), which then describes that thread. Ids
 *  are the proc mount's pid namespace's (keys the sentry's, unique in the file system). */
export function threadGroupDir(fs: KernFS, kernel: Kernel, pidNs: PidNamespace, tg: ThreadGroup, thread?: Task): KDir {
  const key = `${thread?.tid ?? tg.tgid}`;
  const leader = (): Task | undefined => thread ?? leaderOf(tg);
  const tasks: DirSource = {
    // One link per live thread's directory (proc_task_getattr).
    nlink: () => 2 + tg.tasks.size,
    names: () => [...tg.tasks].map((t) => `${tidIn(pidNs, t)}`),
    get: (name) => {
      const t = [...tg.tasks].find((x) => `${tidIn(pidNs, x)}` === name);
      return t ? threadDir(fs, kernel, pidNs, tg, t) : null;
    },
  };
  const owner = euidOwner(leader());
  const dir = new KDir(fs, key, pidDirChildren({
    ...taskEntries(fs, kernel, key, tg, leader, pidNs),
    task: () => new KDir(fs, `${key}/task`, tasks, 0o555, owner),
    // The process's own, not its threads' (tgid_base_stuff only).
    timers: () => new KFile(fs, `${key}/timers`, (r) => {
      checkProcReadAccess(r, tg);
      const t = leader();
      return t ? timers(t, pidNs) : '';
    }, 0o444,
      dumpOwner(leader())),
    map_files: () => mapFilesDir(fs, kernel, `${key}/map_files`, leader, dumpOwner(leader())),
  }), 0o555, owner);
  tgidDirs.set(dir, { tg, thread });
  return dir;
}

/** What each /proc/<pid> directory stands for: pidfd_send_signal takes an fd of one as a
 *  pidfd (Linux tgid_pidfd_to_pid). */
const tgidDirs = new WeakMap<Inode, { tg: ThreadGroup; thread: Task | undefined }>();

export function procTgidDirOf(inode: Inode): { tg: ThreadGroup; thread: Task | undefined } | undefined {
  return tgidDirs.get(inode);
}

function threadDir(fs: KernFS, kernel: Kernel, pidNs: PidNamespace, tg: ThreadGroup, t: Task): KDir {
  const key = `${tg.tgid}/task/${t.tid}`;
  const owner = euidOwner(t);
  // children: the process's children (tsvisor does not record which thread forked each).
  const children = (): KFile => new KFile(fs, `${key}/children`,
    () => [...tg.children].map((c) => `${tgidIn(pidNs, c)} `).join(''), 0o444, owner);
  return new KDir(fs, key, pidDirChildren({ ...taskEntries(fs, kernel, key, tg, () => t, pidNs), children }), 0o555, owner);
}

/** The entries of /proc/<pid> and /proc/<pid>/task/<tid> that are directories: each adds a
 *  link (pid_entry_nlink), known without making them. */
const PID_SUBDIRS = new Set(['task', 'fd', 'map_files', 'fdinfo', 'ns', 'net', 'attr']);

function pidDirChildren(makers: Record<string, () => Inode>): DirSource {
  return lazyChildren(makers, Object.keys(makers).filter((n) => PID_SUBDIRS.has(n)).length);
}
