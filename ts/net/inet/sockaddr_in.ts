// sockaddr_in and sockaddr_in6 (Linux include/uapi/linux/in.h, in6.h): what a program's
// address bytes mean for an AF_INET or AF_INET6 socket, and the exact bytes getsockname,
// getpeername, accept and recvfrom give back (16 and 28 bytes; an AF_INET6 socket shows an
// IPv4 peer as ::ffff:a.b.c.d).

import { fail } from '../../kernel/syscall_error';
import { EAFNOSUPPORT, EINVAL } from '../../abi/linux/errno';
import { AF_INET, AF_INET6, AF_UNSPEC } from '../../abi/linux/socket';
import { V4_ANY, V6_ANY, mapV4, type IPAddr } from '../../tcpip/addr';

export const SOCKADDR_IN_SIZE = 16;
export const SOCKADDR_IN6_SIZE = 28;
/** SIN6_LEN_RFC2133: the shortest sockaddr_in6 Linux takes (no sin6_scope_id). */
export const SIN6_LEN_RFC2133 = 24;

export interface InetAddr { addr: IPAddr; port: number }

export function familyOfRaw(raw: Uint8Array): number {
  return raw.length < 2 ? -1 : raw[0] | (raw[1] << 8);
}

/** Parse an address for a socket of `family`. allowUnspecAny: bind's AF_UNSPEC +
 *  INADDR_ANY exception for AF_INET (kept for old programs, as Linux does). */
export function parseInetAddr(raw: Uint8Array, family: number, allowUnspecAny = false): InetAddr {
  if (family === AF_INET) {
    if (raw.length < SOCKADDR_IN_SIZE) fail(EINVAL);
    const fam = familyOfRaw(raw);
    const addr = raw.slice(4, 8);
    if (fam !== AF_INET) {
      const anyOk = allowUnspecAny && fam === AF_UNSPEC && addr.every((b) => b === 0);
      if (!anyOk) fail(EAFNOSUPPORT);
    }
    return { addr, port: (raw[2] << 8) | raw[3] };
  }
  if (raw.length < SIN6_LEN_RFC2133) fail(EINVAL);
  if (familyOfRaw(raw) !== AF_INET6) fail(EAFNOSUPPORT);
  return { addr: raw.slice(8, 24), port: (raw[2] << 8) | raw[3] };
}

/** The sockaddr a socket of `family` shows for addr:port (addr null: the wildcard). */
export function buildInetAddr(family: number, addr: IPAddr | null, port: number): Uint8Array {
  if (family === AF_INET) {
    const b = new Uint8Array(SOCKADDR_IN_SIZE);
    b[0] = AF_INET;
    b[2] = port >> 8;
    b[3] = port & 0xff;
    b.set(addr && addr.length === 4 ? addr : V4_ANY, 4);
    return b;
  }
  const b = new Uint8Array(SOCKADDR_IN6_SIZE);
  b[0] = AF_INET6;
  b[2] = port >> 8;
  b[3] = port & 0xff;
  b.set(addr === null ? V6_ANY : addr.length === 4 ? mapV4(addr) : addr, 8);
  return b;
}
