// node:net and node:dgram, loaded on first use: a sandbox that opens no host flow and
// publishes no port never pays for them (~3 ms of start-up CPU, a goal of issue 10).
// Type-only imports here; the modules themselves come from require at the first call.

import type * as NetModule from 'node:net';
import type * as DgramModule from 'node:dgram';

let netModule: typeof NetModule | null = null;
let dgramModule: typeof DgramModule | null = null;

export function hostNet(): typeof NetModule {
  return (netModule ??= require('node:net') as typeof NetModule);
}

export function hostDgram(): typeof DgramModule {
  return (dgramModule ??= require('node:dgram') as typeof DgramModule);
}
