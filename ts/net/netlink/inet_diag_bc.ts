// The filter programs of inet_diag dumps (INET_DIAG_REQ_BYTECODE; Linux net/ipv4/inet_diag.c
// inet_diag_bc_audit, inet_diag_bc_run): `ss sport = :80` and the like compile to a list of
// struct inet_diag_bc_op { u8 code; u8 yes; u16 no; } with operands after some of them, each
// jumping `yes` or `no` bytes ahead; a socket is listed when the run ends exactly at the end.
// The audit refuses what the run could not walk safely, as Linux does, before any socket is
// looked at.

import { EINVAL, EPERM } from '../../abi/linux/errno';
import { AF_INET, AF_INET6, AF_UNSPEC } from '../../abi/linux/socket';

const BC_NOP = 0, BC_JMP = 1, BC_S_GE = 2, BC_S_LE = 3, BC_D_GE = 4, BC_D_LE = 5, BC_AUTO = 6;
const BC_S_COND = 7, BC_D_COND = 8, BC_DEV_COND = 9, BC_MARK_COND = 10, BC_S_EQ = 11, BC_D_EQ = 12, BC_CGROUP_COND = 13;
const OP = 4;
/** struct inet_diag_hostcond without its address: family, prefix_len, pad, int port. */
const HOSTCOND = 8;

/** What the program tests of one socket (inet_diag_entry). */
export interface BcEntry {
  family: number;
  /** 4 bytes for AF_INET, 16 for AF_INET6 (v4-mapped for IPv4 peers). */
  saddr: Uint8Array;
  daddr: Uint8Array;
  sport: number;
  dport: number;
  ifindex: number;
  /** SOCK_BINDPORT_LOCK: the port was named by bind(2). */
  portLock: boolean;
  mark: number;
  cgroupId: bigint;
}

function view(bc: Uint8Array): DataView { return new DataView(bc.buffer, bc.byteOffset, bc.byteLength); }

/** valid_cc: does a jump land on an op boundary (counted, like Linux, from the end)? */
function validCc(bc: Uint8Array, cc: number): boolean {
  let len = bc.length, at = 0;
  while (len >= 0) {
    if (cc > len) return false;
    if (cc === len) return true;
    const yes = bc[at + 1];
    if (yes < 4 || (yes & 3) !== 0) return false;
    len -= yes;
    at += yes;
  }
  return false;
}

/** inet_diag_bc_audit: 0, or the errno the dump's start fails with. */
export function auditBytecode(bc: Uint8Array, netAdmin: boolean): number {
  if (bc.length < OP) return EINVAL;
  const v = view(bc);
  let at = 0, len = bc.length;
  while (len > 0) {
    if (len < OP) return EINVAL;
    const code = bc[at], yes = bc[at + 1], no = v.getUint16(at + 2, true);
    let minLen = OP;
    switch (code) {
      case BC_S_COND: case BC_D_COND: {
        minLen += HOSTCOND;
        if (len < minLen) return EINVAL;
        const family = bc[at + OP];
        const addrLen = family === AF_UNSPEC ? 0 : family === AF_INET ? 4 : family === AF_INET6 ? 16 : -1;
        if (addrLen < 0) return EINVAL;
        minLen += addrLen;
        if (len < minLen || bc[at + OP + 1] > 8 * addrLen) return EINVAL;
        break;
      }
      case BC_DEV_COND: minLen += 4; if (len < minLen) return EINVAL; break;
      case BC_S_GE: case BC_S_LE: case BC_D_GE: case BC_D_LE: case BC_S_EQ: case BC_D_EQ:
        minLen += OP; if (len < minLen) return EINVAL; break;
      case BC_MARK_COND:
        if (!netAdmin) return EPERM;
        minLen += 8; if (len < minLen) return EINVAL; break;
      case BC_CGROUP_COND: minLen += 8; if (len < minLen) return EINVAL; break;
      case BC_AUTO: case BC_JMP: case BC_NOP: break;
      default: return EINVAL;
    }
    if (code !== BC_NOP) {
      if (no < minLen || no > len + 4 || (no & 3) !== 0) return EINVAL;
      if (no < len && !validCc(bc, len - no)) return EINVAL;
    }
    if (yes < minLen || yes > len + 4 || (yes & 3) !== 0) return EINVAL;
    at += yes;
    len -= yes;
  }
  return len === 0 ? 0 : EINVAL;
}

/** bitstring_match: the first `bits` bits of a and b (network order) agree. */
function prefixMatch(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole] ^ b[whole]) & mask) === 0;
}

const V4_MAPPED_PREFIX = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff);

function hostCond(bc: Uint8Array, at: number, e: BcEntry, source: boolean): boolean {
  const v = view(bc);
  const family = bc[at + OP], prefix = bc[at + OP + 1], port = v.getInt32(at + OP + 4, true);
  if (port !== -1 && port !== (source ? e.sport : e.dport)) return false;
  const addr = source ? e.saddr : e.daddr;
  const want = bc.subarray(at + OP + HOSTCOND);
  if (family !== AF_UNSPEC && family !== e.family) {
    // An IPv4 condition matches an AF_INET6 socket's v4-mapped address.
    return e.family === AF_INET6 && family === AF_INET && prefixMatch(addr, V4_MAPPED_PREFIX, 96)
      && prefixMatch(addr.subarray(12), want, prefix);
  }
  return prefix === 0 || prefixMatch(addr, want, prefix);
}

/** inet_diag_bc_run over an audited program: whether the socket is listed. */
export function runBytecode(bc: Uint8Array, e: BcEntry): boolean {
  const v = view(bc);
  let at = 0, len = bc.length;
  while (len > 0) {
    const code = bc[at];
    let yes = true;
    switch (code) {
      case BC_NOP: break;
      case BC_JMP: yes = false; break;
      case BC_S_EQ: yes = e.sport === v.getUint16(at + 6, true); break;
      case BC_S_GE: yes = e.sport >= v.getUint16(at + 6, true); break;
      case BC_S_LE: yes = e.sport <= v.getUint16(at + 6, true); break;
      case BC_D_EQ: yes = e.dport === v.getUint16(at + 6, true); break;
      case BC_D_GE: yes = e.dport >= v.getUint16(at + 6, true); break;
      case BC_D_LE: yes = e.dport <= v.getUint16(at + 6, true); break;
      case BC_AUTO: yes = !e.portLock; break;
      case BC_S_COND: case BC_D_COND: yes = hostCond(bc, at, e, code === BC_S_COND); break;
      case BC_DEV_COND: yes = v.getUint32(at + OP, true) === e.ifindex; break;
      case BC_MARK_COND: yes = ((e.mark & v.getUint32(at + OP + 4, true)) >>> 0) === v.getUint32(at + OP, true); break;
      case BC_CGROUP_COND: yes = v.getBigUint64(at + OP, true) === e.cgroupId; break;
    }
    const step = yes ? bc[at + 1] : v.getUint16(at + 2, true);
    at += step;
    len -= step;
  }
  return len === 0;
}
