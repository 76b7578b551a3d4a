// --publish HOSTPORT:SANDBOXPORT[/udp] (slirp's hostfwd): the sentry listens on the host's
// 127.0.0.1:HOSTPORT; each host connection becomes a connection from the gateway (10.0.2.2,
// an ephemeral port) to the sandbox's 10.0.2.15:SANDBOXPORT, spliced as the NAT's outbound
// flows are (a refused connect resets the host connection). For UDP each host peer gets a
// gateway UDP endpoint of its own; what the sandbox answers to it goes back to that peer.

import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { UdpEndpoint, TcpEndpoint, type Stack } from '../../tcpip/stack';
import type { Binding } from '../../tcpip/ports';
import { GATEWAY_ADDR, GUEST_ADDR } from './policy';
import { TcpSplice } from './tcp_splice';

export interface PublishSpec { hostPort: number; sandboxPort: number; udp: boolean }

/** Parse HOSTPORT:SANDBOXPORT[/udp|/tcp]; null when malformed. */
export function parsePublish(s: string): PublishSpec | null {
  const m = /^(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(s);
  if (!m) return null;
  const hostPort = Number(m[1]);
  const sandboxPort = Number(m[2]);
  if (hostPort < 1 || hostPort > 65535 || sandboxPort < 1 || sandboxPort > 65535) return null;
  return { hostPort, sandboxPort, udp: m[3] === 'udp' };
}

const MAX_UDP_PEERS = 256;
const UDP_IDLE_MS = 60_000;

function gatewayBinding(v4: boolean): Binding {
  return { v4, v6: !v4, addr: GATEWAY_ADDR, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
}

export class Publisher {
  private readonly servers: net.Server[] = [];
  private readonly udpSocks: dgram.Socket[] = [];
  private readonly splices = new Set<TcpSplice>();
  private readonly udpPeers = new Map<string, { ep: UdpEndpoint; timer: NodeJS.Timeout }>();
  // A reply the program sent just before it exited is still in dgram's address lookup when
  // the sandbox closes; closing then would drop it (Linux had it on the wire at sendto).
  private pendingSends = 0;
  private closing = false;

  constructor(private readonly gw: Stack) {}

  /** Listen for spec on the host; resolves once listening (rejects on EADDRINUSE etc.). */
  listen(spec: PublishSpec): Promise<void> {
    return spec.udp ? this.listenUdp(spec) : this.listenTcp(spec);
  }

  private listenTcp(spec: PublishSpec): Promise<void> {
    const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => this.inbound(sock, spec));
    this.servers.push(srv);
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(spec.hostPort, '127.0.0.1', () => { srv.off('error', reject); resolve(); });
    });
  }

  private inbound(sock: net.Socket, spec: PublishSpec): void {
    const ep = new TcpEndpoint(this.gw, false);
    const b = gatewayBinding(true);
    const port = this.gw.tcpPorts.reserve(0, b, ep);
    if (port < 0) { sock.resetAndDestroy(); return; }
    ep.binding = b;
    ep.lport = port;
    ep.local = GATEWAY_ADDR.slice();
    ep.remote = GUEST_ADDR.slice();
    ep.rport = spec.sandboxPort;
    ep.nodelay = true;
    this.gw.registerConn(ep);
    ep.connect();
    sock.setNoDelay(true);
    let splice: TcpSplice | null = null;
    splice = new TcpSplice(this.gw, ep, sock, () => { if (splice) this.splices.delete(splice); });
    this.splices.add(splice);
    sock.resume();
    this.gw.flush();
  }

  private listenUdp(spec: PublishSpec): Promise<void> {
    const sock = dgram.createSocket('udp4');
    this.udpSocks.push(sock);
    sock.on('message', (msg, rinfo) => this.udpInbound(sock, spec, msg, rinfo));
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(spec.hostPort, '127.0.0.1', () => { sock.off('error', reject); sock.on('error', () => {}); resolve(); });
    });
  }

  private udpInbound(sock: dgram.Socket, spec: PublishSpec, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${spec.hostPort}|${rinfo.address}|${rinfo.port}`;
    let peer = this.udpPeers.get(key);
    if (!peer) {
      if (this.udpPeers.size >= MAX_UDP_PEERS) return;
      const ep = new UdpEndpoint(this.gw);
      const b = gatewayBinding(true);
      const port = this.gw.udpPorts.reserve(0, b, ep);
      if (port < 0) return;
      ep.binding = b;
      ep.lport = port;
      ep.local = GATEWAY_ADDR.slice();
      ep.owner = {
        notify: () => {
          for (let d = ep.take(false); d; d = ep.take(false)) {
            this.pendingSends++;
            sock.send(d.data, rinfo.port, rinfo.address, () => { this.pendingSends--; if (this.closing) this.closeUdpWhenSent(); });
          }
        },
      };
      peer = { ep, timer: setTimeout(() => {}, 0) };
      this.udpPeers.set(key, peer);
    }
    clearTimeout(peer.timer);
    const p = peer;
    p.timer = setTimeout(() => { this.udpPeers.delete(key); if (p.ep.binding) this.gw.udpPorts.release(p.ep.lport, p.ep.binding); }, UDP_IDLE_MS);
    p.timer.unref();
    p.ep.send(GATEWAY_ADDR, GUEST_ADDR, spec.sandboxPort, new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
    this.gw.flush();
  }

  close(): void {
    for (const s of this.servers) s.close();
    this.closing = true;
    this.closeUdpWhenSent();
    for (const s of this.splices) s.close();
    this.splices.clear();
    for (const p of this.udpPeers.values()) clearTimeout(p.timer);
    this.udpPeers.clear();
  }

  private closeUdpWhenSent(): void {
    if (this.pendingSends > 0) return;
    for (const s of this.udpSocks.splice(0)) { try { s.close(); } catch { /* closed */ } }
  }
}
