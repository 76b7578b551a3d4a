// uname (Linux kernel/sys.c): struct utsname is six 65-byte NUL-padded fields; the host and
// domain names are the caller's UTS namespace's. The release
// names a kernel new enough for every feature the C libraries probe for at start-up.

import type { Task } from '../../kernel/task';
import { SYS_uname } from '../../abi/linux/syscall_numbers';
import { utsOf } from '../../kernel/ns/nsproxy';
import type { SyscallArgs, SyscallTable } from './types';

const FIELD = 65;
export const UTS_SYSNAME = 'Linux';
export const UTS_RELEASE = '6.1.0';
export const UTS_VERSION = '#1 SMP tsvisor';
export const UTS_MACHINE = 'x86_64';

function sysUname(t: Task, a: SyscallArgs): number {
  const uts = utsOf(t);
  const fields = [UTS_SYSNAME, uts.hostname, UTS_RELEASE, UTS_VERSION, UTS_MACHINE, uts.domainname];
  const buf = new Uint8Array(FIELD * fields.length);
  fields.forEach((f, i) => {
    // At most 64 bytes: the 65th is always the NUL.
    // latin1: the names are kept byte for byte as sethostname took them.
    buf.set(Buffer.from(f, 'latin1').subarray(0, FIELD - 1), i * FIELD);
  });
  t.mm.copyOut(a.ptr(0), buf);
  return 0;
}

export function registerUname(table: SyscallTable): void {
  table[SYS_uname] = { name: 'uname', handler: sysUname, args: ['outptr'] };
}
