// The rare syscall areas load at their first call (lazy_areas.ts): the list of numbers the
// table holds stand-ins for must be exactly what they register, or a call would be ENOSYS
// (listed, not registered) or never load them (registered, not listed).
import { describe, expect, it } from 'vitest';
import { RARE_SYSCALLS, provideRareAreas, registerRareLazily } from '../../../ts/syscalls/linux/lazy_areas';
import * as rare from '../../../ts/syscalls/linux/rare';
import { registerRare } from '../../../ts/syscalls/linux/rare';
import { registerAll } from '../../../ts/syscalls/linux/register_all';
import { I386_ABI } from '../../../ts/syscalls/linux/compat32';
import { SYSCALL_NAMES } from '../../../ts/abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallTable } from '../../../ts/syscalls/linux/types';
import type { Task } from '../../../ts/kernel/task';

const numbersOf = (t: SyscallTable): number[] => t.flatMap((e, n) => (e ? [n] : [])).sort((a, b) => a - b);

describe('lazily registered syscall areas', () => {
  it('list exactly the numbers the areas register, each once', () => {
    const real: SyscallTable = [];
    registerRare(real);
    expect([...RARE_SYSCALLS].sort((a, b) => a - b)).toEqual(numbersOf(real));
    expect(new Set(RARE_SYSCALLS).size).toBe(RARE_SYSCALLS.length);
  });

  it('are registered by no other area (no number registered twice)', () => {
    const others: SyscallTable = [];
    registerAll(others);
    const rare = new Set(RARE_SYSCALLS);
    const stubs = numbersOf(others).filter((n) => rare.has(n));
    expect(stubs).toEqual([...rare].sort((a, b) => a - b));
    for (const n of rare) expect(others[n]?.args, `${n}`).toEqual([]);
  });

  it('are none the i386 table maps (it copies argument formats when it loads)', () => {
    const i386 = new Set(I386_ABI.names.filter(Boolean));
    expect(i386.has('read')).toBe(true);
    for (const n of RARE_SYSCALLS) expect(i386.has(SYSCALL_NAMES[n]), SYSCALL_NAMES[n]).toBe(false);
  });

  it('the first call of one installs every area\'s own entries in the table', () => {
    // As the bundle's chunk or tsc's module would be (vitest's require cannot load .ts).
    provideRareAreas(rare);
    const table: SyscallTable = [];
    registerRareLazily(table);
    const real: SyscallTable = [];
    registerRare(real);
    const n = RARE_SYSCALLS[0];
    const stand = table[n]!;
    expect(stand.name).toBe(real[n]!.name);
    expect(stand.args).toEqual([]);
    // The real handler then runs on a task that is no task: whatever it throws is beside the point.
    try { void stand.handler({} as Task, {} as SyscallArgs); } catch { /* see above */ }
    expect(table[n]).not.toBe(stand);
    for (const m of RARE_SYSCALLS) {
      expect(table[m]!.name, `${m}`).toBe(real[m]!.name);
      expect(table[m]!.args, `${SYSCALL_NAMES[m]} has its formats`).toEqual(real[m]!.args);
    }
  });
});
