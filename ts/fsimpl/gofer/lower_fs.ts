// LowerFS: the narrow interface through which the overlay reads its read-only lower layer,
// the host's tree. It is shaped after 9P2000.L (walk one name, getattr, readdir, readlink,
// open handing back a host fd as the gofer does with SCM_RIGHTS) so that the gofer client
// can replace the in-process implementation (host_lower.ts) without the VFS noticing.
// Implementations: GoferLowerFS (gofer_lower.ts, the sandbox's) and HostLowerFS
// (host_lower.ts, in-process, only for kernels built without a sandbox: the unit tests).
// Nothing here follows a symlink: the VFS resolves every link itself, inside the sandbox's
// root, so '..' and absolute targets can never lead out of the served tree.

import type { Statfs } from '../../abi/linux/fs';
import type { Stat } from '../../abi/linux/stat';
import type { FileData } from './file_data';

/** One file of the lower layer (a fid, for the gofer). */
export interface LowerNode {
  /** Attributes as of the walk that found it (lstat: a symlink's own). */
  readonly attr: Stat;
}

export interface LowerDirent {
  name: string;
  ino: number;
  /** DT_* */
  type: number;
}

export interface LowerFS {
  readonly root: LowerNode;
  /** The child name of dir, or null if there is none (never '.', '..' or a name with '/').
   *  ahead: what the path walk looks up next (Inode.lookup). */
  walk(dir: LowerNode, name: string, ahead?: readonly string[]): LowerNode | null;
  /** Fresh attributes of node. */
  getattr(node: LowerNode): Stat;
  readdir(dir: LowerNode): LowerDirent[];
  readlink(node: LowerNode): string;
  /** The contents of regular file node, open read-only; the caller releases them. */
  open(node: LowerNode): FileData;
  statfs(): Statfs;
  /** Extended attributes of node that the layer shares (absent: none). */
  getxattr?(node: LowerNode, name: string): Uint8Array;
  listxattr?(node: LowerNode): string[];
  /** Does node's name still lead to node? (false: the host removed or replaced it; the
   *  overlay then looks the name up again). Absent: names are always current. */
  revalidate?(node: LowerNode, ahead?: readonly string[]): boolean;
  /** node's overlay dentry left the cache: what the layer holds for it may go (its fid). */
  evict?(node: LowerNode): void;
}
