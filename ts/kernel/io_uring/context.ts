// IoUringFile: the file io_uring_setup returns (Linux struct io_ring_ctx behind an anon inode
// "[io_uring]"). It holds the rings (ring.ts), what io_uring_register gave it (fixed files and
// buffers, an eventfd, personalities, registered ring slots elsewhere), the requests in
// flight, and its readiness: POLLIN while completions wait in the ring, POLLOUT while the SQ
// ring has room. Closing its last reference cancels what is still in flight.
//
// The requests themselves run in syscalls/linux/io_uring_ops.ts: this file never touches a
// file system or a socket.

import type { Task } from '../task';
import type { Credentials } from '../credentials';
import { FileDescription, type ReadinessCallback, type Stat } from '../../vfs/file_description';
import type { MappingBacking } from '../../mm/backing';
import type { EventFd } from '../eventfd';
import { O_RDWR } from '../../abi/linux/fcntl';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../abi/linux/poll';
import { ECANCELED } from '../../abi/linux/errno';
import { WaitQueue } from '../poll/wait_queue';
import { anonInodeStat, anonOwner, type AnonOwner } from '../anon_inode';
import { FixedFiles } from './file_table';
import { ProvidedBuffers } from './provided_buffers';
import type { Restrictions } from './restrictions';
import { CQ_FLAGS, IORING_CQ_EVENTFD_DISABLED, IoRings, ringBacking } from './ring';

export const IORING_SETUP_IOPOLL = 1, IORING_SETUP_SQPOLL = 2, IORING_SETUP_SQ_AFF = 4, IORING_SETUP_CQSIZE = 8,
  IORING_SETUP_CLAMP = 16, IORING_SETUP_ATTACH_WQ = 32, IORING_SETUP_R_DISABLED = 64, IORING_SETUP_SUBMIT_ALL = 128,
  IORING_SETUP_COOP_TASKRUN = 256, IORING_SETUP_TASKRUN_FLAG = 512, IORING_SETUP_SQE128 = 1024,
  IORING_SETUP_CQE32 = 2048, IORING_SETUP_SINGLE_ISSUER = 4096, IORING_SETUP_DEFER_TASKRUN = 8192;

/** One request between its submission and its completion. */
export interface IoRequest {
  /** user_data (a POLL_REMOVE update may change it). */
  data: bigint;
  readonly opcode: number;
  readonly sqeFlags: number;
  /** The fd the SQE named (for IORING_ASYNC_CANCEL_FD), -1 if none. */
  readonly fd: number;
  done: boolean;
  /** Stops a request that waits (poll, timeout, a retry armed on readiness); absent while it
   *  runs and cannot be stopped. */
  cancel?: () => void;
  /** Its cancel interrupts it as it runs (a worker's wait): ASYNC_CANCEL says -EALREADY. */
  running?: boolean;
  /** Completions posted since this one was queued (timeouts with a count watch it). */
  onOtherCompletion?: () => void;
  /** New events and/or user_data for a waiting poll (POLL_REMOVE with update flags). */
  updatePoll?: (events: number | null, data: bigint | null) => void;
  /** A new expiry for a timeout (IORING_TIMEOUT_UPDATE). */
  rearm?: (ns: bigint) => void;
  /** Whether a result lets the next request of a link run (default: not negative). */
  linkOk?: (res: number) => boolean;
  /** The next request of its link, started once this one completes. */
  next?: () => void;
  /** The next request of its link, failed with -ECANCELED if this one breaks the link. */
  failNext?: () => void;
  /** IOSQE_IO_HARDLINK: the link holds whatever this one's result. */
  hard?: boolean;
  /** Completed with a result that cancels the rest of its link. */
  linkBroken?: boolean;
  /** Its run began (a linked timeout's clock starts then: onStart). */
  started?: boolean;
  onStart?: () => void;
  /** Called once it is done (a linked timeout stands down). */
  afterDone?: (() => void)[];
  /** It failed as it was submitted (without SUBMIT_ALL the batch stops there). */
  failedAtSubmit?: boolean;
}

export class IoUringFile extends FileDescription {
  readonly rings: IoRings;
  readonly queue = new WaitQueue();
  readonly inflight = new Set<IoRequest>();
  /** Timeouts with a completion count (onOtherCompletion). */
  readonly counting = new Set<IoRequest>();
  fixedFiles: FixedFiles | null = null;
  buffers: { base: number; len: number }[] | null = null;
  readonly provided = new ProvidedBuffers();
  eventfd: EventFd | null = null;
  eventfdAsyncOnly = false;
  readonly personalities = new Map<number, Credentials>();
  private nextPersonality = 1;
  disabled: boolean;
  /** Registered while disabled; in force once the ring is enabled (restricted). */
  restrictions: Restrictions | null = null;
  restricted = false;
  /** Waiters for every request in flight to end (IOSQE_IO_DRAIN). */
  private drainWaiters: (() => void)[] = [];
  private readonly owner: AnonOwner;
  private batching = false;
  private eventfdPending = false;

  constructor(t: Task, readonly setupFlags: number, sqEntries: number, cqEntries: number) {
    super(O_RDWR);
    this.rings = new IoRings(t.kernel.mf, sqEntries, cqEntries,
      (setupFlags & IORING_SETUP_SQE128) !== 0 ? 128 : 64, (setupFlags & IORING_SETUP_CQE32) !== 0 ? 32 : 16);
    this.disabled = (setupFlags & IORING_SETUP_R_DISABLED) !== 0;
    this.owner = anonOwner(t);
  }

  get sqpoll(): boolean { return (this.setupFlags & IORING_SETUP_SQPOLL) !== 0; }

  /** Post a completion for req (once), wake waiters and the registered eventfd. */
  complete(req: IoRequest, res: number, cflags = 0, more = false): void {
    if (req.done) return;
    if (!more) {
      req.done = true;
      this.inflight.delete(req);
    }
    const skip = (req.sqeFlags & IOSQE_CQE_SKIP_SUCCESS) !== 0 && res >= 0 && !more;
    if (!skip) this.post(req.data, res, cflags);
    for (const w of [...this.counting]) if (w !== req) w.onOtherCompletion?.();
    if (!more) {
      this.counting.delete(req);
      const after = req.afterDone;
      req.afterDone = undefined;
      for (const f of after ?? []) f();
      const ok = req.hard === true || (req.linkOk ? req.linkOk(res) : res >= 0);
      req.linkBroken = !ok;
      const next = ok ? req.next : req.failNext;
      req.next = req.failNext = undefined;
      next?.();
    }
    if (!more && this.inflight.size === 0 && this.drainWaiters.length > 0) {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of ws) w();
    }
  }

  /** A CQE without a request (a failure found at submission). */
  post(data: bigint, res: number, cflags: number): void {
    this.rings.post(data, res, cflags);
    this.queue.notify(POLLIN);
    // One signal for the completions of one submission, as Linux signals once per CQ commit.
    if (this.batching) this.eventfdPending = true;
    else this.signalEventfd();
  }

  private signalEventfd(): void {
    // IORING_REGISTER_EVENTFD_ASYNC: only completions from io-wq workers signal, and there
    // are none here (every request runs in its task or parks on a file's readiness).
    if (this.eventfdAsyncOnly) return;
    if (this.eventfd && (this.rings.get(CQ_FLAGS) & IORING_CQ_EVENTFD_DISABLED) === 0) this.eventfd.kernelSignal();
  }

  /** Run fn (a submission) with the eventfd signalled once at its end for what it completed. */
  batch<T>(fn: () => T): T {
    this.batching = true;
    try {
      return fn();
    } finally {
      this.batching = false;
      if (this.eventfdPending) {
        this.eventfdPending = false;
        this.signalEventfd();
      }
    }
  }

  /** Run fn once nothing is in flight. */
  whenDrained(fn: () => void): void {
    if (this.inflight.size === 0) fn();
    else this.drainWaiters.push(fn);
  }

  addPersonality(c: Credentials): number {
    while (this.personalities.has(this.nextPersonality)) this.nextPersonality = (this.nextPersonality % 0xffff) + 1;
    const id = this.nextPersonality;
    this.personalities.set(id, c);
    this.nextPersonality = (id % 0xffff) + 1;
    return id;
  }

  override get pollable(): boolean { return true; }

  override readiness(_mask: number): number {
    this.rings.flushOverflow();
    let m = 0;
    if (this.rings.cqReady() > 0 || this.rings.hasOverflow()) m |= POLLIN | POLLRDNORM;
    if (!this.rings.sqFull()) m |= POLLOUT | POLLWRNORM;
    return m;
  }

  override addWaiter(mask: number, cb: ReadinessCallback): () => void {
    return this.queue.subscribe(mask, cb);
  }

  override mappable(): MappingBacking { return ringBacking(this.rings); }
  override stat(): Stat { return anonInodeStat(this.owner); }
  override describe(): string { return 'anon_inode:[io_uring]'; }

  override release(): void {
    for (const r of [...this.inflight]) {
      if (r.cancel) r.cancel();
      else this.complete(r, -ECANCELED);
    }
    this.fixedFiles?.release();
    this.fixedFiles = null;
    this.eventfd?.decRef();
    this.eventfd = null;
    this.rings.free();
  }
}

export const IOSQE_FIXED_FILE = 1, IOSQE_IO_DRAIN = 2, IOSQE_IO_LINK = 4, IOSQE_IO_HARDLINK = 8, IOSQE_ASYNC = 16,
  IOSQE_BUFFER_SELECT = 32, IOSQE_CQE_SKIP_SUCCESS = 64;
