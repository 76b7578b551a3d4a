// Pending signals (Linux struct sigpending): a set plus the queued siginfo of each signal.
// A thread has one for signals sent to it (tgkill, faults) and its process one for signals
// sent to the process (kill). Standard signals (below SIGRTMIN) coalesce: a second one of
// a kind already pending is dropped; real-time signals queue.

import { SIGBUS, SIGFPE, SIGILL, SIGRTMIN, SIGSEGV, SIGSYS, SIGTRAP, sigBit } from '../abi/linux/signal';

/** What a pending signal carries (siginfo_t's fields that tsvisor fills). */
export interface SigInfo {
  signo: number;
  code: number;
  errno: number;
  /** Sender (kill, SIGCHLD child) and its real uid. */
  pid: number;
  uid: number;
  /** SIGCHLD: the exit code or signal. */
  status: number;
  /** Faults: the faulting address. */
  addr: number;
  /** sigqueue/timers: sigval. */
  value: bigint;
  /** SIGIO from an O_ASYNC file with F_SETSIG: si_band and si_fd (the siginfo's poll layout). */
  band?: number;
  fd?: number;
  /** SIGSYS from a seccomp filter (SYS_SECCOMP): si_syscall and si_arch; si_call_addr is addr. */
  syscall?: number;
  arch?: number;
  /** Sent by a task outside the receiver's pid namespace (si_pid then reads 0): such a
   *  SIGKILL or SIGSTOP reaches even the namespace's init. */
  fromAncestorNs?: boolean;
  /** Timer signals: run when the signal is taken, to rearm the timer and set the overrun
   *  (Linux posixtimer_deliver_signal). */
  onDequeue?: (info: SigInfo) => void;
}

export function sigInfo(signo: number, code: number, fields: Partial<SigInfo> = {}): SigInfo {
  return { signo, code, errno: 0, pid: 0, uid: 0, status: 0, addr: 0, value: 0n, ...fields };
}

// Synchronous signals go first, as Linux's next_signal does, so a fault is handled before
// whatever else happens to be pending.
const SYNCHRONOUS = sigBit(SIGSEGV) | sigBit(SIGBUS) | sigBit(SIGILL) | sigBit(SIGTRAP) |
  sigBit(SIGFPE) | sigBit(SIGSYS);

export class SigPending {
  /** Bit sig-1 is set while signal sig is pending. */
  set = 0n;
  private queue: SigInfo[] = [];

  /** How many siginfos are queued (RLIMIT_SIGPENDING counts them). */
  get size(): number { return this.queue.length; }

  /** Queue info; false if it coalesced with one already pending. */
  enqueue(info: SigInfo): boolean {
    const bit = sigBit(info.signo);
    if (info.signo < SIGRTMIN && (this.set & bit) !== 0n) return false;
    this.set |= bit;
    this.queue.push(info);
    return true;
  }

  /** The lowest-numbered pending signal not in mask (synchronous ones first), or 0. */
  next(mask: bigint): number {
    const ready = this.set & ~mask;
    if (ready === 0n) return 0;
    const sync = ready & SYNCHRONOUS;
    const pick = sync !== 0n ? sync : ready;
    // Lowest set bit: isolate it, then its index.
    const low = pick & -pick;
    return low.toString(2).length;
  }

  /** Take the first queued instance of sig (undefined if none is pending). */
  take(sig: number): SigInfo | undefined {
    const i = this.queue.findIndex((q) => q.signo === sig);
    if (i < 0) return undefined;
    const [info] = this.queue.splice(i, 1);
    if (!this.queue.some((q) => q.signo === sig)) this.set &= ~sigBit(sig);
    info.onDequeue?.(info);
    return info;
  }

  /** The queued siginfos in the order they came (PTRACE_PEEKSIGINFO reads them). */
  entries(): readonly SigInfo[] { return this.queue; }

  /** Whether this very siginfo is queued (a timer's signal still pending). */
  holds(info: SigInfo): boolean {
    return (this.set & sigBit(info.signo)) !== 0n && this.queue.includes(info);
  }

  /** Drop this very siginfo if queued (a deleted or reset timer's signal). */
  remove(info: SigInfo): boolean {
    const i = this.queue.indexOf(info);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    if (!this.queue.some((q) => q.signo === info.signo)) this.set &= ~sigBit(info.signo);
    return true;
  }

  /** Drop every pending instance of the signals in mask (SIGCONT/stop interplay, SIG_IGN). */
  discard(mask: bigint): void {
    if ((this.set & mask) === 0n) return;
    this.queue = this.queue.filter((q) => (sigBit(q.signo) & mask) === 0n);
    this.set &= ~mask;
  }

  clear(): void {
    this.set = 0n;
    this.queue = [];
  }
}
