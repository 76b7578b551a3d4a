// RTM_GETNEIGH dumps (Linux neigh_dump_info / neigh_fill_info): the neighbours the sandbox
// stack has resolved — ARP entries for AF_INET, neighbour discovery's for AF_INET6, both for
// AF_UNSPEC — each an ndmsg with NDA_DST, NDA_LLADDR, NDA_CACHEINFO and NDA_PROBES, as
// `ip neigh` reads them. Entries still being resolved, or that failed, are not kept by the
// stack and so are not shown.

import { AF_INET, AF_INET6 } from '../../abi/linux/socket';
import type { Stack } from '../../tcpip/stack';
import { NLM_F_MULTI, NlWriter } from './message';

export const RTM_NEWNEIGH = 28;
export const RTM_GETNEIGH = 30;
const NDMSG_SIZE = 12;
const NDA_DST = 1;
const NDA_LLADDR = 2;
const NDA_CACHEINFO = 3;
const NDA_PROBES = 4;
const NUD_REACHABLE = 0x02;
const NUD_STALE = 0x04;
const RTN_UNICAST = 1;

/** The dump for family (AF_UNSPEC: IPv4 then IPv6). */
export function neighDump(stack: Stack, family: number, seq: number, pid: number): Uint8Array[] {
  const w = new NlWriter();
  const out: Uint8Array[] = [];
  for (const fam of [4, 16] as const) {
    if ((family === AF_INET && fam === 16) || (family === AF_INET6 && fam === 4)) continue;
    for (const n of stack.neighbours()) {
      if (n.ip.length !== fam) continue;
      w.begin(RTM_NEWNEIGH, NLM_F_MULTI, seq, pid);
      const h = w.struct(NDMSG_SIZE);
      h.setUint8(0, fam === 4 ? AF_INET : AF_INET6);
      h.setInt32(4, n.ifindex, true);
      h.setUint16(8, n.reachable ? NUD_REACHABLE : NUD_STALE, true);
      h.setUint8(11, RTN_UNICAST);
      w.attr(NDA_DST, n.ip);
      w.attr(NDA_LLADDR, n.mac);
      w.attr(NDA_CACHEINFO, new Uint8Array(16));
      w.u32(NDA_PROBES, 0);
      w.end();
      out.push(w.take());
    }
  }
  return out;
}
