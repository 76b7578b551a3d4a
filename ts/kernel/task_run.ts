// The task run loop (gVisor's Task.run): resume the application, handle what stopped it,
// repeat. A syscall that completes at once takes the synchronous path: no await, so no
// promise and no microtask per syscall; only a blocking syscall or a long run awaits.

import {
  EVENT_SYSCALL, EVENT_FAULT, EVENT_INTERRUPT, EVENT_DEAD,
  EV_SIGNO, EV_ADDR, EV_ACCESS,
} from '../native/addon';
import { SIGSEGV, SIGBUS, SIGKILL } from '../abi/linux/signal';
import { dispatchSyscall } from '../syscalls/linux/table';
import type { Task } from './task';

export async function runTask(t: Task): Promise<void> {
  while (!t.exited) {
    let ev = t.ctx.run();
    if (typeof ev !== 'number') ev = await ev;
    if (t.exited) break;
    switch (ev) {
      case EVENT_SYSCALL: {
        const p = dispatchSyscall(t);
        if (p) await p;
        break;
      }
      case EVENT_FAULT:
        handleFault(t);
        break;
      case EVENT_INTERRUPT:
        // Someone wants the task's attention (exit_group, later signals); the loop condition
        // and the handlers of that work decide. Host signals to the stub are dropped here.
        break;
      case EVENT_DEAD:
        t.kernel.killThreadGroup(t.tg, SIGKILL);
        break;
      default:
        throw new Error(`unknown platform event ${ev}`);
    }
  }
  t.kernel.reapTask(t);
}

/** A hardware fault: a page the MemoryManager can populate, or a signal to the application. */
function handleFault(t: Task): void {
  const signo = Number(t.regs[EV_SIGNO]);
  if (signo === SIGSEGV || signo === SIGBUS) {
    const addr = Number(t.regs[EV_ADDR]);
    const access = Number(t.regs[EV_ACCESS]);
    if (signo === SIGSEGV && t.mm.handleFault(addr, access)) return;
  }
  // Signal delivery to handlers is not implemented yet: a fault takes the default action,
  // which for all fault signals is to terminate with a core dump.
  t.kernel.killThreadGroup(t.tg, signo);
}
