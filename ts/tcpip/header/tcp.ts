// TCP header (RFC 9293 §3.1): build a segment with its options (MSS, window scale,
// SACK-permitted, timestamps, SACK blocks: RFC 7323, RFC 2018) and its urgent pointer and checksum, and parse one without
// throwing: a short header, a data offset past the end or a bad checksum is null; an option
// with a bad length ends option parsing, as Linux does.

import { finish, pseudoSum, sum16 } from '../checksum';
import { WIDE_ZERO } from '../wide_field';

export const TCP_HEADER = 20;
export const IPPROTO_TCP = 6;

export const TH_FIN = 0x01;
export const TH_SYN = 0x02;
export const TH_RST = 0x04;
export const TH_PSH = 0x08;
export const TH_ACK = 0x10;
export const TH_URG = 0x20;

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const OPT_SACK_PERM = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMP = 8;
/** SACK blocks that fit in 40 bytes of options beside nothing else; 3 beside timestamps. */
export const MAX_SACK_BLOCKS = 4;

export interface TCPSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** Options seen (SYN segments): -1 when absent. */
  mss: number;
  wscale: number;
  /** SACK-permitted option present (SYN segments). */
  sackOk: boolean;
  /** SACK blocks as flat [start, end, start, end...] (empty: none). */
  sack: number[];
  /** The urgent pointer field (meaningful with TH_URG). */
  urgPtr: number;
  /** Timestamps option (RFC 7323): TSval and TSecr, null when absent. */
  tsVal: number | null;
  tsEcr: number | null;
  data: Uint8Array;
}

export interface TCPOut {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** Put MSS and window-scale options in (SYN and SYN-ACK); wscale -1 leaves it out. */
  mss?: number;
  wscale?: number;
  /** SACK-permitted (SYN and SYN-ACK). */
  sackOk?: boolean;
  /** SACK blocks, flat [start, end, ...], at most MAX_SACK_BLOCKS pairs. */
  sack?: number[];
  /** An urgent pointer: sets TH_URG and the field. */
  urgPtr?: number;
  /** Timestamps option: [TSval, TSecr]. */
  ts?: [number, number];
}

/** Header length of a segment described by o. */
export function tcpHeaderLen(o: TCPOut): number {
  let n = TCP_HEADER;
  if (o.mss !== undefined) n += 4;
  if (o.wscale !== undefined && o.wscale >= 0) n += 4;
  // SACK-permitted rides in the timestamps option's padding when both are sent (as Linux).
  if (o.sackOk && !o.ts) n += 4;
  if (o.ts) n += 12;
  if (o.sack && o.sack.length > 0) n += 4 + 4 * o.sack.length;
  return n;
}

/** Write the header at s[0..] (data already placed after it) and, unless csum is false (the
 *  stack offloads it: header/offload.ts), the checksum over s. */
export function writeTCP(s: Uint8Array, o: TCPOut, src: Uint8Array, dst: Uint8Array, csum = true): void {
  const hl = tcpHeaderLen(o);
  s[0] = o.srcPort >> 8; s[1] = o.srcPort & 0xff;
  s[2] = o.dstPort >> 8; s[3] = o.dstPort & 0xff;
  s[4] = o.seq >>> 24; s[5] = (o.seq >>> 16) & 0xff; s[6] = (o.seq >>> 8) & 0xff; s[7] = o.seq & 0xff;
  s[8] = o.ack >>> 24; s[9] = (o.ack >>> 16) & 0xff; s[10] = (o.ack >>> 8) & 0xff; s[11] = o.ack & 0xff;
  s[12] = (hl / 4) << 4;
  s[13] = o.urgPtr !== undefined ? o.flags | TH_URG : o.flags;
  s[14] = (o.window >> 8) & 0xff; s[15] = o.window & 0xff;
  s[16] = 0; s[17] = 0;
  s[18] = o.urgPtr !== undefined ? (o.urgPtr >> 8) & 0xff : 0; s[19] = o.urgPtr !== undefined ? o.urgPtr & 0xff : 0;
  let at = TCP_HEADER;
  if (o.mss !== undefined) {
    s[at] = OPT_MSS; s[at + 1] = 4; s[at + 2] = o.mss >> 8; s[at + 3] = o.mss & 0xff;
    at += 4;
  }
  if (o.wscale !== undefined && o.wscale >= 0) {
    s[at] = OPT_NOP; s[at + 1] = OPT_WSCALE; s[at + 2] = 3; s[at + 3] = o.wscale;
    at += 4;
  }
  if (o.sackOk && !o.ts) {
    s[at] = OPT_NOP; s[at + 1] = OPT_NOP; s[at + 2] = OPT_SACK_PERM; s[at + 3] = 2;
    at += 4;
  }
  if (o.ts) {
    if (o.sackOk) { s[at] = OPT_SACK_PERM; s[at + 1] = 2; } else { s[at] = OPT_NOP; s[at + 1] = OPT_NOP; }
    s[at + 2] = OPT_TIMESTAMP; s[at + 3] = 10;
    const [val, ecr] = o.ts;
    s[at + 4] = val >>> 24; s[at + 5] = (val >>> 16) & 0xff; s[at + 6] = (val >>> 8) & 0xff; s[at + 7] = val & 0xff;
    s[at + 8] = ecr >>> 24; s[at + 9] = (ecr >>> 16) & 0xff; s[at + 10] = (ecr >>> 8) & 0xff; s[at + 11] = ecr & 0xff;
    at += 12;
  }
  if (o.sack && o.sack.length > 0) {
    s[at] = OPT_NOP; s[at + 1] = OPT_NOP; s[at + 2] = OPT_SACK; s[at + 3] = 2 + 4 * o.sack.length;
    at += 4;
    for (const x of o.sack) {
      s[at] = x >>> 24; s[at + 1] = (x >>> 16) & 0xff; s[at + 2] = (x >>> 8) & 0xff; s[at + 3] = x & 0xff;
      at += 4;
    }
  }
  if (!csum) return;
  const c = finish(sum16(s, 0, s.length, pseudoSum(src, dst, IPPROTO_TCP, s.length)));
  s[16] = c >> 8; s[17] = c & 0xff;
}

/** The SACK blocks of a segment that has none (shared: most have none, and none is pushed to). */
const NO_SACK: number[] = [];

/** verify false: the checksum is trusted (our own loopback packet, header/offload.ts). */
export function parseTCP(s: Uint8Array, src: Uint8Array, dst: Uint8Array, verify = true): TCPSegment | null {
  if (s.length < TCP_HEADER) return null;
  const off = (s[12] >> 4) * 4;
  if (off < TCP_HEADER || off > s.length) return null;
  if (verify && finish(sum16(s, 0, s.length, pseudoSum(src, dst, IPPROTO_TCP, s.length))) !== 0) return null;
  // seq and ack are set after the object is made with doubles in them (wide_field.ts): a
  // segment whose numbers happen to be below 2^31 must not fix them as small integers.
  const seg: TCPSegment = {
    srcPort: (s[0] << 8) | s[1], dstPort: (s[2] << 8) | s[3], seq: WIDE_ZERO, ack: WIDE_ZERO,
    flags: s[13], window: (s[14] << 8) | s[15], mss: -1, wscale: -1, sackOk: false, sack: NO_SACK, urgPtr: (s[18] << 8) | s[19],
    tsVal: null, tsEcr: null, data: s.subarray(off),
  };
  seg.seq = ((s[4] << 24) | (s[5] << 16) | (s[6] << 8) | s[7]) >>> 0;
  seg.ack = ((s[8] << 24) | (s[9] << 16) | (s[10] << 8) | s[11]) >>> 0;
  let i = TCP_HEADER;
  while (i < off) {
    const kind = s[i];
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) { i++; continue; }
    if (i + 1 >= off) break;
    const len = s[i + 1];
    if (len < 2 || i + len > off) break;
    if (kind === OPT_MSS && len === 4) seg.mss = (s[i + 2] << 8) | s[i + 3];
    else if (kind === OPT_WSCALE && len === 3) seg.wscale = Math.min(s[i + 2], 14);
    else if (kind === OPT_SACK_PERM && len === 2) seg.sackOk = true;
    else if (kind === OPT_TIMESTAMP && len === 10) {
      seg.tsVal = ((s[i + 2] << 24) | (s[i + 3] << 16) | (s[i + 4] << 8) | s[i + 5]) >>> 0;
      seg.tsEcr = ((s[i + 6] << 24) | (s[i + 7] << 16) | (s[i + 8] << 8) | s[i + 9]) >>> 0;
    }
    else if (kind === OPT_SACK && len >= 10 && (len - 2) % 8 === 0) {
      if (seg.sack === NO_SACK) seg.sack = [];
      for (let j = i + 2; j < i + len; j += 4) seg.sack.push(((s[j] << 24) | (s[j + 1] << 16) | (s[j + 2] << 8) | s[j + 3]) >>> 0);
    }
    i += len;
  }
  return seg;
}
