// execve (Linux fs/exec.c, binfmt_script.c, binfmt_elf.c via loader/): load a new program
// into a new address space (or, on systrap and ptrace, into the task's own once the old image may go:
// loadInPlace) and, once nothing can fail any more, make it the task's: the
// other threads die (de_thread), the task takes over the process's id, close-on-exec files
// close, handled signals return to their defaults, and the task resumes at the new entry.

import { commitHostWait } from '../vfs/host_wait';
import { releaseRingSlots } from './io_uring/ring_slots';
import { attachTask, detachTask } from './ns/pid_ns';
import { enterTimeNsForChildren, nsproxyOf, setNsproxy } from './ns/nsproxy';
import { vvarBacking } from './vvar_page';
import { E2BIG, ENOENT, ENOMEM } from '../abi/linux/errno';
import type { LoadableFile } from '../loader/loadable_file';
import { PlatformContext } from '../platform/context';
import { REG_RIP, REG_RSP, errnoOfNative } from '../native/addon';
import { MemoryManager } from '../mm/memory_manager';
import { type LoadArgs, type PreparedExecutable, mapExecutable, prepareExecutable } from '../loader/loader';
import { resolveInterpreters } from '../loader/shebang';
import { execSignalState } from '../syscalls/linux/signal_state';
import { execTaskAttrs, taskAttrs } from '../syscalls/linux/task_attrs';
import { commitExecCreds } from '../syscalls/linux/commit_creds';
import { CAP_SYS_PTRACE } from './capabilities';
import { LSM_UNSAFE_NO_NEW_PRIVS, LSM_UNSAFE_PTRACE, LSM_UNSAFE_SHARE, type UnsafeExec, execCredentials } from './commoncap';
import { SyscallError, fail } from './syscall_error';
import { SIGSEGV } from '../abi/linux/signal';
import { initialFpState } from './signal_frame';
import type { Task } from './task';
import { fromKgid, fromKuid } from './ns/user_namespace';
import { mmUserCount, putMM, unshareFDTable } from './shared_state';
import { noteMmHiwater } from './rss';
import { HOST_MIN_SIGSTKSZ } from '../loader/host_auxv';
import { forgetOriginalParent, futexExitRelease, releaseVfork } from './exit';
import { ptraceExec } from './ptrace/events';
import { execTimers } from './timers/process_timers';
import { taskCpuTime } from './timers/cpu_time';

const ARG_MAX = 32 * 4096;
const STK_LIM = 8 << 20;
/** AT_HWCAP as the sandbox reports it. */
export const HWCAP = 0x178bfbff;

/** The executable at path (relative to the cwd), ready to load: resolved through the
 *  sandbox's VFS (ts/vfs/exec_file.ts). */
import { openExecutable } from '../vfs/exec_file';
import { stringByteLength } from '../abi/byte_string';
export { openExecutable };

/** bprm_stack_limits: argv and envp may take a quarter of RLIMIT_STACK (at least ARG_MAX,
 *  at most 3/4 of the default stack), pointers included. */
function checkArgSize(t: Task, argv: string[], envp: string[]): void {
  let limit = Math.min(STK_LIM / 4 * 3, t.mm.stackLimit / 4);
  limit = Math.max(limit, ARG_MAX);
  const ptrs = (Math.max(argv.length, 1) + envp.length) * 8;
  if (limit <= ptrs) fail(E2BIG);
  let strings = 0;
  for (const s of argv) strings += stringByteLength(s) + 1;
  for (const s of envp) strings += stringByteLength(s) + 1;
  if (strings > limit - ptrs) fail(E2BIG);
}

function newAddressSpace(t: Task): MemoryManager {
  const p = t.kernel.platform;
  let as;
  try {
    as = p.newAddressSpace();
  } catch (e) {
    if (errnoOfNative(e) !== undefined) fail(ENOMEM);
    throw e;
  }
  const mm = new MemoryManager(t.kernel.mf, as, p.minUserAddress, p.maxUserAddress);
  mm.stackLimit = t.mm.stackLimit;
  return mm;
}

/** execve proper; on return the task runs the new program (its rax is set by the caller). */
/** How execveat named the program: AT_SYMLINK_NOFOLLOW, and a close-on-exec fd (a script
 *  through it is ENOENT, as its interpreter could not open /dev/fd/N: BINPRM_FLAGS_PATH_INACCESSIBLE). */
export interface ExecOptions {
  nofollow?: boolean;
  pathInaccessible?: boolean;
  /** execveat through a file descriptor: opens the program, which `filename` (/dev/fd/N...)
   *  only names for AT_EXECFN and a script's interpreter. */
  openFirst?: () => LoadableFile;
}

export function execve(t: Task, filename: string, argvIn: string[], envp: string[], opts: ExecOptions = {}): void {
  // Linux 5.18+: an empty argv gets an empty argv[0], so that argc is never 0.
  const argv0 = argvIn.length === 0 ? [''] : argvIn;
  const oldTid = t.tid;
  checkArgSize(t, argv0, envp);
  let opened = 0;
  const openNth = (p: string): LoadableFile => {
    if (opened++ === 0) return opts.openFirst?.() ?? openExecutable(t, p, opts.nofollow !== true);
    if (opts.pathInaccessible === true) fail(ENOENT);
    return openExecutable(t, p);
  };
  const { file, argv } = resolveInterpreters(openNth, filename, argv0);
  const noSetid = { mode: 0, uid: 0, gid: 0, maySuid: false };
  const { creds, secure } = execCredentials(t.creds, file.setid ?? noSetid, taskAttrs(t).noNewPrivs, () => checkUnsafeExec(t));
  const prepared = prepareExecutable(file, (p) => openExecutable(t, p));
  const random = new Uint8Array(16);
  t.kernel.fillRandom(random);
  const args: LoadArgs = {
    argv, envp, execfn: filename, random,
    // AT_UID and friends: the ids as the program's user namespace names them.
    uid: fromKuid(creds.userNs, creds.uid), euid: fromKuid(creds.userNs, creds.euid),
    gid: fromKgid(creds.userNs, creds.gid), egid: fromKgid(creds.userNs, creds.egid), secure,
    hwcap: HWCAP, clockTicks: 100, platform: 'x86_64', minSigStkSz: HOST_MIN_SIGSTKSZ,
    // The new image runs in the time namespace for children (exec_task_namespaces, below).
    vvar: vvarBacking(t.kernel, nsproxyOf(t).timeForChildren),
  };
  // No lookup may be left to the host from here (vfs/host_wait.ts): the syscall cannot run
  // again once the old image starts to go.
  commitHostWait();
  if (mayReuseAddressSpace(t)) {
    // The point of no return comes first here: the old image goes as the new one comes.
    deThread(t);
    futexExitRelease(t);
    releaseRingSlots(t);
    if (!loadInPlace(t, prepared, args)) return;
  } else {
    const mm = newAddressSpace(t);
    let entry;
    try {
      // The new image's mappings reach its stub in one batch, before anything runs there.
      mm.addressSpace.beginBatch();
      try {
        entry = mapExecutable(mm, prepared, args);
      } finally {
        mm.addressSpace.endBatch();
      }
    } catch (e) {
      mm.release();
      throw e;
    }
    // The point of no return.
    deThread(t);
    // exec_mm_release, in the old memory.
    futexExitRelease(t);
    releaseRingSlots(t);
    const ctx = new PlatformContext(t.kernel.platform, mm.addressSpace);
    ctx.regs[REG_RIP] = BigInt(entry.entry);
    ctx.regs[REG_RSP] = BigInt(entry.sp);
    const oldCtx = t.ctx;
    const oldMm = t.mm;
    t.ctx = ctx;
    t.mm = mm;
    oldCtx.release();
    taskCpuTime(t).retire(oldCtx.cpuTimeNs());
    noteMmHiwater(t.tg, oldMm);
    putMM(oldMm);
  }

  unshareFDTable(t);
  t.fdTable.closeOnExec();
  // exec_task_namespaces: the new image runs in the time namespace for children.
  const proxy = nsproxyOf(t);
  if (proxy.time !== proxy.timeForChildren) setNsproxy(t, enterTimeNsForChildren(proxy));
  execSignalState(t);
  execTimers(t);
  execTaskAttrs(t, filename);
  commitExecCreds(t, creds, secure);
  t.tg.exePath = file.path;
  t.clearChildTid = 0;
  t.robustListHead = 0;
  t.robustListLen = 0;
  t.rseqAddr = t.rseqLen = t.rseqSig = 0;
  releaseVfork(t);
  ptraceExec(t, oldTid);
}

/**
 * Whether execve may load the new image into the task's own address space (systrap and
 * ptrace: the same stub process and thread, a single batched unmap instead of a new stub,
 * ~2 ms): only a process of one thread whose memory nobody else uses (not a vfork child, no
 * CLONE_VM sibling). kvm takes a fresh address space.
 */
const REUSE_PLATFORMS = new Set(['systrap', 'ptrace']);

function mayReuseAddressSpace(t: Task): boolean {
  return REUSE_PLATFORMS.has(t.kernel.platform.name) && t.tg.tasks.size === 1 && mmUserCount(t.mm) === 1 &&
    !t.mm.isReleased;
}

/**
 * Past the point of no return: empty the task's address space and map the new image into it,
 * in one batch; the task's context starts afresh. A failure now (no memory, a segment that
 * cannot be placed) kills the process with SIGSEGV, as Linux does once begin_new_exec is
 * past; false then.
 */
function loadInPlace(t: Task, prepared: PreparedExecutable, args: LoadArgs): boolean {
  const old = t.mm;
  const as = old.addressSpace;
  let entry: { entry: number; sp: number } | null = null;
  let failed: unknown = null;
  as.beginBatch();
  try {
    noteMmHiwater(t.tg, old);
    t.mm = old.resetForExec();
    entry = mapExecutable(t.mm, prepared, args);
  } catch (e) {
    failed = e;
  } finally {
    try { as.endBatch(); } catch (e) { failed ??= e; }
  }
  putMM(old);
  if (failed !== null || entry === null) {
    if (!(failed instanceof SyscallError) && errnoOfNative(failed) === undefined) throw failed;
    t.kernel.killThreadGroup(t.tg, SIGSEGV);
    return false;
  }
  const ctx = t.ctx;
  ctx.resetRegs();
  try {
    ctx.setFpState(initialFpState(ctx.getFpState()));
  } catch { /* a context without FP state to set: it starts as the platform made it */ }
  ctx.regs[REG_RIP] = BigInt(entry.entry);
  ctx.regs[REG_RSP] = BigInt(entry.sp);
  return true;
}

/** check_unsafe_exec: what could abuse a set-id exec — a tracer (and whether it may trace
 *  the privileged result), no_new_privs, or a task of another process sharing the fs
 *  context, which could move the cwd or root under the new program. */
function checkUnsafeExec(t: Task): UnsafeExec {
  let unsafe = 0;
  let ptracerCapable = true;
  if (t.ptrace !== null) {
    unsafe |= LSM_UNSAFE_PTRACE;
    ptracerCapable = t.ptrace.ptracerCred.nsCapable(t.creds.userNs, CAP_SYS_PTRACE);
  }
  if (taskAttrs(t).noNewPrivs) unsafe |= LSM_UNSAFE_NO_NEW_PRIVS;
  for (const other of t.kernel.tasks.values()) {
    if (other.fs === t.fs && other.tg !== t.tg && !other.exited) {
      unsafe |= LSM_UNSAFE_SHARE;
      break;
    }
  }
  return { unsafe, ptracerCapable };
}

/** de_thread: every other thread of the process dies, and the caller takes the process's id
 *  (the leader's tid) if it was not the leader. */
function deThread(t: Task): void {
  const tg = t.tg;
  const k = t.kernel;
  const others = [...tg.tasks].filter((o) => o !== t);
  for (const other of others) {
    tg.tasks.delete(other);
    other.detached = true;
    if (!other.exited) {
      other.exited = true;
      other.kick(true);
    }
  }
  for (const other of others) forgetOriginalParent(other);
  if (t.tid !== tg.tgid) {
    if (k.tasks.get(t.tid) === t) k.tasks.delete(t.tid);
    detachTask(t);
    t.tid = tg.tgid;
    t.threadPid = tg.leaderPid;
    k.tasks.set(t.tid, t);
    attachTask(t);
  }
}
