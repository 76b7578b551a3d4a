import { describe, it, expect } from 'vitest';
import {
  SYS_lseek, SYS_pread64, SYS_preadv, SYS_preadv2, SYS_pwrite64, SYS_pwritev2, SYS_read, SYS_readv,
  SYS_write, SYS_writev,
} from '../../../ts/abi/linux/syscall_numbers';
import { EBADF, EFAULT, EINVAL, ENOTSUP, ESPIPE, EAGAIN } from '../../../ts/abi/linux/errno';
import { O_NONBLOCK, O_RDONLY, O_WRONLY, SEEK_CUR, SEEK_END, SEEK_SET } from '../../../ts/abi/linux/fcntl';
import { copyInIovecs } from '../../../ts/syscalls/linux/user_io';
import { FakePipe, MemFile, install, newTask, sys, sysAsync } from './fakes';

const BUF = 0x10000;
const IOV = 0x20000;

function setup() {
  const p = newTask();
  p.mm.map(BUF, 0x10000);
  p.mm.map(IOV, 0x10000);
  return p;
}

function putIovecs(p: ReturnType<typeof setup>, iovs: [number, number | bigint][]): void {
  const b = new Uint8Array(iovs.length * 16);
  const v = new DataView(b.buffer);
  iovs.forEach(([base, len], i) => {
    v.setBigUint64(i * 16, BigInt(base), true);
    v.setBigUint64(i * 16 + 8, BigInt.asUintN(64, BigInt(len)), true);
  });
  p.mm.putBytes(IOV, b);
}

describe('read and write', () => {
  it('move data and the file position', () => {
    const p = setup();
    const f = new MemFile(Buffer.from('hello world'));
    const fd = install(p.t, f);
    expect(sys(p.t, SYS_read, fd, BUF, 5)).toBe(5);
    expect(p.mm.getString(BUF, 5)).toBe('hello');
    expect(sys(p.t, SYS_read, fd, BUF, 100)).toBe(6);
    expect(sys(p.t, SYS_read, fd, BUF, 100)).toBe(0);
    p.mm.putBytes(BUF, '!!');
    expect(sys(p.t, SYS_write, fd, BUF, 2)).toBe(2);
    expect(f.text()).toBe('hello world!!');
  });

  it('EBADF for a closed fd or a description not opened for the direction', () => {
    const p = setup();
    expect(sys(p.t, SYS_read, 9, BUF, 1)).toBe(-EBADF);
    expect(sys(p.t, SYS_write, -1, BUF, 1)).toBe(-EBADF);
    const ro = install(p.t, new MemFile(Buffer.from('x'), O_RDONLY));
    const wo = install(p.t, new MemFile(Buffer.from('x'), O_WRONLY));
    expect(sys(p.t, SYS_write, ro, BUF, 1)).toBe(-EBADF);
    expect(sys(p.t, SYS_read, wo, BUF, 1)).toBe(-EBADF);
  });

  it('EFAULT for an unmapped buffer or one reaching past user space; 0 bytes needs no buffer', () => {
    const p = setup();
    const fd = install(p.t, new MemFile(Buffer.from('data')));
    expect(sys(p.t, SYS_read, fd, 0x900000, 4)).toBe(-EFAULT);
    expect(sys(p.t, SYS_write, fd, 0x900000, 4)).toBe(-EFAULT);
    expect(sys(p.t, SYS_read, fd, BUF, 0xffff_ffff_ffff_fff0n)).toBe(-EFAULT);
    expect(sys(p.t, SYS_write, fd, 0, 0)).toBe(0);
  });

  it('a fault part-way through returns the bytes done', () => {
    const p = setup();
    const f = new MemFile(new Uint8Array(0x3000).fill(0x61));
    const fd = install(p.t, f);
    p.mm.map(0x50000, 0x1000);
    // 0x51000 is not mapped: 0x100 bytes fit.
    expect(sys(p.t, SYS_read, fd, 0x51000 - 0x100, 0x1000)).toBe(0x100);
    expect(f.pos).toBe(0x100); // what was not delivered was not read
    expect(sys(p.t, SYS_read, fd, 0x51000, 0x1000)).toBe(-EFAULT);
    expect(f.pos).toBe(0x100);
  });

  it('waits on a pipe with a Promise, and O_NONBLOCK gives EAGAIN instead', async () => {
    const p = setup();
    const pipe = new FakePipe();
    const fd = install(p.t, pipe);
    const pending = sysAsync(p.t, SYS_read, fd, BUF, 10);
    pipe.push('abc');
    expect(await pending).toBe(3);
    expect(p.mm.getString(BUF, 3)).toBe('abc');
    pipe.flags |= O_NONBLOCK;
    expect(sys(p.t, SYS_read, fd, BUF, 10)).toBe(-EAGAIN);
  });
});

describe('pread64, pwrite64, lseek', () => {
  it('negative offset is EINVAL even before the fd is looked at', () => {
    const p = setup();
    expect(sys(p.t, SYS_pread64, 99, BUF, 1, -1)).toBe(-EINVAL);
    expect(sys(p.t, SYS_pwrite64, 99, BUF, 1, -5)).toBe(-EINVAL);
    expect(sys(p.t, SYS_pread64, 99, BUF, 1, 0)).toBe(-EBADF);
  });

  it('ESPIPE on a pipe', () => {
    const p = setup();
    const fd = install(p.t, new FakePipe());
    expect(sys(p.t, SYS_pread64, fd, BUF, 1, 0)).toBe(-ESPIPE);
    expect(sys(p.t, SYS_pwrite64, fd, BUF, 1, 0)).toBe(-ESPIPE);
    expect(sys(p.t, SYS_lseek, fd, 0, SEEK_CUR)).toBe(-ESPIPE);
  });

  it('positional I/O leaves the file position alone', () => {
    const p = setup();
    const f = new MemFile(Buffer.from('0123456789'));
    const fd = install(p.t, f);
    expect(sys(p.t, SYS_pread64, fd, BUF, 3, 4)).toBe(3);
    expect(p.mm.getString(BUF, 3)).toBe('456');
    expect(f.pos).toBe(0);
    p.mm.putBytes(BUF, 'xy');
    expect(sys(p.t, SYS_pwrite64, fd, BUF, 2, 8)).toBe(2);
    expect(f.text()).toBe('01234567xy');
    expect(f.pos).toBe(0);
  });

  it('lseek: whences, EINVAL for a bad whence or a negative result', () => {
    const p = setup();
    const fd = install(p.t, new MemFile(Buffer.from('0123456789')));
    expect(sys(p.t, SYS_lseek, fd, 4, SEEK_SET)).toBe(4);
    expect(sys(p.t, SYS_lseek, fd, 2, SEEK_CUR)).toBe(6);
    expect(sys(p.t, SYS_lseek, fd, -1, SEEK_END)).toBe(9);
    expect(sys(p.t, SYS_lseek, fd, 0, 5)).toBe(-EINVAL);
    expect(sys(p.t, SYS_lseek, fd, -20, SEEK_CUR)).toBe(-EINVAL);
    expect(sys(p.t, SYS_lseek, 50, 0, SEEK_SET)).toBe(-EBADF);
  });
});

describe('readv and writev', () => {
  it('gather and scatter across iovecs', () => {
    const p = setup();
    const f = new MemFile();
    const fd = install(p.t, f);
    p.mm.putBytes(BUF, 'wri');
    p.mm.putBytes(BUF + 100, 'tev ');
    p.mm.putBytes(BUF + 200, 'three\n');
    putIovecs(p, [[BUF, 3], [BUF + 100, 0], [BUF + 100, 4], [BUF + 200, 6]]);
    expect(sys(p.t, SYS_writev, fd, IOV, 4)).toBe(13);
    expect(f.text()).toBe('writev three\n');
    f.pos = 0;
    putIovecs(p, [[BUF + 1000, 2], [BUF + 2000, 20]]);
    expect(sys(p.t, SYS_readv, fd, IOV, 2)).toBe(13);
    expect(p.mm.getString(BUF + 1000, 2)).toBe('wr');
    expect(p.mm.getString(BUF + 2000, 11)).toBe('itev three\n');
  });

  it('EINVAL beyond IOV_MAX, for a negative count or length; 0 iovecs is 0', () => {
    const p = setup();
    const fd = install(p.t, new MemFile());
    expect(sys(p.t, SYS_writev, fd, IOV, 1025)).toBe(-EINVAL);
    expect(sys(p.t, SYS_writev, fd, IOV, -1)).toBe(-EINVAL);
    expect(sys(p.t, SYS_readv, fd, IOV, 1025)).toBe(-EINVAL);
    putIovecs(p, [[BUF, 1], [BUF, -1n]]);
    expect(sys(p.t, SYS_writev, fd, IOV, 2)).toBe(-EINVAL);
    expect(sys(p.t, SYS_writev, fd, IOV, 0)).toBe(0);
  });

  it('clamps the total to MAX_RW_COUNT', () => {
    const p = setup();
    putIovecs(p, [[0x1000, 0x7ffff000], [0x1000, 0x7ffff000], [0x1000, 5]]);
    expect(copyInIovecs(p.t, IOV, 3).map((v) => v.len)).toEqual([0x7ffff000, 0, 0]);
  });

  it('EFAULT for an unreadable iovec array or a base past user space', () => {
    const p = setup();
    const fd = install(p.t, new MemFile());
    expect(sys(p.t, SYS_writev, fd, 0x900000, 1)).toBe(-EFAULT);
    putIovecs(p, [[0x7fff_ffff_f000, 0x2000]]);
    expect(sys(p.t, SYS_writev, fd, IOV, 1)).toBe(-EFAULT);
  });

  it('a bad later iovec still writes what came before', () => {
    const p = setup();
    const f = new MemFile();
    const fd = install(p.t, f);
    p.mm.putBytes(BUF, 'good');
    putIovecs(p, [[BUF, 4], [0x900000, 4]]);
    expect(sys(p.t, SYS_writev, fd, IOV, 2)).toBe(4);
    expect(f.text()).toBe('good');
  });

  it('preadv at an offset, preadv2 at -1 uses the position, unknown RWF flags EOPNOTSUPP', () => {
    const p = setup();
    const f = new MemFile(Buffer.from('abcdef'));
    const fd = install(p.t, f);
    putIovecs(p, [[BUF, 2]]);
    expect(sys(p.t, SYS_preadv, fd, IOV, 1, 3)).toBe(2);
    expect(p.mm.getString(BUF, 2)).toBe('de');
    expect(sys(p.t, SYS_preadv2, fd, IOV, 1, -1, 0, 0)).toBe(2);
    expect(p.mm.getString(BUF, 2)).toBe('ab');
    expect(f.pos).toBe(2);
    expect(sys(p.t, SYS_preadv2, fd, IOV, 1, -2, 0, 0)).toBe(-EINVAL);
    expect(sys(p.t, SYS_pwritev2, fd, IOV, 1, 0, 0, 0x100)).toBe(-ENOTSUP);
  });
});
