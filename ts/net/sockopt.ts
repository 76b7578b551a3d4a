// SOL_SOCKET options (Linux net/core/sock.c sk_setsockopt/sk_getsockopt) as every family
// sees them: buffer sizes (stored doubled, clamped as Linux does), timeouts as timevals,
// SO_LINGER, and the plain flags a program may set and read back. What only the family
// knows (the peer's credentials, whether it listens, its pending error) it asks the socket.

import { INIT_PID_NS } from '../kernel/ns/pid_ns';
import type { Task } from '../kernel/task';
import { INIT_USER_NS, fromKgid, fromKuid } from '../kernel/ns/user_namespace';
import { fail } from '../kernel/syscall_error';
import { EDOM, EINVAL, ENOPROTOOPT, EPERM } from '../abi/linux/errno';
import {
  RMEM_DEFAULT, RMEM_MAX, SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF, SO_ACCEPTCONN, SO_BROADCAST, SO_BSDCOMPAT,
  SO_BUSY_POLL, SO_DEBUG, SO_DOMAIN, SO_DONTROUTE, SO_ERROR, SO_INCOMING_CPU, SO_KEEPALIVE, SO_LINGER, SO_MARK,
  SO_NO_CHECK, SO_OOBINLINE, SO_PASSCRED, SO_PASSSEC, SO_PEEK_OFF, SO_PEERCRED, SO_PRIORITY, SO_PROTOCOL,
  SO_RCVBUF, SO_RCVBUFFORCE, SO_RCVLOWAT, SO_RCVTIMEO_NEW, SO_RCVTIMEO_OLD, SO_REUSEADDR, SO_REUSEPORT,
  SO_RXQ_OVFL, SO_BINDTODEVICE, SO_BINDTOIFINDEX, SO_SNDBUF, SO_SNDBUFFORCE, SO_SNDLOWAT, SO_SNDTIMEO_NEW, SO_SNDTIMEO_OLD, SO_TIMESTAMP_OLD, SO_TYPE,
  WMEM_DEFAULT, WMEM_MAX,
} from '../abi/linux/socket';
import { ucredPidIn, type Socket } from './socket';
import { SO_LOCK_FILTER, SocketFilter, setFilterOpt } from './sock_filter';
import { netCapable, netStackOf } from '../kernel/ns/net_ns';
import { ENODEV } from '../abi/linux/errno';

const INT_MAX = 0x7fff_ffff;
/** Linux keeps socket timeouts in jiffies, so a timeval reads back rounded up to one; HZ is
 *  250 as in Debian's and Ubuntu's kernels. Kept here as ns; null = forever. */
const HZ = 250n;
const NS_PER_JIFFY = 1_000_000_000n / HZ;
const NS_PER_US = 1000n;

/** Options that are a stored int and nothing more (their effect is nil or not modelled). */
const PLAIN = new Set([SO_DEBUG, SO_DONTROUTE, SO_BROADCAST, SO_KEEPALIVE, SO_OOBINLINE, SO_NO_CHECK,
  SO_PRIORITY, SO_BSDCOMPAT, SO_REUSEADDR, SO_REUSEPORT, SO_PASSSEC, SO_MARK,
  SO_RXQ_OVFL, SO_BUSY_POLL, SO_INCOMING_CPU]);
/** Of those, the ones that read back as 0/1 (sock_valbool_flag). */
const BOOL = new Set([SO_DEBUG, SO_DONTROUTE, SO_BROADCAST, SO_KEEPALIVE, SO_OOBINLINE, SO_NO_CHECK,
  SO_REUSEADDR, SO_REUSEPORT, SO_PASSSEC, SO_RXQ_OVFL]);
/** SO_TIMESTAMPNS_OLD, SO_TIMESTAMP_NEW, SO_TIMESTAMPNS_NEW (SO_TIMESTAMP_OLD is 29). */
const SO_TIMESTAMPNS_OLD = 35, SO_TIMESTAMP_NEW = 63, SO_TIMESTAMPNS_NEW = 64;

export class SockOpts {
  sndbuf = WMEM_DEFAULT;
  rcvbuf = RMEM_DEFAULT;
  /** SOCK_SNDBUF_LOCK / SOCK_RCVBUF_LOCK: the program chose the size, autotuning keeps off. */
  sndbufLock = false;
  rcvbufLock = false;
  rcvtimeo: bigint | null = null;
  sndtimeo: bigint | null = null;
  passcred = false;
  rcvlowat = 1;
  linger: { on: boolean; secs: number } = { on: false, secs: 0 };
  peekOff = -1;
  /** sock_set_timestamp's flags: SOCK_RCVTSTAMP, SOCK_RCVTSTAMPNS, SOCK_TSTAMP_NEW. */
  tstamp = { on: false, ns: false, neu: false };
  /** SO_BINDTODEVICE / SO_BINDTOIFINDEX: the interface index, 0 for none. */
  boundDev = 0;
  /** SO_ATTACH_FILTER's program and SO_LOCK_FILTER (sk_filter; a child inherits both). */
  readonly filter = new SocketFilter();
  private readonly plain = new Map<number, number>();

  plainValue(name: number): number { return this.plain.get(name) ?? 0; }

  copyFrom(o: SockOpts): void {
    this.sndbuf = o.sndbuf;
    this.rcvbuf = o.rcvbuf;
    this.sndbufLock = o.sndbufLock;
    this.rcvbufLock = o.rcvbufLock;
    this.rcvtimeo = o.rcvtimeo;
    this.sndtimeo = o.sndtimeo;
    this.passcred = o.passcred;
    this.rcvlowat = o.rcvlowat;
    this.linger = { ...o.linger };
    this.tstamp = { ...o.tstamp };
    this.boundDev = o.boundDev;
    this.filter.prog = o.filter.prog;
    this.filter.locked = o.filter.locked;
    for (const [k, v] of o.plain) this.plain.set(k, v);
  }

  setPlain(name: number, v: number): void { this.plain.set(name, BOOL.has(name) ? (v !== 0 ? 1 : 0) : v); }
}

const IFNAMSIZ = 16;
const CAP_NET_RAW = 13;

/** sock_bindtoindex_locked: once bound, only CAP_NET_RAW changes it (even to unbind); an
 *  index is not checked against the interfaces. */
function bindToIndex(t: Task, o: SockOpts, index: number): void {
  if (o.boundDev !== 0 && !netCapable(t, CAP_NET_RAW)) fail(EPERM);
  if (index < 0) fail(EINVAL);
  o.boundDev = index;
}

function intOf(val: Uint8Array): number {
  if (val.length < 4) fail(EINVAL);
  return new DataView(val.buffer, val.byteOffset, 4).getInt32(0, true);
}

/** sock_set_timeout: a timeval; {0,0} means forever, a negative time means "do not wait". */
function timeoutOf(val: Uint8Array): bigint | null {
  if (val.length < 16) fail(EINVAL);
  const v = new DataView(val.buffer, val.byteOffset, 16);
  const sec = v.getBigInt64(0, true);
  const usec = v.getBigInt64(8, true);
  if (usec < 0n || usec >= 1_000_000n) fail(EDOM);
  if (sec < 0n) return 0n;
  if (sec === 0n && usec === 0n) return null;
  const jiffies = sec * HZ + (usec + 1_000_000n / HZ - 1n) / (1_000_000n / HZ);
  return jiffies * NS_PER_JIFFY;
}

function timevalOf(ns: bigint | null): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  if (ns !== null) {
    v.setBigInt64(0, ns / 1_000_000_000n, true);
    v.setBigInt64(8, (ns % 1_000_000_000n) / NS_PER_US, true);
  }
  return b;
}

function ints(...xs: number[]): Uint8Array {
  const b = new Uint8Array(xs.length * 4);
  const v = new DataView(b.buffer);
  xs.forEach((x, i) => v.setInt32(i * 4, x, true));
  return b;
}

export function setSolSocket(t: Task, s: Socket, name: number, val: Uint8Array): void {
  storeSolSocket(t, s, name, val);
  s.solSocketSet(name, val);
}

function storeSolSocket(t: Task, s: Socket, name: number, val: Uint8Array): void {
  const o = s.opts;
  switch (name) {
    case SO_SNDBUF: case SO_SNDBUFFORCE: {
      if (name === SO_SNDBUFFORCE && t.creds.euid !== 0) fail(EPERM);
      const v = intOf(val) >>> 0;
      const capped = name === SO_SNDBUF ? Math.min(v, WMEM_MAX) : Math.min(v, INT_MAX / 2);
      o.sndbuf = Math.max(capped * 2, SOCK_MIN_SNDBUF);
      o.sndbufLock = true;
      s.sndbufChanged();
      return;
    }
    case SO_RCVBUF: case SO_RCVBUFFORCE: {
      if (name === SO_RCVBUFFORCE && t.creds.euid !== 0) fail(EPERM);
      const v = intOf(val) >>> 0;
      const capped = name === SO_RCVBUF ? Math.min(v, RMEM_MAX) : Math.min(v, INT_MAX / 2);
      o.rcvbuf = Math.max(capped * 2, SOCK_MIN_RCVBUF);
      o.rcvbufLock = true;
      s.rcvbufChanged();
      return;
    }
    case SO_RCVTIMEO_OLD: case SO_RCVTIMEO_NEW: o.rcvtimeo = timeoutOf(val); return;
    case SO_SNDTIMEO_OLD: case SO_SNDTIMEO_NEW: o.sndtimeo = timeoutOf(val); return;
    case SO_LINGER: {
      if (val.length < 8) fail(EINVAL);
      const v = new DataView(val.buffer, val.byteOffset, 8);
      o.linger = { on: v.getInt32(0, true) !== 0, secs: v.getInt32(4, true) };
      return;
    }
    case SO_PASSCRED: o.passcred = intOf(val) !== 0; return;
    case SO_RCVLOWAT: {
      const v = intOf(val);
      o.rcvlowat = v < 0 ? INT_MAX : v === 0 ? 1 : v;
      return;
    }
    case SO_PEEK_OFF: o.peekOff = intOf(val); return;
    case SO_TIMESTAMP_OLD: case SO_TIMESTAMPNS_OLD: case SO_TIMESTAMP_NEW: case SO_TIMESTAMPNS_NEW:
      if (intOf(val) !== 0) {
        o.tstamp = { on: true, ns: name === SO_TIMESTAMPNS_OLD || name === SO_TIMESTAMPNS_NEW, neu: name === SO_TIMESTAMP_NEW || name === SO_TIMESTAMPNS_NEW };
      } else {
        o.tstamp = { on: false, ns: false, neu: o.tstamp.neu };
      }
      return;
    case SO_BINDTODEVICE: {
      // sock_setbindtodevice: at most IFNAMSIZ-1 bytes of name, cut at its NUL; "" unbinds.
      const raw = val.subarray(0, Math.min(val.length, IFNAMSIZ - 1));
      const end = raw.indexOf(0);
      const name = Buffer.from(end >= 0 ? raw.subarray(0, end) : raw).toString('latin1');
      let index = 0;
      if (name !== '') {
        const nic = netStackOf(t).nicByName(name);
        if (!nic) fail(ENODEV);
        index = nic.index;
      }
      bindToIndex(t, o, index);
      return;
    }
    case SO_BINDTOIFINDEX: bindToIndex(t, o, intOf(val)); return;
    default:
      if (setFilterOpt(t, o.filter, name, val)) return;
      if (PLAIN.has(name)) {
        o.setPlain(name, intOf(val));
        if (name === SO_KEEPALIVE) s.keepaliveChanged();
        return;
      }
      // Read-only options and unknown ones alike.
      fail(ENOPROTOOPT);
  }
}

/** The option's value, as many bytes as Linux would copy before truncating to the caller's
 *  length (the caller truncates). */
export function getSolSocket(s: Socket, name: number, t?: Task, len = Infinity): Uint8Array {
  const o = s.opts;
  switch (name) {
    case SO_BINDTOIFINDEX: return ints(o.boundDev);
    case SO_BINDTODEVICE: {
      // sock_getbindtodevice: nothing when unbound, else the name and its NUL, whole or EINVAL.
      if (o.boundDev === 0) return new Uint8Array(0);
      const nic = t ? netStackOf(t).nicByIndex(o.boundDev) : null;
      if (!nic) fail(ENODEV);
      const b = Buffer.from(`${nic.name}\0`, 'latin1');
      if (b.length > len) fail(EINVAL);
      return new Uint8Array(b);
    }
    case SO_TYPE: return ints(s.type);
    case SO_DOMAIN: return ints(s.family);
    case SO_PROTOCOL: return ints(s.protocol);
    case SO_ERROR: return ints(s.soError());
    case SO_ACCEPTCONN: return ints(s.listening ? 1 : 0);
    case SO_SNDBUF: return ints(s.sndbufNow());
    case SO_RCVBUF: return ints(o.rcvbuf);
    case SO_RCVTIMEO_OLD: case SO_RCVTIMEO_NEW: return timevalOf(o.rcvtimeo);
    case SO_SNDTIMEO_OLD: case SO_SNDTIMEO_NEW: return timevalOf(o.sndtimeo);
    case SO_LINGER: return ints(o.linger.on ? 1 : 0, o.linger.secs);
    case SO_PASSCRED: return ints(o.passcred ? 1 : 0);
    case SO_PEERCRED: {
      const c = s.peerCred();
      // The peer's ids as the caller's user namespace names them.
      const ns = t?.creds.userNs ?? INIT_USER_NS;
      // And its pid as the caller's pid namespace does.
      const pid = c ? ucredPidIn(t?.threadPid.ns ?? INIT_PID_NS, c) : 0;
      return c ? ints(pid, fromKuid(ns, c.uid), fromKgid(ns, c.gid)) : ints(0, -1, -1);
    }
    case SO_RCVLOWAT: return ints(o.rcvlowat);
    case SO_LOCK_FILTER: return ints(o.filter.locked ? 1 : 0);
    case SO_SNDLOWAT: return ints(1);
    case SO_PEEK_OFF: return ints(o.peekOff);
    case SO_TIMESTAMP_OLD: return ints(o.tstamp.on && !o.tstamp.neu && !o.tstamp.ns ? 1 : 0);
    case SO_TIMESTAMPNS_OLD: return ints(o.tstamp.ns && !o.tstamp.neu ? 1 : 0);
    case SO_TIMESTAMP_NEW: return ints(o.tstamp.on && o.tstamp.neu ? 1 : 0);
    case SO_TIMESTAMPNS_NEW: return ints(o.tstamp.ns && o.tstamp.neu ? 1 : 0);
    default:
      if (PLAIN.has(name)) return ints(o.plainValue(name));
      fail(ENOPROTOOPT);
  }
}
