// Task: one application thread (Linux task_struct, gVisor kernel.Task). It owns the register
// file (through its platform Context) and points at what it shares with others: the thread
// group, the MemoryManager, the FDTable, the file-system context. Its run loop lives in
// task_run.ts; this file is only the state.

import type { PlatformContext } from '../platform/context';
import { REG_RAX, REG_ORIG_RAX, REG_RIP, REG_RSP, REG_FS_BASE } from '../native/addon';
import type { MemoryManager } from '../mm/memory_manager';
import type { FDTable } from '../vfs/fd_table';
import type { Kernel } from './kernel';
import type { ThreadGroup } from './thread_group';
import { Credentials } from './credentials';

export interface FSContext {
  /** Absolute path of the working directory, as getcwd(2) reports it. */
  cwd: string;
  umask: number;
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
  /** Blocked signal mask (64-bit, bit N-1 for signal N). */
  sigMask = 0n;

  constructor(
    readonly kernel: Kernel,
    readonly tid: number,
    readonly tg: ThreadGroup,
    public mm: MemoryManager,
    public fdTable: FDTable,
    public fs: FSContext,
    public creds: Credentials,
    public ctx: PlatformContext,
  ) {}

  get regs(): BigUint64Array { return this.ctx.regs; }

  syscallNumber(): number { return Number(this.ctx.regs[REG_ORIG_RAX]); }
  get ip(): number { return Number(this.ctx.regs[REG_RIP]); }
  get sp(): number { return Number(this.ctx.regs[REG_RSP]); }
  setReturn(v: number | bigint): void { this.ctx.regs[REG_RAX] = BigInt.asUintN(64, BigInt(v)); }
  setFSBase(v: bigint): void { this.ctx.regs[REG_FS_BASE] = v; }

  /** Thread-group id (what getpid returns). */
  get pid(): number { return this.tg.tgid; }
}
