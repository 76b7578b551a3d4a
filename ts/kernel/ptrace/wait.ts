// The tracer's side of wait(2) (Linux ptrace_do_wait, wait_task_stopped(ptrace=1),
// wait_task_zombie for a traced thread): ptrace-stops are reported whatever WUNTRACED says,
// and every tracee is eligible whatever __WCLONE says. child_wait.ts asks here first.

import { tidIn } from '../ns/pid_ns';
import { WEXITED, WNOWAIT, __WNOTHREAD } from '../child_wait';
import type { WaitRequest, WaitResult } from '../child_wait';
import type { Task } from '../task';
import { releaseZombie, tracerStateIfAny } from './link';

export interface TraceeScan { ready: WaitResult | null; any: boolean }

function named(req: WaitRequest, tracee: Task): boolean {
  return req.matchesTask ? req.matchesTask(tracee) : req.matches(tracee.tg);
}

/** A ptrace-stop or traced thread's exit the waiting task (or its process) may take. */
export function scanTracees(t: Task, req: WaitRequest): TraceeScan {
  const peek = (req.options & WNOWAIT) !== 0;
  let any = false;
  const tracers = (req.options & __WNOTHREAD) !== 0 ? [t] : t.tg.tasks;
  for (const tracer of tracers) {
    const s = tracerStateIfAny(tracer);
    if (!s) continue;
    for (const tracee of s.tracees) {
      const l = tracee.ptrace;
      if (l === null || !named(req, tracee)) continue;
      any = true;
      if (l.report === null || !l.stopped) continue;
      const status = l.report;
      if (!peek) l.report = null;
      return { ready: { pid: tidIn(t.threadPid.ns, tracee), status, uid: tracee.creds.uid, child: tracee.tg, trapped: true }, any };
    }
    for (let i = 0; i < s.exits.length; i++) {
      const e = s.exits[i];
      if (!named(req, e.task)) continue;
      any = true;
      if ((req.options & WEXITED) === 0) continue;
      if (!peek) {
        s.exits.splice(i, 1);
        releaseZombie(e.task.tg);
      }
      return { ready: { pid: tidIn(t.threadPid.ns, e.task), status: e.status, uid: e.task.creds.uid, child: e.task.tg }, any };
    }
  }
  return { ready: null, any };
}
