// HostTty: the terminal side of a host fd that is a tty: tsvisor's own terminal, which the
// sandbox calls /dev/console and gives its first session as controlling terminal. TCGETS,
// TCSETS* and TIOCGWINSZ reach the real terminal through the addon (a program that wants raw
// mode gets it, as it would outside the sandbox); TIOCSWINSZ and the job-control state (the
// foreground group, the session) are the sandbox's own, shared by every fd on it.

import { addon } from '../native/addon';
import type { Task } from '../kernel/task';
import { SyscallError } from '../kernel/syscall_error';
import { ENOTTY } from '../abi/linux/errno';
import { O_ACCMODE, O_WRONLY } from '../abi/linux/fcntl';
import { SIGWINCH } from '../abi/linux/signal';
import { TCGETS, TCSETS, TCSETSF, TCSETSW, TIOCGWINSZ, TIOCSWINSZ } from '../abi/linux/ioctl';
import * as T from '../abi/linux/termios';
import {
  JobControlTty, jobControlIoctl, signalProcessGroup, ttyCheckChange, ttyCheckRead, ttyCheckWrite,
} from '../kernel/job_control_tty';
import type { FileDescription } from './file_description';
import type { Stat } from '../abi/linux/stat';
import { throwHostError } from './host_errno';

const TOSTOP = 0o400;
/** The sandbox's first process: its session owns the console. */
const ROOT_TGID = 1;

/** The console: one per sentry, whichever of its stdio fds are the terminal. */
interface Console {
  hostFd: number;
  job: JobControlTty;
  winsize: Uint8Array | null;
}

let theConsole: Console | null = null;
/** Opens the console anew (/dev/tty, /dev/console): set by the host file layer. */
let openConsole: ((hostFd: number, flags: number) => FileDescription) | null = null;

let consoleNode: { path: string; stat: () => Stat } | null = null;

/** The sandbox's /dev/console node: the host tty files report its identity, so that
 *  ttyname() finds them there. */
export function setConsoleNode(path: string, stat: () => Stat): void {
  consoleNode = { path, stat };
}

export function consoleNodeStat(): Stat | null { return consoleNode ? consoleNode.stat() : null; }
export function consoleNodePath(): string | null { return consoleNode?.path ?? null; }

export function setConsoleOpener(f: (hostFd: number, flags: number) => FileDescription): void {
  openConsole = f;
}

/** The console's job-control state, if tsvisor runs on a terminal. */
export function consoleTty(): JobControlTty | null { return theConsole?.job ?? null; }

/** A new open file of the console (for /dev/console), or null without one. */
export function reopenConsole(flags: number): FileDescription | null {
  return theConsole && openConsole ? openConsole(theConsole.hostFd, flags) : null;
}

function getConsole(hostFd: number): Console {
  if (!theConsole) {
    const job = new JobControlTty((_t, flags) => {
      const f = reopenConsole(flags);
      if (!f) throw new SyscallError(ENOTTY);
      return f;
    });
    // The first session's, with the first process's group in the foreground.
    job.sid = ROOT_TGID;
    job.pgrp = ROOT_TGID;
    theConsole = { hostFd, job, winsize: null };
  }
  return theConsole;
}

export class HostTty {
  private readonly console: Console;

  constructor(private readonly hostFd: number) {
    this.console = getConsole(hostFd);
  }

  get job(): JobControlTty { return this.console.job; }

  /** A background job reading the terminal: SIGTTIN (n_tty job_control). */
  checkRead(t: Task): void { ttyCheckRead(t, this.console.job); }

  /** A background job writing with TOSTOP set: SIGTTOU. */
  checkWrite(t: Task): void {
    ttyCheckWrite(t, this.console.job, () => (new DataView(this.getAttr().buffer).getUint32(12, true) & TOSTOP) !== 0);
  }

  ioctl(t: Task, cmd: number, arg: number, flags: number): number {
    switch (cmd) {
      case TCGETS:
        t.mm.copyOut(arg, this.getAttr());
        return 0;
      case TCSETS: case TCSETSW: case TCSETSF: {
        ttyCheckChange(t, this.console.job);
        const termios = t.mm.copyIn(arg, T.TERMIOS_SIZE);
        try { addon().ttySetAttr(this.hostFd, cmd - TCSETS, termios); } catch (e) { throwHostError(e); }
        return 0;
      }
      case TIOCGWINSZ:
        t.mm.copyOut(arg, this.getWinsize());
        return 0;
      case TIOCSWINSZ: {
        // Only the sandbox's view changes: resizing the user's real terminal is not ours to do.
        const b = t.mm.copyIn(arg, T.WINSIZE_SIZE);
        const same = b.every((v, i) => v === this.getWinsize()[i]);
        this.console.winsize = b;
        if (!same) signalProcessGroup(t.kernel, this.console.job.pgrp, SIGWINCH);
        return 0;
      }
      default: {
        const r = jobControlIoctl(t, this.console.job, cmd, arg, (flags & O_ACCMODE) !== O_WRONLY);
        if (r === null) throw new SyscallError(ENOTTY);
        return r;
      }
    }
  }

  private getAttr(): Uint8Array {
    const b = new Uint8Array(T.TERMIOS_SIZE);
    try { addon().ttyGetAttr(this.hostFd, b); } catch (e) { throwHostError(e); }
    return b;
  }

  private getWinsize(): Uint8Array {
    if (this.console.winsize) return this.console.winsize;
    const b = new Uint8Array(T.WINSIZE_SIZE);
    try { addon().ttyGetWinsize(this.hostFd, b); } catch (e) { throwHostError(e); }
    return b;
  }
}
