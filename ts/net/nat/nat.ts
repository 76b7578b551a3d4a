// The user-mode NAT (slirp's idea, our code; gVisor's tcp.Forwarder shape): the far end of
// the sandbox's eth0 is a second Stack, the gateway, promiscuous, whose forwarder is this
// class. A SYN to any destination the policy allows starts a host connect; when it succeeds
// the SYN is answered by a fresh endpoint (a one-shot listener for that 4-tuple) and the
// connection is spliced to the host socket (tcp_splice.ts); when it fails the SYN gets a RST
// (ECONNREFUSED in the sandbox). A UDP datagram goes out through a host dgram socket per flow,
// replies come back from the destination's address, and an idle flow is closed. Bounds on
// flows and connects in progress keep a hostile sandbox from exhausting the host.

import type * as dgram from 'node:dgram';
import type * as net from 'node:net';
import { hostDgram, hostNet } from './host_modules';
import { addrKey, type IPAddr } from '../../tcpip/addr';
import { IPPROTO_UDP, UDP_HEADER, writeUDP } from '../../tcpip/header/udp';
import { IPV4_HEADER, writeIPv4Header } from '../../tcpip/header/ipv4';
import { IPV6_HEADER, writeIPv6Header } from '../../tcpip/header/ipv6';
import { TH_ACK, TH_RST, TH_SYN, type TCPSegment } from '../../tcpip/header/tcp';
import { TcpEndpoint, type Forwarder, type Stack } from '../../tcpip/stack';
import { TCPS } from '../../tcpip/tcp/states';
import { natTarget, type HostTarget, type NatPolicy } from './policy';
import { TcpSplice } from './tcp_splice';
import { HostReader } from './host_reader';

export const MAX_TCP_FLOWS = 1024;
export const MAX_PENDING_CONNECTS = 128;
export const MAX_UDP_FLOWS = 256;
export const UDP_IDLE_MS = 60_000;
/** DNS answers come at once or not at all: its flows go sooner. */
const DNS_IDLE_MS = 10_000;

interface UdpFlow {
  sock: dgram.Socket;
  timer: NodeJS.Timeout;
  idleMs: number;
  /** Datagrams sent before the host socket's connect finished. */
  queued: Uint8Array[] | null;
}

/** What the host side did, for tests and the attack checks. */
export interface NatStats { tcpConnects: number; tcpRefused: number; udpFlows: number; dropped: number }

/** How the NAT makes host sockets (tests substitute both). */
export interface HostSockets {
  /** onread: read the socket straight into buffers of ours (host_reader.ts), if it can. */
  connect(t: HostTarget, onread?: HostReader['onread']): net.Socket;
  udp(family: 4 | 6): dgram.Socket;
}

export const realHostSockets: HostSockets = {
  connect: (t, onread) => {
    // A write queue of 1 MiB (Node takes the stream option; its types do not say so): the
    // splice hands the host socket views of whole segments.
    const opts: net.NetConnectOpts & { writableHighWaterMark: number } = {
      host: t.host, port: t.port, allowHalfOpen: true, writableHighWaterMark: 1 << 20, onread,
    };
    return hostNet().connect(opts);
  },
  udp: (family) => hostDgram().createSocket(family === 4 ? 'udp4' : 'udp6'),
};

export class Nat implements Forwarder {
  private readonly pending = new Map<string, net.Socket>();
  private readonly splices = new Set<TcpSplice>();
  private readonly udpFlows = new Map<string, UdpFlow>();
  private closed = false;
  readonly stats: NatStats = { tcpConnects: 0, tcpRefused: 0, udpFlows: 0, dropped: 0 };
  /** Every host destination asked for, in order (tests check nothing else was opened). */
  readonly opened: string[] = [];

  constructor(private readonly gw: Stack, private readonly policy: NatPolicy, private readonly host: HostSockets = realHostSockets) {}

  // --- TCP ---

  tcp(seg: TCPSegment, src: IPAddr, dst: IPAddr): boolean {
    if (this.closed || (seg.flags & (TH_SYN | TH_ACK | TH_RST)) !== TH_SYN) return false;
    const key = `${addrKey(src)}|${seg.srcPort}|${addrKey(dst)}|${seg.dstPort}`;
    // A retransmitted SYN while the host connect is under way.
    if (this.pending.has(key)) return true;
    const target = natTarget(this.policy, dst, seg.dstPort);
    if (!target || this.pending.size >= MAX_PENDING_CONNECTS || this.splices.size + this.pending.size >= MAX_TCP_FLOWS) {
      this.stats.dropped++;
      return false;
    }
    this.stats.tcpConnects++;
    this.opened.push(`tcp ${target.host}:${target.port}`);
    const syn: TCPSegment = { ...seg, data: seg.data.slice() };
    const reader = new HostReader();
    const sock = this.host.connect(target, reader.onread);
    this.pending.set(key, sock);
    const fail = (): void => {
      if (!this.pending.delete(key)) return;
      this.stats.tcpRefused++;
      sock.destroy();
      if (this.closed) return;
      this.gw.sendReset(syn, dst, src);
      this.gw.flush();
    };
    sock.once('error', fail);
    sock.once('connect', () => {
      sock.off('error', fail);
      if (!this.pending.delete(key) || this.closed) { sock.destroy(); return; }
      sock.setNoDelay(true);
      this.answerSyn(syn, src, dst, sock, reader);
    });
    return true;
  }

  /** Answer the SYN with a new endpoint and splice it to sock. */
  private answerSyn(syn: TCPSegment, src: IPAddr, dst: IPAddr, sock: net.Socket, reader: HostReader): void {
    const l = new TcpEndpoint(this.gw, dst.length === 16);
    l.local = dst.slice();
    l.lport = syn.dstPort;
    l.nodelay = true;
    l.listen(1);
    l.input(syn, src, dst);
    const child = l.synQueue.values().next().value as TcpEndpoint | undefined;
    if (!child) { sock.destroy(); return; }
    let splice: TcpSplice | null = null;
    // The listener stays until the handshake ends (the child joins its accept queue).
    l.owner = { notify: () => { if (l.acceptQueue.length > 0 || l.synQueue.size === 0) { l.acceptQueue.length = 0; l.state = TCPS.CLOSE; } } };
    splice = new TcpSplice(this.gw, child, sock, () => { if (splice) this.splices.delete(splice); }, reader);
    this.splices.add(splice);
    this.gw.flush();
  }

  // --- UDP ---

  udp(data: Uint8Array, src: IPAddr, sport: number, dst: IPAddr, dport: number): boolean {
    if (this.closed) return false;
    const key = `${addrKey(src)}|${sport}|${addrKey(dst)}|${dport}`;
    let flow = this.udpFlows.get(key);
    if (!flow) {
      const target = natTarget(this.policy, dst, dport);
      if (!target) return false;
      if (this.udpFlows.size >= MAX_UDP_FLOWS) { this.stats.dropped++; return true; }
      flow = this.newUdpFlow(key, target, src.slice(), sport, dst.slice(), dport);
    }
    clearTimeout(flow.timer);
    flow.timer = this.idleTimer(key, flow.idleMs);
    if (flow.queued === null) flow.sock.send(data);
    else if (flow.queued.length < 16) flow.queued.push(data.slice());
    return true;
  }

  private newUdpFlow(key: string, t: HostTarget, src: IPAddr, sport: number, dst: IPAddr, dport: number): UdpFlow {
    this.stats.udpFlows++;
    this.opened.push(`udp ${t.host}:${t.port}`);
    const sock = this.host.udp(t.family);
    const flow: UdpFlow = { sock, timer: this.idleTimer(key, 0), idleMs: dport === 53 ? DNS_IDLE_MS : UDP_IDLE_MS, queued: [] };
    // connect: only the destination's datagrams come back.
    // A failed connect comes to this callback, not to 'error' (no route off the host, say):
    // the flow goes, with what it held, as the 'error' handler below ends one.
    sock.connect(t.port, t.host, (err?: Error) => {
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED' && this.udpFlows.get(key) === flow) this.refusedUdp(src, sport, dst, dport);
        this.closeUdp(key);
        return;
      }
      const q = flow.queued ?? [];
      flow.queued = null;
      for (const d of q) sock.send(d);
    });
    sock.on('message', (msg: Buffer) => {
      const f = this.udpFlows.get(key);
      if (f !== flow) return;
      clearTimeout(f.timer);
      f.timer = this.idleTimer(key, f.idleMs);
      this.sendUdp(dst, dport, src, sport, new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      // The host said nobody listens there: the sandbox hears it as ICMP port unreachable.
      if (e.code === 'ECONNREFUSED' && this.udpFlows.get(key) === flow) this.refusedUdp(src, sport, dst, dport);
      this.closeUdp(key);
    });
    sock.unref();
    this.udpFlows.set(key, flow);
    return flow;
  }

  /** ICMP port unreachable to (src, sport) for its datagrams to (dst, dport), quoting a
   *  header of one as Linux's icmp_send does. */
  private refusedUdp(src: IPAddr, sport: number, dst: IPAddr, dport: number): void {
    const v6 = src.length === 16;
    const ipLen = v6 ? IPV6_HEADER : IPV4_HEADER;
    const q = new Uint8Array(ipLen + UDP_HEADER);
    writeUDP(q.subarray(ipLen), src, dst, sport, dport);
    if (v6) writeIPv6Header(q, src, dst, IPPROTO_UDP, 64, 0);
    else writeIPv4Header(q, src, dst, IPPROTO_UDP, 64, 0, 0);
    this.gw.sendPortUnreachable(q, src, dst);
    this.gw.flush();
  }

  private idleTimer(key: string, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => this.closeUdp(key), ms || UDP_IDLE_MS);
    t.unref();
    return t;
  }

  private closeUdp(key: string): void {
    const f = this.udpFlows.get(key);
    if (!f) return;
    this.udpFlows.delete(key);
    clearTimeout(f.timer);
    try { f.sock.close(); } catch { /* already closed */ }
  }

  /** A datagram from (src, sport) — a host address seen from the sandbox — to (dst, dport). */
  sendUdp(src: IPAddr, sport: number, dst: IPAddr, dport: number, data: Uint8Array): void {
    const v6 = dst.length === 16;
    const ipLen = this.gw.ipHeaderLen(v6);
    if (data.length > this.gw.maxDatagram(v6)) return;
    const pkt = new Uint8Array(ipLen + UDP_HEADER + data.length);
    pkt.set(data, ipLen + UDP_HEADER);
    writeUDP(pkt.subarray(ipLen), src, dst, sport, dport);
    this.gw.sendIP(pkt, src, dst, IPPROTO_UDP, 64, 0);
    this.gw.flush();
  }

  get tcpFlows(): number { return this.splices.size; }
  get udpFlowCount(): number { return this.udpFlows.size; }

  /** The sandbox ends: every host socket goes. */
  close(): void {
    this.closed = true;
    for (const s of this.pending.values()) s.destroy();
    this.pending.clear();
    for (const s of this.splices) s.close();
    this.splices.clear();
    for (const k of [...this.udpFlows.keys()]) this.closeUdp(k);
  }
}
