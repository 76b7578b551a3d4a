// /proc and /dev as the default root mounts them: per-process links and files, and the
// memory devices.
import { describe, expect, it } from 'vitest';
import { SYS_open, SYS_read, SYS_readlink, SYS_stat, SYS_write } from '../../../ts/abi/linux/syscall_numbers';
import { ENOENT, ENOSPC, ENXIO } from '../../../ts/abi/linux/errno';
import { O_RDONLY, O_RDWR, O_WRONLY } from '../../../ts/abi/linux/fcntl';
import { newRootFileSystem } from '../../../ts/fsimpl/root';
import { installMountNamespace } from '../../../ts/vfs/task_fs';
import { MemFile, install, newTask, sys } from '../syscalls/fakes';

const BUF = 0x10000;
const PATH = 0x20000;

function setup() {
  const p = newTask({ pid: 7, uid: 0 });
  installMountNamespace(p.kernel, newRootFileSystem(p.kernel));
  p.mm.map(BUF, 0x4000);
  p.mm.map(PATH, 0x1000);
  const at = (s: string): number => { p.mm.putString(PATH, s); return PATH; };
  return { ...p, at };
}

describe('/proc', () => {
  it('self, exe, fd links and status', () => {
    const p = setup();
    expect(sys(p.t, SYS_readlink, p.at('/proc/self'), BUF, 100)).toBe(1);
    expect(p.mm.getString(BUF, 1)).toBe('7');
    expect(sys(p.t, SYS_readlink, p.at('/proc/7/exe'), BUF, 100)).toBe(13);
    expect(p.mm.getString(BUF, 13)).toBe('/usr/bin/prog');
    const fd = install(p.t, new MemFile(Buffer.from('abc')));
    expect(sys(p.t, SYS_stat, p.at(`/proc/self/fd/${fd}`), BUF)).toBe(0);
    // Opening an fd link with no place in the tree gives that very file.
    const again = Number(sys(p.t, SYS_open, p.at(`/proc/self/fd/${fd}`), O_RDONLY));
    expect(p.t.fdTable.get(again)).toBe(p.t.fdTable.get(fd));
    expect(sys(p.t, SYS_stat, p.at('/proc/self/fd/99'), BUF)).toBe(-ENOENT);
    expect(sys(p.t, SYS_stat, p.at('/proc/8'), BUF)).toBe(-ENOENT);
    const st = Number(sys(p.t, SYS_open, p.at('/proc/self/status'), O_RDONLY));
    const n = Number(sys(p.t, SYS_read, st, BUF, 4096));
    const text = p.mm.getString(BUF, n);
    expect(text).toMatch(/^Name:\tprog\n/);
    expect(text).toMatch(/\nPid:\t7\n/);
    expect(sys(p.t, SYS_readlink, p.at('/proc/mounts'), BUF, 100)).toBe(11);
  });
});

describe('/dev', () => {
  it('null, zero, full and tty', () => {
    const p = setup();
    const nul = Number(sys(p.t, SYS_open, p.at('/dev/null'), O_RDWR));
    expect(sys(p.t, SYS_write, nul, BUF, 10)).toBe(10);
    expect(sys(p.t, SYS_read, nul, BUF, 10)).toBe(0);
    const zero = Number(sys(p.t, SYS_open, p.at('/dev/zero'), O_RDONLY));
    p.mm.putBytes(BUF, 'xxxx');
    expect(sys(p.t, SYS_read, zero, BUF, 4)).toBe(4);
    expect(p.mm.getString(BUF, 4)).toBe('\0\0\0\0');
    const full = Number(sys(p.t, SYS_open, p.at('/dev/full'), O_WRONLY));
    expect(sys(p.t, SYS_write, full, BUF, 4)).toBe(-ENOSPC);
    expect(sys(p.t, SYS_open, p.at('/dev/tty'), O_RDWR)).toBe(-ENXIO);
    expect(sys(p.t, SYS_readlink, p.at('/dev/stdin'), BUF, 100)).toBe(15);
  });
});
