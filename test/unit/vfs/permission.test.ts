// Permission checks with an unprivileged task (uid 1000) on tmpfs: search permission on
// directories, read/write on files, owner-only chmod, the sticky bit, and root's override.
import { describe, expect, it } from 'vitest';
import {
  SYS_access, SYS_chdir, SYS_chmod, SYS_chown, SYS_mkdir, SYS_mknod, SYS_open, SYS_rename, SYS_stat, SYS_truncate,
  SYS_unlink, SYS_utimensat,
} from '../../../ts/abi/linux/syscall_numbers';
import { EACCES, EPERM } from '../../../ts/abi/linux/errno';
import { O_CREAT, O_RDONLY, O_RDWR, O_WRONLY } from '../../../ts/abi/linux/fcntl';
import { R_OK, W_OK, X_OK } from '../../../ts/abi/linux/fs';
import { S_IFCHR, S_IFIFO } from '../../../ts/abi/linux/stat';
import { Credentials } from '../../../ts/kernel/credentials';
import { BUF, tmpfsProc } from './vfs_helpers';

function asUser(p: ReturnType<typeof tmpfsProc>): void {
  p.t.creds = new Credentials(1000, 1000);
}

describe('permissions', () => {
  it('an unprivileged task gets EACCES where the mode bits say no', () => {
    const p = tmpfsProc();
    p.call(SYS_mkdir, '/private', 0o700);
    p.call(SYS_open, '/private/f', O_CREAT | O_RDWR, 0o644);
    p.call(SYS_open, '/ro', O_CREAT | O_RDWR, 0o644);
    p.call(SYS_mkdir, '/tmp', 0o777);
    p.call(SYS_chmod, '/tmp', 0o1777);
    p.call(SYS_open, '/tmp/roots', O_CREAT | O_RDWR, 0o666);
    p.call(SYS_chmod, '/tmp/roots', 0o666);
    asUser(p);
    expect(p.call(SYS_stat, '/private/f', BUF)).toBe(-EACCES);
    expect(p.call(SYS_chdir, '/private')).toBe(-EACCES);
    expect(p.call(SYS_open, '/ro', O_RDONLY)).toBeGreaterThanOrEqual(0);
    expect(p.call(SYS_open, '/ro', O_WRONLY)).toBe(-EACCES);
    expect(p.call(SYS_truncate, '/ro', 0)).toBe(-EACCES);
    expect(p.call(SYS_access, '/ro', R_OK)).toBe(0);
    expect(p.call(SYS_access, '/ro', W_OK)).toBe(-EACCES);
    expect(p.call(SYS_access, '/ro', X_OK)).toBe(-EACCES);
    expect(p.call(SYS_open, '/new', O_CREAT | O_RDWR, 0o644)).toBe(-EACCES);
    expect(p.call(SYS_chmod, '/ro', 0o777)).toBe(-EPERM);
    expect(p.call(SYS_chown, '/ro', 1000, 1000)).toBe(-EPERM);
    expect(p.call(SYS_utimensat, -100, '/ro', BUF + 1000, 0)).toBe(-EPERM);
    expect(p.call(SYS_mknod, '/tmp/dev', S_IFCHR | 0o600, 0x103)).toBe(-EPERM);
    expect(p.call(SYS_mknod, '/tmp/fifo', S_IFIFO | 0o600, 0)).toBe(0);
    // Sticky /tmp: the file is world-writable, but only its owner may remove or rename it.
    expect(p.call(SYS_open, '/tmp/roots', O_RDWR)).toBeGreaterThanOrEqual(0);
    expect(p.call(SYS_unlink, '/tmp/roots')).toBe(-EPERM);
    expect(p.call(SYS_rename, '/tmp/roots', '/tmp/mine')).toBe(-EPERM);
    const fd = Number(p.call(SYS_open, '/tmp/mine', O_CREAT | O_RDWR, 0o600));
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(p.call(SYS_chmod, '/tmp/mine', 0o640)).toBe(0);
    expect(p.call(SYS_unlink, '/tmp/mine')).toBe(0);
  });

  it('root reads and writes anything, but executes only what has an x bit', () => {
    const p = tmpfsProc();
    p.call(SYS_mkdir, '/private', 0o000);
    p.call(SYS_open, '/private/f', O_CREAT | O_RDWR, 0o000);
    expect(p.call(SYS_open, '/private/f', O_RDWR)).toBeGreaterThanOrEqual(0);
    expect(p.call(SYS_access, '/private/f', R_OK | W_OK)).toBe(0);
    expect(p.call(SYS_access, '/private/f', X_OK)).toBe(-EACCES);
    p.call(SYS_chmod, '/private/f', 0o001);
    expect(p.call(SYS_access, '/private/f', X_OK)).toBe(0);
  });
});
