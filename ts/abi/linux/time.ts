// Clock ABI (include/uapi/linux/time.h): clock ids, timer flags, the kernel's CPU-clock id
// encoding (negative ids name another process's or thread's CPU clock), and user HZ.

export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_PROCESS_CPUTIME_ID = 2;
export const CLOCK_THREAD_CPUTIME_ID = 3;
export const CLOCK_MONOTONIC_RAW = 4;
export const CLOCK_REALTIME_COARSE = 5;
export const CLOCK_MONOTONIC_COARSE = 6;
export const CLOCK_BOOTTIME = 7;
export const CLOCK_REALTIME_ALARM = 8;
export const CLOCK_BOOTTIME_ALARM = 9;
export const CLOCK_TAI = 11;

export const TIMER_ABSTIME = 1;

export const NSEC_PER_SEC = 1_000_000_000n;
/** clock_t ticks per second as times(2) reports them (USER_HZ). */
export const USER_HZ = 100;
/** Resolution of the *_COARSE clocks: one jiffy at CONFIG_HZ=250. */
export const COARSE_RESOLUTION_NS = 4_000_000n;

// Negative clock ids: ~pid << 3 | perthread << 2 | which (kernel/time/posix-cpu-timers.c).
export const CPUCLOCK_PROF = 0;
export const CPUCLOCK_VIRT = 1;
export const CPUCLOCK_SCHED = 2;
/** `which` value that marks a dynamic (fd-backed) clock instead of a CPU clock. */
export const CLOCKFD = 3;

export function cpuClockPid(clock: number): number { return ~(clock >> 3); }
export function cpuClockPerThread(clock: number): boolean { return (clock & 4) !== 0; }
export function cpuClockWhich(clock: number): number { return clock & 3; }

const CLOCK_NAMES: Record<number, string> = {
  0: 'CLOCK_REALTIME', 1: 'CLOCK_MONOTONIC', 2: 'CLOCK_PROCESS_CPUTIME_ID',
  3: 'CLOCK_THREAD_CPUTIME_ID', 4: 'CLOCK_MONOTONIC_RAW', 5: 'CLOCK_REALTIME_COARSE',
  6: 'CLOCK_MONOTONIC_COARSE', 7: 'CLOCK_BOOTTIME', 8: 'CLOCK_REALTIME_ALARM',
  9: 'CLOCK_BOOTTIME_ALARM', 11: 'CLOCK_TAI',
};

export function clockName(id: number): string | undefined { return CLOCK_NAMES[id]; }
