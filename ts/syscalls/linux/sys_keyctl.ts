// add_key, request_key, keyctl (Linux security/keys/keyctl.c, request_key.c): the "user" and
// "keyring" key types over kernel/keys/. request_key finds keys only: there is no upcall to
// a request-key helper, so an absent key is ENOKEY.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import {
  EACCES, EDEADLOCK as EDEADLK, EINVAL, EKEYREVOKED, ENODEV, ENOENT, ENOKEY, ENOTDIR, ENOTSUP as EOPNOTSUPP, EPERM,
} from '../../abi/linux/errno';
import { SYS_add_key, SYS_keyctl, SYS_request_key } from '../../abi/linux/syscall_numbers';
import { CAP_SYS_ADMIN } from '../../kernel/capabilities';
import {
  KEY_NEED_LINK, KEY_NEED_READ, KEY_NEED_SEARCH, KEY_NEED_SETATTR, KEY_NEED_VIEW, KEY_NEED_WRITE, KEY_PERM_MASK,
  KEY_POS_LINK, KEY_POS_READ, KEY_POS_SEARCH, KEY_POS_SETATTR, KEY_POS_VIEW, KEY_POS_WRITE, KEY_USR_VIEW, Key,
  type KeyType, link, reaches, searchKeyring, unlink,
} from '../../kernel/keys/key';
import { joinSessionKeyring, lookupKey, processKeyringsOf } from '../../kernel/keys/keyrings';
import type { SyscallArgs, SyscallTable } from './types';

const KEYCTL_GET_KEYRING_ID = 0, KEYCTL_JOIN_SESSION_KEYRING = 1, KEYCTL_UPDATE = 2, KEYCTL_REVOKE = 3,
  KEYCTL_CHOWN = 4, KEYCTL_SETPERM = 5, KEYCTL_DESCRIBE = 6, KEYCTL_CLEAR = 7, KEYCTL_LINK = 8, KEYCTL_UNLINK = 9, KEYCTL_SEARCH = 10,
  KEYCTL_READ = 11, KEYCTL_INVALIDATE = 21;
const KEY_MAX_DESC_SIZE = 4096;
const TYPE_MAX = 32;
const PAYLOAD_MAX = 1024 * 1024 - 1;
const USER_PAYLOAD_MAX = 32767;

interface Found { key: Key; possessed: boolean }

/** lookup_user_key: the key, live (not revoked unless `partial`), with the permission `need`. */
function lookup(t: Task, id: number, create: boolean, need: number, partial = false): Found {
  const f = lookupKey(t, id, create);
  if (!partial && f.key.revoked) fail(EKEYREVOKED);
  if (need !== 0 && !f.key.permits(t.creds, f.possessed, need)) fail(EACCES);
  return f;
}

function keyType(name: string): KeyType | null {
  return name === 'user' || name === 'keyring' ? name : null;
}

function readType(t: Task, addr: number): string {
  const type = t.mm.readCString(addr, TYPE_MAX);
  if (type.startsWith('.')) fail(EPERM);
  return type;
}

/** The user type's preparse: 1 to 32767 bytes. */
function checkUserPayload(p: Uint8Array): void {
  if (p.length === 0 || p.length > USER_PAYLOAD_MAX) fail(EINVAL);
}

function copyOutWhole(t: Task, addr: number, buflen: number, data: Uint8Array): number {
  // The answer is copied only when it fits whole; the length is returned either way.
  if (addr !== 0 && buflen >= data.length) t.mm.copyOut(addr, data);
  return data.length;
}

function sysAddKey(t: Task, a: SyscallArgs): number {
  const typeName = readType(t, a.ptr(0));
  const desc = a.ptr(1) === 0 ? '' : t.mm.readCString(a.ptr(1), KEY_MAX_DESC_SIZE);
  if (desc.startsWith('.') && typeName.startsWith('keyring')) fail(EPERM);
  const plen = a.size(3);
  if (plen > PAYLOAD_MAX) fail(EINVAL);
  const payload = plen > 0 ? t.mm.copyIn(a.ptr(2), plen) : new Uint8Array(0);
  const ring = lookup(t, a.int(4), true, KEY_NEED_WRITE).key;
  const type = keyType(typeName);
  if (type === null) fail(ENODEV);
  if (!ring.isKeyring) fail(ENOTDIR);
  if (desc === '') fail(EINVAL);
  if (type === 'user') checkUserPayload(payload);
  else if (payload.length !== 0) fail(EINVAL);
  // A user key of that description already in the keyring is updated in place.
  const existing = ring.links.find((k) => k.type === type && k.description === desc && !k.revoked);
  if (existing !== undefined && type === 'user') {
    if (!existing.permits(t.creds, true, KEY_NEED_WRITE)) fail(EACCES);
    existing.payload = payload;
    return existing.serial;
  }
  const perm = KEY_POS_VIEW | KEY_POS_SEARCH | KEY_POS_LINK | KEY_POS_SETATTR | KEY_USR_VIEW | KEY_POS_READ | KEY_POS_WRITE;
  const key = new Key(type, desc, t.creds.fsuid, t.creds.fsgid, perm);
  key.payload = payload;
  link(ring, key);
  return key.serial;
}

function searchProcessKeyrings(t: Task, type: KeyType, desc: string): Key | null {
  const match = (k: Key): boolean => k.type === type && k.description === desc;
  let revoked: Key | null = null;
  for (const r of processKeyringsOf(t)) {
    const k = searchKeyring(r, t.creds, match);
    if (k && !k.revoked) return k;
    revoked ??= k;
  }
  return revoked;
}

function sysRequestKey(t: Task, a: SyscallArgs): number {
  const typeName = readType(t, a.ptr(0));
  const desc = t.mm.readCString(a.ptr(1), KEY_MAX_DESC_SIZE);
  if (a.ptr(2) !== 0) t.mm.readCString(a.ptr(2), 4096);
  const dest = a.int(3) !== 0 ? lookup(t, a.int(3), true, KEY_NEED_WRITE).key : null;
  const type = keyType(typeName);
  if (type === null) fail(ENOKEY);
  if (desc === '') fail(EINVAL);
  return found(searchProcessKeyrings(t, type, desc), dest);
}

/** The end of request_key and KEYCTL_SEARCH: the key found (ENOKEY if none, EKEYREVOKED if
 *  revoked), linked into `dest` when one was given. */
function found(k: Key | null, dest: Key | null): number {
  if (k === null) fail(ENOKEY);
  if (k.revoked) fail(EKEYREVOKED);
  if (dest !== null) {
    if (!dest.isKeyring) fail(ENOTDIR);
    link(dest, k);
  }
  return k.serial;
}

function read(t: Task, id: number, addr: number, buflen: number): number {
  const f = lookup(t, id, false, 0);
  if (!f.key.permits(t.creds, f.possessed, KEY_NEED_READ) && !f.possessed) fail(EACCES);
  let data: Uint8Array;
  if (f.key.isKeyring) {
    const live = f.key.links.filter((k) => !k.invalidated);
    data = new Uint8Array(4 * live.length);
    const v = new DataView(data.buffer);
    live.forEach((k, i) => v.setInt32(4 * i, k.serial, true));
  } else {
    data = f.key.payload;
  }
  return copyOutWhole(t, addr, buflen, data);
}

function sysKeyctl(t: Task, a: SyscallArgs): number {
  const op = a.int(0);
  switch (op) {
    case KEYCTL_GET_KEYRING_ID:
      return lookup(t, a.int(1), a.int(2) !== 0, KEY_NEED_SEARCH).key.serial;
    case KEYCTL_JOIN_SESSION_KEYRING: {
      const name = a.ptr(1) === 0 ? null : t.mm.readCString(a.ptr(1), 4096);
      if (name === '') fail(EINVAL);
      return joinSessionKeyring(t, name)?.serial ?? 0;
    }
    case KEYCTL_UPDATE: {
      const plen = a.size(3);
      if (plen > PAYLOAD_MAX) fail(EINVAL);
      const payload = plen > 0 ? t.mm.copyIn(a.ptr(2), plen) : new Uint8Array(0);
      const key = lookup(t, a.int(1), true, KEY_NEED_WRITE).key;
      if (key.isKeyring) fail(EOPNOTSUPP);
      checkUserPayload(payload);
      key.payload = payload;
      return 0;
    }
    case KEYCTL_REVOKE: {
      const f = lookupKey(t, a.int(1), false);
      if (f.key.revoked) fail(EKEYREVOKED);
      if (!f.key.permits(t.creds, f.possessed, KEY_NEED_WRITE) &&
        !f.key.permits(t.creds, f.possessed, KEY_NEED_SETATTR)) fail(EACCES);
      // The type's revoke drops the payload (user_revoke, keyring_revoke).
      f.key.revoked = true;
      f.key.payload = new Uint8Array(0);
      f.key.links.length = 0;
      return 0;
    }
    case KEYCTL_CHOWN: {
      const uid = a.int(2), gid = a.int(3);
      if (uid === -1 && gid === -1) return 0;
      const key = lookup(t, a.int(1), true, KEY_NEED_SETATTR, true).key;
      // Only CAP_SYS_ADMIN gives a key away, or to a group the caller is not in.
      if (!t.creds.hasCapability(CAP_SYS_ADMIN)) {
        if (uid !== -1 && uid !== key.uid) fail(EACCES);
        if (gid !== -1 && gid !== key.gid && !t.creds.inGroup(gid)) fail(EACCES);
      }
      if (uid !== -1) key.uid = uid;
      if (gid !== -1) key.gid = gid;
      return 0;
    }
    case KEYCTL_SETPERM: {
      const perm = a.uint(2);
      if ((perm & ~KEY_PERM_MASK) !== 0) fail(EINVAL);
      const key = lookup(t, a.int(1), true, KEY_NEED_SETATTR, true).key;
      if (key.uid !== t.creds.fsuid && !t.creds.hasCapability(CAP_SYS_ADMIN)) fail(EACCES);
      key.perm = perm;
      return 0;
    }
    case KEYCTL_DESCRIBE: {
      const key = lookup(t, a.int(1), false, KEY_NEED_VIEW).key;
      return copyOutWhole(t, a.ptr(2), a.size(3), new TextEncoder().encode(`${key.describe()}\0`));
    }
    case KEYCTL_CLEAR: {
      const ring = lookup(t, a.int(1), true, KEY_NEED_WRITE).key;
      if (!ring.isKeyring) fail(ENOTDIR);
      ring.links.length = 0;
      return 0;
    }
    case KEYCTL_LINK: {
      const ring = lookup(t, a.int(2), true, KEY_NEED_WRITE).key;
      const key = lookup(t, a.int(1), false, KEY_NEED_LINK, true).key;
      if (!ring.isKeyring) fail(ENOTDIR);
      if (key.isKeyring && reaches(key, ring)) fail(EDEADLK);
      link(ring, key);
      return 0;
    }
    case KEYCTL_UNLINK: {
      const ring = lookup(t, a.int(2), false, KEY_NEED_WRITE).key;
      const key = lookup(t, a.int(1), false, 0, true).key;
      if (!ring.isKeyring) fail(ENOTDIR);
      if (!unlink(ring, key)) fail(ENOENT);
      return 0;
    }
    case KEYCTL_SEARCH: {
      const ringF = lookup(t, a.int(1), false, KEY_NEED_SEARCH);
      const typeName = t.mm.readCString(a.ptr(2), TYPE_MAX);
      const desc = t.mm.readCString(a.ptr(3), KEY_MAX_DESC_SIZE);
      const dest = a.int(4) !== 0 ? lookup(t, a.int(4), true, KEY_NEED_WRITE).key : null;
      const type = keyType(typeName);
      if (type === null) fail(ENOKEY);
      if (!ringF.key.isKeyring) fail(ENOTDIR);
      return found(searchKeyring(ringF.key, t.creds, (c) => c.type === type && c.description === desc, ringF.possessed), dest);
    }
    case KEYCTL_READ:
      return read(t, a.int(1), a.ptr(2), a.size(3));
    case KEYCTL_INVALIDATE: {
      const key = lookup(t, a.int(1), false, KEY_NEED_SEARCH).key;
      key.destroy();
      return 0;
    }
    default:
      fail(EOPNOTSUPP);
  }
}

export function registerKeyctl(table: SyscallTable): void {
  table[SYS_add_key] = { name: 'add_key', handler: sysAddKey, args: ['str', 'str', 'hex', 'int', 'int'] };
  table[SYS_request_key] = { name: 'request_key', handler: sysRequestKey, args: ['str', 'str', 'str', 'int'] };
  table[SYS_keyctl] = { name: 'keyctl', handler: sysKeyctl, args: ['int', 'hex', 'hex', 'hex', 'hex'] };
}
