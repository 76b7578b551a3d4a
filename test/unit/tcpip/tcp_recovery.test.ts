// TCP loss recovery and keep-alive driven with packets alone: two endpoints of one Stack over
// its loopback link, with a filter on the link that drops chosen segments. SACK negotiation
// (and its absence), the out-of-order queue and SACK blocks, fast retransmit on the third
// duplicate ACK with SACK recovery and with NewReno partial ACKs, slow start and the window
// halving, a retransmission timeout restarting from one segment, keep-alive probes answered
// and unanswered (ETIMEDOUT), TCP_INFO reflecting all this; then a fixed-seed fuzzer feeding
// mutated segments with valid checksums to live connections.
import { describe, expect, it } from 'vitest';
import { Stack, TcpEndpoint } from '../../../ts/tcpip/stack';
import { TCPS } from '../../../ts/tcpip/tcp/states';
import { V4_LOOPBACK } from '../../../ts/tcpip/addr';
import { ETIMEDOUT } from '../../../ts/abi/linux/errno';
import { IPV4_HEADER, writeIPv4Header } from '../../../ts/tcpip/header/ipv4';
import { IPPROTO_TCP, TH_ACK, TH_FIN, TH_RST, TH_SYN, tcpHeaderLen, writeTCP, type TCPSegment } from '../../../ts/tcpip/header/tcp';
import { mibOf } from '../../../ts/tcpip/mib';
import { CA_OPEN, INIT_CWND } from '../../../ts/tcpip/tcp/congestion';
import { tcpInfo } from '../../../ts/net/inet/tcp_info';
import { client as connectClient, listener, tapTcp } from './endpoints';
import { setTcpTimestamps } from '../../../ts/tcpip/tcp/timestamps';

type Filter = (seg: TCPSegment, pkt: Uint8Array) => boolean;

/** A stack whose loopback passes each IPv4 TCP packet through `keep` (false: dropped). */
function lossyStack(): { stack: Stack; setFilter(f: Filter | null): void; seen: TCPSegment[] } {
  const stack = new Stack();
  // Segments of exactly the MSS asked for: no timestamps option taking 12 bytes of each.
  setTcpTimestamps(stack, 0);
  let filter: Filter | null = null;
  const seen: TCPSegment[] = [];
  tapTcp(stack, (seg, pkt) => {
    seen.push(seg);
    return !filter || filter(seg, pkt);
  });
  return { stack, setFilter: (f) => { filter = f; }, seen };
}

function client(stack: Stack, port: number, mss: number, sack = true): TcpEndpoint {
  return connectClient(stack, port, (c) => {
    c.userMss = mss;
    c.sackEnabled = sack;
  });
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Run the link until `until` holds (or give up after many rounds). */
async function settle(stack: Stack, until: () => boolean, rounds = 500): Promise<void> {
  for (let i = 0; i < rounds && !until(); i++) {
    stack.flush();
    await tick();
  }
}

function pattern(n: number): Uint8Array { return new Uint8Array(n).map((_, i) => (i * 7 + (i >> 8)) & 0xff); }

/** Read everything the receiver has, checking it against the pattern from offset `at`. */
function drain(s: TcpEndpoint, at: { n: number; ok: boolean }): void {
  for (;;) {
    const d = s.read(1 << 20, false);
    if (d.length === 0) return;
    const want = pattern(at.n + d.length).subarray(at.n);
    for (let i = 0; i < d.length; i++) if (d[i] !== want[i]) at.ok = false;
    at.n += d.length;
  }
}

function dataSegs(seen: TCPSegment[], from: number): TCPSegment[] {
  return seen.filter((g) => g.srcPort === from && g.data.length > 0);
}

describe('tcp: SACK, NewReno, keep-alive', () => {
  it('SACK is negotiated when both ends offer it, and not when one does not', async () => {
    const { stack, seen } = lossyStack();
    listener(stack, 7100);
    const c = client(stack, 7100, 1000);
    const syn = seen.find((g) => g.flags === TH_SYN)!;
    const synAck = seen.find((g) => g.flags === (TH_SYN | TH_ACK))!;
    expect(syn.sackOk).toBe(true);
    expect(synAck.sackOk).toBe(true);
    expect(c.sackOk).toBe(true);
    expect(tcpInfo(c)[5] & 2).toBe(2);

    const l2 = listener(stack, 7101);
    const c2 = client(stack, 7101, 1000, false);
    const syn2 = seen.filter((g) => g.flags === TH_SYN && g.dstPort === 7101)[0];
    const synAck2 = seen.filter((g) => g.flags === (TH_SYN | TH_ACK) && g.srcPort === 7101)[0];
    expect(syn2.sackOk).toBe(false);
    expect(synAck2.sackOk).toBe(false);
    expect(c2.sackOk).toBe(false);
    expect(l2.acceptQueue[0].sackOk).toBe(false);
    expect(tcpInfo(c2)[5] & 2).toBe(0);
  });

  it('one lost segment: SACK blocks on duplicate ACKs, fast retransmit of the hole only, window halved', async () => {
    const { stack, setFilter, seen } = lossyStack();
    const l = listener(stack, 7102);
    const c = client(stack, 7102, 1000);
    const s = l.acceptQueue.shift()!;
    const total = 40_000;
    let dropped: number | null = null;
    setFilter((g) => {
      // Drop the second data segment the first time it goes out.
      if (g.srcPort === c.lport && g.data.length > 0 && dropped === null && g.seq === ((c.iss + 1 + 1000) >>> 0)) {
        dropped = g.seq;
        return false;
      }
      return true;
    });
    c.enqueue(pattern(total));
    c.output();
    const got = { n: 0, ok: true };
    await settle(stack, () => { drain(s, got); return got.n === total; });
    expect(dropped).not.toBeNull();
    expect(got).toEqual({ n: total, ok: true });
    // The receiver's ACKs after the hole carried SACK blocks beginning past it.
    const sackAcks = seen.filter((g) => g.srcPort === s.lport && g.sack.length > 0);
    expect(sackAcks.length).toBeGreaterThanOrEqual(3);
    expect(sackAcks[0].sack[0]).toBe((dropped! + 1000) >>> 0);
    expect(sackAcks[0].ack).toBe(dropped);
    // The hole went out twice, the SACKed segments once.
    const sent = dataSegs(seen, c.lport);
    expect(sent.filter((g) => g.seq === dropped).length).toBe(2);
    expect(sent.filter((g) => g.seq === ((dropped! + 1000) >>> 0)).length).toBe(1);
    const mib = mibOf(stack);
    expect(mib.tcpFastRetrans).toBe(1);
    expect(mib.tcpSackRecovery).toBe(1);
    expect(mib.tcpTimeouts).toBe(0);
    expect(mib.tcpRetransSegs).toBe(1);
    expect(c.cc.state).toBe(CA_OPEN);
    // Loss halved the window: ssthresh is half of what was in flight (>= 2).
    expect(c.cc.ssthresh).toBeLessThan(INIT_CWND + 40);
    expect(c.cc.ssthresh).toBeGreaterThanOrEqual(2);
    const info = new DataView(tcpInfo(c).buffer);
    expect(info.getUint32(76, true)).toBe(c.cc.ssthresh);
    expect(info.getUint32(80, true)).toBe(c.cc.cwnd);
    expect(info.getUint32(100, true)).toBe(1); // tcpi_total_retrans
    expect(s.ooo.empty).toBe(true);
  });

  it('NewReno without SACK: two losses in one window, the partial ACK retransmits the second', async () => {
    const { stack, setFilter, seen } = lossyStack();
    const l = listener(stack, 7103);
    const c = client(stack, 7103, 1000, false);
    const s = l.acceptQueue.shift()!;
    const base = (c.iss + 1) >>> 0;
    const victims = new Set([(base + 1000) >>> 0, (base + 4000) >>> 0]);
    setFilter((g) => !(g.srcPort === c.lport && g.data.length > 0 && victims.delete(g.seq)));
    const total = 30_000;
    c.enqueue(pattern(total));
    c.output();
    const got = { n: 0, ok: true };
    await settle(stack, () => { drain(s, got); return got.n === total; });
    expect(got).toEqual({ n: total, ok: true });
    expect(victims.size).toBe(0);
    // Each lost segment went out twice (once lost, once retransmitted), nothing else twice.
    const sent = dataSegs(seen, c.lport);
    expect(sent.filter((g) => g.seq === ((base + 1000) >>> 0)).length).toBe(2);
    expect(sent.filter((g) => g.seq === ((base + 4000) >>> 0)).length).toBe(2);
    expect(sent.length - new Set(sent.map((g) => g.seq)).size).toBe(2);
    expect(c.cc.state).toBe(CA_OPEN);
    expect(seen.some((g) => g.sack.length > 0)).toBe(false);
    const mib = mibOf(stack);
    expect(mib.tcpRenoRecovery).toBe(1);
    expect(mib.tcpFastRetrans).toBe(1);
    expect(mib.tcpTimeouts).toBe(0);
    expect(mib.tcpRetransSegs).toBe(2);
  });

  it('slow start: the window grows by the segments acknowledged', async () => {
    const { stack } = lossyStack();
    const l = listener(stack, 7104);
    // Reno: CUBIC's HyStart may end slow start on real time's ACK spacing (cc_cubic.test.ts
    // drives it in fake time).
    const c = connectClient(stack, 7104, (e) => { e.userMss = 1000; e.setCongestion('reno'); });
    const s = l.acceptQueue.shift()!;
    expect(c.cc.cwnd).toBe(INIT_CWND);
    c.enqueue(pattern(50_000));
    c.output();
    const got = { n: 0, ok: true };
    await settle(stack, () => { drain(s, got); return got.n === 50_000; });
    expect(got.ok).toBe(true);
    expect(c.cc.cwnd).toBeGreaterThan(INIT_CWND);
    expect(c.cc.inSlowStartInitially).toBe(true);
  });

  it('a retransmission timeout restarts from one segment', async () => {
    const { stack, setFilter } = lossyStack();
    const l = listener(stack, 7105);
    // Reno's threshold: half of the five segments in flight (cc_cubic.test.ts has CUBIC's).
    const c = connectClient(stack, 7105, (e) => { e.userMss = 1000; e.setCongestion('reno'); });
    const s = l.acceptQueue.shift()!;
    // Everything the client sends is lost until the timer fires.
    let blackhole = true;
    setFilter((g) => !(blackhole && g.srcPort === c.lport && g.data.length > 0));
    c.enqueue(pattern(5000));
    c.output();
    stack.flush();
    blackhole = false;
    const got = { n: 0, ok: true };
    const t0 = Date.now();
    while (got.n < 5000 && Date.now() - t0 < 5000) {
      await sleep(20);
      stack.flush();
      drain(s, got);
    }
    expect(got).toEqual({ n: 5000, ok: true });
    expect(mibOf(stack).tcpTimeouts).toBeGreaterThanOrEqual(1);
    expect(c.cc.ssthresh).toBe(2);
  }, 10_000);

  it('keep-alive: probes an idle connection, goes on while answered, ETIMEDOUT when not', async () => {
    const { stack, setFilter, seen } = lossyStack();
    const l = listener(stack, 7106);
    const c = client(stack, 7106, 1000);
    const s = l.acceptQueue.shift()!;
    c.keepalive.configure({ on: true, idleMs: 40, intvlMs: 30, cnt: 2 });
    await sleep(200);
    stack.flush();
    const probes = seen.filter((g) => g.srcPort === c.lport && g.data.length === 0 && g.seq === ((c.sndUna - 1) >>> 0));
    expect(probes.length).toBeGreaterThanOrEqual(2);
    expect(c.state).toBe(TCPS.ESTABLISHED);
    expect(mibOf(stack).tcpKeepAliveTimeouts).toBeGreaterThanOrEqual(2);
    // Now the peer goes silent.
    setFilter((g) => g.srcPort !== s.lport);
    const t0 = Date.now();
    while (c.state !== TCPS.CLOSE && Date.now() - t0 < 3000) { await sleep(20); stack.flush(); }
    expect(c.state).toBe(TCPS.CLOSE);
    expect(c.err).toBe(ETIMEDOUT);
    expect(c.keepalive.probesOut).toBe(2);
  }, 10_000);
});

describe('tcp: no ACK war', () => {
  it('two ends that disagree about the sequence space do not ACK each other forever', async () => {
    const { stack, seen } = lossyStack();
    const l = listener(stack, 7107);
    const c = client(stack, 7107, 1000);
    const s = l.acceptQueue.shift()!;
    // Forge 100 bytes "from the client" that the server takes: its rcv.nxt passes the
    // client's snd.nxt, so each side finds the other's ACKs out of the window.
    const o = { srcPort: c.lport, dstPort: s.lport, seq: s.rcvNxt, ack: s.sndNxt, flags: TH_ACK, window: 65535 };
    const pkt = new Uint8Array(IPV4_HEADER + tcpHeaderLen(o) + 100);
    writeTCP(pkt.subarray(IPV4_HEADER), o, V4_LOOPBACK, V4_LOOPBACK);
    writeIPv4Header(pkt, V4_LOOPBACK, V4_LOOPBACK, IPPROTO_TCP, 64, 0, 1);
    stack.loopback.send(pkt);
    const before = seen.length;
    await settle(stack, () => false, 100);
    expect(seen.length - before).toBeLessThan(10);
  });
});

describe('tcp: mutated segments with valid checksums never throw (seed 0x7c9)', () => {
  it('random flags, sequence numbers, windows, options and SACK blocks against live connections', async () => {
    let x = 0x7c9;
    // The high bits: an LCG's low bits repeat with a short period.
    const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
    const { stack } = lossyStack();
    const l = listener(stack, 7200);
    const conns: TcpEndpoint[] = [];
    for (let i = 0; i < 4; i++) conns.push(client(stack, 7200, 500 + i * 300, i % 2 === 0));
    const servers = l.acceptQueue.splice(0);
    for (const c of conns) { c.enqueue(pattern(3000)); c.output(); }
    stack.flush();
    const eps = [...conns, ...servers];
    for (let i = 0; i < 4000; i++) {
      const target = eps[rnd() % eps.length];
      const ref = (rnd() & 1) ? target.rcvNxt : rnd();
      const flags = [TH_ACK, TH_ACK | TH_FIN, TH_RST, TH_SYN, TH_SYN | TH_ACK, rnd() & 0x3f][rnd() % 6];
      const sack: number[] = [];
      for (let k = rnd() % 5; k > 0; k--) { const a = (target.sndUna + (rnd() % 8000) - 1000) >>> 0; sack.push(a, (a + (rnd() % 4000)) >>> 0); }
      const o = {
        srcPort: target.rport, dstPort: target.lport, seq: (ref + (rnd() % 3000) - 1500) >>> 0,
        ack: (rnd() & 1) ? target.sndNxt : (target.sndUna + (rnd() % 5000) - 2500) >>> 0, flags,
        window: rnd() & 0xffff, mss: (rnd() & 3) === 0 ? rnd() & 0xffff : undefined,
        wscale: (rnd() & 3) === 0 ? rnd() % 20 : undefined, sackOk: (rnd() & 3) === 0, sack: sack.length > 0 ? sack : undefined,
      };
      const dataLen = rnd() % 1500;
      const hl = tcpHeaderLen(o);
      if (hl > 60) continue;
      const pkt = new Uint8Array(IPV4_HEADER + hl + dataLen);
      for (let k = IPV4_HEADER + hl; k < pkt.length; k++) pkt[k] = rnd() & 0xff;
      writeTCP(pkt.subarray(IPV4_HEADER), o, V4_LOOPBACK, V4_LOOPBACK);
      // Sometimes corrupt the options after the checksum was made, then make it right again.
      if ((rnd() & 7) === 0 && hl > 20) {
        pkt[IPV4_HEADER + 20 + (rnd() % (hl - 20))] = rnd() & 0xff;
        pkt[IPV4_HEADER + 16] = 0;
        pkt[IPV4_HEADER + 17] = 0;
        const seg = pkt.subarray(IPV4_HEADER);
        let sum = 0x7f00 + 0x0001 + 0x7f00 + 0x0001 + IPPROTO_TCP + seg.length;
        for (let k = 0; k + 1 < seg.length; k += 2) sum += (seg[k] << 8) | seg[k + 1];
        if (seg.length & 1) sum += seg[seg.length - 1] << 8;
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        const c = ~sum & 0xffff;
        seg[16] = c >> 8;
        seg[17] = c & 0xff;
      }
      writeIPv4Header(pkt, V4_LOOPBACK, V4_LOOPBACK, IPPROTO_TCP, 64, 0, i & 0xffff);
      expect(() => { stack.deliver(pkt); stack.flush(); }).not.toThrow();
      if (i % 200 === 0) await tick();
    }
    // The stack still works: a fresh connection carries data.
    const l2 = listener(stack, 7201);
    const c = client(stack, 7201, 1000);
    const s = l2.acceptQueue.shift()!;
    c.enqueue(pattern(10_000));
    c.output();
    const got = { n: 0, ok: true };
    await settle(stack, () => { drain(s, got); return got.n === 10_000; });
    expect(got).toEqual({ n: 10_000, ok: true });
  }, 30_000);
});
