// mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify, mq_getsetattr (Linux
// ipc/mqueue.c) over fsimpl/mqueue.

import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { block } from '../../kernel/blocking';
import { EAGAIN, EBADF, EBUSY, EINVAL, EMSGSIZE, ETIMEDOUT } from '../../abi/linux/errno';
import { O_CLOEXEC, O_CREAT, O_NONBLOCK } from '../../abi/linux/fcntl';
import { POLLIN, POLLOUT } from '../../abi/linux/poll';
import { SIGRTMAX } from '../../abi/linux/signal';
import {
  SYS_mq_getsetattr, SYS_mq_notify, SYS_mq_open, SYS_mq_timedreceive, SYS_mq_timedsend, SYS_mq_unlink,
} from '../../abi/linux/syscall_numbers';
import { mqOpen, mqUnlink, type MqAttrIn } from '../../fsimpl/mqueue/mqueue';
import { MqFile } from '../../fsimpl/mqueue/file';
import { SIGEV_NONE, SIGEV_SIGNAL, type MQueue } from '../../fsimpl/mqueue/queue';
import { copyInTimespec, timespecToNs, timespecValid } from './timespec';
import { getFile, nofileLimit } from './fd_util';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';

const MQ_PRIO_MAX = 32768;
const MQ_ATTR_SIZE = 64;
const NAME_MAX = 255;

function sysMqOpen(t: Task, a: SyscallArgs): number {
  const name = t.mm.readCString(a.ptr(0), NAME_MAX + 2);
  const oflag = a.int(1);
  const mode = a.uint(2);
  const attrAddr = a.ptr(3);
  let attr: MqAttrIn | null = null;
  if ((oflag & O_CREAT) !== 0 && attrAddr !== 0) {
    const b = t.mm.copyIn(attrAddr, MQ_ATTR_SIZE);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    attr = { maxmsg: Number(v.getBigInt64(8, true)), msgsize: Number(v.getBigInt64(16, true)) };
  }
  const f = mqOpen(t, name, oflag, mode, attr);
  try {
    return t.fdTable.newFD(f, { cloexec: (oflag & O_CLOEXEC) !== 0, limit: nofileLimit(t) });
  } finally {
    f.decRef();
  }
}

/** An absolute CLOCK_REALTIME deadline, copied and checked before the fd (prepare_timeout). */
function deadline(t: Task, addr: number): bigint | null {
  if (addr === 0) return null;
  const ts = copyInTimespec(t, addr);
  if (!timespecValid(ts)) fail(EINVAL);
  return timespecToNs(ts);
}

function mqFile(t: Task, fd: number): MqFile {
  const f = getFile(t, fd);
  if (!(f instanceof MqFile)) fail(EBADF);
  return f;
}

/** wq_sleep: wait for `events` on the queue until the deadline, then try again. */
function waitFor<T>(t: Task, q: MQueue, events: number, until: bigint | null, retry: () => T | Promise<T>): Promise<T> {
  const timeoutNs = until === null ? undefined : until - t.kernel.realtimeNs();
  if (timeoutNs !== undefined && timeoutNs <= 0n) fail(ETIMEDOUT);
  return block<boolean>(t, (wake) => q.queue.subscribe(events, () => wake(true)), { timeoutNs }, () => false)
    .then((woken) => {
      if (!woken) throw new SyscallError(ETIMEDOUT);
      return retry();
    });
}

function sysMqTimedsend(t: Task, a: SyscallArgs): SyscallReturn {
  const fd = a.int(0);
  const ptr = a.ptr(1);
  const len = a.size(2);
  const prio = a.uint(3);
  if (prio >= MQ_PRIO_MAX) fail(EINVAL);
  const until = deadline(t, a.ptr(4));
  const f = mqFile(t, fd);
  if (!f.writable) fail(EBADF);
  const q = f.mq;
  if (len > q.msgsize) fail(EMSGSIZE);
  const data = t.mm.copyIn(ptr, len).slice();
  const attempt = (): SyscallReturn => {
    if (!q.full) {
      q.send(t, { prio, data });
      return 0;
    }
    if ((f.flags & O_NONBLOCK) !== 0) fail(EAGAIN);
    return waitFor(t, q, POLLOUT, until, attempt);
  };
  return attempt();
}

function sysMqTimedreceive(t: Task, a: SyscallArgs): SyscallReturn {
  const fd = a.int(0);
  const ptr = a.ptr(1);
  const len = a.size(2);
  const prioAddr = a.ptr(3);
  const until = deadline(t, a.ptr(4));
  const f = mqFile(t, fd);
  if (!f.readable) fail(EBADF);
  const q = f.mq;
  if (len < q.msgsize) fail(EMSGSIZE);
  const attempt = (): SyscallReturn => {
    if (q.curmsgs > 0) {
      const m = q.receive();
      if (prioAddr !== 0) t.mm.writeU32(prioAddr, m.prio);
      t.mm.copyOut(ptr, m.data);
      return m.data.length;
    }
    if ((f.flags & O_NONBLOCK) !== 0) fail(EAGAIN);
    let counted = true;
    q.waitingReceivers++;
    const done = (): void => {
      if (counted) q.waitingReceivers--;
      counted = false;
    };
    try {
      return waitFor(t, q, POLLIN, until, () => { done(); return attempt(); })
        .catch((e: unknown) => { done(); throw e; });
    } catch (e) {
      done();
      throw e;
    }
  };
  return attempt();
}

function sysMqNotify(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const addr = a.ptr(1);
  let ev: { notify: number; signo: number; value: bigint } | null = null;
  if (addr !== 0) {
    const b = t.mm.copyIn(addr, 64);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    ev = { value: v.getBigUint64(0, true), signo: v.getInt32(8, true), notify: v.getInt32(12, true) };
    // SIGEV_THREAD needs a netlink socket, which the sandbox does not have.
    if (ev.notify !== SIGEV_NONE && ev.notify !== SIGEV_SIGNAL) fail(EINVAL);
    if (ev.notify === SIGEV_SIGNAL && (ev.signo <= 0 || ev.signo > SIGRTMAX)) fail(EINVAL);
  }
  const q = mqFile(t, fd).mq;
  if (ev === null) {
    if (q.notify?.tgid === t.pid) q.notify = null;
    return 0;
  }
  if (q.notify !== null) fail(EBUSY);
  q.notify = { tgid: t.pid, ...ev };
  return 0;
}

function sysMqGetsetattr(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const newAddr = a.ptr(1);
  const oldAddr = a.ptr(2);
  let newFlags: number | null = null;
  if (newAddr !== 0) {
    const b = t.mm.copyIn(newAddr, MQ_ATTR_SIZE);
    const flags = new DataView(b.buffer, b.byteOffset, b.byteLength).getBigInt64(0, true);
    if ((flags & ~BigInt(O_NONBLOCK)) !== 0n) fail(EINVAL);
    newFlags = Number(flags);
  }
  const f = mqFile(t, fd);
  const q = f.mq;
  const old = new DataView(new ArrayBuffer(MQ_ATTR_SIZE));
  old.setBigInt64(0, BigInt(f.flags & O_NONBLOCK), true);
  old.setBigInt64(8, BigInt(q.maxmsg), true);
  old.setBigInt64(16, BigInt(q.msgsize), true);
  old.setBigInt64(24, BigInt(q.curmsgs), true);
  if (newFlags !== null) f.setStatusFlags((f.flags & ~O_NONBLOCK) | newFlags);
  if (oldAddr !== 0) t.mm.copyOut(oldAddr, new Uint8Array(old.buffer));
  return 0;
}

export function registerMqueue(table: SyscallTable): void {
  table[SYS_mq_open] = { name: 'mq_open', handler: sysMqOpen, args: ['str', 'oflags', 'mode', 'ptr'] };
  table[SYS_mq_unlink] = {
    name: 'mq_unlink', handler: (t, a) => { mqUnlink(t, t.mm.readCString(a.ptr(0), NAME_MAX + 2)); return 0; },
    args: ['str'],
  };
  table[SYS_mq_timedsend] = {
    name: 'mq_timedsend', handler: sysMqTimedsend, args: ['fd', 'buf', 'size', 'uint', 'timespec'],
  };
  table[SYS_mq_timedreceive] = {
    name: 'mq_timedreceive', handler: sysMqTimedreceive, args: ['fd', 'outbuf', 'size', 'ptr', 'timespec'],
  };
  table[SYS_mq_notify] = { name: 'mq_notify', handler: sysMqNotify, args: ['fd', 'ptr'] };
  table[SYS_mq_getsetattr] = { name: 'mq_getsetattr', handler: sysMqGetsetattr, args: ['fd', 'ptr', 'ptr'] };
}
