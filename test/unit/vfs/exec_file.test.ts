// openExecutable through the VFS: the program file as the loader wants it, with Linux's
// open_exec checks (regular file, execute permission).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EACCES, ENOENT } from '../../../ts/abi/linux/errno';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { Credentials } from '../../../ts/kernel/credentials';
import { openExecutable, openExecutableIn } from '../../../ts/vfs/exec_file';
import { newRootFileSystem } from '../../../ts/fsimpl/root';
import { installMountNamespace } from '../../../ts/vfs/task_fs';
import { newTask } from '../syscalls/fakes';

function errnoOf(f: () => unknown): number {
  try { f(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  return 0;
}

describe('openExecutable', () => {
  it.skipIf(!existsSync('/bin/sh'))('opens a host program through the overlay', () => {
    const p = newTask({ uid: 0 });
    installMountNamespace(p.kernel, newRootFileSystem(p.kernel));
    const exe = openExecutable(p.t, '/bin/sh');
    expect(exe.size).toBeGreaterThan(64);
    expect(Buffer.from(exe.read(0, 4)).toString('latin1')).toBe('\x7fELF');
    expect(exe.backing.name).toMatch(/sh$/);
    const same = openExecutableIn(p.kernel, { cwd: '/bin', umask: 0o22 }, new Credentials(0, 0), 'sh');
    expect(same.size).toBe(exe.size);
  });

  it('refuses directories, missing files and files without an x bit', () => {
    const p = newTask({ uid: 0 });
    installMountNamespace(p.kernel, newRootFileSystem(p.kernel));
    expect(errnoOf(() => openExecutable(p.t, '/etc'))).toBe(EACCES);
    expect(errnoOf(() => openExecutable(p.t, '/no/such/program'))).toBe(ENOENT);
    expect(errnoOf(() => openExecutable(p.t, '/proc/self/status'))).toBe(EACCES);
  });
});
