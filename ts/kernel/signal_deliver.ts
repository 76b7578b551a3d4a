// Acting on pending signals when a task returns to user mode (Linux get_signal,
// handle_signal, and the syscall-restart half of arch_do_signal_or_restart). task_run.ts
// calls deliverSignals after an event when something is pending or the syscall just
// interrupted wants a restart decision.

import { isNsInit } from './ns/pid_ns';
import { REG_ORIG_RAX, REG_RAX, REG_RIP } from '../native/addon';
import {
  ERESTARTNOHAND, ERESTARTNOINTR, ERESTARTSYS, ERESTART_RESTARTBLOCK, EINTR,
} from '../abi/linux/errno';
import {
  SA_NODEFER, SA_RESETHAND, SA_RESTART, SIGSEGV, SIG_DFL, SIG_IGN, UNBLOCKABLE, sigBit,
} from '../abi/linux/signal';
import { signalActions, type SigAction } from '../syscalls/linux/signal_state';
import type { Task } from './task';
import type { SigInfo } from './sig_pending';
import { defaultAction, groupSignalsFor, sendSignalToThread } from './signals';
import { setupSignalFrame } from './signal_frame';
import { clearRestartBlock, hasRestartBlock } from './restart_block';
import { SYS_restart_syscall } from '../abi/linux/syscall_numbers';
import { SIGKILL, SIGSTOP } from '../abi/linux/signal';
import { doSignalStop, taskMustStop } from './job_control';
import { isPgrpOrphaned } from '../syscalls/linux/process_group';

const SYSCALL_INSN_LEN = 2n;

/** The ERESTART* code the syscall just returned, or 0. */
function restartCode(t: Task): number {
  const code = t.syscallRestart;
  t.syscallRestart = 0;
  if (code === 0) return 0;
  return BigInt.asIntN(64, t.regs[REG_RAX]) === BigInt(-code) ? code : 0;
}

/** Make the syscall run again when the task resumes. */
function restartSyscall(t: Task): void {
  t.regs[REG_RAX] = t.regs[REG_ORIG_RAX];
  t.regs[REG_RIP] -= SYSCALL_INSN_LEN;
}

/** Before a handler runs: restart the interrupted syscall or let it fail with EINTR. */
function restartForHandler(t: Task, code: number, act: SigAction): void {
  const restart = code === ERESTARTNOINTR ||
    (code === ERESTARTSYS && (Number(act.flags) & SA_RESTART) !== 0);
  if (restart) restartSyscall(t);
  else t.regs[REG_RAX] = BigInt.asUintN(64, BigInt(-EINTR));
}

/** Take the next signal the task does not block: its own first, then its process's (those
 *  not left to the thread chosen for them). */
function dequeue(t: Task): SigInfo | undefined {
  let sig = t.pending.next(t.sigMask);
  if (sig !== 0) return t.pending.take(sig);
  const mine = groupSignalsFor(t);
  if (mine === 0n) return undefined;
  sig = t.tg.pending.next(~mine);
  if (sig === 0) return undefined;
  t.tg.signalTargets.delete(sig);
  return t.tg.pending.take(sig);
}

/** Act on every deliverable signal; `afterSyscall` when the task stopped for a syscall. */
export function deliverSignals(t: Task, afterSyscall: boolean): void {
  let restart = afterSyscall ? restartCode(t) : 0;
  t.syscallRestart = 0;
  let handled = false;
  while (!t.exited) {
    if (taskMustStop(t)) {
      // The task parks first (task_run.ts); the interrupted syscall's fate is decided
      // when it resumes, by the signals pending then.
      t.syscallRestart = restart;
      return;
    }
    let info: SigInfo | undefined;
    if (t.ptrace !== null && t.ptrace.inject !== null) {
      info = t.ptrace.inject;
      t.ptrace.inject = null;
    } else {
      info = dequeue(t);
      if (!info) break;
      if (t.ptrace !== null && info.signo !== SIGKILL) {
        // Signal-delivery-stop first (ptrace/stop.ts); the tracer decides what is delivered.
        t.ptrace.signalStop = info;
        t.syscallRestart = restart;
        return;
      }
    }
    const sig = info.signo;
    const actions = signalActions(t.tg);
    const act = actions[sig];
    if (act.handler === SIG_IGN) continue;
    if (act.handler === SIG_DFL) {
      // get_signal: a pid namespace's init takes no default action from a signal sent to it
      // (one queued while blocked) but SIGSTOP's; faults (a kernel si_code) still end it.
      if (info.code <= 0 && sig !== SIGSTOP && isNsInit(t.tg)) continue;
      const d = defaultAction(sig);
      if (d === 'ignore' || d === 'cont') continue;
      if (d === 'stop') {
        // is_current_pgrp_orphaned: nobody could continue the job, so only SIGSTOP stops it.
        if (sig !== SIGSTOP && isPgrpOrphaned(t.kernel, t.tg)) continue;
        doSignalStop(t, sig);
        continue;
      }
      if (d === 'core') t.kernel.coreDumpAndKill(t, info);
      else t.kernel.killThreadGroup(t.tg, sig);
      return;
    }
    if (restart !== 0) {
      restartForHandler(t, restart, act);
      if (restart === ERESTART_RESTARTBLOCK) clearRestartBlock(t);
      restart = 0;
    }
    const oldMask = t.savedMask ?? t.sigMask;
    t.savedMask = null;
    if (!setupSignalFrame(t, info, act, oldMask)) {
      forceSigsegv(t, sig);
      return;
    }
    handled = true;
    t.sigMask = (t.sigMask | act.mask | ((Number(act.flags) & SA_NODEFER) !== 0 ? 0n : sigBit(sig))) & ~UNBLOCKABLE;
    if ((Number(act.flags) & SA_RESETHAND) !== 0) actions[sig] = { handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n };
  }
  if (t.exited) return;
  // No handler ran: every restart code means "try again" (restart_syscall for
  // ERESTART_RESTARTBLOCK when the call left a restart block; the same call otherwise).
  if (restart === ERESTARTSYS || restart === ERESTARTNOINTR || restart === ERESTARTNOHAND ||
    restart === ERESTART_RESTARTBLOCK) {
    restartSyscall(t);
    if (restart === ERESTART_RESTARTBLOCK && hasRestartBlock(t)) t.regs[REG_RAX] = BigInt(SYS_restart_syscall);
  }
  if (!handled && t.savedMask !== null) {
    t.sigMask = t.savedMask;
    t.savedMask = null;
  }
}

/** A frame that cannot be written (bad stack): SIGSEGV, fatal if that is what failed. */
function forceSigsegv(t: Task, sig: number): void {
  if (sig === SIGSEGV) {
    t.kernel.killThreadGroup(t.tg, SIGSEGV);
    return;
  }
  forceSignal(t, { signo: SIGSEGV, code: 0x80, errno: 0, pid: 0, uid: 0, status: 0, addr: 0, value: 0n });
}

/** force_sig_info: a synchronous signal the task cannot block or ignore away; if it does,
 *  the default action (death) is what it gets. */
export function forceSignal(t: Task, info: SigInfo): void {
  const sig = info.signo;
  const actions = signalActions(t.tg);
  const blocked = (t.sigMask & sigBit(sig)) !== 0n;
  if (actions[sig].handler === SIG_IGN || blocked) {
    actions[sig] = { ...actions[sig], handler: SIG_DFL };
    t.sigMask &= ~sigBit(sig);
  }
  sendSignalToThread(t, info);
}
