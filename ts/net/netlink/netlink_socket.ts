// AF_NETLINK sockets (Linux net/netlink/af_netlink.c; gVisor pkg/sentry/socket/netlink).
// ts/net/netlink owns the netlink family: the socket (this file: port ids and autobind,
// datagram queues, unicast between user sockets, the kernel's side of a send as
// netlink_rcv_skb walks it, acks and NLMSG_ERROR), the message format (message.ts), and the
// protocols the kernel answers (route.ts: NETLINK_ROUTE; sock_diag.ts: NETLINK_SOCK_DIAG;
// uevent has no requests). It reads
// the stack's interfaces through ../interfaces.ts and never changes them.

import { messageResult, readMessage, writeMessage } from '../datagram_io';
import { netCapable } from '../../kernel/ns/net_ns';
import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import {
  EADDRINUSE, EAGAIN, EBUSY, ECONNREFUSED, EINVAL, EMSGSIZE, ENOBUFS, ENOPROTOOPT, ENOTSUP as EOPNOTSUPP, EPERM, EPROTONOSUPPORT,
  ESOCKTNOSUPPORT,
} from '../../abi/linux/errno';
import { O_NONBLOCK } from '../../abi/linux/fcntl';
import { POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll';
import { AF_NETLINK, AF_UNSPEC, MSG_DONTWAIT, MSG_OOB, MSG_PEEK, SOCK_DGRAM, SOCK_RAW } from '../../abi/linux/socket';
import { WaitQueue } from '../../kernel/poll/wait_queue';
import type { ReadinessCallback } from '../../vfs/file_description';
import { Socket, type RecvResult, type SendRequest, type UCred } from '../socket';
import { SockOpts } from '../sockopt';
import { Deadline } from '../sock_wait';
import {
  NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLMSG_MIN_TYPE, NLM_F_ACK, NLM_F_CAPPED, NLM_F_MULTI, NLM_F_REQUEST, NlWriter,
  align4, parseMessages, type NlMsg,
} from './message';
import { routeRequest } from './route';
import { sockDiagRequest } from './sock_diag';

export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;
export const NETLINK_KOBJECT_UEVENT = 15;
const MAX_LINKS = 32;
const SOL_NETLINK = 270;
const NETLINK_ADD_MEMBERSHIP = 1;
const NETLINK_DROP_MEMBERSHIP = 2;
const NETLINK_PKTINFO = 3;
const NETLINK_BROADCAST_ERROR = 4;
const NETLINK_NO_ENOBUFS = 5;
const NETLINK_LISTEN_ALL_NSID = 8;
const NETLINK_LIST_MEMBERSHIPS = 9;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const NETLINK_GET_STRICT_CHK = 12;
const FLAG_OPTS = [NETLINK_PKTINFO, NETLINK_BROADCAST_ERROR, NETLINK_NO_ENOBUFS, NETLINK_LISTEN_ALL_NSID, NETLINK_CAP_ACK,
  NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK];
/** sizeof(struct sockaddr_nl) */
const SOCKADDR_NL = 12;
/** A dump's datagrams (netlink_dump's skbs): NLMSG_GOODSIZE at first, then as large as the
 *  largest buffer the reader has passed to recvmsg, up to 32 KiB. */
const NLMSG_GOODSIZE = 3776;
const DUMP_MAX = 32768;
export const CAP_NET_ADMIN = 12;
/** Groups of NETLINK_ROUTE (RTNLGRP_MAX) and of uevent: bind and ADD_MEMBERSHIP check against them. */
const GROUPS = 32;

/** What the kernel side of a protocol answers one request with: messages to send back, and
 *  the errno to ack with (0: ack only if NLM_F_ACK was asked). */
export interface KernelAnswer {
  msgs: Uint8Array[];
  dump: boolean;
  err: number;
  /** A dump that started and then failed (its NLMSG_DONE carries -doneErr, as netlink_dump's
   *  dump_done_errno). */
  doneErr?: number;
}

/** Port ids of one sandbox's netlink sockets, per protocol (nl_table). */
class PortTable {
  readonly byProto = new Map<number, Map<number, NetlinkSocket>>();
  /** netlink_autobind's rover: ids handed out below -4096 once the tgid is taken. */
  rover = -4096;

  of(proto: number): Map<number, NetlinkSocket> {
    let m = this.byProto.get(proto);
    if (!m) this.byProto.set(proto, (m = new Map()));
    return m;
  }
}

const tables = new WeakMap<object, PortTable>();
function portTable(kernel: object): PortTable {
  let p = tables.get(kernel);
  if (!p) tables.set(kernel, (p = new PortTable()));
  return p;
}

interface Datagram { data: Uint8Array; from: number; dump?: boolean }

/** netlink_create: the type and protocol checks, in Linux's order. */
export function createNetlinkSocket(t: Task, type: number, protocol: number, nonblock: boolean): NetlinkSocket {
  if (type !== SOCK_RAW && type !== SOCK_DGRAM) fail(ESOCKTNOSUPPORT);
  if (protocol < 0 || protocol >= MAX_LINKS) fail(EPROTONOSUPPORT);
  // Only these have a kernel socket here; the rest are as a kernel built without them.
  if (protocol !== NETLINK_ROUTE && protocol !== NETLINK_SOCK_DIAG && protocol !== NETLINK_KOBJECT_UEVENT) fail(EPROTONOSUPPORT);
  return new NetlinkSocket(t, nonblock ? O_NONBLOCK : 0, type, protocol);
}

export class NetlinkSocket extends Socket {
  readonly opts = new SockOpts();
  private readonly queue = new WaitQueue();
  private readonly recvQueue: Datagram[] = [];
  /** Bytes queued (against SO_RCVBUF), and unread datagrams of a dump (one dump at a time). */
  private queuedBytes = 0;
  private dumpUnread = 0;
  /** netlink_overrun: an answer was dropped for a full queue; the next recv says ENOBUFS. */
  private overrun = false;
  private readonly ports: PortTable;
  readonly kernel: object;
  portid = 0;
  private groups = 0;
  private dstPortid = 0;
  private dstGroup = 0;
  private readonly flagOpts = new Map<number, number>();
  private closed = false;
  /** nlk->max_recvmsg_len */
  private maxRecvLen = 0;

  constructor(t: Task, flags: number, type: number, protocol: number) {
    super(flags, AF_NETLINK, type, protocol, t.creds.euid, t.creds.egid);
    this.kernel = t.kernel;
    this.ports = portTable(t.kernel);
  }

  get listening(): boolean { return false; }
  peerCred(): UCred | null { return null; }
  takeError(): number {
    const e = this.overrun ? ENOBUFS : 0;
    this.overrun = false;
    return e;
  }

  private static nameOf(pid: number, groups: number): Uint8Array {
    const b = new Uint8Array(SOCKADDR_NL);
    const v = new DataView(b.buffer);
    v.setUint16(0, AF_NETLINK, true);
    v.setUint32(4, pid >>> 0, true);
    v.setUint32(8, groups >>> 0, true);
    return b;
  }

  private static parseName(raw: Uint8Array): { pid: number; groups: number } {
    if (raw.length < SOCKADDR_NL) fail(EINVAL);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (v.getUint16(0, true) !== AF_NETLINK) fail(EINVAL);
    return { pid: v.getUint32(4, true), groups: v.getUint32(8, true) };
  }

  /** netlink_allowed: receiving multicast needs CAP_NET_ADMIN except where the protocol
   *  lets anyone listen (route and uevent both do). */
  private checkGroups(groups: number): void {
    if (groups === 0) return;
    if (this.protocol !== NETLINK_ROUTE && this.protocol !== NETLINK_KOBJECT_UEVENT) fail(EPERM);
  }

  private insert(pid: number): void {
    const m = this.ports.of(this.protocol);
    if (m.has(pid)) fail(EADDRINUSE);
    m.set(pid, this);
    this.portid = pid;
  }

  /** netlink_autobind: the thread group's id if free, else a negative one. */
  private autobind(t: Task): void {
    if (this.portid !== 0) return;
    const m = this.ports.of(this.protocol);
    let pid = t.tg.tgid;
    while (m.has(pid)) {
      pid = this.ports.rover >>> 0;
      this.ports.rover = this.ports.rover - 1 < -0x7fffffff ? -4096 : this.ports.rover - 1;
    }
    this.insert(pid);
  }

  bind(t: Task, raw: Uint8Array): void {
    const a = NetlinkSocket.parseName(raw);
    this.checkGroups(a.groups);
    // A bound socket may only name its own id again (to change its groups).
    if (this.portid !== 0 && a.pid !== this.portid) fail(EINVAL);
    if (this.portid === 0) {
      if (a.pid !== 0) this.insert(a.pid);
      else this.autobind(t);
    }
    this.groups = a.groups & (GROUPS >= 32 ? 0xffffffff : (1 << GROUPS) - 1);
  }

  listen(): void { fail(EOPNOTSUPP); }
  accept(): Socket { fail(EOPNOTSUPP); }
  shutdown(): void { fail(EOPNOTSUPP); }

  connect(t: Task, raw: Uint8Array): number {
    if (raw.length >= 2 && (raw[0] | (raw[1] << 8)) === AF_UNSPEC) {
      this.dstPortid = 0;
      this.dstGroup = 0;
      return 0;
    }
    const a = NetlinkSocket.parseName(raw);
    if (a.groups && !netCapable(t, CAP_NET_ADMIN)) fail(EPERM);
    this.autobind(t);
    this.dstPortid = a.pid;
    this.dstGroup = ffs(a.groups);
    return 0;
  }

  getsockname(): Uint8Array { return NetlinkSocket.nameOf(this.portid, this.groups); }
  getpeername(): Uint8Array { return NetlinkSocket.nameOf(this.dstPortid, this.dstGroup ? 1 << (this.dstGroup - 1) : 0); }

  // --- sending ---

  sendmsg(t: Task, req: SendRequest): number {
    if (req.flags & MSG_OOB) fail(EOPNOTSUPP);
    let dstPid = this.dstPortid;
    let dstGroup = this.dstGroup;
    if (req.addr && req.addr.length > 0) {
      const a = NetlinkSocket.parseName(req.addr);
      dstPid = a.pid;
      dstGroup = ffs(a.groups);
      // Sending to a group needs the right to (only the kernel may, for route and uevent).
      if (dstGroup && !netCapable(t, CAP_NET_ADMIN)) fail(EPERM);
    }
    this.autobind(t);
    if (req.data.length > this.opts.sndbuf - 32) fail(EMSGSIZE);
    if (dstGroup) {
      // Multicast from user space reaches other members; none of ours listen to users.
      for (const s of this.ports.of(this.protocol).values()) {
        if (s !== this && (s.groups & (1 << (dstGroup - 1)))) s.enqueue({ data: req.data.slice(), from: this.portid });
      }
      if (dstPid === 0) return req.data.length;
    }
    if (dstPid !== 0) {
      const peer = this.ports.of(this.protocol).get(dstPid);
      if (!peer) fail(ECONNREFUSED);
      peer.enqueue({ data: req.data.slice(), from: this.portid });
      return req.data.length;
    }
    // uevent's kernel socket takes no input
    if (this.protocol !== NETLINK_ROUTE && this.protocol !== NETLINK_SOCK_DIAG) fail(ECONNREFUSED);
    this.kernelReceive(t, req.data);
    return req.data.length;
  }

  /** netlink_rcv_skb: each request in the datagram is answered in order. */
  private kernelReceive(t: Task, data: Uint8Array): void {
    for (const m of parseMessages(data)) {
      let err = 0;
      let ans: KernelAnswer | null = null;
      // Not a request, or a control message: nothing to do but maybe ack.
      if ((m.flags & NLM_F_REQUEST) && m.type >= NLMSG_MIN_TYPE) {
        ans = this.protocol === NETLINK_SOCK_DIAG ? sockDiagRequest(t, this, m) : routeRequest(t, this, m);
        err = ans.err;
        // netlink_dump_start: a dump while the last is still being read is EBUSY.
        if (ans.dump && !err && this.dumpUnread > 0) err = EBUSY;
      }
      if (ans && !err) this.deliverAnswer(ans, m);
      // A dump answers with NLMSG_DONE instead of an ack (netlink_dump_start's -EINTR).
      if (ans?.dump && !err) continue;
      if ((m.flags & NLM_F_ACK) || err) this.ack(m, err);
    }
  }

  private deliverAnswer(ans: KernelAnswer, req: NlMsg): void {
    if (!ans.dump) {
      for (const b of ans.msgs) this.enqueue({ data: b, from: 0 });
      return;
    }
    const w = new NlWriter();
    const out: Uint8Array[] = [];
    let cur: Uint8Array[] = [];
    let size = 0;
    const chunk = Math.max(NLMSG_GOODSIZE, this.maxRecvLen);
    for (const b of ans.msgs) {
      if (size + b.length > chunk && cur.length > 0) { out.push(concat(cur)); cur = []; size = 0; }
      cur.push(b);
      size += b.length;
    }
    // NLMSG_DONE carries the dump's status as an int.
    w.begin(NLMSG_DONE, NLM_F_MULTI, req.seq, this.portid);
    w.struct(4).setInt32(0, -(ans.doneErr ?? 0), true);
    w.end();
    const done = w.take();
    if (size + done.length > chunk && cur.length > 0) { out.push(concat(cur)); cur = []; }
    cur.push(done);
    out.push(concat(cur));
    // A dump is produced as it is read in Linux, so it is never dropped for a full queue.
    for (const d of out) this.enqueue({ data: d, from: 0, dump: true });
  }

  /** netlink_ack: NLMSG_ERROR quoting the request (only its header for a success, or when
   *  the socket asked for NETLINK_CAP_ACK). */
  private ack(req: NlMsg, errno: number): void {
    const capped = errno === 0 || (this.flagOpts.get(NETLINK_CAP_ACK) ?? 0) !== 0;
    const w = new NlWriter();
    w.begin(NLMSG_ERROR, capped ? NLM_F_CAPPED : 0, req.seq, this.portid);
    w.struct(4).setInt32(0, -errno, true);
    w.bytes(req.raw.subarray(0, NLMSG_HDRLEN));
    if (!capped) {
      const body = new Uint8Array(align4(req.raw.length - NLMSG_HDRLEN));
      body.set(req.raw.subarray(NLMSG_HDRLEN));
      w.bytes(body);
    }
    w.end();
    this.enqueue({ data: w.take(), from: 0 });
  }

  enqueue(d: Datagram): void {
    if (this.closed) return;
    if (!d.dump && this.queuedBytes + d.data.length > this.opts.rcvbuf) {
      if (!this.flagOpts.get(NETLINK_NO_ENOBUFS)) this.overrun = true;
      this.queue.notify(POLLERR);
      return;
    }
    this.recvQueue.push(d);
    this.queuedBytes += d.data.length;
    if (d.dump) this.dumpUnread++;
    this.queue.notify(POLLIN | POLLRDNORM);
  }

  // --- receiving ---

  recvmsg(t: Task, max: number, flags: number): RecvResult | Promise<RecvResult> {
    if (flags & MSG_OOB) fail(EOPNOTSUPP);
    this.maxRecvLen = Math.min(Math.max(this.maxRecvLen, max), DUMP_MAX);
    const dl = new Deadline((flags & MSG_DONTWAIT) || (this.flags & O_NONBLOCK) ? 0n : this.opts.rcvtimeo);
    return this.recvFrom(t, max, flags, dl);
  }

  private recvFrom(t: Task, max: number, flags: number, dl: Deadline): RecvResult | Promise<RecvResult> {
    if (this.overrun) {
      this.overrun = false;
      fail(ENOBUFS);
    }
    const d = this.recvQueue[0];
    if (!d) {
      if (dl.nonblocking) fail(EAGAIN);
      return dl.wait(t, (wake) => this.queue.subscribe(POLLIN, wake)).then(() => this.recvFrom(t, max, flags, dl));
    }
    if (!(flags & MSG_PEEK)) {
      this.recvQueue.shift();
      this.queuedBytes -= d.data.length;
      if (d.dump) this.dumpUnread--;
    }
    return messageResult(d.data, NetlinkSocket.nameOf(d.from, 0), max, flags);
  }

  override read(t: Task, dst: Uint8Array): number | Promise<number> { return readMessage(this, t, dst); }
  override write(t: Task, src: Uint8Array): number { return writeMessage(this, t, src); }

  override readiness(_mask: number): number {
    return (this.recvQueue.length > 0 ? POLLIN | POLLRDNORM : 0) | (this.overrun ? POLLERR : 0) | POLLOUT | POLLWRNORM;
  }

  override addWaiter(mask: number, cb: ReadinessCallback): () => void { return this.queue.subscribe(mask, cb); }

  // --- options (SOL_NETLINK) ---

  override getsockoptProto(_t: Task, level: number, name: number, len: number): Uint8Array {
    if (level !== SOL_NETLINK) fail(ENOPROTOOPT);
    if (name === NETLINK_LIST_MEMBERSHIPS) {
      // The bitmap of groups; the length written back says how much there is.
      if (len < 0) fail(EINVAL);
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, this.groups >>> 0, true);
      return b;
    }
    if (!FLAG_OPTS.includes(name)) fail(ENOPROTOOPT);
    if (len < 4) fail(EINVAL);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, this.flagOpts.get(name) ?? 0, true);
    return b;
  }

  override setsockoptProto(t: Task, level: number, name: number, val: Uint8Array): void {
    if (level !== SOL_NETLINK) fail(ENOPROTOOPT);
    if (!FLAG_OPTS.includes(name) && name !== NETLINK_ADD_MEMBERSHIP && name !== NETLINK_DROP_MEMBERSHIP) fail(ENOPROTOOPT);
    if (val.length < 4) fail(EINVAL);
    const v = new DataView(val.buffer, val.byteOffset, 4).getUint32(0, true);
    if (name === NETLINK_ADD_MEMBERSHIP || name === NETLINK_DROP_MEMBERSHIP) {
      if (v === 0 || v > GROUPS) fail(EINVAL);
      this.checkGroups(1);
      this.autobind(t);
      if (name === NETLINK_ADD_MEMBERSHIP) this.groups |= 1 << (v - 1);
      else this.groups &= ~(1 << (v - 1));
      return;
    }
    this.flagOpts.set(name, v ? 1 : 0);
  }

  override release(): void {
    this.closed = true;
    this.recvQueue.length = 0;
    this.queuedBytes = 0;
    this.dumpUnread = 0;
    if (this.portid !== 0) {
      const m = this.ports.of(this.protocol);
      if (m.get(this.portid) === this) m.delete(this.portid);
    }
  }
}

/** The lowest group set (ffs), 0 for none. */
function ffs(groups: number): number {
  for (let i = 0; i < 32; i++) if (groups & (1 << i)) return i + 1;
  return 0;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}
