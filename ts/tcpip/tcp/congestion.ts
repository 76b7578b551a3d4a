// NewReno congestion control (RFC 5681, RFC 6582; Linux tcp_reno_cong_avoid, tcp_reno_ssthresh
// and the fast-recovery part of tcp_fastretrans_alert): the congestion window in segments,
// slow start below ssthresh, one segment per window above it, and on loss either fast
// recovery (three duplicate ACKs: halve, retransmit, inflate per duplicate, leave when the
// ACK covers everything sent before the loss) or a restart from one segment (a timeout).
// The endpoint asks it how much may be in flight and tells it what happened; with SACK the
// endpoint picks what to retransmit, the window arithmetic stays this one.

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
  recover = 0;
  private cwndCnt = 0;

  get inSlowStartInitially(): boolean { return this.ssthresh >= INFINITE_SSTHRESH; }
  get inRecovery(): boolean { return this.state === CA_RECOVERY; }

  /** New data acknowledged (segments' worth), outside recovery: grow the window. */
  onAck(segs: number): void {
    if (segs <= 0) return;
    if (this.state === CA_LOSS || this.state === CA_DISORDER) this.state = CA_OPEN;
    this.dupAcks = 0;
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
