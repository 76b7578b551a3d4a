// bytesToString/stringBytes must be a bijection on byte strings: random bytes from a fixed
// seed round-trip exactly, and two different byte strings never decode to one string.
import { describe, expect, it } from 'vitest';
import { bytesToString, stringByteLength, stringBytes } from '../../../ts/abi/byte_string';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
}

describe('byte strings', () => {
  it('round-trips random bytes, biased towards UTF-8 lead and continuation bytes', () => {
    const next = rng(0x5eed);
    const seen = new Map<string, string>();
    const pool = [0x00, 0x2f, 0x41, 0x7f, 0x80, 0xa0, 0xbf, 0xc0, 0xc2, 0xc3, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    for (let n = 0; n < 20000; n++) {
      const len = next() % 12;
      const b = Buffer.alloc(len);
      for (let i = 0; i < len; i++) b[i] = next() % 3 === 0 ? next() & 0xff : pool[next() % pool.length];
      const s = bytesToString(b);
      expect(stringBytes(s).equals(b), b.toString('hex')).toBe(true);
      expect(stringByteLength(s)).toBe(len);
      const hex = b.toString('hex');
      const prev = seen.get(s);
      if (prev !== undefined) expect(prev).toBe(hex);
      seen.set(s, hex);
    }
  });

  it('decodes valid UTF-8 as text and leaves text unchanged', () => {
    for (const t of ['', 'abc', 'é', '日本', '\u{10080}', '\u{1f600}x', 'a\u0000b']) {
      expect(bytesToString(Buffer.from(t, 'utf8'))).toBe(t);
      expect(stringBytes(t).equals(Buffer.from(t, 'utf8'))).toBe(true);
    }
  });

  it('escapes each byte of an invalid sequence', () => {
    expect(bytesToString(Buffer.from([0x61, 0xff, 0x62]))).toBe('a\udcffb');
    expect(bytesToString(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\udced\udca0\udc80');
    expect(bytesToString(Buffer.from([0xc0, 0xaf]))).toBe('\udcc0\udcaf');
    // U+10080's low surrogate is DC80: an escape right after it stays a separate byte.
    const s = bytesToString(Buffer.from([0xf0, 0x90, 0x82, 0x80, 0x80]));
    expect(stringBytes(s).toString('hex')).toBe('f09082808' + '0');
  });
});
