// TCP urgent data as Linux treats it (tcp_mark_urg and tcp_transmit_skb's urgent pointer;
// tcp_check_urg, tcp_urg; tcp_recv_urg; the urgent checks of tcp_recvmsg, tcp_poll and
// SIOCATMARK). One byte at a time: send(MSG_OOB) makes the last byte written urgent, and
// every segment sent before it is acknowledged carries a pointer to the byte after it (the
// BSD reading RFC 6093 describes). The receiver takes the byte before it (tcp_stdurg 0),
// signals the owner with SIGURG when a new pointer arrives, keeps the byte aside for
// recv(MSG_OOB) and, unless SO_OOBINLINE, skips it in the data stream, where reads stop at
// the mark. The byte stays in the receive queue, as in Linux, so FIONREAD counts it.

import { POLLIN, POLLPRI, POLLRDBAND } from '../../abi/linux/poll';
import { seqAdd, seqDiff, seqGT, seqLT } from './seqnum';
import type { TCPSegment } from '../header/tcp';
import { TH_SYN, TH_URG } from '../header/tcp';
import { WIDE_ZERO } from '../wide_field';

/** tp->urg_data states: a pointer seen but its byte not yet, the byte (low 8 bits), or read. */
export const URG_VALID = 0x100;
export const URG_NOTYET = 0x200;
export const URG_READ = 0x400;

/** What urgent handling needs of its endpoint. */
export interface UrgentHost {
  readonly rcvNxt: number;
  readonly rcvQueued: number;
  readonly finReceived: boolean;
  readonly sndUna: number;
  readonly sndNxt: number;
  readonly sndQueued: number;
  owner: { notify(mask: number): void } | null;
  read(max: number, peek: boolean): Uint8Array;
}

export class TcpUrgent {
  /** snd_up: the sequence number after the last urgent byte; null outside urgent mode. */
  sndUp: number | null = null;
  /** urg_data and urg_seq of the receiver. */
  data = 0;
  seq = WIDE_ZERO;
  /** SO_OOBINLINE of the socket (the socket layer answers). */
  isInline: () => boolean = () => false;
  /** A new urgent pointer arrived: the socket sends SIGURG to its owner. */
  sigurg: () => void = () => {};

  constructor(private readonly ep: UrgentHost) {}

  /** tp->copied_seq: the next sequence number the application reads. */
  copiedSeq(): number {
    return seqAdd(this.ep.rcvNxt, -(this.ep.rcvQueued + (this.ep.finReceived ? 1 : 0)));
  }

  // --- sending ---

  /** tcp_mark_urg: everything written so far ends with the urgent byte. */
  mark(): void {
    this.sndUp = seqAdd(this.ep.sndUna, this.ep.sndQueued);
  }

  /** The urgent pointer a segment starting at seq carries (undefined: none). */
  pointer(seq: number): number | undefined {
    const up = this.sndUp;
    if (up === null) return undefined;
    if (!seqLT(this.ep.sndUna, up)) { this.sndUp = null; return undefined; }
    if (!seqLT(seq, up)) return undefined;
    if (seqLT(up, seqAdd(seq, 0x10000))) return seqDiff(up, seq);
    return seqGT(seqAdd(seq, 0xffff), this.ep.sndNxt) ? 0xffff : undefined;
  }

  // --- receiving ---

  /** tcp_urg for a segment that passed the checks, before its data is queued. */
  input(seg: TCPSegment): void {
    if (seg.flags & TH_URG) this.check(seg);
    if (this.data !== URG_NOTYET) return;
    const off = seqDiff(this.seq, seg.seq) - (seg.flags & TH_SYN ? 1 : 0);
    if (off >= 0 && off < seg.data.length) {
      this.data = URG_VALID | seg.data[off];
      this.ep.owner?.notify(POLLPRI | POLLRDBAND | POLLIN);
    }
  }

  /** tcp_check_urg: a new urgent pointer (BSD: the byte before it). */
  private check(seg: TCPSegment): void {
    let ptr = seg.urgPtr;
    if (ptr === 0) return;
    ptr = seqAdd(seg.seq, ptr - 1);
    const copied = this.copiedSeq();
    if (seqGT(copied, ptr)) return;
    // Not replayed: a pointer into data already received stays unread (as Linux).
    if (seqLT(ptr, this.ep.rcvNxt)) return;
    if (this.data !== 0 && !seqGT(ptr, this.seq)) return;
    this.sigurg();
    // The last byte read was the old urgent byte, out of line: it is consumed now.
    if (this.seq === copied && this.data !== 0 && !this.isInline() && copied !== this.ep.rcvNxt && this.ep.rcvQueued > 0) {
      this.ep.read(1, false);
    }
    this.data = URG_NOTYET;
    this.seq = ptr;
  }

  /** Whether the next byte to read is the urgent one (SIOCATMARK). */
  atMark(): boolean { return this.data !== 0 && this.seq === this.copiedSeq(); }

  /** How far a read may go from the queue head before it reaches the mark: Infinity when the
   *  mark is not ahead, 0 at the mark. */
  untilMark(): number {
    if (this.data === 0) return Infinity;
    const off = seqDiff(this.seq, this.copiedSeq());
    return off < 0 ? Infinity : off;
  }

  /** After a read consumed past the urgent byte, it is forgotten. */
  consumed(): void {
    if (this.data !== 0 && this.data !== URG_NOTYET && seqGT(this.copiedSeq(), this.seq)) this.data = 0;
  }

  /** The byte for recv(MSG_OOB), or a reason there is none: 'inval' (no mark, already read,
   *  SO_OOBINLINE) or 'notyet' (the pointer came, the byte not). peek leaves it there. */
  take(peek: boolean): number | 'inval' | 'notyet' {
    if (this.isInline() || this.data === 0 || this.data === URG_READ) return 'inval';
    if (!(this.data & URG_VALID)) return 'notyet';
    const c = this.data & 0xff;
    if (!peek) this.data = URG_READ;
    return c;
  }

  /** tcp_poll: POLLPRI while a byte waits for recv(MSG_OOB). */
  get pri(): boolean { return (this.data & URG_VALID) !== 0; }
}
