// kill, tgkill, tkill (Linux kernel/signal.c). Targets are resolved and checked here; a
// signal that would have an effect is handed to the kernel's SignalDelivery. Until one is
// installed, the one effect that needs no delivery machinery is carried out here: the
// default action of a fatal signal that is not blocked ends the process (abort() relies on
// it). Anything else that would need delivery (a handler, a blocked signal that should stay
// pending, a stop) fails with ENOSYS rather than being dropped silently. Signal 0 (the
// existence check) and signals the target ignores need nothing.

import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENOSYS, ESRCH } from '../../abi/linux/errno';
import { NSIG, SIGKILL, SIG_DFL, defaultStops, sigBit } from '../../abi/linux/signal';
import { SYS_kill, SYS_tgkill, SYS_tkill } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';
import { processGroupIds } from './process_group';
import { signalActions, signalDelivery, signalIgnored } from './signal_state';

const INT_MIN = -0x80000000;

function checkSignal(sig: number): void {
  if (sig < 0 || sig > NSIG) fail(EINVAL);
}

/** The processes kill(pid) names: one, a process group (0: the caller's), or all but init
 *  and the caller (-1). */
function killTargets(t: Task, pid: number): ThreadGroup[] {
  const all = [...t.kernel.threadGroups.values()];
  if (pid > 0) return all.filter((tg) => tg.tgid === pid);
  if (pid === INT_MIN) return [];
  if (pid === -1) return all.filter((tg) => tg !== t.tg && tg.parent !== null);
  const pgid = pid === 0 ? processGroupIds(t.tg).pgid : -pid;
  return all.filter((tg) => processGroupIds(tg).pgid === pgid);
}

/** Without a SignalDelivery: terminate tg if sig's default action would (and nothing blocks
 *  it in `takers`, the threads that could take it), else ENOSYS. */
function defaultAction(t: Task, tg: ThreadGroup, takers: Iterable<Task>, sig: number): void {
  if (signalActions(tg)[sig].handler !== SIG_DFL || defaultStops(sig)) fail(ENOSYS);
  let unblocked = sig === SIGKILL;
  for (const task of takers) if ((task.sigMask & sigBit(sig)) === 0n) unblocked = true;
  if (!unblocked) fail(ENOSYS);
  t.kernel.killThreadGroup(tg, sig);
}

function sysKill(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const sig = a.int(1);
  const targets = killTargets(t, pid);
  if (targets.length === 0) fail(ESRCH);
  checkSignal(sig);
  if (sig === 0) return 0;
  const live = targets.filter((tg) => !signalIgnored(tg, sig));
  if (live.length === 0) return 0;
  const d = signalDelivery();
  for (const tg of live) {
    if (d) d.sendToProcess(t, tg, sig);
    else defaultAction(t, tg, tg.tasks, sig);
  }
  return 0;
}

/** do_send_specific: tgid 0 (tkill) matches any process. */
function sendSpecific(t: Task, tgid: number, tid: number, sig: number): number {
  const target = t.kernel.tasks.get(tid);
  if (!target || (tgid > 0 && target.tg.tgid !== tgid)) fail(ESRCH);
  checkSignal(sig);
  if (sig === 0 || signalIgnored(target.tg, sig)) return 0;
  const d = signalDelivery();
  if (d) d.sendToThread(t, target, sig);
  else defaultAction(t, target.tg, [target], sig);
  return 0;
}

function sysTgkill(t: Task, a: SyscallArgs): number {
  const tgid = a.int(0);
  const tid = a.int(1);
  if (tgid <= 0 || tid <= 0) fail(EINVAL);
  return sendSpecific(t, tgid, tid, a.int(2));
}

function sysTkill(t: Task, a: SyscallArgs): number {
  const tid = a.int(0);
  if (tid <= 0) fail(EINVAL);
  return sendSpecific(t, 0, tid, a.int(1));
}

export function registerKill(table: SyscallTable): void {
  table[SYS_kill] = { name: 'kill', handler: sysKill, args: ['int', 'signal'] };
  table[SYS_tgkill] = { name: 'tgkill', handler: sysTgkill, args: ['int', 'int', 'signal'] };
  table[SYS_tkill] = { name: 'tkill', handler: sysTkill, args: ['int', 'signal'] };
}
