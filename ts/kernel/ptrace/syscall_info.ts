// PTRACE_GET_SYSCALL_INFO (Linux ptrace_get_syscall_info): struct ptrace_syscall_info for
// the stop the tracee is in — the call and its arguments at a syscall-entry-stop, its result
// at a syscall-exit-stop, nothing but the registers elsewhere. strace relies on it.

import {
  REG_RAX, REG_ORIG_RAX, REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9, REG_RIP, REG_RSP,
} from '../../native/addon';
import { SIGTRAP } from '../../abi/linux/signal';
import type { Task } from '../task';
import { PTRACE_EVENT_SECCOMP } from './link';

const OP_NONE = 0, OP_ENTRY = 1, OP_EXIT = 2, OP_SECCOMP = 3;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const ARGS = [REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9];

export function syscallInfo(t: Task): Uint8Array {
  const l = t.ptrace!;
  const code = l.siginfo?.code ?? 0;
  let op = OP_NONE;
  if (code === (SIGTRAP | 0x80) && l.stopKind === 'syscall-entry') op = OP_ENTRY;
  else if (code === (SIGTRAP | 0x80) && l.stopKind === 'syscall-exit') op = OP_EXIT;
  else if (code === (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) op = OP_SECCOMP;
  const size = op === OP_ENTRY ? 80 : op === OP_EXIT ? 33 : op === OP_SECCOMP ? 84 : 24;
  const b = new Uint8Array(88);
  const v = new DataView(b.buffer);
  const r = t.regs;
  v.setUint8(0, op);
  v.setUint32(4, AUDIT_ARCH_X86_64, true);
  v.setBigUint64(8, r[REG_RIP], true);
  v.setBigUint64(16, r[REG_RSP], true);
  if (op === OP_ENTRY || op === OP_SECCOMP) {
    v.setBigUint64(24, r[REG_ORIG_RAX], true);
    ARGS.forEach((slot, i) => v.setBigUint64(32 + i * 8, r[slot], true));
    if (op === OP_SECCOMP) v.setUint32(80, Number(l.eventMsg & 0xffffn), true);
  } else if (op === OP_EXIT) {
    const rval = BigInt.asIntN(64, r[REG_RAX]);
    v.setBigInt64(24, rval, true);
    v.setUint8(32, rval < 0n && rval >= -4095n ? 1 : 0);
  }
  return b.subarray(0, size);
}
