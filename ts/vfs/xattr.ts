// Extended attributes as a file system stores them (Linux fs/xattr.c's simple_xattr, the
// store tmpfs and kernfs keep per inode) and the name rules every file system shares
// (xattr_resolve_name). Names are kept as 'latin1' strings: one character per byte of the
// name the program gave, so that any byte sequence round-trips and lengths are byte counts.

import { SyscallError } from '../kernel/syscall_error';
import { EEXIST, EINVAL, ENODATA, ENOSPC, ENOTSUP as EOPNOTSUPP } from '../abi/linux/errno';

export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;
export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 65536;
export const XATTR_LIST_MAX = 65536;

export const XATTR_USER_PREFIX = 'user.';
export const XATTR_TRUSTED_PREFIX = 'trusted.';
export const XATTR_SECURITY_PREFIX = 'security.';
export const XATTR_SYSTEM_PREFIX = 'system.';
export const XATTR_NAME_CAPS = 'security.capability';
export const XATTR_NAME_POSIX_ACL_ACCESS = 'system.posix_acl_access';
export const XATTR_NAME_POSIX_ACL_DEFAULT = 'system.posix_acl_default';

/** A file's xattr handlers (an Inode's methods, or a pseudo file system's: sockfs). */
export interface XattrHandlers {
  getxattr(name: string): Uint8Array;
  setxattr(name: string, value: Uint8Array | null, flags: number): void;
  listxattr(trusted: boolean): string[];
}

export function isPosixAclName(name: string): boolean {
  return name === XATTR_NAME_POSIX_ACL_ACCESS || name === XATTR_NAME_POSIX_ACL_DEFAULT;
}

/** xattr_resolve_name: the name must fall in one of the namespaces the file system handles
 *  (EOPNOTSUPP), and a namespace prefix alone names nothing (EINVAL). */
export function resolveXattrName(name: string, prefixes: readonly string[]): void {
  for (const p of prefixes) {
    if (name.startsWith(p)) {
      if (name.length === p.length) throw new SyscallError(EINVAL);
      return;
    }
  }
  throw new SyscallError(EOPNOTSUPP);
}

/** What simple_xattr_space charges for one attribute: the record, the name and its NUL, the
 *  value. */
export function xattrSpace(name: string, size: number): number {
  return 40 + name.length + 1 + size;
}

/** A budget of xattr space shared by a file system's inodes (tmpfs's free_ispace). */
export class XattrSpace {
  constructor(private free: number) {}

  take(n: number): void {
    if (n > this.free) throw new SyscallError(ENOSPC);
    this.free -= n;
  }

  give(n: number): void { this.free += n; }
}

/** One inode's attributes (simple_xattrs). */
export class SimpleXattrs {
  private readonly map = new Map<string, Uint8Array>();

  constructor(private readonly space: XattrSpace | null) {}

  get size(): number { return this.map.size; }

  has(name: string): boolean { return this.map.has(name); }

  /** The value, or ENODATA. */
  get(name: string): Uint8Array {
    const v = this.map.get(name);
    if (v === undefined) throw new SyscallError(ENODATA);
    return v;
  }

  /** simple_xattr_set: value null removes. XATTR_CREATE on an existing name is EEXIST,
   *  XATTR_REPLACE (and removal) of a missing one ENODATA. */
  set(name: string, value: Uint8Array | null, flags: number): void {
    const old = this.map.get(name);
    if (old !== undefined && (flags & XATTR_CREATE)) throw new SyscallError(EEXIST);
    if (old === undefined && (value === null || (flags & XATTR_REPLACE))) throw new SyscallError(ENODATA);
    if (value !== null) {
      this.space?.take(xattrSpace(name, value.length));
      this.map.set(name, value.slice());
    } else {
      this.map.delete(name);
    }
    if (old !== undefined) this.space?.give(xattrSpace(name, old.length));
  }

  /** Names in the order Linux 6.18 lists them (descending byte order, as its tree walk
   *  gives them); trusted.* only for a caller with CAP_SYS_ADMIN. */
  list(trusted: boolean): string[] {
    const out: string[] = [];
    for (const n of this.map.keys()) if (trusted || !n.startsWith(XATTR_TRUSTED_PREFIX)) out.push(n);
    return out.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  }

  /** The inode is gone: its attributes give their space back (simple_xattrs_free). */
  clear(): void {
    for (const [n, v] of this.map) this.space?.give(xattrSpace(n, v.length));
    this.map.clear();
  }
}
