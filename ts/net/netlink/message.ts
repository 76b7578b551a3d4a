// Netlink messages (Linux include/uapi/linux/netlink.h, lib/nlattr.c): reading a request's
// nlmsghdr and attributes, and writing answers as Linux lays them out — 4-byte alignment,
// nlmsg_len covering the header, payload and every attribute's padding; attributes as
// (len, type, value) padded to 4.

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_MIN_TYPE = 0x10;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ECHO = 0x8;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
/** On an ack: the request was not quoted past its header. */
export const NLM_F_CAPPED = 0x100;

export function align4(n: number): number { return (n + 3) & ~3; }

export interface NlMsg {
  len: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** The whole message, header included (nlmsg_len bytes). */
  raw: Uint8Array;
  /** What follows the header. */
  payload: Uint8Array;
}

/** The messages of one datagram, as netlink_rcv_skb walks them: it stops at the first
 *  header that is short or claims more than is left. */
export function* parseMessages(buf: Uint8Array): IterableIterator<NlMsg> {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (buf.length - off >= NLMSG_HDRLEN) {
    const len = v.getUint32(off, true);
    if (len < NLMSG_HDRLEN || len > buf.length - off) return;
    yield {
      len, type: v.getUint16(off + 4, true), flags: v.getUint16(off + 6, true), seq: v.getUint32(off + 8, true),
      pid: v.getUint32(off + 12, true), raw: buf.subarray(off, off + len), payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    };
    off += Math.min(align4(len), buf.length - off);
  }
}

/** Attributes after a fixed header (nla_parse without a policy): type -> value. A bad
 *  length ends the walk, as nla_for_each_attr does. */
export function parseAttrs(buf: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  let off = 0;
  while (buf.length - off >= NLA_HDRLEN) {
    const len = buf[off] | (buf[off + 1] << 8);
    const type = (buf[off + 2] | (buf[off + 3] << 8)) & 0x3fff;
    if (len < NLA_HDRLEN || len > buf.length - off) break;
    out.set(type, buf.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}

/** A growing buffer of messages (an skb being filled). */
export class NlWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  private used = 0;
  private msgStart = -1;

  get length(): number { return this.used; }

  private room(n: number): number {
    const at = this.used;
    if (at + n > this.buf.length) {
      const b = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      b.set(this.buf.subarray(0, at));
      this.buf = b;
      this.view = new DataView(b.buffer);
    }
    this.used = at + n;
    this.buf.fill(0, at, at + n);
    return at;
  }

  /** Start a message; end() writes its length. */
  begin(type: number, flags: number, seq: number, pid: number): void {
    const at = this.room(NLMSG_HDRLEN);
    this.msgStart = at;
    this.view.setUint16(at + 4, type, true);
    this.view.setUint16(at + 6, flags, true);
    this.view.setUint32(at + 8, seq, true);
    this.view.setUint32(at + 12, pid, true);
  }

  end(): void {
    this.view.setUint32(this.msgStart, this.used - this.msgStart, true);
    this.room(align4(this.used) - this.used);
  }

  /** Raw bytes at the current end (a fixed header like ifinfomsg). */
  bytes(b: Uint8Array): void { this.buf.set(b, this.room(b.length)); }

  /** Space for a fixed header, returned as a view to fill. */
  struct(n: number): DataView {
    const at = this.room(n);
    return new DataView(this.buf.buffer, at, n);
  }

  attr(type: number, value: Uint8Array): void {
    const at = this.room(NLA_HDRLEN + value.length);
    this.view.setUint16(at, NLA_HDRLEN + value.length, true);
    this.view.setUint16(at + 2, type, true);
    this.buf.set(value, at + NLA_HDRLEN);
    this.room(align4(this.used) - this.used);
  }

  u8(type: number, v: number): void { this.attr(type, Uint8Array.of(v)); }
  u32(type: number, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.attr(type, b);
  }
  str(type: number, s: string): void {
    const enc = new TextEncoder().encode(s);
    const b = new Uint8Array(enc.length + 1);
    b.set(enc);
    this.attr(type, b);
  }

  /** The bytes written so far, and a fresh start. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.used);
    this.used = 0;
    this.msgStart = -1;
    return out;
  }
}
