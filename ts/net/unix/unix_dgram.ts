// Unix datagram and seqpacket transfer (Linux unix_dgram_sendmsg/recvmsg, which seqpacket
// shares once it is connected). Each send is one message, whole or not at all: larger than
// the send buffer allows is EMSGSIZE, a full send buffer waits, and a receiver holding more
// than max_dgram_qlen messages from others makes the sender wait (EAGAIN if it may not).
// A receive takes one message; a short buffer gets its head and MSG_TRUNC.

import type { Task } from '../../kernel/task';
import { fail } from '../../kernel/syscall_error';
import {
  EAGAIN, ECONNREFUSED, ECONNRESET, EMSGSIZE, ENOTCONN, ENOTSUP as EOPNOTSUPP, EPERM, EPIPE,
} from '../../abi/linux/errno';
import { POLLIN, POLLOUT } from '../../abi/linux/poll';
import {
  MSG_DONTWAIT, MSG_OOB, MSG_PEEK, MSG_TRUNC, RCV_SHUTDOWN, SEND_SHUTDOWN, SOCK_SEQPACKET, TCP_ESTABLISHED,
} from '../../abi/linux/socket';
import { type RecvResult, type SendRequest, type UCred } from '../socket';
import type { Deadline } from '../sock_wait';
import { parseUnixAddr, type UnixName } from '../sockaddr';
import { messageCred, truesize } from './message';
import type { UnixSocket } from './unix_socket';

export function sendDgram(t: Task, s: UnixSocket, req: SendRequest): number | Promise<number> {
  if (req.flags & MSG_OOB) fail(EOPNOTSUPP);
  const seqpacket = s.type === SOCK_SEQPACKET;
  if (seqpacket && s.state !== TCP_ESTABLISHED) fail(ENOTCONN);
  if (req.data.length > s.opts.sndbuf - 32) fail(EMSGSIZE);
  let name: UnixName | null = null;
  if (!seqpacket && req.addr && req.addr.length > 0) name = parseUnixAddr(req.addr, false);
  else if (!s.peer) fail(ENOTCONN);
  if (s.opts.passcred && !s.addr) s.autobind();
  return attempt(t, s, req, req.creds, name, s.sndDeadline((req.flags & MSG_DONTWAIT) !== 0));
}

function attempt(t: Task, s: UnixSocket, req: SendRequest, cred: UCred | null, name: UnixName | null,
  dl: Deadline): number | Promise<number> {
  // sock_alloc_send_pskb: our own state and send buffer first.
  if (s.shutdownBits & SEND_SHUTDOWN) fail(EPIPE);
  if (s.err) fail(s.takeError());
  if (s.wmem >= s.opts.sndbuf) {
    if (dl.nonblocking) fail(EAGAIN);
    return dl.wait(t, (wake) => s.queue.subscribe(POLLOUT, wake)).then(() => attempt(t, s, req, cred, name, dl));
  }
  let other = name ? null : s.peer;
  if (!other) {
    if (!name) fail(ECONNRESET);
    other = s.findOther(t, name);
  }
  if (other.peer && other.peer !== s) fail(EPERM);
  if (other.dead) {
    if (s.type === SOCK_SEQPACKET) fail(EPIPE);
    if (s.peer === other) {
      s.disconnectDgram();
      fail(ECONNREFUSED);
    }
    fail(ECONNREFUSED);
  }
  if (other.shutdownBits & RCV_SHUTDOWN) fail(EPIPE);
  if (s.peerQueueFull(other)) {
    if (dl.nonblocking) fail(EAGAIN);
    const target = other;
    return dl.wait(t, (wake) => target.peerWait.subscribe(POLLOUT, wake)).then(() => attempt(t, s, req, cred, name, dl));
  }
  const ts = truesize(req.data.length);
  other.recvQueue.push({ data: req.data, consumed: 0, sender: s, cred: messageCred(t, cred, s, other), rights: req.rights, truesize: ts });
  req.rights = null;
  s.wmem += ts;
  other.queue.notify(POLLIN);
  return req.data.length;
}

export function recvDgram(t: Task, s: UnixSocket, max: number, flags: number): RecvResult | Promise<RecvResult> {
  if (flags & MSG_OOB) fail(EOPNOTSUPP);
  if (s.type === SOCK_SEQPACKET && s.state !== TCP_ESTABLISHED) fail(ENOTCONN);
  return take(t, s, max, flags, s.rcvDeadline((flags & MSG_DONTWAIT) !== 0));
}

function take(t: Task, s: UnixSocket, max: number, flags: number, dl: Deadline): RecvResult | Promise<RecvResult> {
  const m = s.recvQueue[0];
  if (!m) {
    const eof = (): RecvResult => ({ n: 0, data: new Uint8Array(0), from: null, rights: null, creds: null, flags: 0 });
    if (dl.nonblocking) {
      // EOF on a disconnected non-blocking seqpacket socket; EAGAIN otherwise.
      if (s.type === SOCK_SEQPACKET && (s.shutdownBits & RCV_SHUTDOWN)) return eof();
      fail(EAGAIN);
    }
    const err = s.takeError();
    if (err) fail(err);
    if (s.shutdownBits & RCV_SHUTDOWN) return eof();
    return dl.wait(t, (wake) => s.queue.subscribe(POLLIN, wake)).then(() => take(t, s, max, flags, dl));
  }
  const len = m.data.length;
  const size = Math.min(max, len);
  const res: RecvResult = {
    n: flags & MSG_TRUNC ? len : size,
    data: m.data.subarray(0, size),
    from: m.sender.addr,
    rights: null,
    creds: s.opts.passcred ? m.cred : null,
    flags: size < len ? MSG_TRUNC : 0,
  };
  if (flags & MSG_PEEK) {
    if (m.rights) {
      for (const f of m.rights) f.incRef();
      res.rights = [...m.rights];
    }
  } else {
    res.rights = m.rights;
    m.rights = null;
    s.recvQueue.shift();
    m.sender.uncharge(m.truesize);
    s.dequeued();
  }
  return res;
}
