// The one inode every anonymous file shares (Linux fs/anon_inodes.c): eventfd, epoll and
// timerfd descriptions have no place in any tree, and fstat shows them all as the same
// inode of the anon_inodefs pseudo file system, mode 0600, owned by whoever created it.

import type { Task } from './task';
import type { Stat } from '../abi/linux/stat';

/** st_dev of anon_inodefs (an anonymous device; Linux numbers it at boot). */
const ANON_INODEFS_DEV = 0xd;
const ANON_INODE_INO = 1;

export interface AnonOwner { uid: number; gid: number; ctime: number }

export function anonOwner(t: Task): AnonOwner {
  return { uid: t.creds.euid, gid: t.creds.egid, ctime: Date.now() };
}

export function anonInodeStat(o: AnonOwner): Stat {
  const ts = { sec: Math.floor(o.ctime / 1000), nsec: (o.ctime % 1000) * 1_000_000 };
  return {
    dev: ANON_INODEFS_DEV, ino: ANON_INODE_INO, mode: 0o600, nlink: 1, uid: o.uid, gid: o.gid,
    rdev: 0, size: 0, blksize: 4096, blocks: 0, atime: ts, mtime: ts, ctime: ts,
  };
}
