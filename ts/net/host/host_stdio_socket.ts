// The sandbox's stdio may be host sockets: Node's child_process, and so every test harness
// written in Node, hands a child socketpairs, not pipes. fstat shows them as sockets, so
// programs ask what kind (libuv's uv_guess_handle: getsockname, then getsockopt SO_TYPE) and
// give up on the descriptor (Node then prints nothing) when the answer is ENOTSOCK. gVisor
// imports such descriptors as host unix sockets. Here they stay host files for reading and
// writing, and answer the questions that classify them: getsockname/getpeername (the family
// alone for AF_UNIX: a host socket's path is not the sandbox's business) and a few read-only
// SOL_SOCKET options. Nothing else reaches the host socket: the other socket calls answer
// as Linux answers a connected, unnamed AF_UNIX stream socket where that answer does not
// depend on the host (hostStdioRefusal), and EPERM where Linux would act on the host socket.

import { addon } from '../../native/addon';
import { HostFileDescription } from '../../vfs/host_file';
import type { FileDescription } from '../../vfs/file_description';
import { S_IFMT, S_IFSOCK } from '../../abi/linux/stat';
import { SyscallError } from '../../kernel/syscall_error';
import { check } from './host_socket';
import { EINVAL, EISCONN, ENOPROTOOPT, ENOTSUP as EOPNOTSUPP, EPERM } from '../../abi/linux/errno';
import { SOL_SOCKET, SO_ACCEPTCONN, SO_DOMAIN, SO_ERROR, SO_PROTOCOL, SO_RCVBUF, SO_SNDBUF, SO_TYPE } from '../../abi/linux/socket';

const AF_UNIX = 1;
const READABLE = new Set([SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_ACCEPTCONN, SO_RCVBUF, SO_SNDBUF]);

/** The host fd behind f if f is a host descriptor that is a socket, else null. */
export function hostStdioSocket(f: FileDescription): number | null {
  if (!(f instanceof HostFileDescription)) return null;
  return (f.stat().mode & S_IFMT) === S_IFSOCK ? f.hostFd : null;
}

export function hostStdioSockName(fd: number, peer: boolean): Uint8Array {
  const out = new Uint8Array(128);
  const n = check(addon().hostSockName(fd, peer, out));
  const family = n >= 2 ? out[0] | (out[1] << 8) : 0;
  return out.slice(0, family === AF_UNIX ? 2 : Math.min(n, out.length));
}

export function hostStdioSockopt(fd: number, level: number, name: number): Uint8Array {
  if (level !== SOL_SOCKET || !READABLE.has(name)) throw new SyscallError(ENOPROTOOPT);
  const out = new Uint8Array(4);
  const n = check(addon().hostGetsockopt(fd, level, name, out));
  return out.slice(0, n);
}

/** The socket calls a host stdio socket does not take, and what each is given. */
export type HostSocketCall =
  | { call: 'listen' | 'accept' | 'bind' }
  | { call: 'connect'; addr: Uint8Array }
  | { call: 'shutdown'; how: number }
  | { call: 'setsockopt'; level: number; len: number }
  | { call: 'send' | 'recv' };

const SHUT_RDWR = 2;

/** The errno of a call on a host stdio socket that never reaches it. listen and accept: the
 *  socket does not listen (EINVAL); connect: it is connected (EISCONN) once its address
 *  passes unix_validate_addr; bind: EINVAL, as for a bound one (natively an unnamed
 *  socketpair end could bind, naming a host socket: not the sandbox's to do). Data goes
 *  through read and write only, and the host socket's options and state are not the
 *  sandbox's to change: send, recv, a valid shutdown and SOL_SOCKET setsockopt are EPERM. */
export function hostStdioRefusal(c: HostSocketCall): never {
  switch (c.call) {
    case 'listen': case 'accept': case 'bind':
      throw new SyscallError(EINVAL);
    case 'connect': {
      const family = c.addr.length >= 2 ? c.addr[0] | (c.addr[1] << 8) : -1;
      throw new SyscallError(c.addr.length <= 2 || c.addr.length > 110 || family !== AF_UNIX ? EINVAL : EISCONN);
    }
    case 'shutdown':
      throw new SyscallError(c.how < 0 || c.how > SHUT_RDWR ? EINVAL : EPERM);
    case 'setsockopt':
      throw new SyscallError(c.len < 0 ? EINVAL : c.level !== SOL_SOCKET ? EOPNOTSUPP : EPERM);
    default:
      throw new SyscallError(EPERM);
  }
}
