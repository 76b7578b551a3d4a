// The support table behind `tsvisor syscalls` must stay true to the dispatch table: a note
// for a syscall that has no handler (or a reason for one that has) is stale.
import { describe, expect, it } from 'vitest';
import { table } from '../../../ts/syscalls/linux/table';
import { LINUX_ENOSYS, PARTIAL, UNSUPPORTED, syscallSupport } from '../../../ts/syscalls/linux/support';
import { SYSCALL_NAMES } from '../../../ts/abi/linux/syscall_numbers';
import { formatSyscallSupport } from '../../../ts/cli/syscalls_table';

const registered = new Set(SYSCALL_NAMES.filter((n, nr) => n && table[nr] !== undefined));

describe('syscall support table', () => {
  it('partial notes name implemented syscalls only', () => {
    for (const name of Object.keys(PARTIAL)) expect(registered.has(name), name).toBe(true);
  });

  it('reasons for unsupported syscalls name unimplemented ones only', () => {
    for (const name of [...Object.keys(UNSUPPORTED), ...LINUX_ENOSYS]) expect(registered.has(name), name).toBe(false);
  });

  it('every amd64 number appears once, with a state', () => {
    const rows = syscallSupport(table);
    expect(rows.length).toBe(SYSCALL_NAMES.filter((n) => n).length);
    expect(new Set(rows.map((r) => r.nr)).size).toBe(rows.length);
    const text = formatSyscallSupport();
    expect(text).toMatch(/^\s*0 {2}read +full$/m);
    expect(text).toMatch(/^(\d+) full, (\d+) partial, (\d+) unsupported of (\d+) amd64 system calls$/m);
    expect(formatSyscallSupport('unsupported')).not.toMatch(/^\s*\d+ +\S+ +(full|partial)/m);
  });
});
