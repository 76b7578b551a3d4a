// C-style quoting of byte strings for strace output.

/** Bytes shown of a string or buffer before "...". */
export const MAX_SHOWN = 64;

const ESCAPES: Record<number, string> = {
  0x0a: '\\n', 0x09: '\\t', 0x0d: '\\r', 0x0b: '\\v', 0x0c: '\\f', 0x08: '\\b', 0x07: '\\a',
  0x00: '\\0', 0x22: '\\"', 0x5c: '\\\\',
};

/** `"..."` with escapes; the first MAX_SHOWN bytes, followed by ... if there were more. */
export function quote(bytes: Uint8Array, more = false, limit = MAX_SHOWN): string {
  let s = '"';
  const n = Math.min(bytes.length, limit);
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    const e = ESCAPES[c];
    if (e !== undefined) s += e;
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  s += '"';
  if (more || bytes.length > limit) s += '...';
  return s;
}
