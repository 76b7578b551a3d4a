// access, faccessat, faccessat2 (Linux fs/open.c do_faccessat). The check is made with the
// real uid/gid unless AT_EACCESS asks for the effective ones, for the whole lookup; with the
// real ids come root's permitted capabilities, or none for another uid (access_override_creds).

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, ENOENT } from '../../abi/linux/errno';
import { AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW } from '../../abi/linux/fcntl';
import { SYS_access, SYS_faccessat, SYS_faccessat2 } from '../../abi/linux/syscall_numbers';
import { access, accessStat } from '../../vfs/attr_ops';
import { locate } from '../../vfs/lookup';
import { walk } from '../../vfs/resolve';
import { resolveContext, startOf } from '../../vfs/task_fs';
import type { SyscallTable } from './types';
import { CAP_EMPTY_SET, SECURE_NO_SETUID_FIXUP, issecure } from '../../kernel/capabilities';
import { copyInPath } from './path';

function faccessat(t: Task, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if ((mode & ~7) !== 0) fail(EINVAL);
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) fail(EINVAL);
  const path = copyInPath(t, pathAddr);
  let creds = t.creds;
  if ((flags & AT_EACCESS) === 0) {
    creds = creds.clone();
    creds.fsuid = creds.uid;
    creds.fsgid = creds.gid;
    if (!issecure(creds.securebits, SECURE_NO_SETUID_FIXUP)) {
      creds.capEffective = creds.uid === 0 ? creds.capPermitted : CAP_EMPTY_SET;
    }
  }
  const follow = (flags & AT_SYMLINK_NOFOLLOW) === 0;
  let vd, file;
  if (path === '') {
    ({ vd, file } = locate(t, dirfd, path, follow, (flags & AT_EMPTY_PATH) !== 0));
  } else {
    ({ vd, file } = walk(resolveContext(t, creds), startOf(t, dirfd, path), path, { follow }));
  }
  if (vd) {
    access(creds, vd, mode);
    return 0;
  }
  // A magic link (/proc/self/fd/N) to a file with no place in the tree: a pipe, a socket,
  // the host's stdio. Its inode answers, as Linux's pipefs or sockfs inode would.
  if (!file) fail(ENOENT);
  accessStat(creds, file.stat(), mode);
  return 0;
}

export function registerAccess(table: SyscallTable): void {
  table[SYS_access] = { name: 'access', handler: (t, a) => faccessat(t, AT_FDCWD, a.ptr(0), a.int(1), 0), args: ['path', 'int'] };
  table[SYS_faccessat] = {
    name: 'faccessat', handler: (t, a) => faccessat(t, a.int(0), a.ptr(1), a.int(2), 0), args: ['fd', 'path', 'int'],
  };
  table[SYS_faccessat2] = {
    name: 'faccessat2', handler: (t, a) => faccessat(t, a.int(0), a.ptr(1), a.int(2), a.int(3)),
    args: ['fd', 'path', 'int', 'hex'],
  };
}
