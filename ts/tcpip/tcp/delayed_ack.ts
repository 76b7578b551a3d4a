// Delayed ACKs of an interactive connection (Linux's pingpong mode: tcp_event_data_sent,
// __tcp_ack_snd_check, tcp_delack_timer_handler). Once this end answers data it received
// within the ACK timeout, the connection is taken for a request/response exchange: the ACK
// of the next data received waits for the answer, which carries it, or for the timer. So a
// keep-alive request and its response are two segments, not four. The timer firing means the
// answer did not come: the ACK goes out and the connection leaves pingpong mode until it
// answers quickly again. Outside pingpong mode the endpoint ACKs each batch of data at once
// (the quick-ACK mode Linux starts a connection in).

import { TcpTimer } from './timer';

/** TCP_ATO_MIN and TCP_DELACK_MIN (HZ/25): on loopback the RTT bound leaves the ACK timeout
 *  at its minimum. */
export const DELACK_MS = 40;

export class DelayedAck {
  /** inet_csk_in_pingpong_mode (net.ipv4.tcp_pingpong_thresh is 1). */
  pingpong = false;
  /** When data last arrived (icsk_ack.lrcvtime), performance.now() ms. */
  private lastRcv = -Infinity;
  private readonly timer: TcpTimer;

  constructor(fire: () => void) { this.timer = new TcpTimer(fire); }

  /** Data arrived (tcp_event_data_recv). */
  received(now: number): void { this.lastRcv = now; }

  /** This end sent data (tcp_event_data_sent): an answer within the timeout makes the
   *  exchange interactive. */
  sent(now: number): void {
    if (now - this.lastRcv < DELACK_MS) this.pingpong = true;
  }

  /** Hold the ACK of data just received (inet_csk_reset_xmit_timer(ICSK_TIME_DACK)). */
  schedule(now: number): void { this.timer.armIfIdle(DELACK_MS, now); }

  get pending(): boolean { return this.timer.armed; }

  /** The ACK is owed and its time has come (its host timer has not run yet). */
  due(now: number): boolean { return this.timer.due(now); }

  /** An ACK went out (inet_csk_clear_xmit_timer(ICSK_TIME_DACK)). */
  sentAck(): void { if (this.timer.armed) this.timer.cancel(); }

  /** The timer fired with the ACK still owed: the answer did not come in time. */
  missed(): void { this.pingpong = false; }

  /** TCP_QUICKACK: 1 leaves pingpong mode (the owed ACK goes out at once), 0 enters it. */
  setQuick(on: boolean): void { this.pingpong = !on; }

  stop(): void { this.timer.cancel(); }
}
