// One argument of a syscall, printed according to its ArgFormat. Runs after the call, so
// output buffers show what the call wrote (as much of it as the result says is valid).

import type { Task } from '../kernel/task';
import { AT_FDCWD } from '../abi/linux/fcntl';
import type { ArgFormat, SyscallArgs } from '../syscalls/linux/types';
import {
  clockIdName, fcntlCmdName, ioctlName, mmapFlags, openFlags, protFlags, signalArg, whenceName,
} from './flags';
import { MAX_SHOWN, quote } from './quote';
import { peek, peekString } from './safe_memory';
import { familyName, sockTypeName, sockaddrArg } from './socket_args';

const MAX_PATH_SHOWN = 256;
const MAX_IOVECS_SHOWN = 8;

export function hex(v: number | bigint): string {
  return `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;
}

function pointer(v: number): string {
  return v === 0 ? 'NULL' : hex(v);
}

function fdArg(t: Task, fd: number): string {
  if (fd === AT_FDCWD) return 'AT_FDCWD';
  const f = t.fdTable.get(fd);
  return f ? `${fd} ${f.describe()}` : `${fd}`;
}

function stringArg(t: Task, addr: number, max: number): string {
  const s = peekString(t, addr, max);
  return s ? quote(s.bytes, s.truncated, max) : pointer(addr);
}

/** A buffer of len bytes at addr, shown up to MAX_SHOWN. */
function bufferArg(t: Task, addr: number, len: number): string {
  const bytes = peek(t, addr, Math.min(len, MAX_SHOWN));
  return bytes ? quote(bytes, len > MAX_SHOWN) : pointer(addr);
}

/** iovecs with their contents, the total shown limited to `valid` bytes (the result). */
function iovecArg(t: Task, addr: number, count: number, valid: number): string {
  const n = Math.min(Math.max(count, 0), MAX_IOVECS_SHOWN);
  const raw = peek(t, addr, n * 16);
  if (!raw || n === 0) return pointer(addr);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const parts: string[] = [];
  let left = valid;
  for (let i = 0; i < n; i++) {
    const base = Number(v.getBigUint64(i * 16, true));
    const len = Number(v.getBigUint64(i * 16 + 8, true));
    const shown = Math.max(0, Math.min(len, left));
    left -= shown;
    const data = valid > 0 || shown > 0 ? bufferArg(t, base, shown) : pointer(base);
    parts.push(`{base=${data}, len=${len}}`);
  }
  return `[${parts.join(', ')}${count > n ? ', ...' : ''}]`;
}

function timespecArg(t: Task, addr: number): string {
  const raw = peek(t, addr, 16);
  if (!raw) return pointer(addr);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return `{tv_sec=${v.getBigInt64(0, true)}, tv_nsec=${v.getBigInt64(8, true)}}`;
}

/** `result` is the syscall's return value as a number: negative for an error. */
export function formatArg(t: Task, fmt: ArgFormat, a: SyscallArgs, i: number, result: number): string {
  switch (fmt) {
    case 'int': return `${a.int(i)}`;
    case 'uint': return `${a.uint(i)}`;
    case 'long': return `${a.i64(i)}`;
    case 'size': return `${a.u64(i)}`;
    case 'hex': return hex(a.u64(i));
    case 'ptr': case 'outptr': return pointer(a.ptr(i));
    case 'fd': return fdArg(t, a.int(i));
    case 'str': return stringArg(t, a.ptr(i), MAX_SHOWN);
    case 'path': return stringArg(t, a.ptr(i), MAX_PATH_SHOWN);
    case 'buf': return bufferArg(t, a.ptr(i), a.size(i + 1));
    case 'outbuf': return result >= 0 ? bufferArg(t, a.ptr(i), result) : pointer(a.ptr(i));
    case 'iovec': return iovecArg(t, a.ptr(i), a.int(i + 1), Math.max(result, 0));
    case 'oflags': return openFlags(a.int(i));
    case 'mode': return `0${a.uint(i).toString(8)}`;
    case 'prot': return protFlags(a.int(i));
    case 'mmapflags': return mmapFlags(a.int(i));
    case 'signal': return signalArg(a.int(i));
    case 'clock': return clockIdName(a.int(i));
    case 'whence': return whenceName(a.int(i));
    case 'fcntlcmd': return fcntlCmdName(a.int(i));
    case 'ioctlcmd': return ioctlName(a.uint(i));
    case 'timespec': return timespecArg(t, a.ptr(i));
    case 'sockfamily': return familyName(a.int(i));
    case 'socktype': return sockTypeName(a.int(i));
    case 'sockaddr': return sockaddrArg(t, a.ptr(i), a.int(i + 1));
  }
}
