// Keys and keyrings (Linux security/keys/key.c, keyring.c): a key has a serial number, a
// type ("user" or "keyring"), a description, an owner, a permission mask and a payload; a
// keyring's payload is the list of keys linked into it. Owns the objects, their permission
// masks and the search through keyrings; which keyrings a task has is keyrings.ts's.

import type { Credentials } from '../credentials';

export const KEY_POS_VIEW = 0x01000000, KEY_POS_READ = 0x02000000, KEY_POS_WRITE = 0x04000000,
  KEY_POS_SEARCH = 0x08000000, KEY_POS_LINK = 0x10000000, KEY_POS_SETATTR = 0x20000000, KEY_POS_ALL = 0x3f000000;
export const KEY_USR_VIEW = 0x00010000, KEY_USR_READ = 0x00020000, KEY_USR_WRITE = 0x00040000,
  KEY_USR_SEARCH = 0x00080000, KEY_USR_LINK = 0x00100000, KEY_USR_ALL = 0x003f0000;
export const KEY_NEED_VIEW = 0x01, KEY_NEED_READ = 0x02, KEY_NEED_WRITE = 0x04, KEY_NEED_SEARCH = 0x08,
  KEY_NEED_LINK = 0x10, KEY_NEED_SETATTR = 0x20;
/** Bits a permission mask may have (KEY_POS_ALL | KEY_USR_ALL | KEY_GRP_ALL | KEY_OTH_ALL). */
export const KEY_PERM_MASK = 0x3f3f3f3f;

export type KeyType = 'user' | 'keyring';

// Serial numbers are random 31-bit numbers above 2 in Linux; from a fixed seed here.
let serialState = 0x1b873593;
const allKeysBySerial = new Map<number, Key>();

function newSerial(): number {
  for (;;) {
    serialState = (Math.imul(serialState, 1103515245) + 12345) >>> 0;
    const s = serialState & 0x7fffffff;
    if (s >= 3 && !allKeysBySerial.has(s)) return s;
  }
}

export class Key {
  readonly serial = newSerial();
  payload: Uint8Array = new Uint8Array(0);
  /** A keyring's links, oldest first. */
  readonly links: Key[] = [];
  revoked = false;
  invalidated = false;

  constructor(readonly type: KeyType, readonly description: string, public uid: number, public gid: number,
    public perm: number) {
    allKeysBySerial.set(this.serial, this);
  }

  get isKeyring(): boolean { return this.type === 'keyring'; }

  /** key_task_permission: the owner's, group's or others' bits, plus the possessor's. */
  permits(creds: Credentials, possessed: boolean, need: number): boolean {
    let k: number;
    if (this.uid === creds.fsuid) k = (this.perm >>> 16) & 0x3f;
    else if (creds.inGroup(this.gid)) k = (this.perm >>> 8) & 0x3f;
    else k = this.perm & 0x3f;
    if (possessed) k |= (this.perm >>> 24) & 0x3f;
    return (k & need) === need;
  }

  /** "type;uid;gid;perm;description", as KEYCTL_DESCRIBE gives it. */
  describe(): string {
    // An invalid id shows as the overflow id (from_kgid_munged).
    const munge = (id: number): number => (id < 0 ? 65534 : id);
    return `${this.type};${munge(this.uid)};${munge(this.gid)};${(this.perm >>> 0).toString(16).padStart(8, '0')};${this.description}`;
  }

  /** Gone for good (invalidated): out of every keyring and the serial table. */
  destroy(): void {
    this.invalidated = true;
    allKeysBySerial.delete(this.serial);
    for (const k of allKeysBySerial.values()) unlink(k, this);
  }
}

/** Every live key, by serial (the order of /proc/keys). */
export function allKeys(): Key[] {
  return [...allKeysBySerial.values()].filter((k) => !k.invalidated).sort((a, b) => a.serial - b.serial);
}

export function keyBySerial(serial: number): Key | undefined {
  const k = allKeysBySerial.get(serial);
  return k !== undefined && !k.invalidated ? k : undefined;
}

/** __key_link: key goes into ring, replacing one of the same type and description. */
export function link(ring: Key, key: Key): void {
  const i = ring.links.findIndex((k) => k === key || (k.type === key.type && k.description === key.description));
  if (i >= 0) ring.links[i] = key;
  else ring.links.push(key);
}

export function unlink(ring: Key, key: Key): boolean {
  const i = ring.links.indexOf(key);
  if (i < 0) return false;
  ring.links.splice(i, 1);
  return true;
}

/** Is target reachable from ring through nested keyrings (keyring_detect_cycle)? */
export function reaches(ring: Key, target: Key, seen = new Set<Key>()): boolean {
  if (ring === target) return true;
  if (seen.has(ring)) return false;
  seen.add(ring);
  return ring.links.some((k) => k.isKeyring && reaches(k, target, seen));
}

/** keyring_search: depth first through keyrings the searcher may search (possessor rights
 *  pass down from a possessed ring), for a key that matches and that it may search. A live
 *  key wins; failing one, a revoked match is returned (the caller's EKEYREVOKED). */
export function searchKeyring(ring: Key, creds: Credentials, match: (k: Key) => boolean, possessed = true): Key | null {
  let revoked: Key | null = null;
  const seen = new Set<Key>();
  const walk = (r: Key): Key | null => {
    if (seen.has(r) || r.revoked || !r.permits(creds, possessed, KEY_NEED_SEARCH)) return null;
    seen.add(r);
    for (const k of r.links) {
      if (k.invalidated || !match(k) || !k.permits(creds, possessed, KEY_NEED_SEARCH)) continue;
      if (!k.revoked) return k;
      revoked ??= k;
    }
    for (const k of r.links) {
      if (!k.isKeyring || k.invalidated) continue;
      const found = walk(k);
      if (found) return found;
    }
    return null;
  };
  return walk(ring) ?? revoked;
}
