// The interface ioctls every socket takes (Linux net/core/dev_ioctl.c dev_ioctl, dev_ifconf,
// net/ipv4/devinet.c devinet_ioctl): SIOCGIF* read the interfaces (../interfaces.ts) through a
// struct ifreq copied in and out whole, so the bytes a request does not set stay as the
// caller left them. The address requests (SIOCGIFADDR, NETMASK, BRDADDR, DSTADDR) are
// AF_INET's alone, ENOTTY on other sockets; changes (SIOCSIF*) are EPERM without
// CAP_NET_ADMIN, checked before the name as Linux does. SIOCSIFMTU and SIOCSIFFLAGS (up and
// down) change the sandbox's own interface; the other changes are EOPNOTSUPP.

import { netCapable, setLinkMtu, setLinkUp } from '../kernel/ns/net_ns';
import { IFF_UP } from '../tcpip/nic';
import type { Task } from '../kernel/task';
import { fail } from '../kernel/syscall_error';
import { EADDRNOTAVAIL, EFAULT, EINVAL, ENODEV, ENOTSUP as EOPNOTSUPP, ENOTTY, EPERM } from '../abi/linux/errno';
import { AF_INET } from '../abi/linux/socket';
import { netStackOf } from '../kernel/ns/net_ns';
import { interfaceByIndex, interfaceByName, netInterfaces, prefixMask, type NetInterface } from './interfaces';
import type { Socket } from './socket';

const SIOCGIFNAME = 0x8910;
const SIOCGIFCONF = 0x8912;
const SIOCGIFFLAGS = 0x8913;
const SIOCGIFADDR = 0x8915;
const SIOCGIFDSTADDR = 0x8917;
const SIOCGIFBRDADDR = 0x8919;
const SIOCGIFNETMASK = 0x891b;
const SIOCGIFMETRIC = 0x891d;
const SIOCGIFMTU = 0x8921;
const SIOCGIFHWADDR = 0x8927;
const SIOCGIFINDEX = 0x8933;
const SIOCGIFTXQLEN = 0x8942;
const SIOCGIFMAP = 0x8970;
const SIOCSIFFLAGS = 0x8914;
const SIOCSIFMTU = 0x8922;
/** Requests that change an interface (dev_ioctl's and devinet_ioctl's "set" side). */
const SETTERS = new Set([
  SIOCSIFFLAGS, 0x8916 /* SIOCSIFADDR */, 0x8918 /* SIOCSIFDSTADDR */, 0x891a /* SIOCSIFBRDADDR */,
  0x891c /* SIOCSIFNETMASK */, 0x891e /* SIOCSIFMETRIC */, SIOCSIFMTU, 0x8923 /* SIOCSIFNAME */,
  0x8924 /* SIOCSIFHWADDR */, 0x8931 /* SIOCADDMULTI */, 0x8932 /* SIOCDELMULTI */, 0x8934 /* SIOCSIFPFLAGS */,
  0x8936 /* SIOCDIFADDR */, 0x8937 /* SIOCSIFHWBROADCAST */, 0x8943 /* SIOCSIFTXQLEN */, 0x8971 /* SIOCSIFMAP */,
]);
const INET_ONLY = new Set([SIOCGIFADDR, SIOCGIFDSTADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK, 0x8916, 0x8918, 0x891a, 0x891c, 0x8936]);
const CAP_NET_ADMIN = 12;
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;
/** struct ifconf: int ifc_len, then (aligned) the buffer pointer. */
const IFCONF_SIZE = 16;

/** Whether cmd is one of the interface requests this file answers. */
export function isIfreqIoctl(cmd: number): boolean {
  return (cmd >= 0x8910 && cmd <= 0x8943) || cmd === SIOCGIFMAP || cmd === 0x8971;
}

function ifName(req: Uint8Array): string {
  const n = req.subarray(0, IFNAMSIZ);
  const end = n.indexOf(0);
  return new TextDecoder('latin1').decode(end >= 0 ? n.subarray(0, end) : n);
}

function putSockaddrIn(req: Uint8Array, addr: Uint8Array): void {
  // The whole 16-byte sockaddr: family, port 0, address, zero padding (as devinet_ioctl's).
  req.fill(0, 16, 32);
  req[16] = AF_INET;
  req.set(addr, 20);
}

export function ifreqIoctl(t: Task, s: Socket, cmd: number, arg: number): number {
  const stack = netStackOf(t);
  if (cmd === SIOCGIFCONF) return ifconf(t, arg, netInterfaces(stack));
  if (INET_ONLY.has(cmd) && s.family !== AF_INET) fail(ENOTTY);
  if (SETTERS.has(cmd)) {
    if (!netCapable(t, CAP_NET_ADMIN)) fail(EPERM);
    const req = t.mm.copyIn(arg, IFREQ_SIZE);
    const nic = stack.nicByName(ifName(req));
    if (!nic) fail(ENODEV);
    const val = new DataView(req.buffer, req.byteOffset, IFREQ_SIZE).getInt32(16, true);
    if (cmd === SIOCSIFMTU) {
      if (!setLinkMtu(nic, val)) fail(EINVAL);
      return 0;
    }
    if (cmd === SIOCSIFFLAGS) {
      // dev_change_flags: only IFF_UP has an effect on these links.
      if (((val ^ nic.flags) & IFF_UP) !== 0) setLinkUp(nic, (val & IFF_UP) !== 0);
      return 0;
    }
    fail(EOPNOTSUPP);
  }
  const req = t.mm.copyIn(arg, IFREQ_SIZE);
  const v = new DataView(req.buffer, req.byteOffset, IFREQ_SIZE);
  if (cmd === SIOCGIFNAME) {
    const nic = interfaceByIndex(stack, v.getInt32(16, true));
    if (!nic) fail(ENODEV);
    req.fill(0, 0, IFNAMSIZ);
    req.set(new TextEncoder().encode(nic.name).subarray(0, IFNAMSIZ - 1));
    t.mm.copyOut(arg, req);
    return 0;
  }
  const nic = interfaceByName(stack, ifName(req));
  if (!nic) fail(ENODEV);
  switch (cmd) {
    case SIOCGIFFLAGS: v.setUint16(16, nic.flags & 0xffff, true); break;
    case SIOCGIFMETRIC: v.setInt32(16, 0, true); break;
    case SIOCGIFMTU: v.setInt32(16, nic.mtu, true); break;
    case SIOCGIFINDEX: v.setInt32(16, nic.index, true); break;
    case SIOCGIFTXQLEN: v.setInt32(16, nic.txqlen, true); break;
    case SIOCGIFHWADDR:
      v.setUint16(16, nic.type, true);
      req.set(nic.hwaddr.subarray(0, 14), 18);
      break;
    case SIOCGIFMAP:
      // struct ifmap: no memory window, I/O base, irq, dma or port on these links.
      req.fill(0, 16, IFREQ_SIZE);
      break;
    case SIOCGIFADDR: case SIOCGIFNETMASK: case SIOCGIFBRDADDR: case SIOCGIFDSTADDR: {
      const a = nic.addrs.find((x) => x.addr.length === 4);
      if (!a) fail(EADDRNOTAVAIL);
      const val = cmd === SIOCGIFNETMASK ? prefixMask(4, a.prefix)
        : cmd === SIOCGIFBRDADDR ? (a.broadcast ?? new Uint8Array(4)) : a.addr;
      putSockaddrIn(req, val);
      break;
    }
    default:
      fail(ENOTTY);
  }
  t.mm.copyOut(arg, req);
  return 0;
}

/** dev_ifconf: one ifreq per IPv4 address; with a null buffer, the size they need. */
function ifconf(t: Task, arg: number, nics: NetInterface[]): number {
  const hdr = t.mm.copyIn(arg, IFCONF_SIZE);
  const hv = new DataView(hdr.buffer, hdr.byteOffset, IFCONF_SIZE);
  const len = hv.getInt32(0, true);
  const buf = Number(hv.getBigUint64(8, true));
  const entries: Uint8Array[] = [];
  for (const nic of nics) {
    for (const a of nic.addrs) {
      if (a.addr.length !== 4) continue;
      const r = new Uint8Array(IFREQ_SIZE);
      r.set(new TextEncoder().encode(nic.name).subarray(0, IFNAMSIZ - 1));
      putSockaddrIn(r, a.addr);
      entries.push(r);
    }
  }
  let total = 0;
  if (buf === 0) {
    total = entries.length * IFREQ_SIZE;
  } else {
    for (const e of entries) {
      if (len - total < IFREQ_SIZE) break;
      try {
        t.mm.copyOut(buf + total, e);
      } catch {
        fail(EFAULT);
      }
      total += IFREQ_SIZE;
    }
  }
  t.mm.writeI32(arg, total);
  return 0;
}
