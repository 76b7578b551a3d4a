// AT_MINSIGSTKSZ as the host kernel computes it (its largest signal frame: the XSAVE area of
// every user feature it manages, the siginfo and ucontext, and their padding), read once at
// start-up from the sentry's own auxiliary vector. The sandbox's frames are no larger than
// the host's, so the host's minimum is a safe one to give programs. Undefined where the host
// does not say (then the entry is left out, as kernels before 5.14 do).

import { readFileSync } from 'node:fs';

const AT_NULL = 0, AT_MINSIGSTKSZ = 51;

function read(): number | undefined {
  let b: Buffer;
  try { b = readFileSync('/proc/self/auxv'); } catch { return undefined; }
  for (let i = 0; i + 16 <= b.length; i += 16) {
    const type = b.readBigUInt64LE(i);
    if (type === BigInt(AT_NULL)) break;
    if (type === BigInt(AT_MINSIGSTKSZ)) return Number(b.readBigUInt64LE(i + 8));
  }
  return undefined;
}

export const HOST_MIN_SIGSTKSZ: number | undefined = read();
