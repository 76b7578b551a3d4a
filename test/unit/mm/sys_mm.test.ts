import { describe, it, expect } from 'vitest';
import { registerMM } from '../../../ts/syscalls/linux/sys_mm';
import { registerMlock } from '../../../ts/syscalls/linux/sys_mlock';
import type { SyscallArgs, SyscallTable } from '../../../ts/syscalls/linux/types';
import type { Task } from '../../../ts/kernel/task';
import type { MappingBacking } from '../../../ts/mm/memory_manager';
import { defaultRlimits } from '../../../ts/kernel/rlimits';
import { Credentials } from '../../../ts/kernel/credentials';
import {
  MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MCL_CURRENT, MS_ASYNC, MS_SYNC, PROT_READ, PROT_WRITE,
} from '../../../ts/abi/linux/mm';
import {
  SYS_brk, SYS_mincore, SYS_mlock, SYS_mlockall, SYS_mmap, SYS_mprotect, SYS_msync, SYS_munmap,
} from '../../../ts/abi/linux/syscall_numbers';
import { EACCES, EBADF, EINVAL, ENODEV, ENOMEM } from '../../../ts/abi/linux/errno';
import { PAGE } from './fake_native';
import { BytesBacking, errnoOf, newMM } from './helpers';

class Args implements SyscallArgs {
  private readonly v: bigint[];
  constructor(...vals: (number | bigint)[]) { this.v = vals.map((x) => BigInt.asUintN(64, BigInt(x))); }
  u64(i: number): bigint { return this.v[i] ?? 0n; }
  i64(i: number): bigint { return BigInt.asIntN(64, this.u64(i)); }
  int(i: number): number { return Number(BigInt.asIntN(32, this.u64(i))); }
  uint(i: number): number { return Number(BigInt.asUintN(32, this.u64(i))); }
  ptr(i: number): number { return Number(this.u64(i)); }
  size(i: number): number { return this.ptr(i); }
  long(i: number): number { return Number(this.i64(i)); }
}

interface FakeFile { flags: number; readable: boolean; writable: boolean; mappable(): MappingBacking | null }

function setup(files: Record<number, FakeFile> = {}): { call: (nr: number, ...a: (number | bigint)[]) => number; t: Task } {
  const { mm } = newMM();
  const t = {
    mm, creds: new Credentials(1000, 1000), tg: { rlimits: defaultRlimits() },
    fdTable: { get: (fd: number) => files[fd] },
  } as unknown as Task;
  const table: SyscallTable = [];
  registerMM(table);
  registerMlock(table);
  const call = (nr: number, ...a: (number | bigint)[]): number => Number(table[nr]!.handler(t, new Args(...a)));
  return { call, t };
}

const file = (readable: boolean, writable: boolean, backing: MappingBacking | null): FakeFile =>
  ({ flags: 0, readable, writable, mappable: () => backing });

describe('sys_mm', () => {
  it('registers the memory syscalls with their arity', () => {
    const table: SyscallTable = [];
    registerMM(table);
    expect(table[SYS_mmap]?.name).toBe('mmap');
    expect(table[SYS_mmap]?.args.length).toBe(6);
    expect(table[SYS_munmap]?.args.length).toBe(2);
    expect(table[SYS_brk]?.name).toBe('brk');
  });

  it('mmap anonymous, mprotect, munmap', () => {
    const { call, t } = setup();
    const a = call(SYS_mmap, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    t.mm.writeU32(a, 5);
    expect(call(SYS_mprotect, a, PAGE, PROT_READ)).toBe(0);
    expect(call(SYS_munmap, a, 2 * PAGE)).toBe(0);
    expect(errnoOf(() => call(SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1))).toBe(EINVAL);
  });

  it('mmap of a file checks the fd and its mode', () => {
    const data = new BytesBacking(new Uint8Array(PAGE).fill(3));
    const shareable: MappingBacking = { name: 's', fill: () => undefined, sharedPages: () => [] };
    const { call, t } = setup({
      3: file(true, false, data), 4: file(false, true, data), 5: file(true, true, null), 6: file(true, false, shareable),
      7: { ...file(true, true, data), flags: 0o10000000 },
    });
    const RW = PROT_READ | PROT_WRITE;
    expect(errnoOf(() => call(SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, 9, 0))).toBe(EBADF);
    expect(errnoOf(() => call(SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, 7, 0))).toBe(EBADF); // O_PATH
    expect(errnoOf(() => call(SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, 4, 0))).toBe(EACCES);
    expect(errnoOf(() => call(SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, 5, 0))).toBe(ENODEV);
    expect(errnoOf(() => call(SYS_mmap, 0, PAGE, RW, MAP_SHARED, 3, 0))).toBe(EACCES);
    const p = call(SYS_mmap, 0, PAGE, RW, MAP_PRIVATE, 3, 0); // private copies may be written
    expect(t.mm.copyIn(p, 1)[0]).toBe(3);
    t.mm.copyOut(p, new Uint8Array([1]));
    const s = call(SYS_mmap, 0, PAGE, PROT_READ, MAP_SHARED, 6, 0);
    expect(errnoOf(() => call(SYS_mprotect, s, PAGE, RW))).toBe(EACCES); // the fd is read-only
  });

  it('msync, mincore, mlock, mlockall validation', () => {
    const { call, t } = setup();
    const a = call(SYS_mmap, 0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect(call(SYS_msync, a, PAGE, MS_SYNC)).toBe(0);
    expect(errnoOf(() => call(SYS_msync, a, PAGE, MS_SYNC | MS_ASYNC))).toBe(EINVAL);
    expect(errnoOf(() => call(SYS_msync, a + 1, PAGE, MS_SYNC))).toBe(EINVAL);
    expect(errnoOf(() => call(SYS_msync, a, 3 * PAGE, MS_SYNC))).toBe(ENOMEM);
    t.mm.writeU32(a + PAGE, 1);
    const vec = call(SYS_mmap, 0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    call(SYS_mincore, a, 2 * PAGE, vec);
    expect(Array.from(t.mm.copyIn(vec, 2))).toEqual([1, 1]);
    expect(call(SYS_mlock, a + 10, PAGE)).toBe(0);
    expect(errnoOf(() => call(SYS_mlock, a, 3 * PAGE))).toBe(ENOMEM);
    expect(errnoOf(() => call(SYS_mlockall, 0))).toBe(EINVAL);
    expect(call(SYS_mlockall, MCL_CURRENT)).toBe(0);
  });
});
