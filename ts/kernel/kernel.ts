// Kernel: the sandbox-wide state (gVisor kernel.Kernel): the platform and memory file, the
// pid namespace, clocks, the uname identity, logging. It creates tasks and thread groups and
// decides what exits mean; it does not decode syscalls (syscalls/) or manage memory (mm/).

import * as fs from 'node:fs';
import { addon, type NativeMemoryFile, type NativePlatform } from '../native/addon';
import { SYSCALL_NAMES } from '../abi/linux/syscall_numbers';
import type { Task } from './task';
import type { Pid } from './ns/pid_ns';
import { ThreadGroup } from './thread_group';
import { finishTask } from './exit';
import { runTask } from './task_run';
import { afterNs, block } from './blocking';
import { ERESTARTNOHAND } from '../abi/linux/errno';
import { SIGKILL } from '../abi/linux/signal';
import type { SigInfo } from './sig_pending';
import { coreDumpDue } from './coredump/core_pattern';

export interface KernelOptions {
  platform: NativePlatform;
  mf: NativeMemoryFile;
  /** Write a strace line per syscall to stderr. */
  strace: boolean;
  /** Host fd of the debug log, or -1. */
  debugLogFd: number;
  hostname: string;
  /** Most tasks the sandbox may hold at once (--pids, the pids cgroup's pids.max). */
  pidsMax?: number;
}

export class Kernel {
  readonly platform: NativePlatform;
  readonly mf: NativeMemoryFile;
  readonly strace: boolean;
  hostname: string;
  /** Most tasks at once, zombies included (kernel/clone.ts refuses past it with EAGAIN). */
  readonly pidsMax: number;
  domainname = '(none)';
  private readonly debugLogFd: number;
  private nextPid = 1;
  readonly threadGroups = new Map<number, ThreadGroup>();
  readonly tasks = new Map<number, Task>();
  /** The task whose syscall is being handled synchronously right now, if any: it needs no
   *  interrupt to notice a signal, it is about to return to user mode anyway. */
  current: Task | null = null;
  private readonly unknownLogged = new Set<number>();
  /** CLOCK_REALTIME minus CLOCK_MONOTONIC at boot, in ns (the vDSO adds it too). */
  readonly realtimeOffset: bigint;
  readonly bootMonotonic: bigint;

  constructor(opts: KernelOptions) {
    this.platform = opts.platform;
    this.mf = opts.mf;
    this.strace = opts.strace;
    this.hostname = opts.hostname;
    this.pidsMax = opts.pidsMax ?? Infinity;
    this.debugLogFd = opts.debugLogFd;
    this.bootMonotonic = process.hrtime.bigint();
    // To the ns (Date.now() would put the sandbox's clock up to 1 ms behind the host's, whose
    // packet timestamps would then read as from the future).
    const [sec, nsec] = addon().hostRealtimeOffset();
    this.realtimeOffset = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
  }

  /** The initial namespace's ns_last_pid: the last pid given out (a write moves it). */
  get lastPid(): number { return this.nextPid - 1; }
  set lastPid(v: number) { this.nextPid = v + 1; }

  /** The next free pid of the initial namespace (clone3's set_tid may have taken some). */
  allocPid(): number {
    while (this.tasks.has(this.nextPid) || this.threadGroups.has(this.nextPid)) this.nextPid++;
    return this.nextPid++;
  }

  newThreadGroup(parent: ThreadGroup | null, tgid: number, leaderPid?: Pid): ThreadGroup {
    const tg = new ThreadGroup(tgid, parent, leaderPid);
    this.threadGroups.set(tgid, tg);
    return tg;
  }

  /** CLOCK_MONOTONIC in ns (the host's monotonic clock). */
  monotonicNs(): bigint { return process.hrtime.bigint(); }
  /** CLOCK_REALTIME in ns. */
  realtimeNs(): bigint { return process.hrtime.bigint() + this.realtimeOffset; }
  /** CLOCK_BOOTTIME-like: ns since the sandbox started. */
  uptimeNs(): bigint { return process.hrtime.bigint() - this.bootMonotonic; }

  fillRandom(buf: Uint8Array): void { addon().hostGetrandom(buf); }

  /** Whether --debug-log is on (debug() writes somewhere). */
  debugging(): boolean { return this.debugLogFd >= 0; }

  debug(msg: string): void {
    if (this.debugLogFd >= 0) fs.writeSync(this.debugLogFd, `${new Date().toISOString()} ${msg}\n`);
  }

  /** exit(2): this task ends; the group ends with `code` if it was the last. */
  exitTask(t: Task, code: number): void {
    t.exited = true;
    t.exitCode = code & 0xff;
  }

  /** exit_group(2): every task of the group ends; the group's status is `code`. */
  exitGroup(t: Task, code: number): void {
    if (t.tg.exitStatus === null) t.tg.exitStatus = (code & 0xff) << 8;
    this.endThreadGroup(t.tg);
  }

  /** Death by signal (the default action of a fatal signal). WCOREDUMP (0x80) is added by
   *  coreDumpAndKill's dump, when one was written. */
  killThreadGroup(tg: ThreadGroup, signo: number): void {
    if (tg.exitStatus === null) tg.exitStatus = signo;
    this.endThreadGroup(tg);
  }

  /**
   * A core-dumping signal's default action (get_signal's do_coredump): when a dump is due,
   * the other threads end at once (zap_threads) and t writes the core from its run loop
   * (coredump.ts), then the group ends; otherwise this is killThreadGroup.
   */
  coreDumpAndKill(t: Task, info: SigInfo): void {
    if (t.tg.exitStatus !== null || !coreDumpDue(t)) {
      this.killThreadGroup(t.tg, info.signo);
      return;
    }
    t.tg.exitStatus = info.signo;
    this.endThreadGroup(t.tg, t);
    t.coreDump = info;
  }

  /**
   * The memory limit refused a page that t needed (a fault, or a copy in a syscall): its
   * process dies of SIGKILL, as under a memory cgroup's OOM killer — whose victim here is
   * always the process that asked, so that the outcome does not depend on who else runs.
   */
  oomKill(t: Task): void {
    t.mm.oomFault = false;
    this.debug(`[${t.tid}] out of memory: killed process ${t.tg.tgid} (${this.mf.allocatedBytes()} bytes allocated)`);
    this.killThreadGroup(t.tg, SIGKILL);
  }

  private endThreadGroup(tg: ThreadGroup, except: Task | null = null): void {
    for (const task of tg.tasks) {
      if (task.exited || task === except) continue;
      task.exited = true;
      // A task running application code stops at once, a waiting one stops waiting; its run
      // loop then sees `exited`.
      task.kick(true, true);
    }
  }

  /** Run a new task's loop in the background (never awaited: tasks are concurrent). */
  startTask(t: Task): void {
    void runTask(t).catch((e: unknown) => {
      process.stderr.write(`tsvisor: sentry failure: ${e instanceof Error ? e.stack : String(e)}\n`);
      this.killThreadGroup(t.tg, 9);
      if (!t.detached && t.tg.tasks.has(t)) this.reapTask(t);
    });
  }

  /** Called by a task's run loop once it has stopped for good. */
  reapTask(t: Task): void {
    finishTask(t);
  }

  /** Sleeps for ns nanoseconds of CLOCK_MONOTONIC without blocking the event loop; a signal
   *  cuts it short with ERESTARTNOHAND (EINTR once a handler runs). */
  sleep(t: Task, ns: bigint): Promise<void> {
    return block<void>(t, (wake) => afterNs(ns, () => wake()), { restart: ERESTARTNOHAND });
  }

  /** An unimplemented syscall: ENOSYS for the caller, one log line per number. */
  unknownSyscall(t: Task, nr: number): void {
    if (this.unknownLogged.has(nr)) return;
    this.unknownLogged.add(nr);
    const name = SYSCALL_NAMES[nr] ?? `syscall_${nr}`;
    this.debug(`[${t.tid}] unsupported syscall ${nr} (${name}): ENOSYS`);
    if (!this.strace && this.debugLogFd < 0 && process.env.TSVISOR_WARN_ENOSYS) {
      process.stderr.write(`tsvisor: unsupported syscall ${nr} (${name})\n`);
    }
  }
}
