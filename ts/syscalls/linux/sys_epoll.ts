// epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2 (Linux
// fs/eventpoll.c), over kernel/epoll.ts. Checks come in Linux's order. A wait cut short by
// a signal is EINTR whatever SA_RESTART says: epoll waits are never restarted.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EFAULT, EINTR, EINVAL, EPERM } from '../../abi/linux/errno';
import { O_CLOEXEC } from '../../abi/linux/fcntl';
import { POLLERR, POLLHUP, POLLIN, POLLOUT } from '../../abi/linux/poll';
import {
  EPOLLET, EPOLLEXCLUSIVE, EPOLLWAKEUP, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLL_EVENT_SIZE,
  EP_MAX_EVENTS,
} from '../../abi/linux/epoll';
import {
  SYS_epoll_create, SYS_epoll_create1, SYS_epoll_ctl, SYS_epoll_pwait, SYS_epoll_pwait2, SYS_epoll_wait,
} from '../../abi/linux/syscall_numbers';
import { EpollInstance, type EpollEvent } from '../../kernel/epoll';
import { block } from '../../kernel/blocking';
import { setUserSigmask, withUserSigmask } from '../../kernel/poll/user_sigmask';
import { FOREVER, msTimeout, relativeTimeout, type Timeout } from '../../kernel/poll/timeout';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';
import { getFile, nofileLimit } from './fd_util';
import { accessOk } from './user_io';
import { copyInTimespec } from './timespec';

/** Event bits an EPOLLEXCLUSIVE registration may carry (EPOLLEXCLUSIVE_OK_BITS). */
const EXCLUSIVE_OK = POLLIN | POLLOUT | POLLERR | POLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;

function createEpoll(t: Task, flags: number): number {
  if ((flags & ~O_CLOEXEC) !== 0) fail(EINVAL);
  const ep = new EpollInstance(t);
  try {
    return t.fdTable.newFD(ep, { cloexec: (flags & O_CLOEXEC) !== 0, limit: nofileLimit(t) });
  } finally {
    ep.decRef();
  }
}

function sysEpollCreate(t: Task, a: SyscallArgs): number {
  if (a.int(0) <= 0) fail(EINVAL);
  return createEpoll(t, 0);
}

function readEvent(t: Task, addr: number): EpollEvent {
  const b = t.mm.copyIn(addr, EPOLL_EVENT_SIZE);
  const v = new DataView(b.buffer, b.byteOffset, EPOLL_EVENT_SIZE);
  return { events: v.getUint32(0, true), data: v.getBigUint64(4, true) };
}

function sysEpollCtl(t: Task, a: SyscallArgs): number {
  const op = a.int(1);
  const fd = a.int(2);
  const ev = op !== EPOLL_CTL_DEL ? readEvent(t, a.ptr(3)) : { events: 0, data: 0n };
  const epFile = getFile(t, a.int(0));
  const target = getFile(t, fd);
  if (!target.pollable) fail(EPERM);
  if (op !== EPOLL_CTL_DEL && (ev.events & EPOLLEXCLUSIVE)) {
    if (op === EPOLL_CTL_MOD) fail(EINVAL);
    if (op === EPOLL_CTL_ADD && (target instanceof EpollInstance || (ev.events & ~EXCLUSIVE_OK))) fail(EINVAL);
  }
  if (epFile === target || !(epFile instanceof EpollInstance)) fail(EINVAL);
  switch (op) {
    case EPOLL_CTL_ADD:
      epFile.add(fd, target, ev);
      return 0;
    case EPOLL_CTL_DEL:
      epFile.remove(fd, target);
      return 0;
    case EPOLL_CTL_MOD: {
      const cur = epFile.itemEvents(fd, target);
      if (cur !== undefined && (cur & EPOLLEXCLUSIVE)) fail(EINVAL);
      epFile.modify(fd, target, ev);
      return 0;
    }
    default:
      fail(EINVAL);
  }
}

function writeEvents(t: Task, addr: number, events: EpollEvent[]): number {
  const b = new Uint8Array(events.length * EPOLL_EVENT_SIZE);
  const v = new DataView(b.buffer);
  events.forEach((e, i) => {
    v.setUint32(i * EPOLL_EVENT_SIZE, e.events, true);
    v.setBigUint64(i * EPOLL_EVENT_SIZE + 4, e.data, true);
  });
  t.mm.copyOut(addr, b);
  return events.length;
}

/** do_epoll_wait: argument checks, then ep_poll. */
function doEpollWait(t: Task, epfd: number, addr: number, max: number, to: Timeout): SyscallReturn {
  if (max <= 0 || max > EP_MAX_EVENTS) fail(EINVAL);
  if (!accessOk(addr, max * EPOLL_EVENT_SIZE)) fail(EFAULT);
  const ep = getFile(t, epfd);
  if (!(ep instanceof EpollInstance)) fail(EINVAL);
  const now = ep.collect(max);
  if (now.length > 0) return writeEvents(t, addr, now);
  if (to.zero || (to.deadline !== null && t.kernel.monotonicNs() >= to.deadline)) return 0;
  return epollSleep(t, ep, addr, max, to);
}

async function epollSleep(t: Task, ep: EpollInstance, addr: number, max: number, to: Timeout): Promise<number> {
  for (;;) {
    const left = to.deadline === null ? undefined : to.deadline - t.kernel.monotonicNs();
    const timedOut = left !== undefined && left <= 0n ? true
      : await block<boolean>(t, (wake) => ep.subscribeReady(() => wake(false)),
        { restart: EINTR, timeoutNs: left }, () => true);
    const got = ep.collect(max);
    if (got.length > 0) return writeEvents(t, addr, got);
    if (timedOut) return 0;
  }
}

function sysEpollWait(t: Task, a: SyscallArgs): SyscallReturn {
  return doEpollWait(t, a.int(0), a.ptr(1), a.int(2), msTimeout(t, a.int(3)));
}

function sysEpollPwait(t: Task, a: SyscallArgs): SyscallReturn {
  const masked = setUserSigmask(t, a.ptr(4), a.size(5));
  return withUserSigmask(t, masked, EINTR, () =>
    doEpollWait(t, a.int(0), a.ptr(1), a.int(2), msTimeout(t, a.int(3))));
}

function sysEpollPwait2(t: Task, a: SyscallArgs): SyscallReturn {
  let to = FOREVER;
  if (a.ptr(3) !== 0) {
    const ts = copyInTimespec(t, a.ptr(3));
    to = relativeTimeout(t, ts.sec, ts.nsec);
  }
  const masked = setUserSigmask(t, a.ptr(4), a.size(5));
  return withUserSigmask(t, masked, EINTR, () => doEpollWait(t, a.int(0), a.ptr(1), a.int(2), to));
}

export function registerEpoll(table: SyscallTable): void {
  table[SYS_epoll_create] = { name: 'epoll_create', handler: sysEpollCreate, args: ['int'] };
  table[SYS_epoll_create1] = { name: 'epoll_create1', handler: (t, a) => createEpoll(t, a.int(0)), args: ['hex'] };
  table[SYS_epoll_ctl] = { name: 'epoll_ctl', handler: sysEpollCtl, args: ['fd', 'int', 'fd', 'ptr'] };
  table[SYS_epoll_wait] = { name: 'epoll_wait', handler: sysEpollWait, args: ['fd', 'ptr', 'int', 'int'] };
  table[SYS_epoll_pwait] = {
    name: 'epoll_pwait', handler: sysEpollPwait, args: ['fd', 'ptr', 'int', 'int', 'ptr', 'size'],
  };
  table[SYS_epoll_pwait2] = {
    name: 'epoll_pwait2', handler: sysEpollPwait2, args: ['fd', 'ptr', 'int', 'timespec', 'ptr', 'size'],
  };
}
