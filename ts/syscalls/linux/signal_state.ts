// Signal dispositions and alternate stacks, recorded by rt_sigaction and sigaltstack so that
// C-library start-up works and the values read back as set. Linux keeps the dispositions in
// sighand_struct (shared by a thread group) and the alternate stack in task_struct; neither
// class here has them yet, so they live in WeakMaps. Delivery is the kernel's
// (kernel/signals.ts sends, kernel/signal_deliver.ts acts); it reads these tables. fork
// calls copySignalActions (or shareSignalActions for CLONE_SIGHAND), execve execSignalState.

import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { NSIG, SIG_DFL, SIG_IGN, SS_DISABLE, defaultIgnored } from '../../abi/linux/signal';

export interface SigAction {
  handler: bigint;
  flags: bigint;
  restorer: bigint;
  mask: bigint;
}

export interface AltStack {
  sp: number;
  /** SS_DISABLE when none; otherwise 0 plus SS_AUTODISARM if asked. */
  flags: number;
  size: number;
}

const actions = new WeakMap<ThreadGroup, SigAction[]>();
const altStacks = new WeakMap<Task, AltStack>();

function defaultAction(): SigAction {
  return { handler: SIG_DFL, flags: 0n, restorer: 0n, mask: 0n };
}

/** The process's dispositions, indexed by signal number (1..64). */
export function signalActions(tg: ThreadGroup): SigAction[] {
  let a = actions.get(tg);
  if (!a) {
    a = [];
    for (let sig = 0; sig <= NSIG; sig++) a.push(defaultAction());
    actions.set(tg, a);
  }
  return a;
}

/** fork without CLONE_SIGHAND: the child gets a copy. */
export function copySignalActions(parent: ThreadGroup, child: ThreadGroup): void {
  actions.set(child, signalActions(parent).map((a) => ({ ...a })));
}

/** CLONE_SIGHAND without CLONE_THREAD: both processes use one table. */
export function shareSignalActions(parent: ThreadGroup, child: ThreadGroup): void {
  actions.set(child, signalActions(parent));
}

/** execve: handlers go back to the default (ignored signals stay ignored); the alternate
 *  stack is gone. */
export function execSignalState(t: Task): void {
  // A table shared with another process (CLONE_SIGHAND) is unshared first.
  copySignalActions(t.tg, t.tg);
  for (const a of signalActions(t.tg)) {
    if (a.handler !== SIG_IGN) Object.assign(a, defaultAction());
  }
  altStacks.delete(t);
}

export function altStack(t: Task): AltStack {
  return altStacks.get(t) ?? { sp: 0, flags: SS_DISABLE, size: 0 };
}

export function setAltStack(t: Task, s: AltStack): void {
  altStacks.set(t, { ...s });
}

/** Whether sending sig to tg would have no effect at all (ignored, by handler or default). */
export function signalIgnored(tg: ThreadGroup, sig: number): boolean {
  const h = signalActions(tg)[sig].handler;
  return h === SIG_IGN || (h === SIG_DFL && defaultIgnored(sig));
}
