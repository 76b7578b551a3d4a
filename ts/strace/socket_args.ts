// strace's view of socket arguments: family and type names, and a sockaddr as
// {sa_family=AF_UNIX, sun_path="/tmp/s"} (an abstract name shows as @name).

import type { Task } from '../kernel/task';
import {
  AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNIX, AF_UNSPEC, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_RAW,
  SOCK_SEQPACKET, SOCK_STREAM, SOCK_TYPE_MASK,
} from '../abi/linux/socket';
import { displayName, familyOf } from '../net/sockaddr';
import { quote } from './quote';
import { peek } from './safe_memory';

const FAMILIES: Record<number, string> = {
  [AF_UNSPEC]: 'AF_UNSPEC', [AF_UNIX]: 'AF_UNIX', [AF_INET]: 'AF_INET', [AF_INET6]: 'AF_INET6',
  [AF_NETLINK]: 'AF_NETLINK', [AF_PACKET]: 'AF_PACKET',
};
const TYPES: Record<number, string> = {
  [SOCK_STREAM]: 'SOCK_STREAM', [SOCK_DGRAM]: 'SOCK_DGRAM', [SOCK_RAW]: 'SOCK_RAW', [SOCK_SEQPACKET]: 'SOCK_SEQPACKET',
};

export function familyName(f: number): string {
  return FAMILIES[f] ?? `${f}`;
}

export function sockTypeName(v: number): string {
  const parts = [TYPES[v & SOCK_TYPE_MASK] ?? `${v & SOCK_TYPE_MASK}`];
  if (v & SOCK_NONBLOCK) parts.push('SOCK_NONBLOCK');
  if (v & SOCK_CLOEXEC) parts.push('SOCK_CLOEXEC');
  const rest = v & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (rest) parts.push(`0x${rest.toString(16)}`);
  return parts.join('|');
}

export function sockaddrArg(t: Task, addr: number, len: number): string {
  if (addr === 0) return 'NULL';
  const raw = len > 0 && len <= 128 ? peek(t, addr, len) : null;
  if (!raw) return `0x${addr.toString(16)}`;
  const fam = familyOf(raw);
  if (fam !== AF_UNIX) return `{sa_family=${familyName(fam)}, ...}`;
  if (raw.length <= 2) return '{sa_family=AF_UNIX}';
  const name = displayName(raw);
  return `{sa_family=AF_UNIX, sun_path=${quote(new TextEncoder().encode(name), false)}}`;
}
