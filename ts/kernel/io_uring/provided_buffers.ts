// A ring's provided buffers (Linux io_uring/kbuf.c): groups of buffers the program hands
// over, from which a READ or RECV with IOSQE_BUFFER_SELECT takes one when it has data (its
// CQE says which: IORING_CQE_F_BUFFER and the buffer id). A group is either a list filled by
// IORING_OP_PROVIDE_BUFFERS, or a ring the program maps itself and registers
// (IORING_REGISTER_PBUF_RING): an array of struct io_uring_buf in its memory whose tail the
// program advances and whose head only the kernel knows. The ring is the program's memory,
// read with copyIn at each selection: whatever it says is only an address and a length for
// the request's own copy to the program.

import type { Task } from '../task';
import { EEXIST, EINVAL, ENOBUFS, ENOENT } from '../../abi/linux/errno';
import { fail } from '../syscall_error';

export interface Buffer { addr: number; len: number; bid: number }

/** A buffer a request took; commit (it was used) or recycle (it goes back) once. */
export interface PickedBuffer extends Buffer { bgid: number; bufLen: number }

interface BufRing { addr: number; entries: number; head: number }
interface Group { list: Buffer[]; ring: BufRing | null }

/** MAX_RW_COUNT: no buffer is longer. */
const MAX_RW_COUNT = 0x7ffff000;
const BUF_SIZE = 16, TAIL_OFF = 14;

export const IORING_CQE_F_BUFFER = 1, IORING_CQE_BUFFER_SHIFT = 16;

export class ProvidedBuffers {
  private readonly groups = new Map<number, Group>();

  /** IORING_OP_PROVIDE_BUFFERS (checked by its caller): nbufs of len bytes from addr, ids
   *  from bid. A ring's group refuses them (EINVAL). */
  provide(bgid: number, addr: number, len: number, nbufs: number, bid: number): void {
    let g = this.groups.get(bgid);
    if (g?.ring) fail(EINVAL);
    if (!g) this.groups.set(bgid, g = { list: [], ring: null });
    const l = Math.min(len, MAX_RW_COUNT);
    for (let i = 0; i < nbufs; i++) g.list.push({ addr: addr + i * len, len: l, bid: (bid + i) & 0xffff });
  }

  /** IORING_OP_REMOVE_BUFFERS: up to n of the group's buffers; how many went. */
  remove(bgid: number, n: number): number {
    const g = this.groups.get(bgid);
    if (!g) fail(ENOENT);
    if (g.ring) fail(EINVAL);
    return g.list.splice(0, n).length;
  }

  /** IORING_REGISTER_PBUF_RING (arguments checked by the caller). */
  registerRing(bgid: number, addr: number, entries: number): void {
    const g = this.groups.get(bgid);
    if (g && (g.ring || g.list.length > 0)) fail(EEXIST);
    this.groups.set(bgid, { list: [], ring: { addr, entries, head: 0 } });
  }

  unregisterRing(bgid: number): void {
    const g = this.groups.get(bgid);
    if (!g) fail(ENOENT);
    if (!g.ring) fail(EINVAL);
    this.groups.delete(bgid);
  }

  /** io_buffer_select: the group's next buffer, at most want bytes of it (0: all); ENOBUFS
   *  when it has none. A list's buffer leaves the list now; a ring's head moves at commit. */
  select(t: Task, bgid: number, want: number): PickedBuffer {
    const g = this.groups.get(bgid);
    if (!g) fail(ENOBUFS);
    let b: Buffer;
    if (g.ring) {
      const r = g.ring;
      const tail = new DataView(t.mm.copyIn(r.addr + TAIL_OFF, 2).buffer).getUint16(0, true);
      if (tail === r.head) fail(ENOBUFS);
      const raw = t.mm.copyIn(r.addr + (r.head & (r.entries - 1)) * BUF_SIZE, BUF_SIZE);
      const v = new DataView(raw.buffer, raw.byteOffset, BUF_SIZE);
      b = { addr: Number(v.getBigUint64(0, true)), len: Math.min(v.getUint32(8, true), MAX_RW_COUNT), bid: v.getUint16(12, true) };
    } else {
      const next = g.list.shift();
      if (!next) fail(ENOBUFS);
      b = next;
    }
    const len = want === 0 || want > b.len ? b.len : want;
    return { addr: b.addr, len, bid: b.bid, bgid, bufLen: b.len };
  }

  /** The buffer was used: a ring's head moves past it. Its CQE flags. */
  commit(p: PickedBuffer): number {
    const r = this.groups.get(p.bgid)?.ring;
    if (r) r.head = (r.head + 1) & 0xffff;
    return IORING_CQE_F_BUFFER | (p.bid << IORING_CQE_BUFFER_SHIFT);
  }

  /** The request must wait: its buffer goes back where it was taken from. */
  recycle(p: PickedBuffer): void {
    const g = this.groups.get(p.bgid);
    if (g && !g.ring) g.list.unshift({ addr: p.addr, len: p.bufLen, bid: p.bid });
  }
}
