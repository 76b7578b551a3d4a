import { describe, it, expect } from 'vitest';
import {
  SYS_fstat, SYS_getcwd, SYS_newfstatat, SYS_readlink, SYS_readlinkat, SYS_stat, SYS_statx, SYS_umask,
} from '../../../ts/abi/linux/syscall_numbers';
import { EBADF, EFAULT, EINVAL, ENAMETOOLONG, ENOENT, ENOTDIR, ERANGE } from '../../../ts/abi/linux/errno';
import { AT_EMPTY_PATH, AT_FDCWD, AT_STATX_SYNC_TYPE } from '../../../ts/abi/linux/fcntl';
import { S_IFREG } from '../../../ts/abi/linux/stat';
import { MemFile, install, newTask, sys } from './fakes';

const BUF = 0x10000;
const PATH = 0x20000;

function setup() {
  const p = newTask({ pid: 7 });
  p.mm.map(BUF, 0x2000);
  p.mm.map(PATH, 0x2000);
  return p;
}

describe('getcwd and umask', () => {
  it('returns the length with the NUL; ERANGE if it does not fit', () => {
    const { t, mm } = setup();
    expect(sys(t, SYS_getcwd, BUF, 100)).toBe('/home/user'.length + 1);
    expect(mm.readCString(BUF, 100)).toBe('/home/user');
    expect(sys(t, SYS_getcwd, BUF, 11)).toBe(11);
    expect(sys(t, SYS_getcwd, BUF, 10)).toBe(-ERANGE);
    expect(sys(t, SYS_getcwd, BUF, 0)).toBe(-ERANGE);
    expect(sys(t, SYS_getcwd, 0, 100)).toBe(-EFAULT);
  });

  it('umask returns the old mask and keeps only permission bits', () => {
    const { t } = setup();
    expect(sys(t, SYS_umask, 0o7777)).toBe(0o022);
    expect(sys(t, SYS_umask, 0)).toBe(0o777);
  });
});

describe('readlink', () => {
  it('/proc/self/exe and its spellings give the executable, truncated, without a NUL', () => {
    const { t, mm } = setup();
    for (const p of ['/proc/self/exe', '/proc/7/exe', '/proc/thread-self/exe', '/proc/self/task/7/exe', '//proc/./self/exe']) {
      mm.putString(PATH, p);
      expect(sys(t, SYS_readlink, PATH, BUF, 4096), p).toBe('/usr/bin/prog'.length);
      expect(mm.getString(BUF, 13)).toBe('/usr/bin/prog');
    }
    mm.putBytes(BUF, 'XXXXXXXX');
    mm.putString(PATH, '/proc/self/exe');
    expect(sys(t, SYS_readlink, PATH, BUF, 4)).toBe(4);
    expect(mm.getString(BUF, 6)).toBe('/usrXX');
  });

  it('/proc/self and /proc/thread-self name the process and thread', () => {
    const { t, mm } = setup();
    mm.putString(PATH, '/proc/self');
    expect(sys(t, SYS_readlink, PATH, BUF, 100)).toBe(1);
    expect(mm.getString(BUF, 1)).toBe('7');
    mm.putString(PATH, '/proc/thread-self');
    expect(sys(t, SYS_readlinkat, AT_FDCWD, PATH, BUF, 100)).toBe(8);
    expect(mm.getString(BUF, 8)).toBe('7/task/7');
  });

  it('EINVAL for bufsiz <= 0 before the path is read, or for a file that is no symlink; ENOENT; EFAULT, ENAMETOOLONG', () => {
    const { t, mm } = setup();
    mm.putString(PATH, '/proc/self/exe');
    expect(sys(t, SYS_readlink, PATH, BUF, 0)).toBe(-EINVAL);
    expect(sys(t, SYS_readlink, 0x900000, BUF, -1)).toBe(-EINVAL);
    expect(sys(t, SYS_readlink, 0x900000, BUF, 10)).toBe(-EFAULT);
    mm.putString(PATH, '/proc/self/status');
    expect(sys(t, SYS_readlink, PATH, BUF, 10)).toBe(-EINVAL);
    mm.putString(PATH, '/no/such/file');
    expect(sys(t, SYS_readlink, PATH, BUF, 10)).toBe(-ENOENT);
    mm.putString(PATH, '/proc/99/exe');
    expect(sys(t, SYS_readlink, PATH, BUF, 10)).toBe(-ENOENT);
    mm.putString(PATH, '');
    expect(sys(t, SYS_readlink, PATH, BUF, 10)).toBe(-ENOENT);
    mm.putBytes(PATH, new Uint8Array(0x2000).fill(0x61));
    expect(sys(t, SYS_readlink, PATH, BUF, 10)).toBe(-ENAMETOOLONG);
  });

  it('relative paths: from the cwd, or EBADF/ENOTDIR for a bad dirfd', () => {
    const { t, mm } = setup();
    t.fs.cwd = '/proc';
    mm.putString(PATH, 'self/exe');
    expect(sys(t, SYS_readlink, PATH, BUF, 100)).toBe(13);
    expect(sys(t, SYS_readlinkat, 33, PATH, BUF, 100)).toBe(-EBADF);
    const fd = install(t, new MemFile());
    expect(sys(t, SYS_readlinkat, fd, PATH, BUF, 100)).toBe(-ENOTDIR);
  });
});

describe('fstat, newfstatat, statx', () => {
  it('fstat encodes struct stat', () => {
    const { t, mm } = setup();
    const fd = install(t, new MemFile(Buffer.from('12345')));
    expect(sys(t, SYS_fstat, fd, BUF)).toBe(0);
    const v = new DataView(mm.copyIn(BUF, 144).buffer);
    expect(v.getBigUint64(0, true)).toBe(0x803n); // st_dev
    expect(v.getBigUint64(8, true)).toBe(42n); // st_ino
    expect(v.getUint32(24, true)).toBe(S_IFREG | 0o644); // st_mode
    expect(v.getBigInt64(48, true)).toBe(5n); // st_size
    expect(v.getBigInt64(88, true)).toBe(1234n); // st_mtime
    expect(v.getBigInt64(96, true)).toBe(5678n);
    expect(sys(t, SYS_fstat, 40, BUF)).toBe(-EBADF);
    expect(sys(t, SYS_fstat, fd, 0x900000)).toBe(-EFAULT);
  });

  it('newfstatat with AT_EMPTY_PATH stats the fd; a missing path is ENOENT', () => {
    const { t, mm } = setup();
    const fd = install(t, new MemFile(Buffer.from('12345')));
    mm.putString(PATH, '');
    expect(sys(t, SYS_newfstatat, fd, PATH, BUF, AT_EMPTY_PATH)).toBe(0);
    expect(new DataView(mm.copyIn(BUF + 48, 8).buffer).getBigInt64(0, true)).toBe(5n);
    expect(sys(t, SYS_newfstatat, fd, 0, BUF, AT_EMPTY_PATH)).toBe(0);
    expect(sys(t, SYS_newfstatat, fd, PATH, BUF, 0)).toBe(-ENOENT);
    expect(sys(t, SYS_newfstatat, 30, PATH, BUF, AT_EMPTY_PATH)).toBe(-EBADF);
    expect(sys(t, SYS_newfstatat, fd, PATH, BUF, 0x8000)).toBe(-EINVAL);
    mm.putString(PATH, '/no/such/file');
    expect(sys(t, SYS_newfstatat, AT_FDCWD, PATH, BUF, 0)).toBe(-ENOENT);
    expect(sys(t, SYS_stat, PATH, BUF)).toBe(-ENOENT);
  });

  it('statx validates mask and flags and fills struct statx', () => {
    const { t, mm } = setup();
    const fd = install(t, new MemFile(Buffer.from('123')));
    mm.putString(PATH, '');
    expect(sys(t, SYS_statx, fd, PATH, AT_EMPTY_PATH, 0x80000000, BUF)).toBe(-EINVAL);
    expect(sys(t, SYS_statx, fd, PATH, AT_EMPTY_PATH | AT_STATX_SYNC_TYPE, 0x7ff, BUF)).toBe(-EINVAL);
    // With an fd and an empty path, Linux 6.18 stats the fd and looks at no other flag bit;
    // the same bit with a path (or the cwd) is EINVAL.
    expect(sys(t, SYS_statx, fd, PATH, AT_EMPTY_PATH | 1, 0x7ff, BUF)).toBe(0);
    expect(sys(t, SYS_statx, AT_FDCWD, PATH, AT_EMPTY_PATH | 1, 0x7ff, BUF)).toBe(-EINVAL);
    expect(sys(t, SYS_statx, fd, PATH, AT_EMPTY_PATH, 0x7ff, BUF)).toBe(0);
    const v = new DataView(mm.copyIn(BUF, 256).buffer);
    expect(v.getUint32(0, true)).toBe(0x7ff | 0x1000); // stx_mask: basic stats and STATX_MNT_ID
    expect(v.getUint16(28, true)).toBe(S_IFREG | 0o644);
    expect(v.getBigUint64(40, true)).toBe(3n); // stx_size
    expect(v.getUint32(136, true)).toBe(8); // dev major of 0x803
    expect(v.getUint32(140, true)).toBe(3); // dev minor
  });
});
