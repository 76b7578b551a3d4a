// setuid, setgid, setreuid, setregid, setresuid, setresgid, setfsuid, setfsgid, setgroups
// (Linux kernel/sys.c, kernel/groups.c). Ids come in as the caller's user namespace names
// them and are kept as kernel ids (an unmapped one is EINVAL); the capabilities that override
// the rules are those held in the caller's namespace. Each builds new credentials from the old ones,
// checks them against the old, lets commoncap adjust the capabilities of a uid change,
// and installs them (commit_creds). uid/gid (uid_t)-1 means "leave alone" where Linux
// allows it and is EINVAL elsewhere.

import type { Task } from '../../kernel/task';
import type { Credentials } from '../../kernel/credentials';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM } from '../../abi/linux/errno';
import { CAP_SETGID, CAP_SETUID } from '../../kernel/capabilities';
import { fixSetfsuid, fixSetuid } from '../../kernel/commoncap';
import {
  SYS_setfsgid, SYS_setfsuid, SYS_setgid, SYS_setgroups, SYS_setregid, SYS_setresgid,
  SYS_setresuid, SYS_setreuid, SYS_setuid,
} from '../../abi/linux/syscall_numbers';
import { commitCreds } from './commit_creds';
import { fromKgid, fromKuid, makeKgid, makeKuid, usernsMaySetgroups } from '../../kernel/ns/user_namespace';
import type { SyscallArgs, SyscallTable } from './types';

const NO_ID = 0xffffffff;
const NGROUPS_MAX = 65536;

/** The four ids of one kind (user or group) and the capability that overrides their rules. */
interface IdKind {
  r: 'uid' | 'gid';
  e: 'euid' | 'egid';
  s: 'suid' | 'sgid';
  fs: 'fsuid' | 'fsgid';
  cap: number;
  /** The capability fix-up of a change (none for groups). */
  fix: (next: Credentials, old: Credentials) => void;
}

const USER: IdKind = { r: 'uid', e: 'euid', s: 'suid', fs: 'fsuid', cap: CAP_SETUID, fix: fixSetuid };
const GROUP: IdKind = { r: 'gid', e: 'egid', s: 'sgid', fs: 'fsgid', cap: CAP_SETGID, fix: () => {} };

function commit(t: Task, next: Credentials, old: Credentials, k: IdKind): number {
  k.fix(next, old);
  commitCreds(t, next);
  return 0;
}

/** setuid/setgid: privileged, all but fsuid's twin become id; otherwise only the effective
 *  (and fs) id, and only to the real or saved one. */
function setId(t: Task, id: number, k: IdKind): number {
  if (id === NO_ID) fail(EINVAL);
  const old = t.creds;
  const next = old.clone();
  if (old.nsCapable(old.userNs, k.cap)) {
    next[k.r] = next[k.s] = id;
  } else if (id !== old[k.r] && id !== old[k.s]) {
    fail(EPERM);
  }
  next[k.e] = next[k.fs] = id;
  return commit(t, next, old, k);
}

/** setreuid/setregid: the real id may become the effective one, the effective any of the
 *  three; the saved id follows the effective one when the real one is set or the
 *  effective one moves away from the real one. */
function setReId(t: Task, rid: number, eid: number, k: IdKind): number {
  const old = t.creds;
  const next = old.clone();
  const privileged = old.nsCapable(old.userNs, k.cap);
  if (rid !== NO_ID) {
    next[k.r] = rid;
    if (rid !== old[k.r] && rid !== old[k.e] && !privileged) fail(EPERM);
  }
  if (eid !== NO_ID) {
    next[k.e] = eid;
    if (eid !== old[k.r] && eid !== old[k.e] && eid !== old[k.s] && !privileged) fail(EPERM);
  }
  if (rid !== NO_ID || (eid !== NO_ID && eid !== old[k.r])) next[k.s] = next[k.e];
  next[k.fs] = next[k.e];
  return commit(t, next, old, k);
}

/** setresuid/setresgid: unprivileged, each id may only become one of the current three. */
function setResId(t: Task, ids: [number, number, number], k: IdKind): number {
  const old = t.creds;
  const [rid, eid, sid] = ids;
  if ((rid === NO_ID || rid === old[k.r]) && (eid === NO_ID || (eid === old[k.e] && eid === old[k.fs])) &&
    (sid === NO_ID || sid === old[k.s])) {
    return 0;
  }
  const isNew = (id: number): boolean => id !== NO_ID && id !== old[k.r] && id !== old[k.e] && id !== old[k.s];
  if ((isNew(rid) || isNew(eid) || isNew(sid)) && !old.nsCapable(old.userNs, k.cap)) fail(EPERM);
  const next = old.clone();
  if (rid !== NO_ID) next[k.r] = rid;
  if (eid !== NO_ID) next[k.e] = eid;
  if (sid !== NO_ID) next[k.s] = sid;
  next[k.fs] = next[k.e];
  return commit(t, next, old, k);
}

/** setfsuid/setfsgid never fail: they return the old fs id, changed or not. */
function setFsId(t: Task, id: number, k: IdKind): number {
  const old = t.creds;
  const prev = old[k.fs];
  if (id === NO_ID) return prev;
  if (id === old[k.r] || id === old[k.e] || id === old[k.s] || id === prev || old.nsCapable(old.userNs, k.cap)) {
    if (id !== prev) {
      const next = old.clone();
      next[k.fs] = id;
      if (k === USER) fixSetfsuid(next, old);
      commitCreds(t, next);
    }
  }
  return prev;
}

function sysSetgroups(t: Task, a: SyscallArgs): number {
  const size = a.int(0);
  // may_setgroups: CAP_SETGID in one's namespace, whose gid map is written and allows it.
  if (!t.creds.nsCapable(t.creds.userNs, CAP_SETGID) || !usernsMaySetgroups(t.creds.userNs)) fail(EPERM);
  if (size < 0 || size > NGROUPS_MAX) fail(EINVAL);
  const groups: number[] = [];
  if (size > 0) {
    const b = t.mm.copyIn(a.ptr(1), size * 4);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < size; i++) {
      const g = v.getUint32(i * 4, true);
      const kg = makeKgid(t.creds.userNs, g);
      if (kg === NO_ID) fail(EINVAL);
      groups.push(kg);
    }
  }
  const next = t.creds.clone();
  next.groups = groups.sort((x, y) => x - y);
  commitCreds(t, next);
  return 0;
}

/** make_kuid/make_kgid of an argument: (uid_t)-1 stays "leave alone", an id the caller's
 *  namespace does not map is EINVAL. */
function kid(t: Task, k: IdKind, id: number): number {
  if (id === NO_ID) return NO_ID;
  const m = k === USER ? makeKuid(t.creds.userNs, id) : makeKgid(t.creds.userNs, id);
  if (m === NO_ID) fail(EINVAL);
  return m;
}

/** setfsuid/setfsgid in the caller's namespace: an unmapped id changes nothing; the old id is
 *  returned as the namespace sees it. */
function setFsIdNs(t: Task, id: number, k: IdKind): number {
  const ns = t.creds.userNs;
  const m = id === NO_ID ? NO_ID : k === USER ? makeKuid(ns, id) : makeKgid(ns, id);
  const prev = setFsId(t, m, k);
  return k === USER ? fromKuid(ns, prev) : fromKgid(ns, prev);
}

export function registerSetid(table: SyscallTable): void {
  table[SYS_setuid] = { name: 'setuid', handler: (t, a) => setId(t, kid(t, USER, a.uint(0)), USER), args: ['uint'] };
  table[SYS_setgid] = { name: 'setgid', handler: (t, a) => setId(t, kid(t, GROUP, a.uint(0)), GROUP), args: ['uint'] };
  table[SYS_setreuid] = {
    name: 'setreuid', handler: (t, a) => setReId(t, kid(t, USER, a.uint(0)), kid(t, USER, a.uint(1)), USER), args: ['int', 'int'],
  };
  table[SYS_setregid] = {
    name: 'setregid', handler: (t, a) => setReId(t, kid(t, GROUP, a.uint(0)), kid(t, GROUP, a.uint(1)), GROUP), args: ['int', 'int'],
  };
  table[SYS_setresuid] = {
    name: 'setresuid', handler: (t, a) => setResId(t, [kid(t, USER, a.uint(0)), kid(t, USER, a.uint(1)), kid(t, USER, a.uint(2))], USER),
    args: ['int', 'int', 'int'],
  };
  table[SYS_setresgid] = {
    name: 'setresgid', handler: (t, a) => setResId(t, [kid(t, GROUP, a.uint(0)), kid(t, GROUP, a.uint(1)), kid(t, GROUP, a.uint(2))], GROUP),
    args: ['int', 'int', 'int'],
  };
  table[SYS_setfsuid] = { name: 'setfsuid', handler: (t, a) => setFsIdNs(t, a.uint(0), USER), args: ['uint'] };
  table[SYS_setfsgid] = { name: 'setfsgid', handler: (t, a) => setFsIdNs(t, a.uint(0), GROUP), args: ['uint'] };
  table[SYS_setgroups] = { name: 'setgroups', handler: sysSetgroups, args: ['int', 'ptr'] };
}
