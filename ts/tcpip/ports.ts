// Port reservations (Linux inet_hashinfo bind buckets, inet_csk_bind_conflict; gVisor
// ports.PortManager): who holds which local port for which addresses, whether a new bind
// conflicts (SO_REUSEADDR: neither listening; SO_REUSEPORT: both set, same owner), the
// ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 until a program sets it), and
// finding the bound endpoint an arriving packet is for.

import { addrEqual, type IPAddr } from './addr';

export const EPHEMERAL_LOW = 32768;
export const EPHEMERAL_HIGH = 60999;

/** net.ipv4.ip_local_port_range of one stack (TCP and UDP share it). */
export interface PortRange { low: number; high: number }

/** What one reservation covers: IPv4 and/or IPv6 traffic, to one address or any. */
export interface Binding {
  v4: boolean;
  v6: boolean;
  /** null: any address of the families above; else 4 bytes (v4) or 16 (v6). */
  addr: IPAddr | null;
  reuseAddr: boolean;
  reusePort: boolean;
  uid: number;
  /** TCP listeners may not share with SO_REUSEADDR alone. */
  listening: () => boolean;
  /** SOCK_BINDPORT_LOCK: bind(2) named the port (sock_diag's "autobound" test reads it). */
  portLock?: boolean;
}

function overlaps(a: Binding, b: Binding): boolean {
  if (!((a.v4 && b.v4) || (a.v6 && b.v6))) return false;
  if (a.addr === null || b.addr === null) return true;
  return addrEqual(a.addr, b.addr);
}

export class PortTable<T> {
  private readonly byPort = new Map<number, Map<Binding, T>>();
  private nextEphemeral = EPHEMERAL_LOW + Math.floor(Math.random() * (EPHEMERAL_HIGH - EPHEMERAL_LOW + 1));

  constructor(private readonly tcp: boolean, private readonly range: PortRange = { low: EPHEMERAL_LOW, high: EPHEMERAL_HIGH }) {}

  conflicts(port: number, b: Binding): boolean {
    const m = this.byPort.get(port);
    if (!m) return false;
    for (const o of m.keys()) {
      if (!overlaps(o, b)) continue;
      if (b.reusePort && o.reusePort && b.uid === o.uid) continue;
      if (b.reuseAddr && o.reuseAddr && (!this.tcp || (!o.listening() && !b.listening()))) continue;
      return true;
    }
    return false;
  }

  /** Reserve port (0: an ephemeral one) for b; the port, or -1 when taken / none free. */
  reserve(port: number, b: Binding, owner: T): number {
    if (port === 0) {
      const { low, high } = this.range;
      const span = high - low + 1;
      // The range may have changed since the last pick: start again inside it.
      if (this.nextEphemeral < low || this.nextEphemeral > high) this.nextEphemeral = low + Math.floor(Math.random() * span);
      for (let i = 0; i < span; i++) {
        const p = this.nextEphemeral;
        this.nextEphemeral = p >= high ? low : p + 1;
        if (!this.byPort.has(p)) return this.add(p, b, owner);
      }
      return -1;
    }
    if (this.conflicts(port, b)) return -1;
    return this.add(port, b, owner);
  }

  /** Hold port for b without a conflict check (an accepted connection shares its listener's port). */
  add(port: number, b: Binding, owner: T): number {
    let m = this.byPort.get(port);
    if (!m) this.byPort.set(port, (m = new Map()));
    m.set(b, owner);
    return port;
  }

  release(port: number, b: Binding): void {
    const m = this.byPort.get(port);
    if (!m) return;
    m.delete(b);
    if (m.size === 0) this.byPort.delete(port);
  }

  /** The owners bound to port that take a packet to dst (v4 or v6 by its length), the
   *  ones bound to dst exactly first. */
  lookup(port: number, dst: IPAddr): T[] {
    const m = this.byPort.get(port);
    if (!m) return [];
    const exact: T[] = [];
    const wild: T[] = [];
    const v4 = dst.length === 4;
    for (const [b, owner] of m) {
      if (v4 ? !b.v4 : !b.v6) continue;
      if (b.addr === null) wild.push(owner);
      else if (addrEqual(b.addr, dst)) exact.push(owner);
    }
    return exact.concat(wild);
  }

  /** SO_REUSEPORT (reuseport_select_sock): the member of first's group the flow's hash picks,
   *  the group being the owners of port bound with SO_REUSEPORT as first is (same address,
   *  families and uid) that take the packet (ok); first itself when it has none. */
  reusePortPick(port: number, first: T, ok: (o: T) => boolean, hash: number): T {
    const m = this.byPort.get(port);
    if (!m) return first;
    let fb: Binding | undefined;
    for (const [b, o] of m) if (o === first) { fb = b; break; }
    if (!fb || !fb.reusePort) return first;
    const group: T[] = [];
    for (const [b, o] of m) {
      if (!b.reusePort || b.v4 !== fb.v4 || b.v6 !== fb.v6 || b.uid !== fb.uid || !ok(o)) continue;
      if (b.addr === null ? fb.addr === null : fb.addr !== null && addrEqual(b.addr, fb.addr)) group.push(o);
    }
    return group.length > 1 ? group[hash % group.length] : first;
  }

  *entries(): IterableIterator<[number, T]> {
    for (const [port, m] of this.byPort) for (const owner of m.values()) yield [port, owner];
  }
}

/** A flow's hash for SO_REUSEPORT (Linux's inet_ehashfn): FNV-1a over both ends, mixed. */
export function flowHash(src: IPAddr, sport: number, dst: IPAddr, dport: number): number {
  let h = 0x811c9dc5;
  const mix = (b: number): void => { h = Math.imul(h ^ b, 0x01000193); };
  for (const b of src) mix(b);
  for (const b of dst) mix(b);
  mix(sport >> 8); mix(sport & 0xff); mix(dport >> 8); mix(dport & 0xff);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
