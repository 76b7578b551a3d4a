// HostTty: the terminal side of a host fd that is a tty. TCGETS, TCSETS* and TIOCGWINSZ reach
// the real terminal through the addon (a program that wants raw mode gets it, as it would
// outside the sandbox); TIOCSWINSZ and the process-group ioctls only change the sandbox's view.

import { addon } from '../native/addon';
import type { Task } from '../kernel/task';
import { SyscallError } from '../kernel/syscall_error';
import { ENOTTY, EINVAL } from '../abi/linux/errno';
import { TCGETS, TCSETS, TCSETSF, TCSETSW, TIOCGPGRP, TIOCGSID, TIOCGWINSZ, TIOCSPGRP,
  TIOCSWINSZ } from '../abi/linux/ioctl';
import * as T from '../abi/linux/termios';
import { throwHostError } from './host_errno';

/** The root of the sandbox's process tree: every process's default process group. */
function rootTgid(t: Task): number {
  let tg = t.tg;
  while (tg.parent) tg = tg.parent;
  return tg.tgid;
}

export class HostTty {
  private winsize: Uint8Array | null = null;
  private foreground = 0;

  constructor(private readonly hostFd: number) {}

  ioctl(t: Task, cmd: number, arg: number): number {
    switch (cmd) {
      case TCGETS:
        t.mm.copyOut(arg, this.getAttr());
        return 0;
      case TCSETS: case TCSETSW: case TCSETSF: {
        const termios = t.mm.copyIn(arg, T.TERMIOS_SIZE);
        try { addon().ttySetAttr(this.hostFd, cmd - TCSETS, termios); } catch (e) { throwHostError(e); }
        return 0;
      }
      case TIOCGWINSZ:
        t.mm.copyOut(arg, this.getWinsize());
        return 0;
      case TIOCSWINSZ:
        // Only the sandbox's view changes: resizing the user's real terminal is not ours to do.
        this.winsize = t.mm.copyIn(arg, T.WINSIZE_SIZE);
        return 0;
      case TIOCGPGRP:
        t.mm.writeI32(arg, this.foreground || rootTgid(t));
        return 0;
      case TIOCSPGRP: {
        const pgrp = t.mm.readI32(arg);
        if (pgrp < 0) throw new SyscallError(EINVAL);
        this.foreground = pgrp;
        return 0;
      }
      case TIOCGSID:
        t.mm.writeI32(arg, rootTgid(t));
        return 0;
      default:
        throw new SyscallError(ENOTTY);
    }
  }

  private getAttr(): Uint8Array {
    const b = new Uint8Array(T.TERMIOS_SIZE);
    try { addon().ttyGetAttr(this.hostFd, b); } catch (e) { throwHostError(e); }
    return b;
  }

  private getWinsize(): Uint8Array {
    if (this.winsize) return this.winsize;
    const b = new Uint8Array(T.WINSIZE_SIZE);
    try { addon().ttyGetWinsize(this.hostFd, b); } catch (e) { throwHostError(e); }
    return b;
  }
}
