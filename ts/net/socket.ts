// The socket layer (Linux net/socket.c, gVisor pkg/sentry/socket). ts/net owns every socket
// the sandbox makes: the Socket file every family builds on, socket()/socketpair()'s choice
// of family (socket_create.ts), the SOL_SOCKET options (sockopt.ts), control messages
// (control.ts), addresses (sockaddr.ts), and the unix-domain family (unix/). It reads the
// VFS only to bind and find socket inodes, and the kernel only to wait and to signal; it
// never touches a host socket, the platform, or memory outside what the syscall layer
// (syscalls/linux/sys_socket.ts) copies in and out for it. The TCP/IP families (ts/tcpip)
// are another subsystem that will plug in here as Socket subclasses.

import { groupIdIn, type Pid, type PidNamespace } from '../kernel/ns/pid_ns';
import type { Task } from '../kernel/task';
import { FileDescription, type Stat } from '../vfs/file_description';
import { fail } from '../kernel/syscall_error';
import { ENOTSUP as EOPNOTSUPP, ENXIO } from '../abi/linux/errno';
import { O_NONBLOCK, O_RDWR } from '../abi/linux/fcntl';
import { S_IFSOCK } from '../abi/linux/stat';
import type { Credentials } from '../kernel/credentials';
import type { SockOpts } from './sockopt';
import type { Cmsg } from './control';

/** st_dev of sockfs (an anonymous device). */
const SOCKFS_DEV = 0x8;
let nextIno = 1;

/** Who sent a message or made a connection (struct ucred): the sentry's pid and the struct
 *  pid that numbers it in each namespace (a receiver sees it as its own namespace does). */
export interface UCred { pid: number; uid: number; gid: number; pidRef?: Pid }

export function ucredOf(t: Task, creds: Credentials = t.creds): UCred {
  return { pid: t.tg.tgid, uid: creds.euid, gid: creds.egid, pidRef: t.tg.leaderPid };
}

/** The credentials' pid as a task in pid namespace ns sees it (0 if outside it). */
export function ucredPidIn(ns: PidNamespace, c: UCred): number {
  return groupIdIn(ns, c.pid, c.pidRef);
}

/** What sendmsg hands a socket: the data, the destination (raw sockaddr bytes), and
 *  ancillary data already turned into references and checked credentials. */
export interface SendRequest {
  data: Uint8Array;
  addr: Uint8Array | null;
  rights: FileDescription[] | null;
  creds: UCred | null;
  flags: number;
  /** The control buffer as the program gave it, for families that read levels other than
   *  SOL_SOCKET (inet's IP_TTL, IPV6_PKTINFO...). */
  control?: Uint8Array | null;
}

/** What recvmsg gets back: the return value, the bytes to copy out, the sender's address
 *  (null: msg_namelen 0), ancillary data, and msg_flags. */
export interface RecvResult {
  n: number;
  data: Uint8Array;
  from: Uint8Array | null;
  rights: FileDescription[] | null;
  creds: UCred | null;
  flags: number;
  /** Other control messages, after the credentials (e.g. IP_RECVERR's). */
  cmsgs?: readonly Cmsg[];
}

export abstract class Socket extends FileDescription {
  override readonly reopenErrno = ENXIO;
  readonly ino = nextIno++;
  private readonly ctime = Date.now();

  constructor(flags: number, readonly family: number, readonly type: number, readonly protocol: number,
    readonly ownerUid: number, readonly ownerGid: number) {
    super(O_RDWR | (flags & O_NONBLOCK));
  }

  abstract readonly opts: SockOpts;

  abstract bind(t: Task, addr: Uint8Array): void;
  abstract listen(t: Task, backlog: number): void;
  /** The new connection's socket (holding its creator's reference), or a wait. */
  abstract accept(t: Task, flags: number): Socket | Promise<Socket>;
  abstract connect(t: Task, addr: Uint8Array): number | Promise<number>;
  /** Raw sockaddr bytes of this end or of the peer (ENOTCONN without one). */
  abstract getsockname(): Uint8Array;
  abstract getpeername(): Uint8Array;
  /** The peer accept() reports (inet_getname's peer == 2): a connection reset while it
   *  waited in the queue still names it. */
  acceptedPeer(): Uint8Array { return this.getpeername(); }
  abstract shutdown(t: Task, how: number): void;
  abstract sendmsg(t: Task, req: SendRequest): number | Promise<number>;
  abstract recvmsg(t: Task, max: number, flags: number): RecvResult | Promise<RecvResult>;
  /** A stream that copies straight between application memory and its queues (TCP) takes
   *  the iovecs instead of a buffer the syscall layer gathered or scatters (recvUser's
   *  result carries no data: it is already in place). */
  sendUser?(t: Task, iovs: readonly { base: number; len: number }[], req: SendRequest): number | Promise<number>;
  recvUser?(t: Task, iovs: readonly { base: number; len: number }[], flags: number): RecvResult | Promise<RecvResult>;
  /** Family-level options (level != SOL_SOCKET): EOPNOTSUPP where the family has none. */
  /** ptr: the caller's buffer, for the few options that read it first (IP_MSFILTER). */
  getsockoptProto(_t: Task, _level: number, _name: number, _len: number, _ptr = 0): Uint8Array { fail(EOPNOTSUPP); }
  setsockoptProto(_t: Task, _level: number, _name: number, _val: Uint8Array): void { fail(EOPNOTSUPP); }
  /** SO_PEERCRED, SO_ACCEPTCONN, SO_ERROR: what only the family knows. */
  abstract peerCred(): UCred | null;
  abstract get listening(): boolean;
  /** SO_SNDBUF as it reads now (a TCP connection grows an unset one). */
  sndbufNow(): number { return this.opts.sndbuf; }
  /** SO_SNDBUF changed: writers waiting for room may go on. */
  sndbufChanged(): void {}
  /** SO_RCVBUF/SO_RCVBUFFORCE changed opts.rcvbuf. */
  rcvbufChanged(): void {}
  /** SO_KEEPALIVE changed: a connection starts or stops probing. */
  keepaliveChanged(): void {}
  /** A SOL_SOCKET option was stored (val as the program gave it): a socket that mirrors
   *  options elsewhere (a host socket) passes it on. */
  solSocketSet(_name: number, _val: Uint8Array): void {}
  /** sock_error: the pending error, cleared by reading it. */
  abstract takeError(): number;
  /** SO_ERROR: the pending error, or else a soft one (sk_err_soft), each cleared by reading. */
  soError(): number { return this.takeError(); }

  override stat(): Stat {
    const ts = { sec: Math.floor(this.ctime / 1000), nsec: (this.ctime % 1000) * 1_000_000 };
    return {
      dev: SOCKFS_DEV, ino: this.ino, mode: S_IFSOCK | 0o777, nlink: 1, uid: this.ownerUid, gid: this.ownerGid,
      rdev: 0, size: 0, blksize: 4096, blocks: 0, atime: ts, mtime: ts, ctime: ts,
    };
  }

  override describe(): string { return `socket:[${this.ino}]`; }
  override get pollable(): boolean { return true; }
  override get fasync(): boolean { return true; }
}
