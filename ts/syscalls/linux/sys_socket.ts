// socket, socketpair, bind, listen, accept, accept4, connect, getsockname, getpeername,
// shutdown, sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg, getsockopt, setsockopt
// (Linux net/socket.c). Checks in Linux's order: flags that need no socket, then the fd
// (EBADF, ENOTSOCK), then the user memory, then the socket (ts/net) decides.

import { CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN } from '../../kernel/capabilities';
import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { EINVAL, ENOTSOCK, ENOTSUP as EOPNOTSUPP } from '../../abi/linux/errno';
import { O_NONBLOCK } from '../../abi/linux/fcntl';
import {
  MMSGHDR_SIZE, MSG_CMSG_CLOEXEC, MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC, MSG_WAITFORONE, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM,
  SOL_SOCKET, SOMAXCONN,
} from '../../abi/linux/socket';
import {
  SYS_accept, SYS_accept4, SYS_bind, SYS_connect, SYS_getpeername, SYS_getsockname, SYS_getsockopt, SYS_listen,
  SYS_recvfrom, SYS_recvmmsg, SYS_recvmsg, SYS_sendmmsg, SYS_sendmsg, SYS_sendto, SYS_setsockopt, SYS_shutdown,
  SYS_socket, SYS_socketpair,
} from '../../abi/linux/syscall_numbers';
import type { FileDescription } from '../../vfs/file_description';
import { Socket, type RecvResult, type SendRequest } from '../../net/socket';
import { checkSocketFlags, createSocket, createSocketPair, socketSpec } from '../../net/socket_create';
import { buildControl, parseControl, takeRights } from '../../net/control';
import { getSolSocket, setSolSocket } from '../../net/sockopt';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { getFile, holding, nofileLimit } from './fd_util';
import {
  copyInAddr, copyInMsgHdr, copyOutAddr, gatherIovecs, iovTotal, oneIovec, scatterIovecs, type MsgHdr,
} from './msghdr';
import { copyInTimespec, timespecToNs, timespecValid } from './timespec';
import { IovCursor, type IOVec } from './user_io';
import { INVALID_ID, fromKgid, fromKuid, makeKgid, makeKuid } from '../../kernel/ns/user_namespace';
import { ucredPidIn, type UCred } from '../../net/socket';
import { findThreadGroup, vtgid } from '../../kernel/ns/pid_ns';
import { McastSock } from '../../net/inet/mcast_opts';
import {
  hostStdioRefusal, hostStdioSocket, hostStdioSockName, hostStdioSockopt, type HostSocketCall,
} from '../../net/host/host_stdio_socket';

const UIO_MAXIOV = 1024;
/** Most bytes of a stream send gathered from the application at once. */
const STREAM_CHUNK = 1 << 20;

/** The socket fd names; ENOTSOCK if none, or for a host stdio socket what onHost says
 *  (net/host/host_stdio_socket.ts: it never reaches the host socket). */
export function sockfd(t: Task, fd: number, onHost?: () => HostSocketCall): Socket {
  const f = getFile(t, fd);
  if (f instanceof Socket) return f;
  if (onHost && hostStdioSocket(f) !== null) hostStdioRefusal(onHost());
  fail(ENOTSOCK);
}

function install(t: Task, f: FileDescription, cloexec: boolean): number {
  try {
    return t.fdTable.newFD(f, { cloexec, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

function sysSocket(t: Task, a: SyscallArgs): number {
  const spec = socketSpec(a.int(0), a.int(1), a.int(2));
  return install(t, createSocket(t, spec), spec.cloexec);
}

/** The two descriptors __sys_socketpair reserves, and writes to the caller's array, before it
 *  makes the sockets: EMFILE and EFAULT come before the family and type are looked at. */
function reserveSocketpairFds(t: Task, addr: number): void {
  const fds = t.fdTable.peekFree(2, nofileLimit(t));
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setInt32(0, fds[0], true);
  v.setInt32(4, fds[1], true);
  t.mm.copyOut(addr, b);
}

function sysSocketpair(t: Task, a: SyscallArgs): number {
  checkSocketFlags(a.int(1));
  reserveSocketpairFds(t, a.ptr(3));
  const spec = socketSpec(a.int(0), a.int(1), a.int(2));
  const [s1, s2] = createSocketPair(t, spec);
  let fd1 = -1;
  try {
    fd1 = t.fdTable.newFD(s1, { cloexec: spec.cloexec, limit: nofileLimit(t) });
    const fd2 = t.fdTable.newFD(s2, { cloexec: spec.cloexec, limit: nofileLimit(t) });
    try {
      const b = new Uint8Array(8);
      const v = new DataView(b.buffer);
      v.setInt32(0, fd1, true);
      v.setInt32(4, fd2, true);
      t.mm.copyOut(a.ptr(3), b);
    } catch (e) {
      t.fdTable.remove(fd2)?.decRef();
      throw e;
    }
  } catch (e) {
    if (fd1 >= 0) t.fdTable.remove(fd1)?.decRef();
    throw e;
  } finally {
    s1.decRef();
    s2.decRef();
  }
  return 0;
}

function sysBind(t: Task, a: SyscallArgs): number {
  const s = sockfd(t, a.int(0), () => { copyInAddr(t, a.ptr(1), a.int(2)); return { call: 'bind' }; });
  s.bind(t, copyInAddr(t, a.ptr(1), a.int(2)));
  return 0;
}

function sysListen(t: Task, a: SyscallArgs): number {
  const s = sockfd(t, a.int(0), () => ({ call: 'listen' }));
  const backlog = a.int(1);
  s.listen(t, backlog >>> 0 > SOMAXCONN ? SOMAXCONN : backlog);
  return 0;
}

function sysConnect(t: Task, a: SyscallArgs): SyscallReturn {
  const s = sockfd(t, a.int(0), () => ({ call: 'connect', addr: copyInAddr(t, a.ptr(1), a.int(2)) }));
  return holding(s, s.connect(t, copyInAddr(t, a.ptr(1), a.int(2))));
}

function doAccept(t: Task, fd: number, addr: number, lenPtr: number, flags: number): SyscallReturn {
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) fail(EINVAL);
  const s = sockfd(t, fd, () => ({ call: 'accept' }));
  const done = (ns: Socket): number => {
    if (flags & SOCK_NONBLOCK) ns.flags |= O_NONBLOCK;
    if (addr !== 0) {
      try {
        copyOutAddr(t, ns.acceptedPeer(), addr, lenPtr);
      } catch (e) {
        ns.decRef();
        throw e;
      }
    }
    return install(t, ns, (flags & SOCK_CLOEXEC) !== 0);
  };
  const r = s.accept(t, flags);
  return r instanceof Promise ? holding(s, r.then(done)) : done(r);
}

function sysGetname(t: Task, a: SyscallArgs, peer: boolean): number {
  const f = getFile(t, a.int(0));
  const host = f instanceof Socket ? null : hostStdioSocket(f);
  if (host !== null) {
    copyOutAddr(t, hostStdioSockName(host, peer), a.ptr(1), a.ptr(2));
    return 0;
  }
  const s = sockfd(t, a.int(0));
  const raw = peer ? s.getpeername() : s.getsockname();
  copyOutAddr(t, raw, a.ptr(1), a.ptr(2));
  return 0;
}

function sysShutdown(t: Task, a: SyscallArgs): number {
  sockfd(t, a.int(0), () => ({ call: 'shutdown', how: a.int(1) })).shutdown(t, a.int(1));
  return 0;
}

// --- sending ---

function dropRights(req: SendRequest): void {
  const r = req.rights;
  req.rights = null;
  if (r) for (const f of r) f.decRef();
}

/** Send the iovecs' data: one message for datagrams; for streams, in chunks, stopping at
 *  the first short one (the fds go with the first). */
function sendData(t: Task, s: Socket, iovs: IOVec[], req: SendRequest): SyscallReturn {
  if (s.sendUser) return s.sendUser(t, iovs, req);
  const total = iovTotal(iovs);
  const chunk = s.type === SOCK_STREAM ? STREAM_CHUNK : total;
  let done = 0;
  const step = (): SyscallReturn => {
    for (;;) {
      const want = Math.min(chunk, total - done);
      // The same request each time: a socket that takes the fds clears req.rights.
      req.data = gatherIovecs(t, iovs, done, want);
      const r = s.sendmsg(t, req);
      const after = (n: number): SyscallReturn => {
        done += n;
        return n === want && done < total ? step() : done;
      };
      if (typeof r !== 'number') {
        return r.then(after, (e: unknown) => { if (done > 0 && e instanceof SyscallError) return done; throw e; });
      }
      done += r;
      if (r !== want || done >= total) return done;
    }
  };
  return step();
}

/** Credentials a sender named, as kernel ids (an id its namespace does not map is EINVAL),
 *  the pid as the process it names in the sender's pid namespace (checked to exist). */
function kernelCreds(t: Task, c: UCred): UCred {
  const uid = makeKuid(t.creds.userNs, c.uid), gid = makeKgid(t.creds.userNs, c.gid);
  if (uid === INVALID_ID || gid === INVALID_ID) fail(EINVAL);
  const tg = c.pid === vtgid(t, t.tg) ? t.tg : findThreadGroup(t, c.pid);
  return tg === undefined ? { ...c, uid, gid } : { pid: tg.tgid, uid, gid, pidRef: tg.leaderPid };
}

/** Credentials delivered to t, as its user and pid namespaces name them. */
function seenCreds(t: Task, c: UCred): UCred {
  return { pid: ucredPidIn(t.threadPid.ns, c), uid: fromKuid(t.creds.userNs, c.uid), gid: fromKgid(t.creds.userNs, c.gid) };
}

function doSend(t: Task, s: Socket, iovs: IOVec[], addr: Uint8Array | null, control: Uint8Array | null, flags: number): SyscallReturn {
  if (s.flags & O_NONBLOCK) flags |= MSG_DONTWAIT;
  const req: SendRequest = { data: new Uint8Array(0), addr, rights: null, creds: null, flags };
  if (control && control.length > 0) {
    const c = t.creds;
    // SCM_CREDENTIALS name ids as the sender's user namespace does (scm_check_creds).
    const u = (id: number): number => fromKuid(c.userNs, id), g = (id: number): number => fromKgid(c.userNs, id);
    const parsed = parseControl(control, s.family === 1, {
      tgid: vtgid(t, t.tg), uids: [u(c.uid), u(c.euid), u(c.suid)], gids: [g(c.gid), g(c.egid), g(c.sgid)],
      anyPid: c.nsCapable(t.threadPid.ns.userNs, CAP_SYS_ADMIN), anyUid: c.nsCapable(c.userNs, CAP_SETUID),
      anyGid: c.nsCapable(c.userNs, CAP_SETGID),
      pidExists: (pid) => findThreadGroup(t, pid) !== undefined,
      mapped: (uid, gid) => makeKuid(c.userNs, uid) !== INVALID_ID && makeKgid(c.userNs, gid) !== INVALID_ID,
    });
    if (parsed.fds.length > 0) req.rights = takeRights(parsed.fds, (fd) => t.fdTable.get(fd));
    req.creds = parsed.creds === null ? null : kernelCreds(t, parsed.creds);
    req.control = control;
  }
  let r: SyscallReturn;
  try {
    r = holding(s, sendData(t, s, iovs, req));
  } catch (e) {
    dropRights(req);
    throw e;
  }
  if (typeof r === 'number' || typeof r === 'bigint') {
    dropRights(req);
    return r;
  }
  return r.finally(() => dropRights(req));
}

function sysSendto(t: Task, a: SyscallArgs): SyscallReturn {
  // __sys_sendto imports the buffer before it looks the descriptor up.
  const iovs = oneIovec(a.ptr(1), a.size(2));
  const s = sockfd(t, a.int(0), () => ({ call: 'send' }));
  const addrPtr = a.ptr(4);
  const addr = addrPtr !== 0 ? copyInAddr(t, addrPtr, a.int(5)) : null;
  return doSend(t, s, iovs, addr, null, a.int(3));
}

function sendMsgHdr(t: Task, s: Socket, m: MsgHdr, flags: number): SyscallReturn {
  const addr = m.namelen > 0 ? t.mm.copyIn(m.name, m.namelen) : null;
  const control = m.controllen > 0 ? t.mm.copyIn(m.control, m.controllen) : null;
  return doSend(t, s, m.iovs, addr, control, flags);
}

function sysSendmsg(t: Task, a: SyscallArgs): SyscallReturn {
  const s = sockfd(t, a.int(0), () => ({ call: 'send' }));
  return sendMsgHdr(t, s, copyInMsgHdr(t, a.ptr(1)), a.int(2) & ~MSG_CMSG_CLOEXEC);
}

function sysSendmmsg(t: Task, a: SyscallArgs): SyscallReturn {
  const s = sockfd(t, a.int(0), () => ({ call: 'send' }));
  const vec = a.ptr(1);
  const vlen = Math.min(a.uint(2), UIO_MAXIOV);
  const flags = a.int(3);
  let i = 0;
  const next = (): SyscallReturn => {
    while (i < vlen) {
      let r: SyscallReturn;
      try {
        r = sendMsgHdr(t, s, copyInMsgHdr(t, vec + i * MMSGHDR_SIZE), flags);
      } catch (e) {
        if (i > 0) return i;
        throw e;
      }
      const store = (n: number | bigint): void => { t.mm.writeU32(vec + i * MMSGHDR_SIZE + 56, Number(n)); i++; };
      if (typeof r !== 'number' && typeof r !== 'bigint') {
        return r.then((n) => { store(n); return next(); }, (e: unknown) => { if (i > 0) return i; throw e; });
      }
      store(r);
    }
    return i;
  };
  return next();
}

// --- receiving ---

interface RecvOut { iovs: IOVec[]; name: number; namelenPtr: number; control: number; controllen: number; hdr: number }

function deliver(t: Task, s: Socket, res: RecvResult, out: RecvOut, flags: number): number {
  let n = res.n;
  try {
    if (s.putBack && (flags & (MSG_PEEK | MSG_TRUNC)) === 0) {
      // A stream that took the bytes from a queue of its own keeps what did not fit before a
      // fault for the next receive (EFAULT if nothing fit).
      let copied = 0;
      try {
        copied = res.data.length > 0 ? new IovCursor(out.iovs).copyOut(t, res.data) : 0;
      } finally {
        if (copied < res.data.length) s.putBack(res.data.subarray(copied));
      }
      n = copied;
    } else {
      scatterIovecs(t, out.iovs, res.data);
    }
  } catch (e) {
    if (res.rights) for (const f of res.rights) f.decRef();
    throw e;
  }
  let msgFlags = res.flags | (flags & MSG_CMSG_CLOEXEC);
  const cloexec = (flags & MSG_CMSG_CLOEXEC) !== 0;
  // put_cmsg and scm_detach_fds find no room behind a NULL msg_control, whatever
  // msg_controllen says: the data comes, the fds are dropped, MSG_CTRUNC tells.
  const ctl = buildControl(out.hdr !== 0 && out.control !== 0 ? out.controllen : 0, out.hdr !== 0 && res.creds ? seenCreds(t, res.creds) : null, res.rights,
    (f) => t.fdTable.newFD(f, { cloexec, limit: nofileLimit(t) }), res.cmsgs ?? null);
  msgFlags |= ctl.flags;
  if (out.hdr !== 0) {
    if (ctl.used > 0) t.mm.copyOut(out.control, ctl.bytes);
    if (out.name !== 0) copyOutAddr(t, res.from ?? new Uint8Array(0), out.name, out.namelenPtr);
    t.mm.writeU64(out.hdr + 40, BigInt(ctl.used));
    t.mm.writeI32(out.hdr + 48, msgFlags);
  } else if (out.name !== 0) {
    copyOutAddr(t, res.from ?? new Uint8Array(0), out.name, out.namelenPtr);
  }
  return n;
}

function doRecv(t: Task, s: Socket, out: RecvOut, flags: number): SyscallReturn {
  if (s.flags & O_NONBLOCK) flags |= MSG_DONTWAIT;
  const r = s.recvUser ? s.recvUser(t, out.iovs, flags) : s.recvmsg(t, iovTotal(out.iovs), flags);
  return r instanceof Promise ? holding(s, r.then((res) => deliver(t, s, res, out, flags))) : deliver(t, s, r, out, flags);
}

function sysRecvfrom(t: Task, a: SyscallArgs): SyscallReturn {
  const iovs = oneIovec(a.ptr(1), a.size(2));
  const s = sockfd(t, a.int(0), () => ({ call: 'recv' }));
  return doRecv(t, s, { iovs, name: a.ptr(4), namelenPtr: a.ptr(5), control: 0, controllen: 0, hdr: 0 }, a.int(3));
}

function recvMsgHdr(t: Task, s: Socket, hdr: number, flags: number): SyscallReturn {
  const m = copyInMsgHdr(t, hdr);
  const out = { iovs: m.iovs, name: m.name, namelenPtr: hdr + 8, control: m.control, controllen: m.controllen, hdr };
  return doRecv(t, s, out, flags);
}

function sysRecvmsg(t: Task, a: SyscallArgs): SyscallReturn {
  const s = sockfd(t, a.int(0), () => ({ call: 'recv' }));
  return recvMsgHdr(t, s, a.ptr(1), a.int(2));
}

function sysRecvmmsg(t: Task, a: SyscallArgs): SyscallReturn {
  const s = sockfd(t, a.int(0), () => ({ call: 'recv' }));
  const vec = a.ptr(1);
  const vlen = Math.min(a.uint(2), UIO_MAXIOV);
  let flags = a.int(3);
  let deadline: bigint | null = null;
  if (a.ptr(4) !== 0) {
    const ts = copyInTimespec(t, a.ptr(4));
    if (!timespecValid(ts)) fail(EINVAL);
    deadline = process.hrtime.bigint() + timespecToNs(ts);
  }
  let i = 0;
  const next = (): SyscallReturn => {
    while (i < vlen) {
      let r: SyscallReturn;
      try {
        r = recvMsgHdr(t, s, vec + i * MMSGHDR_SIZE, flags);
      } catch (e) {
        if (i > 0) return i;
        throw e;
      }
      const store = (n: number | bigint): boolean => {
        t.mm.writeU32(vec + i * MMSGHDR_SIZE + 56, Number(n));
        i++;
        if (flags & MSG_WAITFORONE) flags |= MSG_DONTWAIT;
        return deadline !== null && process.hrtime.bigint() >= deadline;
      };
      if (typeof r !== 'number' && typeof r !== 'bigint') {
        return r.then((n) => (store(n) ? i : next()), (e: unknown) => { if (i > 0) return i; throw e; });
      }
      if (store(r)) return i;
    }
    return i;
  };
  return next();
}

// --- options ---

/** ops->getsockopt/setsockopt exist: the socket's class has options below SOL_SOCKET. */
function hasProtoOpts(s: Socket): boolean {
  return s.getsockoptProto !== Socket.prototype.getsockoptProto;
}

function sysGetsockopt(t: Task, a: SyscallArgs): number {
  const level = a.int(1);
  const name = a.int(2);
  const val = a.ptr(3);
  const lenPtr = a.ptr(4);
  const f = getFile(t, a.int(0));
  const host = f instanceof Socket ? null : hostStdioSocket(f);
  if (host !== null) {
    // AF_UNIX has no options below SOL_SOCKET: EOPNOTSUPP before optlen is read.
    if (level !== SOL_SOCKET) fail(EOPNOTSUPP);
    const len = t.mm.readI32(lenPtr);
    if (len < 0) fail(EINVAL);
    const v = hostStdioSockopt(host, level, name);
    const n = Math.min(len, v.length);
    if (n > 0) t.mm.copyOut(val, v.subarray(0, n));
    t.mm.writeI32(lenPtr, n);
    return 0;
  }
  const s = sockfd(t, a.int(0));
  // A protocol without options of its own (AF_UNIX) answers before optlen is read.
  if (level !== SOL_SOCKET && !hasProtoOpts(s)) fail(EOPNOTSUPP);
  const len = t.mm.readI32(lenPtr);
  if (len < 0) fail(EINVAL);
  const v = level === SOL_SOCKET ? getSolSocket(s, name, t, len) : s.getsockoptProto(t, level, name, len, val);
  const n = Math.min(len, v.length);
  if (n > 0) t.mm.copyOut(val, v.subarray(0, n));
  t.mm.writeI32(lenPtr, n);
  return 0;
}

function sysSetsockopt(t: Task, a: SyscallArgs): number {
  // The descriptor, then optlen, then (for a protocol without options) EOPNOTSUPP before
  // the value is read.
  const s = sockfd(t, a.int(0), () => ({ call: 'setsockopt', level: a.int(1), len: a.int(4) }));
  const len = a.int(4);
  if (len < 0) fail(EINVAL);
  const level = a.int(1);
  const name = a.int(2);
  if (level !== SOL_SOCKET && !hasProtoOpts(s)) fail(EOPNOTSUPP);
  // Every option we know fits in 64 bytes but the multicast group requests; Linux reads no
  // more than the option needs.
  const val = t.mm.copyIn(a.ptr(3), Math.min(len, McastSock.valueSize(level, name) || 64));
  if (level === SOL_SOCKET) setSolSocket(t, s, name, val);
  else s.setsockoptProto(t, level, name, val);
  return 0;
}

export function registerSocket(table: SyscallTable): void {
  table[SYS_socket] = { name: 'socket', handler: sysSocket, args: ['sockfamily', 'socktype', 'int'] };
  table[SYS_socketpair] = { name: 'socketpair', handler: sysSocketpair, args: ['sockfamily', 'socktype', 'int', 'outptr'] };
  table[SYS_bind] = { name: 'bind', handler: sysBind, args: ['fd', 'sockaddr', 'int'] };
  table[SYS_listen] = { name: 'listen', handler: sysListen, args: ['fd', 'int'] };
  table[SYS_accept] = { name: 'accept', handler: (t, a) => doAccept(t, a.int(0), a.ptr(1), a.ptr(2), 0), args: ['fd', 'ptr', 'ptr'] };
  table[SYS_accept4] = {
    name: 'accept4', handler: (t, a) => doAccept(t, a.int(0), a.ptr(1), a.ptr(2), a.int(3)), args: ['fd', 'ptr', 'ptr', 'socktype'],
  };
  table[SYS_connect] = { name: 'connect', handler: sysConnect, args: ['fd', 'sockaddr', 'int'] };
  table[SYS_getsockname] = { name: 'getsockname', handler: (t, a) => sysGetname(t, a, false), args: ['fd', 'ptr', 'ptr'] };
  table[SYS_getpeername] = { name: 'getpeername', handler: (t, a) => sysGetname(t, a, true), args: ['fd', 'ptr', 'ptr'] };
  table[SYS_shutdown] = { name: 'shutdown', handler: sysShutdown, args: ['fd', 'int'] };
  table[SYS_sendto] = { name: 'sendto', handler: sysSendto, args: ['fd', 'buf', 'size', 'hex', 'sockaddr', 'int'] };
  table[SYS_recvfrom] = { name: 'recvfrom', handler: sysRecvfrom, args: ['fd', 'outbuf', 'size', 'hex', 'ptr', 'ptr'] };
  table[SYS_sendmsg] = { name: 'sendmsg', handler: sysSendmsg, args: ['fd', 'ptr', 'hex'] };
  table[SYS_recvmsg] = { name: 'recvmsg', handler: sysRecvmsg, args: ['fd', 'ptr', 'hex'] };
  table[SYS_sendmmsg] = { name: 'sendmmsg', handler: sysSendmmsg, args: ['fd', 'ptr', 'uint', 'hex'] };
  table[SYS_recvmmsg] = { name: 'recvmmsg', handler: sysRecvmmsg, args: ['fd', 'ptr', 'uint', 'hex', 'timespec'] };
  table[SYS_getsockopt] = { name: 'getsockopt', handler: sysGetsockopt, args: ['fd', 'int', 'int', 'ptr', 'ptr'] };
  table[SYS_setsockopt] = { name: 'setsockopt', handler: sysSetsockopt, args: ['fd', 'int', 'int', 'ptr', 'int'] };
}
