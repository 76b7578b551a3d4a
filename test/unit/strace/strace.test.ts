import { describe, it, expect } from 'vitest';
import * as N from '../../../ts/abi/linux/syscall_numbers';
import { EFAULT, ENOENT, ENOSYS } from '../../../ts/abi/linux/errno';
import { AT_FDCWD, O_CLOEXEC, O_CREAT, O_RDONLY, O_WRONLY, SEEK_END } from '../../../ts/abi/linux/fcntl';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../../ts/abi/linux/mm';
import { CLOCK_MONOTONIC } from '../../../ts/abi/linux/time';
import { straceLine } from '../../../ts/strace/strace';
import { mmapFlags, openFlags, protFlags } from '../../../ts/strace/flags';
import { quote } from '../../../ts/strace/quote';
import type { SyscallEntry } from '../../../ts/syscalls/linux/types';
import { MemFile, install, newTask, setArgs, table } from '../syscalls/fakes';

const BUF = 0x10000;

function setup() {
  const p = newTask({ pid: 12 });
  p.mm.map(BUF, 0x2000);
  install(p.t, new MemFile(), 0);
  install(p.t, new MemFile(), 1);
  return p;
}

function line(p: ReturnType<typeof setup>, nr: number, args: (number | bigint)[], result: number | bigint, entry?: SyscallEntry): string {
  return straceLine(p.t, nr, entry ?? table[nr], setArgs(p.t, args), result);
}

describe('straceLine', () => {
  it('prints the call, decoded arguments and the result', () => {
    const p = setup();
    p.mm.putBytes(BUF, 'hello\n');
    expect(line(p, N.SYS_write, [1, BUF, 6], 6)).toBe('[  12] write(1 mem:[file], "hello\\n", 6) = 6');
  });

  it('prints errors with their name and message', () => {
    const p = setup();
    expect(line(p, N.SYS_write, [1, 0x900000, 6], -EFAULT)).toBe('[  12] write(1 mem:[file], 0x900000, 6) = -1 EFAULT (Bad address)');
    p.mm.putString(BUF, '/nope');
    expect(line(p, N.SYS_readlink, [BUF, BUF + 100, 64], -ENOENT))
      .toBe('[  12] readlink("/nope", 0x10064, 64) = -1 ENOENT (No such file or directory)');
  });

  it('shows an output buffer after the call, as much as the result says', () => {
    const p = setup();
    p.mm.putBytes(BUF, 'abcdefgh');
    expect(line(p, N.SYS_read, [0, BUF, 100], 3)).toBe('[  12] read(0 mem:[file], "abc", 100) = 3');
  });

  it('truncates long strings at 64 bytes and escapes bytes', () => {
    const p = setup();
    p.mm.putBytes(BUF, 'x'.repeat(100));
    expect(line(p, N.SYS_write, [1, BUF, 100], 100)).toBe(`[  12] write(1 mem:[file], "${'x'.repeat(64)}"..., 100) = 100`);
    expect(quote(new Uint8Array([0, 7, 0x22, 0x5c, 0xff, 0x41]))).toBe('"\\0\\a\\"\\\\\\xffA"');
  });

  it('decodes iovecs, clocks, whences, signals and timespecs', () => {
    const p = setup();
    p.mm.putBytes(BUF, 'ab');
    const iov = new Uint8Array(32);
    const v = new DataView(iov.buffer);
    v.setBigUint64(0, BigInt(BUF), true); v.setBigUint64(8, 1n, true);
    v.setBigUint64(16, BigInt(BUF + 1), true); v.setBigUint64(24, 1n, true);
    p.mm.putBytes(BUF + 0x100, iov);
    expect(line(p, N.SYS_writev, [1, BUF + 0x100, 2], 2))
      .toBe('[  12] writev(1 mem:[file], [{base="a", len=1}, {base="b", len=1}], 2) = 2');
    expect(line(p, N.SYS_clock_gettime, [CLOCK_MONOTONIC, BUF], 0)).toBe('[  12] clock_gettime(CLOCK_MONOTONIC, 0x10000) = 0');
    expect(line(p, N.SYS_lseek, [1, -4, SEEK_END], 10)).toBe('[  12] lseek(1 mem:[file], -4, SEEK_END) = 10');
    expect(line(p, N.SYS_kill, [12, 6], 0)).toBe('[  12] kill(12, SIGABRT) = 0');
    const ts = new Uint8Array(16);
    new DataView(ts.buffer).setBigInt64(0, 1n, true);
    new DataView(ts.buffer).setBigInt64(8, 500n, true);
    p.mm.putBytes(BUF + 0x200, ts);
    expect(line(p, N.SYS_nanosleep, [BUF + 0x200, 0], 0)).toBe('[  12] nanosleep({tv_sec=1, tv_nsec=500}, NULL) = 0');
  });

  it('prints AT_FDCWD, closed fds and address results', () => {
    const p = setup();
    p.mm.putString(BUF, '/etc/passwd');
    expect(line(p, N.SYS_newfstatat, [AT_FDCWD, BUF, BUF + 0x100, 0], -ENOENT))
      .toBe('[  12] newfstatat(AT_FDCWD, "/etc/passwd", 0x10100, 0x0) = -1 ENOENT (No such file or directory)');
    expect(line(p, N.SYS_close, [9], 0)).toBe('[  12] close(9) = 0');
    expect(line(p, N.SYS_brk, [0], 0x4ac000)).toBe('[  12] brk(NULL) = 0x4ac000');
  });

  it('prints an unknown syscall with raw arguments', () => {
    const p = setup();
    expect(line(p, 999, [1, 2], -ENOSYS, undefined)).toBe('[  12] syscall_999(0x1, 0x2, 0x0, 0x0, 0x0, 0x0) = -1 ENOSYS (Function not implemented)');
    expect(straceLine(p.t, N.SYS_io_setup, undefined, setArgs(p.t, []), -ENOSYS)).toMatch(/^\[ {2}12\] io_setup\(/);
  });

  it('never throws on unreadable memory', () => {
    const p = setup();
    const entry: SyscallEntry = {
      name: 'demo', handler: () => 0,
      args: ['str', 'path', 'buf', 'size', 'iovec', 'int'],
    };
    expect(line(p, 500, [0x900000, 0, 0x900000, 10, 0x900000, 1], 0, entry))
      .toBe('[  12] demo(0x900000, NULL, 0x900000, 10, 0x900000, 1) = 0');
  });
});

describe('flag decoders', () => {
  it('open flags', () => {
    expect(openFlags(O_RDONLY)).toBe('O_RDONLY');
    expect(openFlags(O_WRONLY | O_CREAT | O_CLOEXEC)).toBe('O_WRONLY|O_CREAT|O_CLOEXEC');
    expect(openFlags(0x40000000)).toBe('O_RDONLY|0x40000000');
  });

  it('mmap protections and flags', () => {
    expect(protFlags(0)).toBe('PROT_NONE');
    expect(protFlags(PROT_READ | PROT_WRITE)).toBe('PROT_READ|PROT_WRITE');
    expect(mmapFlags(MAP_PRIVATE | MAP_ANONYMOUS)).toBe('MAP_PRIVATE|MAP_ANONYMOUS');
  });
});
