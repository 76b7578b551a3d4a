// Reassembly queues shared by IPv4 and IPv6 (Linux net/ipv4/inet_fragment.c: inet_frag_find,
// inet_frag_queue_insert, inet_frag_kill; struct fqdir). A queue holds the fragments of one
// datagram by offset in runs of contiguous pieces, as Linux's rb-tree of fragment runs does:
// a fragment that overlaps what is queued only in part drops the whole datagram (RFC 5722,
// and Linux does the same for IPv4 since FragmentSmack); one wholly inside a run already held
// is a duplicate and only itself is dropped. Memory is bounded per family (high_thresh): past
// it a new fragment is dropped until queues complete or expire (timeMs). The rules about
// where a fragment may end (the last one, multiples of 8) are the callers' (ipv4.ts, ipv6.ts).

export const IPFRAG_OK = 0, IPFRAG_DUP = 1, IPFRAG_OVERLAP = 2;

/** The sysctls of one family (net.ipv4.ipfrag_*, net.ipv6.ip6frag_*). */
export interface FragLimits { highThresh: number; lowThresh: number; timeMs: number }

/** What one queued fragment costs against high_thresh: its bytes and a fixed part standing for
 *  the buffer around them (an skb's truesize is never less than its data). */
const PIECE_OVERHEAD = 256;
/** And a queue itself (struct ipq / frag_queue). */
const QUEUE_OVERHEAD = 256;

interface Run { start: number; end: number }

export class FragQueue {
  /** Contiguous runs of what arrived, sorted, never overlapping. */
  private readonly runs: Run[] = [];
  private readonly pieces: { offset: number; data: Uint8Array }[] = [];
  /** The datagram's end as known so far (q.len), and the bytes held (q.meat). */
  len = 0;
  meat = 0;
  firstIn = false;
  lastIn = false;
  /** The fragment at offset 0, whole (its header is the datagram's; an error quotes it). */
  head: Uint8Array | null = null;
  mem = QUEUE_OVERHEAD;
  /** Set once the queue is reassembled or killed: it takes nothing more. */
  complete = false;
  constructor(readonly key: string, readonly expires: number) {}

  /** inet_frag_queue_insert: place data (the fragment's payload) at [offset, end). */
  insert(offset: number, end: number, data: Uint8Array): number {
    const last = this.runs[this.runs.length - 1];
    if (!last) this.runs.push({ start: offset, end });
    else if (last.end < end) {
      if (offset < last.end) return IPFRAG_OVERLAP;
      if (offset === last.end) last.end = end;
      else this.runs.push({ start: offset, end });
    } else {
      let i = 0;
      while (i < this.runs.length && this.runs[i].end <= offset) i++;
      const r = this.runs[i];
      if (r && end > r.start) return offset >= r.start && end <= r.end ? IPFRAG_DUP : IPFRAG_OVERLAP;
      this.runs.splice(i, 0, { start: offset, end });
    }
    this.pieces.push({ offset, data });
    this.meat += data.length;
    this.mem += data.length + PIECE_OVERHEAD;
    return IPFRAG_OK;
  }

  /** Whether every byte of the datagram is here. */
  get done(): boolean { return this.firstIn && this.lastIn && this.meat === this.len; }

  /** The payload, whole (call when done). */
  assemble(into: Uint8Array, at: number): void {
    for (const p of this.pieces) into.set(p.data, at + p.offset);
  }
}

/** The queues of one family in one stack (a struct fqdir). */
export class FragTable {
  private readonly queues = new Map<string, FragQueue>();
  mem = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private nextExpiry = Infinity;

  constructor(readonly limits: FragLimits, private readonly onExpire: (q: FragQueue) => void,
    private readonly now: () => number = () => performance.now()) {}

  /** inet_frag_find: the queue for key, made if absent; null over the memory bound. */
  find(key: string): FragQueue | null {
    if (this.limits.highThresh === 0 || this.mem > this.limits.highThresh) return null;
    let q = this.queues.get(key);
    if (!q) {
      q = new FragQueue(key, this.now() + this.limits.timeMs);
      this.queues.set(key, q);
      this.mem += q.mem;
      this.arm(q.expires);
    }
    return q;
  }

  /** Account for what a queue just took (its mem after an insert). */
  charge(q: FragQueue, before: number): void { this.mem += q.mem - before; }

  /** inet_frag_kill: the queue takes nothing more and its memory is freed. */
  kill(q: FragQueue): void {
    q.complete = true;
    if (this.queues.get(q.key) === q) {
      this.queues.delete(q.key);
      this.mem -= q.mem;
    }
  }

  get size(): number { return this.queues.size; }

  /** Expire every queue whose time has come (the queues' timers; tests call it with a clock). */
  expire(now = this.now()): void {
    for (const q of [...this.queues.values()]) {
      if (q.expires > now) continue;
      this.kill(q);
      this.onExpire(q);
    }
  }

  /** One host timer for the earliest expiry: unref'd, so it never keeps the sentry alive. */
  private arm(at: number): void {
    if (at >= this.nextExpiry && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextExpiry = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.nextExpiry = Infinity;
      this.expire();
      let next = Infinity;
      for (const q of this.queues.values()) next = Math.min(next, q.expires);
      if (next !== Infinity) this.arm(next);
    }, Math.max(0, at - this.now()) + 1);
    this.timer.unref?.();
  }
}
