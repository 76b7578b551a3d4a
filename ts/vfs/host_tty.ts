// HostTty: the terminal side of a host fd that is a tty (TCGETS/TCSETS*, TIOCGWINSZ...). The
// addon's contract has no ioctl, so unless a build of it offers the optional tty entry points
// below, termios is emulated: TCGETS starts from a standard cooked-mode termios (what a fresh
// Linux pty gives: ICRNL|IXON, OPOST|ONLCR, B38400|CS8|CREAD, ISIG|ICANON|ECHO|ECHOE|ECHOK|
// ECHOCTL|ECHOKE|IEXTEN, the usual control characters) and TCSETS* only update that copy, so
// a program sees its own settings back but the host terminal stays cooked. The window size
// comes from Node's view of the terminal on stdout/stderr.

import * as tty from 'node:tty';
import { addon } from '../native/addon';
import type { Task } from '../kernel/task';
import { SyscallError } from '../kernel/syscall_error';
import { ENOTTY, EINVAL } from '../abi/linux/errno';
import { TCGETS, TCSETS, TCSETSF, TCSETSW, TIOCGPGRP, TIOCGSID, TIOCGWINSZ, TIOCSPGRP,
  TIOCSWINSZ } from '../abi/linux/ioctl';
import * as T from '../abi/linux/termios';
import { throwHostError } from './host_errno';

/** Entry points a build of the addon may add for real host terminal control. */
interface TtyAddon {
  ttyGetAttr?(fd: number, termios: Uint8Array): void;
  ttySetAttr?(fd: number, optionalActions: number, termios: Uint8Array): void;
  ttyGetWinsize?(fd: number, winsize: Uint8Array): void;
}

function ttyAddon(): TtyAddon {
  try {
    return addon() as unknown as TtyAddon;
  } catch {
    return {};
  }
}

export function defaultTermios(): Uint8Array {
  const b = new Uint8Array(T.TERMIOS_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, T.ICRNL | T.IXON, true);
  v.setUint32(4, T.OPOST | T.ONLCR, true);
  v.setUint32(8, T.B38400 | T.CS8 | T.CREAD, true);
  v.setUint32(12, T.ISIG | T.ICANON | T.ECHO | T.ECHOE | T.ECHOK | T.ECHOCTL | T.ECHOKE | T.IEXTEN, true);
  const cc = b.subarray(17);
  cc[T.VINTR] = 0x03; cc[T.VQUIT] = 0x1c; cc[T.VERASE] = 0x7f; cc[T.VKILL] = 0x15;
  cc[T.VEOF] = 0x04; cc[T.VTIME] = 0; cc[T.VMIN] = 1; cc[T.VSTART] = 0x11; cc[T.VSTOP] = 0x13;
  cc[T.VSUSP] = 0x1a; cc[T.VREPRINT] = 0x12; cc[T.VDISCARD] = 0x0f; cc[T.VWERASE] = 0x17;
  cc[T.VLNEXT] = 0x16;
  return b;
}

/** [columns, rows] of the host terminal as Node sees it, 80x24 if it cannot tell. */
function nodeWindowSize(): [number, number] {
  for (const [fd, stream] of [[1, process.stdout], [2, process.stderr]] as const) {
    // isatty first: touching process.stdout on a pipe would make libuv set it non-blocking.
    if (tty.isatty(fd) && stream.isTTY) {
      const [c, r] = stream.getWindowSize();
      if (c > 0 && r > 0) return [c, r];
    }
  }
  return [80, 24];
}

/** The root of the sandbox's process tree: every process's default process group. */
function rootTgid(t: Task): number {
  let tg = t.tg;
  while (tg.parent) tg = tg.parent;
  return tg.tgid;
}

export class HostTty {
  private termios: Uint8Array | null = null;
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
        const set = ttyAddon().ttySetAttr;
        if (set) {
          try { set(this.hostFd, cmd - TCSETS, termios); } catch (e) { throwHostError(e); }
        }
        this.termios = termios;
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
    const get = ttyAddon().ttyGetAttr;
    if (get && !this.termios) {
      const b = new Uint8Array(T.TERMIOS_SIZE);
      try { get(this.hostFd, b); } catch (e) { throwHostError(e); }
      return b;
    }
    this.termios ??= defaultTermios();
    return this.termios;
  }

  private getWinsize(): Uint8Array {
    if (this.winsize) return this.winsize;
    const b = new Uint8Array(T.WINSIZE_SIZE);
    const get = ttyAddon().ttyGetWinsize;
    if (get) {
      try { get(this.hostFd, b); return b; } catch (e) { throwHostError(e); }
    }
    const [cols, rows] = nodeWindowSize();
    const v = new DataView(b.buffer);
    v.setUint16(0, rows, true);
    v.setUint16(2, cols, true);
    return b;
  }
}
