// Network namespaces (Linux net/core/net_namespace.c): each has its own TCP/IP stack (ts/tcpip
// Stack: interfaces, routes, ports, connections) and its own abstract unix socket names. The
// initial namespace's stack is the sandbox's configured one (loopback, and eth0 with the NAT
// or host sockets as --network says), kept under the kernel's key as before; a new namespace
// gets a stack with only a loopback that is down and has no address, as on Linux, until
// `ip link set lo up` (link_admin.ts) brings it up with 127.0.0.1/8 and ::1/128.
// Owns: which stack a task's sockets use. Must not touch: the stack's packet paths.

import type { Task } from '../task';
import { Stack, setStackOf, stackOf } from '../../tcpip/stack';
import { V4_LOOPBACK, V6_LOOPBACK, addrEqual } from '../../tcpip/addr';
import { IFF_LOOPBACK, IFF_LOWER_UP, IFF_RUNNING, IFF_UP, RT_SCOPE_HOST, type NicInfo } from '../../tcpip/nic';
import { initNsProxy, nsproxyOf } from './nsproxy';
import type { Namespace } from './namespace';

/** The task is in the sandbox's initial network namespace. */
export function inInitialNetNs(t: Task): boolean {
  return nsproxyOf(t).net === initNsProxy(t.kernel).net;
}

/** The key its namespace's stack is kept under (the kernel for the initial namespace). */
export function netKey(t: Task): object {
  const ns = nsproxyOf(t).net;
  return ns === initNsProxy(t.kernel).net ? t.kernel : ns;
}

/** The stack of the task's network namespace. */
export function netStackOf(t: Task): Stack {
  return stackOf(netKey(t));
}

/** setup_net for a new namespace: a loopback, down, without addresses. */
export function setupNetNamespace(ns: Namespace): void {
  const stack = new Stack();
  stack.lo.flags = IFF_LOOPBACK;
  stack.lo.addrs.length = 0;
  neverUp.add(stack.lo);
  setStackOf(ns, stack);
}

const UP = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;

/** Links never brought up: their queueing discipline is still Linux's noop one. */
const neverUp = new WeakSet<NicInfo>();
export function neverBroughtUp(nic: NicInfo): boolean { return neverUp.has(nic); }

/** dev_change_flags's IFF_UP part: a link up or down. A loopback brought up gets its
 *  addresses (the inetdev/addrconf set-up of NETDEV_UP) if it has none. */
export function setLinkUp(nic: NicInfo, up: boolean): void {
  if (!up) {
    nic.flags &= ~UP;
    return;
  }
  nic.flags |= UP;
  neverUp.delete(nic);
  if ((nic.flags & IFF_LOOPBACK) === 0) return;
  for (const [addr, prefixLen] of [[V4_LOOPBACK, 8], [V6_LOOPBACK, 128]] as const) {
    if (!nic.addrs.some((a) => addrEqual(a.addr, addr))) nic.addrs.push({ addr: addr.slice(), prefixLen, scope: RT_SCOPE_HOST });
  }
}

/** dev_set_mtu's dev_validate_mtu: lo takes any non-negative MTU (min_mtu and max_mtu 0);
 *  an Ethernet link (a veth) 68 (ETH_MIN_MTU) to 65535 (ETH_MAX_MTU). False: EINVAL. */
export function setLinkMtu(nic: NicInfo, mtu: number): boolean {
  const lo = (nic.flags & IFF_LOOPBACK) !== 0;
  if (mtu < 0 || (!lo && (mtu < 68 || mtu > 0xffff))) return false;
  nic.mtu = mtu;
  return true;
}

/** ns_capable(net->user_ns, cap): a capability over the task's network namespace's owner. */
export function netCapable(t: Task, cap: number): boolean {
  return t.creds.nsCapable(nsproxyOf(t).net.userNs, cap);
}
