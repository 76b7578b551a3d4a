// The capability side of credential changes (Linux security/commoncap.c): what a uid change
// does to the capability sets, and the credentials a program gets at execve.

import {
  CAP_EMPTY_SET, CAP_FS_SET, CAP_SETUID, SECURE_KEEP_CAPS, SECURE_NOROOT, SECURE_NO_SETUID_FIXUP,
  capIsSubset, issecure,
} from './capabilities';
import type { Credentials } from './credentials';
import { kgidHasMapping, kuidHasMapping } from './ns/user_namespace';

/** cap_emulate_setxuid: leaving root entirely drops the permitted and effective sets
 *  (unless keepcaps) and always the ambient set; euid leaving or entering 0 drops or
 *  restores the effective set. */
function capEmulateSetxuid(next: Credentials, old: Credentials): void {
  // Root is the uid that maps to 0 in the task's user namespace (none if 0 is unmapped).
  const root = old.rootUid();
  const wasRoot = old.uid === root || old.euid === root || old.suid === root;
  const isRoot = next.uid === root || next.euid === root || next.suid === root;
  if (wasRoot && !isRoot) {
    if (!issecure(old.securebits, SECURE_KEEP_CAPS)) {
      next.capPermitted = CAP_EMPTY_SET;
      next.capEffective = CAP_EMPTY_SET;
    }
    next.capAmbient = CAP_EMPTY_SET;
  }
  if (old.euid === root && next.euid !== root) next.capEffective = CAP_EMPTY_SET;
  if (old.euid !== root && next.euid === root) next.capEffective = next.capPermitted;
}

/** cap_task_fix_setuid for setuid, setreuid and setresuid (LSM_SETID_ID/RE/RES). */
export function fixSetuid(next: Credentials, old: Credentials): void {
  if (!issecure(old.securebits, SECURE_NO_SETUID_FIXUP)) capEmulateSetxuid(next, old);
}

/** cap_task_fix_setuid for setfsuid (LSM_SETID_FS): the file-system capabilities follow
 *  fsuid 0. */
export function fixSetfsuid(next: Credentials, old: Credentials): void {
  if (issecure(old.securebits, SECURE_NO_SETUID_FIXUP)) return;
  const root = old.rootUid();
  if (old.fsuid === root && next.fsuid !== root) next.capEffective &= ~CAP_FS_SET;
  if (old.fsuid !== root && next.fsuid === root) next.capEffective |= next.capPermitted & CAP_FS_SET;
}

export interface ExecFile {
  mode: number;
  uid: number;
  gid: number;
  /** The mount honours set-user-ID bits (not nosuid). */
  maySuid: boolean;
}

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_IXGRP = 0o010;

/** bprm->unsafe (check_unsafe_exec): why set-id bits or new capabilities are not safe to
 *  grant — a tracer, another process sharing the fs context (CLONE_FS), no_new_privs. */
export const LSM_UNSAFE_SHARE = 1, LSM_UNSAFE_PTRACE = 2, LSM_UNSAFE_NO_NEW_PRIVS = 4;

export interface UnsafeExec {
  /** LSM_UNSAFE_* bits. */
  unsafe: number;
  /** ptracer_capable: no tracer, or one with CAP_SYS_PTRACE over the task's namespace. */
  ptracerCapable: boolean;
}

/** bprm_fill_uid + cap_bprm_creds_from_file (no file capabilities: the sandbox's files
 *  carry none). Returns the new credentials and whether the exec is secure (AT_SECURE).
 *  `unsafe` is asked only when the exec would change ids or grant capabilities. */
export function execCredentials(old: Credentials, file: ExecFile, noNewPrivs: boolean, unsafe: () => UnsafeExec):
{ creds: Credentials; secure: boolean } {
  const next = old.clone();
  const root = old.rootUid();
  // bprm_fill_uid: set-id bits of a file whose owner the namespace cannot name are ignored.
  const mapped = kuidHasMapping(old.userNs, file.uid) && kgidHasMapping(old.userNs, file.gid);
  if (file.maySuid && !noNewPrivs && mapped) {
    if (file.mode & S_ISUID) next.euid = file.uid;
    if ((file.mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) next.egid = file.gid;
  }
  next.capPermitted = CAP_EMPTY_SET;
  let effective = false;
  if (!issecure(old.securebits, SECURE_NOROOT)) {
    // Root's exec: pP' = bset | pI, and fE is set when the euid is root's.
    if (next.euid === root || next.uid === root) next.capPermitted = old.capBounding | old.capInheritable;
    if (next.euid === root) effective = true;
  }
  const isSetid = next.euid !== old.euid || next.egid !== old.egid;
  const gained = !capIsSubset(next.capPermitted, old.capPermitted);
  // An unsafe exec gets no more than it had; the ids stay too unless the caller could set
  // them anyway (CAP_SETUID) and no_new_privs is off.
  const u = isSetid || gained ? unsafe() : null;
  if (u !== null && ((u.unsafe & ~LSM_UNSAFE_PTRACE) !== 0 || !u.ptracerCapable)) {
    if (!old.nsCapable(next.userNs, CAP_SETUID) || noNewPrivs) {
      next.euid = next.uid;
      next.egid = next.gid;
    }
    next.capPermitted &= old.capPermitted;
  }
  next.suid = next.fsuid = next.euid;
  next.sgid = next.fsgid = next.egid;
  if (isSetid) next.capAmbient = CAP_EMPTY_SET;
  next.capPermitted |= next.capAmbient;
  next.capEffective = effective ? next.capPermitted : next.capAmbient;
  next.securebits &= ~(1 << SECURE_KEEP_CAPS);
  const grew = !capIsSubset(next.capPermitted, next.capAmbient);
  const secure = isSetid || (next.uid !== root && (effective || grew));
  return { creds: next, secure };
}
