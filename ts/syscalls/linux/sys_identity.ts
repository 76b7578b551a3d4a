// getpid, getppid and the credential getters (Linux kernel/sys.c, kernel/groups.c); the
// setters are in sys_setid.ts. Ids are shown as the caller's user namespace sees them
// (from_kuid_munged: an unmapped id reads as the overflow id, 65534).

import { vtgid } from '../../kernel/ns/pid_ns';
import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL } from '../../abi/linux/errno';
import {
  SYS_getegid, SYS_geteuid, SYS_getgid, SYS_getgroups, SYS_getpid, SYS_getppid, SYS_getresgid,
  SYS_getresuid, SYS_getuid,
} from '../../abi/linux/syscall_numbers';
import { fromKgid, fromKuid } from '../../kernel/ns/user_namespace';
import type { SyscallArgs, SyscallTable } from './types';

/** getgroups(size, list): size 0 asks for the count; a smaller size than the count is EINVAL. */
function sysGetgroups(t: Task, a: SyscallArgs): number {
  const size = a.int(0);
  const groups = t.creds.groups.map((g) => fromKgid(t.creds.userNs, g));
  if (size < 0) fail(EINVAL);
  if (size === 0) return groups.length;
  if (size < groups.length) fail(EINVAL);
  const out = new Uint8Array(groups.length * 4);
  const v = new DataView(out.buffer);
  groups.forEach((g, i) => v.setUint32(i * 4, g >>> 0, true));
  t.mm.copyOut(a.ptr(1), out);
  return groups.length;
}

/** getresuid/getresgid write each id separately, as put_user does. */
function putResIds(t: Task, a: SyscallArgs, ids: [number, number, number]): number {
  ids.forEach((id, i) => t.mm.writeU32(a.ptr(i), id));
  return 0;
}

export function registerIdentity(table: SyscallTable): void {
  table[SYS_getpid] = { name: 'getpid', handler: (t) => vtgid(t, t.tg), args: [] };
  // 0 when the parent is outside the caller's pid namespace (its init's parent).
  table[SYS_getppid] = { name: 'getppid', handler: (t) => vtgid(t, t.tg.parent), args: [] };
  const u = (t: Task, id: number): number => fromKuid(t.creds.userNs, id);
  const g = (t: Task, id: number): number => fromKgid(t.creds.userNs, id);
  table[SYS_getuid] = { name: 'getuid', handler: (t) => u(t, t.creds.uid), args: [] };
  table[SYS_geteuid] = { name: 'geteuid', handler: (t) => u(t, t.creds.euid), args: [] };
  table[SYS_getgid] = { name: 'getgid', handler: (t) => g(t, t.creds.gid), args: [] };
  table[SYS_getegid] = { name: 'getegid', handler: (t) => g(t, t.creds.egid), args: [] };
  table[SYS_getgroups] = { name: 'getgroups', handler: sysGetgroups, args: ['int', 'outptr'] };
  table[SYS_getresuid] = {
    name: 'getresuid', handler: (t, a) => putResIds(t, a, [u(t, t.creds.uid), u(t, t.creds.euid), u(t, t.creds.suid)]),
    args: ['outptr', 'outptr', 'outptr'],
  };
  table[SYS_getresgid] = {
    name: 'getresgid', handler: (t, a) => putResIds(t, a, [g(t, t.creds.gid), g(t, t.creds.egid), g(t, t.creds.sgid)]),
    args: ['outptr', 'outptr', 'outptr'],
  };
}
