// The pages a fork's parent and child write right after it. A process that forks in a loop
// (a shell, a server forking per request, a benchmark) breaks the same few copy-on-write
// pages every time — its stack, its TLS, libc's locks — and each break is a fault, a copy
// and a stub injection, on each side. Here every address space remembers the pages broken
// since its last fork, by itself and by the child of that fork; its next fork gives the
// child its own copy of those pages at once and leaves them writable in the parent (they
// are no longer shared), so neither side faults on them. A wrong guess costs a page copy.
// Pages copied that way cannot be seen breaking again, so they stay hot for a few forks and
// are then dropped (and learnt again if they still break).

import type { MemoryManager } from './memory_manager';

/** At most this many pages are copied at a fork. */
export const MAX_HOT_PAGES = 32;
/** Forks a page copied in advance stays hot without being seen breaking. */
const KEEP_FORKS = 8;

/** Page -> forks since it was last seen breaking. */
type Hot = Map<number, number>;

interface Window {
  /** Pages broken in this address space since its last fork (or its creation by one). */
  pages: Hot;
  /** The parent's window when this address space was forked: its child's breaks count there. */
  parent: Hot | null;
}

const windows = new WeakMap<MemoryManager, Window>();

function note(hot: Hot, page: number): void {
  if (hot.size < MAX_HOT_PAGES || hot.has(page)) hot.set(page, 0);
}

function windowOf(mm: MemoryManager): Window {
  let w = windows.get(mm);
  if (w === undefined) {
    const win: Window = { pages: new Map(), parent: null };
    mm.pmas.cowBroken = (page) => {
      note(win.pages, page);
      if (win.parent !== null) note(win.parent, page);
    };
    windows.set(mm, win);
    w = win;
  }
  return w;
}

/**
 * At fork: the pages parent and child are expected to write (sorted), and a fresh window for
 * both — the parent's for the breaks to come on either side, the child's for its own forks.
 */
export function takeHotPages(parent: MemoryManager, child: MemoryManager): number[] {
  const pw = windowOf(parent);
  const hot = [...pw.pages.keys()].sort((a, b) => a - b);
  const next: Hot = new Map();
  for (const [page, age] of pw.pages) if (age < KEEP_FORKS) next.set(page, age + 1);
  pw.pages = next;
  windowOf(child).parent = next;
  return hot;
}
