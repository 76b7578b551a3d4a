// Linux byte strings (file names, paths, link targets, argv, environment) held as JS strings
// without loss. Linux allows any byte but NUL (and '/' in a name); a plain UTF-8 decode turns
// every invalid byte into U+FFFD, so two different names would become one. Valid UTF-8 decodes
// as text; each byte of an invalid sequence becomes the lone low surrogate U+DC80..U+DCFF
// (Python's surrogateescape), which no valid decode produces, and encoding maps it back.
// A leaf module: it imports nothing, so every layer (mm, vfs, p9, loader) may use it.

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Bytes to the sentry's string for them; byteString(s) gives the same bytes back. */
export function bytesToString(b: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i] >= 0x80) { ascii = false; break; }
  }
  if (ascii) return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  try {
    return utf8Strict.decode(b);
  } catch {
    return decodeEscaping(b);
  }
}

/** The bytes a string from bytesToString stands for (UTF-8, escapes back to their byte). */
export function stringBytes(s: string): Buffer {
  if (!hasEscape(s)) return Buffer.from(s, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff) {
      out.push(c - 0xdc00);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        for (const x of Buffer.from(s.slice(i, i + 2), 'utf8')) out.push(x);
        i++;
      } else {
        for (const x of Buffer.from(s[i], 'utf8')) out.push(x);
      }
    } else {
      for (const x of Buffer.from(s[i], 'utf8')) out.push(x);
    }
  }
  return Buffer.from(out);
}

/** stringBytes(s).length without building the bytes when s has no escape. */
export function stringByteLength(s: string): number {
  return hasEscape(s) ? stringBytes(s).length : Buffer.byteLength(s, 'utf8');
}

/** The string with its NUL terminator, as bytes (for copying out C strings). */
export function stringBytesZ(s: string): Buffer {
  return stringBytes(`${s}\0`);
}

const ESCAPE = /[\udc80-\udcff]/;

function hasEscape(s: string): boolean {
  return ESCAPE.test(s);
}

// The slow path: a strict UTF-8 decoder that escapes each byte it cannot take as part of a
// well-formed sequence (no overlong forms, no surrogates, nothing past U+10FFFF).
function decodeEscaping(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len === 1) { out += String.fromCharCode(c); i++; continue; }
    if (len > 0 && i + len <= b.length && wellFormed(b, i, len)) {
      out += utf8Strict.decode(b.subarray(i, i + len));
      i += len;
      continue;
    }
    out += String.fromCharCode(0xdc00 + c);
    i++;
  }
  return out;
}

function wellFormed(b: Uint8Array, i: number, len: number): boolean {
  for (let k = 1; k < len; k++) if ((b[i + k] & 0xc0) !== 0x80) return false;
  const c0 = b[i];
  const c1 = b[i + 1];
  if (c0 === 0xe0 && c1 < 0xa0) return false; // overlong
  if (c0 === 0xed && c1 >= 0xa0) return false; // a surrogate
  if (c0 === 0xf0 && c1 < 0x90) return false; // overlong
  if (c0 === 0xf4 && c1 >= 0x90) return false; // past U+10FFFF
  return true;
}
