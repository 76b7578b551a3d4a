// The TCP timer (tcp/timer.ts): moving the deadline earlier fires at the new one, a cancel
// holds even when the host timer is left to fire idle, and a re-arm after a cancel fires once.
import { describe, expect, it } from 'vitest';
import { TcpTimer } from '../../../ts/tcpip/tcp/timer';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('TcpTimer', () => {
  it('fires at the earliest deadline it was given last, once', async () => {
    const fired: number[] = [];
    const t0 = Date.now();
    const t = new TcpTimer(() => fired.push(Date.now() - t0));
    t.arm(1500);
    t.arm(30);
    await sleep(400);
    expect(fired.length).toBe(1);
    expect(fired[0]).toBeLessThan(400);
    expect(t.armed).toBe(false);
  });

  it('a cancelled timer does not fire; armed again it fires once', async () => {
    let n = 0;
    const t = new TcpTimer(() => { n++; });
    t.arm(20);
    t.cancel();
    await sleep(80);
    expect(n).toBe(0);
    t.arm(20);
    t.cancel();
    t.arm(40);
    await sleep(150);
    expect(n).toBe(1);
  });
});
