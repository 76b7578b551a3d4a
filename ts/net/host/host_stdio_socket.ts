// The sandbox's stdio may be host sockets: Node's child_process, and so every test harness
// written in Node, hands a child socketpairs, not pipes. fstat shows them as sockets, so
// programs ask what kind (libuv's uv_guess_handle: getsockname, then getsockopt SO_TYPE) and
// give up on the descriptor (Node then prints nothing) when the answer is ENOTSOCK. gVisor
// imports such descriptors as host unix sockets. Here they stay host files for reading and
// writing, and answer the questions that classify them: getsockname/getpeername (the family
// alone for AF_UNIX: a host socket's path is not the sandbox's business) and a few read-only
// SOL_SOCKET options. Nothing else reaches the host socket.

import { addon } from '../../native/addon';
import { HostFileDescription } from '../../vfs/host_file';
import type { FileDescription } from '../../vfs/file_description';
import { S_IFMT, S_IFSOCK } from '../../abi/linux/stat';
import { SyscallError } from '../../kernel/syscall_error';
import { check } from './host_socket';
import { ENOPROTOOPT } from '../../abi/linux/errno';
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
