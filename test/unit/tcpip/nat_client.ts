// For the NAT tests with real host sockets: a sandbox TCP client started towards the gateway
// address (10.0.2.2 stands for the host's 127.0.0.1), and a wait for a condition.
import { GATEWAY_ADDR, GUEST_ADDR } from '../../../ts/net/nat/policy';
import { TcpEndpoint, type Stack } from '../../../ts/tcpip/stack';

/** Polls cond every `every` ms until it holds or `ms` pass. */
export async function until(cond: () => boolean, ms: number, every: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, every));
}

/** A guest endpoint bound to lport (0: any) connecting to the gateway's port. */
export function connectToGateway(stack: Stack, port: number, lport = 0, reuseAddr = false): TcpEndpoint {
  const c = new TcpEndpoint(stack, false);
  const b = { v4: true, v6: false, addr: GUEST_ADDR, reuseAddr, reusePort: false, uid: 0, listening: () => false };
  c.lport = stack.tcpPorts.reserve(lport, b, c);
  c.binding = b;
  c.local = GUEST_ADDR.slice();
  c.remote = GATEWAY_ADDR.slice();
  c.rport = port;
  stack.registerConn(c);
  c.connect();
  stack.flush();
  return c;
}
