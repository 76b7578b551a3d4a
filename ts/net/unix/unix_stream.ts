// Unix stream transfer (Linux unix_stream_sendmsg, unix_stream_read_generic). A send is cut
// into messages of at most half the send buffer; each waits while the sender's send buffer
// is full, and fds ride on the first. A receive gathers messages until the request is met
// (or, without MSG_WAITALL, until the queue runs dry), never gluing data from different
// writers when SO_PASSCRED is on, and stopping after a message that carried fds.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import { EAGAIN, EINVAL, EISCONN, ENOTCONN, ENOTSUP as EOPNOTSUPP, EPIPE } from '../../abi/linux/errno';
import { POLLIN, POLLOUT } from '../../abi/linux/poll';
import { SIGPIPE } from '../../abi/linux/signal';
import {
  MSG_DONTWAIT, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_WAITALL, RCV_SHUTDOWN, SEND_SHUTDOWN, TCP_ESTABLISHED,
} from '../../abi/linux/socket';
import { sendSignalToThread, userSigInfo } from '../../kernel/signals';
import type { FileDescription } from '../../vfs/file_description';
import { type RecvResult, type SendRequest, type UCred } from '../socket';
import type { Deadline } from '../sock_wait';
import { messageCred, truesize, unread } from './message';
import type { UnixSocket } from './unix_socket';

export function sendStream(t: Task, s: UnixSocket, req: SendRequest): number | Promise<number> {
  if (req.flags & MSG_OOB) fail(EOPNOTSUPP);
  if (req.addr && req.addr.length > 0) fail(s.state === TCP_ESTABLISHED ? EISCONN : EOPNOTSUPP);
  if (!s.peer) fail(ENOTCONN);
  const dl = s.sndDeadline((req.flags & MSG_DONTWAIT) !== 0);
  return sendFrom(t, s, req, req.creds, 0, dl);
}

function pipeErr(t: Task, req: SendRequest, sent: number): number {
  if (sent > 0) return sent;
  if (!(req.flags & MSG_NOSIGNAL)) sendSignalToThread(t, userSigInfo(t, SIGPIPE));
  fail(EPIPE);
}

function sendFrom(t: Task, s: UnixSocket, req: SendRequest, cred: UCred | null, sent: number, dl: Deadline): number | Promise<number> {
  const data = req.data;
  for (;;) {
    if (s.shutdownBits & SEND_SHUTDOWN) return pipeErr(t, req, sent);
    const other = s.peer;
    if (!other || other.dead || (other.shutdownBits & RCV_SHUTDOWN)) return pipeErr(t, req, sent);
    if (sent === data.length) return sent;
    if (s.wmem >= s.opts.sndbuf) {
      if (s.err) {
        const e = s.takeError();
        if (sent > 0) return sent;
        fail(e);
      }
      if (dl.nonblocking) {
        if (sent > 0) return sent;
        fail(EAGAIN);
      }
      return dl.wait(t, (wake) => s.queue.subscribe(POLLOUT, wake)).then(
        () => sendFrom(t, s, req, cred, sent, dl),
        (e: unknown) => { if (sent > 0) return sent; throw e; },
      );
    }
    const size = Math.min(data.length - sent, (s.opts.sndbuf >> 1) - 64);
    const rights = sent === 0 ? req.rights : null;
    if (sent === 0) req.rights = null;
    const ts = truesize(size);
    other.recvQueue.push({
      data: data.subarray(sent, sent + size), consumed: 0, sender: s, cred: messageCred(t, cred, s, other), rights, truesize: ts,
    });
    s.wmem += ts;
    sent += size;
    other.queue.notify(POLLIN);
    if (sent === data.length) return sent;
  }
}

function sameCred(a: UCred, b: UCred): boolean {
  return a.pid === b.pid && a.uid === b.uid && a.gid === b.gid;
}

export function recvStream(t: Task, s: UnixSocket, max: number, flags: number): RecvResult | Promise<RecvResult> {
  if (s.state !== TCP_ESTABLISHED) fail(EINVAL);
  // No out-of-band byte is ever queued (we do not send them), so there is none to read.
  if (flags & MSG_OOB) fail(EINVAL);
  const target = flags & MSG_WAITALL ? max : Math.max(1, Math.min(s.opts.rcvlowat, max));
  const res: RecvResult = { n: 0, data: new Uint8Array(0), from: null, rights: null, creds: null, flags: 0 };
  const parts: Uint8Array[] = [];
  return gather(t, s, max, flags, target, res, parts, s.rcvDeadline((flags & MSG_DONTWAIT) !== 0), false);
}

function finish(res: RecvResult, parts: Uint8Array[]): RecvResult {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  res.data = out;
  res.n = n;
  return res;
}

function gather(t: Task, s: UnixSocket, max: number, flags: number, target: number, res: RecvResult,
  parts: Uint8Array[], dl: Deadline, started: boolean): RecvResult | Promise<RecvResult> {
  const peek = (flags & MSG_PEEK) !== 0;
  let copied = res.n;
  let checkCreds = res.creds !== null;
  let idx = 0;
  let first = !started;
  // unix_stream_read_generic is a do-while: a zero-length receive still waits for data (or
  // is EAGAIN), then returns 0 leaving the data queued.
  let once = max === 0;
  while (copied < max || once) {
    once = false;
    const m = peek ? s.recvQueue[idx] : s.recvQueue[0];
    if (!m) {
      if (copied >= target) break;
      const err = s.takeError();
      if (err) {
        if (copied > 0) break;
        fail(err);
      }
      if (s.shutdownBits & RCV_SHUTDOWN) break;
      if (dl.nonblocking) {
        if (copied > 0) break;
        fail(EAGAIN);
      }
      res.n = copied;
      return dl.wait(t, (wake) => s.queue.subscribe(POLLIN, wake)).then(
        () => gather(t, s, max, flags, target, res, parts, dl, true),
        (e: unknown) => { if (copied > 0) return finish(res, parts); throw e; },
      );
    }
    if (checkCreds) {
      if (res.creds && !sameCred(m.cred, res.creds)) break;
    } else if (s.opts.passcred) {
      res.creds = m.cred;
      checkCreds = true;
    }
    if (first) {
      res.from = m.sender.addr;
      first = false;
    }
    const chunk = Math.min(unread(m), max - copied);
    parts.push(m.data.slice(m.consumed, m.consumed + chunk));
    copied += chunk;
    if (!peek) {
      m.consumed += chunk;
      let gotRights = false;
      if (m.rights) {
        res.rights = appendRights(res.rights, m.rights);
        m.rights = null;
        gotRights = true;
      }
      if (unread(m) > 0) break;
      s.recvQueue.shift();
      m.sender.uncharge(m.truesize);
      s.dequeued();
      if (gotRights) break;
    } else {
      if (m.rights) {
        for (const f of m.rights) f.incRef();
        res.rights = appendRights(res.rights, m.rights);
        break;
      }
      idx++;
    }
  }
  res.n = copied;
  return finish(res, parts);
}

function appendRights(have: FileDescription[] | null, more: FileDescription[]): FileDescription[] {
  return have ? [...have, ...more] : [...more];
}
