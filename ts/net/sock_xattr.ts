// sockfs's extended attributes (Linux net/socket.c): every socket shows one read-only name,
// system.sockprotoname, whose value is its protocol's name (sk_prot_creator->name) with the
// NUL; the security.* handler only hands sets to the security module (EAGAIN, which a set
// reports as EOPNOTSUPP when no module takes it, and a removal as it is).

import { SyscallError } from '../kernel/syscall_error';
import { EAGAIN, ENOTSUP as EOPNOTSUPP } from '../abi/linux/errno';
import { AF_INET6, AF_NETLINK, AF_PACKET, AF_UNIX, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM } from '../abi/linux/socket';
import { XATTR_SECURITY_PREFIX, type XattrHandlers } from '../vfs/xattr';
import type { Socket } from './socket';

const XATTR_NAME_SOCKPROTONAME = 'system.sockprotoname';
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;

/** The name of the proto a socket was made with. */
export function sockProtoName(s: Socket): string {
  const v6 = s.family === AF_INET6 ? 'v6' : '';
  switch (s.family) {
    case AF_UNIX: return s.type === SOCK_STREAM ? 'UNIX-STREAM' : 'UNIX';
    case AF_NETLINK: return 'NETLINK';
    case AF_PACKET: return 'PACKET';
  }
  if (s.type === SOCK_STREAM) return `TCP${v6}`;
  if (s.type === SOCK_RAW) return `RAW${v6}`;
  if (s.type === SOCK_DGRAM && (s.protocol === IPPROTO_ICMP || s.protocol === IPPROTO_ICMPV6)) return `PING${v6}`;
  return `UDP${v6}`;
}

export function sockfsXattrs(s: Socket): XattrHandlers {
  return {
    getxattr(name: string): Uint8Array {
      if (name !== XATTR_NAME_SOCKPROTONAME) throw new SyscallError(EOPNOTSUPP);
      return Buffer.from(`${sockProtoName(s)}\0`, 'latin1');
    },
    setxattr(name: string, value: Uint8Array | null): void {
      if (!name.startsWith(XATTR_SECURITY_PREFIX) || name.length === XATTR_SECURITY_PREFIX.length) {
        throw new SyscallError(EOPNOTSUPP);
      }
      throw new SyscallError(value ? EOPNOTSUPP : EAGAIN);
    },
    listxattr(): string[] { return [XATTR_NAME_SOCKPROTONAME]; },
  };
}
