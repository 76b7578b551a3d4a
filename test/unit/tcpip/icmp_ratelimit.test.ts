// ICMP error rate limits (ts/tcpip/icmp/ratelimit.ts), driven with packets and a fake clock:
// a flood of datagrams from one host on eth0 to a closed port draws six port unreachables
// (the per-host burst of net.ipv4.icmp_ratelimit) and then one per second; many hosts
// together are held by the global bucket (icmp_msgs_burst); a flood over lo is never
// limited; the sysctls' values are what the stack uses; "fragmentation needed" and types off
// the ratemask are never limited.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Stack } from '../../../ts/tcpip/stack';
import { mibOf } from '../../../ts/tcpip/mib';
import { IcmpRateLimiter, icmpRateLimiterOf } from '../../../ts/tcpip/icmp/ratelimit';
import { writeIPv4Header, IPV4_HEADER } from '../../../ts/tcpip/header/ipv4';
import { V4_LOOPBACK, type IPAddr } from '../../../ts/tcpip/addr';
import { GUEST_ADDR, GUEST_MAC, SANDBOX_PREFIX } from '../../../ts/net/nat/policy';

const ip = (s: string): IPAddr => new Uint8Array(s.split('.').map(Number));

/** A UDP datagram src:4000 -> dst:port (checksum 0: none, as IPv4 allows). */
function udp(src: IPAddr, dst: IPAddr, port: number): Uint8Array {
  const p = new Uint8Array(IPV4_HEADER + 8 + 4);
  const v = new DataView(p.buffer);
  v.setUint16(IPV4_HEADER, 4000);
  v.setUint16(IPV4_HEADER + 2, port);
  v.setUint16(IPV4_HEADER + 4, 12);
  writeIPv4Header(p, src, dst, 17, 64, 0, 1);
  return p;
}

function ethStack(): { stack: Stack; nic: ReturnType<Stack['addEthernet']>['info'] } {
  const stack = new Stack();
  const eth0 = stack.addEthernet('eth0', GUEST_MAC);
  stack.routeTable.addAddress(eth0.info, GUEST_ADDR, SANDBOX_PREFIX);
  return { stack, nic: eth0.info };
}

const sent = (s: Stack): number => mibOf(s).icmpOutDestUnreachs;

beforeEach(() => { vi.useFakeTimers(); vi.spyOn(Math, 'random').mockReturnValue(0.4); });
afterEach(() => { vi.useRealTimers(); vi.restoreAllMocks(); });

describe('ICMP rate limits', () => {
  it('one host flooding a closed port over eth0: a burst of 6, then one a second; NoPorts counts all', () => {
    const { stack, nic } = ethStack();
    const peer = ip('10.0.2.2');
    for (let i = 0; i < 100; i++) stack.deliver(udp(peer, GUEST_ADDR, 9), nic);
    expect(sent(stack)).toBe(6);
    expect(mibOf(stack).udpNoPorts).toBe(100);
    vi.advanceTimersByTime(1000);
    for (let i = 0; i < 100; i++) stack.deliver(udp(peer, GUEST_ADDR, 9), nic);
    expect(sent(stack)).toBe(7);
  });

  it('many hosts at once: the global bucket (icmp_msgs_burst 50) holds them', () => {
    const { stack, nic } = ethStack();
    for (let h = 2; h < 200; h++) if (h !== 15) stack.deliver(udp(ip(`10.0.2.${h}`), GUEST_ADDR, 9), nic);
    expect(sent(stack)).toBe(50);
    vi.advanceTimersByTime(100);
    for (let h = 2; h < 200; h++) if (h !== 15) stack.deliver(udp(ip(`10.0.2.${h}`), GUEST_ADDR, 9), nic);
    // 100 ms of icmp_msgs_per_sec (1000/s) is 100 credits, capped at the burst.
    expect(sent(stack)).toBe(100);
  });

  it('over lo nothing is limited', () => {
    const stack = new Stack();
    for (let i = 0; i < 300; i++) stack.deliver(udp(V4_LOOPBACK, V4_LOOPBACK, 9));
    expect(sent(stack)).toBe(300);
  });

  it('the sysctls are what the stack uses: icmp_ratelimit 0 leaves the global bucket; a ratemask without type 3 limits nothing', () => {
    const { stack, nic } = ethStack();
    const l = icmpRateLimiterOf(stack).limits;
    l.ratelimit = 0;
    for (let i = 0; i < 100; i++) stack.deliver(udp(ip('10.0.2.2'), GUEST_ADDR, 9), nic);
    expect(sent(stack)).toBe(50);
    l.ratemask = 0;
    for (let i = 0; i < 100; i++) stack.deliver(udp(ip('10.0.2.2'), GUEST_ADDR, 9), nic);
    expect(sent(stack)).toBe(150);
  });

  it('the limiter alone: frag-needed and informational types are never limited; IPv6 limits errors but packet too big', () => {
    const rl = new IcmpRateLimiter(() => 0, () => 0.4);
    expect(rl.limited(false, 3, 4)).toBe(false);
    expect(rl.limited(false, 3, 3)).toBe(true);
    expect(rl.limited(false, 0, 0)).toBe(false);
    expect(rl.limited(false, 11, 0)).toBe(true);
    expect(rl.limited(true, 1, 4)).toBe(true);
    expect(rl.limited(true, 2, 0)).toBe(false);
    expect(rl.limited(true, 129, 0)).toBe(false);
  });
});
