// CUBIC (RFC 9438; Linux tcp_cubic.c, its fixed-point arithmetic and defaults): after a loss
// the window is cut to beta = 717/1024 of itself and then follows
//   W(t) = C (t - K)^3 + W_max,   K = cbrt(W_max (1 - beta) / C),   C = 0.4
// from the start of the epoch (t in seconds, plus the least RTT seen), growing at most by one
// segment per two acknowledged. Fast convergence: a loss below the last W_max remembers a
// smaller one, (1 + beta) / 2 of the window, to leave room to newer flows. The TCP-friendly
// region keeps it at least as fast as Reno would be with the same beta. HyStart leaves slow
// start early when ACKs of one round come spread over half the least RTT (the ACK train) or
// the RTT grows by an eighth of the least (clamped to 4..16 ms). Times: ms jiffies (HZ 1000).

import { seqGT } from './seqnum';
import type { CongestionControl, CongestionOps } from './congestion';
import { WIDE_ZERO } from '../wide_field';

const BETA_SCALE = 1024;
/** beta = 717/1024 ≈ 0.7. */
export const CUBIC_BETA = 717;
/** bic_scale 41: C = 41 * 10 / 1024 ≈ 0.4. */
const BIC_SCALE = 41;
/** BICTCP_HZ: time is counted in 1/1024 s. */
const BICTCP_HZ = 10;
const HZ = 1000;
const CUBE_RTT_SCALE = BIC_SCALE * 10;
/** 2^(10 + 3 * BICTCP_HZ) / (bic_scale * 10): turns (W_max - cwnd) into K^3 in 1/1024 s. */
const CUBE_FACTOR = Math.floor(2 ** (10 + 3 * BICTCP_HZ) / CUBE_RTT_SCALE);
const CUBE_SHIFT = 2 ** (10 + 3 * BICTCP_HZ);
/** 8 (1 + beta) / (3 (1 - beta)) in eighths: Reno's growth with CUBIC's beta. */
const BETA_RENO_SCALE = Math.floor(Math.floor(8 * (BETA_SCALE + CUBIC_BETA) / 3) / (BETA_SCALE - CUBIC_BETA));
const HYSTART_LOW_WINDOW = 16;
const HYSTART_ACK_DELTA_US = 2000;
const HYSTART_MIN_SAMPLES = 8;
const HYSTART_DELAY_MIN_US = 4000;
const HYSTART_DELAY_MAX_US = 16000;

/** cubic_root as a whole number (Linux's table and Newton step give the same, ±1). */
function cubicRoot(a: number): number { return Math.floor(Math.cbrt(a) + 1e-9); }

export class Cubic implements CongestionOps {
  readonly name = 'cubic';
  /** Grow by one segment after cnt segments acknowledged. */
  cnt = 0;
  lastMaxCwnd = 0;
  private lastCwnd = 0;
  private lastTime = WIDE_ZERO;
  originPoint = 0;
  /** K in 1/1024 s. */
  k = 0;
  /** The least RTT seen, in µs (0: none yet). */
  delayMin = 0;
  /** When the epoch began, in ms (0: no epoch: the next ACK starts one). */
  epochStart = WIDE_ZERO;
  private ackCnt = 0;
  /** The window Reno would have now (the TCP-friendly estimate). */
  private tcpCwnd = 0;
  // HyStart: the round under watch (it ends at endSeq), and its samples.
  found = false;
  private roundStart = WIDE_ZERO;
  private lastAck = WIDE_ZERO;
  private endSeq = WIDE_ZERO;
  private currRtt = 0;
  private sampleCnt = 0;

  /** bictcp_reset. */
  private reset(): void {
    this.cnt = 0;
    this.lastMaxCwnd = 0;
    this.lastCwnd = 0;
    this.lastTime = 0;
    this.originPoint = 0;
    this.k = 0;
    this.delayMin = 0;
    this.epochStart = 0;
    this.ackCnt = 0;
    this.tcpCwnd = 0;
    this.found = false;
  }

  /** bictcp_hystart_reset: a new round starts at what is sent now. */
  private hystartReset(cc: CongestionControl, now: number): void {
    this.roundStart = this.lastAck = now * 1000;
    this.endSeq = cc.sender.sndNxt;
    this.currRtt = Infinity;
    this.sampleCnt = 0;
  }

  init(cc: CongestionControl): void {
    this.reset();
    this.hystartReset(cc, performance.now());
  }

  /** cubictcp_recalc_ssthresh. */
  ssthresh(cc: CongestionControl): number {
    this.epochStart = 0;
    const w = cc.cwnd;
    this.lastMaxCwnd = w < this.lastMaxCwnd ? Math.floor(w * (BETA_SCALE + CUBIC_BETA) / (2 * BETA_SCALE)) : w;
    return Math.max(Math.floor(w * CUBIC_BETA / BETA_SCALE), 2);
  }

  /** cubictcp_state(TCP_CA_Loss): everything learned is forgotten. */
  onLoss(cc: CongestionControl): void {
    this.reset();
    this.hystartReset(cc, performance.now());
  }

  /** cubictcp_cwnd_event(CA_EVENT_TX_START): an idle sender keeps its place on the curve. */
  txStart(idleMs: number, now: number): void {
    const delta = Math.floor(idleMs);
    if (this.epochStart !== 0 && delta > 0) this.epochStart = Math.min(this.epochStart + delta, Math.floor(now));
  }

  congAvoid(cc: CongestionControl, ack: number, segs: number, now: number): void {
    if (cc.inSlowStart) {
      if (seqGT(ack, this.endSeq)) this.hystartReset(cc, now);
      segs = cc.slowStart(segs);
      if (segs === 0) return;
    }
    this.update(cc.cwnd, segs, now);
    cc.congAvoidAi(this.cnt, segs);
  }

  /** bictcp_update: how many ACKs per increase (cnt) puts the window on the curve one RTT on. */
  private update(cwnd: number, acked: number, now: number): void {
    const jiffies = Math.floor(now) || 1;
    this.ackCnt += acked;
    if (this.lastCwnd === cwnd && jiffies - this.lastTime <= HZ / 32) return;
    // The curve is followed at most once a jiffy; a reduction clears epochStart to recompute.
    if (!(this.epochStart !== 0 && jiffies === this.lastTime)) {
      this.lastCwnd = cwnd;
      this.lastTime = jiffies;
      if (this.epochStart === 0) {
        this.epochStart = jiffies;
        this.ackCnt = acked;
        this.tcpCwnd = cwnd;
        if (this.lastMaxCwnd <= cwnd) {
          this.k = 0;
          this.originPoint = cwnd;
        } else {
          this.k = cubicRoot(CUBE_FACTOR * (this.lastMaxCwnd - cwnd));
          this.originPoint = this.lastMaxCwnd;
        }
      }
      // t: time since the epoch began, one least RTT ahead, in 1/1024 s.
      const t = Math.floor(((jiffies - this.epochStart) + Math.floor(this.delayMin / 1000)) * 1024 / HZ);
      const offs = t < this.k ? this.k - t : t - this.k;
      const delta = Math.floor(CUBE_RTT_SCALE * offs * offs * offs / CUBE_SHIFT);
      const target = t < this.k ? this.originPoint - delta : this.originPoint + delta;
      this.cnt = target > cwnd ? Math.floor(cwnd / (target - cwnd)) : 100 * cwnd;
      // Before any loss the curve starts flat: at least 5% more per RTT.
      if (this.lastMaxCwnd === 0 && this.cnt > 20) this.cnt = 20;
    }
    // The TCP-friendly region: no slower than Reno with the same beta.
    const d = Math.floor(cwnd * BETA_RENO_SCALE / 8);
    if (d > 0) {
      while (this.ackCnt > d) {
        this.ackCnt -= d;
        this.tcpCwnd++;
      }
    }
    if (this.tcpCwnd > cwnd) {
      const maxCnt = Math.floor(cwnd / (this.tcpCwnd - cwnd));
      if (this.cnt > maxCnt) this.cnt = maxCnt;
    }
    // At most one segment per two acknowledged: 1.5 times a window per RTT.
    this.cnt = Math.max(this.cnt, 2);
  }

  /** cubictcp_acked, for every ACK of new data: the least RTT, and HyStart while in slow
   *  start. Linux times every segment; this stack times one per round trip (rto.ts), so an
   *  ACK may come without a sample (rttUs < 0): the ACK train needs only its arrival. */
  acked(cc: CongestionControl, rttUs: number, now: number): void {
    // Samples right after a reduction are not trusted.
    if (this.epochStart !== 0 && Math.floor(now) - this.epochStart < HZ) return;
    if (rttUs >= 0 && (this.delayMin === 0 || this.delayMin > rttUs)) this.delayMin = rttUs;
    if (this.delayMin === 0) return;
    if (!this.found && cc.inSlowStart && cc.cwnd >= HYSTART_LOW_WINDOW) this.hystartUpdate(cc, rttUs, now * 1000);
  }

  private hystartUpdate(cc: CongestionControl, delay: number, nowUs: number): void {
    if (seqGT(cc.sender.sndUna, this.endSeq)) this.hystartReset(cc, nowUs / 1000);
    // The ACK train: ACKs close together that already span half the least RTT.
    if (nowUs - this.lastAck <= HYSTART_ACK_DELTA_US) {
      this.lastAck = nowUs;
      if (nowUs - this.roundStart > this.delayMin / 2) this.leaveSlowStart(cc);
    }
    if (delay < 0) return;
    // The delay: the least of a round's first samples well above the least RTT.
    if (this.currRtt > delay) this.currRtt = delay;
    if (this.sampleCnt < HYSTART_MIN_SAMPLES) {
      this.sampleCnt++;
    } else {
      const thresh = Math.min(Math.max(this.delayMin >> 3, HYSTART_DELAY_MIN_US), HYSTART_DELAY_MAX_US);
      if (this.currRtt > this.delayMin + thresh) this.leaveSlowStart(cc);
    }
  }

  private leaveSlowStart(cc: CongestionControl): void {
    this.found = true;
    cc.ssthresh = cc.cwnd;
  }
}
