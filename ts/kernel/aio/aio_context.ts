// AIO contexts (Linux fs/aio.c kioctx): io_setup maps a ring into the process (struct
// aio_ring: a 32-byte header, then io_events), whose address is the context id; completions
// go in at the tail, and the process may take them itself by moving the ring's head (libaio
// does) or through io_getevents. Contexts belong to an address space: fork's child has none
// (it shares the ring's pages, as Linux's MAP_SHARED ring), exec and exit end them.
//
// Owns the ring and the bookkeeping; what a request does is sys_aio.ts's.

import type { MemoryManager } from '../../mm/memory_manager';
import type { Kernel } from '../kernel';
import { WaitQueue } from '../poll/wait_queue';
import { POLLIN } from '../../abi/linux/poll';
import { EINVAL } from '../../abi/linux/errno';
import { fail } from '../syscall_error';

export const AIO_RING_MAGIC = 0xa10a10a1;
const RING_HEADER = 32;
export const IO_EVENT_SIZE = 32;
const PAGE = 4096;
/** /proc/sys/fs/aio-max-nr's default. */
const AIO_MAX_NR = 65536;
const maxNrs = new WeakMap<Kernel, number>();

/** /proc/sys/fs/aio-max-nr: the most requests the sandbox's contexts may be set up for. */
export function aioMaxNr(k: Kernel): number { return maxNrs.get(k) ?? AIO_MAX_NR; }

/** A write to aio-max-nr (proc_doulongvec_minmax: an unsigned decimal). */
export function setAioMaxNr(k: Kernel, text: string): void {
  const s = text.trim();
  if (!/^\+?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) fail(EINVAL);
  maxNrs.set(k, Number(s));
}

/** One submitted request not yet completed (an IOCB_CMD_POLL waiting, say). */
export interface AioRequest {
  /** The iocb's user address (io_event.obj, io_cancel's key). */
  obj: number;
  data: bigint;
  cancel: () => void;
}

export class AioContext {
  /** Kernel-side tail (the ring's copy is for the process). */
  private tail = 0;
  readonly active = new Map<number, AioRequest>();
  readonly queue = new WaitQueue();
  dead = false;

  constructor(readonly mm: MemoryManager, readonly ring: number, readonly ringSize: number,
    readonly nr: number, readonly maxReqs: number) {}

  /** The ring's head, as the process may have moved it (taken modulo nr, as Linux does). */
  private head(): number {
    return this.mm.readU32(this.ring + 8) % this.nr;
  }

  /** Free slots for new requests (reqs_available): a completion must always find room. */
  available(): number {
    const used = (this.tail - this.head() + this.nr) % this.nr;
    return this.nr - 1 - used - this.active.size;
  }

  /** aio_complete: the event goes in at the tail. */
  complete(obj: number, data: bigint, res: bigint, res2 = 0n): void {
    this.active.delete(obj);
    if (this.dead) return;
    const ev = new Uint8Array(IO_EVENT_SIZE);
    const v = new DataView(ev.buffer);
    v.setBigUint64(0, data, true);
    v.setBigUint64(8, BigInt(obj), true);
    v.setBigInt64(16, res, true);
    v.setBigInt64(24, res2, true);
    try {
      this.mm.copyOut(this.ring + RING_HEADER + this.tail * IO_EVENT_SIZE, ev);
      this.tail = (this.tail + 1) % this.nr;
      this.mm.writeU32(this.ring + 12, this.tail);
    } catch {
      // The process unmapped or protected its ring: the event has nowhere to go.
    }
    this.queue.notify(POLLIN);
  }

  /** aio_read_events_ring: up to max events, oldest first, the head moved past them. */
  takeEvents(max: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let head = this.head();
    while (out.length < max && head !== this.tail) {
      out.push(this.mm.copyIn(this.ring + RING_HEADER + head * IO_EVENT_SIZE, IO_EVENT_SIZE));
      head = (head + 1) % this.nr;
    }
    if (out.length > 0) this.mm.writeU32(this.ring + 8, head);
    return out;
  }
}

interface AioTable { byId: Map<number, AioContext> }

const tables = new WeakMap<MemoryManager, AioTable>();
/** Every context of the sandbox, for aio-nr; those of released address spaces drop out. */
const live = new WeakMap<Kernel, Set<AioContext>>();

export function contextOf(mm: MemoryManager, id: number): AioContext | undefined {
  const c = tables.get(mm)?.byId.get(id);
  return c !== undefined && !c.dead ? c : undefined;
}

/** aio-nr: the requests every live context of the sandbox was set up for. */
export function aioNr(k: Kernel): number {
  const set = live.get(k);
  if (set === undefined) return 0;
  let n = 0;
  for (const c of set) {
    if (c.dead || c.mm.isReleased) set.delete(c);
    else n += c.maxReqs;
  }
  return n;
}

/** The ring size for nr_events (ioctx_alloc and aio_setup_ring's arithmetic). */
export function ringGeometry(nrEvents: number, cpus: number): { nr: number; bytes: number } {
  let n = Math.max(nrEvents, cpus * 4) * 2 + 2;
  const bytes = Math.ceil((RING_HEADER + IO_EVENT_SIZE * n) / PAGE) * PAGE;
  n = (bytes - RING_HEADER) / IO_EVENT_SIZE;
  return { nr: n, bytes };
}

/** A new context over a ring the caller has mapped at `ring`; writes the ring's header. */
export function addContext(k: Kernel, mm: MemoryManager, ring: number, bytes: number, nr: number,
  maxReqs: number): AioContext {
  let table = tables.get(mm);
  if (table === undefined) {
    table = { byId: new Map() };
    tables.set(mm, table);
  }
  const ctx = new AioContext(mm, ring, bytes, nr, maxReqs);
  const header = new Uint8Array(RING_HEADER);
  const v = new DataView(header.buffer);
  v.setUint32(0, table.byId.size, true); // id: the slot in the table
  v.setUint32(4, nr, true);
  v.setUint32(16, AIO_RING_MAGIC, true);
  v.setUint32(20, 1, true); // compat_features: AIO_RING_COMPAT_FEATURES
  v.setUint32(28, RING_HEADER, true);
  mm.copyOut(ring, header);
  table.byId.set(ring, ctx);
  let set = live.get(k);
  if (set === undefined) live.set(k, set = new Set());
  set.add(ctx);
  return ctx;
}

/** exit_aio: the address space is going (exit, exec): its contexts end, and what their
 *  requests held (a polled file) is let go. */
export function exitAio(mm: MemoryManager): void {
  const table = tables.get(mm);
  if (table === undefined) return;
  for (const ctx of table.byId.values()) {
    ctx.dead = true;
    for (const r of [...ctx.active.values()]) r.cancel();
    ctx.active.clear();
  }
  table.byId.clear();
}

/** kill_ioctx: the context is gone; what is pending is cancelled. The caller unmaps the ring. */
export function killContext(k: Kernel, mm: MemoryManager, ctx: AioContext): void {
  tables.get(mm)?.byId.delete(ctx.ring);
  ctx.dead = true;
  for (const r of [...ctx.active.values()]) r.cancel();
  ctx.active.clear();
  live.get(k)?.delete(ctx);
  ctx.queue.notify(POLLIN);
}
