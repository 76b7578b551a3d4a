// The tracee's registers as ptrace shows them (Linux arch/x86/kernel/ptrace.c): struct
// user_regs_struct (the platform keeps its registers in that very order, REG_R15..REG_GS),
// the struct user offsets PEEKUSER/POKEUSER take (u_debugreg at 848), the FXSAVE image of
// GETFPREGS, and the regsets of GETREGSET (NT_PRSTATUS, NT_PRFPREG, NT_X86_XSTATE). Writes
// are checked as putreg does; what the platform cannot honour is said where it happens.

import {
  REG_CS, REG_DS, REG_EFLAGS, REG_ES, REG_FS, REG_FS_BASE, REG_GS, REG_GS_BASE, REG_SS,
} from '../../native/addon';
import { EINVAL, EIO } from '../../abi/linux/errno';
import { fail } from '../syscall_error';
import type { Task } from '../task';

export const USER_REGS_SIZE = 27 * 8;
/** sizeof(struct user) (the kernel's: error_code and fault_address follow u_debugreg) and
 *  offsetof(struct user, u_debugreg) on x86-64. */
export const USER_SIZE = 928, U_DEBUGREG = 848;
export const FXSAVE_SIZE = 512;
export const NT_PRSTATUS = 1, NT_PRFPREG = 2, NT_X86_XSTATE = 0x202;

/** TASK_SIZE_MAX: fs_base and gs_base must stay below it. */
const TASK_SIZE_MAX = (1n << 47n) - 4096n;
/** FLAG_MASK: the eflags bits a tracer may change (CF PF AF ZF SF TF DF OF NT RF AC). */
const FLAG_MASK = 0x54dd5n;
const SEGMENTS = new Set([REG_CS, REG_SS, REG_DS, REG_ES, REG_FS, REG_GS]);

/** Debug registers: kept per tracee so that what a debugger writes reads back. No hardware
 *  breakpoint is armed: DR7 may only be written with every enable bit clear. */
const debugRegs = new WeakMap<Task, bigint[]>();

function dr(t: Task): bigint[] {
  let d = debugRegs.get(t);
  if (!d) {
    d = [0n, 0n, 0n, 0n, 0n, 0n, 0xffff0ff0n, 0x400n];
    debugRegs.set(t, d);
  }
  return d;
}

export function getReg(t: Task, slot: number): bigint {
  // A TF the tracer's single-step set is not the program's: hidden (get_flags).
  if (slot === REG_EFLAGS && t.ptrace?.forcedTF === true) return t.regs[slot] & ~0x100n;
  return t.regs[slot];
}

/** putreg: EIO for a value Linux refuses. Segment selectors must be user selectors (RPL 3,
 *  or 0 for the data ones); the platform keeps its own, so a changed selector is not
 *  honoured. */
export function putReg(t: Task, slot: number, value: bigint): void {
  const v = BigInt.asUintN(64, value);
  if (SEGMENTS.has(slot)) {
    const zeroOk = slot !== REG_CS && slot !== REG_SS;
    if (v > 0xffffn || ((v & 3n) !== 3n && !(zeroOk && v === 0n))) fail(EIO);
    return;
  }
  if (slot === REG_EFLAGS) {
    // set_flags: writing TF while single-stepping makes it the program's own.
    const l = t.ptrace;
    const keepTF = l !== null && l.forcedTF && (v & 0x100n) === 0n;
    if (l !== null && (v & 0x100n) !== 0n) l.forcedTF = false;
    t.regs[slot] = (t.regs[slot] & ~FLAG_MASK) | (v & FLAG_MASK) | (keepTF ? 0x100n : 0n);
    return;
  }
  if ((slot === REG_FS_BASE || slot === REG_GS_BASE) && v >= TASK_SIZE_MAX) fail(EIO);
  t.regs[slot] = v;
}

/** PTRACE_PEEKUSR. */
export function peekUser(t: Task, off: number): bigint {
  if (off % 8 !== 0 || off < 0 || off >= USER_SIZE) fail(EIO);
  if (off < USER_REGS_SIZE) return getReg(t, off / 8);
  if (off >= U_DEBUGREG && off < U_DEBUGREG + 64) return dr(t)[(off - U_DEBUGREG) / 8];
  return 0n;
}

/** PTRACE_POKEUSR. */
export function pokeUser(t: Task, off: number, value: bigint): void {
  if (off % 8 !== 0 || off < 0 || off >= USER_SIZE) fail(EIO);
  if (off < USER_REGS_SIZE) {
    putReg(t, off / 8, value);
    return;
  }
  if (off < U_DEBUGREG || off >= U_DEBUGREG + 64) fail(EIO);
  const n = (off - U_DEBUGREG) / 8;
  const v = BigInt.asUintN(64, value);
  if (n === 4 || n === 5) fail(EIO);
  if (n < 4) {
    if (v >= TASK_SIZE_MAX) fail(EIO);
    dr(t)[n] = v;
  } else if (n === 6) {
    dr(t)[6] = v;
  } else {
    // Enabling a breakpoint would need the platform to arm it: refused rather than ignored.
    if ((v & 0xffn) !== 0n) fail(EIO);
    dr(t)[7] = v | 0x400n;
  }
}

export function getRegs(t: Task): Uint8Array {
  const b = new Uint8Array(t.regs.buffer.slice(0, USER_REGS_SIZE));
  new DataView(b.buffer).setBigUint64(REG_EFLAGS * 8, getReg(t, REG_EFLAGS), true);
  return b;
}

export function setRegs(t: Task, b: Uint8Array): void {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  // Checked all before any is written, as a failed SETREGS should leave nothing half done.
  const vals: bigint[] = [];
  for (let i = 0; i < 27; i++) vals.push(v.getBigUint64(i * 8, true));
  const saved = t.regs.slice(0, 27);
  try {
    for (let i = 0; i < 27; i++) putReg(t, i, vals[i]);
  } catch (e) {
    t.regs.set(saved);
    throw e;
  }
}

export function getFpregs(t: Task): Uint8Array {
  const fp = t.ctx.getFpState();
  const out = new Uint8Array(FXSAVE_SIZE);
  out.set(fp.subarray(0, Math.min(FXSAVE_SIZE, fp.length)));
  return out;
}

function mxcsrMask(fp: Uint8Array): number {
  const m = new DataView(fp.buffer, fp.byteOffset, fp.byteLength).getUint32(28, true);
  return m === 0 ? 0xffbf : m;
}

/** xfpregs_set: MXCSR bits the CPU lacks are EINVAL; x87 and SSE become present. */
export function setFpregs(t: Task, b: Uint8Array): void {
  const fp = new Uint8Array(t.ctx.getFpState());
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if ((v.getUint32(24, true) & ~mxcsrMask(fp)) !== 0) fail(EINVAL);
  // The sw_reserved bytes (464..511) are the kernel's, not the tracer's.
  fp.set(b.subarray(0, 464));
  if (fp.length >= 520) {
    const fv = new DataView(fp.buffer);
    fv.setBigUint64(512, fv.getBigUint64(512, true) | 3n, true);
  }
  t.ctx.setFpState(fp);
}

export function getXstate(t: Task): Uint8Array {
  return new Uint8Array(t.ctx.getFpState());
}

/** xstateregs_set: the header must name only features the area holds, in the standard
 *  format (xcomp_bv 0), with its reserved bytes zero. */
export function setXstate(t: Task, b: Uint8Array): void {
  const fp = new Uint8Array(t.ctx.getFpState());
  if (b.length !== fp.length) fail(EINVAL);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const cur = new DataView(fp.buffer);
  if ((v.getUint32(24, true) & ~mxcsrMask(fp)) !== 0) fail(EINVAL);
  if (fp.length >= 576) {
    const xfeatures = v.getBigUint64(512, true);
    const supported = cur.getBigUint64(464 + 8, true) || 7n;
    if ((xfeatures & ~supported) !== 0n) fail(EINVAL);
    if (v.getBigUint64(520, true) !== 0n) fail(EINVAL);
    for (let o = 528; o < 576; o += 8) if (v.getBigUint64(o, true) !== 0n) fail(EINVAL);
  }
  const next = new Uint8Array(b);
  next.set(fp.subarray(464, 512), 464);
  t.ctx.setFpState(next);
}
