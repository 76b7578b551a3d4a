// Where unix sockets are found (Linux unix_socket_table, unix_find_other): the abstract
// names, the socket inodes of the filesystem (by device and inode number, so that every
// path and every layer that shows the same inode finds the same socket), and the list of
// live sockets /proc/net/unix shows. One table per network namespace (the initial one's kept
// under the kernel); the socket inodes are the file system's, one map shared by all of them.

import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { EACCES, EADDRINUSE, ECONNREFUSED, EEXIST } from '../../abi/linux/errno';
import { AT_FDCWD } from '../../abi/linux/fcntl';
import { S_IFMT, S_IFSOCK } from '../../abi/linux/stat';
import { mknodAt } from '../../vfs/create_ops';
import { MAY_WRITE, checkPermission } from '../../vfs/permission';
import { walk } from '../../vfs/resolve';
import { resolveContext, startOf } from '../../vfs/task_fs';
import type { Inode } from '../../vfs/inode';
import { autobindAddr } from '../sockaddr';
import type { UnixSocket } from './unix_socket';
import { netKey } from '../../kernel/ns/net_ns';

export class UnixNamespace {
  readonly abstract = new Map<string, UnixSocket>();
  constructor(readonly byInode = new Map<string, UnixSocket>()) {}
  readonly live = new Set<UnixSocket>();
  /** Where autobind's search for a free name starts (Linux starts at a random one). */
  private ordernum = 0;

  /** A free 5-hex-digit abstract name (EADDRINUSE once all 2^20 are taken). */
  autobindName(): { key: string; raw: Uint8Array } {
    for (let i = 0; i < 0x100000; i++) {
      const raw = autobindAddr(this.ordernum);
      this.ordernum = (this.ordernum + 1) & 0xfffff;
      const key = String.fromCharCode(...raw.subarray(2));
      if (!this.abstract.has(key)) return { key, raw };
    }
    fail(EADDRINUSE);
  }
}

const tables = new WeakMap<object, UnixNamespace>();

/** The table of t's network namespace. */
export function unixNamespaceOf(t: Task): UnixNamespace {
  const key = netKey(t);
  if (key === t.kernel) return unixNamespace(t.kernel);
  let ns = tables.get(key);
  if (!ns) {
    ns = new UnixNamespace(unixNamespace(t.kernel).byInode);
    tables.set(key, ns);
  }
  return ns;
}

export function unixNamespace(kernel: Kernel): UnixNamespace {
  let ns = tables.get(kernel);
  if (!ns) {
    ns = new UnixNamespace();
    tables.set(kernel, ns);
  }
  return ns;
}

export function inodeKey(inode: Inode): string {
  const st = inode.stat();
  return `${st.dev}:${st.ino}`;
}

/** unix_bind_bsd: make the socket file (mode 0777 less the umask); a name that exists is
 *  EADDRINUSE. Returns the key of the new inode. */
export function mknodSocket(t: Task, path: string): string {
  try {
    const vd = mknodAt(resolveContext(t), startOf(t, AT_FDCWD, path), path, S_IFSOCK | 0o777, 0, t.fs.umask);
    return inodeKey(vd.inode);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === EEXIST) fail(EADDRINUSE);
    throw e;
  }
}

/** unix_find_bsd: the socket bound to the file at path (following symlinks), which the
 *  caller must be allowed to write; ECONNREFUSED when it is not a live socket. */
export function findByPath(t: Task, path: string): UnixSocket {
  const ctx = resolveContext(t);
  const r = walk(ctx, startOf(t, AT_FDCWD, path), path, { follow: true });
  const inode = r.vd?.inode;
  if (!inode) fail(ECONNREFUSED);
  try {
    checkPermission(t.creds, inode, MAY_WRITE);
  } catch {
    fail(EACCES);
  }
  if ((inode.mode & S_IFMT) !== S_IFSOCK) fail(ECONNREFUSED);
  return unixNamespace(t.kernel).byInode.get(inodeKey(inode)) ?? fail(ECONNREFUSED);
}

/** The table of the network namespace kept under key (the kernel for the initial one);
 *  an empty one if no socket was ever made there. */
export function unixTableOf(key: object): UnixNamespace {
  return tables.get(key) ?? new UnixNamespace();
}
