// POSIX ACLs as extended attributes (Linux fs/posix_acl.c): the xattr format, its checks
// (posix_acl_from_xattr, posix_acl_valid) and what an access ACL means for the mode bits
// (posix_acl_equiv_mode). Permission checks here read only the mode, so the only ACLs a file
// system takes are the ones the mode says entirely: an access ACL of the three base entries
// (it becomes the mode, and no ACL is kept, as Linux does with it) and the removal of either
// ACL. Any other ACL is EOPNOTSUPP, which programs (cp, tar, rsync) read as "this file
// system keeps no ACLs": storing one whose entries were never enforced would be a lie.

import type { Credentials } from '../kernel/credentials';
import { fail } from '../kernel/syscall_error';
import { EACCES, EINVAL, ENODATA, ENOTSUP as EOPNOTSUPP, EPERM } from '../abi/linux/errno';
import { CAP_FSETID } from '../kernel/capabilities';
import { INVALID_ID, makeKgid, makeKuid } from '../kernel/ns/user_namespace';
import { S_IFDIR, S_IFMT } from '../abi/linux/stat';
import type { Inode } from './inode';
import { capableWrtInode, isOwnerOrCapable } from './permission';
import { XATTR_NAME_POSIX_ACL_ACCESS } from './xattr';

const POSIX_ACL_XATTR_VERSION = 2;
const ACL_USER_OBJ = 0x01;
const ACL_USER = 0x02;
const ACL_GROUP_OBJ = 0x04;
const ACL_GROUP = 0x08;
const ACL_MASK = 0x10;
const ACL_OTHER = 0x20;

interface AclEntry { tag: number; perm: number; id: number }

/** posix_acl_from_xattr: null for no ACL (an empty value, or a header with no entries). */
function fromXattr(creds: Credentials, v: Uint8Array): AclEntry[] | null {
  if (v.length === 0) return null;
  if (v.length < 4) fail(EINVAL);
  const dv = new DataView(v.buffer, v.byteOffset, v.length);
  if (dv.getUint32(0, true) !== POSIX_ACL_XATTR_VERSION) fail(EOPNOTSUPP);
  if ((v.length - 4) % 8 !== 0) fail(EINVAL);
  const count = (v.length - 4) / 8;
  if (count === 0) return null;
  const out: AclEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = 4 + i * 8;
    const tag = dv.getUint16(at, true), perm = dv.getUint16(at + 2, true);
    let id = -1;
    if (tag === ACL_USER) id = makeKuid(creds.userNs, dv.getUint32(at + 4, true));
    else if (tag === ACL_GROUP) id = makeKgid(creds.userNs, dv.getUint32(at + 4, true));
    else if (tag !== ACL_USER_OBJ && tag !== ACL_GROUP_OBJ && tag !== ACL_MASK && tag !== ACL_OTHER) fail(EINVAL);
    if (id === INVALID_ID) fail(EINVAL);
    out.push({ tag, perm, id });
  }
  return out;
}

/** posix_acl_valid: base entries in order, named ones sorted and unique, a mask where named
 *  entries are. */
function valid(acl: readonly AclEntry[]): boolean {
  let state = ACL_USER_OBJ;
  let needsMask = false;
  let prev = -1;
  for (const e of acl) {
    if (e.perm & ~7) return false;
    switch (e.tag) {
      case ACL_USER_OBJ:
        if (state !== ACL_USER_OBJ) return false;
        state = ACL_USER; prev = -1;
        break;
      case ACL_USER: case ACL_GROUP:
        if (state !== e.tag || (prev !== -1 && e.id <= prev)) return false;
        prev = e.id; needsMask = true;
        break;
      case ACL_GROUP_OBJ:
        if (state !== ACL_USER) return false;
        state = ACL_GROUP; prev = -1;
        break;
      case ACL_MASK:
        if (state !== ACL_GROUP) return false;
        state = ACL_OTHER;
        break;
      case ACL_OTHER:
        if (state !== ACL_OTHER && !(state === ACL_GROUP && !needsMask)) return false;
        state = 0;
        break;
      default:
        return false;
    }
  }
  return state === 0;
}

/** posix_acl_equiv_mode: the permission bits the ACL gives, and whether the mode says all
 *  of it (no named entries, no mask). */
function equivMode(acl: readonly AclEntry[]): { bits: number; equiv: boolean } {
  let bits = 0, equiv = true;
  for (const e of acl) {
    if (e.tag === ACL_USER_OBJ) bits |= (e.perm & 7) << 6;
    else if (e.tag === ACL_GROUP_OBJ) bits |= (e.perm & 7) << 3;
    else if (e.tag === ACL_OTHER) bits |= e.perm & 7;
    else if (e.tag === ACL_MASK) { bits = (bits & ~0o70) | ((e.perm & 7) << 3); equiv = false; }
    else equiv = false;
  }
  return { bits, equiv };
}

/** getxattr of an ACL name (vfs_get_acl): none is ever kept. */
export function getPosixAcl(inode: Inode | null): never {
  if (!inode?.posixAcl) fail(EOPNOTSUPP);
  fail(ENODATA);
}

/** setxattr/removexattr of an ACL name (do_set_acl, set_posix_acl, simple_set_acl); value
 *  null removes. The caller has checked the mount. */
export function setPosixAcl(creds: Credentials, inode: Inode | null, name: string, value: Uint8Array | null): void {
  const acl = value ? fromXattr(creds, value) : null;
  if (!inode?.posixAcl) fail(EOPNOTSUPP);
  const access = name === XATTR_NAME_POSIX_ACL_ACCESS;
  if (!access && (inode.mode & S_IFMT) !== S_IFDIR) {
    if (acl) fail(EACCES);
    return;
  }
  if (!isOwnerOrCapable(creds, inode.uid)) fail(EPERM);
  if (acl && !valid(acl)) fail(EINVAL);
  if (!acl) { inode.setattr({}); return; }
  if (!access) fail(EOPNOTSUPP);
  const { bits, equiv } = equivMode(acl);
  if (!equiv) fail(EOPNOTSUPP);
  let mode = (inode.mode & ~0o777) | bits;
  // posix_acl_update_mode: setgid goes unless the caller is in the group or may keep it.
  if (!creds.inGroup(inode.gid) && !capableWrtInode(creds, CAP_FSETID, inode.uid, inode.gid)) mode &= ~0o2000;
  inode.setattr({ mode });
}
