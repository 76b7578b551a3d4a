// Socket ABI (include/linux/socket.h, include/uapi/asm-generic/socket.h, linux/net.h,
// linux/un.h): address families, socket types, message flags, SOL_SOCKET options and
// control-message types, as x86-64 Linux numbers them.

export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
/** One past the highest family Linux knows (NPROTO). */
export const AF_MAX = 46;

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_RDM = 4;
export const SOCK_SEQPACKET = 5;
export const SOCK_DCCP = 6;
export const SOCK_PACKET = 10;
/** One past the highest type (SOCK_MAX); the low four bits of socket()'s type hold it. */
export const SOCK_MAX = 11;
export const SOCK_TYPE_MASK = 0xf;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
/** sk_shutdown bits. */
export const RCV_SHUTDOWN = 1;
export const SEND_SHUTDOWN = 2;
export const SHUTDOWN_MASK = 3;

export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_DONTROUTE = 0x4;
export const MSG_CTRUNC = 0x8;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80;
export const MSG_WAITALL = 0x100;
export const MSG_ERRQUEUE = 0x2000;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_MORE = 0x8000;
export const MSG_WAITFORONE = 0x10000;
export const MSG_CMSG_CLOEXEC = 0x40000000;

export const SOL_SOCKET = 1;
export const SO_DEBUG = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_DONTROUTE = 5;
export const SO_BROADCAST = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_OOBINLINE = 10;
export const SO_NO_CHECK = 11;
export const SO_PRIORITY = 12;
export const SO_LINGER = 13;
export const SO_BSDCOMPAT = 14;
export const SO_REUSEPORT = 15;
export const SO_PASSCRED = 16;
export const SO_PEERCRED = 17;
export const SO_RCVLOWAT = 18;
export const SO_SNDLOWAT = 19;
export const SO_RCVTIMEO_OLD = 20;
export const SO_SNDTIMEO_OLD = 21;
export const SO_PEERNAME = 28;
export const SO_TIMESTAMP_OLD = 29;
export const SO_ACCEPTCONN = 30;
export const SO_PASSSEC = 34;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_MARK = 36;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;
export const SO_RXQ_OVFL = 40;
export const SO_PEEK_OFF = 42;
export const SO_BUSY_POLL = 46;
export const SO_INCOMING_CPU = 49;
export const SO_BINDTODEVICE = 25;
export const SO_BINDTOIFINDEX = 62;
export const SO_RCVTIMEO_NEW = 66;
export const SO_SNDTIMEO_NEW = 67;

export const SCM_RIGHTS = 1;
export const SCM_CREDENTIALS = 2;
/** Most fds one SCM_RIGHTS message may carry. */
export const SCM_MAX_FD = 253;

/** struct cmsghdr: size_t cmsg_len; int cmsg_level; int cmsg_type. */
export const CMSGHDR_SIZE = 16;
export const cmsgAlign = (n: number): number => (n + 7) & ~7;
export const cmsgLen = (n: number): number => CMSGHDR_SIZE + n;
export const cmsgSpace = (n: number): number => CMSGHDR_SIZE + cmsgAlign(n);

/** struct sockaddr_un: sa_family_t + 108 bytes of path. */
export const UNIX_PATH_MAX = 108;
export const SOCKADDR_UN_SIZE = 110;
/** sizeof(struct sockaddr_storage): the most any address may be. */
export const SOCKADDR_STORAGE_SIZE = 128;

/** struct msghdr and struct mmsghdr on x86-64. */
export const MSGHDR_SIZE = 56;
export const MMSGHDR_SIZE = 64;

/** Socket ioctls (include/uapi/linux/sockios.h). */
export const SIOCINQ = 0x541b;
export const SIOCOUTQ = 0x5411;
export const SIOCGIFCONF = 0x8912;
export const SIOCGIFINDEX = 0x8933;

/** Linux's defaults (net.core.{w,r}mem_{default,max}, net.unix.max_dgram_qlen). */
export const WMEM_DEFAULT = 212992;
export const WMEM_MAX = 212992;
export const RMEM_DEFAULT = 212992;
export const RMEM_MAX = 212992;
export const SOMAXCONN = 4096;
export const UNIX_MAX_DGRAM_QLEN = 10;
/** SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF (twice / once SKB_TRUESIZE(256) on x86-64). */
export const SOCK_MIN_SNDBUF = 4608;
export const SOCK_MIN_RCVBUF = 2304;

/** Socket states as struct sock's sk_state (TCP_*) numbers them. */
export const TCP_ESTABLISHED = 1;
export const TCP_CLOSE = 7;
export const TCP_LISTEN = 10;
