// IP addresses as the stack keeps them: 4 bytes (IPv4) or 16 (IPv6), in network order, plus
// the few predicates routing and binding need. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
// exist only at the socket layer: the stack itself carries a mapped peer as IPv4.

export type IPAddr = Uint8Array;

export const V4_ANY: IPAddr = new Uint8Array(4);
export const V6_ANY: IPAddr = new Uint8Array(16);
export const V4_LOOPBACK: IPAddr = new Uint8Array([127, 0, 0, 1]);
export const V6_LOOPBACK: IPAddr = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

export function isAny(a: IPAddr): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

export function addrEqual(a: IPAddr, b: IPAddr): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** ::ffff:a.b.c.d */
export function isV4Mapped(a: IPAddr): boolean {
  if (a.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

export function unmap(a: IPAddr): IPAddr { return a.subarray(12, 16).slice(); }

export function mapV4(a: IPAddr): IPAddr {
  const m = new Uint8Array(16);
  m[10] = 0xff;
  m[11] = 0xff;
  m.set(a, 12);
  return m;
}

/** An address of the loopback interface: 127.0.0.0/8 or ::1 (the only interface yet). */
export function isLocal(a: IPAddr): boolean {
  return a.length === 4 ? a[0] === 127 : addrEqual(a, V6_LOOPBACK);
}

/** A printable key, for demultiplexing tables and logs. */
export function addrKey(a: IPAddr): string {
  if (a.length === 4) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  let s = '';
  for (let i = 0; i < 16; i += 2) s += (i ? ':' : '') + ((a[i] << 8) | a[i + 1]).toString(16);
  return s;
}
