// clone, fork, vfork (Linux kernel/fork.c copy_process): a new task, sharing with its creator
// what the flags say and copying the rest. A thread (CLONE_THREAD) joins the caller's
// process; anything else is a new process whose parent is the caller's process (or the
// caller's parent with CLONE_PARENT). The child starts from the caller's registers at the
// syscall with rax = 0, on its own run loop.

import { ptraceClone, ptraceVforkDone } from './ptrace/events';
import { installPidFd as newPidFd } from '../syscalls/linux/sys_pidfd';
import { REG_FS_BASE, REG_RAX, REG_RSP, errnoOfNative } from '../native/addon';
import { EAGAIN, EINVAL, ENOMEM, EPERM } from '../abi/linux/errno';
import { SIG_IGN } from '../abi/linux/signal';
import { PlatformContext } from '../platform/context';
import type { MemoryManager } from '../mm/memory_manager';
import {
  altStack, copySignalActions, setAltStack, shareSignalActions, signalActions,
} from '../syscalls/linux/signal_state';
import { copyTaskAttrs } from '../syscalls/linux/task_attrs';
import { inheritProcessGroup } from '../syscalls/linux/process_group';
import { SyscallError, fail } from './syscall_error';
import { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { getFDTable, getMM } from './shared_state';
import { block } from './blocking';
import type { Kernel } from './kernel';
import { RLIMIT_NPROC } from './rlimits';
import { type Cgroup, cgroupFork, cgroupOf } from './cgroup/cgroup';
import { pidsCanFork, pidsLimitHit } from './cgroup/controllers';
import { updateCpuLimit } from './timers/cpu_limit';
import type { Credentials } from './credentials';
import { copyNamespaces, createUserNs, NSPROXY_FLAGS } from './ns/create';
import { enterTimeNsForChildren, nsproxyOf, setNsproxy, type NsProxy } from './ns/nsproxy';
import { switchVvar } from '../loader/vdso';
import { vvarBacking } from './vvar_page';
import { isChrooted, moveCwdToCopy } from '../vfs/task_fs';
import { allocPid, attachTask, attachThreadGroup, isNsInit, tidIn, type PidNamespace } from './ns/pid_ns';

export const CSIGNAL = 0xff;
export const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800,
  CLONE_PIDFD = 0x1000, CLONE_PTRACE = 0x2000, CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000,
  CLONE_THREAD = 0x10000, CLONE_NEWNS = 0x20000, CLONE_SYSVSEM = 0x40000, CLONE_SETTLS = 0x80000,
  CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000, CLONE_DETACHED = 0x400000,
  CLONE_UNTRACED = 0x800000, CLONE_CHILD_SETTID = 0x1000000, CLONE_NEWCGROUP = 0x2000000,
  CLONE_NEWUTS = 0x4000000, CLONE_NEWIPC = 0x8000000, CLONE_NEWUSER = 0x10000000,
  CLONE_NEWPID = 0x20000000, CLONE_NEWNET = 0x40000000, CLONE_IO = 0x80000000;
/** clone3-only flags live above bit 31: kept apart, as booleans. */
export interface CloneArgs {
  /** The low 32 flag bits (CSIGNAL included for legacy clone), unsigned. */
  flags: number;
  clearSighand: boolean;
  exitSignal: number;
  /** New stack pointer, 0 to keep the caller's. */
  stack: number;
  parentTid: number;
  childTid: number;
  tls: bigint;
  /** CLONE_PIDFD: where the new process's pidfd number goes (clone's parent_tid, clone3's
   *  pidfd field). */
  pidfd?: number;
  /** clone3's set_tid: the pids to give, the child's own namespace's first. */
  setTid?: readonly number[];
  /** CLONE_INTO_CGROUP: the cgroup the child starts in (checked by the caller). */
  intoCgroup?: Cgroup;
}

function has(flags: number, f: number): boolean {
  return ((flags & f) >>> 0) !== 0;
}

/** copy_process's flag checks, in its order. */
function validate(t: Task, a: CloneArgs): void {
  const f = a.flags;
  if (has(f, CLONE_NEWNS) && has(f, CLONE_FS)) fail(EINVAL);
  if (has(f, CLONE_NEWUSER) && has(f, CLONE_FS)) fail(EINVAL);
  if (has(f, CLONE_THREAD) && !has(f, CLONE_SIGHAND)) fail(EINVAL);
  if (has(f, CLONE_SIGHAND) && !has(f, CLONE_VM)) fail(EINVAL);
  // init may not make siblings: they would have no parent to reap them.
  if (has(f, CLONE_PARENT) && (t.tg.parent === null || isNsInit(t.tg))) fail(EINVAL);
  if (has(f, CLONE_THREAD) && has(f, CLONE_NEWUSER | CLONE_NEWPID)) fail(EINVAL);
  if (has(f, CLONE_SIGHAND) && a.clearSighand) fail(EINVAL);
  if (has(f, CLONE_PIDFD) && has(f, CLONE_DETACHED)) fail(EINVAL);
  // A pidfd names a process: not for threads (before Linux 6.9's PIDFD_THREAD).
  if (has(f, CLONE_PIDFD) && has(f, CLONE_THREAD)) fail(EINVAL);
}

/** Host resources for the child: a failure is the application's EAGAIN/ENOMEM. */
function hostErrno(e: unknown): never {
  if (e instanceof SyscallError) throw e;
  const code = errnoOfNative(e);
  if (code === 'ENOMEM') fail(ENOMEM);
  if (code !== undefined) fail(EAGAIN);
  throw e;
}

/**
 * copy_process's task limits, checked before anything is created: RLIMIT_NPROC on the tasks
 * of the caller's real uid (root is exempt, as are holders of CAP_SYS_ADMIN or
 * CAP_SYS_RESOURCE, which in the sandbox means euid 0), then the sandbox's --pids (the pids
 * cgroup's pids.max at the top), then pids.max of the caller's cgroup and those above it.
 * All fail with EAGAIN. Threads count, and zombies until reaped.
 */
function checkTaskLimits(t: Task, into: Cgroup): void {
  const k = t.kernel;
  // Counting is linear in the tasks: only done once a cheap upper bound (every task and
  // every thread group, live or zombie) reaches a limit, so the common fork pays nothing.
  const bound = k.tasks.size + k.threadGroups.size;
  const nproc = Number(t.tg.rlimits[RLIMIT_NPROC].cur);
  const uid = t.creds.uid;
  if (bound >= nproc && uid !== 0 && t.creds.euid !== 0 && countTasks(k, uid) >= nproc) fail(EAGAIN);
  if (bound >= k.pidsMax && countTasks(k, null) >= k.pidsMax) {
    pidsLimitHit(k, t.tg);
    fail(EAGAIN);
  }
  pidsCanFork(into);
}

/** Tasks in the sandbox, zombies included; only those of real uid `uid` unless null. */
function countTasks(k: Kernel, uid: number | null): number {
  let n = 0;
  for (const task of k.tasks.values()) if (uid === null || task.creds.uid === uid) n++;
  for (const tg of k.threadGroups.values()) if (tg.zombie && (uid === null || tg.exitUid === uid)) n++;
  return n;
}

/** x86-64 TASK_SIZE_MAX with 4-level paging: the first address above user space. */
const TASK_SIZE_MAX = 0x7fff_ffff_f000n;

/** copy_creds and copy_namespaces: the child's credentials (a new user namespace for
 *  CLONE_NEWUSER) and namespaces (ns/create.ts), checked before anything is made. */
function childNamespaces(t: Task, f: number): { creds: Credentials; proxy: NsProxy } {
  const creds = t.creds.clone();
  if (has(f, CLONE_NEWUSER)) createUserNs(creds, isChrooted(t));
  const old = nsproxyOf(t);
  // CLONE_SYSVSEM shares the undo list, which cannot reach into a new IPC namespace.
  if (has(f, NSPROXY_FLAGS) && has(f, CLONE_NEWIPC) && has(f, CLONE_SYSVSEM)) fail(EINVAL);
  let proxy = copyNamespaces(t, old, f, creds);
  // A thread shares its process's pid namespace (after setns or unshare, it cannot).
  if (has(f, CLONE_THREAD) && proxy.pidForChildren !== t.threadPid.ns) fail(EINVAL);
  // timens_on_fork: the child enters the time namespace for children, unless it shares the
  // address space without asking for new namespaces (copy_namespaces keeps the nsproxy then).
  if (!has(f, CLONE_VM) || proxy !== old) proxy = enterTimeNsForChildren(proxy);
  return { creds, proxy };
}

export function doClone(t: Task, a: CloneArgs): number | Promise<number> {
  validate(t, a);
  const cgroup = a.intoCgroup ?? cgroupOf(t.kernel, t.tg);
  checkTaskLimits(t, cgroup);
  const nsChild = childNamespaces(t, a.flags);
  // copy_thread -> ARCH_SET_FS: a TLS base outside user space is refused.
  if (has(a.flags, CLONE_SETTLS) && a.tls >= TASK_SIZE_MAX) fail(EPERM);
  // copy_process writes the pidfd's number before the child exists, and a bad address undoes
  // the clone (EFAULT): the address is tried here, before anything is made.
  if (has(a.flags, CLONE_PIDFD) && a.pidfd !== undefined) t.mm.writeU32(a.pidfd, 0);
  const k = t.kernel;
  const f = a.flags;
  const thread = has(f, CLONE_THREAD);
  const pid = allocPid(k, nsChild.proxy.pidForChildren, t.creds, a.setTid);
  const tid = pid.nrs[0];

  let mm: MemoryManager;
  let ctx: PlatformContext;
  if (has(f, CLONE_VM)) {
    mm = t.mm;
    try {
      ctx = new PlatformContext(k.platform, mm.addressSpace);
    } catch (e) {
      hostErrno(e);
    }
    getMM(mm);
  } else {
    let as;
    try {
      as = k.platform.newAddressSpace();
    } catch (e) {
      hostErrno(e);
    }
    let forked: MemoryManager | null = null;
    try {
      // The child's mappings and its first thread's slot reach its stub in one batch.
      as.beginBatch();
      try {
        mm = forked = t.mm.fork(as);
        // vdso_join_timens: a child in another time namespace reads that one's clocks.
        if (nsChild.proxy.time !== nsproxyOf(t).time) switchVvar(mm, vvarBacking(k, nsChild.proxy.time));
        ctx = new PlatformContext(k.platform, as);
      } finally {
        as.endBatch();
      }
    } catch (e) {
      // A forked manager gives back its pages and its exe file's deny with the space.
      if (forked !== null) forked.release();
      else as.release();
      hostErrno(e);
    }
  }
  try {
    ctx.setFpState(t.ctx.getFpState());
  } catch { /* the child starts with a fresh FPU */ }

  let tg: ThreadGroup;
  if (thread) {
    tg = t.tg;
  } else {
    const parent = has(f, CLONE_PARENT) ? t.tg.parent : t.tg;
    tg = k.newThreadGroup(parent, tid, pid);
    tg.parentTask = has(f, CLONE_PARENT) ? t.tg.parentTask : t;
    cgroupFork(k, cgroup, tg);
    setupProcess(t, tg, a);
    attachThreadGroup(tg);
    becomeNsInit(pid.ns, tg);
  }
  let fdTable = t.fdTable;
  if (has(f, CLONE_FILES)) getFDTable(fdTable);
  else fdTable = fdTable.fork();
  const fs = has(f, CLONE_FS) ? t.fs : { ...t.fs };
  const child = new Task(k, tid, tg, mm, fdTable, fs, nsChild.creds, ctx, pid);
  setNsproxy(child, nsChild.proxy);
  const copies = nsChild.proxy.mnt.copies;
  if (has(f, CLONE_NEWNS) && copies !== null) moveCwdToCopy(child, t.fs, copies);

  child.regs.set(t.regs);
  child.regs[REG_RAX] = 0n;
  if (a.stack !== 0) child.regs[REG_RSP] = BigInt(a.stack);
  if (has(f, CLONE_SETTLS)) child.regs[REG_FS_BASE] = a.tls;
  child.sigMask = t.sigMask;
  // A stack shared by two running threads would be clobbered: only fork and vfork keep it.
  if (!has(f, CLONE_VM) || has(f, CLONE_VFORK)) setAltStack(child, altStack(t));
  if (!has(f, CLONE_VM)) {
    child.rseqAddr = t.rseqAddr;
    child.rseqLen = t.rseqLen;
    child.rseqSig = t.rseqSig;
  }
  copyTaskAttrs(t, child);
  child.seccomp = t.seccomp;
  if (has(f, CLONE_CHILD_CLEARTID)) child.clearChildTid = a.childTid;

  k.tasks.set(tid, child);
  attachTask(child);
  tg.tasks.add(child);
  ptraceClone(t, child, f, a.exitSignal);
  // The id each side sees: the caller's namespace numbers the child for the parent, the
  // child's own for CLONE_CHILD_SETTID.
  const vtid = tidIn(t.threadPid.ns, child);
  // Both ids are written before either task runs again; a bad address is ignored, as Linux
  // ignores put_user's failure here.
  if (has(f, CLONE_PARENT_SETTID)) {
    try { t.mm.writeU32(a.parentTid, vtid); } catch { /* ignored */ }
  }
  if (has(f, CLONE_CHILD_SETTID)) {
    try { mm.writeU32(a.childTid, tidIn(pid.ns, child)); } catch { /* ignored */ }
  }
  if (has(f, CLONE_PIDFD) && a.pidfd !== undefined) {
    const fd = newPidFd(t, tg, false);
    // Tried above; only a racing unmap can fail it now, and then the child runs anyway.
    try { t.mm.writeU32(a.pidfd, fd); } catch { /* ignored */ }
  }

  let vforkWait: Promise<number> | null = null;
  if (has(f, CLONE_VFORK)) {
    vforkWait = block<number>(t, (wake) => {
      child.vforkDone = () => { ptraceVforkDone(t, vtid); wake(vtid); };
      return () => { if (child.vforkDone) child.vforkDone = null; };
    }, { killableOnly: true });
  }
  // From a microtask: the child must not run inside its parent's syscall.
  queueMicrotask(() => k.startTask(child));
  return vforkWait ?? vtid;
}

/** A namespace's first process is its init (is_child_reaper: number 1 in it). */
function becomeNsInit(ns: PidNamespace, tg: ThreadGroup): void {
  if (ns.level > 0 && tg.leaderPid.nrs[ns.level] === 1) ns.init = tg;
}

/** What a new process takes from its creator's. */
function setupProcess(t: Task, tg: ThreadGroup, a: CloneArgs): void {
  tg.exePath = t.tg.exePath;
  tg.exitSignal = a.exitSignal;
  t.tg.rlimits.forEach((r, i) => { tg.rlimits[i] = { ...r }; });
  updateCpuLimit(tg);
  if (has(a.flags, CLONE_SIGHAND)) {
    shareSignalActions(t.tg, tg);
  } else {
    copySignalActions(t.tg, tg);
    if (a.clearSighand) {
      for (const act of signalActions(tg)) {
        if (act.handler !== SIG_IGN) Object.assign(act, { handler: 0n, flags: 0n, restorer: 0n, mask: 0n });
      }
    }
  }
  inheritProcessGroup(t.tg, tg);
}

