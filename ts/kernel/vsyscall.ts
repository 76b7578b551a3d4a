// The legacy vsyscall page (Linux arch/x86/entry/vsyscall/vsyscall_64.c). The host kernel
// stops a call to it with the stub's seccomp filter and the platforms report it as an
// ordinary syscall, with the `ret` already emulated: rip is the caller's return address. A
// bad pointer there must not just be EFAULT: emulate_vsyscall raises SIGSEGV at the pointer
// and leaves the task at the vsyscall entry, as if it had faulted there.

import type { Task } from './task';
import { forceSignal } from './signal_deliver';
import { sigInfo } from './sig_pending';
import { REG_RDI, REG_RIP, REG_RSI, REG_RSP } from '../native/addon';
import { SIGSEGV } from '../abi/linux/signal';
import { SYS_getcpu, SYS_gettimeofday, SYS_time } from '../abi/linux/syscall_numbers';

const VSYSCALL_ADDR = 0xffff_ffff_ff60_0000n;
const SEGV_MAPERR = 1;
/** The `syscall` instruction: what precedes rip after any real 64-bit syscall. */
const SYSCALL_INSN = [0x0f, 0x05];

/** The vsyscall entry of each emulated call (0x400 bytes apart). */
function entryOf(nr: number): bigint | undefined {
  if (nr === SYS_gettimeofday) return VSYSCALL_ADDR;
  if (nr === SYS_time) return VSYSCALL_ADDR + 0x400n;
  if (nr === SYS_getcpu) return VSYSCALL_ADDR + 0x800n;
  return undefined;
}

/** Whether the call t stopped at came through the vsyscall page: no `syscall` instruction
 *  just before rip (a call instruction's tail is there instead). */
function fromVsyscall(t: Task): boolean {
  const rip = Number(t.regs[REG_RIP]);
  try {
    const b = t.mm.copyIn(rip - 2, 2);
    return b[0] !== SYSCALL_INSN[0] || b[1] !== SYSCALL_INSN[1];
  } catch {
    return false;
  }
}

/** Called when syscall nr failed with EFAULT: if it was a vsyscall, undo the emulated `ret`
 *  and force SIGSEGV at the bad pointer. */
export function vsyscallFault(t: Task, nr: number): void {
  const entry = entryOf(nr);
  if (entry === undefined || !fromVsyscall(t)) return;
  const rdi = t.regs[REG_RDI];
  const addr = rdi !== 0n ? rdi : t.regs[REG_RSI];
  t.regs[REG_RIP] = entry;
  t.regs[REG_RSP] -= 8n;
  forceSignal(t, sigInfo(SIGSEGV, SEGV_MAPERR, { addr: Number(addr) }));
}
