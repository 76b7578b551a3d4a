// Selective acknowledgment (RFC 2018, RFC 6675; Linux tcp_data_queue_ofo, tcp_sacktag_write_queue):
// the receiver's out-of-order queue, which keeps segments that arrive past a hole and names
// them in SACK blocks (the block holding the latest arrival first), and the sender's
// scoreboard of what the peer has SACKed, which recovery reads to retransmit only the holes.
// Sequence numbers wrap: every comparison is relative (seqnum.ts).

import { seqAdd, seqDiff, seqGE, seqGT, seqLE, seqLT } from './seqnum';
import { MAX_SACK_BLOCKS } from '../header/tcp';
import { WIDE_ZERO } from '../wide_field';

interface Range { start: number; end: number }

/** Disjoint [start, end) ranges of sequence space, kept sorted and merged. */
export class SeqRanges {
  ranges: Range[] = [];

  get empty(): boolean { return this.ranges.length === 0; }

  add(start: number, end: number): void {
    if (!seqLT(start, end)) return;
    const out: Range[] = [];
    let s = start;
    let e = end;
    let placed = false;
    for (const r of this.ranges) {
      if (seqLT(r.end, s)) { out.push(r); continue; }
      if (seqGT(r.start, e)) {
        if (!placed) { out.push({ start: s, end: e }); placed = true; }
        out.push(r);
        continue;
      }
      // Overlapping or touching: merge into [s, e).
      if (seqLT(r.start, s)) s = r.start;
      if (seqGT(r.end, e)) e = r.end;
    }
    if (!placed) out.push({ start: s, end: e });
    this.ranges = out;
  }

  /** Forget everything below seq (it was cumulatively acknowledged). */
  pruneBelow(seq: number): void {
    this.ranges = this.ranges.filter((r) => seqGT(r.end, seq));
    if (this.ranges.length > 0 && seqLT(this.ranges[0].start, seq)) this.ranges[0] = { start: seq, end: this.ranges[0].end };
  }

  contains(seq: number): boolean {
    return this.ranges.some((r) => seqLE(r.start, seq) && seqLT(seq, r.end));
  }

  /** The first range starting at or after seq, or null. */
  nextAfter(seq: number): Range | null {
    for (const r of this.ranges) if (seqGE(r.start, seq)) return r;
    return null;
  }

  /** The range holding seq, or null. */
  holding(seq: number): Range | null {
    for (const r of this.ranges) if (seqLE(r.start, seq) && seqLT(seq, r.end)) return r;
    return null;
  }

  bytes(): number { return this.ranges.reduce((n, r) => n + seqDiff(r.end, r.start), 0); }

  clear(): void { this.ranges = []; }
}

/** The receiver's out-of-order segments. */
export class OutOfOrderQueue {
  private segs: { seq: number; data: Uint8Array }[] = [];
  readonly ranges = new SeqRanges();
  /** Where the latest segment landed: its block goes first in our SACK option. */
  private latest = WIDE_ZERO;
  bytes = 0;

  get empty(): boolean { return this.segs.length === 0; }

  /** Keep a segment that starts past rcvNxt (the caller has checked the window). */
  insert(seq: number, data: Uint8Array): void {
    if (data.length === 0) return;
    this.latest = seq;
    this.ranges.add(seq, seqAdd(seq, data.length));
    this.segs.push({ seq, data });
    this.segs.sort((a, b) => seqDiff(a.seq, b.seq));
    this.bytes += data.length;
  }

  /** The data that now continues the stream at rcvNxt, in order, overlaps trimmed. */
  takeContiguous(rcvNxt: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let next = rcvNxt;
    while (this.segs.length > 0 && seqLE(this.segs[0].seq, next)) {
      const s = this.segs.shift()!;
      this.bytes -= s.data.length;
      const skip = seqDiff(next, s.seq);
      if (skip < s.data.length) {
        const d = s.data.subarray(skip);
        out.push(d);
        next = seqAdd(next, d.length);
      }
    }
    this.ranges.pruneBelow(next);
    return out;
  }

  /** SACK blocks, flat: the block holding the latest arrival, then the others in order. */
  sackBlocks(): number[] {
    const rs = this.ranges.ranges;
    const first = rs.find((r) => seqLE(r.start, this.latest) && seqLT(this.latest, r.end));
    const ordered = first ? [first, ...rs.filter((r) => r !== first)] : rs;
    return ordered.slice(0, MAX_SACK_BLOCKS).flatMap((r) => [r.start, r.end]);
  }

  clear(): void {
    this.segs = [];
    this.ranges.clear();
    this.bytes = 0;
  }
}
