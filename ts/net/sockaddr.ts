// sockaddr_un (Linux net/unix/af_unix.c unix_validate_addr, unix_mkname_bsd): what a
// program's address bytes name. A filesystem name ends at its first NUL, and Linux then
// counts its length as family + path + NUL, however long the caller said it was (so a path
// filling all 108 bytes gives 111); an abstract name (leading NUL) is every byte given.

import { fail } from '../kernel/syscall_error';
import { EINVAL } from '../abi/linux/errno';
import { AF_UNIX, SOCKADDR_UN_SIZE } from '../abi/linux/socket';
import { bytesToString } from '../abi/byte_string';

/** sizeof(sa_family_t): the length of an address that is only a family. */
export const FAMILY_SIZE = 2;

export type UnixName =
  | { kind: 'path'; path: string; raw: Uint8Array }
  | { kind: 'abstract'; key: string; raw: Uint8Array }
  /** Only the family: bind autobinds. */
  | { kind: 'autobind' };

const latin1 = new TextDecoder('latin1');

/** The address family of raw (AF_UNSPEC for fewer than two bytes). */
export function familyOf(raw: Uint8Array): number {
  return raw.length < FAMILY_SIZE ? 0 : raw[0] | (raw[1] << 8);
}

/** Parse a sockaddr_un; `raw` is what the caller gave (already at most sockaddr_storage). */
export function parseUnixAddr(raw: Uint8Array, allowAutobind: boolean): UnixName {
  if (allowAutobind && raw.length === FAMILY_SIZE && familyOf(raw) === AF_UNIX) return { kind: 'autobind' };
  if (raw.length <= FAMILY_SIZE || raw.length > SOCKADDR_UN_SIZE) fail(EINVAL);
  if (familyOf(raw) !== AF_UNIX) fail(EINVAL);
  const path = raw.subarray(FAMILY_SIZE);
  if (path[0] === 0) {
    const bytes = raw.slice();
    return { kind: 'abstract', key: latin1.decode(path), raw: bytes };
  }
  let end = path.indexOf(0);
  if (end < 0) end = path.length;
  // The stored name: family, path, NUL (a 108-byte path without one still gets its NUL).
  const stored = new Uint8Array(FAMILY_SIZE + end + 1);
  stored.set(raw.subarray(0, FAMILY_SIZE + end));
  return { kind: 'path', path: bytesToString(path.subarray(0, end)), raw: stored };
}

/** An address that is only the family (an unbound socket's name). */
export function unnamed(): Uint8Array {
  return new Uint8Array([AF_UNIX & 0xff, AF_UNIX >> 8]);
}

/** The 5-hex-digit abstract name autobind picks (unix_autobind). */
export function autobindAddr(n: number): Uint8Array {
  const name = n.toString(16).padStart(5, '0');
  const raw = new Uint8Array(FAMILY_SIZE + 1 + 5);
  raw[0] = AF_UNIX;
  for (let i = 0; i < 5; i++) raw[FAMILY_SIZE + 1 + i] = name.charCodeAt(i);
  return raw;
}

/** How /proc/net/unix and strace show a name: the path, or '@' and the abstract bytes with
 *  each NUL as '@'. */
export function displayName(raw: Uint8Array): string {
  const path = raw.subarray(FAMILY_SIZE);
  if (path.length === 0) return '';
  if (path[0] === 0) return Array.from(path, (c) => (c === 0 ? '@' : String.fromCharCode(c))).join('');
  const end = path.indexOf(0);
  return bytesToString(end < 0 ? path : path.subarray(0, end));
}

export function abstractKey(raw: Uint8Array): string {
  return latin1.decode(raw.subarray(FAMILY_SIZE));
}
