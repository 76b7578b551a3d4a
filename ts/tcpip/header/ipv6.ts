// IPv6 header (RFC 8200): build one, and parse one without throwing. Extension headers are
// not followed yet: a packet whose next header is not a transport we know is dropped.

export const IPV6_HEADER = 40;
/** Most payload an IPv6 packet carries without a jumbogram option. */
export const IPV6_MAX_PAYLOAD = 0xffff;

export interface IPv6Packet {
  src: Uint8Array;
  dst: Uint8Array;
  proto: number;
  hopLimit: number;
  tclass: number;
  payload: Uint8Array;
}

export function writeIPv6Header(p: Uint8Array, src: Uint8Array, dst: Uint8Array, proto: number, hops: number, tclass: number): void {
  const plen = p.length - IPV6_HEADER;
  p[0] = 0x60 | (tclass >> 4);
  p[1] = (tclass & 0xf) << 4;
  p[2] = 0;
  p[3] = 0;
  p[4] = plen >> 8;
  p[5] = plen & 0xff;
  p[6] = proto;
  p[7] = hops;
  p.set(src, 8);
  p.set(dst, 24);
}

export function parseIPv6(p: Uint8Array): IPv6Packet | null {
  if (p.length < IPV6_HEADER || p[0] >> 4 !== 6) return null;
  const plen = (p[4] << 8) | p[5];
  if (IPV6_HEADER + plen > p.length) return null;
  return {
    src: p.subarray(8, 24), dst: p.subarray(24, 40), proto: p[6], hopLimit: p[7],
    tclass: ((p[0] & 0xf) << 4) | (p[1] >> 4), payload: p.subarray(IPV6_HEADER, IPV6_HEADER + plen),
  };
}
