// ptrace(2) (Linux kernel/ptrace.c ptrace_request, arch/x86/kernel/ptrace.c arch_ptrace):
// decodes a request, finds the tracee, checks that the caller is its tracer and that it is
// stopped (ptrace_check_attach), and hands the work to kernel/ptrace/. Between sandboxed
// processes only: the sentry's own platform tracing of stubs is another matter.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EIO, EPERM, ESRCH } from '../../abi/linux/errno';
import { SYS_ptrace } from '../../abi/linux/syscall_numbers';
import { UNBLOCKABLE } from '../../abi/linux/signal';
import { REG_EFLAGS, REG_FS_BASE, REG_GS_BASE } from '../../native/addon';
import { readRemote, writeRemote } from '../../mm/remote_access';
import { encodeSigInfo } from '../../kernel/signal_frame';
import { sigInfo } from '../../kernel/sig_pending';
import { PTRACE_EVENT_STOP, PTRACE_O_MASK, type ResumeMode } from '../../kernel/ptrace/link';
import { ptraceAttach, ptraceDetach, ptraceKill, ptraceTraceme } from '../../kernel/ptrace/attach';
import { resumeTracee } from '../../kernel/ptrace/stop';
import {
  FXSAVE_SIZE, NT_PRFPREG, NT_PRSTATUS, NT_X86_XSTATE, USER_REGS_SIZE, getFpregs, getRegs,
  getXstate, peekUser, pokeUser, setFpregs, setRegs, setXstate,
} from '../../kernel/ptrace/regs';
import { syscallInfo } from '../../kernel/ptrace/syscall_info';
import type { SyscallArgs, SyscallTable } from './types';
import { findTask, findThreadGroup } from '../../kernel/ns/pid_ns';

const PTRACE_TRACEME = 0, PTRACE_PEEKTEXT = 1, PTRACE_PEEKDATA = 2, PTRACE_PEEKUSR = 3,
  PTRACE_POKETEXT = 4, PTRACE_POKEDATA = 5, PTRACE_POKEUSR = 6, PTRACE_CONT = 7, PTRACE_KILL = 8,
  PTRACE_SINGLESTEP = 9, PTRACE_GETREGS = 12, PTRACE_SETREGS = 13, PTRACE_GETFPREGS = 14,
  PTRACE_SETFPREGS = 15, PTRACE_ATTACH = 16, PTRACE_DETACH = 17, PTRACE_SYSCALL = 24,
  PTRACE_ARCH_PRCTL = 30, PTRACE_SYSEMU = 31, PTRACE_SYSEMU_SINGLESTEP = 32,
  PTRACE_SETOPTIONS = 0x4200, PTRACE_GETEVENTMSG = 0x4201, PTRACE_GETSIGINFO = 0x4202,
  PTRACE_SETSIGINFO = 0x4203, PTRACE_GETREGSET = 0x4204, PTRACE_SETREGSET = 0x4205,
  PTRACE_SEIZE = 0x4206, PTRACE_INTERRUPT = 0x4207, PTRACE_LISTEN = 0x4208,
  PTRACE_PEEKSIGINFO = 0x4209, PTRACE_GETSIGMASK = 0x420a, PTRACE_SETSIGMASK = 0x420b, PTRACE_GET_SYSCALL_INFO = 0x420e;

const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004;

function putWord(t: Task, addr: bigint, v: bigint): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  t.mm.copyOut(Number(addr), b);
}

/** A 64-bit user address as a number; past the address space it is EFAULT anyway. */
function uaddr(v: bigint): number {
  return v >= (1n << 53n) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** The tracee named by pid, if the caller traces it and (unless ignoreState) it is stopped. */
function checkAttach(t: Task, pid: number, ignoreState: boolean): Task {
  const child = pid > 0 ? findTask(t, pid) : undefined;
  const l = child?.ptrace;
  if (!child || !l || l.tracer !== t) fail(ESRCH);
  if (!ignoreState && (!l.stopped || child.exited && l.stopKind !== 'exit')) fail(ESRCH);
  return child;
}

const X86_EFLAGS_TF = 0x100n;

function resume(child: Task, mode: ResumeMode, data: bigint, step = false): number {
  if (data > 64n) fail(EIO); // valid_signal
  const l = child.ptrace!;
  l.mode = mode;
  l.step = step;
  // user_enable_single_step / user_disable_single_step.
  if (step && (child.regs[REG_EFLAGS] & X86_EFLAGS_TF) === 0n) {
    child.regs[REG_EFLAGS] |= X86_EFLAGS_TF;
    l.forcedTF = true;
  } else if (!step && l.forcedTF) {
    child.regs[REG_EFLAGS] &= ~X86_EFLAGS_TF;
    l.forcedTF = false;
  }
  resumeTracee(child, Number(data));
  return 0;
}

function peekData(child: Task, t: Task, addr: bigint, data: bigint): number {
  const b = new Uint8Array(8);
  if (readRemote(child.mm, uaddr(addr), b) !== 8) fail(EIO);
  t.mm.copyOut(uaddr(data), b);
  return 0;
}

function pokeData(child: Task, addr: bigint, data: bigint): number {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, data, true);
  if (writeRemote(child.mm, uaddr(addr), b) !== 8) fail(EIO);
  return 0;
}

/** GETREGSET/SETREGSET: data points at a struct iovec; its length must be a whole number of
 *  the regset's elements and is trimmed to the regset's size. */
function regset(t: Task, child: Task, type: bigint, iovAddr: bigint, set: boolean): number {
  const iov = t.mm.copyIn(uaddr(iovAddr), 16);
  const v = new DataView(iov.buffer, iov.byteOffset, 16);
  const base = v.getBigUint64(0, true);
  const len = v.getBigUint64(8, true);
  let size: number, unit: number;
  switch (type) {
    case BigInt(NT_PRSTATUS): size = USER_REGS_SIZE; unit = 8; break;
    case BigInt(NT_PRFPREG): size = FXSAVE_SIZE; unit = 16; break;
    case BigInt(NT_X86_XSTATE): size = child.ctx.getFpState().length; unit = 8; break;
    default: fail(EINVAL);
  }
  if (len % BigInt(unit) !== 0n) fail(EINVAL);
  const n = Number(len < BigInt(size) ? len : BigInt(size));
  if (set) {
    // A partial write keeps the rest of the set as it is.
    const cur = type === BigInt(NT_PRSTATUS) ? getRegs(child) : type === BigInt(NT_PRFPREG) ? getFpregs(child) : getXstate(child);
    cur.set(t.mm.copyIn(uaddr(base), n));
    if (type === BigInt(NT_PRSTATUS)) setRegs(child, cur);
    else if (type === BigInt(NT_PRFPREG)) setFpregs(child, cur);
    else setXstate(child, cur);
  } else {
    const cur = type === BigInt(NT_PRSTATUS) ? getRegs(child) : type === BigInt(NT_PRFPREG) ? getFpregs(child) : getXstate(child);
    t.mm.copyOut(uaddr(base), cur.subarray(0, n));
  }
  putWord(t, iovAddr + 8n, BigInt(n));
  return 0;
}

/** PTRACE_SETSIGINFO: the fields tsvisor's siginfo keeps, read as the union the signal and
 *  code select. */
function setSiginfo(t: Task, child: Task, addr: bigint): number {
  const b = t.mm.copyIn(uaddr(addr), 128);
  const v = new DataView(b.buffer, b.byteOffset, 128);
  const l = child.ptrace!;
  const signo = v.getInt32(0, true), code = v.getInt32(8, true);
  const fault = code > 0 && code < 0x80;
  l.siginfo = sigInfo(signo, code, {
    errno: v.getInt32(4, true),
    pid: fault ? 0 : v.getInt32(16, true),
    uid: fault ? 0 : v.getUint32(20, true),
    addr: fault ? Number(v.getBigUint64(16, true)) : 0,
    status: v.getInt32(24, true),
    value: v.getBigUint64(24, true),
  });
  return 0;
}

const PTRACE_PEEKSIGINFO_SHARED = 1;

/** PTRACE_PEEKSIGINFO: nr queued siginfos from off, the thread's or (SHARED) the process's;
 *  how many were copied, EFAULT if none could be. */
function peekSiginfo(t: Task, child: Task, addr: bigint, data: bigint): number {
  const a = t.mm.copyIn(uaddr(addr), 16);
  const v = new DataView(a.buffer, a.byteOffset, 16);
  const off = v.getBigUint64(0, true), flags = v.getUint32(8, true), nr = v.getInt32(12, true);
  if ((flags & ~PTRACE_PEEKSIGINFO_SHARED) !== 0 || nr < 0) fail(EINVAL);
  const q = (flags & PTRACE_PEEKSIGINFO_SHARED) !== 0 ? child.tg.pending.entries() : child.pending.entries();
  let i = 0;
  for (; i < nr && off + BigInt(i) < BigInt(q.length); i++) {
    try {
      t.mm.copyOut(uaddr(data) + i * 128, encodeSigInfo(q[Number(off) + i]));
    } catch (e) {
      if (i === 0) throw e;
      break;
    }
  }
  return i;
}

function archPrctl(t: Task, child: Task, addr: bigint, code: bigint): number {
  switch (code) {
    case BigInt(ARCH_GET_FS): putWord(t, addr, child.regs[REG_FS_BASE]); return 0;
    case BigInt(ARCH_GET_GS): putWord(t, addr, child.regs[REG_GS_BASE]); return 0;
    case BigInt(ARCH_SET_FS): pokeUser(child, REG_FS_BASE * 8, addr); return 0;
    case BigInt(ARCH_SET_GS): pokeUser(child, REG_GS_BASE * 8, addr); return 0;
    default: fail(EINVAL);
  }
}

function sysPtrace(t: Task, a: SyscallArgs): number {
  const req = a.long(0);
  const pid = a.int(1);
  const addr = a.u64(2);
  const data = a.u64(3);
  if (req === PTRACE_TRACEME) return ptraceTraceme(t);
  if (req === PTRACE_ATTACH || req === PTRACE_SEIZE) {
    const target = pid > 0 ? findTask(t, pid) : undefined;
    if (!target) {
      // A zombie is still there to find, but it is exiting.
      if (pid > 0 && findThreadGroup(t, pid)?.zombie === true) fail(EPERM);
      fail(ESRCH);
    }
    return ptraceAttach(t, target, req === PTRACE_SEIZE, addr, data);
  }
  const child = checkAttach(t, pid, req === PTRACE_KILL || req === PTRACE_INTERRUPT);
  const l = child.ptrace!;
  switch (req) {
    case PTRACE_PEEKTEXT: case PTRACE_PEEKDATA: return peekData(child, t, addr, data);
    case PTRACE_POKETEXT: case PTRACE_POKEDATA: return pokeData(child, addr, data);
    case PTRACE_PEEKUSR:
      putWord(t, data, peekUser(child, addr >= (1n << 31n) ? -1 : Number(addr)));
      return 0;
    case PTRACE_POKEUSR:
      pokeUser(child, addr >= (1n << 31n) ? -1 : Number(addr), data);
      return 0;
    case PTRACE_GETREGS: t.mm.copyOut(uaddr(data), getRegs(child)); return 0;
    case PTRACE_SETREGS: setRegs(child, t.mm.copyIn(uaddr(data), USER_REGS_SIZE)); return 0;
    case PTRACE_GETFPREGS: t.mm.copyOut(uaddr(data), getFpregs(child)); return 0;
    case PTRACE_SETFPREGS: setFpregs(child, t.mm.copyIn(uaddr(data), FXSAVE_SIZE)); return 0;
    case PTRACE_GETREGSET: return regset(t, child, addr, data, false);
    case PTRACE_SETREGSET: return regset(t, child, addr, data, true);
    case PTRACE_ARCH_PRCTL: return archPrctl(t, child, addr, data);
    case PTRACE_CONT: return resume(child, 'cont', data);
    case PTRACE_SYSCALL: return resume(child, 'syscall', data);
    case PTRACE_SYSEMU: return resume(child, 'sysemu', data);
    case PTRACE_SINGLESTEP: return resume(child, 'cont', data, true);
    case PTRACE_SYSEMU_SINGLESTEP: return resume(child, 'sysemu', data, true);
    case PTRACE_KILL: ptraceKill(child); return 0;
    case PTRACE_DETACH:
      if (data > 64n) fail(EIO);
      ptraceDetach(child, Number(data));
      return 0;
    case PTRACE_SETOPTIONS:
      if ((data & ~BigInt(PTRACE_O_MASK)) !== 0n) fail(EINVAL);
      l.options = Number(data);
      return 0;
    case PTRACE_GETEVENTMSG: putWord(t, data, l.eventMsg); return 0;
    case PTRACE_GETSIGINFO:
      if (l.siginfo === null) fail(EINVAL);
      t.mm.copyOut(uaddr(data), encodeSigInfo(l.siginfo));
      return 0;
    case PTRACE_SETSIGINFO:
      if (l.siginfo === null) fail(EINVAL);
      return setSiginfo(t, child, data);
    case PTRACE_PEEKSIGINFO: return peekSiginfo(t, child, addr, data);
    case PTRACE_GETSIGMASK:
      if (addr !== 8n) fail(EINVAL);
      putWord(t, data, child.sigMask);
      return 0;
    case PTRACE_SETSIGMASK: {
      if (addr !== 8n) fail(EINVAL);
      const b = t.mm.copyIn(uaddr(data), 8);
      child.sigMask = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true) & ~UNBLOCKABLE;
      return 0;
    }
    case PTRACE_INTERRUPT:
      if (!l.seized) fail(EIO);
      // JOBCTL_TRAP_STOP: a running tracee traps at its next return to user mode (a wait
      // it is in gives way, to be restarted); a stopped one once resumed.
      l.trapPending = true;
      if (l.listening) l.wake?.();
      else if (!l.stopped) child.kick();
      return 0;
    case PTRACE_LISTEN:
      if (!l.seized) fail(EIO);
      if (l.siginfo === null || (l.siginfo.code >> 8) !== PTRACE_EVENT_STOP) fail(EIO);
      l.stopped = false;
      l.listening = true;
      // A SIGCONT (or INTERRUPT) already owed ends the listen at once.
      if (l.trapPending) l.wake?.();
      return 0;
    case PTRACE_GET_SYSCALL_INFO: {
      const info = syscallInfo(child);
      t.mm.copyOut(uaddr(data), info.subarray(0, Math.min(info.length, uaddr(addr))));
      return info.length;
    }
    default:
      fail(EIO);
  }
}

export function registerPtrace(table: SyscallTable): void {
  table[SYS_ptrace] = { name: 'ptrace', handler: sysPtrace, args: ['long', 'int', 'hex', 'hex'] };
}

