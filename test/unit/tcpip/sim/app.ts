// One side's application in the TCP simulation (tcp_sim.test.ts), driving a TcpEndpoint the
// way ts/net/inet/tcp_socket.ts does (enqueue then output then flush; read then flush;
// shutdownSend; close): it writes a known byte stream in random sizes, as the send buffer
// allows, toggling TCP_CORK while it writes; reads in random sizes with pauses (a reader that
// stops for a while lets the window close), checking every byte against the peer's stream;
// and ends as its plan says.
import type { Stack, TcpEndpoint } from '../../../../ts/tcpip/stack';
import { TCPS } from '../../../../ts/tcpip/tcp/states';
import type { Rng } from './rng';

/** How a side ends: SHUT_WR as soon as it wrote everything, or only once it read EOF; or
 *  close() right after writing, whatever the peer still sends (a reset if data is unread). */
export type Ending = 'shutdown' | 'shutdown-after-eof' | 'close-early';

export interface AppPlan {
  sendBytes: number;
  ending: Ending;
  /** close() at this virtual time whatever is unread (null: never). */
  abortAt: number | null;
  maxWrite: number;
  maxRead: number;
  /** Chance per step that the reader stops, and the longest stop (ms). */
  pauseChance: number;
  pauseMs: number;
  /** Chance per write that TCP_CORK flips. */
  corkFlip: number;
  /** Chance per step that SO_RCVBUF or SO_SNDBUF changes (to one of bufs). */
  resize: number;
  /** SO_KEEPALIVE with this idle time (ms; 0: off), probes 2 s apart, 9 of them: longer
   *  than the link's outages, so that only a dead peer times out. */
  keepIdleMs: number;
  /** close() after this long without a byte either way (null: never). When the other side
   *  aborted and its reset, or the challenge ACK that asks for it again, was lost, a reader
   *  with nothing outstanding waits for ever, on Linux too: an application's timeout ends it. */
  giveUpMs: number | null;
}

/** Byte i of the stream side `dir` sends. */
export function streamByte(dir: number, i: number): number {
  return ((Math.imul(i, 0x9e3779b1) >>> 24) ^ (i >>> 11) ^ dir) & 0xff;
}

export class SimApp {
  ep: TcpEndpoint | null = null;
  written = 0;
  received = 0;
  eof = false;
  /** The connection died under it (a reset or a timeout): its error. */
  err = 0;
  shut = false;
  closed = false;
  private pausedUntil = 0;
  private lastProgress = 0;
  /** The first byte that differed from the stream, if any. */
  corrupt: string | null = null;

  constructor(readonly name: string, readonly dir: number, readonly plan: AppPlan, private readonly stack: Stack,
    private readonly rng: Rng, private readonly bufs: readonly number[]) {}

  /** Finished: closed its socket after reading EOF, or the connection died, or it aborted. */
  get done(): boolean { return this.closed; }

  step(now: number): void {
    const ep = this.ep;
    // A blocking connect: nothing until the handshake is over.
    if (!ep || this.closed || ep.state === TCPS.SYN_SENT) return;
    if (this.plan.keepIdleMs > 0 && !ep.keepalive.conf.on) {
      ep.keepalive.configure({ on: true, idleMs: this.plan.keepIdleMs, intvlMs: 2000, cnt: 9 });
    }
    if (this.plan.abortAt !== null && now >= this.plan.abortAt) { this.close(); return; }
    this.options(ep);
    const moved = this.received + this.written;
    this.readSome(ep, now);
    if (this.closed) return;
    this.writeSome(ep);
    this.end(ep);
    if (this.received + this.written !== moved) this.lastProgress = now;
    else if (this.plan.giveUpMs !== null && !this.closed && now - this.lastProgress > this.plan.giveUpMs) this.close();
  }

  /** setsockopt(SO_RCVBUF / SO_SNDBUF) on a connected socket now and then, smaller or larger. */
  private options(ep: TcpEndpoint): void {
    if (this.rng.chance(this.plan.resize)) {
      if (this.rng.chance(0.5)) ep.rcvBufSize = this.rng.pick(this.bufs);
      else ep.sndBufSize = this.rng.pick(this.bufs);
    }
  }

  private readSome(ep: TcpEndpoint, now: number): void {
    if (now < this.pausedUntil) return;
    if (this.rng.chance(this.plan.pauseChance)) { this.pausedUntil = now + this.rng.int(1, this.plan.pauseMs); return; }
    // A few reads per wake-up, as a read loop does.
    for (let reads = this.rng.int(1, 16); reads > 0 && ep.rcvQueued > 0; reads--) {
      const d = ep.read(this.rng.logInt(1, this.plan.maxRead), false);
      this.stack.flush();
      for (let i = 0; i < d.length; i++) {
        if (d[i] !== streamByte(this.dir ^ 1, this.received + i) && this.corrupt === null) {
          this.corrupt = `${this.name} byte ${this.received + i}: ${d[i]} != ${streamByte(this.dir ^ 1, this.received + i)}`;
        }
      }
      this.received += d.length;
    }
    if (ep.rcvQueued === 0 && ep.finReceived) this.eof = true;
    if (ep.rcvQueued === 0 && ep.state === TCPS.CLOSE && !(this.eof && this.written === this.plan.sendBytes)) {
      // Reset or timed out: what the socket would report, and the application gives up.
      this.err = ep.err || -1;
      this.close();
    }
  }

  private writeSome(ep: TcpEndpoint): void {
    const left = this.plan.sendBytes - this.written;
    if (left <= 0 || this.shut) return;
    if (ep.state !== TCPS.ESTABLISHED && ep.state !== TCPS.CLOSE_WAIT) return;
    if (this.rng.chance(this.plan.corkFlip)) this.setCork(ep, !ep.cork);
    const n = Math.min(left, ep.sndSpace, this.rng.logInt(1, this.plan.maxWrite));
    if (n <= 0) return;
    const d = new Uint8Array(n);
    for (let i = 0; i < n; i++) d[i] = streamByte(this.dir, this.written + i);
    ep.enqueue(d);
    ep.output();
    this.stack.flush();
    this.written += n;
    // An application uncorks when it has written its message.
    if (this.written === this.plan.sendBytes && ep.cork) this.setCork(ep, false);
  }

  private setCork(ep: TcpEndpoint, on: boolean): void {
    ep.cork = on;
    if (!on) { ep.output(); this.stack.flush(); }
  }

  private end(ep: TcpEndpoint): void {
    if (this.written < this.plan.sendBytes) return;
    const p = this.plan.ending;
    if (p === 'close-early') { this.close(); return; }
    if (!this.shut && (p === 'shutdown' || this.eof)) {
      this.shut = true;
      ep.shutdownSend();
      this.stack.flush();
    }
    if (this.shut && this.eof) this.close();
  }

  private close(): void {
    this.closed = true;
    this.ep?.close();
    this.stack.flush();
  }
}
