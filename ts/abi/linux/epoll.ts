// epoll ABI (include/uapi/linux/eventpoll.h). struct epoll_event is packed on x86-64:
// u32 events then u64 data, 12 bytes.

export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;

export const EPOLLEXCLUSIVE = 1 << 28;
export const EPOLLWAKEUP = 1 << 29;
export const EPOLLONESHOT = 1 << 30;
export const EPOLLET = 1 << 31 >>> 0;

/** Flags that are about the registration, not readiness (Linux EP_PRIVATE_BITS). */
export const EP_PRIVATE_BITS = (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE) >>> 0;

export const EPOLL_EVENT_SIZE = 12;
/** Most events one epoll_wait may ask for (Linux EP_MAX_EVENTS). */
export const EP_MAX_EVENTS = Math.floor(0x7fff_ffff / EPOLL_EVENT_SIZE);
