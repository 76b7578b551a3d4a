// A TCP endpoint (Linux net/ipv4/tcp*.c, gVisor tcpip/transport/tcp): one connection's
// state machine (RFC 9293), its send queue (what the application wrote and the peer has not
// acknowledged, in chunks segments are views of: send_queue.ts) and receive queue (in-order
// data the application has not read, views of the segments that brought it), windows (the
// peer's, scaled; ours, from the receive buffer; silly window avoidance on both sides), the
// retransmission and persist timer, Nagle, and the listener's accept queue. Segments come in through input(); the socket layer
// (ts/net/inet) drives the rest and hears about readiness through its owner's notify().
// Segments past a hole wait in the out-of-order queue and are named in SACK blocks (sack.ts);
// the sender keeps a SACK scoreboard and a congestion window (congestion.ts, CUBIC or Reno):
// fast retransmit on three duplicate ACKs, recovery retransmitting only the holes, slow start
// from one segment after a timeout. Keep-alive probes an idle connection (keepalive.ts).

import { ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT } from '../../abi/linux/errno';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP } from '../../abi/linux/poll';
import { addrKey, type IPAddr } from '../addr';
import type { Binding } from '../ports';
import type { ConnEntry, Stack } from '../stack';
import { IPPROTO_TCP, TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN, TH_URG, tcpHeaderLen, writeTCP, type TCPOut, type TCPSegment } from '../header/tcp';
import { seqAdd, seqDiff, seqGE, seqGT, seqLE, seqLT } from './seqnum';
import { TCPS, synchronized } from './states';
import { TcpTimer } from './timer';
import { RtoEstimator } from './rto';
import { CongestionControl, DUPACK_THRESHOLD } from './congestion';
import { defaultCcOf, newCongestionOps } from './cc_registry';
import { OutOfOrderQueue, SeqRanges } from './sack';
import { Keepalive } from './keepalive';
import { DelayedAck } from './delayed_ack';
import { SLAB_MAX_REGION, Slab } from './slab';
import { LINK_ROOM, SendQueue, type Fill } from './send_queue';
import { chunkPool } from './chunk_pool';
import { mibOf } from '../mib';
import { TcpUrgent, URG_NOTYET } from './urgent';
import { timeWaitVerdict } from './time_wait';
import { TCPOLEN_TSTAMP_ALIGNED, TcpTimestamps } from './timestamps';
import { ErrQueue } from '../icmp/errqueue';
import { WIDE_ZERO } from '../wide_field';
import type { FilterSlot } from '../../kernel/bpf';


export const RCV_SHUTDOWN = 1;
export const SEND_SHUTDOWN = 2;

/** Receive and send buffer sizes when the application sets none (Linux autotunes up to
 *  tcp_rmem[2] = 6 MiB and tcp_wmem[2] = 4 MiB). */
export const AUTO_BUF = 4 << 20;
export const TCP_MAX_RETRIES = 15;
export const TCP_SYN_RETRIES = 6;
export const TCP_SYNACK_RETRIES = 5;
/** TCP_TIMEWAIT_LEN and tcp_fin_timeout. */
const TIME_WAIT_MS = 60_000;
export const FIN_TIMEOUT_MS = 60_000;
/** TCP_RTO_MIN: the probe timer's floor (tcp_probe0_base). */
const TCP_RTO_MIN_MS = 200;
export const TCP_INVALID_RATELIMIT_MS = 500;
const TCP_MAX_WSCALE = 14;

/** The window scale we offer (tcp_select_initial_window): enough for the receive buffer to
 *  be offered whole, and no more. A coarser one rounds a small buffer's window down below a
 *  segment (a 4 KiB buffer in units of 128 bytes), and the sender waits for its persist timer
 *  each time. The default buffer gets 7, as Linux's tcp_rmem[2] does. */
export function rcvWscaleFor(rcvBuf: number): number {
  return Math.min(TCP_MAX_WSCALE, Math.max(0, Math.floor(Math.log2(Math.max(rcvBuf, 1))) - 15));
}

export interface EndpointOwner { notify(mask: number): void }

export class TcpEndpoint {
  state: number = TCPS.CLOSE;
  /** Whether the connection's packets are IPv6 (a v4-mapped peer of an AF_INET6 socket is IPv4). */
  v6: boolean;
  local: IPAddr | null = null;
  lport = 0;
  remote: IPAddr | null = null;
  rport = 0;
  binding: Binding | null = null;
  /** Key in the stack's connection table while registered there. */
  connKey: string | null = null;
  /** Its entry in the stack's index by ports while registered. */
  connEntry: ConnEntry | null = null;
  owner: EndpointOwner | null = null;
  /** The application closed its socket; the endpoint finishes the close on its own. */
  orphan = false;

  nodelay = false;
  cork = false;
  ttl = 64;
  tos = 0;
  linger0 = false;
  sndBufSize = AUTO_BUF;
  rcvBufSize = AUTO_BUF;
  /** Most data per segment we advertise (TCP_MAXSEG before connect; 0: from the MTU). */
  userMss = 0;
  /** TCP_WINDOW_CLAMP (tp->window_clamp as the user set it; 0: none): the largest window
   *  offered, and the one the window scale is chosen for at the SYN. */
  windowClamp = 0;
  /** net.ipv4.tcp_invalid_ratelimit: the least time between two out-of-window ACKs. */
  oowRateLimitMs = TCP_INVALID_RATELIMIT_MS;
  private lastOowAck = -Infinity;
  /** net.ipv4.tcp_sack for this endpoint: offer and accept SACK. */
  sackEnabled = true;
  /** SACK was offered by both ends. */
  sackOk = false;

  // --- send side ---
  iss = WIDE_ZERO;
  sndUna = WIDE_ZERO;
  sndNxt = WIDE_ZERO;
  /** The highest sequence number sent, plus one (BSD's snd_max; Linux's snd_nxt, which never
   *  goes back): a retransmission timeout takes sndNxt back to sndUna, and ACKs and SACKs
   *  of what was sent before it are still good up to here. */
  sndMax = WIDE_ZERO;
  sndWnd = 0;
  /** The largest window the peer offered (max_window). */
  maxSndWnd = 0;
  /** The persist timer is sending: a small window takes a small segment. */
  private persistProbe = false;
  /** End of the last segment sent short of the MSS (tcp_sock.snd_sml, for Minshall's Nagle). */
  private sndSml = WIDE_ZERO;
  sndWl1 = WIDE_ZERO;
  sndMss = 536;
  sndWscale = 0;
  rcvWscale = 0;
  /** Both SYNs carried the window scale option. */
  wscaleOk = false;
  private readonly sndQueue = new SendQueue();
  finQueued = false;
  private finSent = false;
  private finSeq = WIDE_ZERO;
  /** What the peer has SACKed above sndUna, and how far recovery has retransmitted. */
  readonly sacked = new SeqRanges();
  private rtxHigh = WIDE_ZERO;

  // --- receive side ---
  irs = WIDE_ZERO;
  rcvNxt = WIDE_ZERO;
  readonly rcvQueue: Uint8Array[] = [];
  /** Where small received data is copied to (read in the order it came). */
  private readonly rcvSlab = new Slab();
  rcvHeadOff = 0;
  rcvQueued = 0;
  private rcvAdvRight = WIDE_ZERO;
  /** rcvNxt when we last sent an ACK (tcp_sock.rcv_wup): what the peer has not heard of. */
  private rcvWup = WIDE_ZERO;
  /** The largest segment the peer sent (tcp_measure_rcv_mss), for silly window avoidance. */
  private rcvMss = 536;
  /** Segments past a hole, and where an out-of-order FIN sits. */
  readonly ooo = new OutOfOrderQueue();
  private oooFin: number | null = null;
  /** The peer's FIN arrived (Linux SOCK_DONE): reads end at the queue's end. */
  finReceived = false;
  shutdownBits = 0;
  /** sk_err: a hard error waiting for the application. */
  err = 0;
  /** sk_err_soft: an ICMP error while established (icmp_err.ts), for SO_ERROR and timeouts. */
  softErr = 0;
  /** IP_RECVERR / IPV6_RECVERR: ICMP errors are reported at once (icmp_err.ts). */
  recverr = false;
  /** sk_error_queue: a failed connect's ICMP report (icmp_err.ts). */
  readonly errQueue = new ErrQueue();
  /** Whether the connection ever got established (a later read sees EOF, not ENOTCONN). */
  wasConnected = false;

  /** The owner's socket filter (SO_ATTACH_FILTER), run on each segment for it; a connection
   *  takes its listener's until accept() gives it a socket. */
  filter: FilterSlot | null = null;
  /** TCP_LINGER2 (tp->linger2): how long an orphaned FIN_WAIT2 waits, in ms; < 0 resets it. */
  finTimeoutMs = FIN_TIMEOUT_MS;

  // --- listening ---
  backlog = 0;
  /** TCP_DEFER_ACCEPT as SYN-ACK retransmissions (rskq_defer_accept): a bare ACK before that
   *  many is dropped, the connection waits for data. */
  deferAccept = 0;
  /** A bare ACK was dropped for TCP_DEFER_ACCEPT (inet_rsk(req)->acked). */
  private deferAcked = false;
  readonly acceptQueue: TcpEndpoint[] = [];
  readonly synQueue = new Set<TcpEndpoint>();
  listener: TcpEndpoint | null = null;

  // --- timers ---
  private readonly rtx = new TcpTimer(() => this.onRetransmitTimer());
  private readonly lifeTimer = new TcpTimer(() => this.destroy());
  readonly rtt = new RtoEstimator();
  /** The congestion window and its algorithm (TCP_CONGESTION). */
  readonly cc: CongestionControl;
  /** TCP_CONGESTION chose the algorithm (icsk_ca_setsockopt): a listener's connections take
   *  it; otherwise they take the stack's default when the SYN comes (tcp_ca_openreq_child). */
  private ccChosen = false;
  readonly keepalive = new Keepalive(this);
  /** Urgent data, both directions (urgent.ts). */
  readonly urg = new TcpUrgent(this);
  /** RFC 7323 timestamps and PAWS (timestamps.ts). */
  readonly ts: TcpTimestamps;
  private retries = 0;
  /** When the retransmission timer last sent (performance.now() ms). */
  private lastRtxAt = WIDE_ZERO;
  ackNeeded = false;
  /** The time (performance.now() ms) of the segment being handled, or of the output under
   *  way: the clock is read once for the work of each (Linux's tcp_mstamp), not by every
   *  timer, timestamp and RTT sample it touches. */
  private now = WIDE_ZERO;
  /** The ACK of an interactive exchange rides on the answer (delayed_ack.ts). */
  readonly delack = new DelayedAck(() => this.onDelackTimer());

  // TCP_INFO counters
  segsOut = 0;
  segsIn = 0;
  retransmits = 0;
  totalRetrans = 0;
  bytesAcked = WIDE_ZERO;
  bytesReceived = WIDE_ZERO;

  constructor(readonly stack: Stack, v6: boolean) {
    this.v6 = v6;
    this.ts = new TcpTimestamps();
    this.cc = new CongestionControl(newCongestionOps(defaultCcOf(stack)), this);
  }

  /** TCP_CONGESTION on this connection (tcp_set_congestion_control): the named algorithm
   *  takes the window as it is; the one in use already is left alone. */
  setCongestion(name: string): void {
    this.ccChosen = true;
    if (name !== this.cc.ops.name) this.cc.setOps(newCongestionOps(name));
  }

  private emit(mask: number): void { this.owner?.notify(mask); }

  // --- queues seen by the socket ---

  /** Bytes written and not yet acknowledged (sent or not). */
  get sndQueued(): number { return this.sndQueue.bytes; }

  /** Room in the send buffer. */
  get sndSpace(): number { return Math.max(0, this.sndBufSize - this.sndQueued); }

  enqueue(data: Uint8Array): void {
    if (data.length === 0) return;
    // Chunks of a segment's size, so that segments go out as views of them.
    this.sndQueue.append(data, this.sndMss);
  }

  /** Queue len bytes that fill copies straight into the send chunks (tcp_sendmsg's copy from
   *  the application); a short fill (a fault) ends it. Returns the bytes queued. */
  enqueueFrom(len: number, fill: Fill): number {
    return len > 0 ? this.sndQueue.appendFrom(len, this.sndMss, fill) : 0;
  }

  /** Queue a send chunk the caller filled (send_queue.ts adopt): len bytes after HEADROOM. */
  enqueueChunk(chunk: Uint8Array, len: number): void {
    if (len > 0) this.sndQueue.adopt(chunk, len);
  }

  /** Copy up to dst.length bytes of the receive queue into dst (taking them unless peeking);
   *  returns how many. */
  readInto(dst: Uint8Array, peek: boolean): number {
    let at = 0;
    return this.readTo(dst.length, peek, (v) => { dst.set(v, at); at += v.length; return v.length; });
  }

  /** Hand up to max bytes of the receive queue to put, view by view (tcp_recvmsg's copy to
   *  the application: the one copy of a read); put returns how many of a view it took, and a
   *  short take (a fault) ends it. What was taken is consumed unless peeking; returns it. A
   *  view is only valid during the call: its buffer may be recycled once consumed. */
  readTo(max: number, peek: boolean, put: (view: Uint8Array) => number): number {
    const n = Math.min(max, this.rcvQueued);
    let at = 0;
    let off = this.rcvHeadOff;
    for (let i = 0; at < n; i++) {
      const c = this.rcvQueue[i];
      const k = Math.min(c.length - off, n - at);
      const got = put(off === 0 && k === c.length ? c : c.subarray(off, off + k));
      at += got;
      off = 0;
      if (got < k) break;
    }
    if (!peek && at > 0) this.consume(at);
    return at;
  }

  /** Take (or, peeking, copy) up to max bytes from the receive queue. */
  read(max: number, peek: boolean): Uint8Array {
    const n = Math.min(max, this.rcvQueued);
    if (n === 0) return new Uint8Array(0);
    const first = this.rcvQueue[0];
    let out: Uint8Array;
    if (first.length - this.rcvHeadOff >= n) {
      // A view of a pooled chunk must not outlive the queue's hold on it.
      out = chunkPool.owns(first) ? first.slice(this.rcvHeadOff, this.rcvHeadOff + n) : first.subarray(this.rcvHeadOff, this.rcvHeadOff + n);
    } else {
      out = new Uint8Array(n);
      let at = 0;
      let off = this.rcvHeadOff;
      for (let i = 0; at < n; i++) {
        const c = this.rcvQueue[i];
        const k = Math.min(c.length - off, n - at);
        out.set(c.subarray(off, off + k), at);
        at += k;
        off = 0;
      }
    }
    if (!peek) this.consume(n);
    return out;
  }

  private consume(n: number): void {
    this.rcvQueued -= n;
    while (n > 0) {
      const c = this.rcvQueue[0];
      const avail = c.length - this.rcvHeadOff;
      if (n >= avail) {
        chunkPool.release(c.buffer);
        this.rcvQueue.shift();
        this.rcvHeadOff = 0;
        n -= avail;
      } else {
        this.rcvHeadOff += n;
        n = 0;
      }
    }
    // tcp_cleanup_rbuf: tell the peer when the window opened by a useful amount — by two
    // segments or half the buffer, or to at least twice what it has left of the last offer
    // once that is below half the buffer (a sender holding back a segment the small window
    // would cut must hear of the room the reader just made: nothing else would tell it).
    if (synchronized(this.state) && !this.finReceived) {
      const wnd = this.rcvWindow();
      const left = Math.max(0, seqDiff(this.rcvAdvRight, this.rcvNxt));
      const moved = seqDiff(seqAdd(this.rcvNxt, wnd), this.rcvAdvRight);
      if (moved >= Math.min(2 * this.sndMss, this.rcvBufSize >> 1) || (moved > 0 && 2 * left <= this.rcvBufSize && wnd >= 2 * left)) this.sendAck();
    }
  }

  /** The window to offer (__tcp_select_window): the free space up to TCP_WINDOW_CLAMP, but
   *  none while it is below both a segment and half the buffer (receiver-side silly window
   *  avoidance, RFC 1122 §4.2.3.3), and never less than offered before (the right edge does
   *  not move back). */
  private rcvWindow(): number {
    const free = Math.max(0, this.rcvBufSize - this.rcvQueued);
    let w = this.windowClamp > 0 && this.windowClamp < free ? this.windowClamp : free;
    if (free < this.rcvBufSize >> 1 && (free < this.rcvBufSize >> 4 || free < this.rcvMss)) w = 0;
    const max = 0xffff << this.rcvWscale;
    const offered = seqDiff(this.rcvAdvRight, this.rcvNxt);
    if (offered > w && offered <= max) w = offered;
    return Math.min(w, max);
  }

  // --- connecting ---

  /** Active open: local and remote set and registered by the caller; send the SYN. */
  connect(): void {
    if (this.local && this.remote) {
      this.iss = this.stack.newIss(this.local, this.lport, this.remote, this.rport);
      this.ts.bind(this.stack, this.local, this.remote);
    }
    this.sndUna = this.iss;
    this.sndSml = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.state = TCPS.SYN_SENT;
    this.rcvWscale = this.synWscale();
    mibOf(this.stack).tcpActiveOpens++;
    this.sendSyn(false);
  }

  listen(backlog: number): void {
    this.backlog = backlog;
    this.state = TCPS.LISTEN;
  }

  /** tcp_select_initial_window's scale: for the buffer, or the clamp when that is smaller. */
  private synWscale(): number {
    const c = this.windowClamp;
    return rcvWscaleFor(c > 0 && c < this.rcvBufSize ? c : this.rcvBufSize);
  }

  private ourMss(): number {
    const mss = this.stack.mssFor(this.v6);
    return this.userMss > 0 ? Math.min(this.userMss, mss) : mss;
  }

  private sendSyn(ack: boolean): void {
    const o: TCPOut = {
      srcPort: this.lport, dstPort: this.rport, seq: this.iss, ack: ack ? this.rcvNxt : WIDE_ZERO,
      flags: TH_SYN | (ack ? TH_ACK : 0), window: Math.min(this.rcvWindow(), 0xffff), mss: this.ourMss(),
      wscale: ack && !this.wscaleOk ? undefined : this.rcvWscale,
      // A SYN offers SACK; a SYN-ACK answers the offer.
      sackOk: ack ? this.sackOk : this.sackEnabled, ts: this.ts.forSyn(this.stack, ack),
    };
    this.transmit(o, null, 0, 0);
    this.rtx.armIfIdle(this.rtt.rto);
  }

  /** A SYN reached this listener: make the embryonic connection (tcp_conn_request). */
  private onListenSyn(seg: TCPSegment, src: IPAddr, dst: IPAddr): void {
    // sk_acceptq_is_full: the SYN is dropped and the client retransmits it.
    if (this.acceptQueue.length + this.synQueue.size > this.backlog) return;
    const c = new TcpEndpoint(this.stack, dst.length === 16);
    c.local = dst.slice();
    c.lport = this.lport;
    c.remote = src.slice();
    c.rport = seg.srcPort;
    c.listener = this;
    c.nodelay = this.nodelay;
    c.ttl = this.ttl;
    c.tos = this.tos;
    c.sndBufSize = this.sndBufSize;
    c.rcvBufSize = this.rcvBufSize;
    c.userMss = this.userMss;
    c.windowClamp = this.windowClamp;
    c.sackEnabled = this.sackEnabled;
    c.filter = this.filter;
    if (this.ccChosen) c.setCongestion(this.cc.ops.name);
    this.stack.attachChild(this, c);
    c.irs = seg.seq;
    c.rcvNxt = seqAdd(seg.seq, 1);
    c.rcvAdvRight = c.rcvNxt; // nothing offered yet
    c.ts.bind(this.stack, dst, src);
    c.takeSynOptions(seg);
    c.iss = this.stack.newIss(dst, this.lport, src, seg.srcPort);
    c.sndUna = c.iss;
    c.sndSml = c.iss;
    c.sndNxt = seqAdd(c.iss, 1);
    c.sndMax = c.sndNxt;
    c.state = TCPS.SYN_RECV;
    mibOf(this.stack).tcpPassiveOpens++;
    this.stack.registerConn(c);
    this.synQueue.add(c);
    c.sendSyn(true);
  }

  private takeSynOptions(seg: TCPSegment): void {
    this.sndMss = seg.mss > 0 ? Math.min(seg.mss, this.ourMss()) : 536;
    if (seg.wscale >= 0) {
      this.wscaleOk = true;
      this.sndWscale = seg.wscale;
      if (this.state !== TCPS.SYN_SENT) this.rcvWscale = this.synWscale();
    } else {
      this.wscaleOk = false;
      this.sndWscale = 0;
      this.rcvWscale = 0;
    }
    this.sndWnd = seg.window; // never scaled in a SYN
    this.sndWl1 = seg.seq;
    this.sackOk = seg.sackOk && this.sackEnabled;
    this.ts.takeSyn(this.stack, seg, this.state === TCPS.SYN_SENT);
    if (this.ts.ok) this.sndMss -= TCPOLEN_TSTAMP_ALIGNED;
  }

  private established(): void {
    // tcp_init_transfer: the algorithm starts from the connection's sequence space.
    this.cc.init();
    this.state = TCPS.ESTABLISHED;
    this.wasConnected = true;
    this.retries = 0;
    this.rtx.cancel();
    this.keepalive.restart();
  }

  // --- input (tcp_rcv_state_process) ---

  input(seg: TCPSegment, src: IPAddr, dst: IPAddr): void {
    this.segsIn++;
    this.now = performance.now();
    this.keepalive.heard(this.now);
    switch (this.state) {
      case TCPS.LISTEN:
        if (seg.flags & TH_RST) return;
        if (seg.flags & TH_ACK) { this.stack.sendReset(seg, dst, src); return; }
        if (seg.flags & TH_SYN) this.onListenSyn(seg, src, dst);
        return;
      case TCPS.SYN_SENT:
        this.inputSynSent(seg, src, dst);
        return;
      case TCPS.CLOSE:
        return;
      default:
        this.inputSynchronized(seg, src, dst);
    }
  }

  private inputSynSent(seg: TCPSegment, src: IPAddr, dst: IPAddr): void {
    const f = seg.flags;
    if (f & TH_ACK) {
      if (seqLE(seg.ack, this.iss) || seqGT(seg.ack, this.sndNxt)) {
        if (!(f & TH_RST)) this.stack.sendReset(seg, dst, src);
        return;
      }
    }
    if (f & TH_RST) {
      if (f & TH_ACK) this.reset(ECONNREFUSED);
      return;
    }
    if (!(f & TH_SYN)) return;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.rcvAdvRight = this.rcvNxt; // nothing offered yet
    this.takeSynOptions(seg);
    if (f & TH_ACK) {
      this.sndUna = seg.ack;
      this.rtt.acked(seg.ack, seqGE, this.now);
      this.established();
      this.sendAck(this.now);
      this.emit(POLLOUT);
      this.output(this.now);
    } else {
      // Simultaneous open.
      this.state = TCPS.SYN_RECV;
      this.sendSyn(true);
    }
  }

  /** A segment for the connection in TIME_WAIT (time_wait.ts). */
  private inputTimeWait(seg: TCPSegment, src: IPAddr, dst: IPAddr): void {
    const v = timeWaitVerdict(seg, {
      rcvNxt: this.rcvNxt, tsRecent: this.ts.recent, tsRecentAt: this.ts.recentAt, now: this.now, tsOk: this.ts.ok,
    });
    switch (v) {
      case 'drop': return;
      case 'kill': this.destroy(); return;
      case 'rearm':
        this.lifeTimer.arm(TIME_WAIT_MS);
        if (seg.tsVal !== null && this.ts.ok) this.ts.store(seg.tsVal, this.now);
        return;
      case 'syn': {
        // tcp_v4_rcv's TCP_TW_SYN: a listener (or the NAT's forwarder) takes it, with an ISN
        // past the old sequence space; without one the SYN is answered as any other here.
        if (this.stack.canReopen(seg.dstPort, dst)) {
          const isn = (seqAdd(this.sndMax, 65535 + 2) >>> 0) || 1;
          this.destroy();
          this.stack.reopen(seg, src, dst, isn);
          return;
        }
        this.oowAck();
        return;
      }
      case 'ack-rearm': this.lifeTimer.arm(TIME_WAIT_MS); this.oowAck(); return;
      case 'ack': this.oowAck(); return;
    }
  }

  /** RFC 9293 §3.10.7.4 first check: does the segment fall in the receive window? With the
   *  window closed, a segment starting at rcv.nxt still counts (tcp_sequence): its ACK is taken
   *  and its data dropped (tcp_data_queue's zero-window drop), as RFC 9293 asks for "valid
   *  ACKs" — a sender's FIN into our closed window would otherwise hide every ACK behind it. */
  private acceptable(seg: TCPSegment, segLen: number): boolean {
    const wnd = this.rcvWindow();
    const seq = seg.seq;
    if (segLen === 0) {
      if (wnd === 0) return seq === this.rcvNxt;
      return seqGE(seq, this.rcvNxt) && seqLT(seq, seqAdd(this.rcvNxt, wnd));
    }
    if (wnd === 0) return seqLE(seq, this.rcvNxt) && seqGT(seqAdd(seq, segLen), this.rcvNxt);
    const end = seqAdd(seq, segLen - 1);
    const right = seqAdd(this.rcvNxt, wnd);
    return (seqGE(seq, this.rcvNxt) && seqLT(seq, right)) || (seqGE(end, this.rcvNxt) && seqLT(end, right));
  }

  private inputSynchronized(seg: TCPSegment, src: IPAddr, dst: IPAddr): void {
    const f = seg.flags;
    const segLen = seg.data.length + (f & TH_SYN ? 1 : 0) + (f & TH_FIN ? 1 : 0);
    if (this.state === TCPS.TIME_WAIT) { this.inputTimeWait(seg, src, dst); return; }
    // PAWS: an old timestamp drops the segment (a reset is still taken).
    const pureDup = segLen === 0 && seg.seq === this.rcvNxt && seg.ack === this.sndUna && (seg.window << this.sndWscale) === this.sndWnd;
    if (!(f & TH_RST) && this.ts.pawsReject(seg, pureDup, this.rtt.rto)) {
      this.oowAck();
      return;
    }
    if (!this.acceptable(seg, segLen)) {
      // Data always gets its duplicate ACK; a bare ACK or SYN only at the rate limit (two
      // ends disagreeing about the window must not ACK each other forever).
      // A window or keep-alive probe (one below rcv.nxt) is always answered: the sender's
      // persist and keep-alive timers back off waiting for that answer.
      if (!(f & TH_RST)) {
        if ((seg.data.length > 0 && !(f & TH_SYN)) || seqAdd(seg.seq, 1) === this.rcvNxt) this.sendAck();
        else this.oowAck();
      }
      return;
    }
    if (f & TH_RST) {
      // RFC 5961: only the exact next sequence number resets; others get a challenge ACK.
      if (seg.seq !== this.rcvNxt) { this.oowAck(); return; }
      if (this.state === TCPS.SYN_RECV && this.listener) { this.destroy(); return; }
      this.reset(this.state === TCPS.CLOSE_WAIT ? EPIPE : ECONNRESET);
      return;
    }
    if (f & TH_SYN) {
      this.oowAck();
      return;
    }
    this.ts.received(seg, this.rcvNxt, this.now);
    if (!(f & TH_ACK)) return;
    // Data into a closed window is dropped (and ACKed below); a bare FIN is taken, as Linux
    // takes it since 6.8: it needs no room.
    const zeroWindowDrop = seg.data.length > 0 && this.rcvWindow() === 0;

    if (this.state === TCPS.SYN_RECV) {
      if (seqLE(seg.ack, this.sndUna) || seqGT(seg.ack, this.sndMax)) {
        this.stack.sendReset(seg, dst, src);
        return;
      }
      // tcp_check_req: while TCP_DEFER_ACCEPT lasts, a bare ACK does not complete the
      // connection; the SYN-ACK timer gives it one more chance at the end.
      const l0 = this.listener;
      if (l0 && this.retries < l0.deferAccept && seg.data.length === 0 && !(f & TH_FIN)) {
        this.deferAcked = true;
        return;
      }
      this.sndUna = seg.ack;
      this.sndWnd = seg.window << this.sndWscale;
      this.sndWl1 = seg.seq;
      this.rtt.acked(seg.ack, seqGE, this.now);
      this.established();
      const l = this.listener;
      if (l) {
        l.synQueue.delete(this);
        if (l.state !== TCPS.LISTEN) { this.abort(); return; }
        l.acceptQueue.push(this);
        l.emit(POLLIN);
      }
    } else if (!this.processAck(seg)) {
      return;
    }
    if (this.state === TCPS.CLOSE) return;
    if ((f & TH_URG) || this.urg.data === URG_NOTYET) this.urg.input(seg);

    // Data (tcp_data_queue), in order only.
    let data = seg.data;
    let seq = seg.seq;
    let ackedNow = false;
    if (data.length > 0 && !zeroWindowDrop) {
      if (data.length > this.rcvMss) this.rcvMss = Math.min(data.length, this.ourMss());
      if (this.state === TCPS.ESTABLISHED || this.state === TCPS.FIN_WAIT1 || this.state === TCPS.FIN_WAIT2) {
        if (this.shutdownBits & RCV_SHUTDOWN && this.orphan) {
          // Data for a closed socket: the peer must learn nobody will read it.
          this.abort();
          return;
        }
        if (seqLT(seq, this.rcvNxt)) {
          const skip = seqDiff(this.rcvNxt, seq);
          data = data.subarray(Math.min(skip, data.length));
          seq = this.rcvNxt;
          // All of it again: the peer missed our ACK, which goes out at once (tcp_data_queue
          // enters quick-ACK mode for a retransmission).
          if (data.length === 0) this.delack.missed();
        }
        if (seq === this.rcvNxt && data.length > 0) {
          data = data.subarray(this.append(data));
          // The hole is filled: what waited behind it follows (tcp_ofo_queue).
          if (data.length === 0 && !this.ooo.empty) {
            for (const d of this.ooo.takeContiguous(this.rcvNxt)) if (this.append(d) < d.length) break;
            if (this.oooFin !== null && this.oooFin === this.rcvNxt) this.receiveFin();
            else this.sendAck();
            ackedNow = true;
          }
        } else if (seqGT(seq, this.rcvNxt) && data.length > 0) {
          // Past a hole: keep it if it fits, and say at once what we miss (a duplicate ACK
          // carrying SACK blocks, tcp_data_queue_ofo).
          if (data.length <= this.rcvBufSize - this.rcvQueued - this.ooo.bytes) {
            this.ooo.insert(seq, data.slice());
            mibOf(this.stack).tcpOfoQueue++;
            if (f & TH_FIN) this.oooFin = seqAdd(seq, data.length);
          }
          this.sendAck(this.now);
          this.output(this.now);
          return;
        }
        if (!ackedNow) this.ackData();
      }
    }
    // FIN, once everything before it is in.
    if ((f & TH_FIN) && data.length === 0 && seqAdd(seg.seq, seg.data.length) === this.rcvNxt && !this.finReceived) {
      this.receiveFin();
    } else if (segLen > 0 && data.length > 0) {
      // Data we could not take (out of order or beyond the window): say where we are.
      this.sendAck(this.now);
    }
    this.output(this.now);
  }

  /** __tcp_ack_snd_check for in-order data: the ACK goes out at the end of the batch, or
   *  waits for this end's answer while the exchange is interactive and no more than a full
   *  segment is unacknowledged. */
  private ackData(): void {
    if (this.delack.pingpong && this.ooo.empty && seqDiff(this.rcvNxt, this.rcvWup) <= this.rcvMss) {
      this.ackNeeded = true;
      this.delack.schedule(this.now);
      this.stack.delayedAcks.add(this);
      return;
    }
    this.stack.ackLater(this);
  }

  /** The delayed ACK's timer: no answer came in time to carry it (tcp_delack_timer_handler). */
  private onDelackTimer(): void {
    if (!this.ackNeeded) return;
    this.delack.missed();
    this.sendAck();
    this.stack.flush();
  }

  /** The delayed ACK, if its time has come (Stack.sendDueDelayedAcks). */
  delayedAckDue(now: number): void {
    if (this.ackNeeded && this.delack.due(now)) {
      this.delack.missed();
      this.sendAck(now);
    }
  }

  /** TCP_QUICKACK (__tcp_sock_set_quickack): 0 delays ACKs as an interactive exchange does;
   *  otherwise an owed ACK goes out now, and bit 0 clear delays the next ones again. */
  setQuickack(v: number): void {
    if (v === 0) { this.delack.setQuick(false); return; }
    this.delack.setQuick(true);
    if (this.ackNeeded && this.delack.pending && (this.state === TCPS.ESTABLISHED || this.state === TCPS.CLOSE_WAIT)) {
      this.sendAck();
      if (!(v & 1)) this.delack.setQuick(false);
    }
  }

  /** Append in-order data to the receive queue, as much as the buffer takes; returns how much. */
  private append(data: Uint8Array): number {
    const n = Math.min(data.length, Math.max(this.rcvBufSize - this.rcvQueued, 0));
    if (n > 0) {
      let d = n === data.length ? data : data.subarray(0, n);
      // A view pins its whole packet (or the sender's chunk): keep a small part of a large
      // buffer as a copy, so held memory stays near what the window counts (tcp_collapse).
      if (d.length * 2 < d.buffer.byteLength) d = this.keepCopy(d);
      else chunkPool.retain(d);
      this.rcvQueue.push(d);
      this.rcvQueued += n;
      this.rcvNxt = seqAdd(this.rcvNxt, n);
      this.bytesReceived += n;
      this.delack.received(this.now);
      this.emit(POLLIN);
    }
    return n;
  }

  /** A copy of received data the receive queue keeps (small ones in its slab). */
  private keepCopy(d: Uint8Array): Uint8Array {
    if (d.length > SLAB_MAX_REGION) return d.slice();
    const c = this.rcvSlab.take(d.length);
    c.set(d);
    return c;
  }

  /** The peer's FIN, once everything before it is in (tcp_fin). */
  private receiveFin(): void {
    if (this.finReceived) return;
    this.oooFin = null;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.finReceived = true;
    this.shutdownBits |= RCV_SHUTDOWN;
    switch (this.state) {
      case TCPS.SYN_RECV: case TCPS.ESTABLISHED: this.state = TCPS.CLOSE_WAIT; break;
      case TCPS.FIN_WAIT1: this.state = TCPS.CLOSING; break;
      case TCPS.FIN_WAIT2: this.enterTimeWait(); break;
    }
    this.sendAck();
    this.emit(POLLIN | POLLRDHUP | POLLHUP);
  }

  /** The ACK field of a synchronized-state segment; false: drop the rest. */
  private processAck(seg: TCPSegment): boolean {
    if (seqGT(seg.ack, this.sndMax)) {
      this.oowAck();
      return false;
    }
    const newSack = this.takeSack(seg);
    // RFC 5681: nothing new acknowledged, no data, same window, data outstanding.
    const dup = seg.ack === this.sndUna && seg.data.length === 0 && !(seg.flags & (TH_SYN | TH_FIN))
      && this.sndMax !== this.sndUna && ((seg.window << this.sndWscale) === this.sndWnd || newSack);
    const ackedNew = seqGT(seg.ack, this.sndUna);
    if (ackedNew) {
      let acked = seqDiff(seg.ack, this.sndUna);
      let finAcked = false;
      if (seqGT(seg.ack, this.sndNxt)) {
        // What went out before a timeout took sndNxt back arrived after all (BSD tcp_input).
        this.sndNxt = seg.ack;
        if (this.finQueued && seg.ack === seqAdd(this.sndUna, this.sndQueued + 1)) {
          this.finSeq = seqAdd(seg.ack, -1);
          this.finSent = true;
        }
      }
      if (this.finSent && seg.ack === seqAdd(this.finSeq, 1)) {
        acked -= 1;
        finAcked = true;
      }
      this.dropAcked(acked);
      this.bytesAcked += acked;
      this.sndUna = seg.ack;
      this.sacked.pruneBelow(this.sndUna);
      this.congestionOnAck(acked);
      const r = this.rtt.acked(seg.ack, seqGE, this.now);
      if (r === null) {
        // A retransmitted segment has no sample of its own; its echoed timestamp does.
        const e = this.ts.rttSample(seg, this.now);
        if (e !== null) this.rtt.sample(e);
      }
      // The congestion control hears only the timed segment's sample: an echo counts whole
      // milliseconds, too coarse for HyStart's least RTT.
      this.cc.acked(r, this.now);
      this.retries = 0;
      this.retransmits = 0;
      if (this.sndUna === this.sndMax) this.rtx.cancel();
      else this.rtx.arm(this.rtt.rto, this.now);
      if (acked > 0) this.emit(POLLOUT);
      if (finAcked) {
        switch (this.state) {
          case TCPS.FIN_WAIT1:
            this.state = TCPS.FIN_WAIT2;
            if (this.orphan) { this.finWait2(); if (this.state === TCPS.CLOSE) return false; }
            break;
          case TCPS.CLOSING: this.enterTimeWait(); break;
          case TCPS.LAST_ACK: this.destroy(); return false;
        }
      }
    }
    if (dup) this.onDupAck();
    // The window update rule as Linux has it (tcp_may_update_window): a segment that acknowledges
    // something new, or is newer, or else only a larger window. RFC 9293's rule also takes a
    // smaller window from a segment with the same sequence and acknowledgment numbers: an older
    // ACK that overtook the latest then closes a window the receiver had opened.
    const nwin = seg.window << this.sndWscale;
    if (ackedNew || seqLT(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && nwin > this.sndWnd)) {
      const opened = nwin > this.sndWnd;
      this.sndWnd = nwin;
      this.sndWl1 = seg.seq;
      if (opened && this.sndWnd > 0 && this.sndUna === this.sndMax) this.rtx.cancel();
    }
    return true;
  }

  /** Record the SACK blocks of an ACK (within what we sent); true if they told us anything. */
  private takeSack(seg: TCPSegment): boolean {
    if (!this.sackOk || seg.sack.length === 0) return false;
    const before = this.sacked.bytes();
    for (let i = 0; i + 1 < seg.sack.length; i += 2) {
      let start = seg.sack[i];
      const end = seg.sack[i + 1];
      if (!seqGT(end, this.sndUna) || seqGT(end, this.sndMax) || !seqLT(start, end)) continue;
      if (seqLT(start, this.sndUna)) start = this.sndUna;
      this.sacked.add(start, end);
    }
    return this.sacked.bytes() !== before;
  }

  private flightSegs(): number { return Math.ceil(seqDiff(this.sndNxt, this.sndUna) / Math.max(this.sndMss, 1)); }

  /** New data acknowledged: grow the window, or go on with (or leave) recovery. */
  private congestionOnAck(acked: number): void {
    const segs = Math.max(1, Math.ceil(acked / Math.max(this.sndMss, 1)));
    if (!this.cc.inRecovery) { this.cc.onAck(segs, this.sndUna, this.now); return; }
    if (seqGE(this.sndUna, this.cc.recover)) { this.cc.exitRecovery(); return; }
    // A partial ACK: the next hole is lost too (RFC 6582); SACK may know it was sent again.
    this.cc.partialAck(segs);
    if (!this.sackOk || seqLT(this.rtxHigh, this.sndUna)) this.rtxHigh = this.sndUna;
    this.retransmitHole(true);
  }

  private onDupAck(): void {
    if (this.cc.onDupAck(this.flightSegs(), this.sndNxt)) {
      const mib = mibOf(this.stack);
      mib.tcpFastRetrans++;
      if (this.sackOk) mib.tcpSackRecovery++;
      else mib.tcpRenoRecovery++;
      this.rtxHigh = this.sndUna;
      this.retransmitHole(true);
    } else if (this.cc.inRecovery && this.sackOk) {
      this.retransmitHole(false);
    }
  }

  /** Retransmit the first segment's worth of the first hole past rtxHigh that the peer has
   *  not SACKed (or the FIN). Unless forced (the hole three duplicates or a partial ACK
   *  point at), only a hole the peer has SACKed DupThresh segments beyond is taken for lost
   *  (RFC 6675 IsLost): what was just sent past the SACKed data is not. */
  private retransmitHole(force: boolean): void {
    let h = seqGT(this.rtxHigh, this.sndUna) ? this.rtxHigh : this.sndUna;
    for (let r = this.sacked.holding(h); r; r = this.sacked.holding(h)) h = r.end;
    if (!force && this.sackedAbove(h) < DUPACK_THRESHOLD * this.sndMss) return;
    const dataEnd = this.finSent ? this.finSeq : this.sndNxt;
    if (seqLT(h, dataEnd)) {
      const next = this.sacked.nextAfter(h);
      const limit = next && seqLT(next.start, dataEnd) ? next.start : dataEnd;
      const n = Math.min(this.sndMss, seqDiff(limit, h));
      this.transmit(this.dataSeg(h, TH_ACK), this.sndQueue, seqDiff(h, this.sndUna), n);
      this.rtxHigh = seqAdd(h, n);
    } else if (this.finSent && h === this.finSeq) {
      this.transmit(this.dataSeg(h, TH_ACK | TH_FIN), null, 0, 0);
      this.rtxHigh = seqAdd(h, 1);
    } else {
      return;
    }
    this.retransmits++;
    this.totalRetrans++;
    mibOf(this.stack).tcpRetransSegs++;
    this.rtt.discard();
    this.rtx.arm(this.rtt.rto);
  }

  private sackedAbove(seq: number): number {
    let n = 0;
    for (const r of this.sacked.ranges) if (seqGT(r.end, seq)) n += seqDiff(r.end, seqGT(r.start, seq) ? r.start : seq);
    return n;
  }

  private dropAcked(n: number): void { this.sndQueue.dropAcked(n); }

  // --- output ---

  /** Send what the window, Nagle and the state allow (tcp_write_xmit); now: the clock as
   *  the caller read it, if it just did. */
  output(now = performance.now()): void {
    const s = this.state;
    if (s !== TCPS.ESTABLISHED && s !== TCPS.CLOSE_WAIT && s !== TCPS.FIN_WAIT1 && s !== TCPS.CLOSING && s !== TCPS.LAST_ACK) return;
    this.now = now;
    if (this.sndWnd > this.maxSndWnd) this.maxSndWnd = this.sndWnd;
    const idle = this.sndNxt === this.sndUna;
    let sent = false;
    for (;;) {
      const inflight = seqDiff(this.sndNxt, this.sndUna) - (this.finSent ? 1 : 0);
      const unsent = this.sndQueued - inflight;
      if (unsent <= 0) break;
      const wndLeft = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
      // The congestion window, in whole segments: what is in the network (sent, not
      // acknowledged, not SACKed) stays below cwnd segments.
      if (inflight - this.sacked.bytes() >= this.cc.cwnd * this.sndMss) break;
      // A segment a window cut short is followed by one that ends where its chunk does, so
      // later segments are views of whole chunks again (send_queue.ts).
      const n = Math.min(unsent, this.sndMss, wndLeft, this.sndQueue.segmentLimit(inflight));
      if (n <= 0) {
        // Zero window: probe it later (the persist timer shares the retransmission timer).
        if (this.sndUna === this.sndNxt) this.rtx.armIfIdle(this.rtt.rto, now);
        break;
      }
      // Sender-side silly window avoidance (RFC 1122 §4.2.3.4, tcp_snd_wnd_test with the MSS
      // bounded by half the largest window seen): a segment the window would cut below that
      // waits for the window to open — for the ACKs of what is in flight, or the receiver's
      // update when its reader makes room, with the persist timer to probe for it.
      if (n === wndLeft && !this.persistProbe && n < Math.min(unsent, this.sndMss, this.maxSndWnd >> 1)) {
        if (inflight === 0) this.rtx.armIfIdle(this.rtt.rto, now);
        break;
      }
      // Nagle with Minshall's variant (tcp_nagle_check): hold a small segment while a small
      // one sent before is unacknowledged — a write's tail behind its full segments leaves at
      // once, as on Linux; TCP_CORK holds it regardless, until a full segment, the FIN or
      // uncorking — or until the probe timer (tcp_check_probe_timer: an RTO, 200 ms at least,
      // the man page's ceiling), when tcp_write_wakeup sends it.
      if (n < this.sndMss && n === unsent && !this.finQueued) {
        if (this.cork && !this.persistProbe) {
          if (inflight === 0) this.rtx.armIfIdle(Math.max(this.rtt.rto, TCP_RTO_MIN_MS));
          break;
        }
        if (!this.nodelay && inflight > 0 && this.smallUnacked()) break;
      }
      this.transmit(this.dataSeg(this.sndNxt, TH_ACK | (n === unsent ? TH_PSH : 0), now), this.sndQueue, inflight, n, now);
      this.rtt.start(seqAdd(this.sndNxt, n), now);
      this.advanceNxt(n);
      if (n < this.sndMss) this.sndSml = this.sndNxt; // tcp_minshall_update
      sent = true;
    }
    // Whether the window was what held the sender back (tcp_write_xmit's is_cwnd_limited):
    // only a window in use grows (congestion.ts).
    const limited = seqDiff(this.sndNxt, this.sndUna) - this.sacked.bytes() >= this.cc.cwnd * this.sndMss;
    if (sent) this.cc.sent(idle, now);
    if (sent || limited) this.cc.validate(limited, this.flightSegs(), this.sndUna, this.sndNxt, now, this.rtt.rto);
    if (this.finQueued && !this.finSent && seqDiff(this.sndNxt, this.sndUna) === this.sndQueued) {
      this.finSeq = this.sndNxt;
      this.finSent = true;
      this.transmit(this.dataSeg(this.sndNxt, TH_ACK | TH_FIN, now), null, 0, 0);
      this.advanceNxt(1);
    }
    if (this.sndMax !== this.sndUna) this.rtx.armIfIdle(this.rtt.rto, now);
  }

  /** tcp_minshall_check: a small segment sent is not acknowledged yet. */
  private smallUnacked(): boolean {
    return seqGT(this.sndSml, this.sndUna) && seqLE(this.sndSml, this.sndNxt);
  }

  private dataSeg(seq: number, flags: number, now?: number): TCPOut {
    return {
      srcPort: this.lport, dstPort: this.rport, seq, ack: this.rcvNxt, flags, window: this.rcvWindow() >> this.rcvWscale,
      sack: this.sackOk && !this.ooo.empty ? this.ooo.sackBlocks().slice(0, this.ts.ok ? 6 : 8) : undefined,
      urgPtr: this.urg.pointer(seq), ts: this.ts.forSegment(now),
    };
  }

  /** A duplicate or challenge ACK for an out-of-window segment, at most one per
   *  oowRateLimitMs (tcp_oow_rate_limited, net.ipv4.tcp_invalid_ratelimit). */
  private oowAck(): void {
    const now = performance.now();
    if (now - this.lastOowAck < this.oowRateLimitMs) return;
    this.lastOowAck = now;
    this.sendAck();
  }

  /** A keep-alive probe: an old sequence number, so the peer answers with an ACK. */
  sendKeepaliveProbe(): void {
    this.transmit(this.dataSeg(seqAdd(this.sndUna, -1), TH_ACK), null, 0, 0);
  }

  sendAck(now?: number): void {
    if (!synchronized(this.state) && this.state !== TCPS.SYN_SENT) return;
    this.transmit(this.dataSeg(this.acceptableSeq(), TH_ACK, now), null, 0, 0);
  }

  /** tcp_acceptable_seq: a bare ACK carries the highest sequence number sent (after a timeout
   *  took sndNxt back, the peer may have taken more than sndNxt: an ACK from there would be
   *  left of its window and dropped), or the right edge of the peer's window when that is
   *  past it (a FIN sent into a closed window), so that the peer accepts it. */
  private acceptableSeq(): number {
    const wndEnd = seqAdd(this.sndUna, this.sndWnd);
    // Past the edge by less than the window's scaling unit is rounding, not a closed window.
    return seqGE(wndEnd, this.sndMax) || seqDiff(this.sndMax, wndEnd) < (1 << this.rcvWscale) ? this.sndMax : wndEnd;
  }

  /** Build a segment (header o, then len bytes of q starting off bytes past sndUna) and
   *  hand it to the network layer. */
  private transmit(o: TCPOut, q: SendQueue | null, off: number, len: number, now?: number): void {
    const local = this.local;
    const remote = this.remote;
    if (!local || !remote) return;
    const ipLen = this.stack.ipHeaderLen(this.v6);
    const hl = tcpHeaderLen(o);
    // Either way LINK_ROOM bytes of headroom come first (send_queue.ts), for the link's header.
    const pkt = q && len > 0 ? q.packet(ipLen + hl, off, len) : this.stack.headerPacket(LINK_ROOM, ipLen + hl);
    // The checksum is the stack's to make or offload (header/offload.ts).
    writeTCP(pkt.subarray(ipLen), o, local, remote, false);
    this.segsOut++;
    const mib = mibOf(this.stack);
    mib.tcpOutSegs++;
    if (o.flags & TH_RST) mib.tcpOutRsts++;
    if (len > 0) this.delack.sent(now ?? performance.now());
    if (o.flags & TH_ACK) {
      this.ackNeeded = false;
      this.stack.delayedAcks.delete(this);
      this.delack.sentAck();
      this.rcvWup = this.rcvNxt;
    }
    if (o.flags & TH_ACK) this.rcvAdvRight = seqAdd(this.rcvNxt, o.window << ((o.flags & TH_SYN) ? 0 : this.rcvWscale));
    this.stack.sendIP(pkt, local, remote, IPPROTO_TCP, this.ttl, this.tos, true, true);
  }

  /** tcp_ld_RTO_revert (RFC 6069): an ICMP unreachable quoting seq, the first unacknowledged
   *  byte, while it is being retransmitted: one backoff less, the timer re-armed for what is
   *  left of the shorter RTO since the last retransmission (or the retransmission now). */
  rtoRevert(seq: number): void {
    if (seq !== this.sndUna || this.retransmits === 0 || this.sndUna === this.sndMax) return;
    if (!this.rtt.revertBackoff()) return;
    const remaining = this.rtt.rto - (performance.now() - this.lastRtxAt);
    if (remaining > 0) this.rtx.arm(remaining);
    else this.onRetransmitTimer();
  }

  private onRetransmitTimer(): void {
    if (this.state === TCPS.CLOSE || this.state === TCPS.TIME_WAIT || this.state === TCPS.LISTEN) return;
    // An ACK due before this timeout goes first; it may acknowledge what was to be resent
    // (and re-arm or cancel this timer).
    this.stack.sendDueDelayedAcks(performance.now());
    if (this.rtx.armed || this.state === TCPS.CLOSE) return;
    if (this.sndUna === this.sndMax) {
      // Persist timer (tcp_write_wakeup): send what a small window takes, or probe a zero
      // window with an old sequence number; the reply ACK carries the window.
      if (this.sndQueued > 0 && synchronized(this.state)) {
        this.persistProbe = true;
        this.output();
        this.persistProbe = false;
        // tcp_send_probe0: data went out (a corked tail): the retransmission timer covers it.
        if (this.sndMax !== this.sndUna) return;
        if (this.sndUna === this.sndNxt) this.transmit(this.dataSeg(seqAdd(this.sndUna, -1), TH_ACK), null, 0, 0);
        this.rtt.backoff();
        this.rtx.arm(this.rtt.rto);
      }
      return;
    }
    this.retries++;
    const synAckLimit = this.deferAcked ? Math.max(TCP_SYNACK_RETRIES, this.listener?.deferAccept ?? 0) : TCP_SYNACK_RETRIES;
    const limit = this.state === TCPS.SYN_SENT ? TCP_SYN_RETRIES : this.state === TCPS.SYN_RECV ? synAckLimit : TCP_MAX_RETRIES;
    if (this.retries > limit) {
      mibOf(this.stack).tcpAbortOnTimeout++;
      this.reset(this.softErr || ETIMEDOUT);
      return;
    }
    this.retransmits++;
    this.totalRetrans++;
    const mib = mibOf(this.stack);
    mib.tcpTimeouts++;
    mib.tcpRetransSegs++;
    this.rtt.discard();
    this.rtt.backoff();
    if (this.state === TCPS.SYN_SENT) { this.sendSyn(false); return; }
    if (this.state === TCPS.SYN_RECV) {
      // syn_ack_recalc: an ACKed request waiting for data is not resent before the last round.
      const defer = this.listener?.deferAccept ?? 0;
      if (!this.deferAcked || this.retries - 1 >= defer - 1) this.sendSyn(true);
      else this.rtx.arm(this.rtt.rto);
      return;
    }
    this.lastRtxAt = performance.now();
    // Go back to the first unacknowledged byte, from a window of one segment (tcp_enter_loss).
    this.cc.onTimeout(this.flightSegs());
    this.sacked.clear();
    this.rtxHigh = this.sndUna;
    this.sndNxt = this.sndUna;
    this.finSent = false;
    this.rtx.arm(this.rtt.rto);
    this.output();
    if (this.sndNxt === this.sndUna) this.retransmitHead();
  }

  /** The first segment goes out after a timeout whatever the window (tcp_retransmit_skb lets
   *  the head past it): a window that looks closed — an ACK of an old, smaller one that
   *  overtook the latest, a receiver that shrank it — would otherwise leave the timer
   *  retransmitting nothing, and the peer, with nothing to answer, would never correct it. */
  private retransmitHead(): void {
    const n = Math.min(this.sndMss, this.sndQueued, this.sndQueue.segmentLimit(0));
    if (n <= 0) return;
    this.transmit(this.dataSeg(this.sndUna, TH_ACK), this.sndQueue, 0, n);
    this.advanceNxt(n);
  }

  /** n more sequence numbers sent. */
  private advanceNxt(n: number): void {
    this.sndNxt = seqAdd(this.sndNxt, n);
    if (seqGT(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
  }

  // --- closing ---

  /** shutdown(SHUT_WR) or close: queue the FIN after the data (tcp_shutdown/tcp_close_state). */
  shutdownSend(): void {
    if (this.shutdownBits & SEND_SHUTDOWN) return;
    this.shutdownBits |= SEND_SHUTDOWN;
    switch (this.state) {
      case TCPS.ESTABLISHED: this.state = TCPS.FIN_WAIT1; break;
      case TCPS.CLOSE_WAIT: this.state = TCPS.LAST_ACK; break;
      case TCPS.SYN_RECV: this.state = TCPS.FIN_WAIT1; break;
      default: return;
    }
    this.finQueued = true;
    this.output();
  }

  /** The socket is closed (tcp_close). */
  close(): void {
    this.owner = null;
    this.orphan = true;
    this.shutdownBits |= RCV_SHUTDOWN;
    switch (this.state) {
      case TCPS.LISTEN:
        for (const c of this.acceptQueue.splice(0)) c.abort();
        for (const c of [...this.synQueue]) c.abort();
        this.destroy();
        return;
      case TCPS.CLOSE: case TCPS.SYN_SENT:
        this.destroy();
        return;
    }
    // Unread data, or SO_LINGER with a zero timeout: reset instead of a graceful close.
    if (this.rcvQueued > 0 || this.linger0) {
      this.abort();
      return;
    }
    this.shutdownSend();
    if (this.state === TCPS.FIN_WAIT2) this.finWait2();
  }

  /** An orphan in FIN_WAIT2 (tcp_close, tcp_rcv_state_process): TCP_LINGER2 < 0 resets it at
   *  once, else it waits that long (at least 3.5 RTOs, tcp_fin_time) for the peer's FIN. */
  private finWait2(): void {
    if (this.finTimeoutMs < 0) { this.abort(); return; }
    const rto = this.rtt.rto;
    this.lifeTimer.arm(Math.max(this.finTimeoutMs, rto * 4 - rto / 2));
  }

  /** Send a RST and drop the connection (tcp_disconnect / tcp_send_active_reset). */
  abort(): void {
    // tcp_set_state(TCP_CLOSE) from ESTABLISHED or CLOSE_WAIT counts a reset.
    if (this.state === TCPS.ESTABLISHED || this.state === TCPS.CLOSE_WAIT) mibOf(this.stack).tcpEstabResets++;
    if (synchronized(this.state) && this.state !== TCPS.TIME_WAIT) {
      this.transmit({ srcPort: this.lport, dstPort: this.rport, seq: this.sndMax, ack: this.rcvNxt, flags: TH_RST | TH_ACK, window: 0 }, null, 0, 0);
    }
    this.listener?.synQueue.delete(this);
    this.destroy();
  }

  /** The connection died with err (tcp_reset, a timeout). */
  reset(err: number): void {
    const mib = mibOf(this.stack);
    if (this.state === TCPS.SYN_SENT || this.state === TCPS.SYN_RECV) mib.tcpAttemptFails++;
    else if (this.state === TCPS.ESTABLISHED || this.state === TCPS.CLOSE_WAIT) mib.tcpEstabResets++;
    this.err = err;
    this.destroy();
  }

  private enterTimeWait(): void {
    this.state = TCPS.TIME_WAIT;
    this.rtx.cancel();
    this.lifeTimer.arm(TIME_WAIT_MS);
  }

  /** tcp_done: CLOSE, out of every table, timers off, the socket told. */
  destroy(): void {
    this.state = TCPS.CLOSE;
    this.shutdownBits = RCV_SHUTDOWN | SEND_SHUTDOWN;
    this.rtx.cancel();
    this.lifeTimer.cancel();
    this.delack.stop();
    this.keepalive.stop();
    this.ooo.clear();
    this.sacked.clear();
    this.sndQueue.clear();
    this.stack.unregisterConn(this);
    this.stack.releasePort(this);
    this.emit(POLLIN | POLLOUT | POLLHUP | POLLERR | POLLRDHUP);
  }

  describe(): string {
    return `${this.local ? addrKey(this.local) : '*'}:${this.lport} -> ${this.remote ? addrKey(this.remote) : '*'}:${this.rport} state ${this.state}`;
  }

  /** Sequence and queue state for a hang report (--debug-log): what a stalled transfer waits on. */
  debugState(): string {
    const rel = (x: number, base: number): number => seqDiff(x, base);
    return `${this.describe()} snd una+${rel(this.sndUna, this.iss)} nxt+${rel(this.sndNxt, this.iss)} max+${rel(this.sndMax, this.iss)} wnd ${this.sndWnd}` +
      ` queued ${this.sndQueued}/${this.sndBufSize} cwnd ${this.cc.cwnd}x${this.sndMss} rtx ${this.rtx.armed ? 'armed' : 'idle'}` +
      ` fin ${this.finQueued ? 'q' : '-'}${this.finSent ? 's' : '-'} | rcv nxt+${rel(this.rcvNxt, this.irs)} queued ${this.rcvQueued}/${this.rcvBufSize}` +
      ` adv ${seqDiff(this.rcvAdvRight, this.rcvNxt)} wnd ${this.rcvWindow()} ooo ${this.ooo.empty ? 0 : 1} fin ${this.finReceived ? 1 : 0}` +
      ` ackNeeded ${this.ackNeeded ? 1 : 0} owner ${this.owner ? 1 : 0} orphan ${this.orphan ? 1 : 0}`;
  }
}
