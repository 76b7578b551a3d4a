// MQueue: one POSIX message queue (Linux struct mqueue_inode_info, ipc/mqueue.c): messages
// ordered by priority, FIFO within one; its attributes; the one process registered for
// notification (mq_notify) and the readiness queue that poll, epoll and blocked callers use.

import { fromKuid } from '../../kernel/ns/user_namespace';
import type { Task } from '../../kernel/task';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll';
import { WaitQueue } from '../../kernel/poll/wait_queue';
import { sendSignalToProcess } from '../../kernel/signals';
import { sigInfo } from '../../kernel/sig_pending';
import { tgidIn } from '../../kernel/ns/pid_ns';

export const SIGEV_SIGNAL = 0;
export const SIGEV_NONE = 1;
/** si_code of a message-queue notification. */
export const SI_MESGQ = -3;

export interface MqMsg { prio: number; data: Uint8Array }

export interface MqNotify { tgid: number; notify: number; signo: number; value: bigint }

export class MQueue {
  private readonly msgs: MqMsg[] = [];
  qsize = 0;
  notify: MqNotify | null = null;
  /** Callers blocked in mq_timedreceive: a send then notifies nobody (as Linux's pipelined send). */
  waitingReceivers = 0;
  readonly queue = new WaitQueue();
  mode: number;
  readonly uid: number;
  readonly gid: number;

  constructor(readonly name: string, creds: { euid: number; egid: number }, mode: number,
    readonly maxmsg: number, readonly msgsize: number) {
    this.mode = mode;
    this.uid = creds.euid;
    this.gid = creds.egid;
  }

  get curmsgs(): number { return this.msgs.length; }
  get full(): boolean { return this.msgs.length >= this.maxmsg; }

  /** msg_insert, then the notification if the queue just stopped being empty. */
  send(t: Task, m: MqMsg): void {
    let i = this.msgs.length;
    while (i > 0 && this.msgs[i - 1].prio < m.prio) i--;
    this.msgs.splice(i, 0, m);
    this.qsize += m.data.length;
    if (this.msgs.length === 1 && this.waitingReceivers === 0) this.fireNotify(t);
    this.queue.notify(POLLIN);
  }

  /** The highest-priority, oldest message. */
  receive(): MqMsg {
    const m = this.msgs.shift() as MqMsg;
    this.qsize -= m.data.length;
    this.queue.notify(POLLOUT);
    return m;
  }

  /** __do_notify: one shot, to the registered process. */
  private fireNotify(t: Task): void {
    const n = this.notify;
    if (n === null) return;
    this.notify = null;
    if (n.notify !== SIGEV_SIGNAL) return;
    const tg = t.kernel.threadGroups.get(n.tgid);
    if (tg === undefined || tg.zombie) return;
    sendSignalToProcess(tg, sigInfo(n.signo, SI_MESGQ, { pid: tgidIn(tg.leaderPid.ns, t.tg), uid: fromKuid(t.creds.userNs, t.creds.uid), value: n.value }));
  }

  readiness(): number {
    let mask = 0;
    if (this.msgs.length > 0) mask |= POLLIN | POLLRDNORM;
    if (this.msgs.length < this.maxmsg) mask |= POLLOUT | POLLWRNORM;
    return mask;
  }

  /** What reading the queue's file shows (mqueue_read_file). */
  status(): string {
    const n = this.notify;
    const notify = n !== null ? n.notify : 0;
    const signo = n !== null && n.notify === SIGEV_SIGNAL ? n.signo : 0;
    const pid = n !== null ? n.tgid : 0;
    return `QSIZE:${String(this.qsize).padEnd(10)} NOTIFY:${String(notify).padEnd(5)} ` +
      `SIGNO:${String(signo).padEnd(5)} NOTIFY_PID:${String(pid).padEnd(6)}\n`;
  }
}
