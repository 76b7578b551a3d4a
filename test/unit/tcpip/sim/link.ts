// A simulated link for the TCP simulation (tcp_sim.test.ts): it takes every packet a Stack
// sends on its loopback, and delivers it later in virtual time (the fake clock's Date.now), or
// never, or twice, from a seeded random source: delay with jitter (so segments overtake each
// other), loss, duplication. It keeps a trace of the last segments for a failure's report.
import { IPPROTO_TCP, TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN, parseTCP } from '../../../../ts/tcpip/header/tcp';
import type { Stack } from '../../../../ts/tcpip/stack';
import type { Rng } from './rng';

export interface LinkProfile {
  /** Least one-way delay, and the most jitter added to it (ms). */
  delayMs: number;
  jitterMs: number;
  /** Chances that a packet is lost, and that it arrives twice. */
  loss: number;
  dup: number;
  /** Chance per packet that the link goes down (everything lost) for up to outageMs. */
  outage: number;
  outageMs: number;
  /** RSTs are never lost: a lost reset leaves an idle peer waiting, on Linux as here. */
  keepRst: boolean;
}

interface InFlight { at: number; order: number; pkt: Uint8Array; offloaded: boolean }

const TRACE_LEN = 80;

export class SimLink {
  private readonly flight: InFlight[] = [];
  private order = 0;
  private downUntil = -Infinity;
  private readonly trace: string[] = [];
  /** Port of the side called 'A' in the trace (the client). */
  aPort = 0;
  sent = 0;
  lost = 0;

  private readonly send: (pkt: Uint8Array, offloaded?: boolean) => void;

  constructor(private readonly stack: Stack, private readonly rng: Rng, readonly profile: LinkProfile) {
    const link = stack.loopback;
    this.send = link.send.bind(link);
    link.send = (pkt: Uint8Array, offloaded = false): void => this.take(pkt, offloaded);
  }

  /** When the next packet arrives (Infinity: none in flight). */
  nextAt(): number {
    let t = Infinity;
    for (const f of this.flight) if (f.at < t) t = f.at;
    return t;
  }

  get inFlight(): number { return this.flight.length; }

  /** Hand the stack every packet due by now, in arrival order, as one batch. */
  deliverDue(now: number): void {
    const due = this.flight.filter((f) => f.at <= now).sort((a, b) => a.at - b.at || a.order - b.order);
    if (due.length === 0) return;
    for (let i = this.flight.length - 1; i >= 0; i--) if (this.flight[i].at <= now) this.flight.splice(i, 1);
    for (const f of due) this.send(f.pkt, f.offloaded);
    this.stack.flush();
  }

  private take(pkt: Uint8Array, offloaded: boolean): void {
    this.sent++;
    // The sender may reuse its buffer (a send chunk's headroom): the wire has its own copy.
    const copy = pkt.slice();
    const rst = this.isRst(copy);
    const p = this.profile;
    const now = Date.now();
    if (this.rng.chance(p.outage)) this.downUntil = now + this.rng.int(1, p.outageMs);
    const lost = !(rst && p.keepRst) && (now < this.downUntil || this.rng.chance(p.loss));
    const copies = lost ? 0 : this.rng.chance(p.dup) ? 2 : 1;
    this.note(copy, offloaded, lost ? 'LOST' : copies === 2 ? 'DUP' : '');
    if (lost) this.lost++;
    for (let i = 0; i < copies; i++) {
      this.flight.push({ at: now + p.delayMs + this.rng.float() * p.jitterMs, order: this.order++, pkt: copy, offloaded });
    }
  }

  private isRst(pkt: Uint8Array): boolean {
    return pkt[0] >> 4 === 4 && pkt[9] === IPPROTO_TCP && (pkt[(pkt[0] & 15) * 4 + 13] & TH_RST) !== 0;
  }

  private note(pkt: Uint8Array, offloaded: boolean, what: string): void {
    if (pkt[0] >> 4 !== 4 || pkt[9] !== IPPROTO_TCP) return;
    const seg = parseTCP(pkt.subarray((pkt[0] & 15) * 4), pkt.subarray(12, 16), pkt.subarray(16, 20), !offloaded);
    if (!seg) return;
    const f = seg.flags;
    const flags = `${f & TH_SYN ? 'S' : ''}${f & TH_FIN ? 'F' : ''}${f & TH_RST ? 'R' : ''}${f & TH_PSH ? 'P' : ''}${f & TH_ACK ? '.' : ''}`;
    const dir = seg.srcPort === this.aPort ? 'A>B' : 'B>A';
    const sack = seg.sack.length > 0 ? ` sack ${seg.sack.join(',')}` : '';
    this.trace.push(`${Date.now()} ${dir} ${flags} seq ${seg.seq} ack ${seg.ack} len ${seg.data.length} win ${seg.window}${sack} ${what}`);
    if (this.trace.length > TRACE_LEN) this.trace.shift();
  }

  lastSegments(): string { return this.trace.join('\n'); }
}
