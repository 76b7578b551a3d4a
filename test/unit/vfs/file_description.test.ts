import { describe, it, expect } from 'vitest';
import { seekPosition } from '../../../ts/vfs/file_description';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EINVAL, ENOTTY, ENXIO, ESPIPE } from '../../../ts/abi/linux/errno';
import { O_PATH, O_RDONLY, O_RDWR, O_WRONLY, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET } from '../../../ts/abi/linux/fcntl';
import { FakePipe, MemFile, newTask } from '../syscalls/fakes';

function errno(f: () => unknown): number {
  try { f(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  return 0;
}

describe('FileDescription', () => {
  it('readable/writable follow the access mode; O_PATH is neither', () => {
    expect([new MemFile(undefined, O_RDONLY).readable, new MemFile(undefined, O_RDONLY).writable]).toEqual([true, false]);
    expect([new MemFile(undefined, O_WRONLY).readable, new MemFile(undefined, O_WRONLY).writable]).toEqual([false, true]);
    expect([new MemFile(undefined, O_RDWR).readable, new MemFile(undefined, O_RDWR).writable]).toEqual([true, true]);
    expect([new MemFile(undefined, O_PATH).readable, new MemFile(undefined, O_PATH).writable]).toEqual([false, false]);
  });

  it('defaults: lseek ESPIPE, ioctl ENOTTY, not mappable, released once', () => {
    const { t } = newTask();
    const p = new FakePipe();
    expect(errno(() => p.lseek(0, SEEK_SET))).toBe(ESPIPE);
    expect(errno(() => p.ioctl(t, 0x5401, 0))).toBe(ENOTTY);
    expect(p.mappable()).toBeNull();
    p.decRef();
    expect(() => p.decRef()).toThrow();
  });
});

describe('seekPosition', () => {
  it('SET, CUR, END', () => {
    expect(seekPosition(5, 100, 10, SEEK_SET)).toBe(10);
    expect(seekPosition(5, 100, 10, SEEK_CUR)).toBe(15);
    expect(seekPosition(5, 100, -10, SEEK_END)).toBe(90);
    expect(seekPosition(5, 100, 50, SEEK_END)).toBe(150); // past the end is fine
    expect(errno(() => seekPosition(5, 100, -6, SEEK_CUR))).toBe(EINVAL);
    expect(errno(() => seekPosition(0, 0, 2 ** 60, SEEK_SET))).toBe(EINVAL);
    expect(errno(() => seekPosition(0, 0, 0, 9))).toBe(EINVAL);
  });

  it('DATA and HOLE treat the whole file as data', () => {
    expect(seekPosition(0, 100, 30, SEEK_DATA)).toBe(30);
    expect(seekPosition(0, 100, 30, SEEK_HOLE)).toBe(100);
    expect(errno(() => seekPosition(0, 100, 100, SEEK_DATA))).toBe(ENXIO);
    expect(errno(() => seekPosition(0, 100, 100, SEEK_HOLE))).toBe(ENXIO);
    expect(errno(() => seekPosition(0, 100, -1, SEEK_DATA))).toBe(ENXIO);
  });
});
