// MsgQueue: one System V message queue (Linux struct msg_queue, ipc/msg.c). Messages are
// kept in arrival order with their type; a receiver picks by type (any, equal, not equal,
// lowest up to a bound, or by position for MSG_COPY). A message sent while receivers wait
// goes straight to the first one that wants it (pipelined_send); senders wait for room
// (msg_qbytes bounds both the bytes and the number of messages) and retry when woken.

import { INIT_USER_NS, type UserNamespace } from '../ns/user_namespace';
import type { Kernel } from '../kernel';
import type { Credentials } from '../credentials';
import { E2BIG, EIDRM } from '../../abi/linux/errno';
import { IPC64_PERM_SIZE, IpcPerm } from './perm';
import { MSGMNB } from './ipc';
import { nowSeconds } from './shm';

/** sizeof(struct msqid64_ds). */
export const MSQID64_DS_SIZE = 120;

export interface Msg { type: bigint; text: Uint8Array }

export enum SearchMode { Any, Equal, NotEqual, LessEqual, Number }

/** A receiver waiting in msgrcv (struct msg_receiver). */
export interface MsgReceiver {
  type: bigint;
  mode: SearchMode;
  /** Largest message it takes (Infinity with MSG_NOERROR, which truncates). */
  maxSize: number;
  pid: number;
  wake(r: Msg | number): void;
}

export class MsgQueue {
  readonly perm: IpcPerm;
  readonly messages: Msg[] = [];
  qbytes = MSGMNB;
  cbytes = 0;
  stime = 0;
  rtime = 0;
  ctime: number;
  lspid = 0;
  lrpid = 0;
  private readonly receivers: MsgReceiver[] = [];
  private readonly senders = new Set<(errno: number) => void>();

  constructor(private readonly kernel: Kernel, key: number, creds: Credentials, mode: number) {
    this.perm = new IpcPerm(key, creds, mode);
    this.ctime = nowSeconds(kernel);
  }

  /** msg_fits_inqueue. */
  fits(size: number): boolean {
    return this.cbytes + size <= this.qbytes && this.messages.length + 1 <= this.qbytes;
  }

  /** A message that fits: handed to a waiting receiver, or queued. */
  send(m: Msg, pid: number): void {
    this.lspid = pid;
    this.stime = nowSeconds(this.kernel);
    for (let i = 0; i < this.receivers.length; i++) {
      const r = this.receivers[i];
      if (!matches(m, r.type, r.mode, 0)) continue;
      this.receivers.splice(i--, 1);
      if (r.maxSize < m.text.length) {
        r.wake(E2BIG);
        continue;
      }
      this.lrpid = r.pid;
      this.rtime = nowSeconds(this.kernel);
      r.wake(m);
      return;
    }
    this.messages.push(m);
    this.cbytes += m.text.length;
  }

  /** find_msg: the index of the message a receiver with (type, mode) takes, or -1. */
  find(type: bigint, mode: SearchMode): number {
    let found = -1;
    let bound = type;
    for (let i = 0; i < this.messages.length; i++) {
      const m = this.messages[i];
      if (mode === SearchMode.Number) {
        if (BigInt(i) === type) return i;
        continue;
      }
      if (!matches(m, bound, mode, i)) continue;
      if (mode !== SearchMode.LessEqual) return i;
      found = i;
      if (m.type === 1n) return i;
      bound = m.type - 1n;
    }
    return found;
  }

  /** Take message i off the queue (a receive); senders may now have room. */
  take(i: number, pid: number): Msg {
    const [m] = this.messages.splice(i, 1);
    this.cbytes -= m.text.length;
    this.lrpid = pid;
    this.rtime = nowSeconds(this.kernel);
    this.wakeSenders(0);
    return m;
  }

  addReceiver(r: MsgReceiver): () => void {
    this.receivers.push(r);
    return () => {
      const i = this.receivers.indexOf(r);
      if (i >= 0) this.receivers.splice(i, 1);
    };
  }

  addSender(wake: (errno: number) => void): () => void {
    this.senders.add(wake);
    return () => { this.senders.delete(wake); };
  }

  /** ss_wakeup: every waiting sender retries (0) or fails (EIDRM). */
  wakeSenders(errno: number): void {
    for (const s of [...this.senders]) s(errno);
  }

  /** freeque: everyone waiting gets EIDRM. */
  destroy(): void {
    for (const r of this.receivers.splice(0)) r.wake(EIDRM);
    this.wakeSenders(EIDRM);
    this.messages.length = 0;
    this.cbytes = 0;
  }

  encode(ns: UserNamespace = INIT_USER_NS): Uint8Array {
    const b = new Uint8Array(MSQID64_DS_SIZE);
    const v = new DataView(b.buffer);
    this.perm.encode(v, 0, ns);
    const at = IPC64_PERM_SIZE;
    v.setBigInt64(at, BigInt(this.stime), true);
    v.setBigInt64(at + 8, BigInt(this.rtime), true);
    v.setBigInt64(at + 16, BigInt(this.ctime), true);
    v.setBigUint64(at + 24, BigInt(this.cbytes), true);
    v.setBigUint64(at + 32, BigInt(this.messages.length), true);
    v.setBigUint64(at + 40, BigInt(this.qbytes), true);
    v.setInt32(at + 48, this.lspid, true);
    v.setInt32(at + 52, this.lrpid, true);
    return b;
  }

  touchCtime(): void { this.ctime = nowSeconds(this.kernel); }
}

/** testmsg. */
function matches(m: Msg, type: bigint, mode: SearchMode, _index: number): boolean {
  switch (mode) {
    case SearchMode.Any: return true;
    case SearchMode.Equal: return m.type === type;
    case SearchMode.NotEqual: return m.type !== type;
    case SearchMode.LessEqual: return m.type <= type;
    case SearchMode.Number: return false;
  }
}
