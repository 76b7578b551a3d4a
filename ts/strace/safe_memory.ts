// Reading application memory for display: never throws. A pointer strace cannot read is
// printed as its address instead, and printing must never change what the call did.

import type { Task } from '../kernel/task';

const PAGE_SIZE = 4096;

/** len bytes at addr, or null if any of them cannot be read. */
export function peek(t: Task, addr: number, len: number): Uint8Array | null {
  if (addr === 0 && len > 0) return null;
  try {
    return t.mm.copyIn(addr, len);
  } catch {
    return null;
  }
}

/** A NUL-terminated string of at most max bytes, read page by page so that a string ending
 *  just before an unmapped page is fine. null if unreadable; truncated if no NUL within max. */
export function peekString(t: Task, addr: number, max: number): { bytes: Uint8Array; truncated: boolean } | null {
  if (addr === 0) return null;
  const parts: Uint8Array[] = [];
  let total = 0;
  let at = addr;
  while (total < max) {
    const n = Math.min(PAGE_SIZE - (at % PAGE_SIZE), max - total);
    const chunk = peek(t, at, n);
    if (!chunk) {
      if (total === 0) return null;
      break;
    }
    const nul = chunk.indexOf(0);
    if (nul >= 0) {
      parts.push(chunk.subarray(0, nul));
      return { bytes: Buffer.concat(parts), truncated: false };
    }
    parts.push(chunk);
    total += n;
    at += n;
  }
  return { bytes: Buffer.concat(parts), truncated: true };
}
