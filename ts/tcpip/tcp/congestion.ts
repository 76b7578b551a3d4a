// NewReno congestion control (RFC 5681, RFC 6582; Linux tcp_reno_cong_avoid, tcp_reno_ssthresh
// and the fast-recovery part of tcp_fastretrans_alert): the congestion window in segments,
// slow start below ssthresh, one segment per window above it, and on loss either fast
// recovery (three duplicate ACKs: halve, retransmit, inflate per duplicate, leave when the
// ACK covers everything sent before the loss) or a restart from one segment (a timeout).
// The endpoint asks it how much may be in flight and tells it what happened; with SACK the
// endpoint picks what to retransmit, the window arithmetic stays this one. The window only
// grows while the sender uses it (RFC 7661's idea, as Linux's tcp_is_cwnd_limited and
// tcp_cwnd_validate): an application or a receive window that keeps the sender below cwnd
// does not inflate it, and one that kept it below for an RTO shrinks it towards what was used
// (tcp_cwnd_application_limited).

import { seqGE } from './seqnum';
import { WIDE_ZERO } from '../wide_field';

/** Linux TCP_INIT_CWND. */
export const INIT_CWND = 10;
/** TCP_INFINITE_SSTHRESH: no loss seen yet. */
export const INFINITE_SSTHRESH = 0x7fffffff;
/** Duplicate ACKs that mean a loss (tcp_reordering's default). */
export const DUPACK_THRESHOLD = 3;

export const CA_OPEN = 0;
export const CA_DISORDER = 1;
export const CA_RECOVERY = 3;
export const CA_LOSS = 4;

export class NewReno {
  cwnd = INIT_CWND;
  ssthresh = INFINITE_SSTHRESH;
  /** tcpi_ca_state: CA_OPEN, CA_DISORDER (duplicates seen), CA_RECOVERY, CA_LOSS. */
  state = CA_OPEN;
  dupAcks = 0;
  /** The highest sequence sent when recovery began (RFC 6582 "recover"). */
  recover = WIDE_ZERO;
  private cwndCnt = 0;
  /** tcp_cwnd_validate's record: whether the sender used the whole window in the current
   *  window of data, the most segments it had in flight there, and where that window ends. */
  private isCwndLimited = false;
  private maxPacketsOut = 0;
  private cwndUsageSeq = WIDE_ZERO;
  /** The most segments in flight while the window was not filled, and since when. */
  private cwndUsed = 0;
  private cwndStamp = WIDE_ZERO;

  get inSlowStartInitially(): boolean { return this.ssthresh >= INFINITE_SSTHRESH; }
  get inRecovery(): boolean { return this.state === CA_RECOVERY; }

  /** tcp_is_cwnd_limited: the window is in use (in slow start: it is below twice the most
   *  that was in flight, so slow start still doubles what the sender really sends). */
  get cwndLimited(): boolean {
    if (this.isCwndLimited) return true;
    return this.cwnd < this.ssthresh && this.cwnd < 2 * this.maxPacketsOut;
  }

  /** After a round of sending (tcp_cwnd_validate): packetsOut segments in flight, limited
   *  whether cwnd stopped the sender; sndUna/sndNxt the sequence space, now and rto in ms. */
  validate(limited: boolean, packetsOut: number, sndUna: number, sndNxt: number, now: number, rto: number): void {
    if (seqGE(sndUna, this.cwndUsageSeq) || limited || (!this.isCwndLimited && packetsOut > this.maxPacketsOut)) {
      this.isCwndLimited = limited;
      this.maxPacketsOut = packetsOut;
      this.cwndUsageSeq = sndNxt;
    }
    if (this.cwndLimited) {
      this.cwndUsed = 0;
      this.cwndStamp = now;
      return;
    }
    if (packetsOut > this.cwndUsed) this.cwndUsed = packetsOut;
    if (now - this.cwndStamp >= rto) this.applicationLimited(now);
  }

  /** tcp_cwnd_application_limited: the sender left the window unused for an RTO; bring it
   *  halfway down to what was used (not below the initial window), keeping ssthresh at
   *  least three quarters of the old window. */
  private applicationLimited(now: number): void {
    if (this.state === CA_OPEN) {
      const used = Math.max(this.cwndUsed, INIT_CWND);
      if (used < this.cwnd) {
        this.ssthresh = Math.max(this.ssthresh, (this.cwnd >> 1) + (this.cwnd >> 2));
        this.cwnd = (this.cwnd + used) >> 1;
      }
      this.cwndUsed = 0;
    }
    this.cwndStamp = now;
  }

  /** New data acknowledged (segments' worth), outside recovery: grow the window if it is in
   *  use (tcp_cong_avoid's tcp_is_cwnd_limited check). */
  onAck(segs: number): void {
    if (segs <= 0) return;
    if (this.state === CA_LOSS || this.state === CA_DISORDER) this.state = CA_OPEN;
    this.dupAcks = 0;
    if (!this.cwndLimited) return;
    if (this.cwnd < this.ssthresh) {
      // Slow start: one segment per segment acked, up to ssthresh (tcp_slow_start).
      const room = Math.min(segs, this.ssthresh - this.cwnd);
      this.cwnd += room;
      segs -= room;
      if (segs === 0) return;
    }
    // Congestion avoidance: one segment per window (tcp_cong_avoid_ai).
    this.cwndCnt += segs;
    if (this.cwndCnt >= this.cwnd) {
      this.cwnd += Math.floor(this.cwndCnt / this.cwnd);
      this.cwndCnt %= this.cwnd;
    }
  }

  /** A duplicate ACK; true when it is the one that starts fast recovery. */
  onDupAck(flightSegs: number, sndNxt: number): boolean {
    this.dupAcks++;
    if (this.state === CA_RECOVERY) {
      this.cwnd++; // each duplicate: a segment has left the network
      return false;
    }
    if (this.dupAcks < DUPACK_THRESHOLD) {
      this.state = CA_DISORDER;
      return false;
    }
    this.ssthresh = Math.max(flightSegs >> 1, 2);
    this.cwnd = this.ssthresh + DUPACK_THRESHOLD;
    this.cwndCnt = 0;
    this.recover = sndNxt;
    this.state = CA_RECOVERY;
    return true;
  }

  /** An ACK during recovery that covers `recover`: leave with the halved window. */
  exitRecovery(): void {
    this.cwnd = this.ssthresh;
    this.cwndCnt = 0;
    this.dupAcks = 0;
    this.state = CA_OPEN;
  }

  /** A partial ACK in recovery (RFC 6582 3.2 step 5): deflate by what it acked, plus one. */
  partialAck(segs: number): void {
    this.cwnd = Math.max(this.cwnd - segs + 1, 1);
  }

  /** The retransmission timer fired (tcp_enter_loss). */
  onTimeout(flightSegs: number): void {
    if (this.state !== CA_LOSS) this.ssthresh = Math.max(flightSegs >> 1, 2);
    this.cwnd = 1;
    this.cwndCnt = 0;
    this.dupAcks = 0;
    this.state = CA_LOSS;
  }
}
