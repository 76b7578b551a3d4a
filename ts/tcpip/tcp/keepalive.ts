// TCP keep-alive (RFC 9293 §3.8.4; Linux tcp_keepalive_timer, tcp_write_wakeup): once a
// connection with SO_KEEPALIVE has heard nothing for TCP_KEEPIDLE, probe it every
// TCP_KEEPINTVL with a segment one below snd.una (the peer must answer with an ACK); after
// TCP_KEEPCNT unanswered probes the connection dies with ETIMEDOUT. Anything heard from the
// peer resets the count. With data in flight the retransmission timer watches instead.

import { ETIMEDOUT } from '../../abi/linux/errno';
import { mibOf } from '../mib';
import type { Stack } from '../stack';
import { TCPS, synchronized } from './states';
import { TcpTimer } from './timer';

export interface KeepaliveConf { on: boolean; idleMs: number; intvlMs: number; cnt: number }

/** Linux's defaults: tcp_keepalive_time 7200 s, _intvl 75 s, _probes 9. */
export const KEEPALIVE_DEFAULTS: KeepaliveConf = { on: false, idleMs: 7_200_000, intvlMs: 75_000, cnt: 9 };

/** What keep-alive needs of its endpoint. */
export interface KeepaliveHost {
  readonly stack: Stack;
  readonly state: number;
  readonly sndUna: number;
  /** The highest sequence number sent, plus one (endpoint.ts). */
  readonly sndMax: number;
  readonly sndQueued: number;
  /** sk_err_soft: the errno the connection dies with instead of ETIMEDOUT. */
  readonly softErr: number;
  sendKeepaliveProbe(): void;
  reset(err: number): void;
}

export class Keepalive {
  conf: KeepaliveConf = { ...KEEPALIVE_DEFAULTS };
  /** Probes sent and not answered (tcpi_probes). */
  probesOut = 0;
  private lastHeard = performance.now();
  private readonly timer = new TcpTimer(() => this.fire());

  constructor(private readonly ep: KeepaliveHost) {}

  configure(c: KeepaliveConf): void {
    this.conf = { ...c };
    this.restart();
  }

  /** A segment arrived from the peer. */
  heard(now = performance.now()): void {
    this.lastHeard = now;
    this.probesOut = 0;
  }

  private get alive(): boolean {
    const s = this.ep.state;
    return synchronized(s) && s !== TCPS.TIME_WAIT && s !== TCPS.SYN_RECV;
  }

  /** (Re)start the idle wait: on SO_KEEPALIVE, a changed idle time, or establishment. */
  restart(): void {
    this.timer.cancel();
    if (this.conf.on && this.alive) this.timer.arm(this.conf.idleMs);
  }

  stop(): void { this.timer.cancel(); }

  private fire(): void {
    if (!this.conf.on || !this.alive) return;
    const ep = this.ep;
    if (ep.sndMax !== ep.sndUna || ep.sndQueued > 0) {
      this.timer.arm(this.conf.idleMs);
      return;
    }
    const elapsed = performance.now() - this.lastHeard;
    if (elapsed < this.conf.idleMs) {
      this.timer.arm(this.conf.idleMs - elapsed);
      return;
    }
    if (this.probesOut >= this.conf.cnt) {
      ep.reset(ep.softErr || ETIMEDOUT);
      return;
    }
    ep.sendKeepaliveProbe();
    this.probesOut++;
    mibOf(ep.stack).tcpKeepAliveTimeouts++;
    this.timer.arm(this.conf.intvlMs);
  }
}
