// Terminals and job control (Linux drivers/tty/tty_jobctrl.c): the controlling terminal of a
// session, its foreground process group, the ioctls that read and change them, and the
// checks that stop a background job touching the terminal (SIGTTIN on read, SIGTTOU on
// write with TOSTOP and on mode changes). Every terminal (pty replica, host console) keeps a
// JobControlTty and calls these.

import { EINVAL, EIO, ENOTTY, EPERM, ERESTARTSYS, ESRCH } from '../abi/linux/errno';
import { SIGCONT, SIGHUP, SIGTTIN, SIGTTOU, SIG_IGN, sigBit } from '../abi/linux/signal';
import { TIOCGPGRP, TIOCGSID, TIOCNOTTY, TIOCSCTTY, TIOCSPGRP } from '../abi/linux/ioctl';
import { signalActions } from '../syscalls/linux/signal_state';
import {
  isPgrpOrphaned, processGroupExists, processGroupIds, processGroupInSession,
} from '../syscalls/linux/process_group';
import { CAP_SYS_ADMIN } from './capabilities';
import type { Kernel } from './kernel';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import type { FileDescription } from '../vfs/file_description';
import { SyscallError } from './syscall_error';
import { sigInfo } from './sig_pending';
import { SI_KERNEL, sendSignalToProcess } from './signals';

export class JobControlTty {
  /** The session this is the controlling terminal of (tty->session); 0 for none. */
  sid = 0;
  /** The foreground process group (tty->pgrp); 0 for none. */
  pgrp = 0;
  /** vhangups so far (tty_hungup_p): a file opened before the last one is hung up. */
  hangups = 0;
  /** Wakes whoever waits on the terminal's files when it is hung up. */
  onHangup: (() => void) | null = null;
  /** A new open file of this terminal: what /dev/tty gives its session. */
  constructor(readonly reopen: (t: Task, flags: number) => FileDescription) {}
}

/** The caller's controlling terminal, if it still is one. */
export function controllingTty(t: Task): JobControlTty | null {
  return controllingTtyOf(t.tg);
}

export function controllingTtyOf(tg: ThreadGroup): JobControlTty | null {
  const ids = processGroupIds(tg);
  const tty = ids.tty ?? null;
  return tty && tty.sid === ids.sid ? tty : null;
}

/** Send sig to every process of group pgrp (kill_pgrp from the kernel). */
export function signalProcessGroup(k: Kernel, pgrp: number, sig: number): void {
  if (pgrp <= 0) return;
  for (const tg of [...k.threadGroups.values()]) {
    if (!tg.zombie && processGroupIds(tg).pgid === pgrp) sendSignalToProcess(tg, sigInfo(sig, SI_KERNEL));
  }
}

/** tty_open's last step: a session leader without a terminal that opens one (no O_NOCTTY)
 *  which is nobody's acquires it. */
export function maybeAcquireTty(t: Task, tty: JobControlTty): void {
  const ids = processGroupIds(t.tg);
  if (ids.sid !== t.tg.tgid || controllingTty(t) || tty.sid !== 0) return;
  setCtty(t, tty);
}

function setCtty(t: Task, tty: JobControlTty): void {
  const ids = processGroupIds(t.tg);
  tty.sid = ids.sid;
  tty.pgrp = ids.pgid;
  // Every process of the session that has none gets it (they share signal->tty in Linux
  // only through fork; the leader acquiring it is what makes children inherit it).
  ids.tty = tty;
}

function isIgnoredOrBlocked(t: Task, sig: number): boolean {
  return signalActions(t.tg)[sig].handler === SIG_IGN || (t.sigMask & sigBit(sig)) !== 0n;
}

function isBackground(t: Task, tty: JobControlTty): boolean {
  return controllingTty(t) === tty && tty.pgrp !== 0 && processGroupIds(t.tg).pgid !== tty.pgrp;
}

function restart(t: Task): never {
  t.syscallRestart = ERESTARTSYS;
  throw new SyscallError(ERESTARTSYS);
}

/** __tty_check_change: a background job that writes (with TOSTOP) or changes the terminal
 *  gets SIGTTOU and the call restarts; allowed if it blocks or ignores SIGTTOU; EIO when
 *  its group is orphaned. */
export function ttyCheckChange(t: Task, tty: JobControlTty): void {
  if (!isBackground(t, tty)) return;
  if (isIgnoredOrBlocked(t, SIGTTOU)) return;
  if (isPgrpOrphaned(t.kernel, t.tg)) throw new SyscallError(EIO);
  signalProcessGroup(t.kernel, processGroupIds(t.tg).pgid, SIGTTOU);
  restart(t);
}

/** A write: SIGTTOU for a background job only when TOSTOP is set (asked last: it may cost
 *  a host ioctl). */
export function ttyCheckWrite(t: Task, tty: JobControlTty, tostop: () => boolean): void {
  if (isBackground(t, tty) && tostop()) ttyCheckChange(t, tty);
}

/** n_tty's job_control for read: a background reader gets SIGTTIN (EIO if it ignores or
 *  blocks it, or its group is orphaned). */
export function ttyCheckRead(t: Task, tty: JobControlTty): void {
  if (!isBackground(t, tty)) return;
  if (isIgnoredOrBlocked(t, SIGTTIN) || isPgrpOrphaned(t.kernel, t.tg)) throw new SyscallError(EIO);
  signalProcessGroup(t.kernel, processGroupIds(t.tg).pgid, SIGTTIN);
  restart(t);
}

/** The job-control ioctls every terminal shares; null when cmd is not one. `readable`: the
 *  file was opened for reading (TIOCSCTTY needs it). */
export function jobControlIoctl(t: Task, tty: JobControlTty, cmd: number, arg: number, readable: boolean): number | null {
  switch (cmd) {
    case TIOCGPGRP:
      if (controllingTty(t) !== tty) throw new SyscallError(ENOTTY);
      t.mm.writeI32(arg, tty.pgrp);
      return 0;
    case TIOCSPGRP: {
      ttyCheckChange(t, tty);
      const ids = processGroupIds(t.tg);
      if (controllingTty(t) !== tty) throw new SyscallError(ENOTTY);
      const pgrp = t.mm.readI32(arg);
      if (pgrp < 0) throw new SyscallError(EINVAL);
      if (!processGroupExists(t.kernel, pgrp)) throw new SyscallError(ESRCH);
      if (!processGroupInSession(t.kernel, pgrp, ids.sid)) throw new SyscallError(EPERM);
      tty.pgrp = pgrp;
      return 0;
    }
    case TIOCGSID:
      if (controllingTty(t) !== tty || tty.sid === 0) throw new SyscallError(ENOTTY);
      t.mm.writeI32(arg, tty.sid);
      return 0;
    case TIOCSCTTY: {
      const ids = processGroupIds(t.tg);
      if (ids.sid === t.tg.tgid && tty.sid === ids.sid) return 0;
      if (ids.sid !== t.tg.tgid || controllingTty(t)) throw new SyscallError(EPERM);
      const admin = t.creds.hasCapability(CAP_SYS_ADMIN);
      if (!readable && !admin) throw new SyscallError(EPERM);
      if (tty.sid !== 0) {
        if (arg !== 1 || !admin) throw new SyscallError(EPERM);
        // Stolen: every process of the old session loses it.
        for (const tg of t.kernel.threadGroups.values()) {
          const o = processGroupIds(tg);
          if (o.tty === tty) o.tty = null;
        }
      }
      setCtty(t, tty);
      return 0;
    }
    case TIOCNOTTY: {
      if (controllingTty(t) !== tty) throw new SyscallError(ENOTTY);
      const ids = processGroupIds(t.tg);
      if (ids.sid === t.tg.tgid) disassociateCtty(t.kernel, tty);
      else ids.tty = null;
      return 0;
    }
    default:
      return null;
  }
}

/** disassociate_ctty: the session loses its terminal; its foreground job gets SIGHUP, and
 *  SIGCONT too unless the leader is exiting. */
export function disassociateCtty(k: Kernel, tty: JobControlTty, onExit = false): void {
  const pgrp = tty.pgrp;
  const sid = tty.sid;
  tty.sid = 0;
  tty.pgrp = 0;
  for (const tg of k.threadGroups.values()) {
    const o = processGroupIds(tg);
    if (o.tty === tty && o.sid === sid) o.tty = null;
  }
  signalProcessGroup(k, pgrp, SIGHUP);
  if (!onExit) signalProcessGroup(k, pgrp, SIGCONT);
}
