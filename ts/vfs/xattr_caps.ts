// The file capability xattr (security.capability) as Linux's capability module handles it
// (security/commoncap.c): a set checks the header and CAP_SETFCAP and stores a v3 value
// with the root id the setter's user namespace means, unless a v2 value comes from a caller
// privileged over the file system; a get hands back v2 when that root id is root of the
// caller's namespace, else v3 with the root id as the caller sees it.

import type { Credentials } from '../kernel/credentials';
import { fail } from '../kernel/syscall_error';
import { EINVAL, EOVERFLOW, EPERM } from '../abi/linux/errno';
import { CAP_SETFCAP } from '../kernel/capabilities';
import { INIT_USER_NS, INVALID_ID, makeKuid } from '../kernel/ns/user_namespace';
import { capableWrtInode } from './permission';

const VFS_CAP_REVISION_MASK = 0xff000000;
const VFS_CAP_REVISION_2 = 0x02000000;
const VFS_CAP_REVISION_3 = 0x03000000;
const VFS_CAP_FLAGS_EFFECTIVE = 1;
const XATTR_CAPS_SZ_2 = 20;
const XATTR_CAPS_SZ_3 = 24;

function revision(v: Uint8Array): number {
  if (v.length < 4) return 0;
  const magic = (new DataView(v.buffer, v.byteOffset, v.length).getUint32(0, true) & VFS_CAP_REVISION_MASK) >>> 0;
  if (magic === VFS_CAP_REVISION_2 && v.length === XATTR_CAPS_SZ_2) return 2;
  if (magic === VFS_CAP_REVISION_3 && v.length === XATTR_CAPS_SZ_3) return 3;
  return 0;
}

/** A v3 value: the revision, the effective flag of magic, the permitted/inheritable words of
 *  from, and rootid. */
function v3(from: Uint8Array, magic: number, rootid: number): Uint8Array {
  const out = new Uint8Array(XATTR_CAPS_SZ_3);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, (VFS_CAP_REVISION_3 | (magic & VFS_CAP_FLAGS_EFFECTIVE)) >>> 0, true);
  out.set(from.subarray(4, XATTR_CAPS_SZ_2), 4);
  dv.setUint32(XATTR_CAPS_SZ_2, rootid >>> 0, true);
  return out;
}

const magicOf = (v: Uint8Array): number => new DataView(v.buffer, v.byteOffset, v.length).getUint32(0, true);

/** cap_convert_nscap: the value to store for a set by creds on a file owned by uid:gid. */
export function capConvertNscap(creds: Credentials, uid: number, gid: number, value: Uint8Array): Uint8Array {
  const rev = revision(value);
  if (rev === 0) fail(EINVAL);
  if (!capableWrtInode(creds, CAP_SETFCAP, uid, gid)) fail(EPERM);
  // The file systems here all belong to the initial user namespace.
  if (rev === 2 && creds.nsCapable(INIT_USER_NS, CAP_SETFCAP)) return value;
  const raw = rev === 3 ? new DataView(value.buffer, value.byteOffset, value.length).getUint32(XATTR_CAPS_SZ_2, true) : 0;
  const rootid = makeKuid(creds.userNs, raw);
  if (rootid === INVALID_ID) fail(EINVAL);
  return v3(value, magicOf(value), rootid);
}

/** cap_inode_getsecurity: the stored value as the caller's namespace sees it. */
export function capGetSecurity(creds: Credentials, stored: Uint8Array): Uint8Array {
  const rev = revision(stored);
  if (rev === 0) fail(EINVAL);
  const root = rev === 3 ? new DataView(stored.buffer, stored.byteOffset, stored.length).getUint32(XATTR_CAPS_SZ_2, true) : 0;
  const mapped = creds.userNs.uidMap.up(root);
  if (mapped !== INVALID_ID && mapped !== 0) return v3(stored, magicOf(stored), mapped);
  // rootid_owns_currentns: the root id is root of the caller's namespace or an ancestor's.
  if (mapped === INVALID_ID && !ownsCurrentNs(creds, root)) fail(EOVERFLOW);
  if (rev === 2) return stored;
  const out = new Uint8Array(XATTR_CAPS_SZ_2);
  out.set(stored.subarray(0, XATTR_CAPS_SZ_2));
  new DataView(out.buffer).setUint32(0, (VFS_CAP_REVISION_2 | (magicOf(stored) & VFS_CAP_FLAGS_EFFECTIVE)) >>> 0, true);
  return out;
}

function ownsCurrentNs(creds: Credentials, kroot: number): boolean {
  for (let ns: typeof creds.userNs | null = creds.userNs; ns; ns = ns.parent) {
    if (makeKuid(ns, 0) === kroot) return true;
  }
  return false;
}
