// The congestion window (RFC 5681, RFC 6582; Linux tcp_cong.c and the window part of
// tcp_fastretrans_alert/tcp_enter_loss): the window in segments and the slow-start threshold,
// the recovery state machine (three duplicate ACKs: a new threshold, retransmit, inflate per
// duplicate, leave when the ACK covers everything sent before the loss; a timeout restarts
// from one segment), and the window validation below. How the window grows and how far a loss
// brings it down is the algorithm's (tcp_congestion_ops: cc_reno.ts, cc_cubic.ts), chosen per
// socket by TCP_CONGESTION with the stack's default from net.ipv4.tcp_congestion_control
// (cc_registry.ts). The endpoint asks how much may be in flight and tells what happened; with
// SACK it picks what to retransmit. The window only grows while the sender uses it (RFC 7661's
// idea, as Linux's tcp_is_cwnd_limited and tcp_cwnd_validate): an application or a receive
// window that keeps the sender below cwnd does not inflate it, and one that kept it below for
// an RTO shrinks it towards what was used (tcp_cwnd_application_limited).

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

/** What an algorithm sees of the sender (the endpoint): its sequence space. */
export interface CcSender { readonly sndUna: number; readonly sndNxt: number }

const IDLE_SENDER: CcSender = { sndUna: 0, sndNxt: 0 };

/** tcp_congestion_ops: one algorithm's state and hooks for one connection. Times are
 *  performance.now() milliseconds. */
export interface CongestionOps {
  readonly name: string;
  /** .init: a new connection, or the algorithm chosen on a live one. */
  init(cc: CongestionControl): void;
  /** .ssthresh: the threshold after a loss (flight: segments in flight). */
  ssthresh(cc: CongestionControl, flight: number): number;
  /** .cong_avoid: segs newly acknowledged up to ack while the window is in use. */
  congAvoid(cc: CongestionControl, ack: number, segs: number, now: number): void;
  /** .set_state(TCP_CA_Loss): a retransmission timeout. */
  onLoss(cc: CongestionControl): void;
  /** .pkts_acked: an ACK of new data and its RTT sample in microseconds (-1: none). */
  acked(cc: CongestionControl, rttUs: number, now: number): void;
  /** .cwnd_event(CA_EVENT_TX_START): data leaves with nothing in flight, idleMs after the
   *  last send. */
  txStart(idleMs: number, now: number): void;
}

export class CongestionControl {
  cwnd = INIT_CWND;
  ssthresh = INFINITE_SSTHRESH;
  /** tcpi_ca_state: CA_OPEN, CA_DISORDER (duplicates seen), CA_RECOVERY, CA_LOSS. */
  state = CA_OPEN;
  dupAcks = 0;
  /** The highest sequence sent when recovery began (RFC 6582 "recover"). */
  recover = WIDE_ZERO;
  /** snd_cwnd_cnt: segments acknowledged towards the next increase in congestion avoidance. */
  cwndCnt = 0;
  /** tcp_cwnd_validate's record: whether the sender used the whole window in the current
   *  window of data, the most segments it had in flight there, and where that window ends. */
  private isCwndLimited = false;
  private maxPacketsOut = 0;
  private cwndUsageSeq = WIDE_ZERO;
  /** The most segments in flight while the window was not filled, and since when. */
  private cwndUsed = 0;
  private cwndStamp = WIDE_ZERO;
  /** tp->lsndtime: when data last left (CA_EVENT_TX_START's idle time). */
  private lastSendAt = WIDE_ZERO;
  private algo: CongestionOps;

  constructor(ops: CongestionOps, readonly sender: CcSender = IDLE_SENDER) {
    this.algo = ops;
    ops.init(this);
  }

  get ops(): CongestionOps { return this.algo; }

  /** tcp_init_congestion_control: the connection is set up; the algorithm starts over. */
  init(): void { this.algo.init(this); }

  /** tcp_reinit_congestion_control: another algorithm takes over the window as it is. */
  setOps(ops: CongestionOps): void {
    this.algo = ops;
    ops.init(this);
  }

  get inSlowStart(): boolean { return this.cwnd < this.ssthresh; }
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

  /** tcp_event_data_sent: data left; idle: nothing was in flight before it. */
  sent(idle: boolean, now: number): void {
    if (idle) this.algo.txStart(now - this.lastSendAt, now);
    this.lastSendAt = now;
  }

  /** New data acknowledged (segs segments' worth, up to ack), outside recovery: grow the
   *  window if it is in use (tcp_cong_avoid's tcp_is_cwnd_limited check). */
  onAck(segs: number, ack = this.sender.sndUna, now = 0): void {
    if (segs <= 0) return;
    if (this.state === CA_LOSS || this.state === CA_DISORDER) this.state = CA_OPEN;
    this.dupAcks = 0;
    if (!this.cwndLimited) return;
    this.algo.congAvoid(this, ack, segs, now);
  }

  /** An ACK of new data, with the RTT it measured in ms, or null (tcp_ack's pkts_acked). */
  acked(rttMs: number | null, now: number): void {
    this.algo.acked(this, rttMs === null ? -1 : Math.max(1, Math.round(rttMs * 1000)), now);
  }

  /** tcp_slow_start: one segment per segment acked, up to ssthresh; returns what is left. */
  slowStart(segs: number): number {
    const room = Math.min(segs, Math.max(0, this.ssthresh - this.cwnd));
    this.cwnd += room;
    return segs - room;
  }

  /** tcp_cong_avoid_ai: one segment per w segments acknowledged. */
  congAvoidAi(w: number, segs: number): void {
    // Credits gathered at a larger w go in gently now.
    if (this.cwndCnt >= w) {
      this.cwndCnt = 0;
      this.cwnd++;
    }
    this.cwndCnt += segs;
    if (this.cwndCnt >= w) {
      const delta = Math.floor(this.cwndCnt / w);
      this.cwndCnt -= delta * w;
      this.cwnd += delta;
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
    this.ssthresh = this.algo.ssthresh(this, flightSegs);
    this.cwnd = this.ssthresh + DUPACK_THRESHOLD;
    this.cwndCnt = 0;
    this.recover = sndNxt;
    this.state = CA_RECOVERY;
    return true;
  }

  /** An ACK during recovery that covers `recover`: leave with the reduced window. */
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
    if (this.state !== CA_LOSS) this.ssthresh = this.algo.ssthresh(this, flightSegs);
    this.cwnd = 1;
    this.cwndCnt = 0;
    this.dupAcks = 0;
    this.state = CA_LOSS;
    this.algo.onLoss(this);
  }
}
