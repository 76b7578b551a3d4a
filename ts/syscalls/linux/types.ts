// Shapes shared by every syscall handler. A handler gets the calling Task and its arguments
// and returns the result (a non-negative number or bigint) synchronously when it can — the
// fast path — or a Promise when it must block. Errors are thrown as SyscallError.

import type { Task } from '../../kernel/task';

export type SyscallResult = number | bigint;
export type SyscallReturn = SyscallResult | Promise<SyscallResult>;

/** Typed views of the six raw 64-bit syscall arguments. */
export interface SyscallArgs {
  /** Raw unsigned 64-bit value. */
  u64(i: number): bigint;
  /** Signed 64-bit value. */
  i64(i: number): bigint;
  /** Low 32 bits as a signed int (C `int`). */
  int(i: number): number;
  /** Low 32 bits as unsigned (C `unsigned int`). */
  uint(i: number): number;
  /** Address or size: the full 64-bit value as a number (values >= 2^53 become Infinity-like huge numbers; callers range-check). */
  ptr(i: number): number;
  /** Same as ptr, named for lengths (size_t). */
  size(i: number): number;
  /** Signed 64-bit as a number (off_t and friends). */
  long(i: number): number;
}

export type SyscallHandler = (t: Task, a: SyscallArgs) => SyscallReturn;

/** Argument kinds for strace: how to print each argument. */
export type ArgFormat =
  | 'int' | 'uint' | 'hex' | 'ptr' | 'size' | 'fd' | 'str' | 'path' | 'buf' | 'outbuf'
  | 'iovec' | 'oflags' | 'mode' | 'prot' | 'mmapflags' | 'signal' | 'clock' | 'whence'
  | 'fcntlcmd' | 'ioctlcmd' | 'timespec' | 'outptr' | 'long'
  | 'sockfamily' | 'socktype' | 'sockaddr';

export interface SyscallEntry {
  name: string;
  handler: SyscallHandler;
  /** One format per argument the syscall takes (its length is the arity). */
  args: ArgFormat[];
}

/** The dispatch table, indexed by syscall number. Each sys_*.ts file exports a
 *  register function that fills its own entries. */
export type SyscallTable = (SyscallEntry | undefined)[];
