// Moving socket arguments between the application and the socket layer (Linux net/socket.c
// move_addr_to_kernel, move_addr_to_user, copy_msghdr_from_user, and the tail of
// ____sys_recvmsg): addresses, struct msghdr, and the data of a message gathered from and
// scattered to its iovecs.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EFAULT, EINVAL, ENOBUFS } from '../../abi/linux/errno';
import { SOCKADDR_STORAGE_SIZE } from '../../abi/linux/socket';
import { accessOk, copyInIovecs, type IOVec } from './user_io';

const INT_MAX = 0x7fff_ffff;

/** move_addr_to_kernel: at most sockaddr_storage, EFAULT if unreadable. */
export function copyInAddr(t: Task, addr: number, len: number): Uint8Array {
  if (len < 0 || len > SOCKADDR_STORAGE_SIZE) fail(EINVAL);
  if (len === 0) return new Uint8Array(0);
  return t.mm.copyIn(addr, len);
}

/** move_addr_to_user: as much of raw as *lenPtr allows, then raw's full length at lenPtr. */
export function copyOutAddr(t: Task, raw: Uint8Array, addr: number, lenPtr: number): void {
  let len = t.mm.readI32(lenPtr);
  if (len > raw.length) len = raw.length;
  if (len < 0) fail(EINVAL);
  if (len > 0) t.mm.copyOut(addr, raw.subarray(0, len));
  t.mm.writeI32(lenPtr, raw.length);
}

export interface MsgHdr {
  name: number;
  namelen: number;
  iovs: IOVec[];
  control: number;
  controllen: number;
}

/** copy_msghdr_from_user plus the iovec import. */
export function copyInMsgHdr(t: Task, addr: number): MsgHdr {
  const raw = t.mm.copyIn(addr, 56);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const name = Number(v.getBigUint64(0, true));
  let namelen = v.getInt32(8, true);
  if (namelen < 0) fail(EINVAL);
  if (namelen > SOCKADDR_STORAGE_SIZE) namelen = SOCKADDR_STORAGE_SIZE;
  if (name === 0) namelen = 0;
  const iov = Number(v.getBigUint64(16, true));
  const iovlen = v.getBigUint64(24, true);
  if (iovlen > 1024n) fail(EINVAL);
  const iovs = copyInIovecs(t, iov, Number(iovlen));
  const control = Number(v.getBigUint64(32, true));
  const controllenBig = v.getBigUint64(40, true);
  if (controllenBig > BigInt(INT_MAX)) fail(ENOBUFS);
  return { name, namelen, iovs, control, controllen: Number(controllenBig) };
}

export function iovTotal(iovs: IOVec[]): number {
  let n = 0;
  for (const v of iovs) n += v.len;
  return n;
}

/** Gather up to `max` bytes starting `skip` bytes into the iovecs. */
export function gatherIovecs(t: Task, iovs: IOVec[], skip: number, max: number): Uint8Array {
  const out = new Uint8Array(Math.min(max, Math.max(0, iovTotal(iovs) - skip)));
  let at = 0;
  let pos = 0;
  for (const v of iovs) {
    if (at === out.length) break;
    const start = Math.max(skip - pos, 0);
    pos += v.len;
    if (start >= v.len) continue;
    const n = Math.min(v.len - start, out.length - at);
    t.mm.copyInto(v.base + start, out.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** Scatter data over the iovecs (EFAULT on a fault). */
export function scatterIovecs(t: Task, iovs: IOVec[], data: Uint8Array): void {
  let at = 0;
  for (const v of iovs) {
    if (at === data.length) break;
    const n = Math.min(v.len, data.length - at);
    if (n > 0) t.mm.copyOut(v.base, data.subarray(at, at + n));
    at += n;
  }
}

/** The single buffer of send/recv as an iovec. */
export function oneIovec(base: number, len: number): IOVec[] {
  // import_ubuf: clamped to MAX_RW_COUNT, then checked.
  const n = Math.min(len, 0x7ffff000);
  if (!accessOk(base, n)) fail(EFAULT);
  return [{ base, len: n }];
}
