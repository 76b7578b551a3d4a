// socket(AF_INET|AF_INET6, ...) (Linux inet_create / inet6_create): which protocol a type
// and protocol number name. SOCK_STREAM is TCP and SOCK_DGRAM is UDP; a protocol that does
// not go with the type is EPROTONOSUPPORT; SOCK_DGRAM with the family's ICMP protocol is a
// ping socket and SOCK_RAW with it a raw ICMP socket (icmp_socket.ts); SOCK_RAW with any other
// protocol is a raw IP socket (raw_socket.ts), both after the CAP_NET_RAW check.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EINVAL, EPROTONOSUPPORT, ESOCKTNOSUPPORT } from '../../abi/linux/errno';
import { O_NONBLOCK } from '../../abi/linux/fcntl';
import { AF_INET6, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM } from '../../abi/linux/socket';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IcmpSocket, checkIcmpCreate } from './icmp_socket';
import { inInitialNetNs, netStackOf } from '../../kernel/ns/net_ns';
import type { Socket } from '../socket';
import type { SocketSpec } from '../socket_create';
import { IPPROTO_TCP, IPPROTO_UDP } from './inet_opts';
import { TcpSocket } from './tcp_socket';
import { UdpSocket } from './udp_socket';
import { RawSocket } from './raw_socket';
import { isHostNetwork } from '../host/mode';
import { newHostSocket } from '../host/host_socket';

export function createInetSocket(t: Task, spec: SocketSpec): Socket {
  const flags = spec.nonblock ? O_NONBLOCK : 0;
  const stack = netStackOf(t);
  // Host sockets stand for the initial network namespace only; a new one has its own stack.
  const host = isHostNetwork(t.kernel) && inInitialNetNs(t);
  const uid = t.creds.euid;
  const gid = t.creds.egid;
  // IPPROTO_MAX: protocol numbers past it are EINVAL for every type.
  if (spec.protocol < 0 || spec.protocol >= 263) fail(EINVAL);
  const icmp = spec.family === AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
  switch (spec.type) {
    case SOCK_STREAM:
      if (spec.protocol !== 0 && spec.protocol !== IPPROTO_TCP) fail(EPROTONOSUPPORT);
      if (host) return newHostSocket(spec.family, SOCK_STREAM, IPPROTO_TCP, spec.nonblock, uid, gid);
      return Object.assign(new TcpSocket(stack, flags, spec.family, uid, gid), { kernel: t.kernel });
    case SOCK_DGRAM:
      if (spec.protocol === icmp) {
        checkIcmpCreate(t, SOCK_DGRAM);
        return new IcmpSocket(stack, flags, spec.family, SOCK_DGRAM, uid, gid);
      }
      if (spec.protocol !== 0 && spec.protocol !== IPPROTO_UDP) fail(EPROTONOSUPPORT);
      if (host) return newHostSocket(spec.family, SOCK_DGRAM, IPPROTO_UDP, spec.nonblock, uid, gid);
      return new UdpSocket(stack, flags, spec.family, uid, gid);
    case SOCK_RAW:
      if (spec.protocol === 0) fail(EPROTONOSUPPORT);
      checkIcmpCreate(t, SOCK_RAW);
      if (spec.protocol !== icmp) return new RawSocket(stack, flags, spec.family, spec.protocol, uid, gid);
      return new IcmpSocket(stack, flags, spec.family, SOCK_RAW, uid, gid);
    default:
      fail(ESOCKTNOSUPPORT);
  }
}
