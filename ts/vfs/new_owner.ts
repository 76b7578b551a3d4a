// inode_init_owner: who owns a file being made, for every file system that makes files (tmpfs
// in memory, the gofer's on the host, where the gofer creates as its own user and the owner
// is set after).

import type { Credentials } from '../kernel/credentials';
import { S_IFDIR, S_IFMT } from '../abi/linux/stat';

/** Owner and group of a new file: the caller's fsuid, and the directory's group if it is
 *  setgid (a new subdirectory inherits the setgid bit), else the caller's fsgid. */
export function newOwner(dir: { mode: number; gid: number }, creds: Credentials, mode: number): { uid: number; gid: number; mode: number } {
  if (dir.mode & 0o2000) {
    return { uid: creds.fsuid, gid: dir.gid, mode: (mode & S_IFMT) === S_IFDIR ? mode | 0o2000 : mode };
  }
  return { uid: creds.fsuid, gid: creds.fsgid, mode };
}
