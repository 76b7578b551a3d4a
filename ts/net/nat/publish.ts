// --publish [HOSTADDR:]HOSTPORT:SANDBOXPORT[/udp] (slirp's hostfwd): the sentry listens on the
// host's 127.0.0.1:HOSTPORT (or [::1]:HOSTPORT when HOSTADDR is [::1]); each host connection
// becomes a connection from the gateway (10.0.2.2, or fd00::2 for [::1], an ephemeral port)
// to the sandbox's 10.0.2.15:SANDBOXPORT (fd00::15), spliced as the NAT's outbound flows are
// (a refused connect resets the host connection). For UDP each host peer gets a gateway UDP
// endpoint of its own; what the sandbox answers to it goes back to that peer. Only the host's
// loopback addresses may be given: nothing is exposed beyond the host.

import type * as dgram from 'node:dgram';
import type * as net from 'node:net';
import { hostDgram, hostNet } from './host_modules';
import { UdpEndpoint, TcpEndpoint, type Stack } from '../../tcpip/stack';
import type { Binding } from '../../tcpip/ports';
import type { IPAddr } from '../../tcpip/addr';
import { GATEWAY_ADDR, GATEWAY_ADDR6, GUEST_ADDR, GUEST_ADDR6 } from './policy';
import { TcpSplice } from './tcp_splice';

export interface PublishSpec { hostPort: number; sandboxPort: number; udp: boolean; v6: boolean }

/** Parse [127.0.0.1:|[::1]:]HOSTPORT:SANDBOXPORT[/udp|/tcp]; null when malformed. */
export function parsePublish(s: string): PublishSpec | null {
  const m = /^(?:(127\.0\.0\.1|\[::1\]):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(s);
  if (!m) return null;
  const hostPort = Number(m[2]);
  const sandboxPort = Number(m[3]);
  if (hostPort < 1 || hostPort > 65535 || sandboxPort < 1 || sandboxPort > 65535) return null;
  return { hostPort, sandboxPort, udp: m[4] === 'udp', v6: m[1] === '[::1]' };
}

/** The host address a spec listens on, and the gateway and guest addresses its flows use. */
function sides(spec: PublishSpec): { host: string; gw: IPAddr; guest: IPAddr } {
  return spec.v6 ? { host: '::1', gw: GATEWAY_ADDR6, guest: GUEST_ADDR6 } : { host: '127.0.0.1', gw: GATEWAY_ADDR, guest: GUEST_ADDR };
}

const MAX_UDP_PEERS = 256;
const UDP_IDLE_MS = 60_000;

function gatewayBinding(gw: IPAddr): Binding {
  const v4 = gw.length === 4;
  return { v4, v6: !v4, addr: gw, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
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
    const srv = hostNet().createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => this.inbound(sock, spec));
    this.servers.push(srv);
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ port: spec.hostPort, host: sides(spec).host, ipv6Only: spec.v6 }, () => { srv.off('error', reject); resolve(); });
    });
  }

  private inbound(sock: net.Socket, spec: PublishSpec): void {
    const { gw, guest } = sides(spec);
    const ep = new TcpEndpoint(this.gw, spec.v6);
    const b = gatewayBinding(gw);
    const port = this.gw.tcpPorts.reserve(0, b, ep);
    if (port < 0) { sock.resetAndDestroy(); return; }
    ep.binding = b;
    ep.lport = port;
    ep.local = gw.slice();
    ep.remote = guest.slice();
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
    const sock = hostDgram().createSocket({ type: spec.v6 ? 'udp6' : 'udp4', ipv6Only: spec.v6 });
    this.udpSocks.push(sock);
    sock.on('message', (msg, rinfo) => this.udpInbound(sock, spec, msg, rinfo));
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(spec.hostPort, sides(spec).host, () => { sock.off('error', reject); sock.on('error', () => {}); resolve(); });
    });
  }

  private udpInbound(sock: dgram.Socket, spec: PublishSpec, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${spec.v6 ? 6 : 4}|${spec.hostPort}|${rinfo.address}|${rinfo.port}`;
    const { gw, guest } = sides(spec);
    let peer = this.udpPeers.get(key);
    if (!peer) {
      if (this.udpPeers.size >= MAX_UDP_PEERS) return;
      const ep = new UdpEndpoint(this.gw);
      const b = gatewayBinding(gw);
      const port = this.gw.udpPorts.reserve(0, b, ep);
      if (port < 0) return;
      ep.binding = b;
      ep.lport = port;
      ep.local = gw.slice();
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
    p.ep.send(gw, guest, spec.sandboxPort, new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
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
