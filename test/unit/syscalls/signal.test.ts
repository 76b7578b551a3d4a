import { describe, it, expect } from 'vitest';
import * as N from '../../../ts/abi/linux/syscall_numbers';
import { EFAULT, EINVAL, ENOMEM, ESRCH } from '../../../ts/abi/linux/errno';
import {
  SA_RESTORER, SA_SIGINFO, SA_UNSUPPORTED, SIGABRT, SIGCHLD, SIGKILL, SIGSTOP, SIGTERM, SIGUSR1,
  SIG_BLOCK, SIG_IGN, SIG_SETMASK, SIG_UNBLOCK, SS_AUTODISARM, SS_DISABLE, sigBit,
} from '../../../ts/abi/linux/signal';
import { signalActions } from '../../../ts/syscalls/linux/signal_state';
import { newTask, sys } from './fakes';

const BUF = 0x10000;

function setup(opts: Parameters<typeof newTask>[0] = {}) {
  const p = newTask(opts);
  p.mm.map(BUF, 0x2000);
  return p;
}

function putAction(p: ReturnType<typeof setup>, addr: number, handler: bigint, flags: number, mask: bigint): void {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, handler, true);
  v.setBigUint64(8, BigInt(flags >>> 0), true);
  v.setBigUint64(16, 0x401000n, true);
  v.setBigUint64(24, mask, true);
  p.mm.putBytes(addr, b);
}


describe('rt_sigaction', () => {
  it('stores the action and returns the old one; unknown flags are dropped', () => {
    const p = setup();
    putAction(p, BUF, 0x401234n, SA_SIGINFO | SA_RESTORER | SA_UNSUPPORTED, sigBit(SIGKILL) | sigBit(SIGUSR1));
    expect(sys(p.t, N.SYS_rt_sigaction, SIGTERM, BUF, 0, 8)).toBe(0);
    expect(sys(p.t, N.SYS_rt_sigaction, SIGTERM, 0, BUF + 100, 8)).toBe(0);
    const v = new DataView(p.mm.copyIn(BUF + 100, 32).buffer);
    expect(v.getBigUint64(0, true)).toBe(0x401234n);
    expect(v.getBigUint64(8, true)).toBe(BigInt(SA_SIGINFO | SA_RESTORER));
    expect(v.getBigUint64(16, true)).toBe(0x401000n);
    expect(v.getBigUint64(24, true)).toBe(sigBit(SIGUSR1)); // SIGKILL cannot be masked
  });

  it('EINVAL for a bad sigsetsize, signal number, or setting SIGKILL/SIGSTOP', () => {
    const p = setup();
    putAction(p, BUF, 0x401234n, 0, 0n);
    expect(sys(p.t, N.SYS_rt_sigaction, SIGTERM, BUF, 0, 4)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_rt_sigaction, 0, BUF, 0, 8)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_rt_sigaction, 65, BUF, 0, 8)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_rt_sigaction, SIGKILL, BUF, 0, 8)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_rt_sigaction, SIGSTOP, BUF, 0, 8)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_rt_sigaction, SIGKILL, 0, BUF + 100, 8)).toBe(0); // reading is fine
    expect(sys(p.t, N.SYS_rt_sigaction, SIGTERM, 0x900000, 0, 8)).toBe(-EFAULT);
  });
});

describe('rt_sigprocmask', () => {
  it('blocks, unblocks and sets; SIGKILL and SIGSTOP stay unblocked', () => {
    const p = setup();
    p.mm.writeU64(BUF, sigBit(SIGUSR1) | sigBit(SIGKILL) | sigBit(SIGSTOP));
    expect(sys(p.t, N.SYS_rt_sigprocmask, SIG_BLOCK, BUF, 0, 8)).toBe(0);
    expect(p.t.sigMask).toBe(sigBit(SIGUSR1));
    p.mm.writeU64(BUF, sigBit(SIGTERM));
    expect(sys(p.t, N.SYS_rt_sigprocmask, SIG_BLOCK, BUF, BUF + 8, 8)).toBe(0);
    expect(p.mm.readU64(BUF + 8)).toBe(sigBit(SIGUSR1));
    p.mm.writeU64(BUF, sigBit(SIGUSR1));
    expect(sys(p.t, N.SYS_rt_sigprocmask, SIG_UNBLOCK, BUF, 0, 8)).toBe(0);
    expect(p.t.sigMask).toBe(sigBit(SIGTERM));
    p.mm.writeU64(BUF, 0n);
    expect(sys(p.t, N.SYS_rt_sigprocmask, SIG_SETMASK, BUF, 0, 8)).toBe(0);
    expect(p.t.sigMask).toBe(0n);
  });

  it('EINVAL for a bad how (only with a set) or sigsetsize', () => {
    const p = setup();
    p.mm.writeU64(BUF, 1n);
    expect(sys(p.t, N.SYS_rt_sigprocmask, 7, BUF, 0, 8)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_rt_sigprocmask, 7, 0, BUF, 8)).toBe(0);
    expect(sys(p.t, N.SYS_rt_sigprocmask, SIG_BLOCK, BUF, 0, 16)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_rt_sigprocmask, SIG_BLOCK, 0x900000, 0, 8)).toBe(-EFAULT);
  });
});

describe('sigaltstack', () => {
  function putStack(p: ReturnType<typeof setup>, sp: number, flags: number, size: number): void {
    const b = new Uint8Array(24);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, BigInt(sp), true);
    v.setUint32(8, flags >>> 0, true);
    v.setBigUint64(16, BigInt(size), true);
    p.mm.putBytes(BUF, b);
  }
  const oldStack = (p: ReturnType<typeof setup>): [bigint, number, bigint] => {
    const v = new DataView(p.mm.copyIn(BUF + 100, 24).buffer);
    return [v.getBigUint64(0, true), v.getUint32(8, true), v.getBigUint64(16, true)];
  };

  it('starts disabled, records a stack, reports it back', () => {
    const p = setup();
    expect(sys(p.t, N.SYS_sigaltstack, 0, BUF + 100)).toBe(0);
    expect(oldStack(p)).toEqual([0n, SS_DISABLE, 0n]);
    putStack(p, 0x700000, SS_AUTODISARM, 0x4000);
    expect(sys(p.t, N.SYS_sigaltstack, BUF, BUF + 100)).toBe(0);
    expect(oldStack(p)).toEqual([0n, SS_DISABLE, 0n]);
    expect(sys(p.t, N.SYS_sigaltstack, 0, BUF + 100)).toBe(0);
    expect(oldStack(p)).toEqual([0x700000n, SS_AUTODISARM, 0x4000n]);
  });

  it('ENOMEM below MINSIGSTKSZ, EINVAL for unknown flags', () => {
    const p = setup();
    putStack(p, 0x700000, 0, 1024);
    expect(sys(p.t, N.SYS_sigaltstack, BUF, 0)).toBe(-ENOMEM);
    putStack(p, 0x700000, 0x10, 0x4000);
    expect(sys(p.t, N.SYS_sigaltstack, BUF, 0)).toBe(-EINVAL);
    putStack(p, 0, SS_DISABLE, 0);
    expect(sys(p.t, N.SYS_sigaltstack, BUF, 0)).toBe(0);
  });
});

describe('kill, tgkill, tkill', () => {
  it('signal 0 checks that the target exists', () => {
    const p = setup({ pid: 4 });
    expect(sys(p.t, N.SYS_kill, 4, 0)).toBe(0);
    expect(sys(p.t, N.SYS_kill, 0, 0)).toBe(0);
    expect(sys(p.t, N.SYS_kill, 9, 0)).toBe(-ESRCH);
    expect(sys(p.t, N.SYS_tgkill, 4, 4, 0)).toBe(0);
    expect(sys(p.t, N.SYS_tgkill, 3, 4, 0)).toBe(-ESRCH);
    expect(sys(p.t, N.SYS_tgkill, 0, 4, 0)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_tkill, 4, 0)).toBe(0);
    expect(sys(p.t, N.SYS_tkill, -4, 0)).toBe(-EINVAL);
    expect(sys(p.t, N.SYS_kill, 4, 65)).toBe(-EINVAL);
  });

  it('an ignored signal needs no delivery; a fatal default ends the process', () => {
    const p = setup({ pid: 4 });
    expect(sys(p.t, N.SYS_kill, 4, SIGCHLD)).toBe(0);
    signalActions(p.t.tg)[SIGUSR1].handler = SIG_IGN;
    expect(sys(p.t, N.SYS_kill, 4, SIGUSR1)).toBe(0);
    expect(p.kernel.killThreadGroup).not.toHaveBeenCalled();
    expect(sys(p.t, N.SYS_tgkill, 4, 4, SIGABRT)).toBe(0);
    expect(p.kernel.killThreadGroup).toHaveBeenCalledWith(p.t.tg, SIGABRT);
  });

  it('a handled or blocked signal is left pending for the thread or the process', () => {
    const p = setup({ pid: 4 });
    p.t.sigMask = sigBit(SIGTERM);
    expect(sys(p.t, N.SYS_kill, 4, SIGTERM)).toBe(0);
    expect(p.t.tg.pending.set).toBe(sigBit(SIGTERM));
    signalActions(p.t.tg)[SIGUSR1].handler = 0x401000n;
    expect(sys(p.t, N.SYS_tkill, 4, SIGUSR1)).toBe(0);
    expect(p.t.pending.set).toBe(sigBit(SIGUSR1));
    expect(p.kernel.killThreadGroup).not.toHaveBeenCalled();
    // rt_sigpending reports what is pending and blocked.
    expect(sys(p.t, N.SYS_rt_sigpending, BUF, 8)).toBe(0);
    expect(p.mm.readU64(BUF)).toBe(sigBit(SIGTERM));
  });
});
