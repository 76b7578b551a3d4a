// The host's memory and load figures that sysinfo(2), /proc/meminfo, /proc/vmstat and
// /proc/loadavg show. Node reads each from a /proc file of the host (~20 us apiece), and some
// programs ask constantly (a JVM calls sysinfo hundreds of times as it starts), so the
// figures are read at most every CACHE_MS: they move slowly, and a reader never sees them
// older than that.

import * as os from 'node:os';

const CACHE_MS = 50;
let total = 0;
let free = 0;
let load: number[] = [0, 0, 0];
let readAt = -Infinity;

function refresh(): void {
  const now = performance.now();
  if (now - readAt < CACHE_MS) return;
  readAt = now;
  if (total === 0) total = os.totalmem();
  free = os.freemem();
  load = os.loadavg();
}

export function hostTotalMem(): number { refresh(); return total; }
export function hostFreeMem(): number { refresh(); return free; }
export function hostLoadAvg(): readonly number[] { refresh(); return load; }
