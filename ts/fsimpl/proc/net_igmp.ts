// /proc/net/igmp and /proc/net/igmp6: the multicast groups each interface has joined
// (../../tcpip/multicast.ts) in Linux's layouts (igmp_mc_seq_show, igmp6_mc_seq_show), which
// `ip maddr`, netstat -g and Go's net.Interface.MulticastAddrs read. IGMPv3 is the querier
// version; no report timer ever runs (no IGMP or MLD is sent).

import { stackOf } from '../../tcpip/stack';
import { McastTable } from '../../tcpip/multicast';

function hex8(n: number): string { return (n >>> 0).toString(16).toUpperCase().padStart(8, '0'); }

export function procNetIgmp(net: object): string {
  const stack = stackOf(net);
  let out = 'Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n';
  for (const nic of stack.nics()) {
    const groups = stack.mcast.groups(nic, false);
    if (groups.length === 0) continue;
    out += `${nic.index}\t${nic.name.padEnd(10)}: ${String(groups.length).padStart(5)} ${'V3'.padStart(7)}\n`;
    for (const g of groups) {
      // The group as the __be32 Linux prints with %08X (read in host order).
      const a = g.addr;
      out += `\t\t\t\t${hex8(a[0] | (a[1] << 8) | (a[2] << 16) | (a[3] << 24))} ${String(g.users).padStart(5)} 0:00000000\t\t0\n`;
    }
  }
  return out;
}

export function procNetIgmp6(net: object): string {
  const stack = stackOf(net);
  let out = '';
  for (const nic of stack.nics()) {
    for (const g of stack.mcast.groups(nic, true)) {
      const addr = Array.from(g.addr, (b) => b.toString(16).padStart(2, '0')).join('');
      out += `${String(nic.index).padEnd(4)} ${nic.name.padEnd(15)} ${addr} ${String(g.users).padStart(5)} ${hex8(McastTable.mldFlags(g.addr))} 0\n`;
    }
  }
  return out;
}
