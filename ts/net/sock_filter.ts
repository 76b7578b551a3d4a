// Socket filters as options (Linux net/core/sock.c, filter.c: SO_ATTACH_FILTER,
// SO_DETACH_FILTER, SO_LOCK_FILTER; socket(7)). A program is copied in from the sock_fprog
// the option names and checked as bpf_check_classic does (kernel/bpf/check.ts; EINVAL); the
// TCP/IP stack runs it on what the socket receives (kernel/bpf/packet_filter.ts): UDP
// datagrams and TCP segments, which it may drop or trim.

import type { Task } from '../kernel/task';
import { fail } from '../kernel/syscall_error';
import { EINVAL, ENOENT, EPERM } from '../abi/linux/errno';
import {
  BPF_MAXINSNS, SOCK_FILTER_SIZE, BpfInvalid, checkClassic, decodeSockFilters, type BpfProgram, type FilterSlot,
} from '../kernel/bpf';

export const SO_ATTACH_FILTER = 26;
export const SO_DETACH_FILTER = 27;
export const SO_LOCK_FILTER = 44;

/** A socket's filter state (sk_filter and SOCK_FILTER_LOCKED). */
export class SocketFilter implements FilterSlot {
  prog: BpfProgram | null = null;
  locked = false;
}

/** setsockopt(SO_ATTACH_FILTER / SO_DETACH_FILTER / SO_LOCK_FILTER); false for another name. */
export function setFilterOpt(t: Task, f: SocketFilter, name: number, val: Uint8Array): boolean {
  switch (name) {
    case SO_ATTACH_FILTER: {
      if (val.length < 16) fail(EINVAL);
      const v = new DataView(val.buffer, val.byteOffset, 16);
      const len = v.getUint16(0, true);
      const ptr = Number(v.getBigUint64(8, true));
      // sk_attach_filter: bpf_check_basics_ok, then the copy (EFAULT), then bpf_check_classic.
      if (ptr === 0 || len === 0 || len > BPF_MAXINSNS) fail(EINVAL);
      const bytes = t.mm.copyIn(ptr, len * SOCK_FILTER_SIZE);
      let prog: BpfProgram;
      try {
        prog = decodeSockFilters(bytes, len);
        checkClassic(prog);
      } catch (e) {
        if (e instanceof BpfInvalid) fail(EINVAL);
        throw e;
      }
      if (f.locked) fail(EPERM);
      f.prog = prog;
      return true;
    }
    case SO_DETACH_FILTER:
      if (f.locked) fail(EPERM);
      if (f.prog === null) fail(ENOENT);
      f.prog = null;
      return true;
    case SO_LOCK_FILTER: {
      if (val.length < 4) fail(EINVAL);
      const on = new DataView(val.buffer, val.byteOffset, 4).getInt32(0, true) !== 0;
      if (!on && f.locked) fail(EPERM);
      f.locked = on;
      return true;
    }
    default:
      return false;
  }
}

