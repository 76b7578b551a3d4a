// Signal-driven I/O (Linux fs/fcntl.c: fown_struct, fasync_helper, send_sigio): a file's owner
// (F_SETOWN/F_SETOWN_EX, FIOSETOWN), the signal it gets (F_SETSIG) and, while O_ASYNC is set
// through F_SETFL or FIOASYNC on a file with an fasync operation, a SIGIO (or the F_SETSIG
// signal with si_code POLL_*, si_band and si_fd) each time the file's readiness changes.
//
// Owns the owner/signal state of a description and its readiness subscription; it does not
// know file types: it listens on the waiter queues poll and epoll use (FileDescription.
// addWaiter), and a file opts in with FileDescription.fasync. Differences from Linux, which
// calls kill_fasync at chosen points per file type: a POLL_OUT is sent whenever the file's
// writers are woken and it is writable (Linux sockets only after a send ran out of room, pipes
// after every read), and a write that fills several pipe pages wakes readers once per page.

import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import type { Kernel } from './kernel';
import type { FileDescription } from '../vfs/file_description';
import { sendSignalToProcess, sendSignalToThread } from './signals';
import { sigInfo } from './sig_pending';
import { fail } from './syscall_error';
import { EINVAL, ESRCH } from '../abi/linux/errno';
import { O_ASYNC } from '../abi/linux/fcntl';
import {
  POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDBAND, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM,
} from '../abi/linux/poll';
import { SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGIO, SIGSEGV, SIGSYS, SIGTRAP, SIGURG, validSignal } from '../abi/linux/signal';
import { processGroupIds } from '../syscalls/linux/process_group';
import { findTask } from './ns/pid_ns';

/** struct f_owner_ex types. */
export const F_OWNER_TID = 0, F_OWNER_PID = 1, F_OWNER_PGRP = 2;
/** si_code reasons (POLL_IN..POLL_HUP) and SI_SIGIO. */
export const POLL_IN = 1, POLL_OUT = 2, POLL_MSG = 3, POLL_ERR = 4, POLL_PRI = 5, POLL_HUP = 6;
export const SI_SIGIO = -5;
const SI_KERNEL = 0x80;
/** band_table: the si_band of each reason, after mangle_poll (POLL_MSG carries POLLMSG, 0x400
 *  on x86-64: a dnotify or lease signal's band reads 0x441 on a real kernel). */
const POLLMSG = 0x400;
const BAND: Record<number, number> = {
  [POLL_IN]: POLLIN | POLLRDNORM,
  [POLL_OUT]: POLLOUT | POLLWRNORM | POLLWRBAND,
  [POLL_MSG]: POLLIN | POLLRDNORM | POLLMSG,
  [POLL_ERR]: POLLERR,
  [POLL_PRI]: POLLPRI | POLLRDBAND,
  [POLL_HUP]: POLLHUP | POLLERR,
};

/** Signals whose si_code values are their own (sig_specific_sicodes): POLL_* would be
 *  ambiguous for them, so they get SI_SIGIO. */
const SPECIFIC_CODES = new Set([SIGILL, SIGFPE, SIGSEGV, SIGBUS, SIGTRAP, SIGCHLD, SIGIO, SIGSYS]);

type OwnerType = typeof F_OWNER_TID | typeof F_OWNER_PID | typeof F_OWNER_PGRP;

/** fown_struct plus the file's fasync entry. */
interface FileOwner {
  type: OwnerType;
  /** The id F_GETOWN reports (0: no owner). */
  id: number;
  /** TID owners: the thread; PID owners: the process the id named when it was set (Linux
   *  keeps the struct pid, so a recycled number does not redirect the signals). */
  task: Task | null;
  tg: ThreadGroup | null;
  /** Credentials of whoever set the owner (sigio_perm checks them against each target). */
  uid: number;
  euid: number;
  signum: number;
  /** fasync_struct.fa_fd: the fd O_ASYNC was set through, reported as si_fd. */
  fd: number;
  unsubscribe: (() => void) | null;
}

const owners = new WeakMap<FileDescription, FileOwner>();

function ownerOf(f: FileDescription): FileOwner {
  let o = owners.get(f);
  if (o === undefined) {
    o = { type: F_OWNER_TID, id: 0, task: null, tg: null, uid: 0, euid: 0, signum: 0, fd: -1, unsubscribe: null };
    owners.set(f, o);
  }
  return o;
}

/** find_vpid: whether any task, process group or session has id `id`. */
function pidExists(k: Kernel, id: number): boolean {
  if (k.tasks.has(id)) return true;
  for (const tg of k.threadGroups.values()) {
    const ids = processGroupIds(tg);
    if (ids.pgid === id || ids.sid === id) return true;
  }
  return false;
}

/** __f_setown after the lookup: id 0 clears the owner. */
function setOwner(t: Task, f: FileDescription, type: OwnerType, id: number): void {
  if (id !== 0 && !pidExists(t.kernel, id)) fail(ESRCH);
  const o = ownerOf(f);
  o.type = type;
  o.id = id;
  const named = type === F_OWNER_PGRP || id === 0 ? null : findTask(t, id) ?? null;
  o.task = type === F_OWNER_TID ? named : null;
  o.tg = type === F_OWNER_PID ? named?.tg ?? null : null;
  o.uid = t.creds.uid;
  o.euid = t.creds.euid;
  f.ownerChanged(t, id !== 0);
}

/** F_SETOWN (and FIOSETOWN/SIOCSPGRP): a process, or a process group when negative. */
export function fSetown(t: Task, f: FileDescription, who: number): void {
  if (who === -0x80000000) fail(EINVAL);
  if (who < 0) setOwner(t, f, F_OWNER_PGRP, -who);
  else setOwner(t, f, F_OWNER_PID, who);
}

/** F_GETOWN: the owner, a process group as its negated id. */
export function fGetown(f: FileDescription): number {
  const o = owners.get(f);
  if (!o) return 0;
  return o.type === F_OWNER_PGRP ? -o.id : o.id;
}

/** F_SETOWN_EX. */
export function fSetownEx(t: Task, f: FileDescription, type: number, pid: number): void {
  if (type !== F_OWNER_TID && type !== F_OWNER_PID && type !== F_OWNER_PGRP) fail(EINVAL);
  setOwner(t, f, type, pid);
}

/** F_GETOWN_EX: [type, pid]. */
export function fGetownEx(f: FileDescription): [number, number] {
  const o = owners.get(f);
  return o ? [o.type, o.id] : [F_OWNER_TID, 0];
}

/** F_SETSIG: 0 means SIGIO without siginfo details. */
export function fSetsig(f: FileDescription, sig: number): void {
  if (sig !== 0 && !validSignal(sig)) fail(EINVAL);
  ownerOf(f).signum = sig;
}

export function fGetsig(f: FileDescription): number {
  return owners.get(f)?.signum ?? 0;
}

/** setfl/FIOASYNC: the file's status flags become `flags`; when O_ASYNC flips on a file with
 *  an fasync operation, (un)subscribe. fd is the descriptor the caller used. */
export function setAsyncFlag(t: Task, f: FileDescription, fd: number, flags: number): void {
  const on = (flags & O_ASYNC) !== 0;
  if (on !== ((f.flags & O_ASYNC) !== 0) && f.fasync) {
    const o = ownerOf(f);
    if (on) {
      o.fd = fd;
      const dflt = o.unsubscribe === null ? f.fasyncDefaultOwner() : null;
      if (dflt !== null && o.id === 0) {
        if (dflt < 0) setOwner(t, f, F_OWNER_PGRP, -dflt);
        else setOwner(t, f, F_OWNER_PID, t.tg.tgid);
      }
      o.unsubscribe ??= subscribe(t.kernel, f, o);
    } else {
      o.unsubscribe?.();
      o.unsubscribe = null;
    }
  }
  f.setStatusFlags(flags);
}

const IN_BITS = POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI;
const OUT_BITS = POLLOUT | POLLWRNORM | POLLWRBAND;

function subscribe(k: Kernel, f: FileDescription, o: FileOwner): () => void {
  const undo: (() => void)[] = [];
  // A file being released is off the fasync list before its release runs (__fput): the
  // wake-ups its own close makes are not for it.
  const live = (): boolean => f.refCount > 0;
  if (f.readable) {
    undo.push(f.addWaiter(IN_BITS, () => {
      if (!live()) return;
      const r = f.readiness(IN_BITS | POLLRDHUP);
      if (r & POLLPRI) sendSigio(k, o, POLL_PRI);
      else if (r & (POLLIN | POLLRDNORM | POLLHUP | POLLRDHUP | POLLERR)) sendSigio(k, o, POLL_IN);
    }));
  }
  if (f.writable) {
    undo.push(f.addWaiter(OUT_BITS, () => {
      if (!live()) return;
      const r = f.readiness(OUT_BITS);
      if (r & (POLLOUT | POLLWRNORM)) sendSigio(k, o, POLL_OUT);
    }));
  }
  const dropRelease = f.onRelease(() => { for (const u of undo) u(); });
  return () => {
    for (const u of undo) u();
    dropRelease();
  };
}

/** sigio_perm: the owner's setter may signal t (root, or a real/effective uid match). */
function sigioPerm(o: FileOwner, t: Task): boolean {
  const c = t.creds;
  return o.euid === 0 || o.euid === c.suid || o.euid === c.uid || o.uid === c.suid || o.uid === c.uid;
}

/** lease_setup's __f_setown(force 0): the caller's process owns f unless someone does. */
export function defaultOwner(t: Task, f: FileDescription): void {
  if (ownerOf(f).id === 0) setOwner(t, f, F_OWNER_PID, t.tg.tgid);
}

/** kill_fasync for an fasync entry other than O_ASYNC's (a lease's): f's owner gets its signal
 *  with `reason`, si_fd being `fd`. */
export function signalOwner(k: Kernel, f: FileDescription, fd: number, reason: number): void {
  const o = ownerOf(f);
  sendSigio(k, { ...o, fd }, reason);
}

/** send_sigurg: urgent data arrived on socket f; its owner, if it has one, gets SIGURG
 *  (whether or not O_ASYNC is set). */
export function sendSigurg(k: Kernel, f: FileDescription): void {
  const o = owners.get(f);
  if (o) sendToOwner(k, o, () => sigInfo(SIGURG, SI_KERNEL));
}

/** send_sigio: the owner's signal, to a thread, its process, or every process of a group. */
function sendSigio(k: Kernel, o: FileOwner, reason: number): void {
  sendToOwner(k, o, () => {
    if (o.signum === 0) return sigInfo(SIGIO, SI_KERNEL);
    const code = o.signum !== SIGIO && SPECIFIC_CODES.has(o.signum) ? SI_SIGIO : reason;
    return sigInfo(o.signum, code, { band: BAND[reason], fd: o.fd });
  });
}

function sendToOwner(k: Kernel, o: FileOwner, info: () => ReturnType<typeof sigInfo>): void {
  if (o.id === 0) return;
  if (o.type === F_OWNER_TID) {
    const t = o.task;
    if (t && !t.exited && sigioPerm(o, t)) sendSignalToThread(t, info());
    return;
  }
  if (o.type === F_OWNER_PID) {
    const t = o.tg?.tasks.values().next().value;
    if (o.tg && t && sigioPerm(o, t)) sendSignalToProcess(o.tg, info());
    return;
  }
  const groups: ThreadGroup[] = [];
  for (const tg of k.threadGroups.values()) if (processGroupIds(tg).pgid === o.id) groups.push(tg);
  for (const tg of groups) {
    const t = tg.tasks.values().next().value;
    if (t && sigioPerm(o, t)) sendSignalToProcess(tg, info());
  }
}
