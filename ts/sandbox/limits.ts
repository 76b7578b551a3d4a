// What one sandbox may take from the host: its memory (--memory) and its tasks (--pids).
// Parsing the CLI's values and choosing the defaults; the limits themselves are enforced by
// the memory file (crates/memfile, allocate) and by clone (kernel/clone.ts).

import * as os from 'node:os';
import { UserError } from './errors';

export interface SandboxLimits {
  /** Most bytes of memory-file pages allocated at once; Infinity for none. */
  memoryBytes: number;
  /** Most tasks (threads included, zombies too) at once; Infinity for none. */
  pids: number;
}

/** Default --pids: plenty for builds and thread pools, far below what hurts a host. */
export const DEFAULT_PIDS = 4096;

/** Default --memory: half the host's RAM, as tmpfs sizes itself; a sandbox needs a bound. */
export function defaultMemoryBytes(): number {
  return Math.floor(os.totalmem() / 2 / 4096) * 4096;
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * A size as docker and cgroups write it: bytes, or a number with a binary suffix K, M, G, T
 * (512M, 2G, 1.5g, 64KiB); "max" for no limit.
 */
export function parseSize(v: string): number {
  if (v === 'max') return Infinity;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(v.trim());
  if (!m) throw new UserError(`tsvisor: --memory wants a size such as 512M or 2G (or "max"), got "${v}"`, 125);
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
  if (!Number.isSafeInteger(bytes) || bytes < 4096) {
    throw new UserError(`tsvisor: --memory ${v} is out of range (at least 4K)`, 125);
  }
  return bytes;
}

/** A task count (at least 1), or "max" for no limit. */
export function parsePids(v: string): number {
  if (v === 'max') return Infinity;
  if (!/^\d+$/.test(v.trim()) || !(Number(v) >= 1) || !Number.isSafeInteger(Number(v))) {
    throw new UserError(`tsvisor: --pids wants a number of tasks (at least 1) or "max", got "${v}"`, 125);
  }
  return Number(v);
}

/** Human form for the debug log: 512 MiB (536870912 bytes). */
export function describeBytes(n: number): string {
  if (!Number.isFinite(n)) return 'max';
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} bytes` : `${Number(v.toFixed(1))} ${units[i]} (${n} bytes)`;
}
