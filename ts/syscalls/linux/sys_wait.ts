// wait4, waitid (Linux kernel/exit.c): which children a call names, and how the result is
// written back (status word and the child's rusage; or the waitid siginfo fields).

import { PidFd } from '../../kernel/pidfd';
import { O_NONBLOCK } from '../../abi/linux/fcntl';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { fail } from '../../kernel/syscall_error';
import { EBADF, EINVAL, ESRCH, EAGAIN } from '../../abi/linux/errno';
import { SIGCHLD } from '../../abi/linux/signal';
import { SYS_wait4, SYS_waitid } from '../../abi/linux/syscall_numbers';
import {
  WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WSTOPPED, WUNTRACED, __WALL, __WCLONE, __WNOTHREAD,
  waitForChild, type WaitResult,
} from '../../kernel/child_wait';
import { childStatusInfo } from '../../kernel/exit';
import { stopStatusInfo } from '../../kernel/job_control';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { pgidIn } from './process_group';
import { tgidIn, tidIn } from '../../kernel/ns/pid_ns';
import { putChildRusage } from './sys_rusage';

const INT_MIN = -0x8000_0000;
const CLD_TRAPPED = 4;
const P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3;

/** Children in process group pgid (0: the caller's), as the caller's namespace numbers it. */
function inGroup(t: Task, pgid: number): (c: ThreadGroup) => boolean {
  const ns = t.threadPid.ns;
  const want = pgid === 0 ? pgidIn(ns, t.tg) : pgid;
  return (c) => pgidIn(ns, c) === want;
}

/** The child (or a tracee thread) whose id in the caller's namespace is `id`. */
function byId(t: Task, id: number): { matches: (c: ThreadGroup) => boolean; matchesTask: (x: Task) => boolean } {
  const ns = t.threadPid.ns;
  return { matches: (c) => tgidIn(ns, c) === id, matchesTask: (x) => tidIn(ns, x) === id };
}

function sysWait4(t: Task, a: SyscallArgs): SyscallReturn {
  const pid = a.int(0);
  const statusAddr = a.ptr(1);
  const options = a.uint(2);
  const rusageAddr = a.ptr(3);
  if ((options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) !== 0) fail(EINVAL);
  // -INT_MIN does not exist.
  if (pid === INT_MIN) fail(ESRCH);
  let matches: (c: ThreadGroup) => boolean;
  let matchesTask: ((x: Task) => boolean) | undefined;
  if (pid > 0) ({ matches, matchesTask } = byId(t, pid));
  else if (pid === -1) matches = () => true;
  else matches = inGroup(t, -pid);
  const done = (r: WaitResult | null): number => {
    if (!r) return 0;
    if (rusageAddr !== 0) putChildRusage(t, rusageAddr, r.child);
    if (statusAddr !== 0) t.mm.writeI32(statusAddr, r.status);
    return r.pid;
  };
  const r = waitForChild(t, { matches, matchesTask, options: options | WEXITED });
  return r instanceof Promise ? r.then(done) : done(r);
}

/** The six siginfo fields waitid writes (the rest of the caller's struct is left alone). */
function putWaitidInfo(t: Task, addr: number, r: WaitResult | null): void {
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  if (r) {
    const s = stopStatusInfo(r.status) ?? childStatusInfo(r.status);
    // A ptrace-stop: the whole stop code (SIGTRAP|0x80, SIGTRAP|event<<8) as si_status.
    if (r.trapped === true) Object.assign(s, { code: CLD_TRAPPED, status: (r.status >>> 8) & 0xffff });
    v.setInt32(0, SIGCHLD, true);
    v.setInt32(8, s.code, true);
    v.setInt32(16, r.pid, true);
    v.setUint32(20, r.uid >>> 0, true);
    v.setInt32(24, s.status, true);
  }
  t.mm.copyOut(addr, b.subarray(0, 12));
  t.mm.copyOut(addr + 16, b.subarray(16, 28));
}

function sysWaitid(t: Task, a: SyscallArgs): SyscallReturn {
  const idtype = a.int(0);
  const id = a.int(1);
  const infoAddr = a.ptr(2);
  const options = a.uint(3);
  const rusageAddr = a.ptr(4);
  if ((options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) !== 0) fail(EINVAL);
  if ((options & (WEXITED | WSTOPPED | WCONTINUED)) === 0) fail(EINVAL);
  let matches: (c: ThreadGroup) => boolean;
  let matchesTask: ((x: Task) => boolean) | undefined;
  let waitOptions = options;
  let notYet = false;
  switch (idtype) {
    case P_ALL: matches = () => true; break;
    case P_PID:
      if (id <= 0) fail(EINVAL);
      ({ matches, matchesTask } = byId(t, id));
      break;
    case P_PGID:
      if (id < 0) fail(EINVAL);
      matches = inGroup(t, id);
      break;
    case P_PIDFD: {
      if (id < 0) fail(EINVAL);
      const f = t.fdTable.get(id);
      if (!(f instanceof PidFd)) fail(EBADF);
      matches = (c) => c === f.tg;
      // A non-blocking pidfd makes the wait WNOHANG, and "not yet" EAGAIN.
      if ((f.flags & O_NONBLOCK) !== 0 && (options & WNOHANG) === 0) {
        waitOptions |= WNOHANG;
        notYet = true;
      }
      break;
    }
    default: fail(EINVAL);
  }
  const done = (r: WaitResult | null): number => {
    // Nothing to report (WNOHANG) leaves the caller's rusage alone, as Linux does.
    if (rusageAddr !== 0 && r) putChildRusage(t, rusageAddr, r.child);
    if (infoAddr !== 0) putWaitidInfo(t, infoAddr, r);
    return 0;
  };
  const r = waitForChild(t, { matches, matchesTask, options: waitOptions });
  if (notYet && r === null) fail(EAGAIN);
  return r instanceof Promise ? r.then(done) : done(r);
}

export function registerWait(table: SyscallTable): void {
  table[SYS_wait4] = { name: 'wait4', handler: sysWait4, args: ['int', 'outptr', 'hex', 'outptr'] };
  table[SYS_waitid] = { name: 'waitid', handler: sysWaitid, args: ['int', 'int', 'outptr', 'hex', 'outptr'] };
}
