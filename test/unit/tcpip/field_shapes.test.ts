// A connection's objects keep the shape they were made with (tcp/wide_field.ts): sequence
// numbers of 2^31 and more, times and RTTs are no small integers, and a field that started as
// one would change representation at the first of them — deprecating the shape every
// optimized function of the segment path was compiled against (a deoptimization, then a
// recompilation, a few fields at a time through a connection's first segments). V8's own
// %HaveSameMap tells: an endpoint made before any traffic must still share its map with one
// that carried data over sequence numbers past 2^31 both ways.
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { Stack, TcpEndpoint } from '../../../ts/tcpip/stack';
import { TCPS } from '../../../ts/tcpip/tcp/states';
import { V4_LOOPBACK } from '../../../ts/tcpip/addr';
import { listener } from './endpoints';
import { newNicStats } from '../../../ts/tcpip/nic';
import { PacketQueue } from '../../../ts/tcpip/link/queue';

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
    const c = new TcpEndpoint(stack, false);
    const b = { v4: true, v6: false, addr: V4_LOOPBACK, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
    c.lport = stack.tcpPorts.reserve(0, b, c);
    c.binding = b;
    c.local = V4_LOOPBACK;
    c.remote = V4_LOOPBACK;
    c.rport = 7400;
    stack.registerConn(c);
    // Both initial sequence numbers just below 2^32: the transfer crosses 2^31.. and wraps.
    stack.twIsn = 0xffff_f000;
    c.connect();
    stack.twIsn = 0xffff_e000;
    stack.flush();
    const s = l.acceptQueue.shift()!;
    expect(c.state).toBe(TCPS.ESTABLISHED);
    expect(s.iss).toBeGreaterThan(2 ** 31);
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
