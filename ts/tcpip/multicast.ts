// The multicast groups each interface has joined (Linux in_device.mc_list, igmp.c, and
// inet6_dev.mc_list, mcast.c): the all-hosts group 224.0.0.1 on every interface with IPv4,
// the all-nodes groups ff02::1 and ff01::1 on every one with IPv6, the solicited-node group
// of each unicast IPv6 address (not on lo), and what sockets joined, counted by users. A
// packet to a group is accepted on an interface only if the group is joined there
// (ip_check_mc_rcu, ipv6_chk_mcast_addr). No IGMP or MLD messages are sent: the only other
// end of the sandbox's links is the NAT, which routes no multicast.

import { addrEqual, type IPAddr } from './addr';
import { PacketQueue } from './link/queue';
import { IFF_LOOPBACK, type NicInfo } from './nic';

export interface McastGroup { addr: IPAddr; users: number }
/** A socket's membership as the interface sees it: whether it takes a source. */
export type SourceFilter = (src: IPAddr) => boolean;
interface Joined extends McastGroup { filters: SourceFilter[] }

const ALL_HOSTS = new Uint8Array([224, 0, 0, 1]);
const ALL_NODES_LINK = new Uint8Array([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const ALL_NODES_IF = new Uint8Array([0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

// MLD group flags /proc/net/igmp6 shows (MAF_*).
const MAF_LOADED = 0x04;
const MAF_NOREPORT = 0x08;

export function isMulticast(a: IPAddr): boolean {
  return a.length === 4 ? a[0] >= 224 && a[0] <= 239 : a[0] === 0xff;
}

/** ff02::1:ffXX:XXXX, the solicited-node group of a unicast IPv6 address. */
function solicitedNode(a: IPAddr): IPAddr {
  return new Uint8Array([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, a[13], a[14], a[15]]);
}

export class McastTable {
  /** Groups sockets joined, per interface index, newest first (as Linux lists them). */
  private readonly joinedBy = new Map<number, Joined[]>();
  /** The copies of our own multicast sent on an interface that come back in on it
   *  (dev_loopback_xmit), one queue per interface so that they arrive there. */
  private readonly loops = new Map<number, PacketQueue>();

  constructor(
    private readonly nics: () => readonly NicInfo[],
    private readonly deliver: (p: Uint8Array, nic: NicInfo, offloaded: boolean) => void,
    private readonly drained: () => void,
  ) {}

  /** Hand a copy of pkt, sent on nic, back to this host's members as if received there. */
  loopBack(nic: NicInfo, pkt: Uint8Array, offloaded: boolean): void {
    let q = this.loops.get(nic.index);
    if (!q) this.loops.set(nic.index, (q = new PacketQueue((p, off) => this.deliver(p, nic, off), this.drained)));
    q.send(pkt.slice(), offloaded);
  }

  /** Deliver the looped copies now (the stack's flush). */
  drain(): void {
    for (const q of this.loops.values()) q.drain();
  }

  /** The groups of nic, newest first: sockets' joins, then the interface's own. */
  groups(nic: NicInfo, v6: boolean): McastGroup[] {
    const own: McastGroup[] = [];
    const fam = nic.addrs.filter((x) => x.addr.length === (v6 ? 16 : 4));
    if (v6) {
      if (fam.length > 0 && !(nic.flags & IFF_LOOPBACK)) {
        for (const x of [...fam].reverse()) {
          const g = solicitedNode(x.addr);
          if (!own.some((o) => addrEqual(o.addr, g))) own.push({ addr: g, users: 1 });
        }
      }
      if (fam.length > 0) own.push({ addr: ALL_NODES_LINK, users: 1 }, { addr: ALL_NODES_IF, users: 1 });
    } else if (fam.length > 0) {
      own.push({ addr: ALL_HOSTS, users: 1 });
    }
    const socks = (this.joinedBy.get(nic.index) ?? []).filter((g) => g.addr.length === (v6 ? 16 : 4));
    // A socket's join of a group the interface holds anyway counts as one more user of it.
    const out = socks.filter((g) => !own.some((o) => addrEqual(o.addr, g.addr))).map((g) => ({ addr: g.addr, users: g.users }));
    for (const o of own) {
      const extra = socks.find((g) => addrEqual(g.addr, o.addr));
      out.push(extra ? { addr: o.addr, users: o.users + extra.users } : o);
    }
    return out;
  }

  /** Whether packets to group (from src, when given) are accepted on the interface with
   *  this index: the interface's own groups take any source; a group sockets joined takes a
   *  source one of their filters takes (the union Linux's per-interface filter amounts to). */
  joined(ifindex: number, group: IPAddr, src?: IPAddr): boolean {
    const nic = this.nics().find((n) => n.index === ifindex);
    if (nic === undefined || !this.groups(nic, group.length === 16).some((g) => addrEqual(g.addr, group))) return false;
    const j = this.joinedBy.get(ifindex)?.find((x) => addrEqual(x.addr, group));
    if (src === undefined || !j || j.users > j.filters.length) return true;
    return j.filters.some((f) => f(src));
  }

  join(ifindex: number, group: IPAddr, filter: SourceFilter): void {
    let list = this.joinedBy.get(ifindex);
    if (!list) this.joinedBy.set(ifindex, (list = []));
    const g = list.find((x) => addrEqual(x.addr, group));
    if (g) { g.users++; g.filters.push(filter); }
    else list.unshift({ addr: group.slice(), users: 1, filters: [filter] });
  }

  leave(ifindex: number, group: IPAddr, filter: SourceFilter): void {
    const list = this.joinedBy.get(ifindex);
    const i = list ? list.findIndex((x) => addrEqual(x.addr, group)) : -1;
    if (!list || i < 0) return;
    const j = list[i];
    j.filters.splice(j.filters.indexOf(filter), 1);
    if (--j.users === 0) list.splice(i, 1);
  }

  /** /proc/net/igmp6's flags of a group (the report timer never runs: no MLD here). */
  static mldFlags(group: IPAddr): number {
    const scope = group[1] & 0x0f;
    let f = scope < 2 ? 0 : MAF_LOADED;
    if (scope < 2 || addrEqual(group, ALL_NODES_LINK)) f |= MAF_NOREPORT;
    return f;
  }
}
