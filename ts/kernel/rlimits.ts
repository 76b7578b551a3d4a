// Resource limits (getrlimit/prlimit64). Values are bigint so that RLIM_INFINITY (2^64-1)
// round-trips exactly. Enforced where Linux enforces them: RLIMIT_NPROC in clone (clone.ts),
// RLIMIT_STACK by the MemoryManager's stack growth, RLIMIT_CPU by a CPU-clock timer
// (timers/cpu_limit.ts).

export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

export const RLIMIT_CPU = 0, RLIMIT_FSIZE = 1, RLIMIT_DATA = 2, RLIMIT_STACK = 3, RLIMIT_CORE = 4,
  RLIMIT_RSS = 5, RLIMIT_NPROC = 6, RLIMIT_NOFILE = 7, RLIMIT_MEMLOCK = 8, RLIMIT_AS = 9,
  RLIMIT_LOCKS = 10, RLIMIT_SIGPENDING = 11, RLIMIT_MSGQUEUE = 12, RLIMIT_NICE = 13,
  RLIMIT_RTPRIO = 14, RLIMIT_RTTIME = 15, RLIM_NLIMITS = 16;

export interface Rlimit { cur: bigint; max: bigint }

/** The limits a fresh Linux login session typically has (as gVisor's defaults). */
export function defaultRlimits(): Rlimit[] {
  const inf = (): Rlimit => ({ cur: RLIM_INFINITY, max: RLIM_INFINITY });
  const r: Rlimit[] = [];
  for (let i = 0; i < RLIM_NLIMITS; i++) r.push(inf());
  r[RLIMIT_CORE] = { cur: 0n, max: RLIM_INFINITY };
  r[RLIMIT_STACK] = { cur: 8n << 20n, max: RLIM_INFINITY };
  r[RLIMIT_NOFILE] = { cur: 1024n, max: 1048576n };
  r[RLIMIT_MEMLOCK] = { cur: 8n << 20n, max: 8n << 20n };
  r[RLIMIT_NPROC] = { cur: 127573n, max: 127573n };
  r[RLIMIT_SIGPENDING] = { cur: 127573n, max: 127573n };
  r[RLIMIT_MSGQUEUE] = { cur: 819200n, max: 819200n };
  r[RLIMIT_NICE] = { cur: 0n, max: 0n };
  r[RLIMIT_RTPRIO] = { cur: 0n, max: 0n };
  return r;
}
