// The task run loop (gVisor's Task.run): resume the application, handle what stopped it,
// act on pending signals, repeat. A syscall that completes at once takes the synchronous
// path: no await, so no promise and no microtask per syscall; only a blocking syscall or a
// long run awaits.

import {
  EVENT_SYSCALL, EVENT_FAULT, EVENT_INTERRUPT, EVENT_DEAD,
  EV_SIGNO, EV_ADDR, EV_ACCESS, EV_CODE, EV_STATUS, REG_RIP, SYSCALL_ABI_I386,
} from '../native/addon';
import { SIGSEGV, SIGBUS, SIGKILL, SIGFPE, SIGILL, SIGTRAP, SIGSYS } from '../abi/linux/signal';
import { SYS_rt_sigreturn } from '../abi/linux/syscall_numbers';
import { dispatchSyscall } from '../syscalls/linux/table';
import { PROF_FAULT, syscallProf } from '../syscalls/linux/syscall_prof';
import { dispatchCompat32 } from '../syscalls/linux/compat32_load';
import type { Task } from './task';
import { sigInfo } from './sig_pending';
import { deliverSignals, forceSignal } from './signal_deliver';
import { dumpCoreAndExit } from './coredump/coredump';
import { SI_KERNEL } from './signals';
import { groupStopped, parkStopped } from './job_control';
import { ptraceSyscallEnter, ptraceSyscallExit } from './ptrace/syscall_stop';
import { ptraceReturnToUser } from './ptrace/stop';
import { ptraceExitEvent } from './ptrace/events';
import { CPU_SAMPLE_MS, chargeExitedTask, taskCpuTime } from './timers/cpu_time';

const SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRERR = 2;
const FAULT_SIGNALS = new Set([SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS]);

export async function runTask(t: Task): Promise<void> {
  const k = t.kernel;
  const cpu = taskCpuTime(t);
  while (!t.exited) {
    cpu.enterUser();
    let ev = t.ctx.run();
    if (typeof ev !== 'number') {
      t.awaiting = 'run';
      ev = await ev;
      t.awaiting = '';
    }
    cpu.leaveUser();
    if (t.exited) break;
    let afterSyscall = false;
    switch (ev) {
      case EVENT_SYSCALL: {
        t.lastFaultPlace = '';
        // int 0x80: the i386 table (whose rt_sigreturn we do not implement).
        const i386 = t.ctx.words[EV_CODE * 2] === SYSCALL_ABI_I386 && t.ctx.words[EV_CODE * 2 + 1] === 0;
        // rt_sigreturn's result is the restored rax, never a restart code.
        afterSyscall = i386 || t.syscallNumber() !== SYS_rt_sigreturn;
        // A tracee's syscall-entry-stop may skip the call (ptrace/syscall_stop.ts).
        if (t.ptrace !== null && !(await ptraceSyscallEnter(t))) {
          await ptraceSyscallExit(t, dispatchSyscall);
          break;
        }
        k.current = t;
        const p = i386 ? dispatchCompat32(t) : dispatchSyscall(t);
        k.current = null;
        if (p) {
          t.ctx.blocking();
          cpu.sleep(t.ctx.cpuTimeNsSampled(CPU_SAMPLE_MS));
          t.awaiting = 'syscall';
          await p;
          t.awaiting = '';
          cpu.wake(t.ctx.cpuTimeNsSampled(CPU_SAMPLE_MS));
        }
        if (t.ptrace !== null) await ptraceSyscallExit(t, dispatchSyscall);
        break;
      }
      case EVENT_FAULT: {
        const slow = slowFaultOf(t);
        if (slow !== null) {
          t.ctx.blocking();
          cpu.sleep(t.ctx.cpuTimeNsSampled(CPU_SAMPLE_MS));
          const staged = await stageFault(t, slow);
          cpu.wake(t.ctx.cpuTimeNsSampled(CPU_SAMPLE_MS));
          if (!staged) break; // a signal first (delivered below: the access repeats), or SIGBUS
        }
        const t0 = syscallProf !== null ? performance.now() : 0;
        try {
          handleFault(t, slow?.limit);
        } finally {
          slow?.backing.unstage?.();
        }
        syscallProf?.add(PROF_FAULT, performance.now() - t0);
        break;
      }
      case EVENT_INTERRUPT:
        // Someone wants the task's attention (a signal, exit_group): the signal check below
        // and the loop condition decide. Host signals to the stub are dropped here.
        break;
      case EVENT_DEAD:
        k.debug(`[${t.tid}] stub died (status ${t.regs[EV_STATUS]}): SIGKILL`);
        k.killThreadGroup(t.tg, SIGKILL);
        break;
      default:
        throw new Error(`unknown platform event ${ev}`);
    }
    // A tracee's signals and stops go through its tracer (ptrace/stop.ts).
    if (t.ptrace !== null) await ptraceReturnToUser(t, afterSyscall);
    if (!t.exited && t.ptrace === null && (t.syscallRestart !== 0 || t.pending.set !== 0n ||
      t.tg.pending.set !== 0n || groupStopped(t.tg))) {
      deliverSignals(t, afterSyscall);
      // Group stop: park until SIGCONT or death, then act on what is pending by then.
      while (!t.exited && t.coreDump === null && groupStopped(t.tg)) {
        cpu.sleep(t.ctx.cpuTimeNs());
        t.awaiting = 'group stop';
        await parkStopped(t);
        t.awaiting = '';
        cpu.wake(t.ctx.cpuTimeNs());
        if (t.ptrace !== null) {
          // Attached while stopped: the stop becomes a ptrace-stop.
          await ptraceReturnToUser(t, true);
          break;
        }
        if (!t.exited) deliverSignals(t, true);
      }
    }
    if (t.coreDump !== null) await dumpCoreAndExit(t);
  }
  if (t.ptrace !== null) await ptraceExitEvent(t);
  chargeExitedTask(t);
  k.reapTask(t);
}

type SlowFault = NonNullable<ReturnType<Task['mm']['slowFault']>>;

/** A page fault a file on a file system that may block must fill (mm.slowFault), else null. */
function slowFaultOf(t: Task): SlowFault | null {
  const signo = Number(t.regs[EV_SIGNO]);
  if (signo !== SIGSEGV || Number(t.regs[EV_CODE]) === SI_KERNEL) return null;
  return t.mm.slowFault(Number(t.regs[EV_ADDR]));
}

/** Reads what the fault will fill off the sentry's thread while t waits, interruptibly (a
 *  stalled FUSE or NFS read held every task): false if a signal came first (the access then
 *  repeats after it), or if the host failed the read (SIGBUS, as filemap_fault's read error). */
async function stageFault(t: Task, slow: SlowFault): Promise<boolean> {
  t.awaiting = 'fault';
  try {
    await slow.backing.stage!(t, slow.fileOffset, slow.length);
    return true;
  } catch {
    if (!t.exited && t.syscallRestart === 0) forceSignal(t, sigInfo(SIGBUS, BUS_ADRERR, { addr: Number(t.regs[EV_ADDR]) }));
    t.syscallRestart = 0; // a fault, not a syscall: nothing to restart
    return false;
  } finally {
    t.awaiting = '';
  }
}

/** A hardware fault: a page the MemoryManager can populate, or a signal to the application. */
function handleFault(t: Task, limit?: number): void {
  let signo = Number(t.regs[EV_SIGNO]);
  if (!FAULT_SIGNALS.has(signo)) {
    // Platforms report only these; anything else came through memory the application could
    // write (the platform should have caught it): the process dies, the sentry does not.
    t.kernel.debug(`[${t.tid}] fault event with signal ${signo}: SIGKILL`);
    t.kernel.killThreadGroup(t.tg, SIGKILL);
    return;
  }
  const addr = Number(t.regs[EV_ADDR]);
  let code = Number(t.regs[EV_CODE]);
  // SI_KERNEL: a general-protection fault (privileged instruction, bad selector,
  // non-canonical address), never a page fault: no page to populate, and Linux keeps the code.
  if ((signo === SIGSEGV || signo === SIGBUS) && code !== SI_KERNEL) {
    const access = Number(t.regs[EV_ACCESS]);
    // A platform that cannot tell the access (ptrace) may report a fault another thread has
    // just served: retry it once; the same fault at the same place again is a real one.
    const place = `${addr - (addr % 4096)}:${t.regs[REG_RIP]}`;
    const firstHere = t.lastFaultPlace !== place;
    if (signo === SIGSEGV && t.mm.handleFault(addr, access, firstHere, limit)) {
      t.lastFaultPlace = place;
      return;
    }
    if (signo === SIGSEGV && t.mm.busFault) {
      signo = SIGBUS; // a file mapping touched past the end of its file
      code = BUS_ADRERR;
    }
    if (t.mm.oomFault) {
      t.kernel.oomKill(t);
      return;
    }
    // Whether a mapping is there is ours to say, not the stub's (whose pages differ).
    if (signo === SIGSEGV) code = t.mm.vmas.find(addr) ? SEGV_ACCERR : SEGV_MAPERR;
  }
  t.kernel.debug(`[${t.tid}] fault: signal ${signo} code ${code} addr 0x${addr.toString(16)} rip 0x${t.regs[REG_RIP].toString(16)}`);
  forceSignal(t, sigInfo(signo, code, { addr }));
}
