// TCP endpoints of one Stack for the packet-driven tests: a listener on a port, and a client
// connected to it over the stack's loopback (no sockets, no tasks).
import { Stack, TcpEndpoint } from '../../../ts/tcpip/stack';
import { TCPS } from '../../../ts/tcpip/tcp/states';
import { V4_LOOPBACK } from '../../../ts/tcpip/addr';

export function listener(stack: Stack, port: number): TcpEndpoint {
  const l = new TcpEndpoint(stack, false);
  const b = { v4: true, v6: false, addr: null, reuseAddr: false, reusePort: false, uid: 0, listening: () => l.state === TCPS.LISTEN };
  l.lport = stack.tcpPorts.reserve(port, b, l);
  l.binding = b;
  l.listen(8);
  return l;
}

/** A client of 127.0.0.1:port, connecting at once; `setup` adjusts it before the SYN. */
export function client(stack: Stack, port: number, setup: (c: TcpEndpoint) => void = () => {}): TcpEndpoint {
  const c = new TcpEndpoint(stack, false);
  const b = { v4: true, v6: false, addr: V4_LOOPBACK, reuseAddr: false, reusePort: false, uid: 0, listening: () => false };
  c.lport = stack.tcpPorts.reserve(0, b, c);
  c.binding = b;
  c.local = V4_LOOPBACK;
  c.remote = V4_LOOPBACK;
  c.rport = port;
  setup(c);
  stack.registerConn(c);
  c.connect();
  stack.flush();
  return c;
}
