// Resident set sizes a process reports (Linux signal_struct maxrss/cmaxrss and the mm's
// hiwater_rss): the most memory an address space had mapped at once, kept for the process
// when the address space goes (execve, exit) and passed to the parent when it reaps. The
// counts themselves are the platform's mapping table's (MemoryManager.residentTotal).
// Owns only this bookkeeping; it must not keep a process or an address space alive.

import type { MemoryManager } from '../mm/memory_manager';
import type { ThreadGroup } from './thread_group';

/** Most bytes resident in any address space the process has finished with (sig->maxrss). */
const maxRss = new WeakMap<ThreadGroup, number>();
/** Most of the reaped children's own or their children's (sig->cmaxrss). */
const childMaxRss = new WeakMap<ThreadGroup, number>();

/** An address space of tg is about to go, or a thread leaves it (exit_mm, exec's
 *  setmax_mm_hiwater_rss): its high-water mark stays with the process. */
export function noteMmHiwater(tg: ThreadGroup, mm: MemoryManager): void {
  const peak = mm.residentTotal().peak;
  if (peak > (maxRss.get(tg) ?? 0)) maxRss.set(tg, peak);
}

/** getrusage(RUSAGE_SELF/THREAD)'s max RSS in bytes: the process's own, its live mm included. */
export function processMaxRss(tg: ThreadGroup, mm: MemoryManager | null): number {
  return Math.max(maxRss.get(tg) ?? 0, mm !== null ? mm.residentTotal().peak : 0);
}

/** getrusage(RUSAGE_CHILDREN)'s max RSS in bytes. */
export function childrenMaxRss(tg: ThreadGroup): number {
  return childMaxRss.get(tg) ?? 0;
}

/** wait reaps child (wait_task_zombie): the larger of its own and its children's max RSS
 *  becomes the parent's children's if larger. */
export function chargeReapedMaxRss(parent: ThreadGroup, child: ThreadGroup): void {
  const m = Math.max(maxRss.get(child) ?? 0, childMaxRss.get(child) ?? 0);
  if (m > (childMaxRss.get(parent) ?? 0)) childMaxRss.set(parent, m);
}
