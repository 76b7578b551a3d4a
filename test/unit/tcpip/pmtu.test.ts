// Route exceptions for the path MTU (ts/tcpip/pmtu.ts), driven by the cache's own clock and
// by ICMP errors into a stack: IPv4 reports below 552 count as 552, IPv6 ones below 1280 are
// ignored, a report never raises a path, the exception expires after 600 s, a path through
// lo keeps its MTU, and pmtuLimit follows IP_MTU_DISCOVER (DO: the path, PROBE: the device,
// others: no limit).
import { describe, expect, it } from 'vitest';
import { IP_PMTUDISC_DO, IP_PMTUDISC_DONT, IP_PMTUDISC_PROBE, IP_PMTUDISC_WANT, PmtuCache, learnPmtu, pathMtu, pmtuLimit } from '../../../ts/tcpip/pmtu';
import { Stack } from '../../../ts/tcpip/stack';

const v4 = new Uint8Array([10, 0, 2, 2]);
const v6 = new Uint8Array(16); v6[0] = 0xfd; v6[15] = 2;

describe('PmtuCache', () => {
  it('v4: lowers, clamps to 552, never raises, refreshes an equal report, expires after 600 s', () => {
    let now = 0;
    const c = new PmtuCache(() => now);
    c.learn(v4, 1400, 1500);
    expect(c.lookup(v4)).toBe(1400);
    c.learn(v4, 1450, 1500);
    expect(c.lookup(v4)).toBe(1400);
    c.learn(v4, 100, 1500);
    expect(c.lookup(v4)).toBe(552);
    now = 599_000;
    c.learn(v4, 552, 1500);
    now = 1_100_000;
    expect(c.lookup(v4)).toBe(552);
    now = 1_199_001;
    expect(c.lookup(v4)).toBe(null);
    expect(c.size).toBe(0);
  });
  it('v6: ignores reports below 1280 and ones not below the current MTU', () => {
    const c = new PmtuCache(() => 0);
    c.learn(v6, 1000, 1500);
    expect(c.lookup(v6)).toBe(null);
    c.learn(v6, 1500, 1500);
    expect(c.lookup(v6)).toBe(null);
    c.learn(v6, 1300, 1500);
    expect(c.lookup(v6)).toBe(1300);
  });
});

describe('path MTU in a stack', () => {
  it('an exception applies to the destination only; lo is never lowered; limits per mode', () => {
    const s = new Stack();
    const gw = new Uint8Array([127, 0, 0, 1]);
    learnPmtu(s, gw, 1000);
    expect(pathMtu(s, gw)).toBe(65535);
    expect(pmtuLimit(s, gw, IP_PMTUDISC_DO)).toBe(65535);
    expect(pmtuLimit(s, gw, IP_PMTUDISC_WANT)).toBe(null);
    expect(pmtuLimit(s, gw, IP_PMTUDISC_DONT)).toBe(null);
    // No route off the host: nothing learnt, no MTU.
    learnPmtu(s, v4, 1000);
    expect(pathMtu(s, v4)).toBe(null);
    expect(pmtuLimit(s, v4, IP_PMTUDISC_PROBE)).toBe(null);
  });
});
