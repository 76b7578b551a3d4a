// The x86-64 signal frame (Linux arch/x86/kernel/signal.c, signal_64.c, fpu/signal.c): what
// a handler finds on its stack, and rt_sigreturn, which undoes it. Layout, top of the frame
// first (lowest address):
//
//   rt_sigframe { pretcode (sa_restorer); ucontext uc; siginfo info; }   440 bytes
//   ucontext    { uc_flags; uc_link; stack_t uc_stack; sigcontext uc_mcontext; sigset }
//   ... then, 64-byte aligned above it, the XSAVE image that uc_mcontext.fpstate points to,
//   with the fpx_sw_bytes magic in its software-reserved bytes and FP_XSTATE_MAGIC2 after it.

import {
  REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15, REG_RDI, REG_RSI,
  REG_RBP, REG_RBX, REG_RDX, REG_RAX, REG_RCX, REG_RSP, REG_RIP, REG_EFLAGS, REG_CS, REG_SS,
  REG_ORIG_RAX,
} from '../native/addon';
import { SA_ONSTACK, SA_SIGINFO, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, UNBLOCKABLE, SIGSEGV, SIGBUS } from '../abi/linux/signal';
import { altStack, setAltStack, type SigAction } from '../syscalls/linux/signal_state';
import type { Task } from './task';
import type { SigInfo } from './sig_pending';
import { SIGCHLD, SIGFPE, SIGILL, SIGTRAP } from '../abi/linux/signal';

const UC_OFFSET = 8;
const UC_STACK = 16;          // within ucontext
const UC_MCONTEXT = 40;
const UC_SIGMASK = 296;
const UCONTEXT_SIZE = 304;
const INFO_OFFSET = UC_OFFSET + UCONTEXT_SIZE;
const SIGINFO_SIZE = 128;
export const RT_SIGFRAME_SIZE = INFO_OFFSET + SIGINFO_SIZE;
const REDZONE = 128;

/** uc_mcontext (struct sigcontext) slots, 8 bytes each, in the kernel's order. */
const SC_REGS = [REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15, REG_RDI, REG_RSI,
  REG_RBP, REG_RBX, REG_RDX, REG_RAX, REG_RCX, REG_RSP, REG_RIP, REG_EFLAGS];
const SC_CSGSFS = 144, SC_ERR = 152, SC_TRAPNO = 160, SC_OLDMASK = 168, SC_CR2 = 176, SC_FPSTATE = 184;

const UC_FP_XSTATE = 1, UC_SIGCONTEXT_SS = 2, UC_STRICT_RESTORE_SS = 4;
const FP_XSTATE_MAGIC1 = 0x46505853, FP_XSTATE_MAGIC2 = 0x46505845;
const SW_BYTES = 464;       // fpx_sw_bytes inside the legacy FXSAVE area
const XSTATE_BV = 512;      // the XSAVE header's feature bitmap
const FXSAVE_SIZE = 512;

// Flags a signal handler starts without, and those sigreturn lets the frame set (FIX_EFLAGS).
const EFLAGS_TF = 0x100n, EFLAGS_DF = 0x400n, EFLAGS_RF = 0x10000n;
const FIX_EFLAGS = 0x1n | 0x4n | 0x10n | 0x40n | 0x80n | 0x100n | 0x400n | 0x800n | 0x4000n | 0x10000n | 0x40000n;
const TRAP_PF = 14n;

/** Linux sas_ss_flags(sp): SS_DISABLE without a stack, SS_ONSTACK while on it. */
export function sigStackFlags(t: Task, sp: number): number {
  const s = altStack(t);
  if (s.size === 0) return SS_DISABLE;
  if ((s.flags & SS_AUTODISARM) !== 0) return 0;
  return sp > s.sp && sp - s.sp <= s.size ? SS_ONSTACK : 0;
}

const FAULT_SIGNALS = new Set([SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP]);

/** A kernel-generated fault (si_code > 0): the union holds si_addr. */
function isFaultInfo(info: SigInfo): boolean {
  return FAULT_SIGNALS.has(info.signo) && info.code > 0 && info.code < 0x80;
}

/** siginfo_t bytes: the union member each kind of signal uses. */
export function encodeSigInfo(info: SigInfo): Uint8Array {
  const b = new Uint8Array(SIGINFO_SIZE);
  const v = new DataView(b.buffer);
  v.setInt32(0, info.signo, true);
  v.setInt32(4, info.errno, true);
  v.setInt32(8, info.code, true);
  if (info.syscall !== undefined) {
    // SIGSYS from seccomp: _sigsys { si_call_addr, si_syscall, si_arch }.
    v.setBigUint64(16, BigInt(info.addr), true);
    v.setInt32(24, info.syscall, true);
    v.setUint32(28, (info.arch ?? 0) >>> 0, true);
  } else if (isFaultInfo(info)) {
    v.setBigUint64(16, BigInt(info.addr), true);
  } else if (info.band !== undefined) {
    v.setBigInt64(16, BigInt(info.band), true);
    v.setInt32(24, info.fd ?? 0, true);
  } else {
    v.setInt32(16, info.pid, true);
    v.setUint32(20, info.uid >>> 0, true);
    if (info.signo === SIGCHLD && info.code > 0) v.setInt32(24, info.status, true);
    else v.setBigUint64(24, info.value, true);
  }
  return b;
}

/** XSAVE image ready for the frame: the software bytes and magic that tell sigreturn (and
 *  the application) how big the image is. Returns the image including the 4 magic bytes. */
function frameFpImage(fp: Uint8Array): Uint8Array {
  const img = new Uint8Array(fp.length + 4);
  img.set(fp);
  const v = new DataView(img.buffer);
  const hasSw = fp.length >= SW_BYTES + 16 && v.getUint32(SW_BYTES, true) === FP_XSTATE_MAGIC1;
  let features = hasSw ? v.getBigUint64(SW_BYTES + 8, true) : 0n;
  if (fp.length > XSTATE_BV + 8) {
    if (!hasSw) features = v.getBigUint64(XSTATE_BV, true) | 3n;
    // x87 and SSE are always in the frame (xsave->header.xfeatures |= XFEATURE_MASK_FPSSE).
    v.setBigUint64(XSTATE_BV, v.getBigUint64(XSTATE_BV, true) | 3n, true);
  }
  v.setUint32(SW_BYTES, FP_XSTATE_MAGIC1, true);
  v.setUint32(SW_BYTES + 4, fp.length + 4, true);
  v.setBigUint64(SW_BYTES + 8, features, true);
  v.setUint32(SW_BYTES + 16, fp.length, true);
  for (let i = 20; i < 48; i++) img[SW_BYTES + i] = 0;
  v.setUint32(fp.length, FP_XSTATE_MAGIC2, true);
  return img;
}

/** The FPU state a handler starts with (fpu__clear_user_states): x87 and SSE at reset. */
export function initialFpState(like: Uint8Array): Uint8Array {
  const s = new Uint8Array(like.length);
  const v = new DataView(s.buffer);
  v.setUint16(0, 0x037f, true);        // FCW
  v.setUint32(24, 0x1f80, true);       // MXCSR
  v.setUint32(28, new DataView(like.buffer, like.byteOffset, like.byteLength).getUint32(28, true), true);
  if (s.length > XSTATE_BV + 8) v.setBigUint64(XSTATE_BV, 3n, true);
  return s;
}

/**
 * Push a frame for sig with action `act` and point the task at the handler. `oldMask` is the
 * mask the handler's return restores. False if the frame cannot be written (the caller then
 * forces SIGSEGV, as Linux does).
 */
export function setupSignalFrame(t: Task, info: SigInfo, act: SigAction, oldMask: bigint): boolean {
  const regs = t.regs;
  const flags = Number(act.flags);
  const origSp = t.sp;
  let sp = origSp - REDZONE;
  const alt = altStack(t);
  const altFlags = sigStackFlags(t, origSp);
  const nested = altFlags === SS_ONSTACK;
  let entering = false;
  if ((flags & SA_ONSTACK) !== 0 && sigStackFlags(t, sp) === 0) {
    sp = alt.sp + alt.size;
    entering = true;
  }

  let fp: Uint8Array;
  try {
    fp = t.ctx.getFpState();
  } catch {
    return false;
  }
  const img = frameFpImage(fp);
  const fpAddr = Math.floor((sp - img.length) / 64) * 64;
  const frame = Math.floor((fpAddr - RT_SIGFRAME_SIZE) / 16) * 16 - 8;
  // get_sigframe: a frame that would overflow the alternate stack is not written below it
  // (into whatever memory is there); the signal fails and SIGSEGV is forced.
  if ((nested || entering) && !(frame > alt.sp && frame - alt.sp <= alt.size)) return false;

  const b = new Uint8Array(RT_SIGFRAME_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, act.restorer, true);
  const uc = UC_OFFSET;
  v.setBigUint64(uc, BigInt(UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS), true);
  v.setBigUint64(uc + UC_STACK, BigInt(alt.sp), true);
  v.setInt32(uc + UC_STACK + 8, altFlags, true);
  v.setBigUint64(uc + UC_STACK + 16, BigInt(alt.size), true);
  const mc = uc + UC_MCONTEXT;
  SC_REGS.forEach((r, i) => v.setBigUint64(mc + i * 8, regs[r], true));
  v.setUint16(mc + SC_CSGSFS, Number(regs[REG_CS]), true);
  v.setUint16(mc + SC_CSGSFS + 6, Number(regs[REG_SS]), true);
  const isFault = (info.signo === SIGSEGV || info.signo === SIGBUS) && info.code > 0 && info.code < 0x80;
  if (isFault) {
    v.setBigUint64(mc + SC_TRAPNO, TRAP_PF, true);
    v.setBigUint64(mc + SC_ERR, 4n, true); // a user-mode access
    v.setBigUint64(mc + SC_CR2, BigInt(info.addr), true);
  }
  v.setBigUint64(mc + SC_OLDMASK, oldMask, true);
  v.setBigUint64(mc + SC_FPSTATE, BigInt(fpAddr), true);
  v.setBigUint64(uc + UC_SIGMASK, oldMask, true);
  if ((flags & SA_SIGINFO) !== 0) b.set(encodeSigInfo(info), INFO_OFFSET);
  try {
    t.mm.copyOut(fpAddr, img);
    t.mm.copyOut(frame, b);
  } catch {
    return false;
  }
  if (altFlags === 0 && (alt.flags & SS_AUTODISARM) !== 0) setAltStack(t, { sp: 0, flags: SS_DISABLE, size: 0 });

  regs[REG_RDI] = BigInt(info.signo);
  regs[REG_RAX] = 0n;
  regs[REG_RSI] = BigInt(frame + INFO_OFFSET);
  regs[REG_RDX] = BigInt(frame + uc);
  regs[REG_RSP] = BigInt(frame);
  regs[REG_RIP] = act.handler;
  regs[REG_EFLAGS] &= ~(EFLAGS_DF | EFLAGS_RF | EFLAGS_TF);
  try {
    t.ctx.setFpState(initialFpState(fp));
  } catch { /* the handler keeps the interrupted code's FPU state */ }
  return true;
}

/**
 * rt_sigreturn: restore what setupSignalFrame saved (registers, mask, FPU state, alternate
 * stack). Returns the restored rax, false if the frame cannot be read.
 */
export function restoreSignalFrame(t: Task): bigint | false {
  const regs = t.regs;
  const frame = t.sp - 8;
  let uc: Uint8Array;
  try {
    uc = t.mm.copyIn(frame + UC_OFFSET, UCONTEXT_SIZE);
  } catch {
    return false;
  }
  const v = new DataView(uc.buffer);
  const mc = UC_MCONTEXT;
  const eflags = regs[REG_EFLAGS];
  SC_REGS.forEach((r, i) => { regs[r] = v.getBigUint64(mc + i * 8, true); });
  regs[REG_EFLAGS] = (eflags & ~FIX_EFLAGS) | (regs[REG_EFLAGS] & FIX_EFLAGS);
  regs[REG_ORIG_RAX] = 0xffff_ffff_ffff_ffffn; // no syscall to restart
  t.sigMask = v.getBigUint64(UC_SIGMASK, true) & ~UNBLOCKABLE;

  const fpAddr = Number(v.getBigUint64(mc + SC_FPSTATE, true));
  if (!restoreFpState(t, fpAddr)) return false;

  // restore_altstack: as sigaltstack(&uc_stack, NULL); a stack it refuses stays as it is.
  const ssSp = Number(v.getBigUint64(UC_STACK, true));
  const ssFlags = v.getInt32(UC_STACK + 8, true);
  const ssSize = Number(v.getBigUint64(UC_STACK + 16, true));
  if (sigStackFlags(t, t.sp) !== SS_ONSTACK) {
    if ((ssFlags & ~SS_AUTODISARM) === SS_DISABLE) setAltStack(t, { sp: 0, flags: SS_DISABLE, size: 0 });
    else if (ssSize > 0) setAltStack(t, { sp: ssSp, flags: ssFlags & SS_AUTODISARM, size: ssSize });
  }
  return regs[REG_RAX];
}

function restoreFpState(t: Task, addr: number): boolean {
  let cur: Uint8Array;
  try {
    cur = t.ctx.getFpState();
  } catch {
    return true;
  }
  if (addr === 0) {
    // No FPU image: the state goes back to its initial value, as Linux clears it.
    try { t.ctx.setFpState(initialFpState(cur)); } catch { /* keep */ }
    return true;
  }
  if (addr % 64 !== 0) return false;
  let size = FXSAVE_SIZE;
  try {
    const head = t.mm.copyIn(addr + SW_BYTES, 20);
    const hv = new DataView(head.buffer);
    if (hv.getUint32(0, true) === FP_XSTATE_MAGIC1) {
      const xsize = hv.getUint32(16, true);
      if (xsize >= FXSAVE_SIZE && xsize <= cur.length && t.mm.readU32(addr + xsize) === FP_XSTATE_MAGIC2) size = xsize;
    }
    const img = cur.slice();
    img.set(t.mm.copyIn(addr, Math.min(size, cur.length)));
    // The software bytes are ours, not the hardware's: give back what the platform had.
    img.set(cur.subarray(SW_BYTES, FXSAVE_SIZE), SW_BYTES);
    if (size === FXSAVE_SIZE && img.length > XSTATE_BV + 8) {
      // A legacy image carries x87/SSE only; the rest returns to its initial state.
      new DataView(img.buffer).setBigUint64(XSTATE_BV, 3n, true);
    }
    t.ctx.setFpState(img);
  } catch {
    return false;
  }
  return true;
}
