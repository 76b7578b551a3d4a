// socket() and socketpair()'s choice of family (Linux __sock_create, unix_create): AF_UNIX,
// AF_INET/AF_INET6 (inet/) and AF_NETLINK (netlink/). Every other family is EAFNOSUPPORT:
// what Linux answers when a family is not built in (as with ipv6.disable=1), and what
// programs already handle — glibc, Python and Node treat it as "this family is not
// available here" and go on, where ENOSYS would read as a broken kernel.

import type { Task } from '../kernel/task';
import { fail } from '../kernel/syscall_error';
import { EAFNOSUPPORT, EINVAL, ENOTSUP as EOPNOTSUPP, EPROTONOSUPPORT, ESOCKTNOSUPPORT } from '../abi/linux/errno';
import { O_NONBLOCK } from '../abi/linux/fcntl';
import {
  AF_INET, AF_INET6, AF_MAX, AF_NETLINK, AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_MAX, SOCK_NONBLOCK, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM,
  SOCK_TYPE_MASK, TCP_ESTABLISHED,
} from '../abi/linux/socket';
import { ucredOf, type Socket } from './socket';
import { UnixSocket } from './unix/unix_socket';
import { createInetSocket } from './inet/create';
import { createNetlinkSocket } from './netlink/netlink_socket';

export interface SocketSpec { family: number; type: number; protocol: number; nonblock: boolean; cloexec: boolean }

/** Split socket()'s type argument and check everything that needs no family (EINVAL). */
/** __sys_socket's check of the flags in the type argument (before anything else). */
export function checkSocketFlags(typeArg: number): void {
  if ((typeArg & ~SOCK_TYPE_MASK) & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) fail(EINVAL);
}

export function socketSpec(family: number, typeArg: number, protocol: number): SocketSpec {
  checkSocketFlags(typeArg);
  const flags = typeArg & ~SOCK_TYPE_MASK;
  const type = typeArg & SOCK_TYPE_MASK;
  // __sock_create: the family before the type.
  if (family < 0 || family >= AF_MAX) fail(EAFNOSUPPORT);
  if (type >= SOCK_MAX) fail(EINVAL);
  return { family, type, protocol, nonblock: (flags & SOCK_NONBLOCK) !== 0, cloexec: (flags & SOCK_CLOEXEC) !== 0 };
}

/** unix_create: protocol 0 or PF_UNIX; SOCK_RAW is taken as SOCK_DGRAM, as Linux does. */
function unixType(spec: SocketSpec): number {
  if (spec.protocol !== 0 && spec.protocol !== AF_UNIX) fail(EPROTONOSUPPORT);
  switch (spec.type) {
    case SOCK_STREAM: case SOCK_DGRAM: case SOCK_SEQPACKET: return spec.type;
    case SOCK_RAW: return SOCK_DGRAM;
    default: fail(ESOCKTNOSUPPORT);
  }
}

export function createSocket(t: Task, spec: SocketSpec): Socket {
  if (spec.family === AF_INET || spec.family === AF_INET6) return createInetSocket(t, spec);
  if (spec.family === AF_NETLINK) return createNetlinkSocket(t, spec.type, spec.protocol, spec.nonblock);
  if (spec.family !== AF_UNIX) fail(EAFNOSUPPORT);
  return new UnixSocket(t, spec.nonblock ? O_NONBLOCK : 0, unixType(spec));
}

/** unix_socketpair: two connected sockets, each knowing the creator as its peer. */
export function createSocketPair(t: Task, spec: SocketSpec): [Socket, Socket] {
  if (spec.family === AF_INET || spec.family === AF_INET6) {
    // inet sockets have no socketpair (sock_no_socketpair), after the type checks.
    createInetSocket(t, spec).decRef();
    fail(EOPNOTSUPP);
  }
  if (spec.family === AF_NETLINK) {
    createNetlinkSocket(t, spec.type, spec.protocol, spec.nonblock).decRef();
    fail(EOPNOTSUPP);
  }
  if (spec.family !== AF_UNIX) fail(EAFNOSUPPORT);
  const type = unixType(spec);
  const flags = spec.nonblock ? O_NONBLOCK : 0;
  const a = new UnixSocket(t, flags, type);
  const b = new UnixSocket(t, flags, type);
  a.peer = b;
  b.peer = a;
  a.state = b.state = TCP_ESTABLISHED;
  a.peerCredVal = ucredOf(t);
  b.peerCredVal = ucredOf(t);
  return [a, b];
}
