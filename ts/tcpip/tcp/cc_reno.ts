// Reno (Linux tcp_reno_cong_avoid, RFC 5681): slow start, then one segment per window of
// segments acknowledged; a loss halves what was in flight.

import type { CongestionControl, CongestionOps } from './congestion';

export class Reno implements CongestionOps {
  readonly name = 'reno';

  init(): void {}

  ssthresh(_cc: CongestionControl, flight: number): number { return Math.max(flight >> 1, 2); }

  congAvoid(cc: CongestionControl, _ack: number, segs: number): void {
    if (cc.inSlowStart) {
      segs = cc.slowStart(segs);
      if (segs === 0) return;
    }
    cc.congAvoidAi(cc.cwnd, segs);
  }

  onLoss(): void {}
  acked(): void {}
  txStart(): void {}
}
