// User namespaces (Linux kernel/user_namespace.c, include/linux/uidgid.h): who owns a namespace,
// its parent, and the uid/gid/projid maps that translate between the ids a task in it sees
// and the kernel's ids (kuid/kgid: the ids of the initial namespace). Credentials hold kernel
// ids; every id a task reads or gives crosses one of these maps (fromKuid/makeKuid).
// Owns: the maps and their write rules (proc_uid_map_write and friends), the nesting and
// count limits. Must not touch: capabilities beyond ns_capable's walk (see credentials.ts).

import { newNsIno } from './ino';

/** uid_t -1: no mapping (INVALID_UID). */
export const INVALID_ID = 0xffffffff;
/** /proc/sys/kernel/overflowuid and overflowgid: what an unmapped id reads as. */
export const OVERFLOW_ID = 65534;
/** Linux refuses a new namespace under one at this level (create_user_ns: level > 32). */
const MAX_PARENT_LEVEL = 32;
/** /proc/sys/user/max_user_namespaces in the initial namespace. */
export const INIT_MAX_USER_NAMESPACES = 63581;
/** UID_GID_MAP_MAX_EXTENTS. */
export const MAX_EXTENTS = 340;

export interface IdExtent { first: number; lowerFirst: number; count: number }

/** One of a namespace's id maps; lowerFirst is a kernel id once written. */
export class IdMap {
  extents: IdExtent[] = [];

  /** map_id_range_down: this namespace's id (range) to the kernel's, or INVALID_ID. */
  down(id: number, count = 1): number {
    const last = id + count - 1;
    for (const e of this.extents) {
      if (id >= e.first && last <= e.first + e.count - 1) return (e.lowerFirst + (id - e.first)) >>> 0;
    }
    return INVALID_ID;
  }

  /** map_id_up: a kernel id to this namespace's, or INVALID_ID. */
  up(kid: number): number {
    for (const e of this.extents) {
      if (kid >= e.lowerFirst && kid <= e.lowerFirst + e.count - 1) return (e.first + (kid - e.lowerFirst)) >>> 0;
    }
    return INVALID_ID;
  }
}

const identity = (): IdMap => {
  const m = new IdMap();
  m.extents.push({ first: 0, lowerFirst: 0, count: 0xffffffff });
  return m;
};

export class UserNamespace {
  readonly uidMap: IdMap;
  readonly gidMap: IdMap;
  readonly projidMap: IdMap;
  readonly level: number;
  readonly ino: number;
  /** /proc/sys/user/max_user_namespaces as seen from this namespace, and what it limits. */
  maxUserNamespaces = INIT_MAX_USER_NAMESPACES;
  descendants = 0;
  /** USERNS_SETGROUPS_ALLOWED: /proc/<pid>/setgroups reads "allow". */
  setgroupsAllowed: boolean;

  constructor(
    readonly parent: UserNamespace | null,
    /** The creator's euid and egid (kernel ids). */
    readonly owner: number,
    readonly group: number,
    /** The creator had CAP_SETFCAP: it may map its parent's uid 0 into this namespace. */
    readonly parentCouldSetfcap: boolean,
    ino?: number,
  ) {
    this.level = parent === null ? 0 : parent.level + 1;
    this.ino = ino ?? newNsIno();
    this.setgroupsAllowed = parent === null ? true : parent.setgroupsAllowed;
    this.uidMap = parent === null ? identity() : new IdMap();
    this.gidMap = parent === null ? identity() : new IdMap();
    this.projidMap = parent === null ? identity() : new IdMap();
  }

  /** Is `this` ns or one of its ancestors (ns's ids are all visible from this)? */
  isAncestorOf(ns: UserNamespace): boolean {
    for (let p: UserNamespace | null = ns; p !== null; p = p.parent) if (p === this) return true;
    return false;
  }
}

/** The initial user namespace: every id maps to itself (one object for the whole sentry; its
 *  maps never change). */
export const INIT_USER_NS = new UserNamespace(null, 0, 0, true, 0xeffffffd);

/** make_kuid / make_kgid: an id as seen in ns to the kernel's, INVALID_ID if unmapped. */
export function makeKid(map: IdMap, id: number): number {
  return map.down(id >>> 0);
}

/** from_kuid_munged: a kernel id as ns sees it, the overflow id if unmapped. */
export function fromKuid(ns: UserNamespace, kuid: number): number {
  const id = ns.uidMap.up(kuid >>> 0);
  return id === INVALID_ID ? OVERFLOW_ID : id;
}

export function fromKgid(ns: UserNamespace, kgid: number): number {
  const id = ns.gidMap.up(kgid >>> 0);
  return id === INVALID_ID ? OVERFLOW_ID : id;
}

export function makeKuid(ns: UserNamespace, uid: number): number { return makeKid(ns.uidMap, uid); }
export function makeKgid(ns: UserNamespace, gid: number): number { return makeKid(ns.gidMap, gid); }

export function kuidHasMapping(ns: UserNamespace, kuid: number): boolean { return ns.uidMap.up(kuid) !== INVALID_ID; }
export function kgidHasMapping(ns: UserNamespace, kgid: number): boolean { return ns.gidMap.up(kgid) !== INVALID_ID; }

/** userns_may_setgroups: a gid map is written and setgroups was not denied. */
export function usernsMaySetgroups(ns: UserNamespace): boolean {
  return ns.gidMap.extents.length !== 0 && ns.setgroupsAllowed;
}

// /proc/sys/user/max_user_namespaces and the counts it limits. Each namespace has its own limit
// (a new one starts at INT_MAX, as on Linux) and counts the live namespaces below it; a new
// namespace must fit under every ancestor's limit. Linux counts per user within each
// namespace (ucounts); the sandbox counts every user's together. "Live" means not yet
// collected: a namespace nothing refers to any more (no task's credentials, no open namespace
// file) stops counting when the garbage collector frees it, not at once as on Linux.
const INT_MAX = 0x7fffffff;
const released = new FinalizationRegistry<UserNamespace>((parent) => {
  for (let p: UserNamespace | null = parent; p !== null; p = p.parent) p.descendants--;
});

/** create_user_ns's limits: the parent's level (ENOSPC past 32) and the counts (ENOSPC). */
export function userNsLimitReached(parent: UserNamespace): boolean {
  if (parent.level > MAX_PARENT_LEVEL) return true;
  for (let p: UserNamespace | null = parent; p !== null; p = p.parent) if (p.descendants >= p.maxUserNamespaces) return true;
  return false;
}

export function newUserNamespace(parent: UserNamespace, owner: number, group: number, couldSetfcap: boolean): UserNamespace {
  const ns = new UserNamespace(parent, owner, group, couldSetfcap);
  ns.maxUserNamespaces = INT_MAX;
  for (let p: UserNamespace | null = parent; p !== null; p = p.parent) p.descendants++;
  released.register(ns, parent);
  return ns;
}
