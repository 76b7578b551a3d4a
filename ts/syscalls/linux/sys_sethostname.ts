// sethostname, setdomainname (Linux kernel/sys.c): the names of the caller's UTS namespace
// (what uname and /proc/sys/kernel/{hostname,domainname} show), never the host's.
// CAP_SYS_ADMIN over the namespace's owner, at most __NEW_UTS_LEN (64) bytes, taken as given
// (no NUL needed).

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPERM } from '../../abi/linux/errno';
import { CAP_SYS_ADMIN } from '../../kernel/capabilities';
import { utsOf } from '../../kernel/ns/nsproxy';
import { SYS_setdomainname, SYS_sethostname } from '../../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from './types';

const NEW_UTS_LEN = 64;

function utsName(t: Task, a: SyscallArgs): string {
  if (!t.creds.nsCapable(utsOf(t).userNs, CAP_SYS_ADMIN)) fail(EPERM);
  const len = a.long(1);
  if (len < 0 || len > NEW_UTS_LEN) fail(EINVAL);
  const buf = t.mm.copyIn(a.ptr(0), len);
  // utsname fields are NUL-terminated: a name with a NUL in it ends there when read back.
  const nul = buf.indexOf(0);
  return Buffer.from(nul >= 0 ? buf.subarray(0, nul) : buf).toString('latin1');
}

export function registerSethostname(table: SyscallTable): void {
  table[SYS_sethostname] = {
    name: 'sethostname', args: ['str', 'size'],
    handler: (t, a) => { utsOf(t).hostname = utsName(t, a); return 0; },
  };
  table[SYS_setdomainname] = {
    name: 'setdomainname', args: ['str', 'size'],
    handler: (t, a) => { utsOf(t).domainname = utsName(t, a); return 0; },
  };
}
