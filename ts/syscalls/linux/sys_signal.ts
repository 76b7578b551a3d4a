// rt_sigaction, rt_sigprocmask, sigaltstack, rt_sigpending, rt_sigsuspend, pause,
// rt_sigtimedwait, rt_sigreturn (Linux kernel/signal.c, arch/x86/kernel/signal_64.c): the
// signal state a task sets up and the waits on it. Checks and their order follow Linux:
// sigsetsize first, then copying in, then the signal number, then copying out.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EAGAIN, EINTR, EINVAL, ENOMEM, EPERM, ERESTARTNOHAND } from '../../abi/linux/errno';
import {
  MINSIGSTKSZ, SIGACTION_SIZE, SIGKILL, SIGSET_SIZE, SIGSTOP, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK,
  SS_AUTODISARM, SS_DISABLE, SS_FLAG_BITS, SS_ONSTACK, STACK_T_SIZE, UAPI_SA_FLAGS, UNBLOCKABLE, validSignal,
} from '../../abi/linux/signal';
import {
  SYS_pause, SYS_rt_sigaction, SYS_rt_sigpending, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_rt_sigsuspend,
  SYS_rt_sigtimedwait, SYS_sigaltstack,
} from '../../abi/linux/syscall_numbers';
import { SIG_DFL, SIG_IGN, sigBit } from '../../abi/linux/signal';
import { block } from '../../kernel/blocking';
import { defaultAction } from '../../kernel/signals';
import { restoreSignalFrame } from '../../kernel/signal_frame';
import { encodeSigInfo } from '../../kernel/signal_frame';
import type { SigInfo } from '../../kernel/sig_pending';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { altStack, setAltStack, signalActions, type SigAction } from './signal_state';
import { copyInTimespec, timespecToNs, timespecValid } from './timespec';

// Unsigned: glibc sign-extends an int sa_flags with SA_RESETHAND (bit 31) into the upper half,
// which Linux clears (its UAPI_SA_FLAGS is unsigned); kept, they made Number(flags) lose SA_SIGINFO.
const KEPT_FLAGS = BigInt(UAPI_SA_FLAGS >>> 0);

function decodeSigaction(b: Uint8Array): SigAction {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    handler: v.getBigUint64(0, true), flags: v.getBigUint64(8, true),
    restorer: v.getBigUint64(16, true), mask: v.getBigUint64(24, true),
  };
}

function encodeSigaction(s: SigAction): Uint8Array {
  const b = new Uint8Array(SIGACTION_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, s.handler, true);
  v.setBigUint64(8, s.flags & KEPT_FLAGS, true);
  v.setBigUint64(16, s.restorer, true);
  v.setBigUint64(24, s.mask, true);
  return b;
}

function sysRtSigaction(t: Task, a: SyscallArgs): number {
  const sig = a.int(0);
  const actAddr = a.ptr(1);
  const oldAddr = a.ptr(2);
  if (a.size(3) !== SIGSET_SIZE) fail(EINVAL);
  const next = actAddr !== 0 ? decodeSigaction(t.mm.copyIn(actAddr, SIGACTION_SIZE)) : null;
  if (!validSignal(sig) || (next && (sig === SIGKILL || sig === SIGSTOP))) fail(EINVAL);
  const table = signalActions(t.tg);
  const old = table[sig];
  if (next) {
    // Unknown flag bits are dropped so that programs can probe for support (Linux 5.11+).
    table[sig] = { ...next, flags: next.flags & KEPT_FLAGS, mask: next.mask & ~UNBLOCKABLE };
    // POSIX: making a pending signal ignored discards it.
    const h = next.handler;
    if (h === SIG_IGN || (h === SIG_DFL && defaultAction(sig) === 'ignore')) {
      t.tg.pending.discard(sigBit(sig));
      for (const task of t.tg.tasks) task.pending.discard(sigBit(sig));
    }
  }
  if (oldAddr !== 0) t.mm.copyOut(oldAddr, encodeSigaction(old));
  return 0;
}

function sysRtSigprocmask(t: Task, a: SyscallArgs): number {
  const how = a.int(0);
  const setAddr = a.ptr(1);
  const oldAddr = a.ptr(2);
  if (a.size(3) !== SIGSET_SIZE) fail(EINVAL);
  const old = t.sigMask;
  if (setAddr !== 0) {
    const set = t.mm.readU64(setAddr) & ~UNBLOCKABLE;
    switch (how) {
      case SIG_BLOCK: t.sigMask = old | set; break;
      case SIG_UNBLOCK: t.sigMask = old & ~set; break;
      case SIG_SETMASK: t.sigMask = set; break;
      default: fail(EINVAL);
    }
  }
  if (oldAddr !== 0) t.mm.writeU64(oldAddr, old);
  return 0;
}

/** Whether the task is running on its alternate stack (on_sig_stack). With SS_AUTODISARM
 *  Linux never says so: the stack is disarmed while a handler runs on it. */
function onAltStack(t: Task): boolean {
  const s = altStack(t);
  if (s.size === 0 || (s.flags & SS_AUTODISARM)) return false;
  return t.sp > s.sp && t.sp - s.sp <= s.size;
}

function sysSigaltstack(t: Task, a: SyscallArgs): number {
  const ssAddr = a.ptr(0);
  const oldAddr = a.ptr(1);
  let next: { sp: number; flags: number; size: number } | null = null;
  if (ssAddr !== 0) {
    const b = t.mm.copyIn(ssAddr, STACK_T_SIZE);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    next = {
      sp: Number(v.getBigUint64(0, true)),
      flags: v.getUint32(8, true),
      size: Number(v.getBigUint64(16, true)),
    };
  }
  const cur = altStack(t);
  const onStack = onAltStack(t);
  const oldFlags = (cur.size === 0 ? SS_DISABLE : onStack ? SS_ONSTACK : 0) | (cur.flags & SS_FLAG_BITS);
  const old = { sp: cur.sp, flags: oldFlags, size: cur.size };
  if (next) {
    if (onStack) fail(EPERM);
    const mode = next.flags & ~SS_FLAG_BITS;
    // SS_ONSTACK is accepted as a synonym for 0, for old programs.
    if (mode !== SS_DISABLE && mode !== SS_ONSTACK && mode !== 0) fail(EINVAL);
    if (mode === SS_DISABLE) {
      setAltStack(t, { sp: 0, flags: SS_DISABLE, size: 0 });
    } else {
      if (next.size < MINSIGSTKSZ) fail(ENOMEM);
      setAltStack(t, { sp: next.sp, flags: next.flags & SS_FLAG_BITS, size: next.size });
    }
  }
  if (oldAddr !== 0) {
    const b = new Uint8Array(STACK_T_SIZE);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, BigInt(old.sp), true);
    v.setUint32(8, old.flags >>> 0, true);
    v.setBigUint64(16, BigInt(old.size), true);
    t.mm.copyOut(oldAddr, b);
  }
  return 0;
}

function sysRtSigpending(t: Task, a: SyscallArgs): number {
  if (a.size(1) > SIGSET_SIZE) fail(EINVAL);
  const set = (t.pending.set | t.tg.pending.set) & t.sigMask;
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, set, true);
  t.mm.copyOut(a.ptr(0), b.subarray(0, a.size(1)));
  return 0;
}

/** Sleep until a signal arrives; delivery restores the mask the frame saved. */
function waitForSignal(t: Task): Promise<number> {
  return block<number>(t, () => () => {}, { restart: ERESTARTNOHAND });
}

function sysRtSigsuspend(t: Task, a: SyscallArgs): SyscallReturn {
  if (a.size(1) !== SIGSET_SIZE) fail(EINVAL);
  const mask = t.mm.readU64(a.ptr(0)) & ~UNBLOCKABLE;
  t.savedMask = t.sigMask;
  t.sigMask = mask;
  return waitForSignal(t);
}

function sysPause(t: Task): SyscallReturn {
  return waitForSignal(t);
}

/** Take a pending signal from `set` (the thread's first, then the process's). */
function takeFrom(t: Task, set: bigint): SigInfo | undefined {
  let sig = t.pending.next(~set);
  if (sig !== 0) return t.pending.take(sig);
  sig = t.tg.pending.next(~set);
  return sig !== 0 ? t.tg.pending.take(sig) : undefined;
}

function reportWaited(t: Task, infoAddr: number, info: SigInfo): number {
  if (infoAddr !== 0) t.mm.copyOut(infoAddr, encodeSigInfo(info));
  return info.signo;
}

/** rt_sigtimedwait(set, info, timeout, sigsetsize): the waited signals are unblocked while
 *  waiting (real_blocked keeps the old mask), so they wake the task instead of a handler. */
function sysRtSigtimedwait(t: Task, a: SyscallArgs): SyscallReturn {
  if (a.size(3) !== SIGSET_SIZE) fail(EINVAL);
  const set = t.mm.readU64(a.ptr(0)) & ~UNBLOCKABLE;
  const infoAddr = a.ptr(1);
  let timeout: bigint | undefined;
  if (a.ptr(2) !== 0) {
    const ts = copyInTimespec(t, a.ptr(2));
    if (!timespecValid(ts)) fail(EINVAL);
    timeout = timespecToNs(ts);
  }
  const now = takeFrom(t, set);
  if (now) return reportWaited(t, infoAddr, now);
  if (timeout === 0n) fail(EAGAIN);
  const old = t.sigMask;
  t.realBlocked = old;
  t.sigMask = old & ~set;
  const restore = (): void => {
    t.sigMask = old;
    t.realBlocked = null;
  };
  return block<boolean>(t, () => () => {}, { restart: EINTR, timeoutNs: timeout }, () => false).then(
    () => {
      restore();
      const got = takeFrom(t, set);
      if (!got) fail(EAGAIN);
      return reportWaited(t, infoAddr, got);
    },
    (e: unknown) => {
      restore();
      const got = takeFrom(t, set);
      if (got) {
        t.syscallRestart = 0;
        return reportWaited(t, infoAddr, got);
      }
      throw e;
    },
  );
}

/** rt_sigreturn: back to where the signal interrupted; a bad frame is SIGSEGV. */
function sysRtSigreturn(t: Task): bigint {
  const rax = restoreSignalFrame(t);
  if (rax === false) {
    t.kernel.killThreadGroup(t.tg, 11);
    return 0n;
  }
  return rax;
}

export function registerSignal(table: SyscallTable): void {
  table[SYS_rt_sigpending] = { name: 'rt_sigpending', handler: sysRtSigpending, args: ['outptr', 'size'] };
  table[SYS_rt_sigsuspend] = { name: 'rt_sigsuspend', handler: sysRtSigsuspend, args: ['ptr', 'size'] };
  table[SYS_pause] = { name: 'pause', handler: sysPause, args: [] };
  table[SYS_rt_sigtimedwait] = {
    name: 'rt_sigtimedwait', handler: sysRtSigtimedwait, args: ['ptr', 'outptr', 'timespec', 'size'],
  };
  table[SYS_rt_sigreturn] = { name: 'rt_sigreturn', handler: sysRtSigreturn, args: [] };
  table[SYS_rt_sigaction] = {
    name: 'rt_sigaction', handler: sysRtSigaction, args: ['signal', 'ptr', 'outptr', 'size'],
  };
  table[SYS_rt_sigprocmask] = {
    name: 'rt_sigprocmask', handler: sysRtSigprocmask, args: ['int', 'ptr', 'outptr', 'size'],
  };
  table[SYS_sigaltstack] = { name: 'sigaltstack', handler: sysSigaltstack, args: ['ptr', 'outptr'] };
}
