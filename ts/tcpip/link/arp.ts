// ARP (RFC 826) for IPv4 over Ethernet, and the neighbour cache (Linux net/ipv4/arp.c and
// net/core/neighbour.c; gVisor network/arp). An entry resolves an IPv4 next hop to a MAC;
// packets for a next hop not resolved yet wait in the entry (at most UNRES_QLEN, as Linux's
// unres_qlen, the oldest dropped) while a request is retried every RETRANS_MS up to
// MCAST_SOLICIT times; then the entry fails and its packets are dropped. A resolved entry
// lives REACHABLE_MS, then the next packet re-resolves it. Parsing never throws.

import { addrEqual, addrKey, type IPAddr } from '../addr';

export const ETH_P_ARP = 0x0806;
export const ARP_LEN = 28;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;

const UNRES_QLEN = 3;
const MCAST_SOLICIT = 3;
const RETRANS_MS = 1000;
const REACHABLE_MS = 30_000;
/** Most entries kept (gc_thresh3 is 1024 in Linux); past it the oldest goes. */
const MAX_ENTRIES = 1024;

export interface ArpPacket { op: number; sha: Uint8Array; spa: IPAddr; tha: Uint8Array; tpa: IPAddr }

export function parseArp(p: Uint8Array): ArpPacket | null {
  if (p.length < ARP_LEN) return null;
  // Ethernet hardware (1), IPv4 protocol (0x0800), 6-byte MACs, 4-byte addresses only.
  if (p[0] !== 0 || p[1] !== 1 || p[2] !== 0x08 || p[3] !== 0x00 || p[4] !== 6 || p[5] !== 4) return null;
  const op = (p[6] << 8) | p[7];
  if (op !== ARPOP_REQUEST && op !== ARPOP_REPLY) return null;
  return { op, sha: p.slice(8, 14), spa: p.slice(14, 18), tha: p.slice(18, 24), tpa: p.slice(24, 28) };
}

export function writeArp(p: Uint8Array, a: ArpPacket): void {
  p[0] = 0; p[1] = 1; p[2] = 0x08; p[3] = 0; p[4] = 6; p[5] = 4;
  p[6] = a.op >> 8; p[7] = a.op & 0xff;
  p.set(a.sha, 8); p.set(a.spa, 14); p.set(a.tha, 18); p.set(a.tpa, 24);
}

interface Entry {
  ip: IPAddr;
  mac: Uint8Array | null;
  expires: number;
  pending: Uint8Array[];
  tries: number;
  timer: NodeJS.Timeout | null;
}

export class NeighbourCache {
  private readonly entries = new Map<string, Entry>();

  /** solicit(ip): send a request for ip; drop(n): packets that never got a MAC; failed(pkts):
   *  the packets still waiting when resolution gave up (neigh_invalidate's error_report). */
  constructor(private readonly solicit: (ip: IPAddr) => void, private readonly dropped: (n: number) => void,
    private readonly failed: (pkts: Uint8Array[]) => void = () => {}) {}

  /** The MAC of ip if known and fresh. */
  lookup(ip: IPAddr): Uint8Array | null {
    const e = this.entries.get(addrKey(ip));
    return e && e.mac && e.expires > Date.now() ? e.mac : null;
  }

  /** Hold pkt until ip resolves, asking for it if no request is out. */
  queue(ip: IPAddr, pkt: Uint8Array): void {
    const k = addrKey(ip);
    let e = this.entries.get(k);
    if (!e) {
      if (this.entries.size >= MAX_ENTRIES) this.evictOne();
      e = { ip: ip.slice(), mac: null, expires: 0, pending: [], tries: 0, timer: null };
      this.entries.set(k, e);
    }
    e.pending.push(pkt);
    if (e.pending.length > UNRES_QLEN) { e.pending.shift(); this.dropped(1); }
    if (e.timer === null) { e.tries = 0; this.retry(e); }
  }

  private retry(e: Entry): void {
    if (e.tries >= MCAST_SOLICIT) {
      const lost = e.pending;
      this.dropped(lost.length);
      e.pending = [];
      e.timer = null;
      if (!e.mac) this.entries.delete(addrKey(e.ip));
      this.failed(lost);
      return;
    }
    e.tries++;
    this.solicit(e.ip);
    e.timer = setTimeout(() => this.retry(e), RETRANS_MS);
    e.timer.unref();
  }

  /** A MAC learnt for ip (a reply, or a request addressed to us): the packets waiting go
   *  out through send. Only updates an entry that exists unless create. */
  learn(ip: IPAddr, mac: Uint8Array, create: boolean, send: (mac: Uint8Array, pkt: Uint8Array) => void): void {
    const k = addrKey(ip);
    let e = this.entries.get(k);
    if (!e) {
      if (!create) return;
      if (this.entries.size >= MAX_ENTRIES) this.evictOne();
      e = { ip: ip.slice(), mac: null, expires: 0, pending: [], tries: 0, timer: null };
      this.entries.set(k, e);
    }
    e.mac = mac.slice();
    e.expires = Date.now() + REACHABLE_MS;
    if (e.timer) { clearTimeout(e.timer); e.timer = null; }
    const q = e.pending;
    e.pending = [];
    for (const p of q) send(e.mac, p);
  }

  private evictOne(): void {
    for (const [k, e] of this.entries) {
      if (e.timer) clearTimeout(e.timer);
      this.dropped(e.pending.length);
      this.entries.delete(k);
      return;
    }
  }

  /** For /proc/net/arp: the resolved entries. */
  *resolved(): IterableIterator<{ ip: IPAddr; mac: Uint8Array; reachable: boolean }> {
    const now = Date.now();
    for (const e of this.entries.values()) if (e.mac) yield { ip: e.ip, mac: e.mac, reachable: e.expires > now };
  }

  has(ip: IPAddr): boolean {
    const e = this.entries.get(addrKey(ip));
    return !!e && !!e.mac && addrEqual(e.ip, ip);
  }

  clear(): void {
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    this.entries.clear();
  }
}
