// commit_creds (Linux kernel/cred.c): installing a task's new credentials. A change of
// effective or fs ids, or new permitted capabilities, makes the process undumpable and
// forgets the parent-death signal, so that a less privileged parent cannot reach it.

import type { Task } from '../../kernel/task';
import type { Credentials } from '../../kernel/credentials';
import { capIsSubset } from '../../kernel/capabilities';
import { taskAttrs } from './task_attrs';

/** /proc/sys/fs/suid_dumpable's default. */
/** fs.suid_dumpable: 0, a set-id change makes the process not dumpable. */
export const SUID_DUMPABLE = 0;
const SUID_DUMP_USER = 1;

/** cred_cap_issubset: next holds no capability old did not. Across user namespaces: next's
 *  namespace is one old's euid made below old's (whose holder has every capability in it). */
function credCapIsSubset(old: Credentials, next: Credentials): boolean {
  if (old.userNs === next.userNs) return capIsSubset(next.capPermitted, old.capPermitted);
  for (let ns = next.userNs; ns.parent !== null; ns = ns.parent) {
    if (ns.parent === old.userNs && ns.owner === old.euid) return true;
  }
  return false;
}

export function commitCreds(t: Task, next: Credentials): void {
  const old = t.creds;
  if (old.euid !== next.euid || old.egid !== next.egid || old.fsuid !== next.fsuid ||
    old.fsgid !== next.fsgid || !credCapIsSubset(old, next)) {
    const attrs = taskAttrs(t);
    attrs.dumpable = SUID_DUMPABLE;
    attrs.pdeathsig = 0;
  }
  t.creds = next;
}

/** begin_new_exec's part: the new program's credentials, dumpable unless it runs set-id,
 *  and no parent-death signal into a secure (privilege-gaining) exec. */
export function commitExecCreds(t: Task, next: Credentials, secure: boolean): void {
  const attrs = taskAttrs(t);
  if (secure) attrs.pdeathsig = 0;
  attrs.dumpable = next.euid === next.uid && next.egid === next.gid ? SUID_DUMP_USER : SUID_DUMPABLE;
  t.creds = next;
}
