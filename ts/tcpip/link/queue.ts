// A link's receive queue (Linux's backlog queue and the net-rx softirq): a packet handed to
// a link is queued and given to the stack's input later — when the operation that sent it
// ends (Stack.flush, as Linux runs the softirq before the syscall returns) or else on a
// microtask; never inside the send: a segment's answer must not re-enter the sender while
// it is still building segments. After each batch the stack flushes the ACKs it held back.
// Each packet carries whether its transport checksum was left out by our own stack (Linux's
// CHECKSUM_PARTIAL on a device with checksum offload): its receiver need not verify it.

import { WIDE_ZERO } from '../wide_field';

const RESOLVED = Promise.resolve();

export type DeliverFn = (pkt: Uint8Array, offloaded: boolean) => void;

export class PacketQueue {
  private queue: Uint8Array[] = [];
  private offloaded: boolean[] = [];
  /** The lists of the batch being delivered, emptied and kept for the next one (a new pair
   *  per batch was an allocation per syscall that sends). */
  private spare: Uint8Array[] = [];
  private spareOffloaded: boolean[] = [];
  private scheduled = false;
  private draining = false;
  /** Packets carried, for /proc/net/dev. */
  packets = 0;
  bytes = WIDE_ZERO;

  private readonly drainLater = (): void => this.drain();

  constructor(private readonly deliver: DeliverFn, private readonly drained: () => void) {}

  /** Queue pkt; offloaded: the stack built it and skipped its transport checksum. */
  send(pkt: Uint8Array, offloaded = false): void {
    this.queue.push(pkt);
    this.offloaded.push(offloaded);
    this.packets++;
    this.bytes += pkt.length;
    if (!this.scheduled) {
      this.scheduled = true;
      // A resolved promise's reaction is a microtask without queueMicrotask's AsyncResource
      // (a packet sent outside a syscall's flush is delivered just the same, a little cheaper).
      void RESOLVED.then(this.drainLater);
    }
  }

  /** Deliver everything queued, including what delivery itself sends, then let the stack
   *  flush the ACKs it held back for the batch. */
  drain(): void {
    this.scheduled = false;
    if (this.draining) return;
    this.draining = true;
    try {
      this.drainLoop();
    } finally {
      this.draining = false;
    }
  }

  private drainLoop(): void {
    for (let rounds = 0; rounds < 64 && this.queue.length > 0; rounds++) {
      const q = this.queue;
      const off = this.offloaded;
      this.queue = this.spare;
      this.offloaded = this.spareOffloaded;
      try {
        for (let i = 0; i < q.length; i++) this.deliver(q[i], off[i]);
      } finally {
        // Emptied, so that no packet is held past its delivery.
        q.length = 0;
        off.length = 0;
        this.spare = q;
        this.spareOffloaded = off;
      }
      this.drained();
    }
    if (this.queue.length > 0 && !this.scheduled) {
      // Let the event loop breathe between long bursts.
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }
}
