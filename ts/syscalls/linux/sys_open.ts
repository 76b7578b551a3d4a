// open, openat, openat2, creat (Linux fs/open.c). The flags are decoded here; the open itself
// is vfs/open.ts. The new fd gets FD_CLOEXEC from O_CLOEXEC, and counts against
// RLIMIT_NOFILE.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { E2BIG, EINVAL, ENOENT } from '../../abi/linux/errno';
import {
  AT_FDCWD, O_ACCMODE, O_APPEND, O_ASYNC, O_CLOEXEC, O_CREAT, O_DIRECT, O_DIRECTORY, O_DSYNC, O_EXCL,
  O_LARGEFILE, O_NOATIME, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_TRUNC, O_WRONLY, __O_SYNC, __O_TMPFILE,
} from '../../abi/linux/fcntl';
import {
  RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV,
} from '../../abi/linux/fs';
import { SYS_creat, SYS_open, SYS_openat, SYS_openat2 } from '../../abi/linux/syscall_numbers';
import { openAt, type OpenRequest } from '../../vfs/open';
import { OpenWait } from '../../vfs/open_wait';
import { FifoFile } from '../../kernel/fifo';
import { resolveContext, startOf } from '../../vfs/task_fs';
import type { SyscallArgs, SyscallTable } from './types';
import { nofileLimit } from './fd_util';
import { copyInPath } from './path';

const VALID_OPEN_FLAGS = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |
  O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | __O_TMPFILE | __O_SYNC;
const VALID_RESOLVE = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH |
  RESOLVE_IN_ROOT | RESOLVE_CACHED;
const OPEN_HOW_SIZE_VER0 = 24;
const O_PATH_FLAGS = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;

/** build_open_flags' checks of the flags alone, made before the path is read: O_CREAT with
 *  O_DIRECTORY (Linux 6.4+), O_TMPFILE without O_DIRECTORY or without write access. */
function checkOpenFlags(flags: number): void {
  if ((flags & (O_DIRECTORY | O_CREAT)) === (O_DIRECTORY | O_CREAT)) fail(EINVAL);
  if (flags & __O_TMPFILE) {
    if ((flags & O_DIRECTORY) === 0 || (flags & O_ACCMODE) === O_RDONLY) fail(EINVAL);
  }
}

/** open/openat/creat (build_open_how): unknown flags are dropped, O_PATH keeps only the few
 *  flags that go with it, then the checks. */
function openHowFlags(flags: number): number {
  let f = flags & VALID_OPEN_FLAGS;
  if (f & O_PATH) f &= O_PATH_FLAGS;
  checkOpenFlags(f);
  return flags;
}

export function openPath(t: Task, dirfd: number, path: string, flags: number, mode: number,
  resolve = 0): number | Promise<number> {
  if (path === '') fail(ENOENT);
  const start = startOf(t, dirfd, path);
  const ctx = resolveContext(t);
  const req: OpenRequest = { flags, mode, umask: t.fs.umask };
  if (resolve !== 0) {
    req.resolve = {
      noSymlinks: (resolve & RESOLVE_NO_SYMLINKS) !== 0,
      noMagicLinks: (resolve & RESOLVE_NO_MAGICLINKS) !== 0,
      noXdev: (resolve & RESOLVE_NO_XDEV) !== 0,
      beneath: (resolve & RESOLVE_BENEATH) !== 0,
    };
    // RESOLVE_IN_ROOT: the start directory is the root for this one lookup.
    if (resolve & RESOLVE_IN_ROOT) ctx.root = start;
  }
  let f;
  try {
    f = openAt(ctx, start, path, req);
  } catch (e) {
    // A lease is being broken, or the host makes the gofer's open wait: wait (interruptibly),
    // then open again.
    if (e instanceof OpenWait) {
      return e.wait(t).then(() => openPath(t, dirfd, path, flags, mode, resolve)).finally(() => e.done());
    }
    throw e;
  }
  const install = (): number => {
    try {
      return t.fdTable.newFD(f, { cloexec: (flags & O_CLOEXEC) !== 0, limit: nofileLimit(t) });
    } finally {
      f.decRef();
    }
  };
  // A FIFO's open waits for the other side (interruptible: restarted or EINTR).
  const wait = f instanceof FifoFile ? f.waitForPartner(t) : null;
  if (wait === null) return install();
  return wait.then(install, (e: unknown) => {
    f.decRef();
    throw e;
  });
}

function sysOpenat2(t: Task, a: SyscallArgs): number | Promise<number> {
  const size = a.size(3);
  if (size < OPEN_HOW_SIZE_VER0) fail(EINVAL);
  if (size > 4096) fail(E2BIG);
  const how = t.mm.copyIn(a.ptr(2), size);
  // Fields past the ones this kernel knows must be zero.
  if (how.subarray(OPEN_HOW_SIZE_VER0).some((b) => b !== 0)) fail(E2BIG);
  const v = new DataView(how.buffer, how.byteOffset, how.byteLength);
  const flags = v.getBigUint64(0, true);
  const mode = v.getBigUint64(8, true);
  const resolve = v.getBigUint64(16, true);
  if ((flags & ~BigInt(VALID_OPEN_FLAGS)) !== 0n) fail(EINVAL);
  if ((resolve & ~BigInt(VALID_RESOLVE)) !== 0n) fail(EINVAL);
  const f = Number(flags);
  if (mode > 0o7777n || (mode !== 0n && (f & (O_CREAT | __O_TMPFILE)) === 0)) fail(EINVAL);
  if ((resolve & BigInt(RESOLVE_BENEATH)) && (resolve & BigInt(RESOLVE_IN_ROOT))) fail(EINVAL);
  // openat2 is strict where open strips: O_PATH with anything else is EINVAL.
  if ((f & O_PATH) && (f & ~O_PATH_FLAGS)) fail(EINVAL);
  checkOpenFlags(f);
  return openPath(t, a.int(0), copyInPath(t, a.ptr(1)), f, Number(mode), Number(resolve));
}

export function registerOpen(table: SyscallTable): void {
  table[SYS_open] = {
    name: 'open', handler: (t, a) => { const f = openHowFlags(a.int(1)); return openPath(t, AT_FDCWD, copyInPath(t, a.ptr(0)), f, a.uint(2)); },
    args: ['path', 'oflags', 'mode'],
  };
  table[SYS_openat] = {
    name: 'openat', handler: (t, a) => { const f = openHowFlags(a.int(2)); return openPath(t, a.int(0), copyInPath(t, a.ptr(1)), f, a.uint(3)); },
    args: ['fd', 'path', 'oflags', 'mode'],
  };
  table[SYS_creat] = {
    name: 'creat',
    handler: (t, a) => openPath(t, AT_FDCWD, copyInPath(t, a.ptr(0)), O_CREAT | O_WRONLY | O_TRUNC, a.uint(1)),
    args: ['path', 'mode'],
  };
  table[SYS_openat2] = { name: 'openat2', handler: sysOpenat2, args: ['fd', 'path', 'ptr', 'size'] };
}
