// Waiting for children (Linux kernel/exit.c do_wait): find a child the request names, report
// a zombie and reap it, or sleep until some child changes state. Children are processes;
// which ones a wait sees also depends on their exit signal (__WCLONE/__WALL).

import { tgidIn, zappingPidNs } from './ns/pid_ns';
import { ECHILD } from '../abi/linux/errno';
import { SIGCHLD } from '../abi/linux/signal';
import { fail } from './syscall_error';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { block } from './blocking';
import { reap } from './exit';
import { takeStopReport } from './job_control';
import { chargeReapedChild } from './timers/cpu_time';
import { scanTracees } from './ptrace/wait';
import { zombieHeld } from './ptrace/link';
import { chargeReapedMaxRss } from './rss';
import { chargeReapedIo } from './io_accounting';

export const WNOHANG = 0x1, WUNTRACED = 0x2, WSTOPPED = 0x2, WEXITED = 0x4, WCONTINUED = 0x8,
  WNOWAIT = 0x0100_0000, __WNOTHREAD = 0x2000_0000, __WALL = 0x4000_0000, __WCLONE = 0x8000_0000;

export interface WaitRequest {
  /** Whether the child is one the caller named (pid, process group, any). */
  matches: (child: ThreadGroup) => boolean;
  /** For a tracer: whether a traced thread is named (a pid names a thread id there). */
  matchesTask?: (task: Task) => boolean;
  options: number;
}

export interface WaitResult {
  pid: number;
  /** The wait(2) status word. */
  status: number;
  uid: number;
  /** The child the report is about (its rusage goes with the report). */
  child: ThreadGroup;
  /** A ptrace-stop (waitid's CLD_TRAPPED). */
  trapped?: boolean;
}

/** eligible_child: clone children (exit signal other than SIGCHLD) only with __WCLONE, but
 *  any child with __WALL or when it is a tracee of the waiter; with __WNOTHREAD only the
 *  caller's own children (those it made, or inherited from a thread gone since). */
function eligible(t: Task, child: ThreadGroup, options: number): boolean {
  if ((options & __WNOTHREAD) !== 0 && child.parentTask !== t) return false;
  if ((options & __WALL) !== 0 || child.tracedByParentAtExit) return true;
  return (child.exitSignal !== SIGCHLD) === ((options & __WCLONE) !== 0);
}

/** wait_consider_task over the children: a zombie to report (WEXITED), a stop (WSTOPPED)
 *  or continue (WCONTINUED) not yet reported, and whether any child could still give one
 *  (Linux's notask_error cleared). A zombie will never stop or continue again. */
function scan(t: Task, req: WaitRequest): { ready: WaitResult | null; zombie: ThreadGroup | null; any: boolean } {
  const traced = scanTracees(t, req);
  if (traced.ready) return { ready: traced.ready, zombie: null, any: true };
  let any = traced.any;
  const peek = (req.options & WNOWAIT) !== 0;
  for (const child of t.tg.children) {
    if (!req.matches(child) || !eligible(t, child, req.options)) continue;
    if (!child.zombie) {
      any = true;
      // A child this process traces reports its stops as a tracee (ptrace/wait.ts).
      if (tracedBy(child, t)) continue;
      const status = takeStopReport(child, (req.options & WSTOPPED) !== 0, (req.options & WCONTINUED) !== 0, peek);
      if (status !== null) return { ready: { pid: tgidIn(t.threadPid.ns, child), status, uid: childUid(child), child }, zombie: null, any };
      continue;
    }
    // Its tracer has not yet waited for it: the parent hears of it after. A namespace's
    // init is not done dying before the rest of its namespace is (zap_pid_ns_processes).
    if (zombieHeld(child) || zappingPidNs(child)) {
      any = true;
      continue;
    }
    if ((req.options & WEXITED) !== 0) {
      const pid = tgidIn(t.threadPid.ns, child);
      return { ready: { pid, status: child.exitStatus ?? 0, uid: child.exitUid, child }, zombie: child, any: true };
    }
  }
  return { ready: null, zombie: null, any };
}

function tracedBy(child: ThreadGroup, t: Task): boolean {
  for (const x of child.tasks) if (x.ptrace !== null && x.ptrace.tracer.tg === t.tg) return true;
  return false;
}

/** The real uid a stop or continue report names (the child's, as Linux's __task_cred). */
function childUid(child: ThreadGroup): number {
  for (const task of child.tasks) return task.creds.uid;
  return child.exitUid;
}

/** wait_task_zombie: the waiter's process takes over the child's CPU times, then the pid
 *  is freed. */
function reapWaited(t: Task, zombie: ThreadGroup): void {
  chargeReapedChild(t.tg, zombie);
  chargeReapedMaxRss(t.tg, zombie);
  chargeReapedIo(t.tg, zombie);
  reap(t.kernel, zombie);
}

/** do_wait: a result, null for WNOHANG with nothing to report, ECHILD with no such child;
 *  a Promise when it must sleep. */
export function waitForChild(t: Task, req: WaitRequest): WaitResult | null | Promise<WaitResult | null> {
  const { ready, zombie, any } = scan(t, req);
  if (!any) fail(ECHILD);
  if (ready) {
    if (zombie && (req.options & WNOWAIT) === 0) reapWaited(t, zombie);
    return ready;
  }
  if ((req.options & WNOHANG) !== 0) return null;
  const tg = t.tg;
  return block<void>(t, (wake) => {
    const w = (): void => wake();
    tg.childWaiters.add(w);
    return () => { tg.childWaiters.delete(w); };
  }).then(() => waitForChild(t, req), (e: unknown) => {
    // do_wait scans again before it looks at signals: a child whose change also sent the
    // SIGCHLD that cut the wait short is reported, not EINTR.
    if (t.exited) throw e;
    const again = scan(t, req);
    if (!again.ready) throw e;
    t.syscallRestart = 0;
    if (again.zombie && (req.options & WNOWAIT) === 0) reapWaited(t, again.zombie);
    return again.ready;
  });
}
