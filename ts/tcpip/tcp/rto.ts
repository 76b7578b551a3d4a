// Retransmission timeout estimation (RFC 6298; Linux tcp_rtt_estimator, TCP_RTO_MIN 200 ms,
// TCP_TIMEOUT_INIT 1 s, TCP_RTO_MAX 120 s). One segment at a time is timed, and never a
// retransmitted one (Karn's algorithm).

import { WIDE_ZERO } from '../wide_field';

export const RTO_MIN_MS = 200;
export const RTO_INIT_MS = 1000;
export const RTO_MAX_MS = 120_000;

export class RtoEstimator {
  srtt = WIDE_ZERO;
  rttvar = WIDE_ZERO;
  /** Made a double first (wide_field.ts): an RTT over 50 ms (a loaded host) makes it
   *  fractional, which would change the shape of a field that started as 1000. */
  rto = WIDE_ZERO;
  /** icsk_backoff: how many times the timer doubled since the last sample. */
  backoffs = 0;
  private timedSeq: number | null = null;
  private timedAt = WIDE_ZERO;

  constructor() { this.rto = RTO_INIT_MS; }

  /** Time the segment ending at endSeq, unless one is being timed. */
  start(endSeq: number, now = performance.now()): void {
    if (this.timedSeq !== null) return;
    this.timedSeq = endSeq;
    this.timedAt = now;
  }

  /** A retransmission happened: the timed sample would be ambiguous. */
  discard(): void { this.timedSeq = null; }

  /** ack covers the timed segment (seqGE check by the caller's comparator): the sample it
   *  gave (ms), or null. */
  acked(ack: number, ge: (a: number, b: number) => boolean, now = performance.now()): number | null {
    if (this.timedSeq === null || !ge(ack, this.timedSeq)) return null;
    const r = now - this.timedAt;
    this.timedSeq = null;
    this.sample(r);
    return r;
  }

  /** One RTT measurement of r ms (from the timed segment, or a timestamp echo). */
  sample(r: number): void {
    if (this.srtt === 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = this.base();
    this.backoffs = 0;
  }

  /** The RTO without backoff (__tcp_set_rto; the initial one before any sample). */
  private base(): number {
    if (this.srtt === 0) return RTO_INIT_MS;
    return Math.min(RTO_MAX_MS, Math.max(RTO_MIN_MS, this.srtt + Math.max(1, 4 * this.rttvar)));
  }

  backoff(): void {
    this.rto = Math.min(RTO_MAX_MS, this.rto * 2);
    this.backoffs++;
  }

  /** Undo one backoff (RFC 6069); false when there is none to undo. */
  revertBackoff(): boolean {
    if (this.backoffs === 0) return false;
    this.backoffs--;
    this.rto = Math.min(RTO_MAX_MS, this.base() * 2 ** this.backoffs);
    return true;
  }
}
