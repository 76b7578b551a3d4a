// msgget, msgsnd, msgrcv, msgctl (Linux ipc/msg.c) over kernel/ipc/msg.ts.

import type { Task } from '../../kernel/task';
import { SyscallError, fail } from '../../kernel/syscall_error';
import { block } from '../../kernel/blocking';
import { E2BIG, EACCES, EAGAIN, EIDRM, EINVAL, ENOMSG, EPERM, ERESTARTNOHAND } from '../../abi/linux/errno';
import { SYS_msgctl, SYS_msgget, SYS_msgrcv, SYS_msgsnd } from '../../abi/linux/syscall_numbers';
import { CAP_SYS_RESOURCE } from '../../kernel/capabilities';
import { MSGMAX, MSGMNB, MSGMNI } from '../../kernel/ipc/ipc';
import { ipcOf } from '../../kernel/ns/nsproxy';
import { IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, S_IRUGO, S_IWUGO } from '../../kernel/ipc/perm';
import { MSQID64_DS_SIZE, MsgQueue, SearchMode, type Msg } from '../../kernel/ipc/msg';
import type { SyscallArgs, SyscallReturn, SyscallTable } from './types';

const MSG_NOERROR = 0o10000;
const MSG_EXCEPT = 0o20000;
const MSG_COPY = 0o40000;
const MSG_STAT = 11;
const MSG_INFO = 12;
const MSG_STAT_ANY = 13;
/** MSGSSZ, MSGSEG, MSGPOOL of include/uapi/linux/msg.h. */
const MSGSSZ = 16;
const MSGSEG = 0xffff;
const MSGPOOL = (MSGMNI * MSGMNB) / 1024;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

function sysMsgget(t: Task, a: SyscallArgs): number {
  const flags = a.int(1);
  return ipcOf(t).msg.get(t.creds, a.int(0), flags, {
    create: (k) => new MsgQueue(t.kernel, k, t.creds, flags),
  });
}

function sysMsgsnd(t: Task, a: SyscallArgs): SyscallReturn {
  const id = a.int(0);
  const msgp = a.ptr(1);
  const size = a.i64(2);
  const flags = a.int(3);
  const mtype = t.mm.readU64(msgp);
  if (size > BigInt(MSGMAX) || size < 0n || id < 0) fail(EINVAL);
  if (BigInt.asIntN(64, mtype) < 1n) fail(EINVAL);
  const text = t.mm.copyIn(msgp + 8, Number(size)).slice();
  const q = ipcOf(t).msg.lookup(id);
  const m: Msg = { type: mtype, text };
  const attempt = (): SyscallReturn => {
    if (q.perm.deleted) fail(EIDRM);
    if (!q.perm.permits(t.creds, S_IWUGO)) fail(EACCES);
    if (q.fits(text.length)) {
      q.send(m, t.pid);
      return 0;
    }
    if ((flags & IPC_NOWAIT) !== 0) fail(EAGAIN);
    return block<number>(t, (wake) => q.addSender(wake), { restart: ERESTARTNOHAND }).then((errno) => {
      if (errno !== 0) throw new SyscallError(errno);
      return attempt();
    });
  };
  return attempt();
}

function sysMsgrcv(t: Task, a: SyscallArgs): SyscallReturn {
  const id = a.int(0);
  const msgp = a.ptr(1);
  const bufsz = a.i64(2);
  let type = a.i64(3);
  const flags = a.int(4);
  if (id < 0 || bufsz < 0n) fail(EINVAL);
  if ((flags & MSG_COPY) !== 0 && ((flags & MSG_EXCEPT) !== 0 || (flags & IPC_NOWAIT) === 0)) fail(EINVAL);
  let mode: SearchMode;
  if ((flags & MSG_COPY) !== 0) mode = SearchMode.Number;
  else if (type === 0n) mode = SearchMode.Any;
  else if (type < 0n) {
    type = type === LONG_MIN ? LONG_MAX : -type;
    mode = SearchMode.LessEqual;
  } else mode = (flags & MSG_EXCEPT) !== 0 ? SearchMode.NotEqual : SearchMode.Equal;
  const size = bufsz > BigInt(MSGMAX) * 1024n ? Number.MAX_SAFE_INTEGER : Number(bufsz);
  const q = ipcOf(t).msg.lookup(id);
  const deliver = (m: Msg): number => {
    const n = Math.min(size, m.text.length);
    t.mm.writeU64(msgp, m.type);
    t.mm.copyOut(msgp + 8, m.text.subarray(0, n));
    return n;
  };
  const attempt = (): SyscallReturn => {
    if (!q.perm.permits(t.creds, S_IRUGO)) fail(EACCES);
    if (q.perm.deleted) fail(EIDRM);
    const i = q.find(type, mode);
    if (i >= 0) {
      const m = q.messages[i];
      if (size < m.text.length && (flags & MSG_NOERROR) === 0) fail(E2BIG);
      if (mode !== SearchMode.Number) return deliver(q.take(i, t.pid));
      // copy_msg: MSG_COPY's copy holds min(bufsz, msg_ctlmax) bytes and is never cut short.
      if (m.text.length > Math.min(size, MSGMAX)) fail(EINVAL);
      return deliver(m);
    }
    if ((flags & IPC_NOWAIT) !== 0) fail(ENOMSG);
    const maxSize = (flags & MSG_NOERROR) !== 0 ? Infinity : size;
    return block<Msg | number>(t, (wake) => q.addReceiver({ type, mode, maxSize, pid: t.pid, wake }),
      { restart: ERESTARTNOHAND }).then((r) => {
      if (typeof r === 'number') throw new SyscallError(r);
      return deliver(r);
    });
  };
  return attempt();
}

function sysMsgctl(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  const cmd = a.int(1);
  const buf = a.ptr(2);
  if (id < 0 || cmd < 0) fail(EINVAL);
  const ns = ipcOf(t);
  switch (cmd) {
    case IPC_INFO:
    case MSG_INFO: {
      const b = new DataView(new ArrayBuffer(32));
      let msgs = 0;
      let bytes = 0;
      for (const q of ns.msg.all()) {
        msgs += q.messages.length;
        bytes += q.cbytes;
      }
      const info = cmd === MSG_INFO
        ? [ns.msg.inUse, msgs, MSGMAX, MSGMNB, MSGMNI, MSGSSZ, bytes]
        : [MSGPOOL, MSGMNB, MSGMAX, MSGMNB, MSGMNI, MSGSSZ, MSGMNB];
      info.forEach((n, i) => b.setInt32(i * 4, n, true));
      b.setUint16(28, MSGSEG, true);
      t.mm.copyOut(buf, new Uint8Array(b.buffer));
      return Math.max(0, ns.msg.maxIndex());
    }
    case IPC_STAT:
    case MSG_STAT:
    case MSG_STAT_ANY: {
      const q = cmd === IPC_STAT ? ns.msg.lookup(id) : ns.msg.atIndex(id);
      if (cmd !== MSG_STAT_ANY && !q.perm.permits(t.creds, S_IRUGO)) fail(EACCES);
      t.mm.copyOut(buf, q.encode(t.creds.userNs));
      return cmd === IPC_STAT ? 0 : q.perm.id;
    }
    case IPC_SET: {
      const ds = new DataView(t.mm.copyIn(buf, MSQID64_DS_SIZE).slice().buffer);
      const q = ns.msg.lookup(id);
      q.perm.checkOwner(t.creds);
      const qbytes = ds.getBigUint64(88, true);
      if (qbytes > BigInt(MSGMNB) && !t.creds.hasCapability(CAP_SYS_RESOURCE)) fail(EPERM);
      q.qbytes = Number(qbytes);
      q.perm.update(ds, 0, t.creds.userNs);
      q.touchCtime();
      // More room, or other permissions: waiting senders look again.
      q.wakeSenders(0);
      return 0;
    }
    case IPC_RMID: {
      const q = ns.msg.lookup(id);
      q.perm.checkOwner(t.creds);
      ns.msg.remove(q);
      q.destroy();
      return 0;
    }
    default:
      fail(EINVAL);
  }
}

export function registerMsg(table: SyscallTable): void {
  table[SYS_msgget] = { name: 'msgget', handler: sysMsgget, args: ['int', 'hex'] };
  table[SYS_msgsnd] = { name: 'msgsnd', handler: sysMsgsnd, args: ['int', 'ptr', 'size', 'hex'] };
  table[SYS_msgrcv] = { name: 'msgrcv', handler: sysMsgrcv, args: ['int', 'ptr', 'size', 'long', 'hex'] };
  table[SYS_msgctl] = { name: 'msgctl', handler: sysMsgctl, args: ['int', 'int', 'ptr'] };
}
