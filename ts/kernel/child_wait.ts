// Waiting for children (Linux kernel/exit.c do_wait): find a child the request names, report
// a zombie and reap it, or sleep until some child changes state. Children are processes;
// which ones a wait sees also depends on their exit signal (__WCLONE/__WALL).

import { ECHILD } from '../abi/linux/errno';
import { SIGCHLD } from '../abi/linux/signal';
import { fail } from './syscall_error';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { block } from './blocking';
import { reap } from './exit';

export const WNOHANG = 0x1, WUNTRACED = 0x2, WSTOPPED = 0x2, WEXITED = 0x4, WCONTINUED = 0x8,
  WNOWAIT = 0x0100_0000, __WNOTHREAD = 0x2000_0000, __WALL = 0x4000_0000, __WCLONE = 0x8000_0000;

export interface WaitRequest {
  /** Whether the child is one the caller named (pid, process group, any). */
  matches: (child: ThreadGroup) => boolean;
  options: number;
}

export interface WaitResult {
  pid: number;
  /** The wait(2) status word. */
  status: number;
  uid: number;
}

/** eligible_child: clone children (exit signal other than SIGCHLD) only with __WCLONE. */
function eligible(child: ThreadGroup, options: number): boolean {
  if ((options & __WALL) !== 0) return true;
  return (child.exitSignal !== SIGCHLD) === ((options & __WCLONE) !== 0);
}

/** wait_consider_task over the children: a zombie to report, and whether any child could
 *  still give one (Linux's notask_error cleared). A zombie is something to wait for only
 *  with WEXITED: it will never stop or continue again. Stop/continue reports need job
 *  control, which the sandbox does not have yet, so a live child only makes the wait sleep. */
function scan(t: Task, req: WaitRequest): { ready: ThreadGroup | null; any: boolean } {
  let any = false;
  for (const child of t.tg.children) {
    if (!req.matches(child) || !eligible(child, req.options)) continue;
    if (!child.zombie) {
      any = true;
      continue;
    }
    if ((req.options & WEXITED) !== 0) return { ready: child, any: true };
  }
  return { ready: null, any };
}

/** do_wait: a result, null for WNOHANG with nothing to report, ECHILD with no such child;
 *  a Promise when it must sleep. */
export function waitForChild(t: Task, req: WaitRequest): WaitResult | null | Promise<WaitResult | null> {
  const { ready, any } = scan(t, req);
  if (!any) fail(ECHILD);
  if (ready) {
    const r = { pid: ready.tgid, status: ready.exitStatus ?? 0, uid: ready.exitUid };
    if ((req.options & WNOWAIT) === 0) reap(t.kernel, ready);
    return r;
  }
  if ((req.options & WNOHANG) !== 0) return null;
  const tg = t.tg;
  return block<void>(t, (wake) => {
    const w = (): void => wake();
    tg.childWaiters.add(w);
    return () => { tg.childWaiters.delete(w); };
  }).then(() => waitForChild(t, req));
}
