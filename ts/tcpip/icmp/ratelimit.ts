// Rate limits on the ICMP errors the stack sends (Linux icmp_global_allow, icmpv4_xrlim_allow,
// icmpv6_xrlim_allow, inet_peer_xrlim_allow), with the sysctls that tune them:
//  - a global token bucket, net.ipv4.icmp_msgs_per_sec credits a second up to
//    net.ipv4.icmp_msgs_burst, refilled no more often than every 20 ms, each message taking
//    0-2 credits at random (1 on average; Linux randomizes so the limit cannot be used to
//    count other hosts' traffic) — not for messages about packets that came in on lo;
//  - a bucket per destination host: one message per net.ipv4.icmp_ratelimit ms (IPv6:
//    net.ipv6.icmp.ratelimit, shortened for routes with wider prefixes), bursts of six —
//    not for errors sent through lo;
//  - only the types net.ipv4.icmp_ratemask names (default: destination unreachable, source
//    quench, time exceeded, parameter problem; never "fragmentation needed"); for IPv6 every
//    error type but "packet too big" (net.ipv6.icmp.ratemask's default, not settable here).
// Nothing here sends: icmpErrorAllowed answers whether the caller may.

import { addrKey, type IPAddr } from '../addr';
import { inPrefix } from '../nic';
import type { Stack } from '../stack';
import { perStack } from '../per_stack';

const ICMP_DEST_UNREACH = 3, ICMP_FRAG_NEEDED = 4, NR_ICMP_TYPES = 18;
const ICMPV6_PKT_TOOBIG = 2;
const XRLIM_BURST_FACTOR = 6;
/** The refill granularity of the global bucket (HZ/50). */
const GLOBAL_STEP_MS = 20;
/** A new peer's bucket starts as if its last message were this long ago (inet_getpeer). */
const NEW_PEER_AGE_MS = 60_000;
/** Peers remembered at most (inet_peer's pool is bounded too): the oldest go first. */
const MAX_PEERS = 4096;

export interface IcmpLimits {
  /** net.ipv4.icmp_ratelimit, ms. */
  ratelimit: number;
  /** net.ipv4.icmp_ratemask: bit n limits type n. */
  ratemask: number;
  msgsPerSec: number;
  msgsBurst: number;
  /** net.ipv6.icmp.ratelimit, ms. */
  ratelimit6: number;
}

interface Peer { tokens: number; last: number }

export class IcmpRateLimiter {
  readonly limits: IcmpLimits = { ratelimit: 1000, ratemask: 6168, msgsPerSec: 1000, msgsBurst: 50, ratelimit6: 100 };
  private credit: number;
  private stamp: number;
  private readonly peers = new Map<string, Peer>();

  constructor(private readonly now: () => number = () => performance.now(), private readonly rnd: () => number = Math.random) {
    this.credit = this.limits.msgsBurst;
    this.stamp = now();
  }

  /** icmp_global_allow. */
  globalAllow(): boolean {
    const now = this.now();
    const l = this.limits;
    if (this.credit === 0 && Math.min(now - this.stamp, 1000) < GLOBAL_STEP_MS) return false;
    const delta = Math.min(now - this.stamp, 1000);
    let incr = 0;
    if (delta >= GLOBAL_STEP_MS) {
      incr = Math.floor(l.msgsPerSec * delta / 1000);
      if (incr) this.stamp = now;
    }
    let credit = Math.min(this.credit + incr, l.msgsBurst);
    let ok = false;
    if (credit > 0) {
      credit = Math.max(credit - Math.floor(this.rnd() * 3), 0);
      ok = true;
    }
    this.credit = credit;
    return ok;
  }

  /** inet_peer_xrlim_allow for the peer dst with a timeout of ms. */
  peerAllow(dst: IPAddr, timeout: number): boolean {
    const now = this.now();
    const k = addrKey(dst);
    let p = this.peers.get(k);
    if (!p) {
      if (this.peers.size >= MAX_PEERS) this.peers.delete(this.peers.keys().next().value as string);
      p = { tokens: 0, last: now - NEW_PEER_AGE_MS };
      this.peers.set(k, p);
    }
    let token = p.tokens + (now - p.last);
    p.last = now;
    token = Math.min(token, XRLIM_BURST_FACTOR * timeout);
    let ok = false;
    if (token >= timeout) { token -= timeout; ok = true; }
    p.tokens = token;
    return ok;
  }

  /** Whether type/code is one the limits apply to (icmpv4_mask_allow's inverse). */
  limited(v6: boolean, type: number, code: number): boolean {
    if (v6) return type < 128 && type !== ICMPV6_PKT_TOOBIG;
    if (type > NR_ICMP_TYPES) return false;
    if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) return false;
    return ((1 << type) & this.limits.ratemask) !== 0;
  }
}

export const icmpRateLimiterOf = perStack(() => new IcmpRateLimiter());

/** The prefix length of the route to dst (rt6i_dst.plen), 128 when it is a host's. */
function routePrefix(stack: Stack, dst: IPAddr): number {
  let best = -1;
  for (const r of stack.routeTable.routes) {
    if (r.dst.length === dst.length && r.prefixLen > best && inPrefix(dst, r.dst, r.prefixLen)) best = r.prefixLen;
  }
  return best < 0 ? 128 : best;
}

/** May the stack send an ICMP(v6) error of type/code to dst (the offending packet's source)?
 *  A packet from one of our own addresses came in on lo and its error goes out on lo: no
 *  limit applies to it. */
export function icmpErrorAllowed(stack: Stack, dst: IPAddr, type: number, code: number): boolean {
  const rl = icmpRateLimiterOf(stack);
  const v6 = dst.length === 16;
  if (!rl.limited(v6, type, code)) return true;
  if (stack.isLocalAddress(dst)) return true;
  if (!rl.globalAllow()) return false;
  let timeout = v6 ? rl.limits.ratelimit6 : rl.limits.ratelimit;
  if (v6) {
    const plen = routePrefix(stack, dst);
    if (plen < 128) timeout = timeout >> ((128 - plen) >> 5);
  }
  return rl.peerAllow(dst, timeout);
}
