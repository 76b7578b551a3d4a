import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { HostFileDescription } from '../../../ts/vfs/host_file';
import { HostTty } from '../../../ts/vfs/host_tty';
import { newStdioFDTable } from '../../../ts/vfs/stdio';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import { EAGAIN, EBADF, ENOTTY, ESPIPE } from '../../../ts/abi/linux/errno';
import { O_ACCMODE, O_APPEND, O_NONBLOCK, O_RDONLY, O_RDWR, SEEK_CUR, SEEK_END, SEEK_SET } from '../../../ts/abi/linux/fcntl';
import { TCGETS, TIOCGPGRP, TIOCGWINSZ } from '../../../ts/abi/linux/ioctl';
import { POLLIN, POLLOUT } from '../../../ts/abi/linux/poll';
import { S_IFIFO, S_IFMT, S_IFREG } from '../../../ts/abi/linux/stat';
import { newTask } from '../syscalls/fakes';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-hostfile-')); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function errno(f: () => unknown): number {
  try { f(); } catch (e) { if (e instanceof SyscallError) return e.errno; throw e; }
  return 0;
}

const { t } = newTask();
const text = (b: Uint8Array, n: number): string => Buffer.from(b.subarray(0, n)).toString();

describe('HostFileDescription on a regular file', () => {
  it('reads and writes at the host offset until the application seeks', () => {
    const hostFd = fs.openSync(path.join(dir, 'a'), 'w+');
    const f = new HostFileDescription(hostFd, { closeOnRelease: true });
    expect(f.seekable).toBe(true);
    expect(f.flags & O_ACCMODE).toBe(O_RDWR);
    expect(f.write(t, Buffer.from('hello world'), -1)).toBe(11);
    expect(f.lseek(0, SEEK_CUR)).toBe(11); // the host's offset, read from fdinfo
    expect(f.lseek(0, SEEK_SET)).toBe(0);
    const b = new Uint8Array(5);
    expect(f.read(t, b, -1)).toBe(5);
    expect(text(b, 5)).toBe('hello');
    expect(f.read(t, b, 6)).toBe(5);
    expect(text(b, 5)).toBe('world');
    expect(f.lseek(0, SEEK_CUR)).toBe(5); // pread did not move it
    expect(f.lseek(-2, SEEK_END)).toBe(9);
    expect(f.write(t, Buffer.from('LD'), -1)).toBe(2);
    expect(fs.readFileSync(path.join(dir, 'a'), 'utf8')).toBe('hello worLD');
    const st = f.stat();
    expect(st.mode & S_IFMT).toBe(S_IFREG);
    expect(st.size).toBe(11);
    expect(f.describe()).toBe(`host:[${hostFd}]`);
    f.decRef();
    expect(() => fs.fstatSync(hostFd)).toThrow();
  });

  it('O_APPEND set by the application writes at the end', () => {
    const p = path.join(dir, 'b');
    fs.writeFileSync(p, '123');
    const f = new HostFileDescription(fs.openSync(p, 'r+'), { closeOnRelease: true });
    f.setStatusFlags(f.flags | O_APPEND);
    f.lseek(0, SEEK_SET);
    expect(f.write(t, Buffer.from('45'), -1)).toBe(2);
    expect(f.lseek(0, SEEK_CUR)).toBe(5);
    expect(fs.readFileSync(p, 'utf8')).toBe('12345');
    f.decRef();
  });

  it('takes the access mode from the host; not a tty: ENOTTY', () => {
    const p = path.join(dir, 'c');
    fs.writeFileSync(p, 'x');
    const f = new HostFileDescription(fs.openSync(p, 'r'), { closeOnRelease: true });
    expect(f.flags & O_ACCMODE).toBe(O_RDONLY);
    expect(f.readable && !f.writable).toBe(true);
    expect(errno(() => f.ioctl(t, TCGETS, 0))).toBe(ENOTTY);
    f.decRef();
  });

  it('EBADF for a host fd that is not open', () => {
    expect(errno(() => new HostFileDescription(987654))).toBe(EBADF);
  });
});

describe('HostFileDescription on /dev/null', () => {
  it('never blocks and seeks to 0', () => {
    const f = new HostFileDescription(fs.openSync('/dev/null', 'r+'), { closeOnRelease: true });
    expect(f.read(t, new Uint8Array(10), -1)).toBe(0);
    expect(f.write(t, Buffer.from('gone'), -1)).toBe(4);
    expect(f.lseek(100, SEEK_SET)).toBe(0);
    f.decRef();
  });
});

describe('HostFileDescription on a FIFO', () => {
  function fifo(name: string, nonblock = false): { f: HostFileDescription; hostFd: number; ready: { in: boolean; out: boolean } } {
    const p = path.join(dir, name);
    execFileSync('mkfifo', [p]);
    const hostFd = fs.openSync(p, fs.constants.O_RDWR | (nonblock ? fs.constants.O_NONBLOCK : 0));
    const ready = { in: false, out: true };
    const poll = (_fd: number, ev: number): number => (ev & POLLIN && ready.in ? POLLIN : 0) | (ev & POLLOUT && ready.out ? POLLOUT : 0);
    return { f: new HostFileDescription(hostFd, { closeOnRelease: true, poll }), hostFd, ready };
  }

  it('is not seekable', () => {
    const { f } = fifo('p1');
    expect(f.seekable).toBe(false);
    expect(errno(() => f.lseek(0, SEEK_SET))).toBe(ESPIPE);
    expect(f.stat().mode & S_IFMT).toBe(S_IFIFO);
    f.decRef();
  });

  it('reads at once when ready, EAGAIN with O_NONBLOCK, waits otherwise', async () => {
    const { f, hostFd, ready } = fifo('p2');
    expect(f.write(t, Buffer.from('ping'), -1)).toBe(4);
    ready.in = true;
    const b = new Uint8Array(16);
    expect(f.read(t, b, -1)).toBe(4);
    ready.in = false;
    f.setStatusFlags(f.flags | O_NONBLOCK);
    expect(errno(() => f.read(t, b, -1))).toBe(EAGAIN);
    f.setStatusFlags(f.flags & ~O_NONBLOCK);
    const r = f.read(t, b, -1);
    expect(r).toBeInstanceOf(Promise);
    fs.writeSync(hostFd, 'pong');
    expect(await r).toBe(4);
    expect(text(b, 4)).toBe('pong');
    f.decRef();
  });

  it('a non-blocking host fd is polled until ready', async () => {
    const { f, hostFd, ready } = fifo('p3', true);
    const b = new Uint8Array(16);
    const r = f.read(t, b, -1);
    expect(r).toBeInstanceOf(Promise);
    await new Promise((res) => setTimeout(res, 20));
    fs.writeSync(hostFd, 'late');
    ready.in = true;
    expect(await r).toBe(4);
    expect(text(b, 4)).toBe('late');
    f.decRef();
  });

  it('writes everything it can synchronously; O_NONBLOCK returns the short count', async () => {
    const { f, ready } = fifo('p4', true);
    const big = new Uint8Array(100_000).fill(0x61);
    f.setStatusFlags(f.flags | O_NONBLOCK);
    const n = f.write(t, big, -1);
    expect(typeof n).toBe('number');
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(100_000);
    ready.out = false;
    expect(errno(() => f.write(t, big, -1))).toBe(EAGAIN);
    f.decRef();
  });
});

describe('HostTty', () => {
  // The real terminal paths are tested end to end under a pty (test/sandbox/tty.test.ts).
  it('passes the host terminal calls through: a non-terminal fd gives the host errno', () => {
    const { t: task, mm } = newTask();
    mm.map(0x10000, 0x1000);
    const p = path.join(dir, 'not-a-tty');
    const hostFd = fs.openSync(p, 'w+');
    const tty = new HostTty(hostFd);
    expect(errno(() => tty.ioctl(task, TCGETS, 0x10000))).toBe(ENOTTY);
    expect(errno(() => tty.ioctl(task, TIOCGWINSZ, 0x10000))).toBe(ENOTTY);
    expect(errno(() => new HostTty(-1).ioctl(task, TCGETS, 0x10000))).toBe(EBADF);
    expect(tty.ioctl(task, TIOCGPGRP, 0x10300)).toBe(0);
    expect(mm.readI32(0x10300)).toBe(task.tg.tgid);
    expect(errno(() => tty.ioctl(task, 0x1234, 0))).toBe(ENOTTY);
    fs.closeSync(hostFd);
  });
});

describe('newStdioFDTable', () => {
  it('wraps the given host fds and never closes them', () => {
    const p = path.join(dir, 'd');
    const hostFd = fs.openSync(p, 'w+');
    const table = newStdioFDTable([hostFd, 987654]);
    expect(table.fds()).toEqual([0]);
    table.releaseAll();
    expect(() => fs.fstatSync(hostFd)).not.toThrow();
    fs.closeSync(hostFd);
  });
});
