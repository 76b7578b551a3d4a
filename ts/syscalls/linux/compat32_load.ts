// The i386 syscall ABI (int 0x80, compat32.ts) is a chunk of the bundle of its own
// (scripts/bundle.mjs): its table is built when the first 32-bit call arrives, not at every
// start-up. The task loop takes dispatchCompat32 from here.

import type * as Compat32 from './compat32';

let loaded: typeof Compat32 | undefined;

export const dispatchCompat32: typeof Compat32.dispatchCompat32 = (t) =>
  (loaded ??= require('./compat32') as typeof Compat32).dispatchCompat32(t);
