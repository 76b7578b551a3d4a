// TCP endpoints of one Stack for the packet-driven tests: a listener on a port, and a client
// connected to it over the stack's loopback (no sockets, no tasks), and a tap on that loopback.
import { Stack, TcpEndpoint } from '../../../ts/tcpip/stack';
import { TCPS } from '../../../ts/tcpip/tcp/states';
import { V4_LOOPBACK } from '../../../ts/tcpip/addr';
import { IPPROTO_TCP, parseTCP, type TCPSegment } from '../../../ts/tcpip/header/tcp';

/** Hand every IPv4 TCP segment the stack sends on its loopback to `keep` before it goes on
 *  (false: dropped). The stack's own segments come without their checksum (offloaded on lo). */
export function tapTcp(stack: Stack, keep: (seg: TCPSegment, pkt: Uint8Array) => boolean): void {
  const link = stack.loopback;
  const send = link.send.bind(link);
  link.send = (pkt: Uint8Array, offloaded = false): void => {
    if (pkt[0] >> 4 === 4 && pkt[9] === IPPROTO_TCP) {
      const seg = parseTCP(pkt.subarray((pkt[0] & 15) * 4), pkt.subarray(12, 16), pkt.subarray(16, 20), !offloaded);
      if (seg && !keep(seg, pkt)) return;
    }
    send(pkt, offloaded);
  };
}

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
