// execve (Linux fs/exec.c, binfmt_script.c, binfmt_elf.c via loader/): load a new program
// into a new address space and, once nothing can fail any more, make it the task's: the
// other threads die (de_thread), the task takes over the process's id, close-on-exec files
// close, handled signals return to their defaults, and the task resumes at the new entry.

import { E2BIG, ENOENT, ENOMEM } from '../abi/linux/errno';
import type { LoadableFile } from '../loader/loadable_file';
import { PlatformContext } from '../platform/context';
import { REG_RIP, REG_RSP, errnoOfNative } from '../native/addon';
import { MemoryManager } from '../mm/memory_manager';
import { loadExecutable } from '../loader/loader';
import { resolveInterpreters } from '../loader/shebang';
import { openHostFile } from '../loader/host_file';
import { execSignalState } from '../syscalls/linux/signal_state';
import { execTaskAttrs, taskAttrs } from '../syscalls/linux/task_attrs';
import { commitExecCreds } from '../syscalls/linux/commit_creds';
import { execCredentials } from './commoncap';
import { fail } from './syscall_error';
import type { Task } from './task';
import { fdTableShared, putFDTable, putMM } from './shared_state';
import { futexExitRelease, releaseVfork } from './exit';
import { execTimers } from './timers/process_timers';
import { taskCpuTime } from './timers/cpu_time';

const ARG_MAX = 32 * 4096;
const STK_LIM = 8 << 20;
/** AT_HWCAP as the sandbox reports it. */
export const HWCAP = 0x178bfbff;

/** The executable at path (relative to the cwd), ready to load: resolved through the
 *  sandbox's VFS (ts/vfs/exec_file.ts). */
import { openExecutable } from '../vfs/exec_file';
export { openExecutable };

/** bprm_stack_limits: argv and envp may take a quarter of RLIMIT_STACK (at least ARG_MAX,
 *  at most 3/4 of the default stack), pointers included. */
function checkArgSize(t: Task, argv: string[], envp: string[]): void {
  let limit = Math.min(STK_LIM / 4 * 3, t.mm.stackLimit / 4);
  limit = Math.max(limit, ARG_MAX);
  const ptrs = (Math.max(argv.length, 1) + envp.length) * 8;
  if (limit <= ptrs) fail(E2BIG);
  let strings = 0;
  for (const s of argv) strings += Buffer.byteLength(s) + 1;
  for (const s of envp) strings += Buffer.byteLength(s) + 1;
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
export interface ExecOptions { nofollow?: boolean; pathInaccessible?: boolean }

export function execve(t: Task, filename: string, argvIn: string[], envp: string[], opts: ExecOptions = {}): void {
  // Linux 5.18+: an empty argv gets an empty argv[0], so that argc is never 0.
  const argv0 = argvIn.length === 0 ? [''] : argvIn;
  checkArgSize(t, argv0, envp);
  let opened = 0;
  const openNth = (p: string): LoadableFile => {
    if (opened++ === 0) return openExecutable(t, p, opts.nofollow !== true);
    if (opts.pathInaccessible === true) fail(ENOENT);
    return openExecutable(t, p);
  };
  const { file, argv } = resolveInterpreters(openNth, filename, argv0);
  const noSetid = { mode: 0, uid: 0, gid: 0, maySuid: false };
  const { creds, secure } = execCredentials(t.creds, file.setid ?? noSetid, taskAttrs(t).noNewPrivs);
  const mm = newAddressSpace(t);
  const random = new Uint8Array(16);
  t.kernel.fillRandom(random);
  let entry;
  try {
    // The new image's mappings reach its stub in one batch, before anything runs there.
    mm.addressSpace.beginBatch();
    try {
      entry = loadExecutable(mm, file, (p) => openExecutable(t, p), {
        argv, envp, execfn: filename, random,
        uid: creds.uid, euid: creds.euid, gid: creds.gid, egid: creds.egid, secure,
        hwcap: HWCAP, clockTicks: 100, platform: 'x86_64',
      });
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
  const ctx = new PlatformContext(t.kernel.platform, mm.addressSpace);
  ctx.regs[REG_RIP] = BigInt(entry.entry);
  ctx.regs[REG_RSP] = BigInt(entry.sp);
  const oldCtx = t.ctx;
  const oldMm = t.mm;
  t.ctx = ctx;
  t.mm = mm;
  oldCtx.release();
  taskCpuTime(t).retire(oldCtx.cpuTimeNs());
  putMM(oldMm);

  if (fdTableShared(t.fdTable)) {
    const own = t.fdTable.fork();
    putFDTable(t.fdTable);
    t.fdTable = own;
  }
  t.fdTable.closeOnExec();
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
}

/** de_thread: every other thread of the process dies, and the caller takes the process's id
 *  (the leader's tid) if it was not the leader. */
function deThread(t: Task): void {
  const tg = t.tg;
  const k = t.kernel;
  for (const other of [...tg.tasks]) {
    if (other === t) continue;
    tg.tasks.delete(other);
    other.detached = true;
    if (!other.exited) {
      other.exited = true;
      other.kick(true);
    }
  }
  if (t.tid !== tg.tgid) {
    if (k.tasks.get(t.tid) === t) k.tasks.delete(t.tid);
    t.tid = tg.tgid;
    k.tasks.set(t.tid, t);
  }
}
