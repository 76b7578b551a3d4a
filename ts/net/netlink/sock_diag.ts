// NETLINK_SOCK_DIAG's kernel side (Linux net/core/sock_diag.c, net/ipv4/inet_diag.c, tcp_diag.c,
// udp_diag.c, net/unix/diag.c): what `ss` asks. SOCK_DIAG_BY_FAMILY for AF_INET/AF_INET6 (TCP
// and UDP: a dump of the sockets whose state is in idiag_states, or one socket by its ports and
// addresses) and for AF_UNIX (a dump by udiag_states, or one socket by inode), answered with
// inet_diag_msg / unix_diag_msg and the attributes the request's ext/show bits ask for, in
// Linux's order; a dump's filter program (INET_DIAG_REQ_BYTECODE) is audited and run
// (inet_diag_bc.ts). Not done: SOCK_DESTROY and the old TCPDIAG_GETSOCK requests are
// EOPNOTSUPP; INET_DIAG_REQ_SK_BPF_STORAGES is ignored; raw sockets and other families have no
// handler (ENOENT, as a kernel without those diag modules).

import { netCapable } from '../../kernel/ns/net_ns';
import type { Task } from '../../kernel/task';
import { EINVAL, ENOENT, ENOTSUP as EOPNOTSUPP } from '../../abi/linux/errno';
import { AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, TCP_ESTABLISHED, TCP_LISTEN } from '../../abi/linux/socket';
import { mapV4, type IPAddr } from '../../tcpip/addr';
import type { TcpEndpoint } from '../../tcpip/stack';
import { netStackOf } from '../../kernel/ns/net_ns';
import type { UdpEndpoint } from '../../tcpip/udp/endpoint';
import { TCPS } from '../../tcpip/tcp/states';
import { InetSocket } from '../inet/inet_socket';
import { UdpSocket } from '../inet/udp_socket';
import { tcpInfo } from '../inet/tcp_info';
import { unixNamespace } from '../unix/names';
import type { UnixSocket } from '../unix/unix_socket';
import type { Socket } from '../socket';
import { NLM_F_DUMP, NLM_F_MULTI, NlWriter, parseAttrs, type NlMsg } from './message';
import { auditBytecode, runBytecode, type BcEntry } from './inet_diag_bc';
import { CAP_NET_ADMIN, type KernelAnswer, type NetlinkSocket } from './netlink_socket';

const TCPDIAG_GETSOCK = 18;
const DCCPDIAG_GETSOCK = 19;
export const SOCK_DIAG_BY_FAMILY = 20;
const SOCK_DESTROY = 21;
const AF_MAX = 46;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_MAX = 263;
const TCP_CLOSE = 7;
const TCP_TIME_WAIT = 6;

const INET_DIAG_REQ_V2 = 56;
const INET_DIAG_MSG = 72;
const UNIX_DIAG_REQ = 24;
const UNIX_DIAG_MSG = 16;
const INET_DIAG_NOCOOKIE = 0xffffffffffffffffn;
// INET_DIAG_REQ_* attributes of a request
const INET_DIAG_REQ_BYTECODE = 1;
const INET_DIAG_REQ_PROTOCOL = 3;

// INET_DIAG_* attributes (and ext bits: 1 << (attr - 1))
const INET_DIAG_MEMINFO = 1;
const INET_DIAG_INFO = 2;
const INET_DIAG_CONG = 4;
const INET_DIAG_TOS = 5;
const INET_DIAG_TCLASS = 6;
const INET_DIAG_SKMEMINFO = 7;
const INET_DIAG_SHUTDOWN = 8;
const INET_DIAG_SKV6ONLY = 11;
const INET_DIAG_MARK = 15;
const INET_DIAG_CLASS_ID = 17;
const INET_DIAG_CGROUP_ID = 21;
const INET_DIAG_SOCKOPT = 22;
// UNIX_DIAG_* attributes and UDIAG_SHOW_* bits
const UNIX_DIAG_NAME = 0;
const UNIX_DIAG_VFS = 1;
const UNIX_DIAG_PEER = 2;
const UNIX_DIAG_ICONS = 3;
const UNIX_DIAG_RQLEN = 4;
const UNIX_DIAG_MEMINFO = 5;
const UNIX_DIAG_SHUTDOWN = 6;
const UNIX_DIAG_UID = 7;
const UDIAG_SHOW_NAME = 1;
const UDIAG_SHOW_VFS = 2;
const UDIAG_SHOW_PEER = 4;
const UDIAG_SHOW_ICONS = 8;
const UDIAG_SHOW_RQLEN = 16;
const UDIAG_SHOW_MEMINFO = 32;
const UDIAG_SHOW_UID = 64;

/** The root cgroup's id (cgroup2 numbers it 1): the sandbox puts every socket there. */
const ROOT_CGROUP_ID = 1n;
const IP_HDRINCL = 3, IP_RECVERR = 11, IP_FREEBIND = 15, IP_BIND_ADDRESS_NO_PORT = 24, IP_MULTICAST_LOOP = 34;

/** sock_gen_cookie: a socket's number for diag, given on first use, never reused. */
const cookies = new WeakMap<object, bigint>();
let nextCookie = 1n;
function cookieOf(s: object): bigint {
  let c = cookies.get(s);
  if (c === undefined) cookies.set(s, (c = nextCookie++));
  return c;
}

function answer(msgs: Uint8Array[], dump: boolean): KernelAnswer { return { msgs, dump, err: 0 }; }
function error(err: number): KernelAnswer { return { msgs: [], dump: false, err }; }

/** sock_diag_rcv_msg and __sock_diag_cmd: the type, then the family's handler. */
export function sockDiagRequest(t: Task, sock: NetlinkSocket, m: NlMsg): KernelAnswer {
  if (m.type === TCPDIAG_GETSOCK || m.type === DCCPDIAG_GETSOCK) return error(EOPNOTSUPP);
  if (m.type !== SOCK_DIAG_BY_FAMILY && m.type !== SOCK_DESTROY) return error(EINVAL);
  if (m.payload.length < 2) return error(EINVAL);
  const family = m.payload[0];
  if (family >= AF_MAX) return error(EINVAL);
  if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX) return error(ENOENT);
  if (m.type === SOCK_DESTROY) return error(EOPNOTSUPP);
  return family === AF_UNIX ? unixDiag(t, sock, m) : inetDiag(t, sock, m);
}

// ---- AF_INET / AF_INET6 ----

interface InetReq {
  family: number; protocol: number; ext: number; states: number;
  sport: number; dport: number; src: Uint8Array; dst: Uint8Array; cookie: bigint;
}

function parseInetReq(p: Uint8Array): InetReq {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return {
    family: p[0], protocol: p[1], ext: p[2], states: v.getUint32(4, true),
    sport: v.getUint16(8, false), dport: v.getUint16(10, false),
    src: p.slice(12, 28), dst: p.slice(28, 44), cookie: v.getBigUint64(48, true),
  };
}

/** An endpoint as inet_diag sees it: its socket (if it has one yet) and its fields. */
interface InetView {
  sock: InetSocket | null; family: number; state: number; local: IPAddr | null; lport: number;
  remote: IPAddr | null; rport: number; rqueue: number; wqueue: number; retrans: number; shutdown: number;
  tcp: TcpEndpoint | null; portLock: boolean;
}

function tcpView(ep: TcpEndpoint): InetView {
  const sock = ep.owner instanceof InetSocket ? ep.owner : null;
  const listen = ep.state === TCPS.LISTEN;
  return {
    sock, family: sock ? sock.family : ep.v6 ? AF_INET6 : AF_INET, state: ep.state, local: ep.local, lport: ep.lport,
    remote: ep.remote, rport: ep.rport, rqueue: listen ? ep.acceptQueue.length : ep.rcvQueued,
    wqueue: listen ? ep.backlog : ep.sndQueued, retrans: ep.retransmits, shutdown: ep.shutdownBits, tcp: ep,
    portLock: ep.binding?.portLock ?? false,
  };
}

function udpView(ep: UdpEndpoint, port: number): InetView {
  const sock = ep.owner instanceof UdpSocket ? ep.owner : null;
  return {
    sock, family: sock ? sock.family : AF_INET, state: ep.remote ? TCP_ESTABLISHED : TCP_CLOSE, local: ep.local, lport: port,
    remote: ep.remote, rport: ep.rport, rqueue: ep.queued, wqueue: 0, retrans: 0, shutdown: sock?.shutdownState ?? 0, tcp: null,
    portLock: ep.binding?.portLock ?? false,
  };
}

function inetViews(t: Task, protocol: number): InetView[] {
  const stack = netStackOf(t);
  if (protocol === IPPROTO_TCP) return [...stack.tcpEndpoints()].map(tcpView);
  const out: InetView[] = [];
  const seen = new Set<UdpEndpoint>();
  for (const [port, ep] of stack.udpPorts.entries()) {
    if (seen.has(ep)) continue;
    seen.add(ep);
    out.push(udpView(ep, port));
  }
  return out;
}

/** The 16 bytes idiag_src/idiag_dst hold for an address: v4 in the first word, v6 whole
 *  (an AF_INET6 socket shows IPv4 peers v4-mapped). */
function idAddr(a: IPAddr | null, v6: boolean): Uint8Array {
  const out = new Uint8Array(16);
  if (a === null) return out;
  out.set(v6 && a.length === 4 ? mapV4(a) : a);
  return out;
}

function sameAddr(want: Uint8Array, have: Uint8Array): boolean {
  return want.every((b, i) => b === have[i]);
}

function inetDiag(t: Task, sock: NetlinkSocket, m: NlMsg): KernelAnswer {
  if (m.payload.length < INET_DIAG_REQ_V2) return error(EINVAL);
  const r = parseInetReq(m.payload);
  const dump = (m.flags & NLM_F_DUMP) !== 0;
  const netAdmin = netCapable(t, CAP_NET_ADMIN);
  const attrs = parseAttrs(m.payload.subarray(INET_DIAG_REQ_V2));
  // inet_diag_get_protocol: INET_DIAG_REQ_PROTOCOL (a u32) names protocols past 255.
  const protoAttr = attrs.get(INET_DIAG_REQ_PROTOCOL);
  if (protoAttr && protoAttr.length >= 4) r.protocol = new DataView(protoAttr.buffer, protoAttr.byteOffset, 4).getUint32(0, true);
  // A dump's start audits its filter before the handler is looked for.
  const bc = dump ? attrs.get(INET_DIAG_REQ_BYTECODE) : undefined;
  if (bc) {
    const err = auditBytecode(bc, netAdmin);
    if (err) return error(err);
  }
  // No handler: a lookup fails at once; a dump starts and ends with the error in its DONE.
  if (r.protocol >= IPPROTO_MAX || (r.protocol !== IPPROTO_TCP && r.protocol !== IPPROTO_UDP)) {
    return dump ? { msgs: [], dump: true, err: 0, doneErr: ENOENT } : error(ENOENT);
  }
  const w = new NlWriter();
  const views = inetViews(t, r.protocol);
  if (dump) {
    const out: Uint8Array[] = [];
    for (const v of views) {
      if (v.family !== r.family || (r.states & (1 << v.state)) === 0) continue;
      if ((r.sport !== 0 && r.sport !== v.lport) || (r.dport !== 0 && r.dport !== v.rport)) continue;
      if (bc && !runBytecode(bc, bcEntry(v))) continue;
      out.push(inetMsg(w, v, r, NLM_F_MULTI, m.seq, sock.portid, netAdmin));
    }
    return answer(out, true);
  }
  // inet_diag_find_one_icsk: the connected socket of the 4-tuple first, then a listener.
  const v6 = r.family === AF_INET6;
  const match = (v: InetView, wild: boolean): boolean => v.lport === r.sport && v.rport === (wild ? 0 : r.dport)
    && (v.family === AF_INET6) === v6 && (wild ? v.remote === null : sameAddr(r.dst, idAddr(v.remote, v6)))
    && (v.local === null || sameAddr(r.src, idAddr(v.local, v6)));
  const found = views.find((v) => match(v, false)) ?? views.find((v) => v.state === TCP_LISTEN || v.remote === null ? match(v, true) : false);
  if (!found) return error(ENOENT);
  if (r.cookie !== INET_DIAG_NOCOOKIE && r.cookie !== cookieOf(found.tcp ?? found.sock ?? found)) return error(ENOENT);
  return answer([inetMsg(w, found, r, 0, m.seq, sock.portid, netAdmin)], false);
}

/** inet_diag_bc_sk's entry: an AF_INET socket's addresses are 4 bytes, an AF_INET6 one's 16. */
function bcEntry(v: InetView): BcEntry {
  const v6 = v.family === AF_INET6;
  const addr = (a: IPAddr | null): Uint8Array => (v6 ? idAddr(a, true) : a ?? new Uint8Array(4));
  return {
    family: v.family, saddr: addr(v.local), daddr: addr(v.remote), sport: v.lport, dport: v.rport, ifindex: 0,
    portLock: v.portLock, mark: v.sock?.opts.plainValue(SO_MARK) ?? 0, cgroupId: ROOT_CGROUP_ID,
  };
}

/** inet_sk_diag_fill (inet_twsk_diag_fill for TIME_WAIT). */
function inetMsg(w: NlWriter, v: InetView, r: InetReq, flags: number, seq: number, pid: number, netAdmin: boolean): Uint8Array {
  const v6 = v.family === AF_INET6;
  const timeWait = v.state === TCP_TIME_WAIT;
  w.begin(SOCK_DIAG_BY_FAMILY, flags, seq, pid);
  const h = w.struct(INET_DIAG_MSG);
  h.setUint8(0, v.family);
  h.setUint8(1, v.state);
  h.setUint8(2, timeWait ? 3 : 0);
  h.setUint8(3, timeWait ? 0 : Math.min(v.retrans, 255));
  h.setUint16(4, v.lport, false);
  h.setUint16(6, v.rport, false);
  const id = new Uint8Array(h.buffer, h.byteOffset, INET_DIAG_MSG);
  id.set(idAddr(v.local, v6), 8);
  id.set(idAddr(v.remote, v6), 24);
  const cookie = cookieOf(v.tcp ?? v.sock ?? v);
  h.setUint32(44, Number(cookie & 0xffffffffn), true);
  h.setUint32(48, Number(cookie >> 32n), true);
  if (timeWait) {
    w.end();
    return w.take();
  }
  h.setUint32(52, 0, true); // idiag_expires: no timer shown
  h.setUint32(56, v.rqueue, true);
  h.setUint32(60, v.wqueue, true);
  h.setUint32(64, v.sock?.ownerUid ?? 0, true);
  h.setUint32(68, v.sock?.ino ?? 0, true);
  const ext = r.ext;
  const s = v.sock;
  w.u8(INET_DIAG_SHUTDOWN, v.shutdown);
  if (ext & (1 << (INET_DIAG_TOS - 1))) w.u8(INET_DIAG_TOS, s?.inet.tos ?? 0);
  if (v6) {
    if (ext & (1 << (INET_DIAG_TCLASS - 1))) w.u8(INET_DIAG_TCLASS, s?.inet.tclass ?? 0);
    if (v.state === TCP_LISTEN || v.state === TCP_CLOSE) w.u8(INET_DIAG_SKV6ONLY, s?.inet.v6only ? 1 : 0);
  }
  if (netAdmin) w.u32(INET_DIAG_MARK, s?.opts.plainValue(SO_MARK) ?? 0);
  if (ext & ((1 << (INET_DIAG_CLASS_ID - 1)) | (1 << (INET_DIAG_TCLASS - 1)))) w.u32(INET_DIAG_CLASS_ID, s?.opts.plainValue(SO_PRIORITY) ?? 0);
  w.attr(INET_DIAG_CGROUP_ID, u64(ROOT_CGROUP_ID));
  w.attr(INET_DIAG_SOCKOPT, sockoptBits(s, v.tcp !== null, v6));
  if (ext & (1 << (INET_DIAG_MEMINFO - 1))) w.attr(INET_DIAG_MEMINFO, u32s(v.rqueue, v.wqueue, 0, v.wqueue));
  if (ext & (1 << (INET_DIAG_SKMEMINFO - 1))) w.attr(INET_DIAG_SKMEMINFO, skMeminfo(s, v.rqueue, v.wqueue));
  if (v.tcp) {
    if (ext & (1 << (INET_DIAG_INFO - 1))) w.attr(INET_DIAG_INFO, tcpInfo(v.tcp));
    if (ext & (1 << (INET_DIAG_CONG - 1))) w.str(INET_DIAG_CONG, v.tcp.cc.ops.name);
  }
  w.end();
  return w.take();
}

const SO_PRIORITY = 12;
const SO_MARK = 36;

/** struct inet_diag_sockopt: two bytes of flags. */
function sockoptBits(s: InetSocket | null, icsk: boolean, v6: boolean): Uint8Array {
  const ip = (name: number, dflt: number): number => (s?.inet.plain.get(`ip${name}`) ?? dflt) !== 0 ? 1 : 0;
  // mc_all: inet_create sets it (inet6_create does not), and IP_MULTICAST_ALL is not settable here.
  const b0 = ip(IP_RECVERR, 0) | (icsk ? 2 : 0) | (ip(IP_FREEBIND, 0) << 2) | (ip(IP_HDRINCL, 0) << 3)
    | (ip(IP_MULTICAST_LOOP, 1) << 4) | (v6 ? 0 : 1 << 6);
  const b1 = ip(IP_BIND_ADDRESS_NO_PORT, 0);
  return Uint8Array.of(b0, b1);
}

/** sock_diag_put_meminfo: SK_MEMINFO_{RMEM_ALLOC,RCVBUF,WMEM_ALLOC,SNDBUF,FWD_ALLOC,WMEM_QUEUED,OPTMEM,BACKLOG,DROPS}. */
function skMeminfo(s: Socket | null, rmem: number, wmem: number): Uint8Array {
  return u32s(rmem, s?.opts.rcvbuf ?? 0, wmem, s?.opts.sndbuf ?? 0, 0, wmem, 0, 0, 0);
}

function u32s(...xs: number[]): Uint8Array {
  const b = new Uint8Array(xs.length * 4);
  const v = new DataView(b.buffer);
  xs.forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
  return b;
}

function u64(x: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, x, true);
  return b;
}

// ---- AF_UNIX ----

function unixDiag(t: Task, sock: NetlinkSocket, m: NlMsg): KernelAnswer {
  if (m.payload.length < UNIX_DIAG_REQ) return error(EINVAL);
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
  const states = v.getUint32(4, true), ino = v.getUint32(8, true), show = v.getUint32(12, true);
  const cookie = v.getBigUint64(16, true);
  const w = new NlWriter();
  const live = [...unixNamespace(t.kernel).live].filter((s) => !s.dead);
  if ((m.flags & NLM_F_DUMP) !== 0) {
    const out: Uint8Array[] = [];
    for (const s of live) if ((states & (1 << s.state)) !== 0) out.push(unixMsg(w, s, show, NLM_F_MULTI, m.seq, sock.portid));
    return answer(out, true);
  }
  // unix_diag_get_exact
  if (ino === 0) return error(EINVAL);
  const s = live.find((x) => inoOf(x) === ino);
  if (!s) return error(ENOENT);
  if (cookie !== INET_DIAG_NOCOOKIE && cookie !== cookieOf(s)) return error(ENOENT);
  return answer([unixMsg(w, s, show, 0, m.seq, sock.portid)], false);
}

/** sock_i_ino: a connection still waiting in a listener's queue has no socket, so no inode. */
function inoOf(s: UnixSocket): number { return s.embryo ? 0 : s.ino; }

/** unix_inq_len: a stream's unread bytes, a datagram socket's first datagram. */
function unixInq(s: UnixSocket): number {
  if (s.type === SOCK_DGRAM) return s.recvQueue[0]?.data.length ?? 0;
  let n = 0;
  for (const msg of s.recvQueue) n += msg.data.length - msg.consumed;
  return n;
}

/** sk_diag_fill (net/unix/diag.c). */
function unixMsg(w: NlWriter, s: UnixSocket, show: number, flags: number, seq: number, pid: number): Uint8Array {
  w.begin(SOCK_DIAG_BY_FAMILY, flags, seq, pid);
  const h = w.struct(UNIX_DIAG_MSG);
  h.setUint8(0, AF_UNIX);
  h.setUint8(1, s.type);
  h.setUint8(2, s.state);
  h.setUint32(4, inoOf(s), true);
  const cookie = cookieOf(s);
  h.setUint32(8, Number(cookie & 0xffffffffn), true);
  h.setUint32(12, Number(cookie >> 32n), true);
  if ((show & UDIAG_SHOW_NAME) && s.addr && s.addr.length > 2) w.attr(UNIX_DIAG_NAME, s.addr.subarray(2));
  if (show & UDIAG_SHOW_VFS) {
    const node = s.boundInode();
    if (node) w.attr(UNIX_DIAG_VFS, u32s(node.ino, node.dev));
  }
  if ((show & UDIAG_SHOW_PEER) && s.peer) w.u32(UNIX_DIAG_PEER, inoOf(s.peer));
  if ((show & UDIAG_SHOW_ICONS) && s.state === TCP_LISTEN) {
    w.attr(UNIX_DIAG_ICONS, u32s(...s.acceptQueue.map((e) => (e.peer ? inoOf(e.peer) : 0))));
  }
  if (show & UDIAG_SHOW_RQLEN) {
    const listen = s.state === TCP_LISTEN;
    w.attr(UNIX_DIAG_RQLEN, u32s(listen ? s.acceptQueue.length : unixInq(s), listen ? s.backlog : s.wmem));
  }
  if (show & UDIAG_SHOW_MEMINFO) w.attr(UNIX_DIAG_MEMINFO, skMeminfo(s, unixInq(s), s.wmem));
  w.u8(UNIX_DIAG_SHUTDOWN, s.shutdownBits);
  if (show & UDIAG_SHOW_UID) w.u32(UNIX_DIAG_UID, s.ownerUid);
  w.end();
  return w.take();
}
