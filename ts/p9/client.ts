// Client: a 9P2000.L client over a Transport (ts/p9/transport.ts). It owns tag and fid
// allocation and turns replies into values: an Rlerror becomes SyscallError(ecode), and
// anything malformed (bad size, unknown type, wrong reply type, short fields, a transport
// failure) becomes SyscallError(EIO) — nothing the server sends can throw anything else out
// of here. Requests are started and finished separately (start/finish), so several may be in
// flight at once, each under its own tag; replies for other tags are kept until asked for.
// The synchronous calls the file systems make are start+finish of one request.
// It does not know what files mean: ts/fsimpl/gofer does.

import { SyscallError } from '../kernel/syscall_error';
import { EAGAIN, EINVAL, EIO, ENOENT, ENOTSUP } from '../abi/linux/errno';
import { RENAME_NOREPLACE } from '../abi/linux/fs';
import { O_ACCMODE, O_TRUNC } from '../abi/linux/fcntl';
import * as m from './messages';
import { DecodeError, type Qid } from './wire';
import type { Transport } from './transport';
import { LEAVABLE, mayChange, type StallGate } from './stall_gate';

export const VERSION = '9P2000.L';

/** Tgetattr request mask bits (P9_GETATTR_*). */
export const GETATTR_BASIC = 0x7ffn;
export const GETATTR_ALL = 0x3fffn;

/** Tsetattr valid bits (P9_SETATTR_*). */
export const SETATTR_MODE = 0x1, SETATTR_UID = 0x2, SETATTR_GID = 0x4, SETATTR_SIZE = 0x8,
  SETATTR_ATIME = 0x10, SETATTR_MTIME = 0x20, SETATTR_CTIME = 0x40, SETATTR_ATIME_SET = 0x80,
  SETATTR_MTIME_SET = 0x100;

export interface Attr {
  valid: bigint;
  qid: Qid;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: { sec: number; nsec: number };
  mtime: { sec: number; nsec: number };
  ctime: { sec: number; nsec: number };
  btime: { sec: number; nsec: number };
}

export interface SetAttr {
  valid: number;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: { sec: number; nsec: number };
  mtime?: { sec: number; nsec: number };
}

export interface Opened {
  qid: Qid;
  iounit: number;
  /** The host fd the server donated with the reply (SCM_RIGHTS), or -1 if none came. */
  fd: number;
}

export interface StatfsReply {
  type: number; bsize: number; blocks: number; bfree: number; bavail: number;
  files: number; ffree: number; fsid: bigint; namelen: number;
}

export interface LockReply { type: number; start: number; length: number; procId: number; clientId: string }

export interface ClientOptions {
  /** msize to propose (the server may lower it). */
  msize?: number;
  /** Host fds that come with a reply are closed by this (the addon's close). */
  closeFd: (fd: number) => void;
  /** The server serves requests in the order sent (tsvisor-gofer: PROTOCOL.md), so a request
   *  may use a fid an earlier one in flight creates (walk then getattr in one round trip).
   *  Off for other servers: diod serves with a thread pool. */
  inOrder?: boolean;
  /** The server is tsvisor-gofer and speaks our extensions (Treaddirattr, PROTOCOL.md). */
  goferExtensions?: boolean;
}

interface Reply { msg: m.Message; fds: number[] }

/** One directory of startListMany/finishListMany: its kept fid and qid, the open fid it was listed with
 *  (-1: clunked already), the first entries and whether they are all. */
export interface Listed { kept: number; qid: Qid; fid: number; first: m.DirentAttr[]; eof: boolean }

/** startOpenMany's requests in flight, for finishOpenMany. */
export type OpenSteps = readonly { wt: number; ot: number }[];

/** startListMany's requests in flight, for finishListMany. */
export type ListSteps = readonly { kept: number; open: number; kt: number; wt: number; ot: number; rt: number; mine: boolean; nw: number; keepKept?: boolean }[];

/** One step of walkChain: the new fid (the caller's; -1 from walkAttrs but for the last
 *  name) and its attributes, or why it failed. */
export type WalkStep = { fid: number; attr: Attr } | { errno: number };

/** What a synchronous caller gets for a request left in flight (stall_gate.ts): its attempt is
 *  void. Never a sign that the stream is out of step (fail() lets it through). */
class RequestLeft extends SyscallError {
  constructor() { super(EAGAIN, '9P: request left to finish on its own'); }
}

/** A Tlopen that may write or truncate: it changes the file, so it is never left. */
function opensToChange(type: number, fields: m.Fields): boolean {
  return type === m.Tlopen && ((fields.flags as number) & (O_ACCMODE | O_TRUNC)) !== 0;
}

function errnoOf(e: unknown): number {
  return e instanceof SyscallError ? e.errno : EIO;
}

/** P9_LOCK_TYPE_* and P9_LOCK_* status values. */
export const LOCK_TYPE_RDLCK = 0, LOCK_TYPE_WRLCK = 1, LOCK_TYPE_UNLCK = 2;
export const LOCK_SUCCESS = 0, LOCK_BLOCKED = 1, LOCK_ERROR = 2, LOCK_GRACE = 3;

/** How long an open's reply is awaited with the sentry blocked before it is awaited as an
 *  OpenPending instead (a healthy host answers in well under this, even loaded). */
export const OPEN_WAIT_MS = 100;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

/** A Tlopen (cloneOpen) the server has not answered within OPEN_WAIT_MS. `result` settles
 *  with the open (the fid and fd then the claimant's) or its error; `cancel` flushes it. The
 *  catcher claims it at once (claim()), or it is cancelled and what it opens let go. */
export class OpenPending extends Error {
  private claimed = false;

  constructor(readonly result: Promise<Opened & { fid: number }>, private readonly cancelFn: () => void,
    private readonly release: (o: Opened & { fid: number }) => void) {
    super('9P open waits on the server');
    queueMicrotask(() => { if (!this.claimed) this.cancel(); });
  }

  claim(): Promise<Opened & { fid: number }> {
    this.claimed = true;
    return this.result;
  }

  /** Flushes the request; an open that was done before the flush is let go. */
  cancel(): void {
    this.cancelFn();
    this.result.then((o) => this.release(o), () => { /* flushed or failed: nothing open */ });
  }
}

export class Client {
  msize: number;
  private readonly freeTags: number[] = [];
  private nextTag = 0;
  private readonly freeFids: number[] = [];
  private nextFid = 1;
  /** Replies that arrived for tags nobody has asked to finish yet. */
  private readonly early = new Map<number, Reply>();
  /** Tags in flight, with the reply type each expects. */
  private readonly inflight = new Map<number, number>();
  private broken = false;
  /** Tags whose replies nobody waits for (clunkLater), with the fid each frees on arrival. */
  private readonly discard = new Map<number, number>();
  /** Requests start() queued, not yet sent. */
  private readonly outq: Uint8Array[] = [];
  /** Tags whose replies are awaited asynchronously (callAsync), with who takes each. */
  private readonly waiters = new Map<number, (r: Reply | SyscallError) => void>();
  /** Tflush tags in flight, with the tag each flushes and whether that tag's reply came
   *  already (the tag is then free once the Rflush comes, not before). */
  private readonly flushing = new Map<number, { oldtag: number; answered: boolean }>();
  /** May a synchronous request stop blocking the sentry (stall_gate.ts)? null: never. */
  gate: StallGate | null = null;
  /** Synchronous requests left in flight (stall_gate.ts), with the fid each would make. */
  private readonly left = new Map<number, number>();
  /** Tags of requests left with a waiter (the task's), until their reply came and the
   *  synchronous run that left them is over. */
  private readonly stalled = new Set<number>();
  /** Fids a left request may make: neither freed nor clunked until its reply came. */
  private readonly leftFids = new Set<number>();
  /** Tags of Tlopens in flight that open for writing or truncate (never left). */
  private readonly changing = new Set<number>();
  /** The newfid of the request last started under each tag (Twalk, Twalkgetattr). */
  private readonly newfids = new Map<number, number>();
  /** Stops the transport's readiness watch; set while any waiter waits. */
  private unwatch: (() => void) | null = null;
  private noRenameat = false;
  private noUnlinkat = false;
  private readonly closeFd: (fd: number) => void;
  /** The server serves requests in the order sent (ClientOptions.inOrder). */
  readonly inOrder: boolean;
  /** Treaddirattr may be sent (the server is tsvisor-gofer). */
  readonly listsWithAttrs: boolean;
  /** Twalkgetattr may be sent (the server is tsvisor-gofer). */
  readonly walksWithAttrs: boolean;
  /** Trenameat2 may be sent (the server is tsvisor-gofer). */
  readonly renamesWithFlags: boolean;

  constructor(private readonly t: Transport, opts: ClientOptions) {
    this.msize = opts.msize ?? (1 << 20) + m.IOHDRSZ;
    this.closeFd = opts.closeFd;
    this.inOrder = opts.inOrder ?? false;
    this.listsWithAttrs = (opts.goferExtensions ?? false) && this.inOrder;
    this.walksWithAttrs = opts.goferExtensions ?? false;
    this.renamesWithFlags = opts.goferExtensions ?? false;
  }

  /** Tversion: agree on 9P2000.L and the msize. Must come first. */
  version(): void {
    const r = this.roundTrip(m.Tversion, m.NOTAG, { msize: this.msize, version: VERSION }, m.Rversion);
    const msize = r.msg.fields.msize as number;
    if (r.msg.fields.version !== VERSION || msize < 4096 || msize > this.msize) {
      this.broken = true;
      throw new SyscallError(EIO, `9P server speaks ${String(r.msg.fields.version)} msize ${msize}`);
    }
    this.msize = msize;
  }

  // --- fids ---

  allocFid(): number {
    return this.freeFids.pop() ?? this.nextFid++;
  }

  private freeFid(fid: number): void {
    if (this.leftFids.has(fid)) return; // a left walk may make it yet: clunked after its reply
    this.freeFids.push(fid);
  }

  // --- requests in flight ---

  /** Queues a request under a fresh tag and returns the tag; finish(tag) takes its reply.
   *  Queued requests go out together, in one write, when a reply is next awaited (a server
   *  that reads ahead, as the gofer does, then takes them in one read). */
  start(type: number, fields: m.Fields): number {
    this.check();
    this.refuseIfVoid(type);
    const tag = this.freeTags.pop() ?? this.allocTag();
    this.outq.push(m.encodeMessage(type, tag, fields));
    this.inflight.set(tag, type + 1);
    if (typeof fields.newfid === 'number') this.newfids.set(tag, fields.newfid);
    else if (this.newfids.size > 0) this.newfids.delete(tag);
    // An open that may write or truncate changes the file: never left (stall_gate.ts).
    if (this.stalled.size > 0) this.stalled.delete(tag); // freed by a flush: in use again
    if (opensToChange(type, fields)) this.changing.add(tag);
    else if (this.changing.size > 0) this.changing.delete(tag);
    // What follows a change in the syscall's attempt is never left (stall_gate.ts).
    if (this.gate !== null && (mayChange(type) || this.changing.has(tag))) this.gate.changed();
    return tag;
  }

  /** Sends what start() queued. */
  private sendQueued(): void {
    if (this.outq.length === 0) return;
    const msgs = this.outq.splice(0);
    let all = msgs[0];
    if (msgs.length > 1) {
      all = new Uint8Array(msgs.reduce((n, x) => n + x.length, 0));
      let at = 0;
      for (const x of msgs) { all.set(x, at); at += x.length; }
    }
    try { this.t.send(all); } catch (e) { this.fail(e); }
  }

  private allocTag(): number {
    if (this.nextTag >= m.NOTAG) throw new SyscallError(EIO, '9P: no free tag');
    return this.nextTag++;
  }

  /** Waits for tag's reply (keeping others that come first); errors as described above. */
  finish(tag: number): Reply {
    const want = this.inflight.get(tag);
    if (want === undefined) {
      if (this.stalled.has(tag)) this.voidAttempt(); // answered to its waiter meanwhile
      throw new SyscallError(EIO, `9P: tag ${tag} not in flight`);
    }
    const ms = this.changing.has(tag) ? null : this.leaveAfter(want);
    if (ms !== null) return this.expect(this.finishOrLeave(tag, ms), want);
    return this.expect(this.finishRaw(tag), want);
  }

  /** After a request was left, the rest of the syscall's attempt is void (it runs again):
   *  nothing new goes out in it (but clunks and flushes). */
  private refuseIfVoid(type: number): void {
    if (this.gate === null || type === m.Tclunk || type === m.Tflush) return;
    if (this.gate.voided()) this.voidAttempt();
  }

  /** How long a request answered by want may block now before it is left (stall_gate.ts). */
  private leaveAfter(want: number): number | null {
    return this.gate !== null && LEAVABLE.has(want) ? this.gate.limitMs() : null;
  }

  /** finishRaw(tag) if the reply comes within ms, else leave(tag). */
  private finishOrLeave(tag: number, ms: number): Reply {
    // Left already (or the one this attempt waits for, whose reply is its waiter's).
    if (this.left.has(tag) || this.waiters.has(tag)) this.voidAttempt();
    const deadline = performance.now() + ms;
    this.sendQueued();
    while (!this.early.has(tag)) {
      let got;
      try { got = this.t.recvWithin(this.msize, Math.max(0, deadline - performance.now())); } catch (e) { this.fail(e); }
      if (!got) {
        // Only a request whose batch is otherwise answered is left: the replies kept for
        // the caller are dropped, and nothing of its own stays in flight but the one waited
        // for. Otherwise (a batch still on its way) it is waited for, blocking, as before.
        if (this.othersAnswered(tag)) this.leave(tag);
        return this.finishRaw(tag);
      }
      this.route(this.decode(got.msg, got.fds));
    }
    return this.finishRaw(tag);
  }

  /** Has every other synchronous request in flight its reply here already? */
  private othersAnswered(tag: number): boolean {
    for (const t of this.inflight.keys()) {
      if (t === tag || this.waiters.has(t) || this.discard.has(t) || this.flushing.has(t) || this.left.has(t)) continue;
      if (!this.early.has(t)) return false;
    }
    return true;
  }

  /** Stops waiting for tag and every other synchronous request in flight (none has a
   *  waiter: the sentry runs one synchronous caller at a time): see stall_gate.ts. Their
   *  replies, and those already here, stay unclaimed (tags not reused) until the caller's
   *  synchronous run is over: then drainLeft drops them. */
  private leave(tag: number): never {
    if (!this.left.has(tag) && !this.waiters.has(tag) && this.inflight.has(tag)) {
      const cancel = deferred();
      this.stalled.add(tag);
      const fid = this.newfids.get(tag) ?? -1;
      if (fid >= 0) this.leftFids.add(fid);
      const done = this.waitFor(tag, cancel.promise)
        .then((r) => { for (const fd of r.fds) this.closeFd(fd); }, () => {})
        .then(() => this.releaseLeft(fid));
      this.gate?.left(done, cancel.resolve);
    }
    this.voidAttempt();
  }

  /** The synchronous run's attempt is void: every request it has in flight is left (those
   *  it started since an earlier leave too), and the caller gets RequestLeft. */
  private voidAttempt(): never {
    for (const t of this.inflight.keys()) {
      if (this.waiters.has(t) || this.discard.has(t) || this.flushing.has(t) || this.left.has(t)) continue;
      const f = this.newfids.get(t) ?? -1;
      this.left.set(t, f);
      if (f >= 0) this.leftFids.add(f);
    }
    queueMicrotask(() => this.drainLeft());
    throw new RequestLeft();
  }

  /** Drops the replies of left requests that came (see leave). */
  private drainLeft(): void {
    for (const [t, f] of [...this.left]) {
      const got = this.early.get(t);
      if (got) { this.early.delete(t); this.leftReply(got, f); }
    }
  }

  /** The reply of a left request: dropped, and the fid it may have made clunked. */
  private leftReply(r: Reply, fid: number): void {
    const tag = r.msg.tag;
    for (const fd of r.fds) this.closeFd(fd);
    this.left.delete(tag);
    this.inflight.delete(tag);
    this.freeTags.push(tag);
    this.releaseLeft(fid);
  }

  private releaseLeft(fid: number): void {
    if (fid < 0 || !this.leftFids.delete(fid)) return;
    this.clunkLater(fid);
  }

  /** Tflush oldtag and wait for the Rflush: afterwards oldtag's reply, if it came, is dropped
   *  (with any fds it carried) and the tag is free again. */
  flush(oldtag: number): void {
    if (!this.inflight.has(oldtag)) return;
    const tag = this.start(m.Tflush, { oldtag });
    const r = this.finishRaw(tag);
    const old = this.early.get(oldtag);
    if (old) { this.early.delete(oldtag); for (const fd of old.fds) this.closeFd(fd); }
    this.inflight.delete(oldtag);
    this.freeTags.push(oldtag);
    this.expect(r, m.Rflush);
  }

  /** finish(tag) if its reply comes within ms; null if it has not (still in flight: waitFor
   *  takes it then, without blocking the sentry). */
  finishWithin(tag: number, ms: number): Reply | null {
    const want = this.inflight.get(tag);
    if (want === undefined) throw new SyscallError(EIO, `9P: tag ${tag} not in flight`);
    const deadline = performance.now() + ms;
    this.sendQueued();
    while (!this.early.has(tag)) {
      let got;
      try { got = this.t.recvWithin(this.msize, Math.max(0, deadline - performance.now())); } catch (e) { this.fail(e); }
      if (!got) return null;
      this.route(this.decode(got.msg, got.fds));
    }
    return this.finish(tag);
  }

  private finishRaw(tag: number): Reply {
    const leftFid = this.left.get(tag);
    if (leftFid !== undefined) {
      // Left earlier, claimed now by a caller that waits whatever happens: it is its own again.
      this.left.delete(tag);
      this.leftFids.delete(leftFid);
    }
    let r = this.early.get(tag);
    this.early.delete(tag);
    while (!r) {
      const got = this.receive();
      if (got.msg.tag === tag) r = got;
      else this.route(got);
    }
    this.inflight.delete(tag);
    this.freeTags.push(tag);
    // Replies for waiters may sit in the transport's buffer now, where no readiness edge
    // will announce them: the waiters look once this synchronous work is done.
    if (this.waiters.size > 0) queueMicrotask(() => this.pump());
    return r;
  }

  /** A reply that is not the one a synchronous caller waits for: to its asynchronous waiter,
   *  dropped (clunkLater), or kept until finish() asks. A second reply for a tag already
   *  answered never gets here (decode refuses a tag not in flight). */
  private route(got: Reply): void {
    const tag = got.msg.tag;
    const w = this.waiters.get(tag);
    if (w) {
      this.waiters.delete(tag);
      this.inflight.delete(tag);
      // A flushed request answered before its Rflush: its tag waits for that Rflush (9P: the
      // client reuses oldtag only after Rflush; a server serving requests on threads, diod,
      // may still look the tag up, and would flush a new request under it).
      let flushed = false;
      for (const f of this.flushing.values()) if (f.oldtag === tag && !f.answered) { f.answered = true; flushed = true; }
      if (flushed) { /* freed with the Rflush */ } else if (this.stalled.has(tag)) {
        // A left request's tag: not reused before the synchronous run that left it is over
        // (it may still name it).
        queueMicrotask(() => { this.stalled.delete(tag); this.freeTags.push(tag); });
      } else this.freeTags.push(tag);
      const f = this.flushing.get(tag);
      if (f !== undefined) {
        this.flushing.delete(tag);
        // The Rflush came first: the flushed request will have no reply, its tag is free,
        // and a reply for it from now on is one nobody asked for. Or it came after the
        // reply: the tag is free now.
        if (f.answered) this.freeTags.push(f.oldtag);
        else if (this.waiters.delete(f.oldtag)) { this.inflight.delete(f.oldtag); this.freeTags.push(f.oldtag); }
      }
      w(got);
    } else if (this.discard.has(tag)) this.dropped(got);
    else if (this.left.has(tag)) { this.early.set(tag, got); queueMicrotask(() => this.drainLeft()); }
    else if (this.early.has(tag)) this.fail(new DecodeError(`9P: second reply for tag ${tag}`));
    else this.early.set(tag, got);
  }

  // --- requests whose replies are awaited without blocking ---

  /** One request whose reply the sentry awaits without blocking its thread (an operation
   *  that may take long on the server: other tasks run meanwhile, and other requests go and
   *  come back, their replies matched by tag in whatever order they arrive). The reply is
   *  turned as finish() turns it. When `interrupted` settles first (a signal for the task),
   *  Tflush goes for it: if the request's reply still comes before the Rflush, the operation
   *  happened and its reply is the answer; otherwise the promise rejects with `interruptErr`
   *  and the server has forgotten the request (9P's flush rule). */
  async callAsync(type: number, fields: m.Fields, interrupted?: Promise<unknown>, interruptErr?: () => Error): Promise<Reply> {
    const tag = this.start(type, fields);
    this.sendQueued();
    return this.waitFor(tag, interrupted, interruptErr);
  }

  /** callAsync's wait, for a request already sent (its tag in flight; finishWithin gave up on
   *  it). */
  async waitFor(tag: number, interrupted?: Promise<unknown>, interruptErr?: () => Error): Promise<Reply> {
    const want = this.inflight.get(tag);
    if (want === undefined) throw new SyscallError(EIO, `9P: tag ${tag} not in flight`);
    // The reply is kept where it lands (a reply may come between the wake-up and the code
    // after the await: a synchronous request of another task reads it then).
    let got: Reply | SyscallError | null = null;
    const early = this.early.get(tag);
    if (early) {
      this.early.delete(tag);
      this.inflight.delete(tag);
      this.freeTags.push(tag);
      got = early;
    } else {
      await new Promise<void>((wake) => {
        this.waiters.set(tag, (r) => { got = r; wake(); });
        interrupted?.then(() => wake(), () => wake());
        this.pump();
      });
    }
    const first = got as Reply | SyscallError | null;
    if (first instanceof SyscallError) throw first;
    if (first !== null) return this.expect(first, want);
    // Interrupted with the request in flight: flush it.
    let late: Reply | SyscallError | null = null;
    this.waiters.set(tag, (r) => { late = r; });
    let flushed: Reply | SyscallError;
    try {
      const ftag = this.start(m.Tflush, { oldtag: tag });
      this.flushing.set(ftag, { oldtag: tag, answered: false });
      this.sendQueued();
      flushed = await new Promise<Reply | SyscallError>((resolve) => {
        this.waiters.set(ftag, resolve);
        this.pump();
      });
    } catch (e) { flushed = e instanceof SyscallError ? e : new SyscallError(EIO); }
    const old = late as Reply | SyscallError | null;
    if (old instanceof SyscallError) throw old;
    if (old !== null) {
      // The reply beat the Rflush: the operation was done, and its answer stands.
      if (!(flushed instanceof SyscallError)) this.expect(flushed, m.Rflush);
      return this.expect(old, want);
    }
    if (flushed instanceof SyscallError) {
      if (this.waiters.delete(tag)) this.inflight.delete(tag); // broken: the tag stays unused
      throw flushed;
    }
    this.expect(flushed, m.Rflush);
    throw interruptErr ? interruptErr() : new SyscallError(EIO, '9P request flushed');
  }

  /** Takes every reply that is here without waiting, hands each to its waiter, and keeps
   *  the readiness watch on while someone waits. A broken stream fails every waiter. */
  private pump(): void {
    try {
      for (;;) {
        if (this.broken) throw new SyscallError(EIO, '9P connection is broken');
        let got;
        try { got = this.t.poll(this.msize); } catch (e) { this.fail(e); }
        if (!got) break;
        this.route(this.decode(got.msg, got.fds));
      }
    } catch (e) {
      const err = e instanceof SyscallError ? e : new SyscallError(EIO);
      const ws = [...this.waiters.values()];
      this.waiters.clear();
      for (const w of ws) w(err);
    }
    if (this.waiters.size > 0) this.unwatch ??= this.t.watch(() => this.pump());
    else if (this.unwatch) { this.unwatch(); this.unwatch = null; }
  }

  /** A reply nobody waits for arrived: its fid (a clunk's) and tag are free again. */
  private dropped(r: Reply): void {
    const tag = r.msg.tag;
    for (const fd of r.fds) this.closeFd(fd);
    this.freeFid(this.discard.get(tag)!);
    this.discard.delete(tag);
    this.inflight.delete(tag);
    this.freeTags.push(tag);
  }

  /** Tclunk without waiting for the reply: it is taken (and fid freed) whenever a later
   *  reply is awaited. The fid number is reused only after the Rclunk, so a server that
   *  serves requests out of order (diod) cannot see it reused too early. */
  clunkLater(fid: number): void {
    if (this.broken || this.leftFids.has(fid)) return;
    try { this.discard.set(this.start(m.Tclunk, { fid }), fid); } catch { /* broken: nothing to free */ }
  }

  /** Twalk fid -> a new fid and Tgetattr on it, sent together (one round trip) to a server
   *  that serves in order, one after the other otherwise. */
  walkGetattr(fid: number, names: readonly string[], mask = GETATTR_BASIC): { fid: number; attr: Attr } {
    if (names.length === 1 && this.walksWithAttrs) {
      // One request (Twalkgetattr): the name's attributes come with its fid.
      const [st] = this.walkAttrs(fid, names);
      if ('errno' in st) throw new SyscallError(st.errno);
      return st;
    }
    if (names.length > m.MAXWELEM || !this.inOrder) {
      const w = this.walk(fid, names);
      try { return { fid: w.fid, attr: this.getattr(w.fid, mask) }; } catch (e) { this.clunkLater(w.fid); throw e; }
    }
    const newfid = this.allocFid();
    const wt = this.start(m.Twalk, { fid, newfid, names: [...names] });
    let gt: number;
    try { gt = this.start(m.Tgetattr, { fid: newfid, mask }); } catch (e) {
      this.freeFid(newfid);
      throw e;
    }
    let qids: Qid[];
    try { qids = this.finish(wt).msg.fields.qids as Qid[]; } catch (e) {
      try { this.finish(gt); } catch { /* EBADF: the walk made no fid */ }
      this.freeFid(newfid);
      throw e;
    }
    if (qids.length !== names.length) {
      try { this.finish(gt); } catch { /* as above */ }
      if (qids.length > names.length) this.clunkLater(newfid); else this.freeFid(newfid);
      throw new SyscallError(qids.length > names.length ? EIO : ENOENT);
    }
    try { return { fid: newfid, attr: attrOf(this.finish(gt).msg.fields) }; } catch (e) {
      this.clunkLater(newfid);
      throw e;
    }
  }

  /** A walk down names one at a time, each step Twalk (to a new fid) then Tgetattr, all sent
   *  together to a server that serves in order: a deep path in one round trip, with a fid and
   *  the attributes of every directory on the way. Stops at the first step that fails: its
   *  errno is the last element; no fid of it or after it is left on the server. */
  walkChain(fid: number, names: readonly string[], mask = GETATTR_BASIC): WalkStep[] {
    if (!this.inOrder) throw new RangeError('walkChain needs a server that serves in order');
    const fids: number[] = [];
    const tags: number[] = [];
    let from = fid;
    for (const name of names) {
      const newfid = this.allocFid();
      fids.push(newfid);
      tags.push(this.start(m.Twalk, { fid: from, newfid, names: [name] }), this.start(m.Tgetattr, { fid: newfid, mask }));
      from = newfid;
    }
    const out: WalkStep[] = [];
    let failed = false;
    for (let i = 0; i < names.length; i++) {
      const [wt, gt] = [tags[2 * i], tags[2 * i + 1]];
      if (failed) {
        // Below a failed step the walks fail too (their fid does not exist), unless it was
        // the getattr that failed: then the walk made its fid, and it goes.
        let made = false;
        try { made = (this.finish(wt).msg.fields.qids as Qid[]).length === 1; } catch { /* no fid */ }
        try { this.finish(gt); } catch { /* as the walk */ }
        if (made) this.clunkLater(fids[i]); else this.freeFid(fids[i]);
        continue;
      }
      let qids: Qid[];
      try { qids = this.finish(wt).msg.fields.qids as Qid[]; } catch (e) {
        try { this.finish(gt); } catch { /* EBADF: the walk made no fid */ }
        this.freeFid(fids[i]);
        out.push({ errno: errnoOf(e) });
        failed = true;
        continue;
      }
      if (qids.length !== 1) {
        try { this.finish(gt); } catch { /* as above */ }
        if (qids.length > 1) this.clunkLater(fids[i]); else this.freeFid(fids[i]);
        out.push({ errno: qids.length > 1 ? EIO : ENOENT });
        failed = true;
        continue;
      }
      try { out.push({ fid: fids[i], attr: attrOf(this.finish(gt).msg.fields) }); } catch (e) {
        this.clunkLater(fids[i]);
        out.push({ errno: errnoOf(e) });
        failed = true;
      }
    }
    return out;
  }

  /** walkChain in one request (Twalkgetattr: tsvisor-gofer only): every name's attributes,
   *  and a fid for the last name only (when every name was walked; the others' are -1: the
   *  caller walks to them if it ever needs one); the errno of the name that stopped the walk
   *  comes last, as in walkChain. */
  walkAttrs(fid: number, names: readonly string[]): WalkStep[] {
    if (!this.walksWithAttrs || names.length === 0 || names.length > m.MAXWELEM) throw new SyscallError(ENOTSUP);
    const newfid = this.allocFid();
    let f: m.Fields;
    try { f = this.rpc(m.Twalkgetattr, { fid, newfid, names: [...names] }); } catch (e) {
      this.freeFid(newfid);
      return [{ errno: errnoOf(e) }];
    }
    const steps = f.steps as m.Fields[];
    const ecode = f.ecode as number;
    const all = steps.length === names.length;
    if (all ? ecode !== 0 : steps.length === 0 || steps.length > names.length || ecode <= 0 || ecode >= 4096) {
      if (all) this.clunkLater(newfid); else this.freeFid(newfid);
      this.fail(new DecodeError(`9P: Rwalkgetattr with ${steps.length} steps of ${names.length} and errno ${ecode}`));
    }
    if (!all) this.freeFid(newfid);
    const out: WalkStep[] = steps.map((st, i) => ({ fid: all && i === names.length - 1 ? newfid : -1, attr: attrOf(st) }));
    if (!all) out.push({ errno: ecode });
    return out;
  }

  private receive(): Reply {
    this.sendQueued();
    let got;
    try { got = this.t.recv(this.msize); } catch (e) { this.fail(e); }
    return this.decode(got.msg, got.fds);
  }

  private decode(bytes: Uint8Array, fds: number[]): Reply {
    try {
      const msg = m.decodeMessage(bytes);
      if (!this.inflight.has(msg.tag)) throw new DecodeError(`9P reply for tag ${msg.tag} nobody asked`);
      return { msg, fds };
    } catch (e) {
      for (const fd of fds) this.closeFd(fd);
      this.fail(e);
    }
  }

  /** Rlerror -> its errno; another type than the one expected -> EIO. */
  private expect(r: Reply, want: number): Reply {
    const keepFds = want === m.Rlopen || want === m.Rlcreate;
    if (!keepFds || r.msg.type !== want) for (const fd of r.fds) this.closeFd(fd);
    if (r.msg.type === m.Rlerror) {
      const e = r.msg.fields.ecode as number;
      throw new SyscallError(e > 0 && e < 4096 ? e : EIO);
    }
    if (r.msg.type !== want) throw new SyscallError(EIO, `9P: reply type ${r.msg.type}, wanted ${want}`);
    return r;
  }

  /** One request, one reply: a single crossing when nothing else is in flight. */
  private roundTrip(type: number, tag: number | null, fields: m.Fields, want: number): Reply {
    if (tag === null && (this.inflight.size > 0 || this.outq.length > 0 || this.leaveAfter(want) !== null)) {
      return this.finish(this.start(type, fields));
    }
    this.check();
    this.refuseIfVoid(type);
    const t = tag ?? (this.freeTags.pop() ?? this.allocTag());
    const msg = m.encodeMessage(type, t, fields);
    let got;
    this.inflight.set(t, want);
    try { got = this.t.call(msg, this.msize); } catch (e) { this.fail(e); }
    const r = this.decode(got.msg, got.fds);
    this.inflight.delete(t);
    if (t !== m.NOTAG) this.freeTags.push(t);
    if (r.msg.tag !== t) { for (const fd of r.fds) this.closeFd(fd); this.fail(new DecodeError('9P reply tag mismatch')); }
    return this.expect(r, want);
  }

  private rpc(type: number, fields: m.Fields): m.Fields {
    return this.roundTrip(type, null, fields, type + 1).msg.fields;
  }

  /** A request that changes the host (Tmkdir, Tunlinkat, Tsetattr...): its reply is awaited
   *  with the sentry blocked for as long as the gate allows, then handed to the gate
   *  (changeLeft: the syscall's task waits for it, vfs/change_wait.ts). Without a gate, or
   *  in a syscall that cannot wait so, rpc. */
  private change(type: number, fields: m.Fields): m.Fields {
    const gate = this.gate;
    const ms = gate === null ? null : gate.changeLimitMs();
    if (gate === null || ms === null) return this.rpc(type, fields);
    const tag = this.start(type, fields);
    const r = this.finishWithin(tag, ms);
    if (r !== null) return r.msg.fields;
    const cancel = deferred();
    return gate.changeLeft(this.waitFor(tag, cancel.promise).then((x) => x.msg.fields), cancel.resolve);
  }

  private check(): void {
    if (this.broken) throw new SyscallError(EIO, '9P connection is broken');
  }

  private fail(e: unknown): never {
    if (e instanceof RequestLeft) throw e; // a stall, not a broken stream
    // The stream is out of step (or gone): no later reply can be trusted.
    this.broken = true;
    throw new SyscallError(EIO, `9P: ${e instanceof Error ? e.message : String(e)}`);
  }

  close(): void {
    // Clunks still queued go out first: the server then releases what they held.
    try { this.sendQueued(); } catch { /* broken */ }
    this.broken = true;
    const ws = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of ws) w(new SyscallError(EIO, '9P connection closed'));
    this.unwatch?.();
    this.unwatch = null;
    this.discard.clear();
    this.left.clear();
    this.leftFids.clear();
    this.stalled.clear();
    for (const r of this.early.values()) for (const fd of r.fds) this.closeFd(fd);
    this.early.clear();
    this.t.close();
  }

  // --- the operations ---

  attach(aname: string, uname = '', nUname = 0): { fid: number; qid: Qid } {
    const fid = this.allocFid();
    try {
      const r = this.rpc(m.Tattach, { fid, afid: m.NOFID, uname, aname, n_uname: nUname });
      return { fid, qid: r.qid as Qid };
    } catch (e) { this.freeFid(fid); throw e; }
  }

  /** A new fid for fid/names...; ENOENT if any name is missing (no fid is left behind). An
   *  empty names clones fid. */
  walk(fid: number, names: readonly string[]): { fid: number; qids: Qid[] } {
    const qids: Qid[] = [];
    let from = fid;
    let i = 0;
    do {
      const chunk = names.slice(i, i + m.MAXWELEM);
      const newfid = this.allocFid();
      let got: Qid[];
      try {
        got = this.rpc(m.Twalk, { fid: from, newfid, names: chunk }).qids as Qid[];
      } catch (e) {
        this.freeFid(newfid);
        if (from !== fid) this.clunk(from);
        throw e;
      }
      if (got.length !== chunk.length) {
        // A partial walk leaves newfid unused (or, if the server got it wrong, clunk it).
        if (got.length > chunk.length) this.clunk(newfid); else this.freeFid(newfid);
        if (from !== fid) this.clunk(from);
        throw new SyscallError(got.length > chunk.length ? EIO : ENOENT);
      }
      if (from !== fid) this.clunk(from);
      from = newfid;
      qids.push(...got);
      i += chunk.length;
    } while (i < names.length);
    return { fid: from, qids };
  }

  getattr(fid: number, mask = GETATTR_ALL): Attr {
    return attrOf(this.rpc(m.Tgetattr, { fid, mask }));
  }

  setattr(fid: number, a: SetAttr): void {
    this.change(m.Tsetattr, {
      fid, valid: a.valid, mode: a.mode ?? 0, uid: a.uid ?? 0, gid: a.gid ?? 0, size: a.size ?? 0,
      atime_sec: a.atime?.sec ?? 0, atime_nsec: a.atime?.nsec ?? 0,
      mtime_sec: a.mtime?.sec ?? 0, mtime_nsec: a.mtime?.nsec ?? 0,
    });
  }

  private opened(type: number, fields: m.Fields): Opened {
    const r = this.roundTrip(type, null, fields, type + 1);
    const [fd, ...extra] = r.fds;
    for (const x of extra) this.closeFd(x);
    return { qid: r.msg.fields.qid as Qid, iounit: r.msg.fields.iounit as number, fd: fd ?? -1 };
  }

  /** Twalk fid (or fid/name) -> a new fid and Tlopen of it, sent together as walkGetattr. The
   *  new fid is the caller's (open) on success, gone on failure. One name at most: its walk
   *  either makes the fid or fails whole. mayWait: an open not answered within OPEN_WAIT_MS
   *  throws OpenPending (else it is waited for, blocking). */
  cloneOpen(fid: number, flags: number, names: readonly string[] = [], mayWait = false): Opened & { fid: number } {
    if (names.length > m.MAXWELEM) throw new RangeError('cloneOpen walks at most MAXWELEM names');
    if (!this.inOrder) {
      const w = this.walk(fid, names);
      try { return { ...this.lopen(w.fid, flags), fid: w.fid }; } catch (e) { this.clunkLater(w.fid); throw e; }
    }
    const newfid = this.allocFid();
    const wt = this.start(m.Twalk, { fid, newfid, names: [...names] });
    let ot: number;
    try { ot = this.start(m.Tlopen, { fid: newfid, flags }); } catch (e) {
      this.freeFid(newfid);
      throw e;
    }
    let qids: Qid[];
    try { qids = this.finish(wt).msg.fields.qids as Qid[]; } catch (e) {
      try { this.finish(ot); } catch { /* EBADF: the walk made no fid */ }
      this.freeFid(newfid);
      throw e;
    }
    if (qids.length !== names.length) {
      // A walk cut short after its first name made no fid (more qids than names: the server
      // is out of step).
      try { this.finish(ot); } catch { /* as above */ }
      if (qids.length > names.length) { this.clunkLater(newfid); this.fail(new DecodeError('9P: walk gave more qids than names')); }
      this.freeFid(newfid);
      throw new SyscallError(ENOENT);
    }
    let r: Reply | null;
    try { r = mayWait ? this.finishWithin(ot, OPEN_WAIT_MS) : this.finish(ot); } catch (e) { this.clunkLater(newfid); throw e; }
    if (r === null) this.pending(ot, newfid);
    return this.openedFid(r, newfid);
  }

  /** Throws the OpenPending of an open (tag, making fid the open file) not answered within
   *  OPEN_WAIT_MS (tsvisor-gofer: the host makes it wait, a lease being broken): its reply is
   *  taken without blocking the sentry, by whoever claims it. */
  private pending(tag: number, fid: number): never {
    const cancel = deferred();
    const result = this.waitFor(tag, cancel.promise).then(
      (rep) => this.openedFid(rep, fid),
      (e: unknown) => { this.clunkLater(fid); throw e; });
    throw new OpenPending(result, cancel.resolve, (o) => this.releaseOpened(o));
  }

  private openedFid(r: Reply, fid: number): Opened & { fid: number } {
    const [fd, ...extra] = r.fds;
    for (const x of extra) this.closeFd(x);
    return { fid, qid: r.msg.fields.qid as Qid, iounit: r.msg.fields.iounit as number, fd: fd ?? -1 };
  }

  /** An open nobody will use after all: its fd closed, its fid clunked. */
  releaseOpened(o: Opened & { fid: number }): void {
    if (o.fd >= 0) this.closeFd(o.fd);
    this.clunkLater(o.fid);
  }

  /** cloneOpen of a directory and its first Treaddir (from offset 0), sent together to a server
   *  that serves in order: listing a small directory is one round trip (plus the empty read
   *  that says it is done). */
  cloneOpenReaddir(fid: number, flags: number): { fid: number; first: m.Dirent[] } {
    if (!this.inOrder) {
      const o = this.cloneOpen(fid, flags);
      try { return { fid: o.fid, first: this.readdir(o.fid, 0n) }; } catch (e) { this.clunkLater(o.fid); throw e; }
    }
    const r = this.walkOpenList(fid, [], flags, m.Treaddir);
    try { return { fid: r.fid, first: m.decodeDirents(r.data) }; } catch (e) { this.clunkLater(r.fid); this.fail(e); }
  }

  /** Twalk fid/names -> a new fid, Tlopen of it and its first Treaddirattr, sent together: a
   *  directory listed with its entries' attributes in one round trip, and, when eof, nothing
   *  more to ask (listsWithAttrs servers only). The fid is the caller's (open) on success. */
  walkOpenReaddirAttr(fid: number, names: readonly string[], flags: number): { fid: number; first: m.DirentAttr[]; eof: boolean } {
    if (!this.listsWithAttrs || names.length > m.MAXWELEM) throw new SyscallError(ENOTSUP);
    const r = this.walkOpenList(fid, names, flags, m.Treaddirattr);
    try { return { fid: r.fid, first: m.decodeDirentsAttr(r.data), eof: r.eof }; } catch (e) { this.clunkLater(r.fid); this.fail(e); }
  }

  /** walkOpenReaddirAttr of fid/name that also keeps a plain fid of the directory (Twalk to
   *  it first, then the open clones that one), all in the same write: the caller holds
   *  `kept` for the directory's later walks (its entries' opens and listings). */
  walkKeepOpenReaddirAttr(fid: number, names: readonly string[], flags: number): { fid: number; kept: number; first: m.DirentAttr[]; eof: boolean } {
    if (!this.listsWithAttrs || names.length === 0 || names.length > m.MAXWELEM) throw new SyscallError(ENOTSUP);
    const n = names.length;
    const kept = this.allocFid();
    const kt = this.start(m.Twalk, { fid, newfid: kept, names: [...names] });
    let r;
    try { r = this.walkOpenReaddirAttr(kept, [], flags); } catch (e) {
      // Most likely the first walk failed (the rest then named a fid that does not exist):
      // its errno is the one to give.
      let qids: Qid[];
      try { qids = this.finish(kt).msg.fields.qids as Qid[]; } catch (e2) { this.freeFid(kept); throw e2; }
      if (qids.length === n) this.clunkLater(kept); else this.freeFid(kept);
      throw qids.length === n ? e : new SyscallError(ENOENT);
    }
    let qids: Qid[];
    try { qids = this.finish(kt).msg.fields.qids as Qid[]; } catch (e) {
      // The open worked on a fid the walk did not make: the server is out of step.
      this.clunkLater(r.fid);
      this.freeFid(kept);
      this.fail(e);
    }
    if (qids.length !== n) { this.clunkLater(r.fid); this.fail(new DecodeError('9P: walk made no fid yet it was opened')); }
    return { ...r, kept };
  }

  /** For each name of directory fid, in one write (with the next request awaited): a kept
   *  fid (Twalk), and a clone of it opened and listed (Tlopen, Treaddirattr of up to count
   *  bytes). With firstMine the first name's open fid is the caller's (it may need more
   *  reads); every other one is clunked in the same write (its listing is whole only if
   *  eof). Each result is independent: a name that fails gives its errno and no fid.
   *  finishListMany takes the results; the caller may await its own requests first. */
  startListMany(fid: number, names: readonly string[], flags: number, count: number, firstMine = false, prefix: readonly string[] = []): ListSteps {
    if (!this.listsWithAttrs || prefix.length >= m.MAXWELEM) throw new SyscallError(ENOTSUP);
    return names.map((name, i) => {
      const kept = this.allocFid(), open = this.allocFid();
      // prefix: the names from fid to the directory the names are in (one walk).
      const kt = this.start(m.Twalk, { fid, newfid: kept, names: [...prefix, name] });
      const wt = this.start(m.Twalk, { fid: kept, newfid: open, names: [] });
      const ot = this.start(m.Tlopen, { fid: open, flags });
      const mine = firstMine && i === 0;
      const n = mine ? this.maxIO - 1 : Math.min(count, this.maxIO - 1);
      const rt = this.start(m.Treaddirattr, { fid: open, offset: 0n, count: n });
      if (!mine) this.discard.set(this.start(m.Tclunk, { fid: open }), open);
      return { kept, open, kt, wt, ot, rt, mine, nw: prefix.length + 1 };
    });
  }

  /** The results of startListMany's requests, in its order. */
  finishListMany(steps: ListSteps): (Listed | { errno: number; kept?: number })[] {
    const settle = (...tags: number[]): void => { for (const t of tags) { try { this.finish(t); } catch { /* follows the first failure */ } } };
    return steps.map((st): Listed | { errno: number; kept?: number } => {
      // After a good walk, a failure to open or list gives the kept fid back (keepKept) or
      // lets it go.
      const failedAfterWalk = (errno: number): { errno: number; kept?: number } => {
        if (st.keepKept) return { errno, kept: st.kept };
        this.clunkLater(st.kept);
        return { errno };
      };
      // The open fid of a sibling is freed by its Tclunk's reply (discard), whatever happened.
      const dropOpen = (made: boolean): void => { if (st.mine) { if (made) this.clunkLater(st.open); else this.freeFid(st.open); } };
      let qids: Qid[];
      try { qids = this.finish(st.kt).msg.fields.qids as Qid[]; } catch (e) {
        settle(st.wt, st.ot, st.rt);
        this.freeFid(st.kept);
        dropOpen(false);
        return { errno: errnoOf(e) };
      }
      if (qids.length !== st.nw) {
        settle(st.wt, st.ot, st.rt);
        if (qids.length > st.nw) this.clunkLater(st.kept); else this.freeFid(st.kept);
        dropOpen(false);
        return { errno: qids.length > st.nw ? EIO : ENOENT };
      }
      try { this.finish(st.wt); } catch (e) {
        settle(st.ot, st.rt);
        dropOpen(false);
        return failedAfterWalk(errnoOf(e));
      }
      try { for (const x of this.finish(st.ot).fds) this.closeFd(x); } catch (e) {
        settle(st.rt);
        dropOpen(true);
        return failedAfterWalk(errnoOf(e));
      }
      let f: m.Fields;
      try { f = this.finish(st.rt).msg.fields; } catch (e) {
        dropOpen(true);
        return failedAfterWalk(errnoOf(e));
      }
      let first: m.DirentAttr[];
      try { first = m.decodeDirentsAttr(f.data as Uint8Array); } catch (e) {
        this.clunkLater(st.kept);
        dropOpen(true);
        this.fail(e);
      }
      return { kept: st.kept, qid: qids[qids.length - 1], fid: st.mine ? st.open : -1, first, eof: f.eof !== 0 };
    });
  }

  /** Directory fid/name walked to a kept fid with its attributes (Tgetattr), and listed (a
   *  clone opened, Treaddirattr of up to count bytes, clunked), in one write: a directory's
   *  revalidation and the listing that usually follows it. Throws the walk's or getattr's
   *  errno; ents is null when the listing failed or did not fit (the fid is the caller's
   *  either way). */
  walkGetattrList(fid: number, name: string, flags: number, count: number, prefix: readonly string[] = []): { fid: number; attr: Attr; ents: m.DirentAttr[] | null } {
    const steps = this.startListMany(fid, [name], flags, count, false, prefix);
    const gt = this.start(m.Tgetattr, { fid: steps[0].kept, mask: GETATTR_BASIC });
    // The kept fid is taken back from finishListMany: getattr decides whether it exists.
    const [res] = this.finishListMany(steps.map((st) => ({ ...st, keepKept: true })));
    let attr: Attr;
    try { attr = attrOf(this.finish(gt).msg.fields); } catch (e) {
      if ('kept' in res && res.kept !== undefined) this.clunkLater(res.kept);
      throw 'errno' in res ? new SyscallError(res.errno) : e;
    }
    if ('errno' in res) {
      if (res.kept === undefined) throw new SyscallError(res.errno);
      return { fid: res.kept, attr, ents: null };
    }
    return { fid: res.kept, attr, ents: res.eof ? res.first : null };
  }

  /** For each name of directory fid: Twalk to a new fid, its Tgetattr, and Tclunk, all in
   *  one write: the attributes of many entries in one round trip, no fid left behind. */
  getattrMany(fid: number, names: readonly string[], mask = GETATTR_BASIC): (Attr | { errno: number })[] {
    const steps = names.map((name) => {
      const newfid = this.allocFid();
      const wt = this.start(m.Twalk, { fid, newfid, names: [name] });
      const gt = this.start(m.Tgetattr, { fid: newfid, mask });
      this.discard.set(this.start(m.Tclunk, { fid: newfid }), newfid);
      return { wt, gt };
    });
    return steps.map(({ wt, gt }) => {
      let qids: Qid[];
      try { qids = this.finish(wt).msg.fields.qids as Qid[]; } catch (e) {
        try { this.finish(gt); } catch { /* no fid */ }
        return { errno: errnoOf(e) };
      }
      if (qids.length !== 1) {
        try { this.finish(gt); } catch { /* no fid */ }
        return { errno: qids.length > 1 ? EIO : ENOENT };
      }
      try { return attrOf(this.finish(gt).msg.fields); } catch (e) { return { errno: errnoOf(e) }; }
    });
  }

  /** For each name of directory fid: Twalk to a new fid, Tlopen it with flags and Tclunk it,
   *  queued to go in one write with the next request awaited: what comes back is the host fd
   *  each open donated (the fid is gone already). finishOpenMany takes the results. */
  startOpenMany(fid: number, names: readonly string[], flags: number): OpenSteps {
    return names.map((name) => {
      const newfid = this.allocFid();
      const wt = this.start(m.Twalk, { fid, newfid, names: [name] });
      const ot = this.start(m.Tlopen, { fid: newfid, flags });
      // The clunk's reply frees the fid number, whatever happened before it.
      this.discard.set(this.start(m.Tclunk, { fid: newfid }), newfid);
      return { wt, ot };
    });
  }

  /** startOpenMany's results in its order: each open's qid and donated fd (-1 if the server
   *  donates none), or its errno. */
  finishOpenMany(steps: OpenSteps): ({ qid: Qid; fd: number } | { errno: number })[] {
    return steps.map((st) => {
      let qids: Qid[];
      try { qids = this.finish(st.wt).msg.fields.qids as Qid[]; } catch (e) {
        try { this.finish(st.ot); } catch { /* no fid to open */ }
        return { errno: errnoOf(e) };
      }
      if (qids.length !== 1) {
        try { this.finish(st.ot); } catch { /* as above */ }
        return { errno: qids.length > 1 ? EIO : ENOENT };
      }
      let r: Reply;
      try { r = this.finish(st.ot); } catch (e) { return { errno: errnoOf(e) }; }
      const [fd, ...extra] = r.fds;
      for (const x of extra) this.closeFd(x);
      return { qid: r.msg.fields.qid as Qid, fd: fd ?? -1 };
    });
  }

  /** Treaddirattr: the next entries with their attributes, and whether the directory ends. */
  readdirAttr(fid: number, offset: bigint, count = this.maxIO): { ents: m.DirentAttr[]; eof: boolean } {
    if (!this.listsWithAttrs) throw new SyscallError(ENOTSUP);
    const f = this.rpc(m.Treaddirattr, { fid, offset, count: Math.min(count, this.maxIO - 1) });
    try { return { ents: m.decodeDirentsAttr(f.data as Uint8Array), eof: f.eof !== 0 }; } catch (e) { this.fail(e); }
  }

  private walkOpenList(fid: number, names: readonly string[], flags: number, list: number): { fid: number; data: Uint8Array; eof: boolean } {
    const newfid = this.allocFid();
    const wt = this.start(m.Twalk, { fid, newfid, names: [...names] });
    const ot = this.start(m.Tlopen, { fid: newfid, flags });
    const count = list === m.Treaddirattr ? this.maxIO - 1 : this.maxIO;
    const rt = this.start(list, { fid: newfid, offset: 0n, count });
    const settle = (...tags: number[]): void => { for (const t of tags) { try { this.finish(t); } catch { /* follows the first failure */ } } };
    let qids: Qid[];
    try { qids = this.finish(wt).msg.fields.qids as Qid[]; } catch (e) { settle(ot, rt); this.freeFid(newfid); throw e; }
    if (qids.length !== names.length) {
      // A partial walk made no fid (the opens after it failed with EIO on an unknown fid).
      settle(ot, rt);
      if (qids.length > names.length) this.clunkLater(newfid); else this.freeFid(newfid);
      throw new SyscallError(qids.length > names.length ? EIO : ENOENT);
    }
    try { this.finish(ot); } catch (e) { settle(rt); this.clunkLater(newfid); throw e; }
    let f: m.Fields;
    try { f = this.finish(rt).msg.fields; } catch (e) { this.clunkLater(newfid); throw e; }
    return { fid: newfid, data: f.data as Uint8Array, eof: list === m.Treaddirattr && f.eof !== 0 };
  }

  /** Tlopen: fid becomes open with Linux open flags. */
  lopen(fid: number, flags: number): Opened { return this.opened(m.Tlopen, { fid, flags }); }

  /** Tlcreate: creates name in directory fid; fid then stands for the new, open file.
   *  mayWait (a server that serves in order): a reply not come within OPEN_WAIT_MS (the name
   *  existed and its open waits on the host) throws OpenPending, which then owns fid. */
  lcreate(fid: number, name: string, flags: number, mode: number, gid: number, mayWait = false): Opened {
    if (!mayWait || !this.inOrder) return this.opened(m.Tlcreate, { fid, name, flags, mode, gid });
    const tag = this.start(m.Tlcreate, { fid, name, flags, mode, gid });
    const r = this.finishWithin(tag, OPEN_WAIT_MS);
    if (r === null) this.pending(tag, fid);
    return this.openedFid(r, fid);
  }

  /** Most bytes one Tread/Twrite may carry. */
  get maxIO(): number { return this.msize - m.IOHDRSZ; }

  read(fid: number, offset: number, count: number): Uint8Array {
    const data = this.rpc(m.Tread, { fid, offset, count: Math.min(count, this.maxIO) }).data as Uint8Array;
    if (data.length > count) throw new SyscallError(EIO, '9P: Rread longer than asked');
    return data;
  }

  /** Treads for count bytes from offset, maxIO each, sent together: one wait for them all
   *  (a server with a thread per request, diod, serves them at once; ours in order). The
   *  bytes up to the first short or failed reply; the error only when nothing came. */
  readMany(fid: number, offset: number, count: number): Uint8Array {
    const io = this.maxIO;
    const tags: number[] = [];
    let err: unknown = null;
    for (let at = 0; at < count; at += io) {
      try { tags.push(this.start(m.Tread, { fid, offset: offset + at, count: Math.min(io, count - at) })); } catch (e) {
        err = e;
        break;
      }
    }
    // Every reply is taken, whatever became of the ones before it: no tag stays in flight.
    const parts: Uint8Array[] = [];
    let total = 0, short = err !== null && tags.length === 0;
    for (let i = 0; i < tags.length; i++) {
      const want = Math.min(io, count - i * io);
      let data: Uint8Array;
      try { data = this.finish(tags[i]).msg.fields.data as Uint8Array; } catch (e) {
        if (!short) err = e;
        short = true;
        continue;
      }
      if (short) continue;
      if (data.length > want) {
        // A server that breaks the protocol: EIO, as read() says, whatever came before.
        err = new SyscallError(EIO, '9P: Rread longer than asked');
        short = true;
        total = 0;
        continue;
      }
      parts.push(data);
      total += data.length;
      if (data.length < want) short = true;
    }
    if (total === 0 && err !== null) throw err;
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  write(fid: number, offset: number, data: Uint8Array): number {
    const chunk = data.subarray(0, this.maxIO);
    const n = this.rpc(m.Twrite, { fid, offset, data: chunk }).count as number;
    if (n > chunk.length) throw new SyscallError(EIO, '9P: Rwrite count past the data');
    return n;
  }

  readdir(fid: number, offset: bigint, count = this.maxIO): m.Dirent[] {
    const data = this.rpc(m.Treaddir, { fid, offset, count: Math.min(count, this.maxIO) }).data as Uint8Array;
    try { return m.decodeDirents(data); } catch (e) { this.fail(e); }
  }

  mkdir(dfid: number, name: string, mode: number, gid: number): Qid {
    return this.change(m.Tmkdir, { dfid, name, mode, gid }).qid as Qid;
  }

  symlink(fid: number, name: string, target: string, gid: number): Qid {
    return this.change(m.Tsymlink, { fid, name, target, gid }).qid as Qid;
  }

  link(dfid: number, fid: number, name: string): void { this.change(m.Tlink, { dfid, fid, name }); }

  mknod(dfid: number, name: string, mode: number, major: number, minor: number, gid: number): Qid {
    return this.change(m.Tmknod, { dfid, name, mode, major, minor, gid }).qid as Qid;
  }

  rename(fid: number, dfid: number, name: string): void { this.rpc(m.Trename, { fid, dfid, name }); }

  renameat(olddirfid: number, oldname: string, newdirfid: number, newname: string): void {
    this.change(m.Trenameat, { olddirfid, oldname, newdirfid, newname });
  }

  unlinkat(dirfid: number, name: string, flags: number): void { this.change(m.Tunlinkat, { dirfid, name, flags }); }

  /** renameat, or, on a server without Trenameat (diod answers EOPNOTSUPP), walk + Trename as
   *  Linux's v9fs does. flags (renameat2's) need our Trenameat2: other servers cannot do them
   *  atomically, and get EINVAL as Linux's v9fs gives. RENAME_NOREPLACE alone is the caller's
   *  check (the name was not there) on such a server, as before. */
  renameOrFallback(olddirfid: number, oldname: string, newdirfid: number, newname: string, flags = 0): void {
    if (flags !== 0 && this.renamesWithFlags) {
      this.change(m.Trenameat2, { olddirfid, oldname, newdirfid, newname, flags });
      return;
    }
    if ((flags & ~RENAME_NOREPLACE) !== 0) throw new SyscallError(EINVAL);
    if (!this.noRenameat) {
      try { return this.renameat(olddirfid, oldname, newdirfid, newname); } catch (e) {
        if (!(e instanceof SyscallError) || e.errno !== ENOTSUP) throw e;
        this.noRenameat = true;
      }
    }
    const w = this.walk(olddirfid, [oldname]);
    try { this.rename(w.fid, newdirfid, newname); } finally { this.clunk(w.fid); }
  }

  /** unlinkat, or, on a server without Tunlinkat, walk + Tremove (the caller has checked the
   *  file's type against flags: Tremove cannot). */
  unlinkOrFallback(dirfid: number, name: string, flags: number): void {
    if (!this.noUnlinkat) {
      try { return this.unlinkat(dirfid, name, flags); } catch (e) {
        if (!(e instanceof SyscallError) || e.errno !== ENOTSUP) throw e;
        this.noUnlinkat = true;
      }
    }
    this.remove(this.walk(dirfid, [name]).fid);
  }

  readlink(fid: number): string { return this.rpc(m.Treadlink, { fid }).target as string; }

  /** Twalk fid/name -> a new fid and Treadlink of it, sent together to a server that serves
   *  in order (one after the other otherwise): the new fid is the caller's on success. */
  walkReadlink(fid: number, name: string): { fid: number; target: string } {
    if (!this.inOrder) {
      const w = this.walk(fid, [name]);
      try { return { fid: w.fid, target: this.readlink(w.fid) }; } catch (e) { this.clunkLater(w.fid); throw e; }
    }
    const newfid = this.allocFid();
    const wt = this.start(m.Twalk, { fid, newfid, names: [name] });
    const rt = this.start(m.Treadlink, { fid: newfid });
    try { this.finish(wt); } catch (e) {
      try { this.finish(rt); } catch { /* EIO: the walk made no fid */ }
      this.freeFid(newfid);
      throw e;
    }
    try { return { fid: newfid, target: this.finish(rt).msg.fields.target as string }; } catch (e) {
      this.clunkLater(newfid);
      throw e;
    }
  }

  statfs(fid: number): StatfsReply {
    const f = this.rpc(m.Tstatfs, { fid });
    return {
      type: f.type as number, bsize: f.bsize as number, blocks: f.blocks as number, bfree: f.bfree as number,
      bavail: f.bavail as number, files: f.files as number, ffree: f.ffree as number,
      fsid: f.fsid as bigint, namelen: f.namelen as number,
    };
  }

  fsync(fid: number, datasync = false): void { this.rpc(m.Tfsync, { fid, datasync: datasync ? 1 : 0 }); }

  /** Tlock: a P9_LOCK_* status. */
  lock(fid: number, type: number, flags: number, start: number, length: number, procId: number, clientId: string): number {
    return this.rpc(m.Tlock, { fid, type, flags, start, length, proc_id: procId, client_id: clientId }).status as number;
  }

  getlock(fid: number, type: number, start: number, length: number, procId: number, clientId: string): LockReply {
    const f = this.rpc(m.Tgetlock, { fid, type, start, length, proc_id: procId, client_id: clientId });
    return { type: f.type as number, start: f.start as number, length: f.length as number, procId: f.proc_id as number, clientId: f.client_id as string };
  }

  /** Txattrwalk: a new fid whose reads give the xattr name's value (all names if name is
   *  ''), with its size. */
  xattrwalk(fid: number, name: string): { fid: number; size: number } {
    const newfid = this.allocFid();
    try {
      return { fid: newfid, size: this.rpc(m.Txattrwalk, { fid, newfid, name }).size as number };
    } catch (e) { this.freeFid(newfid); throw e; }
  }

  /** Txattrcreate: fid becomes the xattr name, to be written (size bytes) and clunked. */
  xattrcreate(fid: number, name: string, size: number, flags: number): void {
    this.rpc(m.Txattrcreate, { fid, name, size, flags });
  }

  /** Tclunk: the fid is free afterwards whatever the reply (as the protocol says). */
  clunk(fid: number): void {
    try { this.rpc(m.Tclunk, { fid }); } finally { this.freeFid(fid); }
  }

  /** Tremove: removes the file and clunks fid (even when the remove fails). */
  remove(fid: number): void {
    try { this.rpc(m.Tremove, { fid }); } finally { this.freeFid(fid); }
  }
}

function attrOf(f: m.Fields): Attr {
  // Plain property reads (no key built per field): one of these per path component looked up.
  return {
    valid: f.valid as bigint, qid: f.qid as Qid, mode: f.mode as number, uid: f.uid as number,
    gid: f.gid as number, nlink: f.nlink as number, rdev: f.rdev as number, size: f.size as number,
    blksize: f.blksize as number, blocks: f.blocks as number,
    atime: { sec: f.atime_sec as number, nsec: f.atime_nsec as number },
    mtime: { sec: f.mtime_sec as number, nsec: f.mtime_nsec as number },
    ctime: { sec: f.ctime_sec as number, nsec: f.ctime_nsec as number },
    btime: { sec: f.btime_sec as number, nsec: f.btime_nsec as number },
  };
}
