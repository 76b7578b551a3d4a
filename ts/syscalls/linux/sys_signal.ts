// rt_sigaction, rt_sigprocmask, sigaltstack (Linux kernel/signal.c): the signal state a task
// sets up. Checks and their order follow Linux: sigsetsize first, then copying in, then the
// signal number, then copying out.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENOMEM, EPERM } from '../../abi/linux/errno';
import {
  MINSIGSTKSZ, SIGACTION_SIZE, SIGKILL, SIGSET_SIZE, SIGSTOP, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK,
  SS_AUTODISARM, SS_DISABLE, SS_FLAG_BITS, SS_ONSTACK, STACK_T_SIZE, UAPI_SA_FLAGS, UNBLOCKABLE, validSignal,
} from '../../abi/linux/signal';
import { SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_sigaltstack } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { altStack, setAltStack, signalActions, type SigAction } from './signal_state';

const KEPT_FLAGS = BigInt(UAPI_SA_FLAGS);

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

export function registerSignal(table: SyscallTable): void {
  table[SYS_rt_sigaction] = {
    name: 'rt_sigaction', handler: sysRtSigaction, args: ['signal', 'ptr', 'outptr', 'size'],
  };
  table[SYS_rt_sigprocmask] = {
    name: 'rt_sigprocmask', handler: sysRtSigprocmask, args: ['int', 'ptr', 'outptr', 'size'],
  };
  table[SYS_sigaltstack] = { name: 'sigaltstack', handler: sysSigaltstack, args: ['ptr', 'outptr'] };
}
