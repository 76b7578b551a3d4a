// The tracer is a chunk of its own (scripts/bundle.mjs): a run without --strace never loads it,
// one with it loads it at the first traced syscall. Importers take straceLine from here.

import type * as Strace from './strace';

let loaded: typeof Strace | undefined;

export const straceLine: typeof Strace.straceLine = (...a) =>
  (loaded ??= require('./strace') as typeof Strace).straceLine(...a);
