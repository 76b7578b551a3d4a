// The Internet checksum (RFC 1071): the ones'-complement sum of 16-bit big-endian words,
// used by the IPv4 header, TCP, UDP and ICMP (the last three over a pseudo-header too).

/** Add the bytes of b[off, off+len) as 16-bit big-endian words to acc (unfolded). */
export function sum16(b: Uint8Array, off: number, len: number, acc = 0): number {
  const end = off + len;
  let i = off;
  // Eight bytes a turn: fewer loop checks on 64 KiB loopback segments.
  for (; i + 7 < end; i += 8) {
    acc += ((b[i] << 8) | b[i + 1]) + ((b[i + 2] << 8) | b[i + 3]) + ((b[i + 4] << 8) | b[i + 5]) + ((b[i + 6] << 8) | b[i + 7]);
  }
  for (; i + 1 < end; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (i < end) acc += b[i] << 8;
  return acc;
}

/** Fold a sum to 16 bits and complement it: the value to store. */
export function finish(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** The pseudo-header sum of TCP/UDP/ICMPv6 (RFC 793, RFC 8200 §8.1). */
export function pseudoSum(src: Uint8Array, dst: Uint8Array, proto: number, len: number): number {
  let acc = sum16(src, 0, src.length) + sum16(dst, 0, dst.length) + proto;
  acc += src.length === 4 ? len : Math.floor(len / 0x10000) + (len & 0xffff);
  return acc;
}
