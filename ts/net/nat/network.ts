// The sandbox's network as --network and --publish ask (ts/net/nat owns the user-mode NAT:
// this file, nat.ts, tcp_splice.ts, host_reader.ts, publish.ts, policy.ts, resolv.ts; it is the only part of
// the sandbox network that makes host sockets, and only those its flows need). "sandbox":
// lo plus eth0 (10.0.2.15/24, default route via 10.0.2.2), whose wire ends in the gateway
// stack of the NAT. "none": lo only. The stack is installed for the kernel before the first
// socket; close() ends every host socket when the sandbox ends.

import { setStackOf, Stack } from '../../tcpip/stack';
import { EthernetLink } from '../../tcpip/link/ethernet';
import { RT_SCOPE_UNIVERSE } from '../../tcpip/nic';
import { V4_ANY, V6_ANY } from '../../tcpip/addr';
import { Nat } from './nat';
import {
  DNS_ADDR, DNS_ADDR6, GATEWAY_ADDR, GATEWAY_ADDR6, GATEWAY_MAC, GUEST_ADDR, GUEST_ADDR6, GUEST_MAC, SANDBOX_PREFIX, SANDBOX_PREFIX6,
  type HostTarget, type NatPolicy,
} from './policy';
import { Publisher, type PublishSpec } from './publish';
import { hostResolver } from './resolv';
import { setHostNetwork } from '../host/mode';

export type NetworkMode = 'sandbox' | 'none' | 'host';

export interface NetworkOptions {
  mode: NetworkMode;
  publish: PublishSpec[];
}

export interface SandboxNetwork {
  stack: Stack;
  nat: Nat | null;
  gateway: Stack | null;
  close(): void;
}

/** fe80::/64 with the modified EUI-64 of mac (RFC 4291 appendix A). */
export function linkLocalOf(mac: Uint8Array): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a.set([mac[0] ^ 2, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]], 8);
  return a;
}

/** The sandbox's stack with eth0 wired to a NAT gateway (no host socket is made yet). */
export function newSandboxNetwork(policy: NatPolicy): { stack: Stack; gateway: Stack; nat: Nat } {
  const stack = new Stack();
  const eth0 = stack.addEthernet('eth0', GUEST_MAC);
  stack.routeTable.addAddress(eth0.info, GUEST_ADDR, SANDBOX_PREFIX);
  stack.routeTable.addAddress(eth0.info, linkLocalOf(GUEST_MAC), 64);
  stack.routeTable.addAddress(eth0.info, GUEST_ADDR6, SANDBOX_PREFIX6);
  stack.routeTable.addRoute({ dst: V4_ANY, prefixLen: 0, gateway: GATEWAY_ADDR.slice(), ifindex: eth0.info.index, prefSrc: null, metric: 0, scope: RT_SCOPE_UNIVERSE });
  stack.routeTable.addRoute({ dst: V6_ANY, prefixLen: 0, gateway: GATEWAY_ADDR6.slice(), ifindex: eth0.info.index, prefSrc: null, metric: 1024, scope: RT_SCOPE_UNIVERSE });

  const gateway = new Stack();
  gateway.promiscuous = true;
  const gw0 = gateway.addEthernet('gw0', GATEWAY_MAC);
  gateway.routeTable.addAddress(gw0.info, GATEWAY_ADDR, SANDBOX_PREFIX);
  gateway.routeTable.addAddress(gw0.info, DNS_ADDR, SANDBOX_PREFIX);
  gateway.routeTable.addAddress(gw0.info, linkLocalOf(GATEWAY_MAC), 64);
  gateway.routeTable.addAddress(gw0.info, GATEWAY_ADDR6, SANDBOX_PREFIX6);
  gateway.routeTable.addAddress(gw0.info, DNS_ADDR6, SANDBOX_PREFIX6);
  EthernetLink.connect(eth0, gw0);
  const nat = new Nat(gateway, policy);
  gateway.forwarder = nat;
  return { stack, gateway, nat };
}

/** The NAT's policy with the host's resolver read at the first DNS query, not at start-up. */
function lazyResolver(): NatPolicy {
  let dns: HostTarget | null | undefined;
  return { get dns(): HostTarget | null { return dns === undefined ? (dns = hostResolver()) : dns; } };
}

/** Build the network of a sandbox for kernel; resolves once every --publish listens. */
export async function setupNetwork(kernel: object, opts: NetworkOptions): Promise<SandboxNetwork> {
  if (opts.mode !== 'sandbox') {
    const stack = new Stack();
    setStackOf(kernel, stack);
    if (opts.mode === 'host') setHostNetwork(kernel);
    return { stack, nat: null, gateway: null, close: () => {} };
  }
  const { stack, gateway, nat } = newSandboxNetwork(lazyResolver());
  setStackOf(kernel, stack);
  const pub = new Publisher(gateway);
  const close = (): void => { nat.close(); pub.close(); };
  try {
    for (const p of opts.publish) await pub.listen(p);
  } catch (e) {
    close();
    throw e;
  }
  return { stack, nat, gateway, close };
}
