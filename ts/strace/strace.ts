// strace: one line per syscall, printed after it returns, when the kernel runs with strace on:
//   [  12] write(1 host:[1], "hello\n", 6) = 6
//   [  12] openat(AT_FDCWD, "/nope", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)
//   [  12] [i386] write(1 host:[1], "hi\n", 3) = 3      (a syscall made through int 0x80)
// It owns ts/strace/**. It only reads: application memory through the task's MemoryManager,
// never failing (an unreadable pointer prints as its address), and never changes a thing.

import type { Task } from '../kernel/task';
import { errnoName } from '../abi/linux/errno';
import { errnoMessage } from '../abi/linux/errno_messages';
import { SYSCALL_NAMES } from '../abi/linux/syscall_numbers';
import type { SyscallArgs, SyscallEntry, SyscallResult } from '../syscalls/linux/types';
import { formatArg, hex } from './format_arg';

/** Calls whose result is an address: printed in hex. */
const ADDRESS_RESULTS = new Set(['mmap', 'mremap', 'brk', 'shmat']);
/** Linux's error range: -4095..-1 (the ERESTART* codes included). */
const MAX_ERRNO = 4095;

/** How a syscall was made: its tag after the tid, and the names of its numbers. */
export interface StraceAbi {
  readonly tag: string;
  readonly names: readonly (string | undefined)[];
}

export const X86_64_ABI: StraceAbi = { tag: '', names: SYSCALL_NAMES };

export function formatResult(name: string, result: SyscallResult): string {
  const n = BigInt.asIntN(64, BigInt(result));
  if (n < 0n && n >= -BigInt(MAX_ERRNO)) {
    const e = Number(-n);
    return `-1 ${errnoName(e)} (${errnoMessage(e)})`;
  }
  return ADDRESS_RESULTS.has(name) ? hex(n) : `${n}`;
}

export function straceLine(t: Task, nr: number, entry: SyscallEntry | undefined, args: SyscallArgs,
  result: SyscallResult, abi: StraceAbi = X86_64_ABI): string {
  const tid = `[${String(t.tid).padStart(4)}]${abi.tag}`;
  if (!entry) {
    const name = abi.names[nr] ?? `syscall_${nr}`;
    const raw = [0, 1, 2, 3, 4, 5].map((i) => hex(args.u64(i)));
    return `${tid} ${name}(${raw.join(', ')}) = ${formatResult(name, result)}`;
  }
  // Output buffers are valid up to the result; an error or a huge result shows none.
  const r = BigInt.asIntN(64, BigInt(result));
  const valid = r < 0n || r > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(r);
  const shown = entry.args.map((fmt, i) => {
    try {
      return formatArg(t, fmt, args, i, valid);
    } catch {
      return hex(args.u64(i));
    }
  });
  return `${tid} ${entry.name}(${shown.join(', ')}) = ${formatResult(entry.name, result)}`;
}
