// stat, lstat, fstat, newfstatat, statx (Linux fs/stat.c). Files reached through an fd are
// asked directly; paths go through vfs/lookup, which for now resolves none of them.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import {
  AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW,
} from '../../abi/linux/fcntl';
import { STATX__RESERVED, encodeStat, encodeStatx, type Stat } from '../../abi/linux/stat';
import { SYS_fstat, SYS_lstat, SYS_newfstatat, SYS_stat, SYS_statx } from '../../abi/linux/syscall_numbers';
import { statPath } from '../../vfs/lookup';
import type { SyscallArgs, SyscallTable } from './types';
import { getFile } from './fd_util';
import { copyInPath } from './path';

const STAT_FLAGS = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE;

/** What fstatat/statx look at: the fd itself for an empty path with AT_EMPTY_PATH (a NULL
 *  path counts as empty, as since Linux 6.11), otherwise the path. */
function statAt(t: Task, dirfd: number, pathAddr: number, flags: number): Stat {
  const path = pathAddr === 0 && (flags & AT_EMPTY_PATH) !== 0 ? '' : copyInPath(t, pathAddr);
  if ((flags & ~STAT_FLAGS) !== 0) fail(EINVAL);
  if (path === '' && (flags & AT_EMPTY_PATH) !== 0 && dirfd !== AT_FDCWD) return getFile(t, dirfd).stat();
  return statPath(t, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) === 0);
}

function sysStat(t: Task, a: SyscallArgs): number {
  const st = statPath(t, AT_FDCWD, copyInPath(t, a.ptr(0)), true);
  t.mm.copyOut(a.ptr(1), encodeStat(st));
  return 0;
}

function sysLstat(t: Task, a: SyscallArgs): number {
  const st = statPath(t, AT_FDCWD, copyInPath(t, a.ptr(0)), false);
  t.mm.copyOut(a.ptr(1), encodeStat(st));
  return 0;
}

function sysFstat(t: Task, a: SyscallArgs): number {
  const st = getFile(t, a.int(0)).stat();
  t.mm.copyOut(a.ptr(1), encodeStat(st));
  return 0;
}

function sysNewfstatat(t: Task, a: SyscallArgs): number {
  const st = statAt(t, a.int(0), a.ptr(1), a.int(3));
  t.mm.copyOut(a.ptr(2), encodeStat(st));
  return 0;
}

function sysStatx(t: Task, a: SyscallArgs): number {
  const dirfd = a.int(0);
  const pathAddr = a.ptr(1);
  const flags = a.int(2);
  const mask = a.uint(3);
  if ((mask & STATX__RESERVED) !== 0) fail(EINVAL);
  if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) fail(EINVAL);
  const st = statAt(t, dirfd, pathAddr, flags);
  t.mm.copyOut(a.ptr(4), encodeStatx(st));
  return 0;
}

export function registerStat(table: SyscallTable): void {
  table[SYS_stat] = { name: 'stat', handler: sysStat, args: ['path', 'outptr'] };
  table[SYS_lstat] = { name: 'lstat', handler: sysLstat, args: ['path', 'outptr'] };
  table[SYS_fstat] = { name: 'fstat', handler: sysFstat, args: ['fd', 'outptr'] };
  table[SYS_newfstatat] = { name: 'newfstatat', handler: sysNewfstatat, args: ['fd', 'path', 'outptr', 'hex'] };
  table[SYS_statx] = { name: 'statx', handler: sysStatx, args: ['fd', 'path', 'hex', 'hex', 'outptr'] };
}
