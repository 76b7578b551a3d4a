// A connection's objects keep the shape they were made with (wide_field.ts): sequence
// numbers of 2^31 and more, times and RTTs are no small integers, and a field that started as
// one would change representation at the first of them — deprecating the shape every
// optimized function of the segment path was compiled against (a deoptimization, then a
// recompilation, a few fields at a time through a connection's first segments). V8's own
// %HaveSameMap tells: an endpoint made before any traffic must still share its map with those
// of a connection whose sequence numbers went past 2^31.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { Stack, TcpEndpoint } from '../../../ts/tcpip/stack';
import { TCPS } from '../../../ts/tcpip/tcp/states';
import { client, listener } from './endpoints';
import { newNicStats } from '../../../ts/tcpip/nic';
import { PacketQueue } from '../../../ts/tcpip/link/queue';
import { RtoEstimator } from '../../../ts/tcpip/tcp/rto';

v8.setFlagsFromString('--allow-natives-syntax');
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

/** The objects of an endpoint whose fields take sequence numbers, times or byte counts. */
function parts(ep: TcpEndpoint): Record<string, object> {
  const o = ep as unknown as Record<string, object>;
  return { endpoint: ep, rtt: ep.rtt, cc: ep.cc, ts: ep.ts, urg: ep.urg, rtx: o.rtx, ooo: ep.ooo };
}

describe('TCP endpoint field shapes', () => {
  it('an endpoint made before any traffic keeps the map of one that carried data past 2^31', () => {
    const stack = new Stack();
    const fresh = parts(new TcpEndpoint(stack, false));
    const l = listener(stack, 7400);
    // The client's initial sequence number just below 2^32: its sending side and the
    // server's receiving side cross 2^31 and wrap.
    const c = client(stack, 7400, () => { stack.twIsn = 0xffff_f000; });
    const s = l.acceptQueue.shift()!;
    expect(c.state).toBe(TCPS.ESTABLISHED);
    expect(s.irs).toBeGreaterThan(2 ** 31);
    for (let i = 0; i < 8; i++) {
      c.enqueue(new Uint8Array(3000).fill(i));
      c.output();
      stack.flush();
      expect(s.readInto(new Uint8Array(4000), false)).toBe(3000);
      s.enqueue(new Uint8Array(1000).fill(i));
      s.output();
      stack.flush();
      expect(c.readInto(new Uint8Array(4000), false)).toBe(1000);
      stack.flush();
    }
    expect(c.sndNxt).toBeLessThan(0x10000); // wrapped
    for (const ep of [c, s]) {
      const used = parts(ep);
      for (const k of Object.keys(fresh)) expect(haveSameMap(fresh[k], used[k]), k).toBe(true);
    }
    c.close();
    s.close();
    l.close();
  });

  it('a parsed segment with numbers below 2^31 has the map of one with numbers above', () => {
    // In a fresh node: this worker's parser objects may have met big numbers already.
    const built = path.resolve(__dirname, '../../../dist/tcpip/header/tcp.js');
    if (!existsSync(built)) { console.log(`skipped: ${built} not built`); return; }
    const script = `
      const { parseTCP } = require(${JSON.stringify(built)});
      const header = (seq, ack) => { const h = new Uint8Array(20), v = new DataView(h.buffer);
        v.setUint16(0, 1234); v.setUint16(2, 80); v.setUint32(4, seq); v.setUint32(8, ack); h[12] = 0x50; h[13] = 0x10; return h; };
      const lo = new Uint8Array([127, 0, 0, 1]);
      const small = parseTCP(header(5, 0), lo, lo, false);
      const big = parseTCP(header(0x90000000, 0xa0000000), lo, lo, false);
      const same = %HaveSameMap(small, big); // before any read: a read migrates a deprecated map
      console.log(JSON.stringify([small.seq, big.ack, same]));`;
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([5, 0xa000_0000, true]);
  });

  it('an RTO made fractional by a slow RTT keeps the shape of the initial one', () => {
    // A loaded host's 50 ms RTT makes srtt + 4 rttvar fractional (the first test, on such a
    // host, met this at random).
    const fresh = new RtoEstimator();
    const slow = new RtoEstimator();
    slow.sample(73.25);
    expect(Number.isInteger(slow.rto)).toBe(false);
    expect(haveSameMap(fresh, slow)).toBe(true);
  });

  it("a link's byte counters keep their shape past 2^31 bytes", () => {
    const freshStats = newNicStats();
    const stats = newNicStats();
    stats.txBytes += 2 ** 31 + 1;
    stats.rxBytes += 2 ** 31 + 1;
    expect(haveSameMap(freshStats, stats)).toBe(true);
    const freshQueue = new PacketQueue(() => {}, () => {});
    const q = new PacketQueue(() => {}, () => {});
    q.bytes += 2 ** 31 + 1;
    expect(haveSameMap(freshQueue, q)).toBe(true);
  });
});
