import { describe, it, expect } from 'vitest';
import {
  SYS_close, SYS_close_range, SYS_dup, SYS_dup2, SYS_dup3, SYS_fcntl, SYS_ioctl, SYS_write,
} from '../../../ts/abi/linux/syscall_numbers';
import { EBADF, EINVAL, EMFILE, ENOTTY, EFAULT } from '../../../ts/abi/linux/errno';
import {
  FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETLK, F_SETFD, F_SETFL, O_APPEND,
  O_CLOEXEC, O_LARGEFILE, O_NONBLOCK, O_RDWR, O_WRONLY,
} from '../../../ts/abi/linux/fcntl';
import { FIOCLEX, FIONBIO, FIONCLEX, TCGETS } from '../../../ts/abi/linux/ioctl';
import { RLIMIT_NOFILE } from '../../../ts/kernel/rlimits';
import { MemFile, install, newTask, sys } from './fakes';

function withStdout() {
  const p = newTask();
  const f = new MemFile(new Uint8Array(0), O_WRONLY | O_LARGEFILE);
  install(p.t, new MemFile(), 0);
  install(p.t, f, 1);
  install(p.t, new MemFile(), 2);
  return { ...p, f };
}

describe('dup, dup2, dup3, close', () => {
  it('dup takes the lowest free fd and shares the description', () => {
    const { t, f } = withStdout();
    expect(sys(t, SYS_dup, 1)).toBe(3);
    expect(t.fdTable.get(3)).toBe(f);
    expect(sys(t, SYS_close, 0)).toBe(0);
    expect(sys(t, SYS_dup, 1)).toBe(0);
    expect(sys(t, SYS_dup, 42)).toBe(-EBADF);
  });

  it('dup2 onto itself returns the fd if open, EBADF otherwise', () => {
    const { t } = withStdout();
    expect(sys(t, SYS_dup2, 1, 1)).toBe(1);
    expect(sys(t, SYS_dup2, 9, 9)).toBe(-EBADF);
    expect(sys(t, SYS_dup2, 1, 10)).toBe(10);
    expect(sys(t, SYS_dup2, 99, 11)).toBe(-EBADF);
    expect(sys(t, SYS_dup2, 1, -1)).toBe(-EBADF);
  });

  it('dup2 replaces an open fd and clears FD_CLOEXEC', () => {
    const { t, f } = withStdout();
    const other = new MemFile();
    install(t, other, 5);
    t.fdTable.setFlags(5, { cloexec: true });
    expect(sys(t, SYS_dup2, 1, 5)).toBe(5);
    expect(other.released).toBe(true);
    expect(t.fdTable.get(5)).toBe(f);
    expect(sys(t, SYS_fcntl, 5, F_GETFD)).toBe(0);
  });

  it('dup3: EINVAL for the same fd or unknown flags, O_CLOEXEC sets FD_CLOEXEC', () => {
    const { t } = withStdout();
    expect(sys(t, SYS_dup3, 1, 1, 0)).toBe(-EINVAL);
    expect(sys(t, SYS_dup3, 1, 13, 0x4000000)).toBe(-EINVAL);
    expect(sys(t, SYS_dup3, 1, 12, O_CLOEXEC)).toBe(12);
    expect(sys(t, SYS_fcntl, 12, F_GETFD)).toBe(FD_CLOEXEC);
  });

  it('newfd at or past RLIMIT_NOFILE is EBADF; a full table is EMFILE', () => {
    const { t } = withStdout();
    t.tg.rlimits[RLIMIT_NOFILE] = { cur: 5n, max: 5n };
    expect(sys(t, SYS_dup2, 1, 5)).toBe(-EBADF);
    expect(sys(t, SYS_dup2, 1, 4)).toBe(4);
    expect(sys(t, SYS_dup, 1)).toBe(3);
    expect(sys(t, SYS_dup, 1)).toBe(-EMFILE);
    expect(sys(t, SYS_fcntl, 1, F_DUPFD, 5)).toBe(-EINVAL);
  });

  it('close: EBADF twice, for -1 and for huge fds; the last close releases', () => {
    const { t, f } = withStdout();
    expect(sys(t, SYS_dup, 1)).toBe(3);
    expect(sys(t, SYS_close, 3)).toBe(0);
    expect(sys(t, SYS_close, 3)).toBe(-EBADF);
    expect(sys(t, SYS_close, -1)).toBe(-EBADF);
    expect(sys(t, SYS_close, 1000)).toBe(-EBADF);
    expect(f.released).toBe(false);
    expect(sys(t, SYS_close, 1)).toBe(0);
    expect(f.released).toBe(true);
    expect(sys(t, SYS_write, 1, 0, 0)).toBe(-EBADF);
  });

  it('close_range closes or marks a range; EINVAL for first > last or bad flags', () => {
    const { t } = withStdout();
    sys(t, SYS_dup2, 1, 7);
    sys(t, SYS_dup2, 1, 8);
    expect(sys(t, SYS_close_range, 3, 7, 4 /* CLOEXEC */)).toBe(0);
    expect(sys(t, SYS_fcntl, 7, F_GETFD)).toBe(FD_CLOEXEC);
    expect(sys(t, SYS_close_range, 3, 0xffffffff, 0)).toBe(0);
    expect(t.fdTable.fds()).toEqual([0, 1, 2]);
    expect(sys(t, SYS_close_range, 5, 4, 0)).toBe(-EINVAL);
    expect(sys(t, SYS_close_range, 0, 4, 1 << 5)).toBe(-EINVAL);
  });
});

describe('fcntl', () => {
  it('F_DUPFD picks the lowest free fd at or above the argument', () => {
    const { t } = withStdout();
    expect(sys(t, SYS_fcntl, 1, F_DUPFD, 100)).toBe(100);
    expect(sys(t, SYS_fcntl, 1, F_DUPFD, 100)).toBe(101);
    expect(sys(t, SYS_fcntl, 1, F_DUPFD_CLOEXEC, 0)).toBe(3);
    expect(sys(t, SYS_fcntl, 3, F_GETFD)).toBe(FD_CLOEXEC);
    expect(sys(t, SYS_fcntl, 1, F_DUPFD, -1)).toBe(-EINVAL);
  });

  it('F_SETFD/F_GETFD, EBADF for a closed fd, EINVAL for unimplemented commands', () => {
    const { t } = withStdout();
    expect(sys(t, SYS_fcntl, 1, F_SETFD, FD_CLOEXEC | 6)).toBe(0);
    expect(sys(t, SYS_fcntl, 1, F_GETFD)).toBe(FD_CLOEXEC);
    expect(sys(t, SYS_fcntl, 77, F_GETFD)).toBe(-EBADF);
    // Record locks are validated (a NULL struct flock is EFAULT) and granted.
    expect(sys(t, SYS_fcntl, 1, F_GETLK, 0)).toBe(-EFAULT);
    expect(sys(t, SYS_fcntl, 1, 9999)).toBe(-EINVAL);
  });

  it('F_SETFL changes only the settable flags, seen through every dup', () => {
    const { t } = withStdout();
    expect(sys(t, SYS_fcntl, 1, F_GETFL)).toBe(O_WRONLY | O_LARGEFILE);
    sys(t, SYS_dup2, 1, 9);
    expect(sys(t, SYS_fcntl, 1, F_SETFL, O_RDWR | O_NONBLOCK | O_APPEND | O_CLOEXEC)).toBe(0);
    expect(sys(t, SYS_fcntl, 9, F_GETFL)).toBe(O_WRONLY | O_LARGEFILE | O_NONBLOCK | O_APPEND);
    expect(sys(t, SYS_fcntl, 9, F_SETFL, 0)).toBe(0);
    expect(sys(t, SYS_fcntl, 1, F_GETFL)).toBe(O_WRONLY | O_LARGEFILE);
  });
});

describe('ioctl', () => {
  it('generic requests: FIOCLEX, FIONCLEX, FIONBIO', () => {
    const { t, mm, f } = withStdout();
    expect(sys(t, SYS_ioctl, 1, FIOCLEX, 0)).toBe(0);
    expect(sys(t, SYS_fcntl, 1, F_GETFD)).toBe(FD_CLOEXEC);
    expect(sys(t, SYS_ioctl, 1, FIONCLEX, 0)).toBe(0);
    expect(sys(t, SYS_fcntl, 1, F_GETFD)).toBe(0);
    mm.map(0x10000, 0x1000);
    mm.writeI32(0x10000, 1);
    expect(sys(t, SYS_ioctl, 1, FIONBIO, 0x10000)).toBe(0);
    expect(f.flags & O_NONBLOCK).toBe(O_NONBLOCK);
    mm.writeI32(0x10000, 0);
    expect(sys(t, SYS_ioctl, 1, FIONBIO, 0x10000)).toBe(0);
    expect(f.flags & O_NONBLOCK).toBe(0);
    expect(sys(t, SYS_ioctl, 1, FIONBIO, 0x90000)).toBe(-EFAULT);
  });

  it('other requests go to the file (ENOTTY by default); EBADF for a closed fd', () => {
    const { t } = withStdout();
    expect(sys(t, SYS_ioctl, 1, TCGETS, 0x10000)).toBe(-ENOTTY);
    expect(sys(t, SYS_ioctl, 50, TCGETS, 0x10000)).toBe(-EBADF);
  });
});
