// RTM_NEWLINK / RTM_SETLINK on an existing link (Linux rtnl_newlink, do_setlink): bringing it up
// or down through ifi_flags/ifi_change (`ip link set lo up`), and its MTU (IFLA_MTU, `ip link
// set lo mtu 1500`). The link is found by ifi_index, else by IFLA_IFNAME. Creating links
// (IFLA_LINKINFO: veth, bridges...) and every other attribute (address, name...) are not
// modelled: EOPNOTSUPP rather than a change silently dropped.

import { EEXIST, EINVAL, ENODEV, ENOTSUP as EOPNOTSUPP } from '../../abi/linux/errno';
import { IFF_UP } from '../../tcpip/nic';
import type { Stack } from '../../tcpip/stack';
import { setLinkMtu, setLinkUp } from '../../kernel/ns/net_ns';
import { parseAttrs, type NlMsg } from './message';

const RTM_NEWLINK = 16, RTM_SETLINK = 19;
const IFINFOMSG = 16;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400;

/** null: not a link message. */
export function linkAdmin(stack: Stack, m: NlMsg): number | null {
  if (m.type !== RTM_NEWLINK && m.type !== RTM_SETLINK) return null;
  if (m.payload.length < IFINFOMSG) return EINVAL;
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, IFINFOMSG);
  const index = v.getInt32(4, true);
  const ifiFlags = v.getUint32(8, true);
  const ifiChange = v.getUint32(12, true);
  const attrs = parseAttrs(m.payload.subarray(IFINFOMSG));
  let nic = index > 0 ? stack.nicByIndex(index) : null;
  if (index <= 0) {
    const raw = attrs.get(IFLA_IFNAME);
    if (raw !== undefined) {
      const end = raw.indexOf(0);
      nic = stack.nicByName(Buffer.from(end >= 0 ? raw.subarray(0, end) : raw).toString('latin1'));
    }
  }
  if (nic === null) return m.type === RTM_NEWLINK && (m.flags & NLM_F_CREATE) !== 0 ? EOPNOTSUPP : ENODEV;
  if (m.type === RTM_NEWLINK && (m.flags & NLM_F_EXCL) !== 0) return EEXIST;
  for (const type of attrs.keys()) if (type !== IFLA_IFNAME && type !== IFLA_MTU) return EOPNOTSUPP;
  const mtu = attrs.get(IFLA_MTU);
  if (mtu !== undefined) {
    if (mtu.length < 4) return EINVAL;
    // IFLA_MTU is a u32: one past INT_MAX is negative to dev_set_mtu.
    if (!setLinkMtu(nic, new DataView(mtu.buffer, mtu.byteOffset, 4).getInt32(0, true))) return EINVAL;
  }
  if (ifiFlags === 0 && ifiChange === 0) return 0;
  // rtnl_dev_combine_flags: ifi_change 0 means every bit.
  const change = ifiChange === 0 ? 0xffffffff : ifiChange;
  const flags = ((ifiFlags & change) | (nic.flags & ~change)) >>> 0;
  if (((flags ^ nic.flags) & IFF_UP) !== 0) setLinkUp(nic, (flags & IFF_UP) !== 0);
  return 0;
}
