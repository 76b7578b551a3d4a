// The current CLOCK_REALTIME as a Timespec, for file timestamps. File systems have no task
// at hand when they stamp a file, so they read the host's clock, as the kernel's realtime
// clock does (kernel.ts: realtime is the host's).

import type { Timespec } from '../abi/linux/stat';

const offsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export function now(): Timespec {
  const ns = process.hrtime.bigint() + offsetNs;
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}
