// The sandbox network's parts driven by packets alone: the NIC and route API the rest of the
// sentry reads, ARP and ICMP echo across eth0, and the NAT's packet entry under attack — a
// fixed-seed fuzzer of forged and mutated frames, and a SYN storm — with host sockets
// replaced by fakes that only record what the NAT asked the host for.
import { EventEmitter } from 'node:events';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { linkLocalOf, newSandboxNetwork } from '../../../ts/net/nat/network';
import { pseudoSum } from '../../../ts/tcpip/checksum';
import { buildSolicit } from '../../../ts/tcpip/link/ndp';
import { Nat, MAX_PENDING_CONNECTS, type HostSockets } from '../../../ts/net/nat/nat';
import { GATEWAY_ADDR, GATEWAY_MAC, GUEST_ADDR, GUEST_MAC } from '../../../ts/net/nat/policy';
import { parsePublish, Publisher } from '../../../ts/net/nat/publish';
import { firstNameserver } from '../../../ts/net/nat/resolv';
import { addrKey, type IPAddr } from '../../../ts/tcpip/addr';
import { writeIPv4Header, IPV4_HEADER } from '../../../ts/tcpip/header/ipv4';
import { writeTCP, tcpHeaderLen, TH_SYN, TH_ACK, TH_RST, IPPROTO_TCP } from '../../../ts/tcpip/header/tcp';
import { writeUDP, IPPROTO_UDP } from '../../../ts/tcpip/header/udp';
import { IFF_LOOPBACK, IFF_UP } from '../../../ts/tcpip/nic';
import { UdpEndpoint } from '../../../ts/tcpip/udp/endpoint';
import { POLLIN } from '../../../ts/abi/linux/poll';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0);
}

const ticks = async (n = 5): Promise<void> => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };

/** Host sockets that never connect: the NAT's requests are only recorded. */
function fakeHost(): HostSockets & { asked: string[]; sockets: net.Socket[] } {
  const asked: string[] = [];
  const sockets: net.Socket[] = [];
  return {
    asked, sockets,
    connect: (t) => { asked.push(`tcp ${t.host}:${t.port}`); const s = new net.Socket(); sockets.push(s); return s; },
    udp: () => {
      const e = new EventEmitter() as EventEmitter & Record<string, unknown>;
      e.connect = (port: number, host: string) => { asked.push(`udp ${host}:${port}`); };
      e.send = () => {};
      e.close = () => {};
      e.unref = () => e;
      return e as unknown as dgram.Socket;
    },
  };
}

function frame(payload: Uint8Array, type = 0x0800, dstMac = GATEWAY_MAC, srcMac = GUEST_MAC): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dstMac, 0);
  f.set(srcMac, 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, 14);
  return f;
}

function syn(src: IPAddr, sport: number, dst: IPAddr, dport: number, flags = TH_SYN): Uint8Array {
  const o = { srcPort: sport, dstPort: dport, seq: 1000, ack: 0, flags, window: 65535, mss: 1460, wscale: 7 };
  const p = new Uint8Array(IPV4_HEADER + tcpHeaderLen(o));
  writeTCP(p.subarray(IPV4_HEADER), o, src, dst);
  writeIPv4Header(p, src, dst, IPPROTO_TCP, 64, 0, 1);
  return p;
}

function udp(src: IPAddr, sport: number, dst: IPAddr, dport: number, n: number): Uint8Array {
  const p = new Uint8Array(IPV4_HEADER + 8 + n);
  writeUDP(p.subarray(IPV4_HEADER), src, dst, sport, dport);
  writeIPv4Header(p, src, dst, IPPROTO_UDP, 64, 0, 2);
  return p;
}

const ip = (s: string): IPAddr => new Uint8Array(s.split('.').map(Number));

/** What the NAT may ever ask the host for: the host's loopback for the gateway, the
 *  resolver for 10.0.2.3:53, or an ordinary unicast address as itself. */
function allowed(entry: string, resolver: string): boolean {
  const m = /^(tcp|udp) ([\d.]+):(\d+)$/.exec(entry);
  if (!m) return false;
  const [a, b] = m[2].split('.').map(Number);
  if (m[2] === '127.0.0.1' || `${m[2]}:${m[3]}` === resolver) return true;
  return a !== 0 && a !== 127 && a < 224 && !(a === 10 && b === 0) && m[3] !== '0';
}

describe('sandbox network: NICs and routes', () => {
  it('lo and eth0 with their addresses; routes to lo, on-link and via the gateway', () => {
    const { stack } = newSandboxNetwork({ dns: null });
    const nics = stack.nics();
    expect(nics.map((n) => [n.index, n.name])).toEqual([[1, 'lo'], [2, 'eth0']]);
    expect(nics[0].flags & IFF_LOOPBACK).toBeTruthy();
    expect(nics[1].flags & IFF_UP).toBeTruthy();
    expect([...nics[1].hwAddr]).toEqual([...GUEST_MAC]);
    expect(nics[1].addrs.map((a) => `${addrKey(a.addr)}/${a.prefixLen}`)).toEqual(['10.0.2.15/24', 'fe80:0:0:0:5054:ff:fe12:3456/64', 'fd00:0:0:0:0:0:0:15/64']);
    const routes = stack.routes().map((r) => `${addrKey(r.dst)}/${r.prefixLen} via ${r.gateway ? addrKey(r.gateway) : '-'} dev ${r.ifindex}`);
    expect(routes).toEqual(['10.0.2.0/24 via - dev 2', 'fe80:0:0:0:0:0:0:0/64 via - dev 2', 'fd00:0:0:0:0:0:0:0/64 via - dev 2',
      '0.0.0.0/0 via 10.0.2.2 dev 2', '0:0:0:0:0:0:0:0/0 via fd00:0:0:0:0:0:0:2 dev 2']);
    const out = stack.routeOutput(ip('192.0.2.9'));
    expect(out && [out.nic.name, addrKey(out.src), addrKey(out.nextHop)]).toEqual(['eth0', '10.0.2.15', '10.0.2.2']);
    const local = stack.routeOutput(ip('10.0.2.3'));
    expect(local && [local.nic.name, addrKey(local.nextHop)]).toEqual(['eth0', '10.0.2.3']);
    expect(stack.routeOutput(ip('127.0.0.9'))?.nic.name).toBe('lo');
    expect(stack.routeOutput(ip('10.0.2.15'))?.nic.name).toBe('lo');
    expect(stack.isLocalAddress(GUEST_ADDR)).toBe(true);
    expect(stack.isLocalAddress(GATEWAY_ADDR)).toBe(false);
    // IPv6 beyond the link: via fd00::2, from fd00::15 (not the link-local address).
    const v6out = stack.routeOutput(new Uint8Array([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
    expect(v6out && [v6out.nic.name, addrKey(v6out.src), addrKey(v6out.nextHop)]).toEqual(['eth0', 'fd00:0:0:0:0:0:0:15', 'fd00:0:0:0:0:0:0:2']);
    const llOut = stack.routeOutput(linkLocalOf(GATEWAY_MAC));
    expect(llOut && addrKey(llOut.src)).toBe(addrKey(linkLocalOf(GUEST_MAC)));
  });

  it('ARP resolves the gateway and a ping to it is answered', async () => {
    const { stack } = newSandboxNetwork({ dns: null });
    const echo = new Uint8Array(IPV4_HEADER + 16);
    const m = echo.subarray(IPV4_HEADER);
    m[0] = 8; m[4] = 0x12; m[5] = 0x34; m[7] = 1;
    let sum = 0;
    for (let i = 0; i < m.length; i += 2) sum += (m[i] << 8) | m[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    m[2] = (~sum >> 8) & 0xff; m[3] = ~sum & 0xff;
    stack.sendIP(echo, GUEST_ADDR, GATEWAY_ADDR, 1, 64, 0);
    await ticks(10);
    expect(stack.stats.icmpIn).toBe(1);
    const eth0 = stack.nicByName('eth0');
    expect(eth0?.stats.rxPackets).toBe(2); // the ARP reply and the echo reply
    expect(stack.neighbours().map((n) => [addrKey(n.ip), [...n.mac], n.ifindex])).toEqual([['10.0.2.2', [...GATEWAY_MAC], 2]]);
  });

  it('neighbour discovery resolves the gateway\'s link-local address and a ping6 to it is answered', async () => {
    const { stack, gateway } = newSandboxNetwork({ dns: null });
    const gwLL = linkLocalOf(GATEWAY_MAC);
    const src = linkLocalOf(GUEST_MAC);
    const pkt = new Uint8Array(40 + 16);
    const m = pkt.subarray(40);
    m[0] = 128; m[4] = 0x12; m[5] = 0x34; m[7] = 1;
    let sum = pseudoSum(src, gwLL, 58, m.length);
    for (let i = 0; i < m.length; i += 2) sum += (m[i] << 8) | m[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    m[2] = (~sum >> 8) & 0xff; m[3] = ~sum & 0xff;
    stack.sendIP(pkt, src, gwLL, 58, 64, 0);
    await ticks(10);
    expect(stack.stats.icmpIn).toBe(1);
    expect(stack.neighbours().map((n) => addrKey(n.ip))).toEqual([addrKey(gwLL)]);
    expect(gateway.neighbours().map((n) => addrKey(n.ip))).toEqual([addrKey(src)]);
  });

  it('flag parsers: --publish and a resolv.conf', () => {
    expect(parsePublish('8080:80')).toEqual({ hostPort: 8080, sandboxPort: 80, udp: false, v6: false });
    expect(parsePublish('53:5353/udp')).toEqual({ hostPort: 53, sandboxPort: 5353, udp: true, v6: false });
    expect(parsePublish('127.0.0.1:8080:80')).toEqual({ hostPort: 8080, sandboxPort: 80, udp: false, v6: false });
    expect(parsePublish('[::1]:53:5353/udp')).toEqual({ hostPort: 53, sandboxPort: 5353, udp: true, v6: true });
    for (const bad of ['', '80', '0:80', '80:0', '65536:1', '1:2/sctp', ' 1:2', '1:2:3', '-1:2', '[::1]:0:80', '[::2]:1:2', '::1:1:2', '0.0.0.0:1:2']) expect(parsePublish(bad)).toBeNull();
    expect(firstNameserver('# x\nsearch a\nnameserver 127.0.0.53\nnameserver 1.1.1.1\n')).toEqual({ host: '127.0.0.53', port: 53, family: 4 });
    expect(firstNameserver('nameserver fe80::1%eth0\n')).toEqual({ host: 'fe80::1', port: 53, family: 6 });
    expect(firstNameserver('nameserver bogus\n')).toBeNull();
  });

  it('--publish /udp: answers sent just before the sandbox closes still reach the host client', async () => {
    const { stack, gateway, nat } = newSandboxNetwork({ dns: { host: '127.0.0.1', port: 5353, family: 4 } });
    const pub = new Publisher(gateway);
    const probe = dgram.createSocket('udp4');
    const hostPort = await new Promise<number>((r) => probe.bind(0, '127.0.0.1', () => r(probe.address().port)));
    await new Promise((r) => probe.close(r));
    await pub.listen({ hostPort, sandboxPort: 9000, udp: true });
    // The program: three answers to the first datagram, then exit_group; the sentry closes
    // the network within microtasks of the last sendto.
    const ep = new UdpEndpoint(stack);
    const b = { v4: true, v6: false, addr: null, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
    ep.lport = stack.udpPorts.reserve(9000, b, ep);
    ep.binding = b;
    ep.owner = {
      notify: (mask) => {
        if (!(mask & POLLIN)) return;
        const d = ep.take(false);
        if (!d) return;
        for (const w of ['A', 'B', 'C']) ep.send(GUEST_ADDR, d.from, d.port, new TextEncoder().encode(w));
        stack.flush();
        void (async () => { for (let i = 0; i < 20; i++) await null; pub.close(); nat.close(); })();
      },
    };
    const c = dgram.createSocket('udp4');
    const got: string[] = [];
    c.on('message', (m) => got.push(m.toString()));
    c.send('x', hostPort, '127.0.0.1');
    for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    c.close();
    expect(got).toEqual(['A', 'B', 'C']);
  });
});

describe('NAT under attack', () => {
  const resolver = '127.0.0.1:5353';
  const setup = () => {
    const n = newSandboxNetwork({ dns: { host: '127.0.0.1', port: 5353, family: 4 } });
    const host = fakeHost();
    const nat = new Nat(n.gateway, { dns: { host: '127.0.0.1', port: 5353, family: 4 } }, host);
    n.gateway.forwarder = nat;
    const gw0 = n.gateway.nicByName('gw0');
    const link = (n.gateway as unknown as { links: { info: unknown; receive(f: Uint8Array): void }[] }).links.find((l) => l.info === gw0);
    if (!link) throw new Error('no gw0 link');
    return { ...n, nat, host, inject: (f: Uint8Array) => link.receive(f) };
  };

  it('forged SYNs and datagrams open only flows to the destinations they name, never to special addresses', async () => {
    const { nat, host, inject } = setup();
    const dsts: [string, number][] = [['10.0.2.2', 8080], ['10.0.2.3', 53], ['10.0.2.3', 80], ['224.0.0.1', 80], ['127.0.0.1', 22],
      ['10.0.2.99', 80], ['0.0.0.0', 80], ['255.255.255.255', 67], ['10.0.2.2', 0], ['192.0.2.10', 0]];
    for (const [d, p] of dsts) {
      inject(frame(syn(GUEST_ADDR, 40000, ip(d), p)));
      inject(frame(syn(GUEST_ADDR, 40001, ip(d), p, TH_SYN | TH_ACK)));
      inject(frame(syn(GUEST_ADDR, 40002, ip(d), p, TH_RST)));
    }
    await ticks();
    expect(host.asked.sort()).toEqual(['tcp 127.0.0.1:5353', 'tcp 127.0.0.1:8080']);
    expect(nat.stats.dropped).toBeGreaterThan(0);
    for (const s of host.sockets) s.destroy();
    nat.close();
  });

  it('a UDP flow whose host connect fails (no route) goes quietly, datagrams and all; the next datagram tries again', async () => {
    const n = newSandboxNetwork({ dns: { host: '127.0.0.1', port: 5353, family: 4 } });
    const asked: string[] = [];
    let closed = 0;
    const host: HostSockets = {
      connect: () => { throw new Error('no TCP here'); },
      udp: () => {
        const e = new EventEmitter() as EventEmitter & Record<string, unknown>;
        let connected = false;
        // As node's dgram: a failed connect reaches the callback, and a send on an
        // unconnected socket without a port throws.
        e.connect = (port: number, h: string, cb: (err?: Error) => void) => {
          asked.push(`udp ${h}:${port}`);
          process.nextTick(() => cb(Object.assign(new Error('connect ENETUNREACH'), { code: 'ENETUNREACH' })));
        };
        e.send = () => { if (!connected) throw Object.assign(new Error('Bad port'), { code: 'ERR_SOCKET_BAD_PORT' }); };
        e.close = () => { closed++; connected = false; };
        e.unref = () => e;
        return e as unknown as dgram.Socket;
      },
    };
    const nat = new Nat(n.gateway, { dns: { host: '127.0.0.1', port: 5353, family: 4 } }, host);
    n.gateway.forwarder = nat;
    const gw0 = n.gateway.nicByName('gw0');
    const link = (n.gateway as unknown as { links: { info: unknown; receive(f: Uint8Array): void }[] }).links.find((l) => l.info === gw0);
    if (!link) throw new Error('no gw0 link');
    const dns = ip('10.0.2.3');
    link.receive(frame(udp(GUEST_ADDR, 41000, dns, 53, 20)));
    link.receive(frame(udp(GUEST_ADDR, 41000, dns, 53, 20))); // queued behind the connect
    await ticks();
    expect(asked).toEqual(['udp 127.0.0.1:5353']);
    expect(closed).toBe(1);
    link.receive(frame(udp(GUEST_ADDR, 41000, dns, 53, 20)));
    await ticks();
    expect(asked).toEqual(['udp 127.0.0.1:5353', 'udp 127.0.0.1:5353']);
    expect(closed).toBe(2);
    nat.close();
  });

  it('random and mutated frames never throw, and whatever opens is allowed (seed 0x5eed)', async () => {
    const { nat, host, inject, stack } = setup();
    const next = rng(0x5eed);
    const valid: Uint8Array[] = [];
    for (const d of ['10.0.2.2', '10.0.2.3', '224.0.0.5', '10.0.2.77', '127.0.0.1']) {
      valid.push(frame(syn(GUEST_ADDR, 41000, ip(d), 53)));
      valid.push(frame(udp(GUEST_ADDR, 41001, ip(d), 53, 30)));
    }
    const arp = new Uint8Array(28);
    arp.set([0, 1, 8, 0, 6, 4, 0, 1], 0); arp.set(GUEST_MAC, 8); arp.set(GUEST_ADDR, 14); arp.set(GATEWAY_ADDR, 24);
    valid.push(frame(arp, 0x0806, new Uint8Array([255, 255, 255, 255, 255, 255])));
    valid.push(frame(buildSolicit(linkLocalOf(GUEST_MAC), linkLocalOf(GATEWAY_MAC), GUEST_MAC), 0x86dd));
    expect(() => {
      for (let i = 0; i < 20000; i++) {
        let f: Uint8Array;
        if (i % 3 === 0) {
          f = new Uint8Array(next() % 120);
          for (let j = 0; j < f.length; j++) f[j] = next() & 0xff;
          if (f.length >= 14 && next() % 2) { f.set(GATEWAY_MAC, 0); f[12] = 8; f[13] = next() % 2 ? 0 : 6; }
        } else {
          f = valid[next() % valid.length].slice();
          const flips = 1 + (next() % 4);
          for (let k = 0; k < flips; k++) f[next() % f.length] = next() & 0xff;
          if (next() % 4 === 0) f = f.subarray(0, next() % f.length);
        }
        inject(f);
        // The sandbox's own eth0 gets the same garbage.
        stack.deliver(f.subarray(14), stack.nics()[1]);
      }
    }).not.toThrow();
    await ticks(20);
    for (const a of host.asked) expect(allowed(a, resolver), a).toBe(true);
    expect(host.asked.filter((a) => a.startsWith('tcp')).length).toBeLessThanOrEqual(MAX_PENDING_CONNECTS);
    for (const s of host.sockets) s.destroy();
    nat.close();
  });

  it('a SYN storm holds at most MAX_PENDING_CONNECTS host connects; the rest are reset', async () => {
    const { nat, host, inject, stack } = setup();
    // The sandbox asks for the gateway's MAC first, as it does before its first packet out.
    const arp = new Uint8Array(28);
    arp.set([0, 1, 8, 0, 6, 4, 0, 1], 0); arp.set(GUEST_MAC, 8); arp.set(GUEST_ADDR, 14); arp.set(GATEWAY_ADDR, 24);
    inject(frame(arp, 0x0806, new Uint8Array([255, 255, 255, 255, 255, 255])));
    for (let i = 0; i < 1000; i++) inject(frame(syn(GUEST_ADDR, 20000 + i, GATEWAY_ADDR, 9)));
    await ticks(20);
    expect(host.asked.length).toBe(MAX_PENDING_CONNECTS);
    expect(nat.stats.dropped).toBe(1000 - MAX_PENDING_CONNECTS);
    // The resets went back to the sandbox (10.0.2.15 has no listener: they are just counted).
    expect(stack.stats.tcpIn).toBe(1000 - MAX_PENDING_CONNECTS);
    for (const s of host.sockets) s.destroy();
    nat.close();
  });
});
