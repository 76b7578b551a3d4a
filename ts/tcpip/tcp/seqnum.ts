// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4; Linux before()/after()).

export function seqAdd(a: number, n: number): number { return (a + n) >>> 0; }
/** a - b as a signed 32-bit distance. */
export function seqDiff(a: number, b: number): number { return (a - b) | 0; }
export function seqLT(a: number, b: number): boolean { return seqDiff(a, b) < 0; }
export function seqLE(a: number, b: number): boolean { return seqDiff(a, b) <= 0; }
export function seqGT(a: number, b: number): boolean { return seqDiff(a, b) > 0; }
export function seqGE(a: number, b: number): boolean { return seqDiff(a, b) >= 0; }
