// What a segment does to a connection in TIME_WAIT (Linux tcp_timewait_state_process, RFC 1122
// §4.2.2.13, RFC 7323 §5): PAWS first — a segment whose TSval is older than ts_recent is
// rejected (a RST too, unless ts_recent is older than TCP_PAWS_MSL); an in-window bare ACK
// restarts the wait and a RST there ends it (net.ipv4.tcp_rfc1337=0: "TIME_WAIT
// assassination"); a new SYN — a sequence number past the old connection's, or a newer
// timestamp — reopens the connection through the listener, with an ISN past everything the
// old incarnation sent; anything else gets an ACK (rate limited) and, if it was an ACK or
// failed PAWS, restarts the wait.

import { TH_ACK, TH_FIN, TH_RST, TH_SYN, type TCPSegment } from '../header/tcp';
import { seqGT } from './seqnum';

/** TCP_PAWS_MSL: a RST may pass PAWS once ts_recent is this old. */
const PAWS_MSL_MS = 60_000;

export type TimeWaitVerdict =
  /** Nothing to do (a duplicate RST, an old RST). */
  | 'drop'
  /** The segment was a bare ACK in the window: restart the wait. */
  | 'rearm'
  /** A RST in the window: the TIME_WAIT ends. */
  | 'kill'
  /** A new SYN: reopen through the listener with isn. */
  | 'syn'
  /** Answer with an ACK (rate limited), restarting the wait if restart. */
  | 'ack' | 'ack-rearm';

export interface TimeWaitState {
  rcvNxt: number;
  /** ts_recent (0: none) and when it was stored, in ms; now in ms. */
  tsRecent: number;
  tsRecentAt: number;
  now: number;
  /** Timestamps were negotiated on the old connection. */
  tsOk: boolean;
}

/** tcp_paws_reject for a TIME_WAIT socket (paws window 0). */
function pawsReject(seg: TCPSegment, st: TimeWaitState): boolean {
  if (!st.tsOk || seg.tsVal === null || st.tsRecent === 0) return false;
  if (((st.tsRecent - seg.tsVal) | 0) <= 0) return false;
  if ((seg.flags & TH_RST) && st.now - st.tsRecentAt >= PAWS_MSL_MS) return false;
  return true;
}

export function timeWaitVerdict(seg: TCPSegment, st: TimeWaitState): TimeWaitVerdict {
  const f = seg.flags;
  const paws = pawsReject(seg, st);
  const segLen = seg.data.length + (f & TH_SYN ? 1 : 0) + (f & TH_FIN ? 1 : 0);
  if (!paws && seg.seq === st.rcvNxt && (segLen === 0 || (f & TH_RST))) {
    // In the window: only a reset or a bare ACK can be.
    return f & TH_RST ? 'kill' : 'rearm';
  }
  if ((f & TH_SYN) && !(f & (TH_RST | TH_ACK)) && !paws
    && (seqGT(seg.seq, st.rcvNxt) || (st.tsOk && seg.tsVal !== null && ((st.tsRecent - seg.tsVal) | 0) < 0))) {
    return 'syn';
  }
  if (f & TH_RST) return 'drop';
  // An ACK-less SYN may be an old duplicate or a new one below rcv_nxt: no restart then.
  return paws || (f & TH_ACK) ? 'ack-rearm' : 'ack';
}
