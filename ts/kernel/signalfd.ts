// signalfd (Linux fs/signalfd.c): reading a file takes pending signals of its mask, as
// rt_sigtimedwait would, as signalfd_siginfo records of 128 bytes (as many as fit; EINVAL if
// none does; EAGAIN or a wait while none is pending, but never a wait once one is taken).
// Like Linux, the signals are those of the task that reads or polls, not of the creator;
// readiness asked outside any syscall (an epoll wait being re-checked) looks at the
// creator's process and thread.

import type { Task } from './task';
import { FileDescription, type ReadinessCallback, type Stat } from '../vfs/file_description';
import { EAGAIN, EINVAL, ENXIO } from '../abi/linux/errno';
import { O_NONBLOCK, O_RDWR } from '../abi/linux/fcntl';
import { POLLIN, POLLRDNORM } from '../abi/linux/poll';
import { SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGIO, SIGSEGV, SIGSYS, SIGTRAP } from '../abi/linux/signal';
import { fail } from './syscall_error';
import { block } from './blocking';
import { anonInodeStat, anonOwner, type AnonOwner } from './anon_inode';
import type { SigInfo } from './sig_pending';
import { signalfdQueue } from './signalfd_wait';
import { SI_KERNEL } from './signals';

export const SIGNALFD_SIGINFO_SIZE = 128;
const SI_TIMER = -2, SI_SIGIO = -5;
/** NSIGPOLL: the highest si_code of SIGPOLL. */
const NSIGPOLL = 6;
const FAULTS = new Set([SIGILL, SIGFPE, SIGSEGV, SIGBUS, SIGTRAP]);

type Layout = 'kill' | 'timer' | 'poll' | 'fault' | 'chld' | 'rt' | 'sys';

/** siginfo_layout: which union member of siginfo a (signal, code) fills. */
function layout(signo: number, code: number): Layout {
  if (code > 0 && code < SI_KERNEL) {
    if (FAULTS.has(signo)) return 'fault';
    if (signo === SIGCHLD) return 'chld';
    if (signo === SIGIO) return 'poll';
    if (signo === SIGSYS) return 'sys';
    return code <= NSIGPOLL ? 'poll' : 'kill';
  }
  if (code === SI_TIMER) return 'timer';
  if (code === SI_SIGIO) return 'poll';
  return code < 0 ? 'rt' : 'kill';
}

/** signalfd_copyinfo. */
function encode(info: SigInfo, v: DataView, off: number): void {
  v.setUint32(off, info.signo, true);
  v.setInt32(off + 4, info.errno, true);
  v.setInt32(off + 8, info.code, true);
  const kind = layout(info.signo, info.code);
  if (kind === 'kill' || kind === 'rt' || kind === 'chld') {
    v.setUint32(off + 12, info.pid >>> 0, true);
    v.setUint32(off + 16, info.uid >>> 0, true);
  }
  if (kind === 'timer') {
    v.setUint32(off + 24, info.pid >>> 0, true); // ssi_tid: the timer id
    v.setUint32(off + 32, info.uid >>> 0, true); // ssi_overrun
  }
  if (kind === 'timer' || kind === 'rt') {
    v.setInt32(off + 44, Number(BigInt.asIntN(32, info.value)), true); // ssi_int
    v.setBigUint64(off + 48, info.value, true); // ssi_ptr
  }
  if (kind === 'chld') v.setInt32(off + 40, info.status, true);
  if (kind === 'poll') {
    v.setInt32(off + 20, info.fd ?? 0, true); // ssi_fd
    v.setUint32(off + 28, (info.band ?? 0) >>> 0, true); // ssi_band
  }
  if (kind === 'fault') v.setBigUint64(off + 72, BigInt(info.addr), true);
}

/** Take the first pending signal in mask: the thread's own first, then its process's. */
function take(t: Task, mask: bigint): SigInfo | undefined {
  let sig = t.pending.next(~mask);
  if (sig !== 0) return t.pending.take(sig);
  sig = t.tg.pending.next(~mask);
  return sig !== 0 ? t.tg.pending.take(sig) : undefined;
}

export class SignalFd extends FileDescription {
  override readonly reopenErrno = ENXIO;
  private readonly owner: AnonOwner;

  constructor(private readonly creator: Task, public mask: bigint, flags: number) {
    super(O_RDWR | (flags & O_NONBLOCK));
    this.owner = anonOwner(creator);
  }

  /** A new mask through signalfd4 on this fd: waiters look again. */
  setMask(mask: bigint): void {
    this.mask = mask;
    signalfdQueue(this.creator.tg).notify(POLLIN);
  }

  override read(t: Task, dst: Uint8Array, _offset: number): number | Promise<number> {
    const max = Math.floor(dst.length / SIGNALFD_SIGINFO_SIZE);
    if (max === 0) fail(EINVAL);
    const v = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
    let n = 0;
    while (n < max) {
      const info = take(t, this.mask);
      if (!info) break;
      dst.fill(0, n * SIGNALFD_SIGINFO_SIZE, (n + 1) * SIGNALFD_SIGINFO_SIZE);
      encode(info, v, n * SIGNALFD_SIGINFO_SIZE);
      n++;
    }
    if (n > 0) return n * SIGNALFD_SIGINFO_SIZE;
    if (this.flags & O_NONBLOCK) fail(EAGAIN);
    return block<void>(t, (wake) => signalfdQueue(t.tg).subscribe(POLLIN, () => {
      if (this.pendingFor(t)) wake();
    })).then(() => this.read(t, dst, -1));
  }

  private pendingFor(t: Task): boolean {
    return ((t.pending.set | t.tg.pending.set) & this.mask) !== 0n;
  }

  override get pollable(): boolean { return true; }

  override readiness(_mask: number): number {
    const cur = this.creator.kernel.current ?? this.creator;
    return this.pendingFor(cur) ? POLLIN | POLLRDNORM : 0;
  }

  override addWaiter(mask: number, cb: ReadinessCallback): () => void {
    return signalfdQueue(this.creator.tg).subscribe(mask, cb);
  }

  override stat(): Stat { return anonInodeStat(this.owner); }
  override describe(): string { return 'anon_inode:[signalfd]'; }
  /** noop_llseek: the position never moves from 0, and every seek says so. */
  override lseek(): number { return 0; }
}
