// TCP timestamps (RFC 7323 §3–5; Linux tcp_syn_options/tcp_established_options,
// tcp_parse_options, tcp_paws_check/tcp_paws_discard, tcp_replace_ts_recent, tcp_rtt_tsopt_us).
// Offered in the SYN when net.ipv4.tcp_timestamps allows, used when both ends offered it:
// then every segment carries TSval (a millisecond clock, offset per address pair unless the
// sysctl is 2: secure_seq.ts) and TSecr (the peer's last TSval seen at the left edge of the window,
// ts_recent). The echo gives an RTT sample even for a retransmitted segment (Karn's rule does
// not apply), and PAWS drops a segment whose TSval is older than ts_recent — an old duplicate
// from an earlier incarnation, or a forgery that does not know the clock.

import { seqGT } from './seqnum';
import type { TCPSegment } from '../header/tcp';
import type { Stack } from '../stack';
import type { IPAddr } from '../addr';
import { secureTcpTsOff } from './secure_seq';
import { WIDE_ZERO } from '../wide_field';

/** NOP, NOP, kind 8, length 10: what the option costs every segment. */
export const TCPOLEN_TSTAMP_ALIGNED = 12;
/** TCP_PAWS_WINDOW: a TSval this much older than ts_recent is still taken. */
const PAWS_WINDOW = 1;
/** TCP_PAWS_24DAYS: ts_recent older than this no longer protects (the peer's clock may wrap). */
const PAWS_24DAYS_MS = 24 * 86400 * 1000;

const sysctls = new WeakMap<Stack, number>();

/** net.ipv4.tcp_timestamps of a stack (a u8): 0 off, 1 on with a random offset per connection,
 *  any other value on without offsets. */
export function tcpTimestampsOf(stack: Stack): number { return sysctls.get(stack) ?? 1; }

export function setTcpTimestamps(stack: Stack, v: number): void { sysctls.set(stack, v); }

export class TcpTimestamps {
  /** Both ends offered the option: every segment carries it. */
  ok = false;
  /** Whether our SYN offered it. */
  private offered = false;
  /** ts_recent, and when it was stored (ms). */
  recent = WIDE_ZERO;
  private recentStamp = WIDE_ZERO;
  private offset = WIDE_ZERO;

  /** The connection's addresses are known: take the clock offset of the pair (none unless
   *  net.ipv4.tcp_timestamps is 1). */
  bind(stack: Stack, local: IPAddr, remote: IPAddr): void {
    this.offset = tcpTimestampsOf(stack) === 1 ? secureTcpTsOff(stack, local, remote) : 0;
  }

  /** When ts_recent was stored (performance.now() ms). */
  get recentAt(): number { return this.recentStamp; }

  /** TSval now. */
  now(ms = performance.now()): number { return (Math.floor(ms) + this.offset) >>> 0; }

  /** The option of a SYN (if the sysctl allows) or SYN-ACK (if the SYN had it). */
  forSyn(stack: Stack, synAck: boolean): [number, number] | undefined {
    if (synAck) return this.ok ? [this.now(), this.recent] : undefined;
    this.offered = tcpTimestampsOf(stack) !== 0;
    return this.offered ? [this.now(), 0] : undefined;
  }

  /** The peer's SYN (listener side: answer if allowed) or SYN-ACK (ours was offered). */
  takeSyn(stack: Stack, seg: TCPSegment, active: boolean): void {
    this.ok = seg.tsVal !== null && (active ? this.offered : tcpTimestampsOf(stack) !== 0);
    if (this.ok && seg.tsVal !== null) this.store(seg.tsVal);
  }

  /** The option of any later segment. */
  forSegment(ms?: number): [number, number] | undefined {
    return this.ok ? [this.now(ms), this.recent] : undefined;
  }

  /** Store tsVal as ts_recent (TIME_WAIT takes it from an in-window segment). */
  store(tsVal: number, ms = performance.now()): void {
    this.recent = tsVal;
    this.recentStamp = ms;
  }

  /** tcp_paws_discard: drop seg (its TSval is older than ts_recent), unless a disordered
   *  pure ACK (tcp_disordered_ack) that is not too old for the RTO. */
  pawsReject(seg: TCPSegment, pureDupAck: boolean, rtoMs: number): boolean {
    if (!this.ok || seg.tsVal === null || this.recent === 0) return false;
    const behind = (this.recent - seg.tsVal) | 0;
    if (behind <= PAWS_WINDOW) return false;
    if (performance.now() - this.recentStamp >= PAWS_24DAYS_MS) return false;
    return !(pureDupAck && behind <= rtoMs);
  }

  /** tcp_replace_ts_recent: a segment at (or left of) the window's left edge updates ts_recent. */
  received(seg: TCPSegment, rcvNxt: number, ms?: number): void {
    if (!this.ok || seg.tsVal === null || seqGT(seg.seq, rcvNxt)) return;
    if (((seg.tsVal - this.recent) | 0) >= 0 || this.recent === 0) this.store(seg.tsVal, ms);
  }

  /** tcp_rtt_tsopt_us: the RTT an acknowledgement's TSecr measures (ms), or null. */
  rttSample(seg: TCPSegment, ms?: number): number | null {
    if (!this.ok || seg.tsEcr === null || seg.tsEcr === 0) return null;
    const d = (this.now(ms) - seg.tsEcr) | 0;
    return d >= 0 ? Math.max(d, 0.001) : null;
  }
}
