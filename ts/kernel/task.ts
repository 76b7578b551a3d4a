// Task: one application thread (Linux task_struct, gVisor kernel.Task). It owns the register
// file (through its platform Context) and points at what it shares with others: the thread
// group, the MemoryManager, the FDTable, the file-system context. Its run loop lives in
// task_run.ts; this file is only the state, plus the hook that cuts a blocking wait short.

import type { IoWorkerWait } from './blocking';
import type { VirtualDentry } from '../vfs/virtual_dentry';
import type { PlatformContext } from '../platform/context';
import { REG_RAX, REG_ORIG_RAX, REG_RIP, REG_RSP, REG_FS_BASE } from '../native/addon';
import type { MemoryManager } from '../mm/memory_manager';
import type { FDTable } from '../vfs/fd_table';
import type { Kernel } from './kernel';
import type { ThreadGroup } from './thread_group';
import { Credentials } from './credentials';
import { SigPending, type SigInfo } from './sig_pending';
import { mmUserCount } from './shared_state';
import type { SeccompState } from './seccomp';
import type { PtraceLink } from './ptrace/link';
import { rootPid, type Pid } from './ns/pid_ns';

export interface FSContext {
  /** Absolute path of the working directory, as getcwd(2) reports it. */
  cwd: string;
  umask: number;
  /** chroot(2)'s root, in the task's mount tree; none: the mount namespace's root. */
  root?: VirtualDentry;
}

export class Task {
  /** set_tid_address(2) / CLONE_CHILD_CLEARTID address, 0 if none. */
  clearChildTid = 0;
  robustListHead = 0;
  robustListLen = 0;
  rseqAddr = 0;
  rseqLen = 0;
  rseqSig = 0;
  /** Set once the task has exited; the run loop stops. */
  exited = false;
  /** exit(2)'s status, the process's if this is its last thread. */
  exitCode = 0;
  /** A core-dumping signal this task must dump the process's core for before it ends
   *  (Kernel.coreDumpAndKill; the run loop awaits the dump). */
  coreDump: SigInfo | null = null;
  /** Blocked signal mask (64-bit, bit N-1 for signal N). */
  sigMask = 0n;
  /** Signals sent to this thread (tgkill, faults, SIGPIPE). */
  readonly pending = new SigPending();
  /** The mask to go back to after sigsuspend/ppoll's temporary one (Linux saved_sigmask). */
  savedMask: bigint | null = null;
  /** rt_sigtimedwait: the mask before the waited-for signals were unblocked (real_blocked). */
  realBlocked: bigint | null = null;
  /** The ERESTART* code the current syscall failed with, so that signal delivery can decide
   *  between restarting it and EINTR; 0 when none. */
  syscallRestart = 0;
  /** CLONE_VFORK: wakes the parent once this child has exec'd or exited. */
  vforkDone: (() => void) | null = null;
  /** Cancels the interruptible wait the task is blocked in (see blocking.ts). */
  waitCancel: (() => void) | null = null;
  /** An io_uring request's attempt is running: a wait answers EAGAIN instead (blocking.ts),
   *  and the request parks on the file's readiness (syscalls/linux/io_uring_ops.ts). */
  ioNowait = false;
  /** An io_uring request's attempt runs as an io-wq worker would (blocking.ts): its waits
   *  are the request's, ended by its cancel, not by the task's signals. */
  ioWorker: IoWorkerWait | null = null;
  /** The current wait gives way only to death, not to signals (vfork). */
  waitKillableOnly = false;
  /** What the run loop awaits (task_run.ts), for a hang report: '' while it runs on. */
  awaiting = '';
  /** Page and rip of the last fault taken for spurious (task_run.ts), '' after a syscall. */
  lastFaultPlace = '';
  /** seccomp mode and filters (seccomp.ts); null when off, so the syscall path pays one test. */
  seccomp: SeccompState | null = null;
  /** The tracer relation while traced (ptrace/link.ts); null when not, so hooks pay one test. */
  ptrace: PtraceLink | null = null;
  /** Removed from its group by another thread's execve; only its resources remain. */
  detached = false;
  /** thread_pid: its numbers in its pid namespace and each ancestor (tid is the initial's). */
  threadPid: Pid;

  constructor(
    readonly kernel: Kernel,
    public tid: number,
    readonly tg: ThreadGroup,
    public mm: MemoryManager,
    public fdTable: FDTable,
    public fs: FSContext,
    public creds: Credentials,
    public ctx: PlatformContext,
    threadPid?: Pid,
  ) {
    this.threadPid = threadPid ?? rootPid(tid);
  }

  get regs(): BigUint64Array { return this.ctx.regs; }

  /** orig_rax as a signed 32-bit number: every syscall number fits, and -1 stays -1. */
  syscallNumber(): number { return this.ctx.words[REG_ORIG_RAX * 2]; }
  get ip(): number { return Number(this.ctx.regs[REG_RIP]); }
  get sp(): number { return Number(this.ctx.regs[REG_RSP]); }
  setReturn(v: number | bigint): void {
    const w = this.ctx.words;
    // The common results — small numbers, -errno, addresses below 2^53 — without a bigint.
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= -0x8000_0000) {
      if (v < 0) {
        w[REG_RAX * 2] = v;
        w[REG_RAX * 2 + 1] = -1;
      } else {
        w[REG_RAX * 2] = v % 0x1_0000_0000;
        w[REG_RAX * 2 + 1] = Math.floor(v / 0x1_0000_0000);
      }
      return;
    }
    this.ctx.regs[REG_RAX] = BigInt.asUintN(64, BigInt(v));
  }
  setFSBase(v: bigint): void { this.ctx.regs[REG_FS_BASE] = v; }

  /** Thread-group id (what getpid returns). */
  get pid(): number { return this.tg.tgid; }

  /** Cut the current interruptible wait short (a signal or death arrived); false if the
   *  task is not waiting, or waits only for death and `fatal` is false. */
  interruptWait(fatal = false): boolean {
    const cancel = this.waitCancel;
    if (!cancel || (this.waitKillableOnly && !fatal)) return false;
    cancel();
    return true;
  }

  /** Make the task look at its signals soon: end its wait, or stop it in user mode. With
   *  `dying`, the task is being killed with its whole group, and a run that does not stop
   *  (a thread deaf to the platform's interrupt) is ended by the platform. That may end the
   *  other tasks of its address space too: where tasks outside the group share it, only
   *  after a grace long enough that no honest thread, however loaded the host, runs into it. */
  kick(fatal = false, dying = false): void {
    if (this.interruptWait(fatal) || this.waitCancel || this.kernel.current === this) return;
    if (dying) this.ctx.interruptToKill(this.memoryPrivateToGroup() ? 200 : 5000);
    else this.ctx.interrupt();
  }

  private memoryPrivateToGroup(): boolean {
    let users = 0;
    for (const t of this.tg.tasks) if (t.mm === this.mm) users++;
    return mmUserCount(this.mm) <= users;
  }
}
