// A hang report for --debug-log: one line per task saying what it waits on (the run loop's
// await, the syscall it is in, whether a wait could be cut short, and the platform's side of
// its context). Written when tsvisor itself is asked to stop (host_signals.ts), and once
// more a while later if the sandbox is still there: a sandbox that outlives its own kill is
// a lost wake, and this is where it shows.

import type { Kernel } from './kernel';
import type { Task } from './task';
import { stackOf } from '../tcpip/stack';

function describeTask(t: Task): string {
  const tg = t.tg;
  const where = t.awaiting === '' ? 'running in the sentry' : `awaiting ${t.awaiting}`;
  const group = tg.exitStatus !== null ? ` group exiting (status ${tg.exitStatus})` : '';
  const wait = t.waitCancel !== null ? (t.waitKillableOnly ? ' killable wait' : ' interruptible wait') : '';
  const traced = t.ptrace !== null ? ' traced' : '';
  return `[${t.tid}] tgid ${tg.tgid}${t.exited ? ' exited' : ''}${group} ${where}` +
    ` nr ${t.syscallNumber()}${wait}${traced} pending ${t.pending.set.toString(16)}/${tg.pending.set.toString(16)}` +
    ` ctx: ${t.ctx.describe()}`;
}

/** Writes the report to the debug log (nothing without one). */
export function reportTasks(k: Kernel, why: string): void {
  if (!k.debugging()) return;
  k.debug(`hang report (${why}): ${k.tasks.size} tasks`);
  for (const t of k.tasks.values()) k.debug(`  ${describeTask(t)}`);
  // A stalled transfer shows as a reader and a writer both waiting: the connections say which
  // side holds the data.
  for (const ep of stackOf(k).tcpEndpoints()) k.debug(`  tcp ${ep.debugState()}`);
}
