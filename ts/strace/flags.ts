// Symbolic names for flag and enum arguments, as strace prints them: O_*, PROT_*, MAP_*,
// SEEK_*, F_*, ioctl requests, clock ids and signals.

import * as F from '../abi/linux/fcntl';
import * as M from '../abi/linux/mm';
import * as I from '../abi/linux/ioctl';
import { clockName } from '../abi/linux/time';
import { signalName, validSignal } from '../abi/linux/signal';

type Names = [number, string][];

/** Names of the set bits, then any left-over bits in hex; `zero` if none is set. */
export function bitNames(value: number, names: Names, zero: string): string {
  const out: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of names) {
    if (bit !== 0 && (rest & bit) === bit) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) out.push(`0x${rest.toString(16)}`);
  return out.length ? out.join('|') : zero;
}

const OPEN_FLAGS: Names = [
  [F.O_CREAT, 'O_CREAT'], [F.O_EXCL, 'O_EXCL'], [F.O_NOCTTY, 'O_NOCTTY'], [F.O_TRUNC, 'O_TRUNC'],
  [F.O_APPEND, 'O_APPEND'], [F.O_NONBLOCK, 'O_NONBLOCK'], [F.O_SYNC, 'O_SYNC'], [F.O_DSYNC, 'O_DSYNC'],
  [F.O_ASYNC, 'O_ASYNC'], [F.O_DIRECT, 'O_DIRECT'], [F.O_LARGEFILE, 'O_LARGEFILE'],
  [F.O_TMPFILE, 'O_TMPFILE'], [F.O_DIRECTORY, 'O_DIRECTORY'], [F.O_NOFOLLOW, 'O_NOFOLLOW'],
  [F.O_NOATIME, 'O_NOATIME'], [F.O_CLOEXEC, 'O_CLOEXEC'], [F.O_PATH, 'O_PATH'],
];
const ACCESS_MODES = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'];

export function openFlags(v: number): string {
  const rest = bitNames(v & ~F.O_ACCMODE, OPEN_FLAGS, '');
  const mode = ACCESS_MODES[v & F.O_ACCMODE];
  return rest ? `${mode}|${rest}` : mode;
}

const PROT: Names = [[M.PROT_READ, 'PROT_READ'], [M.PROT_WRITE, 'PROT_WRITE'], [M.PROT_EXEC, 'PROT_EXEC'],
  [M.PROT_SEM, 'PROT_SEM'], [M.PROT_GROWSDOWN, 'PROT_GROWSDOWN'], [M.PROT_GROWSUP, 'PROT_GROWSUP']];

export function protFlags(v: number): string {
  return bitNames(v, PROT, 'PROT_NONE');
}

const MAP_TYPES: Record<number, string> = {
  [M.MAP_SHARED]: 'MAP_SHARED', [M.MAP_PRIVATE]: 'MAP_PRIVATE', [M.MAP_SHARED_VALIDATE]: 'MAP_SHARED_VALIDATE',
};
const MAP_FLAGS: Names = [
  [M.MAP_FIXED, 'MAP_FIXED'], [M.MAP_ANONYMOUS, 'MAP_ANONYMOUS'], [M.MAP_32BIT, 'MAP_32BIT'],
  [M.MAP_GROWSDOWN, 'MAP_GROWSDOWN'], [M.MAP_DENYWRITE, 'MAP_DENYWRITE'], [M.MAP_EXECUTABLE, 'MAP_EXECUTABLE'],
  [M.MAP_LOCKED, 'MAP_LOCKED'], [M.MAP_NORESERVE, 'MAP_NORESERVE'], [M.MAP_POPULATE, 'MAP_POPULATE'],
  [M.MAP_NONBLOCK, 'MAP_NONBLOCK'], [M.MAP_STACK, 'MAP_STACK'], [M.MAP_HUGETLB, 'MAP_HUGETLB'],
  [M.MAP_SYNC, 'MAP_SYNC'], [M.MAP_FIXED_NOREPLACE, 'MAP_FIXED_NOREPLACE'],
  [M.MAP_UNINITIALIZED, 'MAP_UNINITIALIZED'],
];

export function mmapFlags(v: number): string {
  const type = MAP_TYPES[v & M.MAP_TYPE] ?? `0x${(v & M.MAP_TYPE).toString(16)}`;
  const rest = bitNames(v & ~M.MAP_TYPE, MAP_FLAGS, '');
  return rest ? `${type}|${rest}` : type;
}

const WHENCE = ['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE'];

export function whenceName(v: number): string {
  return WHENCE[v] ?? `${v}`;
}

const FCNTL_CMDS: Record<number, string> = {
  [F.F_DUPFD]: 'F_DUPFD', [F.F_GETFD]: 'F_GETFD', [F.F_SETFD]: 'F_SETFD', [F.F_GETFL]: 'F_GETFL',
  [F.F_SETFL]: 'F_SETFL', [F.F_GETLK]: 'F_GETLK', [F.F_SETLK]: 'F_SETLK', [F.F_SETLKW]: 'F_SETLKW',
  [F.F_SETOWN]: 'F_SETOWN', [F.F_GETOWN]: 'F_GETOWN', [F.F_SETSIG]: 'F_SETSIG', [F.F_GETSIG]: 'F_GETSIG',
  [F.F_SETOWN_EX]: 'F_SETOWN_EX', [F.F_GETOWN_EX]: 'F_GETOWN_EX', [F.F_OFD_GETLK]: 'F_OFD_GETLK',
  [F.F_OFD_SETLK]: 'F_OFD_SETLK', [F.F_OFD_SETLKW]: 'F_OFD_SETLKW', [F.F_SETLEASE]: 'F_SETLEASE',
  [F.F_GETLEASE]: 'F_GETLEASE', [F.F_NOTIFY]: 'F_NOTIFY', [F.F_DUPFD_CLOEXEC]: 'F_DUPFD_CLOEXEC',
  [F.F_SETPIPE_SZ]: 'F_SETPIPE_SZ', [F.F_GETPIPE_SZ]: 'F_GETPIPE_SZ', [F.F_ADD_SEALS]: 'F_ADD_SEALS',
  [F.F_GET_SEALS]: 'F_GET_SEALS',
};

export function fcntlCmdName(v: number): string {
  return FCNTL_CMDS[v] ?? `${v}`;
}

const IOCTLS: Record<number, string> = {
  [I.TCGETS]: 'TCGETS', [I.TCSETS]: 'TCSETS', [I.TCSETSW]: 'TCSETSW', [I.TCSETSF]: 'TCSETSF',
  [I.TIOCSCTTY]: 'TIOCSCTTY', [I.TIOCGPGRP]: 'TIOCGPGRP', [I.TIOCSPGRP]: 'TIOCSPGRP',
  [I.TIOCOUTQ]: 'TIOCOUTQ', [I.TIOCGWINSZ]: 'TIOCGWINSZ', [I.TIOCSWINSZ]: 'TIOCSWINSZ',
  [I.FIONREAD]: 'FIONREAD', [I.TIOCNOTTY]: 'TIOCNOTTY', [I.FIONBIO]: 'FIONBIO', [I.TIOCGSID]: 'TIOCGSID',
  [I.TCGETS2]: 'TCGETS2', [I.TCSETS2]: 'TCSETS2', [I.TIOCGPTN]: 'TIOCGPTN', [I.TIOCSPTLCK]: 'TIOCSPTLCK',
  [I.FIONCLEX]: 'FIONCLEX', [I.FIOCLEX]: 'FIOCLEX', [I.FIOASYNC]: 'FIOASYNC',
};

export function ioctlName(v: number): string {
  return IOCTLS[v] ?? `0x${(v >>> 0).toString(16)}`;
}

export function clockIdName(v: number): string {
  return clockName(v) ?? `${v}`;
}

export function signalArg(v: number): string {
  return validSignal(v) ? signalName(v) : `${v}`;
}
