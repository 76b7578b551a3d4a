// Kernel: the sandbox-wide state (gVisor kernel.Kernel): the platform and memory file, the
// pid namespace, clocks, the uname identity, logging. It creates tasks and thread groups and
// decides what exits mean; it does not decode syscalls (syscalls/) or manage memory (mm/).

import * as fs from 'node:fs';
import { randomFillSync } from 'node:crypto';
import type { NativeMemoryFile, NativePlatform } from '../native/addon';
import { SYSCALL_NAMES } from '../abi/linux/syscall_numbers';
import type { Task } from './task';
import { ThreadGroup } from './thread_group';

export interface KernelOptions {
  platform: NativePlatform;
  mf: NativeMemoryFile;
  /** Write a strace line per syscall to stderr. */
  strace: boolean;
  /** Host fd of the debug log, or -1. */
  debugLogFd: number;
  hostname: string;
}

export class Kernel {
  readonly platform: NativePlatform;
  readonly mf: NativeMemoryFile;
  readonly strace: boolean;
  readonly hostname: string;
  domainname = '(none)';
  private readonly debugLogFd: number;
  private nextPid = 1;
  readonly threadGroups = new Map<number, ThreadGroup>();
  readonly tasks = new Map<number, Task>();
  private readonly unknownLogged = new Set<number>();
  /** CLOCK_REALTIME minus CLOCK_MONOTONIC at boot, in ns. */
  private readonly realtimeOffset: bigint;
  readonly bootMonotonic: bigint;

  constructor(opts: KernelOptions) {
    this.platform = opts.platform;
    this.mf = opts.mf;
    this.strace = opts.strace;
    this.hostname = opts.hostname;
    this.debugLogFd = opts.debugLogFd;
    this.bootMonotonic = process.hrtime.bigint();
    this.realtimeOffset = BigInt(Date.now()) * 1_000_000n - this.bootMonotonic;
  }

  allocPid(): number { return this.nextPid++; }

  newThreadGroup(parent: ThreadGroup | null, tgid: number): ThreadGroup {
    const tg = new ThreadGroup(tgid, parent);
    this.threadGroups.set(tgid, tg);
    return tg;
  }

  /** CLOCK_MONOTONIC in ns (the host's monotonic clock). */
  monotonicNs(): bigint { return process.hrtime.bigint(); }
  /** CLOCK_REALTIME in ns. */
  realtimeNs(): bigint { return process.hrtime.bigint() + this.realtimeOffset; }
  /** CLOCK_BOOTTIME-like: ns since the sandbox started. */
  uptimeNs(): bigint { return process.hrtime.bigint() - this.bootMonotonic; }

  fillRandom(buf: Uint8Array): void { randomFillSync(buf); }

  debug(msg: string): void {
    if (this.debugLogFd >= 0) fs.writeSync(this.debugLogFd, `${new Date().toISOString()} ${msg}\n`);
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
