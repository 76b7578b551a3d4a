// ICMP errors driven into the stack as packets (issue 8): what a TCP connection does with
// them in each state (hard while opening, soft once established, IP_RECVERR, the sequence
// number check of RFC 5927, an embryonic connection's ISS check, path MTU), UDP's error
// queue, the host-unreachable a silent on-link neighbour produces once ARP gives up, and a
// fixed-seed fuzzer of forged errors against live connections: only a quote inside the
// window may touch a connection, and nothing throws.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Stack, TcpEndpoint, UdpEndpoint } from '../../../ts/tcpip/stack';
import { TCPS } from '../../../ts/tcpip/tcp/states';
import { EHOSTUNREACH, EMSGSIZE, ECONNREFUSED, EPROTO } from '../../../ts/abi/linux/errno';
import { V4_LOOPBACK, type IPAddr } from '../../../ts/tcpip/addr';
import { finish, sum16, pseudoSum } from '../../../ts/tcpip/checksum';
import { writeIPv4Header, IPV4_HEADER } from '../../../ts/tcpip/header/ipv4';
import { writeIPv6Header, IPV6_HEADER } from '../../../ts/tcpip/header/ipv6';
import { IPPROTO_TCP, TH_SYN, tcpHeaderLen, writeTCP } from '../../../ts/tcpip/header/tcp';
import { IPPROTO_UDP } from '../../../ts/tcpip/header/udp';
import { GUEST_ADDR, GUEST_MAC, SANDBOX_PREFIX } from '../../../ts/net/nat/policy';
import { SO_EE_ORIGIN_ICMP } from '../../../ts/tcpip/icmp/errqueue';
import { client, listener } from './endpoints';
import { IP_PMTUDISC_DO, IP_PMTUDISC_PROBE, pathMtu, pmtuLimit } from '../../../ts/tcpip/pmtu';

const ip = (s: string): IPAddr => new Uint8Array(s.split('.').map(Number));

/** An ICMP (v4) error type/code/rest quoting an IPv4 header src -> dst and transport bytes t,
 *  sent from `from` to `to` as a whole IP packet. */
function icmp4(from: IPAddr, to: IPAddr, type: number, code: number, rest: number, q: { src: IPAddr; dst: IPAddr; proto: number; t: Uint8Array }): Uint8Array {
  const inner = new Uint8Array(IPV4_HEADER + q.t.length);
  inner.set(q.t, IPV4_HEADER);
  writeIPv4Header(inner, q.src, q.dst, q.proto, 64, 0, 7);
  const p = new Uint8Array(IPV4_HEADER + 8 + inner.length);
  const m = p.subarray(IPV4_HEADER);
  m[0] = type; m[1] = code;
  new DataView(m.buffer, m.byteOffset).setUint32(4, rest >>> 0);
  m.set(inner, 8);
  const c = finish(sum16(m, 0, m.length));
  m[2] = c >> 8; m[3] = c & 0xff;
  writeIPv4Header(p, from, to, 1, 64, 0, 9);
  return p;
}

function icmp6(from: IPAddr, to: IPAddr, type: number, code: number, rest: number, q: { src: IPAddr; dst: IPAddr; proto: number; t: Uint8Array }): Uint8Array {
  const inner = new Uint8Array(IPV6_HEADER + q.t.length);
  inner.set(q.t, IPV6_HEADER);
  writeIPv6Header(inner, q.src, q.dst, q.proto, 64, 0);
  const p = new Uint8Array(IPV6_HEADER + 8 + inner.length);
  const m = p.subarray(IPV6_HEADER);
  m[0] = type; m[1] = code;
  new DataView(m.buffer, m.byteOffset).setUint32(4, rest >>> 0);
  m.set(inner, 8);
  const c = finish(sum16(m, 0, m.length, pseudoSum(from, to, 58, m.length)));
  m[2] = c >> 8; m[3] = c & 0xff;
  writeIPv6Header(p, from, to, 58, 64, 0);
  return p;
}

/** The first 8 bytes of a TCP header: ports and sequence number. */
function tcp8(sport: number, dport: number, seq: number): Uint8Array {
  const t = new Uint8Array(8);
  const v = new DataView(t.buffer);
  v.setUint16(0, sport);
  v.setUint16(2, dport);
  v.setUint32(4, seq >>> 0);
  return t;
}

/** A client's view of an ICMP error about its own segment with sequence number seq. */
function aboutClient(c: TcpEndpoint, type: number, code: number, seq: number, rest = 0): Uint8Array {
  return icmp4(c.remote!, c.local!, type, code, rest, { src: c.local!, dst: c.remote!, proto: IPPROTO_TCP, t: tcp8(c.lport, c.rport, seq) });
}

/** A stack with eth0 = 10.0.2.15/24 whose wire goes nowhere: no neighbour ever answers. */
function lonelyStack(): { stack: Stack; eth0: ReturnType<Stack['addEthernet']> } {
  const stack = new Stack();
  const eth0 = stack.addEthernet('eth0', GUEST_MAC);
  stack.routeTable.addAddress(eth0.info, GUEST_ADDR, SANDBOX_PREFIX);
  return { stack, eth0 };
}

function connectOut(stack: Stack, dst: IPAddr, port: number): TcpEndpoint {
  const c = new TcpEndpoint(stack, false);
  const b = { v4: true, v6: false, addr: GUEST_ADDR, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
  c.lport = stack.tcpPorts.reserve(0, b, c);
  c.binding = b;
  c.local = GUEST_ADDR.slice();
  c.remote = dst;
  c.rport = port;
  stack.registerConn(c);
  c.connect();
  stack.flush();
  return c;
}

afterEach(() => { vi.useRealTimers(); });

describe('ICMP errors and TCP', () => {
  it('SYN_SENT: an error quoting our SYN fails the connect; another sequence number does nothing', () => {
    const { stack, eth0 } = lonelyStack();
    const c = connectOut(stack, ip('10.0.2.99'), 80);
    expect(c.state).toBe(TCPS.SYN_SENT);
    stack.deliver(aboutClient(c, 3, 1, c.iss + 5), eth0.info);
    expect(c.state).toBe(TCPS.SYN_SENT);
    // A forged quote of another 4-tuple.
    stack.deliver(icmp4(ip('10.0.2.99'), GUEST_ADDR, 3, 1, 0, { src: GUEST_ADDR, dst: ip('10.0.2.99'), proto: IPPROTO_TCP, t: tcp8(c.lport, 81, c.iss) }), eth0.info);
    expect(c.state).toBe(TCPS.SYN_SENT);
    // Net unreachable (soft on Linux's table) is still hard while connecting.
    stack.deliver(aboutClient(c, 3, 0, c.iss), eth0.info);
    expect(c.state).toBe(TCPS.CLOSE);
    expect(c.err).toBe(101 /* ENETUNREACH */);
  });

  it('established: soft errors for SO_ERROR, hard with IP_RECVERR; out of window ignored; frag needed lowers the MSS', () => {
    const stack = new Stack();
    const l = listener(stack, 7100);
    const c = client(stack, 7100);
    const s = l.acceptQueue.shift()!;
    expect(c.state).toBe(TCPS.ESTABLISHED);
    // Out of the window [snd.una, snd.nxt]: nothing.
    for (const seq of [c.sndUna - 1, c.sndNxt + 1, c.sndUna + 0x80000000]) stack.deliver(aboutClient(c, 3, 3, seq));
    expect([c.err, c.softErr, c.state]).toEqual([0, 0, TCPS.ESTABLISHED]);
    // In it: soft, even for a "fatal" code.
    stack.deliver(aboutClient(c, 3, 3, c.sndUna));
    expect([c.err, c.softErr, c.state]).toEqual([0, ECONNREFUSED, TCPS.ESTABLISHED]);
    c.recverr = true;
    stack.deliver(aboutClient(c, 12, 0, c.sndNxt));
    expect([c.err, c.state]).toEqual([EPROTO, TCPS.ESTABLISHED]);
    // Data still flows.
    c.enqueue(new Uint8Array([1, 2, 3]));
    c.output();
    stack.flush();
    expect(s.rcvQueued).toBe(3);
    // Fragmentation needed: the MSS follows the MTU, floored at 552 (then EMSGSIZE is soft).
    c.softErr = 0;
    stack.deliver(aboutClient(c, 3, 4, c.sndUna, 1000));
    expect(c.sndMss).toBe(1000 - 40);
    stack.deliver(aboutClient(c, 3, 4, c.sndUna, 300));
    expect([c.sndMss, c.softErr]).toEqual([552 - 40, EMSGSIZE]);
    // Source quench and redirect are no errors for TCP.
    c.err = 0;
    c.softErr = 0;
    stack.deliver(aboutClient(c, 4, 0, c.sndUna));
    stack.deliver(aboutClient(c, 5, 1, c.sndUna));
    expect([c.err, c.softErr]).toEqual([0, 0]);
  });

  it('a soft error is the errno of the timeout that follows', () => {
    vi.useFakeTimers();
    const { stack, eth0 } = lonelyStack();
    const c = connectOut(stack, ip('10.0.2.99'), 80);
    // Pretend the handshake finished so the connection is established with data in flight.
    c.state = TCPS.ESTABLISHED;
    c.sndWnd = 65535;
    c.enqueue(new Uint8Array(10));
    c.output();
    stack.deliver(aboutClient(c, 3, 0, c.sndUna), eth0.info);
    expect(c.softErr).toBe(101);
    vi.advanceTimersByTime(2 * 3600_000);
    // Not ETIMEDOUT: the last soft error, which the silent neighbour's ARP failures made
    // EHOSTUNREACH meanwhile (as a connection to a vanished host ends on Linux).
    expect(c.state).toBe(TCPS.CLOSE);
    expect(c.err).toBe(EHOSTUNREACH);
  });

  it('SYN_RECV: only an error quoting our SYN-ACK\'s ISS drops the embryonic connection', () => {
    const { stack, eth0 } = lonelyStack();
    const l = new TcpEndpoint(stack, false);
    const b = { v4: true, v6: false, addr: null, reuseAddr: false, reusePort: false, uid: 0, listening: () => true };
    l.lport = stack.tcpPorts.reserve(8080, b, l);
    l.binding = b;
    l.listen(4);
    const peer = ip('10.0.2.50');
    const o = { srcPort: 5555, dstPort: 8080, seq: 1000, ack: 0, flags: TH_SYN, window: 65535, mss: 1460 };
    const syn = new Uint8Array(IPV4_HEADER + tcpHeaderLen(o));
    writeTCP(syn.subarray(IPV4_HEADER), o, peer, GUEST_ADDR);
    writeIPv4Header(syn, peer, GUEST_ADDR, IPPROTO_TCP, 64, 0, 1);
    stack.deliver(syn, eth0.info);
    const child = [...l.synQueue][0];
    expect(child.state).toBe(TCPS.SYN_RECV);
    const about = (seq: number, type: number, code: number): Uint8Array =>
      icmp4(peer, GUEST_ADDR, type, code, 0, { src: GUEST_ADDR, dst: peer, proto: IPPROTO_TCP, t: tcp8(8080, 5555, seq) });
    stack.deliver(about(child.iss + 1, 3, 1), eth0.info);
    stack.deliver(about(child.iss, 3, 3), eth0.info); // port unreachable: not one that aborts a request
    expect(child.state).toBe(TCPS.SYN_RECV);
    stack.deliver(about(child.iss, 3, 1), eth0.info);
    expect(child.state).toBe(TCPS.CLOSE);
    expect(l.synQueue.size).toBe(0);
  });

  it('IPv6: packet too big lowers the MSS (floor 1280), address unreachable fails a connect', () => {
    const stack = new Stack();
    const V6 = new Uint8Array(16); V6[15] = 1;
    const l = new TcpEndpoint(stack, true);
    const b = { v4: false, v6: true, addr: null, reuseAddr: false, reusePort: false, uid: 0, listening: () => true };
    l.lport = stack.tcpPorts.reserve(7200, b, l);
    l.binding = b;
    l.listen(1);
    const c = new TcpEndpoint(stack, true);
    const cb = { v4: false, v6: true, addr: V6, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
    c.lport = stack.tcpPorts.reserve(0, cb, c);
    c.binding = cb;
    c.local = V6; c.remote = V6; c.rport = 7200;
    stack.registerConn(c);
    c.connect();
    stack.flush();
    expect(c.state).toBe(TCPS.ESTABLISHED);
    const q = (seq: number) => ({ src: V6, dst: V6, proto: IPPROTO_TCP, t: tcp8(c.lport, 7200, seq) });
    stack.deliver(icmp6(V6, V6, 2, 0, 1400, q(c.sndUna)));
    expect(c.sndMss).toBe(1400 - 60);
    stack.deliver(icmp6(V6, V6, 2, 0, 600, q(c.sndUna)));
    expect(c.sndMss).toBe(1280 - 60);
    stack.deliver(icmp6(V6, V6, 1, 3, 0, q(c.sndUna)));
    expect(c.softErr).toBe(EHOSTUNREACH);
  });
});

describe('ARP failure', () => {
  it('a connect to a silent neighbour fails with EHOSTUNREACH once ARP gives up (3 tries, 1 s apart)', async () => {
    vi.useFakeTimers();
    const { stack } = lonelyStack();
    const c = connectOut(stack, ip('10.0.2.77'), 80);
    expect(c.state).toBe(TCPS.SYN_SENT);
    await vi.advanceTimersByTimeAsync(2500);
    expect(c.state).toBe(TCPS.SYN_SENT);
    await vi.advanceTimersByTimeAsync(1000);
    expect(c.state).toBe(TCPS.CLOSE);
    expect(c.err).toBe(EHOSTUNREACH);
  });

  it('UDP with IP_RECVERR hears of it with ourselves as the offender', async () => {
    vi.useFakeTimers();
    const { stack } = lonelyStack();
    const u = new UdpEndpoint(stack);
    const b = { v4: true, v6: false, addr: null, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
    u.lport = stack.udpPorts.reserve(0, b, u);
    u.binding = b;
    u.errQueue.recverr4 = true;
    u.send(GUEST_ADDR, ip('10.0.2.78'), 53, new TextEncoder().encode('hi'));
    stack.flush();
    await vi.advanceTimersByTimeAsync(3500);
    expect(u.err).toBe(EHOSTUNREACH);
    const e = u.errQueue.shift()!.e;
    expect([e.origin, e.type, e.code, [...e.offender], [...e.addr], e.port]).toEqual([SO_EE_ORIGIN_ICMP, 3, 1, [10, 0, 2, 15], [10, 0, 2, 78], 53]);
    expect(new TextDecoder().decode(e.payload)).toBe('hi');
  });
});

describe('error queue bounds', () => {
  it('a flood of errors for a RECVERR socket stays within its receive buffer', () => {
    const stack = new Stack();
    const u = new UdpEndpoint(stack);
    const b = { v4: true, v6: false, addr: null, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
    u.lport = stack.udpPorts.reserve(0, b, u);
    u.binding = b;
    u.errQueue.recverr4 = true;
    u.rcvBufSize = 65536;
    const t = new Uint8Array(8 + 500);
    new DataView(t.buffer).setUint16(0, u.lport);
    new DataView(t.buffer).setUint16(2, 9);
    for (let i = 0; i < 10_000; i++) stack.deliver(icmp4(V4_LOOPBACK, V4_LOOPBACK, 3, 1, 0, { src: V4_LOOPBACK, dst: V4_LOOPBACK, proto: IPPROTO_UDP, t }));
    expect(u.errQueue.length).toBeGreaterThan(10);
    expect(u.errQueue.bytes).toBeLessThanOrEqual(65536);
    expect(u.errQueue.length).toBeLessThan(100);
  });
});

describe('forged ICMP errors (RFC 5927), fixed seed', () => {
  it('20,000 forged and mutated errors: a connection changes only for a quote inside its window, nothing throws', () => {
    let seed = 0x1c3e;
    const rnd = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    const stack = new Stack();
    const l = listener(stack, 7300);
    const c = client(stack, 7300);
    const s = l.acceptQueue.shift()!;
    const u = new UdpEndpoint(stack);
    const ub = { v4: true, v6: false, addr: null, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
    u.lport = stack.udpPorts.reserve(0, ub, u);
    u.binding = ub;
    u.remote = V4_LOOPBACK; u.rport = 9;
    const types = [0, 3, 4, 5, 8, 11, 12, 13, 40, 255];
    for (let i = 0; i < 20_000; i++) {
      const kind = rnd() % 4;
      let pkt: Uint8Array;
      if (kind === 0) {
        // A blind attacker: right 4-tuple, random sequence number outside the window.
        let seq = rnd();
        while (((seq - c.sndUna) >>> 0) <= ((c.sndNxt - c.sndUna) >>> 0)) seq = rnd();
        pkt = aboutClient(c, types[rnd() % types.length], rnd() % 20, seq, rnd());
      } else if (kind === 1) {
        // Random ports, or a UDP quote of the wrong port.
        const t = tcp8(rnd() & 0xffff, rnd() & 0xffff, rnd());
        pkt = icmp4(V4_LOOPBACK, V4_LOOPBACK, 3, rnd() % 16, 0, { src: V4_LOOPBACK, dst: V4_LOOPBACK, proto: rnd() & 1 ? IPPROTO_TCP : IPPROTO_UDP, t });
        if (((t[0] << 8) | t[1]) === u.lport) continue;
      } else {
        // Mutations of a well-formed error, checksum left alone or fixed.
        pkt = aboutClient(c, 3, 1, rnd());
        const n = 1 + (rnd() % 6);
        for (let k = 0; k < n; k++) pkt[IPV4_HEADER + (rnd() % (pkt.length - IPV4_HEADER))] = rnd() & 0xff;
        if (kind === 3) {
          pkt = pkt.subarray(0, IPV4_HEADER + (rnd() % (pkt.length - IPV4_HEADER + 1)));
          pkt[2] = pkt.length >> 8; pkt[3] = pkt.length & 0xff;
          writeIPv4Header(pkt, V4_LOOPBACK, V4_LOOPBACK, 1, 64, 0, 3);
        }
        const m = pkt.subarray(IPV4_HEADER);
        if (m.length >= 4 && rnd() & 1) {
          m[2] = 0; m[3] = 0;
          const cs = finish(sum16(m, 0, m.length));
          m[2] = cs >> 8; m[3] = cs & 0xff;
        }
        // A mutation may land on the sequence number and make it in-window by chance: skip.
        const q = m.subarray(8 + IPV4_HEADER);
        if (q.length >= 8) {
          const seq = new DataView(q.buffer, q.byteOffset).getUint32(4);
          if (((seq - c.sndUna) >>> 0) <= ((c.sndNxt - c.sndUna) >>> 0)) continue;
        }
      }
      stack.deliver(pkt);
    }
    expect([c.state, c.err, c.softErr, c.sndMss]).toEqual([TCPS.ESTABLISHED, 0, 0, s.sndMss]);
    expect([u.err, u.errQueue.length]).toEqual([0, 0]);
    c.enqueue(new Uint8Array([9]));
    c.output();
    stack.flush();
    expect(s.rcvQueued).toBe(1);
  });
});

describe('path MTU reports become route exceptions (ts/tcpip/pmtu.ts)', () => {
  it('a frag-needed / packet-too-big naming a UDP socket lowers the path to that destination only; one naming nobody, or a socket under IP_PMTUDISC_OMIT, changes nothing', () => {
    const { stack, eth0 } = lonelyStack();
    const v6addr = new Uint8Array(16); v6addr[0] = 0xfd; v6addr[15] = 0x15;
    stack.routeTable.addAddress(eth0.info, v6addr, 64);
    const u = new UdpEndpoint(stack);
    const b = { v4: true, v6: true, addr: null, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
    u.lport = stack.udpPorts.reserve(0, b, u);
    u.binding = b;
    const peer = ip('10.0.2.2');
    const t = new Uint8Array(8);
    new DataView(t.buffer).setUint16(0, u.lport);
    new DataView(t.buffer).setUint16(2, 9);
    const frag = (mtu: number, dport = 9): Uint8Array => {
      const q = t.slice();
      new DataView(q.buffer).setUint16(2, dport);
      return icmp4(peer, GUEST_ADDR, 3, 4, mtu, { src: GUEST_ADDR, dst: peer, proto: IPPROTO_UDP, t: q });
    };
    u.errQueue.pmtuIgnore4 = true;
    stack.deliver(frag(1000), eth0.info);
    expect(pathMtu(stack, peer)).toBe(eth0.info.mtu);
    u.errQueue.pmtuIgnore4 = false;
    // Another local port: no socket, no change (the lookup comes first, as __udp4_lib_err).
    const other = t.slice();
    new DataView(other.buffer).setUint16(0, u.lport ^ 1);
    stack.deliver(icmp4(peer, GUEST_ADDR, 3, 4, 1000, { src: GUEST_ADDR, dst: peer, proto: IPPROTO_UDP, t: other }), eth0.info);
    expect(pathMtu(stack, peer)).toBe(eth0.info.mtu);
    stack.deliver(frag(1000), eth0.info);
    expect(pathMtu(stack, peer)).toBe(1000);
    expect(pathMtu(stack, ip('10.0.2.3'))).toBe(eth0.info.mtu);
    expect(pmtuLimit(stack, peer, IP_PMTUDISC_DO)).toBe(1000);
    expect(pmtuLimit(stack, peer, IP_PMTUDISC_PROBE)).toBe(eth0.info.mtu);
    stack.deliver(frag(100), eth0.info);
    expect(pathMtu(stack, peer)).toBe(552);
    // IPv6: packet too big from fd00::2 about our datagram to it.
    const peer6 = new Uint8Array(16); peer6[0] = 0xfd; peer6[15] = 2;
    stack.deliver(icmp6(peer6, v6addr, 2, 0, 1300, { src: v6addr, dst: peer6, proto: IPPROTO_UDP, t }), eth0.info);
    expect(pathMtu(stack, peer6)).toBe(1300);
    stack.deliver(icmp6(peer6, v6addr, 2, 0, 700, { src: v6addr, dst: peer6, proto: IPPROTO_UDP, t }), eth0.info);
    expect(pathMtu(stack, peer6)).toBe(1300);
  });
});
